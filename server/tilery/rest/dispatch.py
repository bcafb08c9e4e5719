"""Turns HTTP requests into handler calls: match, authenticate, convert, check, answer."""
import logging
import traceback
import urllib.parse
import uuid

from ..database import UNAVAILABLE_ERRORS
from ..errors import (AccessError, RestError, TileryError, Unavailable, anonymous_error,
                      client_fault)
from . import jsonbounds
from .params import ModelParam, Paging
from .request import Raw, Request, dumps
from .routing import ADMIN_ONLY, PUBLIC

log = logging.getLogger(__name__)
FULL_ACCESS_SCOPE = 'core.user_auth'
#: Sent with every API answer. The sandbox CSP matters for downloads: a stored HTML or
#: SVG file opened from a link runs no script and gets an opaque origin, so it cannot
#: reach the API with the viewer's credentials; JSON answers lose nothing by it.
SECURITY_HEADERS = {'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY',
                    'Content-Security-Policy': "sandbox; default-src 'none'",
                    'Referrer-Policy': 'same-origin'}
#: The girderToken cookie authenticates only these verbs: a browser attaches cookies to
#: cross-site requests, so a cookie that could authorise a POST would allow CSRF.
COOKIE_METHODS = ('GET', 'HEAD')
API_METHODS = ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE')
FORM_METHODS = ('POST', 'PUT', 'PATCH')  # as CherryPy, which reads bodies of these only


def parse_query(query_string, params=None):
    """Query-string values by name; a parameter given twice is a 400 (as in Girder)."""
    params = {} if params is None else params
    for name, value in urllib.parse.parse_qsl(query_string, keep_blank_values=True):
        if name in params:
            raise RestError('Parameter "%s" was given more than once.' % name)
        params[name] = value
    return params


def is_form(headers):
    """True when the body is an HTML form (application/x-www-form-urlencoded)."""
    kind = (headers.get('Content-Type') or '').split(';')[0].strip().lower()
    return kind == 'application/x-www-form-urlencoded'


def merge_form(params, body):
    """Add a form body's fields to the query parameters (a field in both is a 400)."""
    try:
        text = body.decode('utf-8')
    except UnicodeDecodeError:
        raise RestError('The form body must be UTF-8 text.')
    return parse_query(text, params)


class Dispatcher:
    """Runs a request through its route declaration; knows nothing about CherryPy."""

    def __init__(self, app, router):
        self.app = app
        self.router = router

    def handle(self, method, path, query_string, headers, rfile, cookies, seen=None):
        """Return (status, headers, body) for one request; never raises.

        ``seen``, a dict, receives the matched route's pattern ('route') and the
        caller's user id ('user') for the access log and the metrics.
        """
        uid = uuid.uuid4().hex
        out_headers = {'Girder-Request-Uid': uid, **SECURITY_HEADERS}
        req = None
        try:
            req = self._prepare(method, path, query_string, headers, rfile, cookies,
                                {} if seen is None else seen)
            result = req.route.handler(req, **req.kwargs)
            out_headers.update(req.headers_out)
            return self._answer(result, out_headers, method)
        except Exception as exc:  # TileryErrors and client faults are 4xx, the rest 500
            if isinstance(exc, UNAVAILABLE_ERRORS):  # the database is down or restarting
                return self._unavailable(exc, method, path, uid, out_headers)
            error = exc if isinstance(exc, TileryError) else client_fault(exc)
            if error is None:
                return self._internal_error(method, path, uid, out_headers)
            return self._error(error, req, out_headers)

    def _unavailable(self, exc, method, path, uid, out_headers):
        """503 with Retry-After while the database does not answer."""
        log.warning('Database unavailable in %s %s (uid %s): %s', method, path, uid,
                    str(exc).split(',')[0])
        unavailable = Unavailable('The database is not answering; try again in a few '
                                  'seconds.')
        out_headers.update(unavailable.headers)
        body = dict(unavailable.to_json(), uid=uid)
        return unavailable.status, self._json_headers(out_headers), dumps(body)

    def _error(self, exc, req, out_headers):
        """The Girder-shaped JSON answer for a TileryError."""
        status = exc.status
        # as in Girder, an access error is a 401 for a caller who is not signed in
        if isinstance(exc, AccessError) and (getattr(exc, 'anonymous', False) or (
                status == 403 and req is not None and req.user is None)):
            status = 401
        out_headers.update(getattr(exc, 'headers', None) or {})
        return status, self._json_headers(out_headers), dumps(exc.to_json())

    def _internal_error(self, method, path, uid, out_headers):
        """An unexpected fault: log it, answer 500 with the uid."""
        log.error('Unexpected error in %s %s (uid %s)\n%s', method, path, uid,
                  traceback.format_exc())
        body = {'message': 'An unexpected error occurred on the server.',
                'type': 'internal', 'uid': uid}
        if self.app.settings.debug:
            body['trace'] = traceback.format_exc().splitlines()
        return 500, self._json_headers(out_headers), dumps(body)

    def _prepare(self, method, path, query_string, headers, rfile, cookies, seen):
        if is_chunked(headers):
            # routes check a body's length before reading it (upload offsets and sizes)
            raise RestError('Send the request body with a Content-Length header '
                            '(chunked transfer encoding is not accepted).', 411)
        segments = [s for s in path.strip('/').split('/') if s]
        params = parse_query(query_string)
        spec, values = self._match(method, segments)
        seen['route'] = spec.path
        req = Request(self.app, method, path, params, headers, rfile)
        req.route = spec
        if method in FORM_METHODS and not (spec.json_body or spec.raw_body) and \
                is_form(headers):
            # as in Girder, form fields are parameters (a token= field authenticates)
            merge_form(params, req.read_body(self.app.settings.max_form_body))
        req.user, req.token = self._authenticate(spec, method, params, headers, cookies, seen)
        self._check_access(spec, req.user, req.token)
        req.kwargs = self._convert(spec, req, values)
        return req

    def _match(self, method, segments):
        """(route, path values), or the 400 (405 for methods no route has) of no route."""
        spec, values = self.router.match(method, segments)
        if spec is not None:
            return spec, values
        if method not in API_METHODS:  # TRACE, CONNECT...: never a route
            allowed = ', '.join(sorted(set(values) | {'OPTIONS'}))
            exc = RestError('Method %s is not allowed; allowed here: %s.' % (
                method, allowed), 405)
            exc.headers = {'Allow': allowed}
            raise exc
        # as in Girder, a known method on a path without it is a 400
        raise RestError('No matching route for "%s %s".' % (method, '/'.join(segments)))

    def _authenticate(self, spec, method, params, headers, cookies, seen):
        """(user, token) of the request's token parameter, header or cookie."""
        token_value = params.pop('token', None) or headers.get('Girder-Token') or None
        if token_value is None and spec.cookie and method in COOKIE_METHODS:
            token_value = cookies.get('girderToken') or None
        user, token = self.app.auth.authenticate(token_value)
        if user is not None:
            seen['user'] = user['_id']
        if token is not None and not _scope_allows(token, spec):
            # as in Girder, a token without the route's scope is anonymous on a public
            # route; elsewhere it is refused (a restricted key must not act as the user)
            if spec.access != PUBLIC:
                raise AccessError('Invalid token scope. Required: %s.' % (
                    spec.scope or FULL_ACCESS_SCOPE))
            user, token = None, None
        return user, token

    def _check_access(self, spec, user, token):
        if spec.access == PUBLIC:
            pass
        elif user is None:
            raise anonymous_error()
        elif spec.access == ADMIN_ONLY and not user.get('admin'):
            raise AccessError('Administrator access required.')

    def _convert(self, spec, req, path_values):
        kwargs = {}
        paging = {}
        for param in spec.all_params():
            raw = path_values.get(param.name) if param.location == 'path' \
                else req.params.get(param.name)
            if raw is None:
                if param.required:
                    raise RestError('Parameter "%s" is required.' % param.name)
                value = param.default() if callable(param.default) else param.default
            elif isinstance(param, ModelParam):
                value = self._load_model(param, raw, req)
            else:
                if param.type == 'json':
                    jsonbounds.check_depth(raw, self.app.settings.max_json_depth)
                value = param.convert(raw)
            if spec.paging and param.name in ('limit', 'offset', 'sort', 'sortdir'):
                paging[param.name] = value
            else:
                kwargs[param.target] = value
        if spec.paging:
            kwargs['paging'] = Paging(paging['limit'], paging['offset'],
                                      [(_sort_field(paging['sort']), paging['sortdir'])])
        if spec.json_body:
            kwargs['body'] = req.json_body(spec.json_body, self.app.settings.max_json_body,
                                           self.app.settings.max_json_depth)
        return kwargs

    def _load_model(self, param, raw, req):
        model = self.app.models[param.model]
        doc = model.load(raw)
        if not param.force:
            model.require_access(doc, req.user, param.level, param.flags)
        return doc

    def _answer(self, result, headers, method='GET'):
        if isinstance(result, Raw):
            headers.update(result.headers)
            headers['Content-Type'] = result.content_type
            # a HEAD answer keeps the length of the body it describes
            if isinstance(result.body, (bytes, bytearray)) and not (
                    method == 'HEAD' and 'Content-Length' in headers):
                headers['Content-Length'] = str(len(result.body))
            return result.status, headers, result.body
        return 200, self._json_headers(headers), dumps(result)

    @staticmethod
    def _json_headers(headers):
        headers['Content-Type'] = 'application/json'
        return headers


def _sort_field(name):
    """A field name the database can sort on (an operator or empty name is a 400)."""
    if not name or any(not part or part.startswith('$') for part in name.split('.')):
        raise RestError('Invalid sort field: %r.' % name)
    return name


def _scope_allows(token, spec):
    """A full-access token passes every route; a restricted one only routes of its scope."""
    scopes = token.get('scope') or ()
    return FULL_ACCESS_SCOPE in scopes or (spec.scope is not None and spec.scope in scopes)


def is_chunked(headers):
    """True when a body comes without a Content-Length, in chunked transfer encoding."""
    return 'chunked' in (headers.get('Transfer-Encoding') or '').lower() and \
        not headers.get('Content-Length')

