"""A plain WSGI adapter for the Dispatcher: the API's hot path without CherryPy's
per-request machinery (CherryPy's own server, cheroot, still serves it)."""
import http.client
import http.cookies

from ..assetstores.base import FileSlice
from .dispatch import SECURITY_HEADERS, is_chunked
from .request import BodyReader

_REASONS = {code: '%d %s' % (code, reason) for code, reason in http.client.responses.items()}


class WsgiHeaders:
    """Request headers read from the WSGI environ, case-insensitive."""

    __slots__ = ('_environ',)

    def __init__(self, environ):
        self._environ = environ

    @staticmethod
    def _key(name):
        key = name.upper().replace('-', '_')
        return key if key in ('CONTENT_TYPE', 'CONTENT_LENGTH') else 'HTTP_' + key

    def get(self, name, default=None):
        return self._environ.get(self._key(name), default)

    @property
    def remote_addr(self):
        """The peer's address (a proxy's, when there is one)."""
        return self._environ.get('REMOTE_ADDR')

    @property
    def scheme(self):
        return self._environ.get('wsgi.url_scheme', 'http')

    def __getitem__(self, name):
        return self._environ[self._key(name)]

    def __contains__(self, name):
        return self._key(name) in self._environ


class WsgiApi:
    """WSGI application serving the Dispatcher's routes (mounted at /api/v1)."""

    def __init__(self, dispatcher, cors_origins=()):
        self.dispatcher = dispatcher
        self.cors_origins = set(cors_origins)

    def __call__(self, environ, start_response):
        headers = WsgiHeaders(environ)
        try:
            length = int(environ.get('CONTENT_LENGTH') or 0)
        except ValueError:
            length = 0
        reader = BodyReader(environ['wsgi.input'], length)
        cookies = {}
        raw_cookie = environ.get('HTTP_COOKIE')
        if raw_cookie:
            try:
                jar = http.cookies.SimpleCookie(raw_cookie)
                cookies = {k: m.value for k, m in jar.items()}
            except http.cookies.CookieError:
                cookies = {}
        method = environ['REQUEST_METHOD']
        if method == 'OPTIONS':  # a CORS preflight: the dispatcher never sees it
            status, out, body = 200, dict(SECURITY_HEADERS), b''
        else:
            path = environ.get('PATH_INFO', '').encode('latin-1').decode('utf-8', 'replace')
            status, out, body = self.dispatcher.handle(
                method, path, environ.get('QUERY_STRING', ''), headers, reader, cookies)
        # a body the handler did not read is drained so keep-alive clients stay in step
        if not reader.drain() or is_chunked(headers):
            out['Connection'] = 'close'
        self._cors(environ, out)
        body = self._body(environ, method, out, body)
        start_response(_REASONS.get(status, str(status)), list(out.items()))
        return body

    @staticmethod
    def _body(environ, method, out, body):
        """The WSGI iterable for an answer's body (sets Content-Length for bytes)."""
        if isinstance(body, (bytes, bytearray)):
            if method != 'HEAD' or 'Content-Length' not in out:
                out['Content-Length'] = str(len(body))
            return [bytes(body)] if body and method != 'HEAD' else []
        if method == 'HEAD':
            return []
        if isinstance(body, FileSlice) and 'wsgi.file_wrapper' in environ and \
                out.get('Content-Length') == str(body.length):
            return environ['wsgi.file_wrapper'](body.file)  # see rest/gateway.py
        return body

    def _cors(self, environ, out):
        origin = environ.get('HTTP_ORIGIN')
        if origin and ('*' in self.cors_origins or origin in self.cors_origins):
            out['Access-Control-Allow-Origin'] = origin
            out['Access-Control-Allow-Credentials'] = 'true'
            out['Access-Control-Allow-Methods'] = 'GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS'
            out['Access-Control-Allow-Headers'] = \
                'Content-Type, Girder-Token, Girder-OTP, Authorization, Range'
        out['Access-Control-Expose-Headers'] = (
            'Girder-Total-Count, Content-Disposition, Girder-Request-Uid, Content-Range, ETag, '
            'Tilery-Annotation-Version')
