"""Turning uploaded files into annotations, and annotations into files."""
import os
import re

import ijson

from ....errors import ValidationError
from .. import streams
from . import geojson, iid, mask

IMPORT_EXTENSIONS = ('.json', '.geojson', '.iid')
_GEOJSON_SNIFF = re.compile(rb'"type"\s*:\s*"(FeatureCollection|Feature)"')


def importable(name):
    """Whether a file of this name is imported as annotations when uploaded to an item."""
    return os.path.splitext(name or '')[1].lower() in IMPORT_EXTENSIONS


def _geojson_source(fileobj, name):
    start = fileobj.tell()
    head = fileobj.read(65536)
    fileobj.seek(start)
    match = _GEOJSON_SNIFF.search(head)
    if not match:
        return None
    prefix = 'features.item' if match.group(1) == b'FeatureCollection' else ''

    def features():
        try:
            yield from ijson.items(fileobj, prefix, use_float=True)
        except ijson.JSONError as exc:
            raise streams.json_error(exc)
    header = {'name': os.path.splitext(os.path.basename(name))[0] or 'GeoJSON import'}
    return header, geojson.iter_elements(features())


class _Source:
    """A header plus an element iterator, in the shape the service ingests."""

    def __init__(self, header, elements):
        self.header = header
        self.has_elements = True
        self._elements = elements

    def elements(self):
        return self._elements


def sources(stream, name, limit=None):
    """Annotation sources (header + elements) found in an uploaded file."""
    ext = os.path.splitext(name or '')[1].lower()
    fileobj = streams.spool(stream, limit)
    if ext == '.iid':
        header, elements = iid.to_elements(fileobj.read())
        header.setdefault('name', os.path.splitext(os.path.basename(name))[0])
        return [_Source(header, iter(elements))]
    found = _geojson_source(fileobj, name)
    if found is not None:
        return [_Source(*found)]
    return list(streams.open_annotations(fileobj, limit))


def import_file(service, item, creator, stream, name, folder=None):
    """Create the annotations held in an uploaded .json, .geojson or .iid file."""
    created = []
    try:
        for source in sources(stream, name, service.settings['max_upload_bytes']):
            created.append(service.create(item, creator, source, folder))
    except BaseException:
        # all or nothing: a file whose third annotation is invalid leaves none behind
        for doc in created:
            service.purge(doc['_id'])
        raise
    return created


def import_mask(service, item, creator, data, classes=None, scale=1.0, name=None,
                folder=None):
    """Create an annotation of polygons traced from a label mask image."""
    elements = mask.to_elements(data, classes, scale)
    if not elements:
        raise ValidationError('The mask holds no labelled pixels.', 'file')
    return service.create(item, creator, {'name': name or 'Label mask', 'elements': elements},
                          folder)


def export_geojson(service, doc, params=None):
    """A streamed GeoJSON FeatureCollection of the annotation's (selected) elements."""
    q = service.query(doc, dict(params or {}, centroids=False))
    return geojson.iter_feature_collection(q.elements(), doc.get('annotation'))


def export_iid(service, doc, scale=1.0):
    """The bytes of an .iid file of the annotation's area elements."""
    q = service.query(doc, {})
    header = doc.get('annotation') or {}
    meta = {'name': header.get('name'), 'description': header.get('description', ''),
            'attributes': header.get('attributes', {}), 'annotationId': str(doc['_id'])}
    return iid.write(q.elements(), meta, scale)


def export_mask(service, doc, width, height, scale=1.0, fmt='png', classes=None):
    """(image bytes, class names) of a label mask of the annotation's area elements."""
    q = service.query(doc, {})
    label, names = mask.render(q.elements(), width, height, scale, classes,
                               service.settings.get('max_mask_pixels'))
    return mask.encode(label, fmt), names
