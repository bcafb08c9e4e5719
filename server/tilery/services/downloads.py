"""File downloads with byte ranges, and zip archives of folders and resource sets."""
import re
import urllib.parse
import zipfile

from ..errors import RestError
from ..streams import Raw

RANGE_RE = re.compile(r'^bytes=(\d*)-(\d*)$')
# a zip stream goes out in writes of about this size (file blocks are 1 MiB): large
# enough for few sends, small enough to stay in the CPU caches and hold little memory
ZIP_WRITE_SIZE = 1 << 20
#: Types a browser runs script in when it renders them: never inline on Tilery's origin.
ACTIVE_TYPES = frozenset((
    'text/html', 'application/xhtml+xml', 'image/svg+xml', 'text/xml', 'application/xml',
    'text/xsl', 'application/xslt+xml', 'text/javascript', 'application/javascript',
    'application/x-javascript', 'application/ecmascript', 'text/ecmascript',
    'application/vnd.wap.xhtml+xml', 'text/vtt', 'application/rdf+xml', 'multipart/x-mixed-replace'))
ACTIVE_EXTENSIONS = ('.html', '.htm', '.xhtml', '.xht', '.svg', '.svgz', '.xml', '.xsl',
                     '.xslt', '.js', '.mjs', '.shtml')


def is_active(file):
    """True when a browser could run script from ``file`` (by its type or its name)."""
    mime = (file.get('mimeType') or '').split(';')[0].strip().lower()
    name = (file.get('name') or '').strip().lower()
    return mime in ACTIVE_TYPES or mime.endswith('+xml') or 'script' in mime or \
        name.endswith(ACTIVE_EXTENSIONS)


def on_download_origin(download_origin, host):
    """True when a request's Host header names the separate download origin (a setting)."""
    if not download_origin or not host:
        return False
    wanted = urllib.parse.urlsplit(download_origin).netloc.lower()
    return bool(wanted) and host.strip().lower() == wanted


def content_disposition(name, mode='attachment'):
    """A Content-Disposition header value that survives any file name."""
    # printable ASCII only: a CR or LF in a stored name would end the header and let
    # its owner add headers (Set-Cookie...) to answers other people download
    safe = ''.join(c for c in name.encode('ascii', 'replace').decode('ascii')
                   if ' ' <= c <= '~' and c not in '"\\')
    return '%s; filename="%s"; filename*=UTF-8\'\'%s' % (
        mode, safe, urllib.parse.quote(name, safe=''))


def _single_range(range_header, size):
    """True when a Range header asks for one range of a non-empty file (several ranges,
    or nothing to range over, get the whole file, as before)."""
    return bool(range_header) and ',' not in range_header and size > 0


def _parse_range(range_header, size):
    """(start, end) of a single ``bytes=`` range of a ``size``-byte file, None when the
    range starts past the end (416); a malformed header is a 400."""
    match = RANGE_RE.match(range_header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        raise RestError('Invalid Range header: %s' % range_header)
    if match.group(1):
        start = int(match.group(1))
        end = min(int(match.group(2)) + 1, size) if match.group(2) else size
    else:  # a suffix range: the last N bytes
        start, end = max(size - int(match.group(2)), 0), size
    if start >= size and size > 0:
        return None
    return start, end


def file_download(files, file, offset=0, end_byte=None, range_header=None,
                  disposition='attachment', head=False, inline_active=False):
    """A Raw answer streaming ``file`` (206 with Content-Range for a Range request).

    An active file (HTML, SVG, script...) is always an attachment unless
    ``inline_active``, which callers set only on the separate download origin.
    """
    if disposition != 'attachment' and not inline_active and is_active(file):
        disposition = 'attachment'
    size = file['size']
    status = 200
    start, end = offset or 0, size if end_byte is None else min(end_byte, size)
    headers = {'Accept-Ranges': 'bytes'}
    if _single_range(range_header, size):
        span = _parse_range(range_header, size)
        if span is None:
            return Raw(b'', 'text/plain', 416, {'Content-Range': 'bytes */%d' % size})
        start, end = span
        status = 206
        headers['Content-Range'] = 'bytes %d-%d/%d' % (start, max(end - 1, start), size)
    if start < 0 or start > size or end < start:
        raise RestError('Invalid byte range %s-%s for a file of %d bytes.' % (start, end, size))
    headers['Content-Length'] = str(end - start)
    if disposition:
        headers['Content-Disposition'] = content_disposition(file['name'], disposition)
    body = b'' if head or end == start else files.open_range(file, start, end)
    return Raw(body, file.get('mimeType') or 'application/octet-stream', status, headers)


class _Sink:
    """A write-only file object that hands written bytes to a generator."""

    def __init__(self):
        self.parts = []
        self.position = 0
        self.buffered = 0

    def write(self, data):
        self.parts.append(bytes(data))
        self.position += len(data)
        self.buffered += len(data)
        return len(data)

    def tell(self):
        return self.position

    def flush(self):
        pass

    def take(self):
        out = self.parts[0] if len(self.parts) == 1 else b''.join(self.parts)
        self.parts = []
        self.buffered = 0
        return out


def zip_stream(entries):
    """Stream a zip (ZIP64 where needed) of (archive path, size, chunk iterator) entries."""
    sink = _Sink()
    used = set()
    with zipfile.ZipFile(sink, 'w', zipfile.ZIP_STORED, allowZip64=True) as archive:
        for path, size, chunks in entries:
            path = _unique(path, used)
            info = zipfile.ZipInfo(path)
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = size
            with archive.open(info, 'w', force_zip64=size > 0x7FFFFFFF) as member:
                for data in chunks():
                    member.write(data)
                    if sink.buffered >= ZIP_WRITE_SIZE:
                        yield sink.take()
            yield sink.take()
    yield sink.take()


def _unique(path, used):
    """``path``, or ``name (n).ext`` when an earlier entry already took it."""
    candidate, n = path, 0
    stem, dot, ext = path.rpartition('.') if '.' in path.rsplit('/', 1)[-1] else (path, '', '')
    while candidate in used:
        n += 1
        candidate = '%s (%d)%s%s' % (stem, n, dot, ext)
    used.add(candidate)
    return candidate
