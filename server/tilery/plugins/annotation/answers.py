"""Schemas of the annotation plugin's JSON answers, for the OpenAPI description.

Elements and their labels are described from the plugin's own JSON schema (schema.py),
the one that validates what clients send: each element type becomes a named schema and
``AnnotationElement`` the union of them, so generated client types follow the server's
definition instead of a copy of it.
"""
from ...rest import from_json_schema
from . import schema

_STR, _INT, _BOOL = {'type': 'string'}, {'type': 'integer'}, {'type': 'boolean'}


def _ref(name):
    return {'$ref': '#/components/schemas/' + name}


def _element_name(kind):
    return kind.capitalize() + 'Element'  # PointElement, PolylineElement, ...


# which parts of schema.ANNOTATION_SCHEMA become named components (by identity)
_NAMES = {id(schema.LABEL): 'ElementLabel', id(schema.ELEMENT_SCHEMA): 'AnnotationElement',
          id(schema.COORD): 'Coord'}
_NAMES.update({id(value): _element_name(kind) for kind, value in schema.ELEMENT_SCHEMAS.items()})


def _body():
    body = from_json_schema(schema.ANNOTATION_SCHEMA, _NAMES)
    body['required'] = ['name']  # stored annotations always have one
    return body


def _annotation(**extra):
    props = {'_id': _STR, '_modelType': _STR, 'created': _STR, 'updated': _STR,
             'itemId': _STR, 'creatorId': _STR, 'updatedId': _STR, 'public': _BOOL,
             '_version': _INT, '_active': _BOOL, '_accessLevel': _INT,
             '_elementCount': _INT, '_detailsCount': _INT,
             # the element query that chose the elements of this answer
             '_elementQuery': _ref('ElementQuery'), 'annotation': _ref('AnnotationBody')}
    props.update(extra)
    return {'type': 'object', 'required': ['_id', 'itemId', 'annotation'], 'properties': props}


SCHEMAS = {
    'ElementLabel': from_json_schema(schema.LABEL, {}),
    'Coord': from_json_schema(schema.COORD, {}),
    'AnnotationElement': {'oneOf': [_ref(_element_name(kind))
                                    for kind in sorted(schema.ELEMENT_SCHEMAS)]},
    **{_element_name(kind): from_json_schema(value, _NAMES)
       for kind, value in schema.ELEMENT_SCHEMAS.items()},
    'AnnotationBody': _body(),
    'ElementQuery': {'type': 'object', 'required': ['count', 'returned'], 'properties': {
        'count': _INT, 'returned': _INT, 'details': _INT, 'offset': _INT, 'limit': _INT,
        'props': {'type': 'array', 'items': {'type': 'array', 'items': {}}}}},
    'Annotation': _annotation(),
    # one saved version (GET /annotation/:id/history): _id is the annotation's
    'AnnotationVersion': _annotation(_versionId=_STR),
    'AnnotationAccess': {'type': 'object', 'required': ['access', 'public'], 'properties': {
        'access': {'allOf': [_ref('AccessList')], 'nullable': True}, 'public': _BOOL}},
    # {item id: number of annotations}, and referenced: {item id: true} for the items an
    # image or pixelmap element overlays
    'AnnotationCounts': {'type': 'object', 'additionalProperties': {'oneOf': [
        _INT, {'type': 'object', 'additionalProperties': _BOOL}]}},
    'OrphansRemoved': {'type': 'object', 'required': ['chunks', 'parts'], 'properties': {
        'chunks': _INT, 'parts': _INT}},
    'AnnotationsDeleted': {'type': 'object', 'required': ['deleted'],
                           'properties': {'deleted': _INT}},
    # GET /annotation/schema: what POST /annotation accepts
    'AnnotationJsonSchema': {'type': 'object', 'additionalProperties': True,
                             'description': 'A JSON Schema (draft 6).'},
}
