"""create_app: builds the database client, models, services and plugins, and mounts them."""
import logging
import os

import cheroot.wsgi
import cherrypy
import pymongo.errors

from . import database, plugins
from .auth import Auth
from .errors import ValidationError
from .events import Events
from .feed import Feed, Invalidation
from .jobs.rest import attach as attach_jobs
from .metrics import Metrics, MetricsApp
from .notification import attach as attach_notifications
from .models import CORE_MODELS, ModelRegistry
from .rest.describe import DescribeResource
from .rest.dispatch import Dispatcher
from .rest.wsgi import Observed, WsgiApi
from .rest.routing import Router
from .services.audit import AuditLog
from .services.listing import ListingCache
from .services.logins import LoginService
from .services.tree import TreeService
from .services.uploads import UploadService

log = logging.getLogger(__name__)


class App:
    """Everything one server (or one test) needs, passed along explicitly."""

    def __init__(self, settings, mongo_client, db, metrics=None):
        self.settings = settings
        self.metrics = metrics or Metrics(settings.metrics_token)
        self.mongo_client = mongo_client
        self.db = db
        self.events = Events(plugins.EVENTS)
        self.models = ModelRegistry()
        self.router = Router()
        self.dispatcher = Dispatcher(self, self.router)
        self.plugins = {}
        self.access_flags = dict(plugins.ACCESS_FLAGS)
        self.feed = None
        self.invalidation = None
        self.auth = None
        self.audit = None
        self.logins = None
        self.uploads = None
        self.tree = None
        self.jobs = None
        self.notifications = None

    def start(self):
        import datetime
        from .models.base import now
        self.uploads.cleanup_stale(now() - datetime.timedelta(days=self.settings.upload_stale_days))
        self.feed.start()
        self.jobs.start()
        self.notifications.start()
        for plugin in self.plugins.values():
            plugin.start(self)

    def stop(self):
        for plugin in reversed(list(self.plugins.values())):
            try:
                plugin.stop(self)
            except Exception:
                log.exception('Plugin %s failed to stop', plugin.name)
        self.jobs.stop()  # its last job_status events go out through the publisher:
        self.notifications.stop()  # stopped after it, it stores them
        self.feed.stop()


def create_app(settings, mongo_client=None, db=None):
    """Build an App from settings; a client/db may be given (tests share one server)."""
    metrics = Metrics(settings.metrics_token)
    if mongo_client is None:
        mongo_client = database.connect(settings.mongo_uri,
                                        event_listeners=[metrics.db_listener])
    if db is None:
        db = database.database_from_uri(mongo_client, settings.mongo_uri, settings.database)
    app = App(settings, mongo_client, db, metrics)
    for cls in CORE_MODELS:
        app.models.add(cls(app))
    for model in app.models:
        model.ensure_indexes()
    app.feed = Feed(app.models.notification, settings.feed_poll_interval,
                    settings.feed_window)
    app.invalidation = Invalidation(app.feed)
    app.auth = Auth(app, metrics.cache('auth'))
    app.audit = AuditLog(app)
    app.logins = LoginService(app)
    app.uploads = UploadService(app)
    app.tree = TreeService(app)
    app.listings = ListingCache(settings.listing_cache_rows, metrics.cache('listing'))
    attach_jobs(app)  # app.jobs and the /job routes
    attach_notifications(app)  # app.notifications and the /notification routes (app.feed)
    from .rest.resources import core_resources
    for resource in core_resources(app):
        app.router.add_resource(resource)
    app.router.add_resource(DescribeResource(app))
    found = check_settings(settings)
    for name in plugins.load_order(found):
        plugin = found[name]
        plugin.load(app)
        app.plugins[name] = plugin
    ensure_default_assetstore(app)
    return app


def declared_settings(found):
    """{prefix: SettingsGroup subclass}: the job runner's and those of the plugins in
    ``found`` (plugins declare theirs as ``Plugin.settings``)."""
    from .jobs.settings import JobSettings
    groups = {JobSettings.prefix: JobSettings}
    groups.update({p.settings.prefix: p.settings for p in found.values() if p.settings})
    return groups


def check_settings(settings):
    """The enabled plugins by name, once every plugin setting is known and well typed.

    Settings are checked against every installed plugin, enabled or not, so that a
    config file stays valid when a plugin is switched off; a SettingsError names the
    first bad key.
    """
    installed = plugins.discover()
    settings.check_plugins(declared_settings(installed), installed)
    return {name: plugin for name, plugin in installed.items()
            if settings.plugins is None or name in settings.plugins}


def ensure_default_assetstore(app):
    """On first start, a filesystem assetstore under the data directory."""
    assetstores = app.models.assetstore
    if assetstores.find_one({}, {'_id': 1}) is None and app.settings.data_dir:
        root = os.path.abspath(os.path.join(app.settings.data_dir, 'assetstore'))
        try:
            assetstores.create('Default filesystem', 0, root=root, current=True)
        except (ValidationError, pymongo.errors.DuplicateKeyError):
            pass  # another server process made it first


def mount(app):
    """The WSGI application: the API at /api/v1, metrics at /metrics, the web client at /.

    Every request passes ``Observed``, which writes its access-log line and metrics.

    The API is a plain WSGI app on CherryPy's server (cheroot) rather than a CherryPy
    Application: CherryPy's per-request machinery cost about 0.3 ms a request, a third
    of a tile's time over HTTP (measured with 2000 requests; see rest/wsgi.py).
    """
    tree = cherrypy._cptree.Tree()
    quiet = {'log.screen': False, 'log.access_file': '', 'log.error_file': ''}
    from .webroot import WebRoot, page_config
    _quiet(tree.mount(WebRoot(app), '', {'/': dict(quiet, **page_config(), **{
        'tools.encode.on': False, 'request.show_tracebacks': False})}))
    site = cheroot.wsgi.PathInfoDispatcher({
        '/api/v1': WsgiApi(app.dispatcher, app.settings.cors_origins),
        '/metrics': MetricsApp(app.metrics), '/': tree})
    return Observed(site, app.metrics, app.settings.access_log_format)


def _quiet(cp_app):
    """CherryPy logs no access line of its own: ``Observed`` writes the one line."""
    cp_app.log.screen = False
    cp_app.log.access_file = ''
    cp_app.log.access_log.propagate = False
    return cp_app


