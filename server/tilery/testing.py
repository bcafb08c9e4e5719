"""Helpers for tests: an app on a given database, in-process requests, a bound port."""
import base64
import io
import threading
import urllib.parse

import orjson

from .app import create_app, mount
from .settings import Settings


class Response:
    """What an in-process request answered."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        if isinstance(body, (bytes, bytearray)):
            self.body = bytes(body)
        else:
            self.body = b''.join(body)

    @property
    def json(self):
        return orjson.loads(self.body) if self.body else None

    def __repr__(self):
        return '<Response %d %s>' % (self.status, self.body[:200])


class Headers(dict):
    """Case-insensitive request headers, as CherryPy gives them."""

    scheme = 'http'

    def __init__(self, values, remote_addr='127.0.0.1'):
        super().__init__({k.title(): v for k, v in values.items()})
        self.remote_addr = remote_addr

    def get(self, key, default=None):
        return super().get(key.title(), default)

    def __getitem__(self, key):
        return super().__getitem__(key.title())

    def __contains__(self, key):
        return super().__contains__(key.title())


class TestServer:
    """An App plus a way to call it without HTTP."""

    __test__ = False  # not a pytest test class

    def __init__(self, app):
        self.app = app
        self._tokens = {}

    def token_for(self, user):
        if user is None:
            return None
        key = user['_id']
        if key not in self._tokens:
            self._tokens[key] = self.app.models.token.create(user)['_id']
        return self._tokens[key]

    def request(self, path, method='GET', user=None, params=None, body=None, headers=None,
                token=None, basic=None, cookie=None, remote_addr='127.0.0.1'):
        """Run one request in-process; ``body`` may be bytes or a JSON-able value."""
        headers = dict(headers or {})
        if user is not None:
            headers['Girder-Token'] = self.token_for(user)
        if token is not None:
            headers['Girder-Token'] = token
        if basic is not None:
            headers['Authorization'] = 'Basic ' + base64.b64encode(
                ('%s:%s' % basic).encode()).decode()
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = orjson.dumps(body)
            headers.setdefault('Content-Type', 'application/json')
        body = body or b''
        headers['Content-Length'] = str(len(body))
        query = urllib.parse.urlencode(
            {k: _param(v) for k, v in (params or {}).items() if v is not None})
        from .rest.request import BodyReader
        reader = BodyReader(io.BytesIO(body), len(body))
        status, out_headers, out = self.app.dispatcher.handle(
            method, path.lstrip('/'), query, Headers(headers, remote_addr), reader,
            {'girderToken': cookie} if cookie else {})
        return Response(status, out_headers, out)


def _param(value):
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, default=str).decode()
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def make_app(mongo_client, db, data_dir, **overrides):
    """An app on ``db`` with its filesystem assetstore under ``data_dir``."""
    import os
    if os.environ.get('TILERY_PLUGINS') is not None and 'plugins' not in overrides:
        overrides['plugins'] = tuple(p for p in os.environ['TILERY_PLUGINS'].split(',') if p)
    overrides.setdefault('auth_cache_seconds', 0)
    settings = Settings(data_dir=str(data_dir), mongo_uri='mongodb://unused', **overrides)
    return create_app(settings, mongo_client=mongo_client, db=db)


class BoundServer:
    """The app served over real HTTP on a free port, in a background thread."""

    def __init__(self, app, host='127.0.0.1'):
        from .rest.gateway import make_server
        self.app = app
        self.server = make_server((host, 0), mount(app), numthreads=16, server_name='tilery',
                                  timeout=app.settings.socket_timeout,
                                  head_timeout=app.settings.request_head_timeout)
        self.server.max_request_body_size = 0
        self.server.prepare()
        self.port = self.server.bind_addr[1]
        self.url = 'http://%s:%d' % (host, self.port)
        self.api_url = self.url + '/api/v1'
        self._thread = threading.Thread(target=self.server.serve, daemon=True)

    def start(self):
        self._thread.start()
        self.app.start()
        return self

    def stop(self):
        self.server.stop()
        self.app.stop()
        self._thread.join(10)
