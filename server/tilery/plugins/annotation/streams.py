"""Reading annotation JSON without holding it whole: capped spooling, one ijson pass.

A large_image annotation file is ``{name, description, ..., elements: [...]}``, a model
record ``{annotation: {...}, ...}``, or a list of either. For a single object the
(spooled, seekable) stream is read twice: first everything but the elements, so the
header is validated before anything is written (scan.py finds the elements array and
orjson parses the rest), then the elements one at a time with ijson's C parser. A 1 GB
file never sits in memory as objects. (Measured on 1M elements: the element pass takes
~3 s; finding the header with an ijson pass over every event took ~6 s, the scan ~1 s;
ijson's coroutine interface, fed once for all keys, took over 40 s.)
"""
import itertools
import operator
import tempfile

import ijson
import orjson

from ...errors import RestError, ValidationError
from ...rest import DepthGuard
from . import scan

READ_SIZE = 1 << 20
ELEMENT_PREFIXES = ('elements.', 'annotation.elements.')
MAX_QUICK_HEADER = 64 << 20  # bytes outside the elements parsed at once with orjson


def too_large(limit):
    return RestError('The upload is larger than the %d byte limit '
                     '(annotation setting max_upload_bytes).' % limit, 413)


def spool(stream, limit=None, max_depth=None):
    """A seekable file holding the stream's bytes; a 413 once more than ``limit`` arrive,
    a 400 once the JSON nests deeper than ``max_depth`` (checked before any parsing)."""
    guard = DepthGuard(max_depth) if max_depth else None
    size = _seekable_size(stream)
    if size is None:
        return _spooled(stream, limit, guard)
    if limit and size > limit:
        raise too_large(limit)
    if guard is not None:
        start = stream.tell()
        while guard.feed(stream.read(READ_SIZE)):
            pass
        stream.seek(start)
    return stream


def _seekable_size(stream):
    """The bytes left in a seekable file, or None for a stream to spool."""
    if not (hasattr(stream, 'seek') and hasattr(stream, 'fileno')):
        return None
    try:
        start = stream.tell()
        size = stream.seek(0, 2) - start
        stream.seek(start)
        return size
    except (OSError, ValueError):
        return None


def _spooled(stream, limit, guard):
    """The stream copied to a temporary file, checked as it goes."""
    out = tempfile.TemporaryFile(prefix='tilery-annotation-')
    total = 0
    try:
        while True:
            data = stream.read(READ_SIZE)
            if not data:
                break
            total += len(data)
            if limit and total > limit:
                raise too_large(limit)
            out.write(guard.feed(data) if guard is not None else data)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out


def _first_byte(fileobj):
    """The first significant byte of a seekable file (which is left at its start)."""
    start = fileobj.tell()
    while True:
        data = fileobj.read(4096)
        if not data:
            fileobj.seek(start)
            return None
        stripped = data.lstrip(b' \t\r\n').removeprefix(b'\xef\xbb\xbf').lstrip(b' \t\r\n')
        if stripped:
            fileobj.seek(start)
            return stripped[:1]


def json_error(exc):
    """A ValidationError for a parse failure."""
    return ValidationError('Invalid JSON: %s' % (' '.join(str(exc).split())[:300] or
                                                 type(exc).__name__), 'body')


class StreamedAnnotation:
    """One annotation object in a seekable file: ``top`` (all but elements), ``elements()``."""

    def __init__(self, fileobj):
        self.fileobj = fileobj
        self.start = fileobj.tell()
        self.top = self._quick_top()
        if self.top is None:
            self.top = self._parsed_top()
        inner = self.top.get('annotation')
        self.wrapped = isinstance(inner, dict) and 'elements' not in self.top
        body = inner if self.wrapped else self.top
        self.has_elements = 'elements' in body
        if self.has_elements and not isinstance(body['elements'], list):
            raise ValidationError('Annotation field elements must be a list.', 'elements')
        self.header = {k: v for k, v in body.items() if k != 'elements'}

    def _parsed_top(self):
        """Everything but the elements, from one ijson pass over every event."""
        self.fileobj.seek(self.start)
        events, selectors = itertools.tee(ijson.parse(self.fileobj, use_float=True))
        keep = map(operator.not_, map(operator.methodcaller('startswith', ELEMENT_PREFIXES),
                                      map(operator.itemgetter(0), selectors)))
        try:
            return dict(ijson.kvitems(itertools.compress(events, keep), ''))
        except ijson.JSONError as exc:
            raise json_error(exc)

    def _quick_top(self):
        """The same, by parsing the file with its elements array cut out; None if unsure."""
        bounds = scan.find_elements(self.fileobj)
        if bounds is None:
            return None
        first, last = bounds
        size = self.fileobj.seek(0, 2)
        if (first - self.start) + (size - last) > MAX_QUICK_HEADER:
            return None  # a large remainder (a second elements array?): the slow way
        self.fileobj.seek(self.start)
        head = self.fileobj.read(first - self.start)
        self.fileobj.seek(last + 1)
        tail = self.fileobj.read()
        self.fileobj.seek(self.start)
        try:
            top = orjson.loads(head + b'[]' + tail)
        except orjson.JSONDecodeError:
            return None  # the slow way says what is wrong
        if not isinstance(top, dict):
            return None
        inner = top.get('annotation')
        wrapped = isinstance(inner, dict) and 'elements' not in top
        # the array cut out must be the one the element pass reads
        if (top if not wrapped else inner).get('elements') != []:
            return None
        return top

    def elements(self):
        """Yield the elements one by one."""
        if not self.has_elements:
            return
        self.fileobj.seek(self.start)
        prefix = ('annotation.' if self.wrapped else '') + 'elements.item'
        try:
            yield from ijson.items(self.fileobj, prefix, use_float=True)
        except ijson.JSONError as exc:
            raise json_error(exc)


class LoadedAnnotation:
    """The same interface for an annotation already parsed into a dict."""

    def __init__(self, doc):
        if not isinstance(doc, dict):
            raise ValidationError('An annotation must be a JSON object.', 'annotation')
        self.top = doc
        inner = doc.get('annotation')
        self.wrapped = isinstance(inner, dict) and 'elements' not in doc
        body = inner if self.wrapped else doc
        self.has_elements = 'elements' in body
        self._elements = body.get('elements')
        if self.has_elements and not isinstance(self._elements, list):
            raise ValidationError('Annotation field elements must be a list.', 'elements')
        self.header = {k: v for k, v in body.items() if k != 'elements'}

    def elements(self):
        return iter(self._elements or ())


def open_annotations(stream, limit=None, max_depth=None):
    """Yield StreamedAnnotation/LoadedAnnotation objects from a byte stream.

    A top-level object streams its elements; each entry of a top-level list is parsed
    whole, one entry at a time.
    """
    fileobj = spool(stream, limit, max_depth)
    first = _first_byte(fileobj)
    if first is None:
        raise ValidationError('The annotation body is empty.', 'body')
    if first == b'{':
        yield StreamedAnnotation(fileobj)
    elif first == b'[':
        try:
            for entry in ijson.items(fileobj, 'item', use_float=True):
                yield LoadedAnnotation(entry)
        except ijson.JSONError as exc:
            raise json_error(exc)
    else:
        raise ValidationError('Invalid JSON: an annotation must be an object or a list.',
                              'body')
