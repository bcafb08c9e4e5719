"""The REST framework. READY: plugins may use it.

Declare routes on a ``Resource`` subclass with the ``route`` decorator; one
declaration converts parameters, loads documents with their access check, and feeds
the OpenAPI description at ``GET /api/v1/describe``::

    from tilery.rest import Resource, route, Param, ModelParam, Raw, PUBLIC, USER
    from tilery.models import Item
    from tilery.models.base import READ, WRITE

    class TilesResource(Resource):
        prefix = 'item/:itemId/tiles'          # path segments; ':name' captures

        def __init__(self, app):
            self.app = app

        @route('GET', 'zxy/:z/:x/:y', access=PUBLIC, cookie=True, summary='One tile.',
               params=[ModelParam('itemId', model=Item, level=READ, dest='item'),
                       Param('z', type='integer'), Param('x', type='integer'),
                       Param('y', type='integer')])
        def tile(self, req, item, z, x, y):
            return Raw(data, 'image/jpeg', headers={'ETag': ...})

- ``access``: PUBLIC, USER or ADMIN_ONLY (the default: a route without an access
  declaration is admin-only). ``scope='core.data.read'``: a token restricted to that
  scope may call it; a route without a scope needs a full-access token (a restricted
  token counts as anonymous on a public route). ``default_scopes = DATA_SCOPES`` on a
  Resource gives its routes a scope by verb.
- ``cookie=True``: the girderToken cookie authenticates GET/HEAD requests of the route
  (downloads, tiles: <img> tags); other verbs need the Girder-Token header (no CSRF).
- ``Param(name, description, type, required, default, enum, dest, min, max)``: types
  string, integer, number, boolean, json (``json_types``), objectid. Path params are
  the ``:name`` segments. Bad values answer 400 with a clear message.
- ``ModelParam(name, model=ModelClass, level=READ|WRITE|ADMIN, dest=..., force=False,
  flags=(...))``: loads the document (400, or 404 when the model's
  ``missing_status`` is 404) and checks the caller's level and access flags.
- ``paging=True`` (or a default sort field name): adds limit/offset/sort/sortdir and
  passes ``paging`` (``.limit``, ``.offset``, ``.sort`` list); call
  ``req.set_total_count(n)`` for Girder-Total-Count.
- ``json_body='object'|'list'``: the parsed body arrives as ``body``, refused when
  larger than the ``max_json_body`` setting (413) or nested deeper than
  ``max_json_depth`` (400), both checked as it streams; ``json`` parameters have the
  same depth limit. ``raw_body=True``: read it yourself with
  ``req.body_chunks(limit=...)`` or ``req.body_file(limit=...)`` (streamed; a
  Content-Length over ``limit`` is a 413 before a byte is read) or
  ``req.read_body(limit)``; JSON you parse yourself goes through
  ``tilery.rest.DepthGuard`` first. On other POST/PUT/PATCH routes an
  ``application/x-www-form-urlencoded`` body is merged into the parameters, as in
  Girder (``max_form_body``).
- ``responses={429: '...'}``: statuses a route answers besides those the description
  gives every route (400, 401, 403; 404 with path ids; 408/409/413 with bodies).
- Handlers get ``req`` (``req.user``, ``req.token``, ``req.params`` raw query values,
  ``req.headers``, ``req.headers_out``, ``req.app``) and return JSON-able values
  (ObjectId and datetime are handled) or a ``Raw(body, content_type, status,
  headers)`` whose body is bytes or an iterator of bytes (streamed). ``ChunkReader(chunks)``
  gives a read()-able file over such an iterator (e.g. a stored file's ``open_range``).
- Raise ``tilery.errors`` exceptions (RestError, NotFound, ValidationError,
  AccessError, Conflict) for Girder-shaped JSON errors.
- ``response='Item'`` names the schema of the 200 JSON answer (``'Item[]'``, ``'User?'``,
  ``'Upload|File'``, ``'integer'``, or a dict; see ``tilery.rest.schemas``): every route
  answering JSON declares one, for the OpenAPI description and the web client's types.
  A plugin names its documents' schemas with ``app.router.add_schemas({...})`` before
  adding its routes; ``from_json_schema`` turns a JSON Schema it validates with into
  one, so both share one definition.
- Register with ``app.router.add_resource(TilesResource(app))`` in a plugin's
  ``load(app)`` (see ``tilery.plugins``).

Tests: the ``server`` fixture in plugin_tests/conftest.py gives an app with a
fresh database; ``server.request(path, method=..., user=..., params=..., body=...)``
runs a request in-process. ``bound_server`` serves it on a real port.
"""
from .jsonbounds import BracketScan, DepthGuard  # noqa: F401
from .params import ModelParam, Param, Paging  # noqa: F401
from .request import ChunkReader, Raw  # noqa: F401
from .routing import ADMIN_ONLY, DATA_SCOPES, PUBLIC, USER, Resource, Router, route  # noqa: F401
from .schemas import from_json_schema  # noqa: F401
