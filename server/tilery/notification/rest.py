"""/notification: the Server-Sent Events stream and presence (issue 13's contract)."""
from ..errors import RestError
from ..models.base import READ
from ..models.item import Item
from ..rest import USER, ModelParam, Param, Raw, Resource, route
from .service import parse_watches, replay_start

MAX_TIMEOUT = 3600
_STR = {'type': 'string'}
#: the presence answer (and the ``data`` of a presence event)
SCHEMAS = {'Presence': {'type': 'object', 'required': ['users'], 'properties': {
    'users': {'type': 'array', 'items': {
        'type': 'object', 'required': ['userId', 'login', 'color'], 'properties': {
            'userId': _STR, 'login': _STR, 'name': _STR, 'color': _STR,
            'viewport': {'type': 'array', 'items': {'type': 'number'}, 'minItems': 4,
                         'maxItems': 4, 'nullable': True}}}}}}}
STREAM_HEADERS = {
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',  # nginx passes each frame on at once instead of buffering
}


class NotificationResource(Resource):
    prefix = 'notification'

    def __init__(self, app, hub, delivery, presence):
        self.app = app
        self.hub = hub
        self.delivery = delivery
        self.presence = presence

    @route('GET', 'stream', access=USER, cookie=True, scope='core.data.read', params=[
        Param('timeout', 'Seconds before the stream ends (the client reconnects); at most '
              '3600.', type='integer', default=300, min=1),
        Param('since', 'Replay the events newer than this time (seconds since 1970).',
              type='number', min=0),
        Param('watch', 'Comma-separated item:<id>, folder:<id>, annotation:<id> (at most '
              '100, each readable): their change events are sent too.')],
        summary="Server-Sent Events: the caller's notifications (job status, uploads) and "
        'changes of what they watch. Header Last-Event-ID replays what was missed.',
        responses={429: 'Too many open streams for this user',
                   503: 'Too many open streams in this process'})
    def stream(self, req, timeout=300, since=None, watch=None):
        full = self.hub.room_for(req.user['_id'])
        if full == 'user':
            raise RestError('Too many open notification streams for this user (%d); close '
                            'some first.' % self.hub.max_per_user, 429)
        if full:
            error = RestError('This server process has too many open notification streams; '
                              'try again shortly.' if full == 'process' else
                              'This server process is not serving notification streams now; '
                              'try again shortly.', 503)
            error.headers = {'Retry-After': '5'}
            raise error
        after = replay_start(req.headers.get('Last-Event-ID'), since)
        subscription = self.delivery.subscribe(req.user, parse_watches(watch), after,
                                               (req.token or {}).get('_id'))
        stream = self.hub.stream(subscription, min(timeout, MAX_TIMEOUT))
        return Raw(stream, 'text/event-stream', 200, dict(STREAM_HEADERS))

    @route('PUT', 'presence', access=USER, scope='core.data.read', params=[
        ModelParam('itemId', model=Item, level=READ, dest='item', required=True),
        Param('viewport', 'JSON [x0, y0, x1, y1] in base-image pixels, only when the user '
              'shares it (null: not shared).', type='json', json_types=(list, type(None)))],
        response='Presence',
        summary='Heartbeat: the caller has the item open (lapses 30 s after the last).')
    def beat(self, req, item, viewport=None):
        return {'users': self.presence.beat(item, req.user, viewport)}

    @route('DELETE', 'presence', access=USER, scope='core.data.read', params=[
        ModelParam('itemId', model=Item, level=READ, dest='item', required=True)],
        response='Presence', summary='The caller closed the item.')
    def leave(self, req, item):
        return {'users': self.presence.leave(item, req.user)}

    @route('GET', 'presence', access=USER, scope='core.data.read', params=[
        ModelParam('itemId', model=Item, level=READ, dest='item', required=True)],
        response='Presence', summary='Who has the item open.')
    def present(self, req, item):
        return {'users': self.presence.users(item['_id'])}
