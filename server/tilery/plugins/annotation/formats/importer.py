"""Turning uploaded files into annotations, and annotations into files."""
import io
import itertools
import os
import re

import ijson

from ....errors import ValidationError
from .. import streams
from . import geojson, iid, mask

IMPORT_EXTENSIONS = ('.json', '.geojson', '.iid')
SNIFF_BYTES = 65536  # how much of an uploaded file is read to decide whether to import it
_GEOJSON_SNIFF = re.compile(rb'"type"\s*:\s*"(FeatureCollection|Feature)"')
_GEOJSON_TYPES = ('FeatureCollection', 'Feature')


def importable(name, read_head):
    """Whether an uploaded file is imported as annotations, from its name and first bytes.

    ``read_head(size)`` returns the file's first bytes; it is called (for at most
    ``SNIFF_BYTES``) only for a name with an import extension. A .iid file must have
    an .iid header; a .json or .geojson file must look like an annotation at its top
    level (an object with ``elements``, ``{"annotation": {...}}``, a list of those) or
    like GeoJSON (a FeatureCollection or Feature). Anything else is just a file.
    """
    ext = os.path.splitext(name or '')[1].lower()
    if ext not in IMPORT_EXTENSIONS:
        return False
    head = read_head(SNIFF_BYTES)
    if ext == '.iid':
        return iid.looks_like_iid(head)
    return _looks_like_annotation_json(head)


def _looks_like_annotation_json(head):
    """Whether the first bytes of a JSON file hold annotation or GeoJSON top-level keys."""
    events = ijson.parse(io.BytesIO(head.removeprefix(b'\xef\xbb\xbf')), use_float=True)
    try:
        for prefix, event, value in events:
            # top level: '' for an object, 'item' for the first entry of a list
            if event == 'map_key' and prefix in ('', 'item') and value == 'elements':
                return True
            if event == 'start_map' and prefix in ('annotation', 'item.annotation'):
                return True
            if event == 'string' and prefix in ('type', 'item.type'):
                return value in _GEOJSON_TYPES
            if prefix == 'item' and event == 'end_map':
                return False  # the first entry of a list decides
    except ijson.JSONError:
        pass  # the head ends inside the JSON (or it is not JSON): decided by what was seen
    return False


def _geojson_source(fileobj, name):
    start = fileobj.tell()
    head = fileobj.read(SNIFF_BYTES)
    # ijson refuses a byte-order mark, which Windows tools write
    fileobj.seek(start + 3 if head.startswith(b'\xef\xbb\xbf') else start)
    match = _GEOJSON_SNIFF.search(head)
    if not match:
        return None
    if match.group(1) == b'FeatureCollection':
        prefix = 'features.item'
    else:  # one Feature, or a list of them (as large_image also reads)
        prefix = 'item' if head.lstrip(b'\xef\xbb\xbf \t\r\n')[:1] == b'[' else ''

    def features():
        try:
            yield from ijson.items(fileobj, prefix, use_float=True)
        except ijson.JSONError as exc:
            raise streams.json_error(exc)
    stream = features()
    first = next(stream, None)
    # large_image writes the annotation's header into the first feature's properties
    header = geojson.header_of(first)
    header.setdefault('name', os.path.splitext(os.path.basename(name))[0] or 'GeoJSON import')
    found = itertools.chain([first] if first is not None else [], stream)
    return header, geojson.iter_elements(found)


class _Source:
    """A header plus an element iterator, in the shape the service ingests."""

    def __init__(self, header, elements):
        self.header = header
        self.has_elements = True
        self._elements = elements

    def elements(self):
        return self._elements


def sources(stream, name, limit=None, max_depth=None):
    """Annotation sources (header + elements) found in an uploaded file; JSON ones are
    refused when nested deeper than ``max_depth``."""
    ext = os.path.splitext(name or '')[1].lower()
    fileobj = streams.spool(stream, limit, max_depth if ext != '.iid' else None)
    if ext == '.iid':
        header, elements = iid.to_elements(fileobj.read())
        header.setdefault('name', os.path.splitext(os.path.basename(name))[0])
        return [_Source(header, iter(elements))]
    found = _geojson_source(fileobj, name)
    if found is not None:
        return [_Source(*found)]
    # a list is read one entry at a time, as the import goes
    return streams.open_annotations(fileobj, limit)


class _Counted:
    """A source whose elements are counted as they are read (for job progress)."""

    def __init__(self, source, counter):
        self.header = source.header
        self.has_elements = getattr(source, 'has_elements', True)
        self._source = source
        self._counter = counter

    def elements(self):
        counter = self._counter
        for element in self._source.elements():
            yield element
            counter.count += 1
            if counter.count % counter.every == 0:
                counter.callback(counter.count)


class _Counter:
    def __init__(self, callback, every):
        self.callback, self.every, self.count = callback, every, 0


def import_file(service, item, creator, stream, name, folder=None, progress=None,
                import_job=None, every=10000):
    """Create the annotations held in an uploaded .json, .geojson or .iid file.

    ``progress(elements read)`` is called every ``every`` elements (it may raise to stop
    the import); ``import_job`` tags the annotations made (``service.purge_import``).
    """
    created = []
    counter = _Counter(progress, every) if progress else None
    try:
        for source in sources(stream, name, service.settings['max_upload_bytes'],
                              service.settings['max_json_depth']):
            if counter is not None:
                source = _Counted(source, counter)
            created.append(service.create(item, creator, source, folder,
                                          import_job=import_job))
    except BaseException:
        # all or nothing: a file whose third annotation is invalid leaves none behind
        for doc in created:
            service.purge(doc['_id'])
        raise
    return created


def import_mask(service, item, creator, data, classes=None, scale=1.0, name=None,
                folder=None, min_pixels=1, progress=None, import_job=None):
    """Create an annotation of polygons traced from a label mask image (see mask.py).

    ``data`` is the image's bytes, path or file; ``progress`` as in ``mask.to_elements``.
    """
    elements = mask.to_elements(data, classes, scale, min_pixels,
                                service.settings.get('max_mask_pixels'), progress)
    if not elements:
        raise ValidationError('The mask holds no pixels of the classes asked for.', 'file')
    return service.create(item, creator, {'name': name or 'Label mask', 'elements': elements},
                          folder, import_job=import_job)


def export_geojson(service, doc, params=None):
    """A streamed GeoJSON FeatureCollection of the annotation's (selected) elements."""
    q = service.query(doc, dict(params or {}, centroids=False))
    return geojson.iter_feature_collection(q.elements(), doc.get('annotation'))


def export_iid(service, doc, scale=1.0):
    """The bytes of an .iid file of the annotation's area elements."""
    q = service.query(doc, {})
    return iid.write(q.elements(), iid.file_meta(doc.get('annotation') or {}, doc['_id']),
                     scale, service.settings.get('max_mask_pixels'))


def export_mask(service, doc, width, height, scale=1.0, fmt='png', classes=None):
    """(image bytes, class names) of a label mask of the annotation's area elements."""
    q = service.query(doc, {})
    label, names = mask.render(q.elements(), width, height, scale, classes,
                               service.settings.get('max_mask_pixels'))
    return mask.encode(label, fmt), names
