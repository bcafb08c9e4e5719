"""Who receives which event: subscriptions, the access check at delivery, replay, frames.

A stream subscribes to its user's own events (``userId``) and to what it watches
(``item:<id>``, ``folder:<id>``, ``annotation:<id>``). Access is checked when an event
is delivered, not when the stream opened, so a revoked reader stops receiving. The
checks run in the stream hub's thread for every (stream, event) pair that matches a
watch; their answers, and the documents and users they read, are kept for
``ACCESS_SECONDS`` (``AccessCache``), so 200 readers of one slide cost one item and one
folder read per event, and a revocation is seen within a second.
"""
import datetime
import logging
import threading

import cachetools
import orjson
from bson import ObjectId
from bson.errors import InvalidId

from ..errors import RestError
from ..models.base import READ, now

log = logging.getLogger(__name__)

WATCH_KINDS = ('item', 'folder', 'annotation')
MAX_WATCHES = 100
REPLAY_LIMIT = 1000
ACCESS_SECONDS = 0.5  # a cached decision is at most this old: revocations land within 1 s
_MISSING = object()  # a cached None (a gone document) is a hit


def parse_watches(text):
    """[(kind, ObjectId)] of a ``watch`` parameter; 400 for bad entries."""
    found = []
    for entry in (text or '').split(','):
        entry = entry.strip()
        if not entry:
            continue
        kind, _, raw = entry.partition(':')
        if kind not in WATCH_KINDS:
            raise RestError('watch entries are item:<id>, folder:<id> or annotation:<id>, '
                            'not %r.' % entry[:100])
        try:
            found.append((kind, ObjectId(raw)))
        except (InvalidId, TypeError):
            raise RestError('Invalid %s id in watch: %r.' % (kind, raw[:100]))
    if len(found) > MAX_WATCHES:
        raise RestError('At most %d watches per stream.' % MAX_WATCHES)
    return found


def replay_start(last_event_id=None, since=None):
    """The feed's ``replay`` arguments for what a stream missed (None: no replay).

    ``Last-Event-ID`` (sent by EventSource on reconnect) wins over ``since``.
    """
    if last_event_id:
        try:
            return {'after_id': ObjectId(last_event_id.strip())}
        except (InvalidId, TypeError):
            raise RestError('Last-Event-ID must be an event id.')
    if since is None:
        return None
    try:
        when = datetime.datetime.fromtimestamp(float(since), datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise RestError('since must be a time in seconds since 1970.')
    return {'since': when.replace(tzinfo=None)}


class Subscription:
    """What one stream receives: its user's events, and events matching its watches."""

    def __init__(self, user_id, watches=(), after=None, token=None):
        self.user_id = user_id
        self.token = token  # the token that opened the stream: it ends when that goes
        self.watches = {kind: set() for kind in WATCH_KINDS}
        for kind, oid in watches:
            self.watches[kind].add(str(oid))
        self.after = after  # the feed's replay arguments (after_id or since), or None
        self._replayed = set()  # ids sent by the replay, not to be sent again live

    def replayed(self, event_id):
        self._replayed.add(event_id)

    def seen(self, event):
        """True once for an event the replay already sent."""
        if not self._replayed:
            return False
        try:
            self._replayed.remove(event['_id'])
            return True
        except KeyError:
            return False

    def matches(self, event):
        """Whether the event is this stream's by user or by watch (access not checked)."""
        if event.get('userId') is not None:
            return event['userId'] == self.user_id
        scope = event.get('scope')
        if not scope:
            return False  # internal: never sent to streams
        kind, sid = scope.get('type'), str(scope.get('id'))
        if kind in ('item', 'folder') and sid in self.watches[kind]:
            return True
        data = event.get('data') or {}
        if str(data.get('annotationId')) in self.watches['annotation']:
            return True
        # an item watch also sees the item itself change (its events are the folder's)
        return event.get('type', '').startswith('item.') and \
            str(data.get('_id')) in self.watches['item']


class AccessCache:
    """Decisions, documents and users read for access checks, each kept ``seconds``, at
    most ``size`` of them (a ``cachetools.TTLCache``; entries are cheap to redo)."""

    def __init__(self, seconds=ACCESS_SECONDS, size=20000):
        self._entries = cachetools.TTLCache(size, seconds)
        self._lock = threading.Lock()

    def get(self, key, compute):
        with self._lock:
            hit = self._entries.get(key, _MISSING)
        if hit is not _MISSING:
            return hit
        value = compute()
        with self._lock:
            self._entries[key] = value
        return value

    def clear(self):
        with self._lock:
            self._entries.clear()


class Delivery:
    """The stream hub's questions answered from the app: may this stream have this
    event, what did it miss, and the event's bytes on the wire."""

    def __init__(self, app, cache=None):
        self.app = app
        self.cache = cache or AccessCache()
        self.ticks = []  # callables the hub runs about twice a second (presence lapses)
        self._failing = set()

    def subscribe(self, user, watches, after, token=None):
        """A Subscription; each watched resource must be readable by ``user`` (403)."""
        for kind, oid in watches:
            model = self._model(kind)
            doc = model.load(oid)
            model.require_access(doc, user, READ)
        return Subscription(user['_id'], watches, after, token)

    def revoked(self, subscriptions):
        """The subscriptions whose token was deleted (a sign-out) or expired: one query."""
        tokens = {s.token for s in subscriptions if s.token is not None}
        if not tokens:
            return []
        live = {t['_id'] for t in self.app.models.token.find(
            {'_id': {'$in': list(tokens)}, 'expires': {'$gt': now()}}, fields={'_id': 1})}
        return [s for s in subscriptions if s.token is not None and s.token not in live]

    def _model(self, kind):
        try:
            return self.app.models[kind]
        except RestError:
            raise RestError('Cannot watch %ss: that plugin is not enabled.' % kind)

    # -- the hub's side
    def accepts(self, sub, event):
        if not sub.matches(event):
            return False
        if event.get('userId') is not None:
            return True
        return self.readable(sub.user_id, event)

    def readable(self, user_id, event):
        """Whether the user may read the event's scope and, when it names one, the
        annotation or folder it is about."""
        user = self._cached('user', user_id)
        if user is None or user.get('status', 'enabled') != 'enabled':
            return False
        scope = event['scope']
        if not self._can_read(user, scope.get('type'), scope.get('id')):
            return False
        subject = _subject(event)
        if subject is None:
            return True
        kind, oid = subject
        if self._cached(kind, oid) is None:
            return True  # gone (a purge, a deleted folder): the scope decides
        return self._can_read(user, kind, oid)

    def _can_read(self, user, kind, oid):
        return self.cache.get(('can', user['_id'], kind, oid),
                              lambda: self._decide(user, kind, oid))

    def _decide(self, user, kind, oid):
        if kind == 'item':
            item = self._cached('item', oid)
            kind, oid = 'folder', item and item.get('folderId')
        doc = self._cached(kind, oid) if oid is not None else None
        if doc is None:
            return False
        model = self.app.models[kind]
        if not hasattr(model, 'has_access'):
            return False
        return model.has_access(doc, user, READ)

    def _cached(self, kind, oid):
        def load():
            try:
                return self.app.models[kind].load(oid, exc=False)
            except (RestError, InvalidId, TypeError):
                return None
        return self.cache.get(('doc', kind, oid), load)

    def backlog(self, sub):
        """The events the stream missed (after its Last-Event-ID or since), oldest first."""
        if sub.after is None:
            return []
        found = []
        # None: the Last-Event-ID is older than the feed's window; nothing to replay
        for event in self.app.feed.replay(limit=REPLAY_LIMIT, **sub.after) or ():
            if self.accepts(sub, event):
                sub.replayed(event['_id'])
                found.append(event)
        return found

    @staticmethod
    def frame(event):
        """The event as a Server-Sent Events frame, in Girder's notification shape."""
        body = orjson.dumps({'_id': event['_id'], 'type': event['type'],
                             'time': event['time'], 'data': event.get('data') or {}},
                            default=_json_default, option=orjson.OPT_NAIVE_UTC)
        return b'id: %s\ndata: %s\n\n' % (str(event['_id']).encode(), body)

    def tick(self):
        """Periodic work run by the hub thread (presence lapses); a failure is logged
        once until the work succeeds again (a database restart must not flood the log)."""
        for work in self.ticks:
            try:
                work()
                self._failing.discard(work)
            except Exception:
                if work not in self._failing:
                    self._failing.add(work)
                    log.exception('Notification periodic work %r failed', work)


def _json_default(value):
    """ObjectIds as hex strings, as in every other answer of the API."""
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError('Cannot serialise %r' % type(value))


def _subject(event):
    """(kind, id) of the annotation or folder an event is about, when it names one."""
    kind = event.get('type', '').split('.')[0]
    data = event.get('data') or {}
    if kind == 'annotation' and data.get('annotationId') is not None:
        return 'annotation', _oid(data['annotationId'])
    if kind == 'folder' and data.get('_id') is not None:
        return 'folder', _oid(data['_id'])
    return None


def _oid(value):
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None
