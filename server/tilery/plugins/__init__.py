"""The plugin contract. This module is the whole of it.

A plugin is a package that exposes an object of a ``Plugin`` subclass through the
``tilery.plugins`` entry-point group (see setup.py). Tilery's own large-image and
annotation features are plugins of this kind. At start-up ``create_app`` calls, in
order of the plugins' ``dependencies``:

- ``load(app)``: register models (``app.models.add``), services (set attributes on
  ``app``), the schemas of its JSON answers (``app.router.add_schemas``), routes
  (``app.router.add_resource``) and event handlers (``app.events.subscribe``).
- ``start(app)``: after every plugin is loaded, before requests are served (start
  background workers here, never at import time).
- ``stop(app)``: on shutdown.

Settings: a plugin declares its settings in one ``tilery.settings.SettingsGroup``
subclass (a frozen dataclass whose ``prefix`` is the plugin's name and whose fields
are made with ``setting(default, meaning)``, typed by their annotations) and names it
as ``Plugin.settings``; it reads them with ``TheGroup.read(app.settings)``. They come
from the config file's ``[plugins.<name>]`` section or ``TILERY_<NAME>_<KEY>``
variables, and a key the group does not declare, or a value of the wrong type, stops
the server at start with the key's name.
A plugin talks to another only through the other's documented service on ``app``
and through events, never through its private state.

Across processes (several web processes, workers on other machines):
``app.feed.publish(type, data, user_id=None, scope=None)`` stores a change event that
every process's ``app.feed.subscribe(callback)`` callers receive (see ``tilery.feed``),
and a per-process cache registered with ``app.invalidation.register(name, forget)``
forgets a key in every process when ``app.invalidation.invalidate(name, key)`` is
called in any of them.

What a plugin may import from the core: this module (access levels, the annotate
flag, the model base classes, the access-list parser, the database's
case-insensitive match, the core's download answers ``file_download``,
``zip_stream`` and ``content_disposition``, and ``publisher(app)``, where changes are
announced to live viewers with ``publish(type, data, user_id=, scope=)``, as
``app.feed``'s but without waiting for its writes; re-exported below), ``tilery.rest`` (routes),
``tilery.models`` (the core model classes, for ``ModelParam``), ``tilery.errors``,
``tilery.settings`` (``SettingsGroup``) and, for job handlers registered with
``app.jobs.register``, the jobs service's documented modules ``tilery.jobs.context``,
``tilery.jobs.model`` and ``tilery.jobs.child`` (see ``tilery.jobs``).
Access checks go through the models (``has_access``, ``require_access``,
``can_annotate``, ``require_annotate``, ``parse_access``): there is one access
implementation, in the core. plugin_tests/test_code_shape.py enforces this.
"""
import importlib.metadata
import logging

from ..database import icase_contains  # noqa: F401 (name search without text indexes)
from ..services.downloads import (  # noqa: F401 (file and zip answers, as the core's)
    content_disposition, file_download, zip_stream)
from ..models.base import (  # noqa: F401 (the contract's access names)
    ADMIN, ANNOTATE_FLAG, NONE, READ, WRITE, AccessControlledModel, Model, now,
    parse_access_list, publisher, to_object_id)

log = logging.getLogger(__name__)

#: Every event the core emits, with its payload. Emitting or subscribing to an
#: undocumented name is an error (a test checks this list against the code).
EVENTS = {
    'model.user.created': 'the new user document',
    'model.user.removed': 'the removed user document',
    'model.item.created': 'the new item document',
    'model.item.removing': 'the item document, before its files are deleted',
    'model.item.removed': 'the removed item document',
    'model.item.moved': 'the item document after the move',
    'model.item.copied': "{'source', 'copy', 'user'}: after the files are copied",
    'model.folder.removed': 'the removed folder document (its subtree is gone)',
    'model.folder.access_changed': "{'folder', 'recurse'}: a folder's ACL or public flag "
                                   "changed (recurse: its subfolders' too)",
    'model.file.finalized': "{'file', 'item', 'upload', 'replaced'}: a file's bytes are "
                            "complete (a new file, or new contents of 'replaced')",
    'model.file.removed': 'the removed file document',
    'server.started': 'the app, once the HTTP server listens',
}

#: Access flags grant finer rights on top of levels; plugins may add their own with
#: ``app.access_flags[name] = {'name': ..., 'description': ...}``.
ACCESS_FLAGS = {
    ANNOTATE_FLAG: {'name': 'Annotate', 'description': (
        'Draw annotations and label masks on the items of a folder that the user can '
        'otherwise only read.')},
}


class Plugin:
    """Base class of plugins; override what you need."""

    name = ''
    description = ''
    dependencies = ()
    settings = None  # the SettingsGroup subclass declaring the plugin's settings

    def load(self, app):
        """Register models, services, routes and event handlers."""

    def start(self, app):
        """Start background work; called once every plugin is loaded."""

    def stop(self, app):
        """Stop background work."""


def discover(enabled=None):
    """Installed plugins by name (entry-point group ``tilery.plugins``)."""
    found = {}
    for entry in importlib.metadata.entry_points(group='tilery.plugins'):
        if enabled is not None and entry.name not in enabled:
            continue
        try:
            plugin = entry.load()
        except Exception:
            log.exception('Plugin %s failed to import; it is disabled', entry.name)
            continue
        found[entry.name] = plugin
    return found


def load_order(plugins):
    """Plugin names sorted so that dependencies load first."""
    order, seen = [], set()

    def visit(name, stack=()):
        if name in seen:
            return
        if name in stack:
            raise ValueError('Plugin dependency cycle: %s' % ' -> '.join(stack + (name,)))
        plugin = plugins.get(name)
        if plugin is None:
            raise ValueError('Plugin %s is required but not installed' % name)
        for dep in plugin.dependencies:
            visit(dep, stack + (name,))
        seen.add(name)
        order.append(name)
    for name in sorted(plugins):
        visit(name)
    return order
