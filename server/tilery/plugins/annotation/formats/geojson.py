"""GeoJSON FeatureCollections, as QuPath writes and reads them, to and from elements.

Export: one Feature per element, its geometry in pixel coordinates (areas as Polygons,
lines as LineStrings, points as Points) and its other fields as properties, plus the
``objectType`` and ``classification`` QuPath looks for. Import: QuPath's features
(Polygon, MultiPolygon, Point, MultiPoint, LineString, MultiLineString), and features we
exported, whose properties restore the element exactly.
"""
import re

import orjson

from ....errors import ValidationError
from . import raster

QUPATH_KEYS = ('objectType', 'classification', 'isLocked', 'measurements', 'name', 'color')
_HEX = re.compile(r'^#([0-9a-fA-F]{3,8})$')
_RGB = re.compile(r'^rgba?\((\d+),\s*(\d+),\s*(\d+)')


def color_to_rgb(color):
    """[r, g, b] from a schema colour string, or None."""
    if not isinstance(color, str):
        return None
    match = _HEX.match(color)
    if match:
        digits = match.group(1)
        if len(digits) in (3, 4):
            return [int(c * 2, 16) for c in digits[:3]]
        return [int(digits[i:i + 2], 16) for i in (0, 2, 4)]
    match = _RGB.match(color)
    return [int(v) for v in match.groups()] if match else None


def _ring(points, close=True):
    ring = [[p[0], p[1]] for p in points]
    if close and ring and ring[0] != ring[-1]:
        ring.append(list(ring[0]))
    return ring


def geometry(element):
    """The GeoJSON geometry of an element, or None when it has no vector shape."""
    kind = element.get('type')
    if kind == 'point':
        return {'type': 'Point', 'coordinates': list(element['center'][:2])}
    if kind in ('arrow',) or (kind == 'polyline' and not element.get('closed')):
        return {'type': 'LineString', 'coordinates': _ring(element['points'], close=False)}
    shape = raster.outline(element)
    if shape is None:
        return None
    outer, holes = shape
    return {'type': 'Polygon', 'coordinates': [_ring(outer)] + [_ring(h) for h in holes]}


def feature(element):
    """A GeoJSON Feature for an element."""
    props = {k: v for k, v in element.items() if k not in ('points', 'holes')}
    props['objectType'] = 'annotation'
    name = element.get('group') or (element.get('label') or {}).get('value')
    if name:
        props['classification'] = {'name': name}
        rgb = color_to_rgb(element.get('lineColor') or element.get('fillColor'))
        if rgb:
            props['classification']['color'] = rgb
    return {'type': 'Feature', 'geometry': geometry(element), 'properties': props}


def iter_feature_collection(elements, annotation=None):
    """Bytes pieces of a FeatureCollection of ``elements`` (dicts, streamed)."""
    head = {'type': 'FeatureCollection'}
    if annotation is not None:
        head['annotation'] = annotation
    text = orjson.dumps(dict(head, features=[]))
    yield text[:-2]
    first = True
    batch = []
    for element in elements:
        batch.append(feature(element))
        if len(batch) >= 1000:
            yield (b'' if first else b',') + orjson.dumps(batch)[1:-1]
            first, batch = False, []
    if batch:
        yield (b'' if first else b',') + orjson.dumps(batch)[1:-1]
    yield b']}'


def _coords3(points):
    out = []
    for p in points:
        if not isinstance(p, (list, tuple)) or len(p) < 2:
            raise ValidationError('GeoJSON positions must be [x, y] arrays.', 'geometry')
        out.append([p[0], p[1], p[2] if len(p) > 2 else 0])
    return out


def _open_ring(points):
    points = _coords3(points)
    if len(points) > 1 and points[0] == points[-1]:
        points = points[:-1]
    return points


def _base(props):
    """Element fields from QuPath-style properties (classification, name, colour)."""
    base = {}
    classification = props.get('classification') or {}
    if isinstance(classification, dict) and isinstance(classification.get('name'), str):
        base['group'] = classification['name']
        color = classification.get('color')
        if isinstance(color, list) and len(color) >= 3 and all(
                isinstance(c, int) for c in color[:3]):
            base['lineColor'] = 'rgb(%d,%d,%d)' % tuple(color[:3])
    if isinstance(props.get('name'), str) and props['name']:
        base['label'] = {'value': props['name']}
    user = {k: props[k] for k in ('objectType', 'measurements', 'isLocked') if k in props}
    if isinstance(props.get('id'), str) and not re.match(r'^[0-9a-f]{24}$', props['id']):
        user['qupathId'] = props['id']
    if user:
        base['user'] = user
    return base


def feature_elements(feat):
    """Elements made from one GeoJSON Feature (a MultiPolygon gives several)."""
    if not isinstance(feat, dict):
        raise ValidationError('A GeoJSON feature must be an object.', 'features')
    geom = feat.get('geometry') or {}
    props = feat.get('properties') or {}
    if not isinstance(geom, dict) or not isinstance(props, dict):
        raise ValidationError('A feature needs a geometry object and properties.', 'features')
    kind, coords = geom.get('type'), geom.get('coordinates')
    if isinstance(props.get('type'), str) and props.get('type') in (
            'point', 'rectangle', 'ellipse', 'circle', 'rectanglegrid', 'polyline', 'arrow'):
        # a feature we exported: its properties hold the element itself
        element = {k: v for k, v in props.items() if k not in QUPATH_KEYS}
        if props['type'] in ('polyline', 'arrow'):
            if kind == 'Polygon':
                element['points'] = _open_ring(coords[0])
                if len(coords) > 1:
                    element['holes'] = [_open_ring(h) for h in coords[1:]]
            elif kind == 'LineString':
                element['points'] = _coords3(coords)
        return [element]
    base = _base(props)
    if kind == 'Polygon':
        polygons = [coords]
    elif kind == 'MultiPolygon':
        polygons = coords
    elif kind in ('Point', 'MultiPoint'):
        points = [coords] if kind == 'Point' else coords
        return [dict(base, type='point', center=_coords3([p])[0]) for p in points]
    elif kind in ('LineString', 'MultiLineString'):
        lines = [coords] if kind == 'LineString' else coords
        return [dict(base, type='polyline', closed=False, points=_coords3(line))
                for line in lines]
    else:
        raise ValidationError('Unsupported GeoJSON geometry type %r.' % kind, 'geometry')
    elements = []
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise ValidationError('A GeoJSON polygon needs at least one ring.', 'geometry')
        element = dict(base, type='polyline', closed=True, points=_open_ring(polygon[0]))
        if len(polygon) > 1:
            element['holes'] = [_open_ring(h) for h in polygon[1:]]
        elements.append(element)
    return elements


def iter_elements(features):
    """Elements from an iterable of GeoJSON Features."""
    for feat in features:
        yield from feature_elements(feat)
