"""The annotation document schema (JSON Schema Draft 6), as served at GET /annotation/schema.

It follows girder_large_image_annotation's schema so that files made for the Digital
Slide Archive validate unchanged; colours also allow ``#rgba`` and ``#rrggbbaa``.
"""
import copy

import jsonschema

ID_PATTERN = '^[0-9a-f]{24}$'
COLOR_PATTERN = (r'^(#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|'
                 r'rgb\(\d+,\s*\d+,\s*\d+\)|'
                 r'rgba\(\d+,\s*\d+,\s*\d+,\s*(\d?\.|)\d+\))$')

COORD = {'type': 'array', 'items': {'type': 'number'}, 'minItems': 3, 'maxItems': 3,
         'description': 'An [x, y, z] coordinate in base-level pixels, origin top-left.'}
COORD_VALUE = {'type': 'array', 'items': {'type': 'number'}, 'minItems': 4, 'maxItems': 4,
               'description': 'An [x, y, z, value] coordinate.'}
COLOR = {'type': 'string', 'pattern': COLOR_PATTERN}
COLOR_RANGE = {'type': 'array', 'items': COLOR}
RANGE_VALUES = {'type': 'array', 'items': {'type': 'number'}}
LABEL = {
    'type': 'object',
    'properties': {
        'value': {'type': 'string'},
        'visibility': {'type': 'string', 'enum': ['hidden', 'always', 'onhover']},
        'fontSize': {'type': 'number', 'exclusiveMinimum': 0},
        'color': COLOR,
    },
    'required': ['value'],
    'additionalProperties': False,
}
BASE_PROPERTIES = {
    'id': {'type': 'string', 'pattern': ID_PATTERN},
    'type': {'type': 'string'},
    'user': {'type': 'object', 'additionalProperties': True},
    'label': LABEL,
    'group': {'type': 'string'},
}
SHAPE_PROPERTIES = dict(BASE_PROPERTIES, lineColor=COLOR,
                        lineWidth={'type': 'number', 'minimum': 0})
RECTANGLE_PROPERTIES = dict(
    SHAPE_PROPERTIES, center=COORD,
    width={'type': 'number', 'minimum': 0}, height={'type': 'number', 'minimum': 0},
    rotation={'type': 'number', 'description': 'radians counterclockwise around normal'},
    normal=COORD, fillColor=COLOR)
OVERLAY_PROPERTIES = dict(
    BASE_PROPERTIES,
    girderId={'type': 'string', 'pattern': ID_PATTERN,
              'description': 'The id of the item holding the overlaid image.'},
    opacity={'type': 'number', 'minimum': 0, 'maximum': 1},
    hasAlpha={'type': 'boolean'},
    transform={
        'type': 'object',
        'properties': {
            'xoffset': {'type': 'number'},
            'yoffset': {'type': 'number'},
            'matrix': {'type': 'array', 'minItems': 2, 'maxItems': 2,
                       'items': {'type': 'array', 'minItems': 2, 'maxItems': 2,
                                 'items': {'type': 'number'}}},
        },
    })


def _element(type_name, properties, required, **extra):
    props = dict(properties, type={'type': 'string', 'enum': [type_name]})
    return dict({'type': 'object', 'properties': props,
                 'required': sorted({'type'} | set(required)),
                 'additionalProperties': False}, **extra)


ELEMENT_SCHEMAS = {
    'point': _element('point', dict(SHAPE_PROPERTIES, center=COORD, fillColor=COLOR),
                      ['center']),
    'arrow': _element('arrow', dict(SHAPE_PROPERTIES, fillColor=COLOR, points={
        'type': 'array', 'items': COORD, 'minItems': 2, 'maxItems': 2}), ['points'],
        description='The first point is the head of the arrow.'),
    'circle': _element('circle', dict(SHAPE_PROPERTIES, center=COORD, fillColor=COLOR,
                                      radius={'type': 'number', 'minimum': 0}),
                       ['center', 'radius']),
    'polyline': _element('polyline', dict(
        SHAPE_PROPERTIES, fillColor=COLOR, closed={'type': 'boolean'},
        points={'type': 'array', 'items': COORD, 'minItems': 2},
        holes={'type': 'array', 'items': {'type': 'array', 'items': COORD, 'minItems': 3}}),
        ['points']),
    'rectangle': _element('rectangle', RECTANGLE_PROPERTIES, ['center', 'width', 'height']),
    'ellipse': _element('ellipse', RECTANGLE_PROPERTIES, ['center', 'width', 'height']),
    'rectanglegrid': _element('rectanglegrid', dict(
        RECTANGLE_PROPERTIES,
        widthSubdivisions={'type': 'integer', 'minimum': 1},
        heightSubdivisions={'type': 'integer', 'minimum': 1}),
        ['center', 'width', 'height', 'widthSubdivisions', 'heightSubdivisions']),
    'heatmap': _element('heatmap', dict(
        BASE_PROPERTIES, points={'type': 'array', 'items': COORD_VALUE},
        radius={'type': 'number', 'exclusiveMinimum': 0}, colorRange=COLOR_RANGE,
        rangeValues=RANGE_VALUES, normalizeRange={'type': 'boolean'},
        scaleWithZoom={'type': 'boolean'}), ['points']),
    'griddata': _element('griddata', dict(
        BASE_PROPERTIES, origin=COORD, dx={'type': 'number'}, dy={'type': 'number'},
        gridWidth={'type': 'integer', 'minimum': 1},
        values={'type': 'array', 'items': {'type': 'number'}},
        interpretation={'type': 'string', 'enum': ['heatmap', 'contour', 'choropleth']},
        radius={'type': 'number', 'exclusiveMinimum': 0}, colorRange=COLOR_RANGE,
        rangeValues=RANGE_VALUES, normalizeRange={'type': 'boolean'},
        stepped={'type': 'boolean'}, minColor=COLOR, maxColor=COLOR),
        ['values', 'gridWidth']),
    'image': _element('image', OVERLAY_PROPERTIES, ['girderId']),
    'pixelmap': _element('pixelmap', dict(
        OVERLAY_PROPERTIES,
        values={'type': 'array', 'items': {'type': 'integer'}},
        categories={'type': 'array', 'items': {
            'type': 'object',
            'properties': {'fillColor': COLOR, 'strokeColor': COLOR,
                           'label': {'type': 'string'}, 'description': {'type': 'string'}},
            'required': ['fillColor'], 'additionalProperties': False}},
        boundaries={'type': 'boolean'}), ['girderId', 'values', 'categories', 'boundaries']),
}

ELEMENT_SCHEMA = {'anyOf': [ELEMENT_SCHEMAS[key] for key in sorted(ELEMENT_SCHEMAS)]}

ANNOTATION_SCHEMA = {
    '$schema': 'http://json-schema.org/draft-06/schema#',
    'type': 'object',
    'properties': {
        'name': {'type': 'string', 'minLength': 1},
        'description': {'type': 'string'},
        'display': {
            'type': 'object',
            'properties': {'visible': {'enum': ['new', True, False]}},
        },
        'attributes': {'type': 'object', 'additionalProperties': True,
                       'description': 'Free-form facts about the whole annotation.'},
        'elements': {'type': 'array', 'items': ELEMENT_SCHEMA,
                     'description': 'Element ids, when given, are unique in the annotation.'},
    },
    'additionalProperties': False,
}

HEADER_SCHEMA = copy.deepcopy(ANNOTATION_SCHEMA)
del HEADER_SCHEMA['properties']['elements']

header_validator = jsonschema.Draft6Validator(HEADER_SCHEMA)
element_validators = {key: jsonschema.Draft6Validator(value)
                      for key, value in ELEMENT_SCHEMAS.items()}
any_element_validator = jsonschema.Draft6Validator(ELEMENT_SCHEMA)


def schema():
    """A copy of the annotation schema, safe for the caller to change."""
    return copy.deepcopy(ANNOTATION_SCHEMA)
