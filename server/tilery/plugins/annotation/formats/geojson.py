"""GeoJSON FeatureCollections to and from elements: as large_image and QuPath write them.

Export: one Feature per object (an element, or the parts of a multi-geometry, see
parts.py), its geometry in pixel coordinates (areas as Polygons, lines as LineStrings,
points as Points, several parts as Multi* geometries), and as properties the element's
fields, large_image's ``annotation`` header on the first feature, and QuPath's
``objectType``, ``classification`` and ``name``. Import reads all three dialects:

- large_image: ``properties.type`` names the element type; the fields the element
  schema knows are kept, rectangles and circles are rebuilt from their corners, and
  ``properties.annotation`` gives the annotation's name, description and attributes.
- QuPath (0.4/0.5): ``classification`` becomes the group (and line colour), ``name``
  the label; a MultiPolygon, MultiPoint or MultiLineString is one object, and so is a
  cell with its ``nucleusGeometry`` (the nucleus drawn as a part of it).
- Anything the element schema has no field for (a feature's ``id``, ``objectType``,
  ``measurements``, ``isLocked``, a cell's ``nucleusGeometry``, ...) is kept in the
  element's ``user.geojson`` and written back by the export.
"""
import math
import re

import orjson

from ....errors import ValidationError
from .. import schema
from . import parts, raster

_HEX = re.compile(r'^#([0-9a-fA-F]{3,8})$')
_RGB = re.compile(r'^rgba?\((\d+),\s*(\d+),\s*(\d+)')
_ELEMENT_ID = re.compile(r'^[0-9a-f]{24}$')
HEADER_KEYS = ('name', 'description', 'display', 'attributes')
KNOWN_FIELDS = {kind: set(spec['properties']) for kind, spec in schema.ELEMENT_SCHEMAS.items()}
FROM_GEOMETRY = ('points', 'holes', 'closed')
# a cell's nucleus is drawn with its cell's class and colours
NUCLEUS_FIELDS = ('group', 'lineColor', 'lineWidth', 'fillColor')
MULTI = {'Polygon': 'MultiPolygon', 'Point': 'MultiPoint', 'LineString': 'MultiLineString'}
# the geometry each element type is drawn with (the others have none)
GEOMETRY_OF = {'point': 'Point', 'arrow': 'LineString', 'polyline': ('LineString', 'Polygon'),
               'rectangle': 'Polygon', 'ellipse': 'Polygon', 'circle': 'Polygon',
               'rectanglegrid': 'Polygon'}
TYPE_OF = {'Point': 'point', 'LineString': 'polyline', 'Polygon': 'polyline'}


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


def _rgb_color(value):
    """A schema colour from QuPath's [r, g, b], or None."""
    if isinstance(value, list) and len(value) >= 3 and all(
            isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255
            for c in value[:3]):
        return 'rgb(%d,%d,%d)' % tuple(value[:3])
    return None


# -- export

def _ring(points, close=True):
    ring = [list(p) for p in points]
    if close and ring and ring[0] != ring[-1]:
        ring.append(list(ring[0]))
    return ring


def geometry(element):
    """The GeoJSON geometry of an element, or None when it has no vector shape."""
    kind = element.get('type')
    if kind == 'point':
        return {'type': 'Point', 'coordinates': list(element['center'])}
    if kind == 'arrow' or (kind == 'polyline' and not element.get('closed')):
        return {'type': 'LineString', 'coordinates': _ring(element['points'], close=False)}
    if kind == 'polyline':
        return {'type': 'Polygon', 'coordinates': [_ring(element['points'])] + [
            _ring(hole) for hole in element.get('holes') or ()]}
    shape = raster.outline(element)
    if shape is None:
        return None
    outer, holes = shape
    z = (element.get('center') or (0, 0, 0))[2]
    return {'type': 'Polygon', 'coordinates': [
        _ring([[x, y, z] for x, y in ring]) for ring in [outer] + holes]}


def _classification_name(classification):
    """QuPath's class name: ``name``, or its ``names`` joined as QuPath shows them."""
    if not isinstance(classification, dict):
        return None
    if isinstance(classification.get('name'), str):
        return classification['name']
    names = classification.get('names')
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        return ': '.join(names)
    return None


def _derived(element):
    """The QuPath properties an element's own fields say (what the import reads back)."""
    out = {'objectType': 'annotation'}
    if element.get('group'):
        out['classification'] = {'name': element['group']}
        rgb = color_to_rgb(element.get('lineColor') or element.get('fillColor'))
        if rgb:
            out['classification']['color'] = rgb
    label = (element.get('label') or {}).get('value')
    if label:
        out['name'] = label
    return out


def _stored(element):
    stored = (element.get('user') or {}).get('geojson')
    return stored if isinstance(stored, dict) else {}


def _properties(element, stored):
    """A feature's properties: the element's fields, then what QuPath reads."""
    drawn = element.get('type') in GEOMETRY_OF  # its points are in the geometry
    props = {k: v for k, v in element.items()
             if k != 'user' and not (drawn and k in ('points', 'holes'))}
    user = element.get('user')
    if isinstance(user, dict):
        user = parts.without_link({k: v for k, v in user.items() if k != 'geojson'})
    if user is not None:
        props['user'] = user
    derived = _derived(element)
    kept = stored.get('properties') if isinstance(stored.get('properties'), dict) else {}
    # another tool's "id" (not an element id) replaces the one the element was given
    props.update(kept)
    # what the element's fields say wins over what was imported, so edits show; a
    # stored classification stays when it still names the element's group
    props['objectType'] = kept.get('objectType', derived['objectType'])
    classification = kept.get('classification')
    if _classification_name(classification) != element.get('group'):
        classification = derived.get('classification')
    for key, value in (('classification', classification), ('name', derived.get('name'))):
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return props


def _object_geometry(elements, stored):
    """One geometry for an object's parts: a Multi* (or a collection when they differ)."""
    shapes = [g for g in map(geometry, elements) if g is not None]
    kind = (stored.get('geometry') or {}).get('type') if isinstance(
        stored.get('geometry'), dict) else None
    if not shapes:
        return None
    if len(shapes) == 1 and kind not in MULTI.values():
        return shapes[0]
    types = {g['type'] for g in shapes}
    if len(types) == 1 and next(iter(types)) in MULTI:
        return {'type': MULTI[shapes[0]['type']],
                'coordinates': [g['coordinates'] for g in shapes]}
    return {'type': 'GeometryCollection', 'geometries': shapes}


def _outline_and_nuclei(elements):
    """An object's parts as (outline parts, a cell's nucleus parts)."""
    nuclei = [e for e in elements if parts.role(e) == 'nucleus']
    outline = [e for e in elements if parts.role(e) != 'nucleus']
    if not outline:  # the cell's outline was deleted: its nucleus is what is left
        return nuclei, []
    return outline, nuclei


def feature(elements):
    """A GeoJSON Feature for one object (a list of one element or of its parts)."""
    stored = next((s for s in map(_stored, elements) if s), {})
    elements, nuclei = _outline_and_nuclei(elements)
    out = {'type': 'Feature'}
    extra = stored.get('feature')
    if isinstance(extra, dict):
        out.update((k, v) for k, v in extra.items()
                   if k not in ('type', 'geometry', 'properties'))
    shape = _object_geometry(elements, stored)
    if shape is not None and isinstance(stored.get('geometry'), dict):
        shape.update((k, v) for k, v in stored['geometry'].items()
                     if k not in ('type', 'coordinates', 'geometries'))
    out['geometry'] = shape
    if nuclei:
        out['nucleusGeometry'] = _object_geometry(nuclei, {})
    out['properties'] = _properties(elements[0], stored)
    return out


def iter_feature_collection(elements, annotation=None):
    """Bytes pieces of a FeatureCollection of ``elements`` (dicts, streamed).

    As large_image does, the first feature's properties carry the ``annotation``
    header (name, description, attributes), which the import reads back.
    """
    yield b'{"type":"FeatureCollection","features":['
    first = True
    batch = []
    for obj in parts.objects(elements):
        feat = feature(obj)
        if first and annotation is not None and not batch:
            feat['properties']['annotation'] = annotation
        batch.append(feat)
        if len(batch) >= 1000:
            yield (b'' if first else b',') + orjson.dumps(batch)[1:-1]
            first, batch = False, []
    if batch:
        yield (b'' if first else b',') + orjson.dumps(batch)[1:-1]
    yield b']}'


# -- import

def _coords3(points):
    out = []
    if not isinstance(points, list):
        raise ValidationError('GeoJSON coordinates must be arrays of positions.', 'geometry')
    for p in points:
        if (not isinstance(p, list) or len(p) < 2 or
                not all(isinstance(v, (int, float)) for v in p[:3])):
            raise ValidationError('GeoJSON positions must be [x, y] or [x, y, z] arrays of '
                                  'numbers.', 'geometry')
        out.append([p[0], p[1], p[2] if len(p) > 2 else 0])
    return out


def _open_ring(points):
    points = _coords3(points)
    if len(points) > 1 and points[0] == points[-1]:
        points = points[:-1]
    return points


def _polygon(rings):
    if not isinstance(rings, list) or not rings:
        raise ValidationError('A GeoJSON polygon needs at least one ring.', 'geometry')
    shape = {'closed': True, 'points': _open_ring(rings[0])}
    if len(rings) > 1:
        shape['holes'] = [_open_ring(h) for h in rings[1:]]
    return shape


def _line(coords):
    return 'LineString', {'closed': False, 'points': _coords3(coords)}


# the parts of each simple geometry type, from its coordinates
PARTS_OF = {
    'Point': lambda coords: [('Point', {'center': _coords3([coords])[0]})],
    'MultiPoint': lambda coords: [('Point', {'center': c}) for c in _coords3(coords)],
    'LineString': lambda coords: [_line(coords)],
    'MultiLineString': lambda coords: [_line(line) for line in coords],
    'Polygon': lambda coords: [('Polygon', _polygon(coords))],
    'MultiPolygon': lambda coords: [('Polygon', _polygon(polygon)) for polygon in coords],
}


def _collection_shapes(geom):
    """The parts of a GeometryCollection's geometries (not themselves collections)."""
    inner = geom.get('geometries')
    if not isinstance(inner, list):
        raise ValidationError('A GeometryCollection needs a geometries list.', 'geometry')
    found = []
    for entry in inner:
        if isinstance(entry, dict) and entry.get('type') == 'GeometryCollection':
            raise ValidationError('Nested GeometryCollections are not supported.', 'geometry')
        found.extend(_shapes(entry))
    return found


def _shapes(geom):
    """[(geometry type, {points/holes/closed or center})] of a geometry, one per part."""
    if not isinstance(geom, dict):
        raise ValidationError('A feature needs a geometry object.', 'geometry')
    kind, coords = geom.get('type'), geom.get('coordinates')
    if kind == 'GeometryCollection':
        return _collection_shapes(geom)
    if not isinstance(kind, str) or kind not in PARTS_OF:
        raise ValidationError('Unsupported GeoJSON geometry type %r.' % (kind,), 'geometry')
    if not isinstance(coords, list):
        raise ValidationError('A %s needs coordinates.' % kind, 'geometry')
    return PARTS_OF[kind](coords)


def _box_shape(kind, shape, element):
    """center/width/height/rotation (or radius) from the corners large_image writes."""
    if 'center' in element:
        return  # our own export: the properties hold the shape exactly
    corners = shape.get('points') or []
    if len(corners) < 4:
        raise ValidationError('A %s feature needs a polygon of at least 4 corners.' % kind,
                              'geometry')
    (x0, y0, z), (x1, y1, _), (x2, y2, _) = corners[:3]
    element['center'] = [sum(p[0] for p in corners[:4]) / 4,
                         sum(p[1] for p in corners[:4]) / 4, z]
    if kind == 'circle':
        xs = [p[0] for p in corners[:4]]
        element.setdefault('radius', (max(xs) - min(xs)) / 2)
        return
    element.setdefault('width', math.hypot(x1 - x0, y1 - y0))
    element.setdefault('height', math.hypot(x2 - x1, y2 - y1))
    element.setdefault('rotation', math.atan2(y1 - y0, x1 - x0))


def _element_type(named, geometry_type):
    """The element type of a part: ``properties.type`` when its geometry fits, else
    the geometry's own (None for a feature with neither)."""
    if named in KNOWN_FIELDS:
        if named not in GEOMETRY_OF:
            return named  # heatmap, griddata, image, pixelmap: no geometry needed
        if geometry_type is not None and geometry_type in GEOMETRY_OF[named]:
            return named
    return TYPE_OF.get(geometry_type)


def _foreign(feat, props, known):
    """What a feature holds that no element field does (``known``: the fields taken)."""
    kept = {k: v for k, v in props.items() if k not in known and k not in ('type', 'annotation')}
    stored = {}
    if kept:
        stored['properties'] = kept
    extra = {k: v for k, v in feat.items() if k not in ('type', 'geometry', 'properties')}
    if extra:
        stored['feature'] = extra
    geom = feat.get('geometry')
    if isinstance(geom, dict):
        geometry_extra = {k: v for k, v in geom.items()
                          if k not in ('coordinates', 'geometries')}
        # a Multi* type is remembered, so one part still exports as a Multi*
        if geom.get('type') in MULTI.values() or set(geometry_extra) - {'type'}:
            stored['geometry'] = geometry_extra
    return stored


def _qupath_fields(props):
    """Element fields from QuPath's classification, object colour and name."""
    out = {}
    classification = props.get('classification')
    group = _classification_name(classification)
    if group:
        out['group'] = group
    color = _rgb_color(props.get('color')) or _rgb_color(
        classification.get('color') if isinstance(classification, dict) else None)
    if color:
        out['lineColor'] = color
    if isinstance(props.get('name'), str) and props['name']:
        out['label'] = {'value': props['name']}
    return out


def _feature_parts(feat):
    """(properties, parts, element type of each part) of a feature, checked."""
    if not isinstance(feat, dict):
        raise ValidationError('A GeoJSON feature must be an object.', 'features')
    props = feat.get('properties') or {}
    if not isinstance(props, dict):
        raise ValidationError('A feature needs a properties object.', 'properties')
    geom = feat.get('geometry')
    shapes = _shapes(geom) if geom is not None else [(None, {})]
    kinds = [_element_type(props.get('type'), geometry_type) for geometry_type, _ in shapes]
    if None in kinds:
        raise ValidationError('A feature without a geometry needs properties.type naming '
                              'an element type.', 'geometry')
    return props, shapes, kinds


def _element_fields(props, kinds):
    """(the properties the parts' element schemas know, the ones the geometry gives)."""
    # another tool's numeric or UUID "id" is not an element id, and points come from
    # the geometry
    drawn = any(kind in GEOMETRY_OF for kind in kinds)
    skipped = FROM_GEOMETRY if drawn else ()
    known = {k: v for k, v in props.items()
             if any(k in KNOWN_FIELDS[kind] for kind in kinds) and k not in skipped and
             (k != 'id' or (isinstance(v, str) and _ELEMENT_ID.match(v)))}
    return known, skipped


def _kept_for_export(feat, props, taken, base, has_nuclei):
    """What the export must write back that the elements' fields (``base``, made from
    the ``taken`` properties) and nucleus parts will not say themselves."""
    stored = _foreign(feat, props, taken)
    if has_nuclei:  # drawn as parts of the cell, and written back from them
        del stored['feature']['nucleusGeometry']
        if not stored['feature']:
            del stored['feature']
    # what the element's own fields say again on export need not be kept twice
    derived = _derived(base)
    kept = stored.get('properties', {})
    for key in ('objectType', 'classification', 'name'):
        if key in kept and kept[key] == derived.get(key):
            del kept[key]
    if not kept:
        stored.pop('properties', None)
    return stored


def _part_element(kind, shape, base, first, stored):
    """The element of one part: the fields its type knows, its shape; the first part
    also carries the feature's id and what only the feature holds (``stored``)."""
    element = {k: v for k, v in base.items()
               if k in KNOWN_FIELDS[kind] and (first or k != 'id')}
    element['type'] = kind
    if kind in ('rectangle', 'ellipse', 'rectanglegrid', 'circle'):
        _box_shape(kind, shape, element)
    elif kind in GEOMETRY_OF:
        element.update(shape)
        if kind != 'polyline':
            element.pop('closed', None)
    if first and stored:
        user = element.get('user', {})
        if not isinstance(user, dict):
            raise ValidationError('properties.user must be an object.', 'user')
        element['user'] = dict(user, geojson=stored)
    return element


def feature_elements(feat):
    """The elements of one GeoJSON Feature: one, or the linked parts of a multi-geometry."""
    props, shapes, kinds = _feature_parts(feat)
    known, skipped = _element_fields(props, kinds)
    base = dict(_qupath_fields(props), **known)
    nuclei = _nuclei(feat)
    stored = _kept_for_export(feat, props, set(known) | set(skipped), base, bool(nuclei))
    elements = [_part_element(kind, shape, base, index == 0, stored)
                for index, ((_, shape), kind) in enumerate(zip(shapes, kinds))]
    for _, shape in nuclei:
        nucleus = {k: v for k, v in base.items() if k in NUCLEUS_FIELDS}
        nucleus.update(shape, type='polyline')
        elements.append(nucleus)
    elements = parts.link(elements)
    for nucleus in elements[len(elements) - len(nuclei):]:
        nucleus['user']['part']['role'] = 'nucleus'
    return elements


def _nuclei(feat):
    """The polygons of a QuPath cell's ``nucleusGeometry``; [] without one, or when it
    holds more than a geometry can be rebuilt from (then it is kept as it came)."""
    geom = feat.get('nucleusGeometry')
    if not isinstance(geom, dict) or not set(geom) <= {'type', 'coordinates'}:
        return []
    try:
        shapes = _shapes(geom)
    except ValidationError:
        return []
    return shapes if all(kind == 'Polygon' for kind, _ in shapes) else []


def header_of(feat):
    """The annotation header large_image puts in its first feature's properties."""
    props = feat.get('properties') if isinstance(feat, dict) else None
    annotation = props.get('annotation') if isinstance(props, dict) else None
    if not isinstance(annotation, dict):
        return {}
    return {k: annotation[k] for k in HEADER_KEYS if k in annotation}


def iter_elements(features):
    """Elements from an iterable of GeoJSON Features."""
    for feat in features:
        yield from feature_elements(feat)
