"""create_app: builds the database client, models, services and plugins, and mounts them."""
import logging
import os

import cherrypy

from . import database, plugins
from .auth import Auth
from .events import Events
from .jobs.rest import attach as attach_jobs
from .models import CORE_MODELS, ModelRegistry
from .rest.describe import DescribeResource
from .rest.dispatch import CherryPyApi, Dispatcher
from .rest.routing import Router
from .services.tree import TreeService
from .services.uploads import UploadService

log = logging.getLogger(__name__)


class App:
    """Everything one server (or one test) needs, passed along explicitly."""

    def __init__(self, settings, mongo_client, db):
        self.settings = settings
        self.mongo_client = mongo_client
        self.db = db
        self.events = Events(plugins.EVENTS)
        self.models = ModelRegistry()
        self.router = Router()
        self.dispatcher = Dispatcher(self, self.router)
        self.plugins = {}
        self.access_flags = dict(plugins.ACCESS_FLAGS)
        self.auth = None
        self.uploads = None
        self.tree = None
        self.jobs = None

    def start(self):
        self.jobs.start()
        for plugin in self.plugins.values():
            plugin.start(self)

    def stop(self):
        for plugin in reversed(list(self.plugins.values())):
            try:
                plugin.stop(self)
            except Exception:
                log.exception('Plugin %s failed to stop', plugin.name)
        self.jobs.stop()


def create_app(settings, mongo_client=None, db=None):
    """Build an App from settings; a client/db may be given (tests share one server)."""
    if mongo_client is None:
        mongo_client = database.connect(settings.mongo_uri)
    if db is None:
        db = database.database_from_uri(mongo_client, settings.mongo_uri, settings.database)
    app = App(settings, mongo_client, db)
    for cls in CORE_MODELS:
        app.models.add(cls(app))
    for model in app.models:
        model.ensure_indexes()
    app.auth = Auth(app)
    app.uploads = UploadService(app)
    app.tree = TreeService(app)
    attach_jobs(app)  # app.jobs and the /job routes
    from .rest.resources import core_resources
    for resource in core_resources(app):
        app.router.add_resource(resource)
    app.router.add_resource(DescribeResource(app))
    found = plugins.discover(settings.plugins)
    for name in plugins.load_order(found):
        plugin = found[name]
        plugin.load(app)
        app.plugins[name] = plugin
    ensure_default_assetstore(app)
    return app


def ensure_default_assetstore(app):
    """On first start, a filesystem assetstore under the data directory."""
    assetstores = app.models.assetstore
    if assetstores.find_one({}, {'_id': 1}) is None and app.settings.data_dir:
        root = os.path.abspath(os.path.join(app.settings.data_dir, 'assetstore'))
        assetstores.create('Default filesystem', 0, root=root, current=True)


def mount(app):
    """A CherryPy tree (our own, not the global one) with the API and the web client."""
    tree = cherrypy._cptree.Tree()
    quiet = {'log.screen': False, 'log.access_file': '', 'log.error_file': ''}
    api_config = {'/': {
        'request.process_request_body': False,
        'response.stream': True,
        'tools.encode.on': False,
        'tools.gzip.on': False,
        'tools.sessions.on': False,
        'request.show_tracebacks': False,
        'error_page.default': _plain_error,
    }}
    api_config['/'].update(quiet)
    api = CherryPyApi(app.dispatcher, app.settings.cors_origins)
    _quiet(tree.mount(api, '/api/v1', api_config))
    from .webroot import WebRoot
    _quiet(tree.mount(WebRoot(app), '', {'/': dict(quiet, **{'tools.encode.on': False,
                                                      'request.show_tracebacks': False})}))
    return tree


def _quiet(cp_app):
    """No per-request access log on the screen: it costs time on the tile path."""
    cp_app.log.screen = False
    cp_app.log.access_file = ''
    return cp_app


def _plain_error(status, message, traceback, version):
    import json
    cherrypy.response.headers['Content-Type'] = 'application/json'
    return json.dumps({'message': message, 'type': 'rest'})
