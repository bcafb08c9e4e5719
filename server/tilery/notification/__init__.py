"""Live notifications (issue 13): the Server-Sent Events stream and presence.

``attach(app)`` builds them on the app's change feed (``app.feed``, feed.py): the
``Delivery`` (service.py) decides who may receive what, the ``StreamHub`` (hub.py) is
the one thread that writes every open stream of the process, ``PresenceService``
(presence.py) keeps who has which slide open. The routes are in rest.py.
"""
from .hub import StreamHub
from .presence import Presence, PresenceService
from .publisher import Publisher
from .rest import SCHEMAS, NotificationResource
from .service import Delivery


class Notifications:
    """The notification parts of one app; started and stopped with it."""

    def __init__(self, app):
        settings = app.settings
        self.app = app
        # what the hot paths publish through (annotation edits, items, uploads, jobs)
        self.publisher = Publisher(app.feed)
        self.delivery = Delivery(app)
        self.hub = StreamHub(self.delivery, max_streams=settings.stream_max,
                             max_per_user=settings.stream_max_per_user)
        model = app.models.add(Presence(app))
        model.ensure_indexes()
        self.presence = PresenceService(model, app.feed)
        self.delivery.ticks.append(self.presence.tick)
        self._unsubscribe = None
        app.events.subscribe('model.file.finalized', self._uploaded)

    def _uploaded(self, info):
        """``upload_done`` to the uploader (the new item's ``item.create`` is the item
        model's, for the folder's watchers)."""
        upload, file, item = info.get('upload'), info.get('file'), info.get('item')
        if not upload or not file or not item or upload.get('userId') is None:
            return
        self.publisher.publish('upload_done', {
            'fileId': file['_id'], 'itemId': item['_id'], 'folderId': item.get('folderId'),
            'name': file.get('name'), 'size': file.get('size')}, user_id=upload['userId'])

    def start(self):
        self.hub.start()
        self._unsubscribe = self.app.feed.subscribe(self.hub.publish)

    def stop(self):
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.hub.stop()
        self.publisher.stop()


def attach(app):
    """``app.notifications`` and the /notification routes."""
    app.notifications = Notifications(app)
    n = app.notifications
    app.router.add_schemas(SCHEMAS)
    app.router.add_resource(NotificationResource(app, n.hub, n.delivery, n.presence))
    return n
