"""Chunk encoding: many elements of one annotation in one immutable, compact document.

A chunk holds up to a few thousand spatially close elements as parallel binary arrays
(12-byte ids, float64 bounding boxes, int32 details, int64 order, style indexes) plus
the elements' own compact JSON texts, concatenated and zlib-compressed, with an offsets
array. Queries filter the arrays with numpy and answer by joining JSON byte slices, so
no element is parsed or re-serialised on the way out.
"""
import math
import os
import struct
import time
import zlib

import numpy as np
from bson import Binary, ObjectId

BOX_FIELDS = ('lowx', 'lowy', 'lowz', 'highx', 'highy', 'highz')
STYLE_KEYS = ('type', 'fillColor', 'lineColor', 'lineWidth', 'closed')
# the defaults the HistomicsUI client assumes when drawing centroids
STYLE_DEFAULTS = {'fillColor': 'rgba(0,0,0,0)', 'lineColor': 'rgb(0,0,0)', 'lineWidth': 2}
# zlib level 1: element JSON shrinks about 4x at ~100 MB/s; higher levels cost more
# time than the disk they save
ZLIB_LEVEL = 1
# a chunk's JSON above this is split into part documents, so no document nears 16 MB
MAX_INLINE_JSON = 4 << 20


def element_box(element, overlay_size=None):
    """(lowx, lowy, lowz, highx, highy, highz, details) of a validated element."""
    points = element.get('points')
    if points is not None:
        return _points_box(points)
    box = _BOXES.get(element['type'])
    if box is not None:
        return box(element)
    return _overlay_box(element, overlay_size)  # image and pixelmap


def _points_box(points):
    if not points:
        return (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    zs = [p[2] for p in points]
    return (min(xs), min(ys), min(zs), max(xs), max(ys), max(zs), len(points))


def _rectangle_box(element):
    cx, cy, cz = element['center']
    w, h = element['width'] * 0.5, element['height'] * 0.5
    rotation = element.get('rotation')
    if rotation:
        s, c = abs(math.sin(rotation)), abs(math.cos(rotation))
        w, h = c * w + s * h, s * w + c * h
    return (cx - w, cy - h, cz, cx + w, cy + h, cz, 4)


def _circle_box(element):
    cx, cy, cz = element['center']
    r = element['radius']
    return (cx - r, cy - r, cz, cx + r, cy + r, cz, 4)


def _point_box(element):
    cx, cy, cz = element['center']
    return (cx - 0.5, cy - 0.5, cz, cx + 0.5, cy + 0.5, cz, 1)


def _grid_box(element):
    x0, y0, z = element.get('origin') or (0, 0, 0)
    width = element['gridWidth']
    rows = math.ceil(len(element['values']) / width)
    inset = 0 if element.get('interpretation') == 'choropleth' else 1
    x1 = x0 + element.get('dx', 1) * (width - inset)
    y1 = y0 + element.get('dy', 1) * (rows - inset)
    return (min(x0, x1), min(y0, y1), z, max(x0, x1), max(y0, y1), z,
            len(element['values']))


def _overlay_box(element, overlay_size):
    """The overlaid item's corners through the element's transform."""
    size = overlay_size(element['girderId']) if overlay_size else None
    if not size:
        return (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1)
    transform = element.get('transform') or {}
    (a, b), (c, d) = transform.get('matrix') or ((1, 0), (0, 1))
    xs, ys = [], []
    for px, py in ((0, 0), (0, size[1]), (size[0], size[1]), (size[0], 0)):
        xs.append(px * a + py * c + transform.get('xoffset', 0))
        ys.append(px * b + py * d + transform.get('yoffset', 0))
    return (min(xs), min(ys), 0.0, max(xs), max(ys), 0.0, 1)


# element type -> its box, for the types without points that are not overlays
_BOXES = {'rectangle': _rectangle_box, 'ellipse': _rectangle_box,
          'rectanglegrid': _rectangle_box, 'circle': _circle_box, 'point': _point_box,
          'griddata': _grid_box}


def style_key(element):
    """The centroid style of an element: [type, fillColor, lineColor, lineWidth, closed]."""
    return tuple(value for value in (element.get(key, STYLE_DEFAULTS.get(key))
                                     for key in STYLE_KEYS) if value is not None)


class IdMaker:
    """ObjectId-shaped element ids: 4-byte time, 5 random bytes, 3-byte counter."""

    def __init__(self):
        self._renew()

    def _renew(self):
        self._prefix = (struct.pack('>I', int(time.time())) + os.urandom(5)).hex()
        self._count = 0

    def next(self):
        """A fresh 24-hex id."""
        if self._count >= 0xFFFFFF:
            self._renew()
        self._count += 1
        return '%s%06x' % (self._prefix, self._count)


def hilbert_order(x, y):
    """Indexes that sort points along a Hilbert curve over their bounding square."""
    if len(x) < 2:
        return np.arange(len(x))
    bits = 16
    side = (1 << bits) - 1
    lo_x, lo_y = x.min(), y.min()
    span = max(x.max() - lo_x, y.max() - lo_y) or 1.0
    xi = ((x - lo_x) * (side / span)).astype(np.int64)
    yi = ((y - lo_y) * (side / span)).astype(np.int64)
    d = np.zeros(len(x), dtype=np.int64)
    s = 1 << (bits - 1)
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        # rotate the quadrant so the curve stays continuous
        flip = ~ry
        swap_x = np.where(flip & rx, side - xi, xi)
        swap_y = np.where(flip & rx, side - yi, yi)
        xi = np.where(flip, swap_y, swap_x)
        yi = np.where(flip, swap_x, swap_y)
        s >>= 1
    return np.argsort(d, kind='stable')


def encode(annotation_id, batch, ids, boxes, details, order, styles, texts):
    """A chunk document (and its JSON part documents) from parallel per-element data.

    ``ids`` is an S12 array (or 12 bytes an element), ``boxes`` an (n, 6) float64 array,
    ``styles`` a list of style tuples and ``texts`` the elements' compact JSON bytes (or
    memoryviews of them).
    """
    table = {}
    style_index = np.fromiter((table.setdefault(s, len(table)) for s in styles),
                              dtype=np.int32, count=len(styles))
    offsets = np.zeros(len(texts) + 1, dtype=np.uint64)
    np.cumsum([len(t) for t in texts], out=offsets[1:])
    blob = zlib.compress(b''.join(texts), ZLIB_LEVEL)
    doc = {
        '_id': ObjectId(), 'annotationId': annotation_id, 'batch': batch, 'n': len(texts),
        'ids': Binary(np.asarray(ids, dtype='S12').tobytes()),
        'box': Binary(np.ascontiguousarray(boxes, dtype='<f8').tobytes()),
        'details': Binary(np.asarray(details, dtype='<i4').tobytes()),
        'order': Binary(np.asarray(order, dtype='<i8').tobytes()),
        'style': Binary(style_index.astype('<i4').tobytes()),
        'styles': [list(s) for s in table],
        'offsets': Binary(offsets.astype('<u8').tobytes()),
    }
    parts = []
    if len(blob) > MAX_INLINE_JSON:
        for start in range(0, len(blob), MAX_INLINE_JSON):
            parts.append({'_id': ObjectId(), 'chunkId': doc['_id'],
                          'data': Binary(blob[start:start + MAX_INLINE_JSON])})
        doc['parts'] = [part['_id'] for part in parts]
    else:
        doc['json'] = Binary(blob)
    return doc, parts


ARRAY_FIELDS = {'_id': 1, 'n': 1, 'batch': 1, 'ids': 1, 'box': 1, 'details': 1, 'order': 1,
                'style': 1, 'styles': 1}


class Chunk:
    """The decoded arrays of a chunk document (its JSON is fetched separately)."""

    __slots__ = ('id', 'n', 'batch', 'ids', 'box', 'details', 'order', 'style', 'styles',
                 'texts')

    def __init__(self, doc):
        self.texts = None
        self.id = doc['_id']
        self.n = doc['n']
        self.batch = doc.get('batch', 0)
        self.ids = np.frombuffer(doc['ids'], dtype='S12') if 'ids' in doc else None
        self.box = (np.frombuffer(doc['box'], dtype='<f8').reshape(-1, 6)
                    if 'box' in doc else None)
        self.details = np.frombuffer(doc['details'], dtype='<i4') if 'details' in doc else None
        self.order = np.frombuffer(doc['order'], dtype='<i8') if 'order' in doc else None
        self.style = np.frombuffer(doc['style'], dtype='<i4') if 'style' in doc else None
        self.styles = [tuple(s) for s in doc.get('styles', ())]


class ChunkTexts:
    """The JSON texts of one chunk: slice element ``i`` without parsing anything."""

    __slots__ = ('blob', 'offsets')

    def __init__(self, doc, parts=None):
        data = doc['json'] if 'json' in doc else b''.join(parts)
        self.blob = zlib.decompress(data)
        self.offsets = np.frombuffer(doc['offsets'], dtype='<u8').tolist()

    def text(self, index):
        """The compact JSON bytes of element ``index``."""
        return self.blob[self.offsets[index]:self.offsets[index + 1]]

    def texts(self, indexes):
        """The JSON bytes of several elements, in the given order."""
        blob, offsets = self.blob, self.offsets
        return [blob[offsets[i]:offsets[i + 1]] for i in indexes]


def hex_id(value):
    """The 24-hex id of an S12 array item (numpy drops trailing NUL bytes from those)."""
    return bytes(value).ljust(12, b'\0').hex()


def sizes(box):
    """Bounding-box diagonals of an (n, 6) box array."""
    return np.hypot(box[:, 3] - box[:, 0], box[:, 4] - box[:, 1])
