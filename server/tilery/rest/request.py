"""What a handler sees of the HTTP request, and what it may return besides JSON."""
import ipaddress
from typing import Any

import orjson

from ..errors import RestError
from ..streams import ChunkReader, Raw  # noqa: F401 (REST code imports them from here too)
from . import jsonbounds


class BodyReader:
    """Reads exactly Content-Length bytes of a request body, and can drain the rest."""

    def __init__(self, rfile, length):
        self._rfile = rfile
        self._readinto = getattr(rfile, 'readinto', None)
        self.remaining = length
        self.broken = False  # the client stopped sending or went away mid-body

    def read(self, size):
        if self.remaining <= 0:
            return b''
        data = self._guarded(self._rfile.read, min(size, self.remaining))
        self.remaining -= len(data)
        if not data:
            self.broken, self.remaining = True, 0
        return data

    def _guarded(self, read, arg):
        try:
            return read(arg)
        except (OSError, ValueError):  # cheroot's socket timeout (setting socket_timeout),
            self.broken, self.remaining = True, 0  # a reset, or a malformed chunked body
            raise

    def readinto(self, buffer):
        """Fill up to ``len(buffer)`` bytes; 0 at the end (no copy when the server can)."""
        view = memoryview(buffer).cast('B')
        if self.remaining <= 0:
            return 0
        view = view[:min(len(view), self.remaining)]
        if self._readinto is not None:
            count = self._guarded(self._readinto, view)
        else:
            data = self._guarded(self._rfile.read, len(view))
            count = len(data)
            view[:count] = data
        self.remaining -= count
        if not count:
            self.broken, self.remaining = True, 0
        return count

    def drain(self, limit=16 << 20):
        """Discard what is left; False when the connection must close (more than
        ``limit`` left, or the body never came whole)."""
        if self.remaining > limit:
            return False
        try:
            while self.remaining > 0 and self.read(1 << 20):
                pass
        except (OSError, ValueError):
            pass
        return not self.broken


class BodyChunks:
    """The request body as an iterable of byte strings, and as a ``readinto`` source.

    Large uploads use ``readinto`` (see assetstores/filesystem.py): the bytes go from
    the socket into a reused buffer and from there to the file, with no copies between.
    """

    def __init__(self, reader, chunk_size):
        self._reader = reader
        self._chunk_size = chunk_size

    @property
    def remaining(self):
        return self._reader.remaining

    def readinto(self, buffer):
        """Like a file's readinto; a body that ends before its Content-Length is a 400."""
        if self._reader.remaining <= 0:
            return 0
        missing = self._reader.remaining
        count = _read_body(self._reader.readinto, buffer, missing)
        if not count:
            raise RestError('The request body ended early (%d bytes missing).' % missing)
        return count

    def __iter__(self):
        while self._reader.remaining > 0:
            missing = self._reader.remaining
            data = _read_body(self._reader.read, self._chunk_size, missing)
            if not data:
                raise RestError('The request body ended early (%d bytes missing).' % missing)
            yield data


def _read_body(read, arg, missing):
    """``read(arg)`` of the request body; a client that went silent is a 408, one that
    broke the connection or the chunked framing a 400."""
    try:
        return read(arg)
    except TimeoutError:  # the client stopped sending (setting socket_timeout)
        raise RestError('The request body stopped arriving (%d bytes missing).' % missing,
                        408)
    except (OSError, ValueError) as exc:
        raise RestError('The request body could not be read (%s).' % exc)


class Request:
    """The caller, the parameters and the body of one request, plus headers to send back."""

    def __init__(self, app, method, path, params, headers, rfile, user=None, token=None):
        self.app = app
        self.method = method
        self.path = path
        self.params = params
        self.headers = headers
        self.user = user
        self.token = token
        self._rfile = rfile
        self.headers_out = {}
        self._body_read = False

    @property
    def content_length(self):
        return self._rfile.remaining if not self._body_read else 0

    @property
    def client_address(self):
        """The caller's address: the peer's, or X-Forwarded-For's when the peer is a
        trusted proxy (the ``trusted_proxies`` setting)."""
        return client_address(getattr(self.headers, 'remote_addr', None),
                              self.headers.get('X-Forwarded-For'),
                              self.app.settings.trusted_proxies)

    @property
    def secure(self):
        """True when the request came over https (directly or through a proxy)."""
        return getattr(self.headers, 'scheme', 'http') == 'https' or \
            (self.headers.get('X-Forwarded-Proto') or '').lower().strip() == 'https'

    def set_total_count(self, count):
        """Set Girder's paging header."""
        self.headers_out['Girder-Total-Count'] = str(count)

    def body_chunks(self, chunk_size=1 << 20, limit=None):
        """The raw request body in pieces (never all in memory; see BodyChunks); a body
        declared larger than ``limit`` bytes is refused (413) before a byte is read."""
        if self._body_read:
            raise RestError('The request body was already read.')
        if limit is not None and self.content_length > limit:
            raise RestError('The request body is too large (%d bytes; the limit is %d).' % (
                self.content_length, limit), 413)
        self._body_read = True
        return BodyChunks(self._rfile, chunk_size)

    def body_file(self, limit=None):
        """The request body as a read()-able file, streamed (for parsers such as ijson)."""
        return ChunkReader(self.body_chunks(limit=limit))

    def read_body(self, limit=None):
        """The whole body as bytes (refused beyond ``limit`` bytes)."""
        return b''.join(self.body_chunks(limit=limit))

    def json_body(self, expect='object', limit=None, max_depth=None):
        """The body parsed as JSON; ``expect`` is 'object' or 'list'. Its size and nesting
        are checked as it arrives, before orjson builds anything."""
        chunks = self.body_chunks(limit=limit)
        if max_depth is not None:
            chunks = jsonbounds.DepthGuard(max_depth).check_chunks(chunks)
        raw = b''.join(chunks)
        if not raw.strip():
            raise RestError('A JSON %s request body is required.' % expect)
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise RestError('Invalid JSON in request body: %s' % exc)
        wanted = dict if expect == 'object' else list
        if not isinstance(value, wanted):
            raise RestError('The request body must be a JSON %s.' % expect)
        return value

    def peek_param(self, name, default=None):
        return self.params.get(name, default)

    def __repr__(self):
        return '<Request %s %s>' % (self.method, self.path)


def _trusted(address, proxies):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for proxy in proxies:
        try:
            if ip in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(peer, forwarded_for, trusted_proxies):
    """The client's address. X-Forwarded-For is read right to left, through trusted
    proxies only: anything left of the first untrusted hop could be forged."""
    if not peer or not forwarded_for or not _trusted(peer, trusted_proxies):
        return peer
    hops = [h.strip() for h in forwarded_for.split(',') if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def dumps(value: Any) -> bytes:
    """Serialise an answer: ObjectIds as strings, naive datetimes as UTC."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_NAIVE_UTC |
                        orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def _default(value):
    from bson import ObjectId
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode('utf8', 'replace')
    raise TypeError('Cannot serialise %r' % type(value))
