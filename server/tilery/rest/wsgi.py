"""A plain WSGI adapter for the Dispatcher: the API's hot path without CherryPy's
per-request machinery (CherryPy's own server, cheroot, still serves it)."""
import http.client
import http.cookies

import cheroot.wsgi

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
        if isinstance(body, (bytes, bytearray)):
            if method != 'HEAD' or 'Content-Length' not in out:
                out['Content-Length'] = str(len(body))
            body = [bytes(body)] if body and method != 'HEAD' else []
        elif method == 'HEAD':
            body = []
        start_response(_REASONS.get(status, str(status)), list(out.items()))
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


class _ClosingGateway(cheroot.wsgi.Gateway_10):
    """cheroot's WSGI gateway, except that an answer with ``Connection: close`` closes.

    cheroot otherwise keeps the connection and reads the rest of a refused body into
    memory in one piece (a 1 GB Content-Length refused after its first block), or
    waits out its socket timeout a second time for a client that went silent."""

    def start_response(self, status, headers, exc_info=None):
        if any(k.lower() == 'connection' and v.lower() == 'close' for k, v in headers):
            self.req.close_connection = True
        return super().start_response(status, headers, exc_info)


class HttpServer(cheroot.wsgi.Server):
    """The HTTP server: cheroot, with the gateway above and no body-size cap of its own
    (each route bounds its body)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gateway = _ClosingGateway
        self.max_request_body_size = 0
