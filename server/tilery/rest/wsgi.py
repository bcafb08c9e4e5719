"""A plain WSGI adapter for the Dispatcher: the API's hot path without CherryPy's
per-request machinery (CherryPy's own server, cheroot, still serves it)."""
import atexit
import http.client
import http.cookies
import logging
import queue
import re
import threading
import time

import orjson

from ..assetstores.base import FileSlice
from .dispatch import SECURITY_HEADERS, is_chunked
from .gateway import FileWrapper
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
                method, path, environ.get('QUERY_STRING', ''), headers, reader, cookies,
                environ.get(SEEN_KEY))
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
        if isinstance(body, FileSlice) and environ.get('wsgi.file_wrapper') is FileWrapper \
                and out.get('Content-Length') == str(body.length):
            # our gateway sends the slice from the file itself (see rest/gateway.py)
            return FileWrapper(body.file, length=body.length)
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


#: environ key of the dict in which the API reports the route pattern and user id
SEEN_KEY = 'tilery.seen'
ACCESS_LOGGER = 'tilery.access'
_TOKEN_IN_QUERY = re.compile(r'(^|&)token=[^&]*')


class Observed:
    """Wraps the whole site: one access-log line and one metrics sample per request.

    On the tile path this is the only per-request overhead besides the API itself, so
    it stays small: the route pattern and user come from the dispatcher through the
    environ, the time stamp is formatted once a second, a body that is a list (every
    API answer) is counted without wrapping it, and lines go to the logger in batches
    from a writer thread (a log record a line cost ~10 us, a quarter of what a tile
    costs the server; see ``_LineWriter``).
    """

    def __init__(self, site, metrics, log_format='combined', logger=None):
        if log_format not in ('combined', 'json'):
            raise ValueError('access_log_format must be "combined" or "json", not %r.' % (
                log_format,))
        self.site = site
        self.metrics = metrics
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)
        self.format_line = _json_line if log_format == 'json' else _combined_line
        self._clock = _SecondClock()
        self._writer = _LineWriter(self.logger)

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        seen = environ[SEEN_KEY] = {}

        def start(status, headers, exc_info=None):
            seen['status'] = status
            return start_response(status, headers, exc_info)
        try:
            body = self.site(environ, start)
        except BaseException:  # cheroot answers 500; the request is still logged
            seen.setdefault('status', '500')
            self.done(environ, seen, 0, started)
            raise
        if isinstance(body, list):
            self.done(environ, seen, sum(map(len, body)), started)
            return body
        return _CountedBody(body, self, environ, seen, started)

    def done(self, environ, seen, length, started):
        seconds = time.perf_counter() - started
        status = int(seen.get('status', '500')[:3])
        route = seen.get('route')
        if route is None:
            route = _site_part(environ)
        self.metrics.observe_request(environ['REQUEST_METHOD'], route, status, seconds)
        if self.logger.isEnabledFor(logging.INFO):
            self._writer.put(self.format_line(environ, status, length, seconds,
                                              seen.get('user'), self._clock))

    def flush(self):
        """Wait until every line logged so far is handed to the log handlers."""
        self._writer.flush()


class _LineWriter:
    """Hands access-log lines to the logger in batches, from one background thread.

    A request only appends its line to a queue (no lock, no wake-up: waking a writer
    thread per request cost the tile path more GIL hand-offs than the write itself);
    the writer wakes every ``interval`` seconds and hands everything queued to the
    logger as one record, so handlers (stdout, rotating file) make one write of many
    lines. A line reaches the log within ``interval``; at exit ``flush`` writes the rest.
    """

    def __init__(self, logger, interval=0.05):
        self.logger = logger
        self.interval = interval
        self._lines = queue.SimpleQueue()
        self._write_lock = threading.Lock()
        self._thread = None

    def put(self, line):
        if self._thread is None:
            self._start()
        self._lines.put(line)

    def _start(self):
        with self._write_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name='tilery-access-log')
                self._thread.start()
                atexit.register(self.flush)

    def _run(self):
        while True:
            time.sleep(self.interval)
            try:
                self.flush()
            except Exception:  # a full disk must not end the writer: try again later
                logging.getLogger(__name__).exception('The access log could not be written')

    def flush(self):
        """Write every queued line now."""
        with self._write_lock:
            batch = []
            try:
                while True:
                    batch.append(self._lines.get_nowait())
            except queue.Empty:
                pass
            if batch:
                self.logger.info('\n'.join(batch))


def _site_part(environ):
    """The metrics label of a request no API route matched."""
    path = environ.get('PATH_INFO', '')
    if path.startswith('/api/'):
        return 'unmatched'
    if path == '/metrics' or path.startswith('/metrics/'):
        return 'metrics'
    return 'static'


class _CountedBody:
    """A streamed body (downloads, static files) counted as it is sent."""

    def __init__(self, body, observed, environ, seen, started):
        self.body, self.observed = body, observed
        self.environ, self.seen, self.started = environ, seen, started
        self.length = 0

    @property
    def wrapped(self):
        """The answer inside, for a gateway that sends files itself (rest/gateway.py)."""
        return self.body

    def add_sent(self, count):
        """Bytes a gateway sent of the wrapped answer without iterating it."""
        self.length += count

    def __iter__(self):
        for chunk in self.body:
            self.length += len(chunk)
            yield chunk

    def close(self):
        try:
            close = getattr(self.body, 'close', None)
            if close is not None:
                close()
        finally:
            self.observed.done(self.environ, self.seen, self.length, self.started)


class _SecondClock:
    """Time stamps formatted once a second, not once a request."""

    def __init__(self):
        self._lock = threading.Lock()
        self._second = None
        self._stamps = None

    def stamps(self):
        """(Common Log Format time, ISO 8601 time) of the current second, local time."""
        second = int(time.time())
        if second != self._second:
            with self._lock:
                local = time.localtime(second)
                self._stamps = (time.strftime('%d/%b/%Y:%H:%M:%S %z', local),
                                time.strftime('%Y-%m-%dT%H:%M:%S%z', local))
                self._second = second
        return self._stamps


def _target(environ):
    """The request's path and query, without a token given in the query string."""
    path = environ.get('SCRIPT_NAME', '') + environ.get('PATH_INFO', '')
    query = environ.get('QUERY_STRING', '')
    if query:
        if 'token=' in query:
            query = _TOKEN_IN_QUERY.sub(r'\1token=-', query)
        return path + '?' + query
    return path


def _combined_line(environ, status, length, seconds, user, clock):
    """Combined Log Format, the user id as the remote user, then the time in microseconds."""
    return '%s - %s [%s] "%s %s %s" %d %s "%s" "%s" %d' % (
        environ.get('REMOTE_ADDR', '-'), user or '-', clock.stamps()[0],
        environ['REQUEST_METHOD'], _target(environ).replace('"', '%22'),
        environ.get('SERVER_PROTOCOL', '-'), status, length or '-',
        environ.get('HTTP_REFERER', '-').replace('"', '%22'),
        environ.get('HTTP_USER_AGENT', '-').replace('"', '%22'), seconds * 1e6)


def _json_line(environ, status, length, seconds, user, clock):
    """One JSON object a line."""
    return orjson.dumps({
        'time': clock.stamps()[1], 'remote': environ.get('REMOTE_ADDR'),
        'method': environ['REQUEST_METHOD'], 'path': _target(environ), 'status': status,
        'bytes': length, 'duration_ms': round(seconds * 1000, 3),
        'user': str(user) if user else None, 'referer': environ.get('HTTP_REFERER'),
        'user_agent': environ.get('HTTP_USER_AGENT')}).decode()
