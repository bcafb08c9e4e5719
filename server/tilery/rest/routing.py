"""Route declarations and the router that matches requests to them."""
import dataclasses
from typing import Callable

from .params import ModelParam, Param, paging_params
from .schemas import SCHEMAS, answer_schema

PUBLIC, USER, ADMIN_ONLY = 'public', 'user', 'admin'
#: Token scopes by verb for data resources, as in Girder (routes that delete whole
#: folders or change access declare 'core.data.own' themselves).
DATA_SCOPES = {'GET': 'core.data.read', 'HEAD': 'core.data.read', 'POST': 'core.data.write',
               'PUT': 'core.data.write', 'PATCH': 'core.data.write',
               'DELETE': 'core.data.write'}


@dataclasses.dataclass
class Route:
    """One endpoint: verb, path, handler and everything the dispatcher checks first."""

    method: str
    path: str
    handler: Callable = None
    access: str = ADMIN_ONLY  # a route without an access declaration is admin-only
    scope: str = None  # token scope needed (besides a full-access token)
    summary: str = ''
    params: list = dataclasses.field(default_factory=list)
    paging: bool = False
    json_body: str = None  # 'object' or 'list': the body is parsed and passed as ``body``
    body_description: str = ''
    raw_body: bool = False  # the handler reads the request body itself
    cookie: bool = False  # the girderToken cookie authenticates this route
    tags: tuple = ()
    hidden: bool = False
    # {status: meaning} this route answers besides those describe.responses finds
    responses: dict = dataclasses.field(default_factory=dict)
    # schema of the 200 JSON answer (rest/schemas.answer_schema): 'Item', 'Item[]', a dict...
    response: object = None

    @property
    def segments(self):
        return [s for s in self.path.strip('/').split('/') if s]

    def all_params(self):
        names = {s[1:] for s in self.segments if s.startswith(':')}
        out = []
        for p in self.params:
            if p.name in names:
                p.location = 'path'
            out.append(p)
        for name in names - {p.name for p in self.params}:
            out.append(Param(name, location='path', required=True))
        return out


def route(method, path, **options):
    """Declare a handler method as a route; ``Resource`` collects them."""
    paging = options.get('paging')
    if paging:
        # a default sort field name, or (field, direction) for newest-first listings
        sort, sortdir = paging if isinstance(paging, tuple) else (
            paging if isinstance(paging, str) else 'lowerName', 1)
        options['params'] = list(options.get('params', ())) + paging_params(sort, sortdir)
        options['paging'] = True

    def decorate(func):
        func._tilery_routes = getattr(func, '_tilery_routes', []) + [
            Route(method.upper(), path, **options)]
        return func
    return decorate


class Resource:
    """A group of routes under one path prefix; subclasses decorate methods with ``route``."""

    prefix = ''
    default_scopes = {}  # verb -> token scope for routes that declare none (e.g. DATA_SCOPES)

    def routes(self):
        """Bound routes of this resource with the prefix applied."""
        found = []
        for name in dir(type(self)):
            func = getattr(type(self), name)
            for spec in getattr(func, '_tilery_routes', ()):
                bound = dataclasses.replace(spec, handler=getattr(self, name))
                bound.params = [dataclasses.replace(p) for p in spec.params]
                path = '/'.join(s for s in (self.prefix.strip('/'), spec.path.strip('/')) if s)
                bound.path = path
                bound.tags = spec.tags or (self.prefix.strip('/').split('/')[0],)
                bound.scope = spec.scope or self.default_scopes.get(spec.method)
                found.append(bound)
        return found


class Router:
    """Matches (method, path segments) to routes; literal segments win over ``:name``.

    It also holds the named answer schemas its routes refer to: the core's, and those
    plugins add before their routes.
    """

    def __init__(self):
        self._tree = {}
        self.routes = []
        self.schemas = dict(SCHEMAS)

    def add_schemas(self, schemas):
        """Name more answer schemas (a plugin's documents); a name is given once."""
        taken = set(schemas) & set(self.schemas)
        if taken:
            raise ValueError('Response schemas named twice: %s' % ', '.join(sorted(taken)))
        self.schemas.update(schemas)

    def add(self, spec):
        if spec.response is not None:
            answer_schema(spec.response, self.schemas)  # a misspelt name fails at start
        node = self._tree.setdefault(spec.method, {})
        for seg in spec.segments:
            key = ':' if seg.startswith(':') else seg
            child = node.setdefault(key, {})
            if key == ':':
                child.setdefault('__names__', set()).add(seg[1:])
            node = child
        if '__route__' in node:
            raise ValueError('Route %s %s is declared twice' % (spec.method, spec.path))
        node['__route__'] = spec
        self.routes.append(spec)

    def add_resource(self, resource):
        for spec in resource.routes():
            self.add(spec)

    def match(self, method, segments):
        """Return (route, path_values) or (None, allowed_methods)."""
        found = self._match(self._tree.get(method, {}), segments, 0, [])
        if found:
            return found
        allowed = [m for m, tree in self._tree.items()
                   if self._match(tree, segments, 0, [])]
        return None, allowed

    def _match(self, node, segments, i, values):
        if i == len(segments):
            spec = node.get('__route__')
            if spec is None:
                return None
            names = [s[1:] for s in spec.segments if s.startswith(':')]
            return spec, dict(zip(names, values))
        seg = segments[i]
        if seg in node:
            found = self._match(node[seg], segments, i + 1, values)
            if found:
                return found
        if ':' in node and seg:
            return self._match(node[':'], segments, i + 1, values + [seg])
        return None


__all__ = ['Route', 'route', 'Resource', 'Router', 'PUBLIC', 'USER', 'ADMIN_ONLY', 'DATA_SCOPES',
           'ModelParam', 'Param']
