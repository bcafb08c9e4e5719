"""Schemas of the documents the API answers with, for the OpenAPI description.

A route names its answer with ``response='Item'`` (or ``'Item[]'`` for a list); the
description then carries the schema, and the web client's types are generated from it
(web_client/openapi.json, ``npm run gen-types``). Each schema lists the fields clients
rely on; answers may carry more (``additionalProperties`` stays open), and
plugin_tests/test_openapi_contract.py checks real answers against them.
"""

_STR = {'type': 'string'}
_INT = {'type': 'integer'}
_NUM = {'type': 'number'}
_BOOL = {'type': 'boolean'}
_META = {'type': 'object', 'additionalProperties': True}
_NULLABLE_NUM = {'type': 'number', 'nullable': True}


def _doc(required=(), **fields):
    """A stored document: an ``_id``, creation and update times, and its own fields."""
    props = {'_id': _STR, '_modelType': _STR, 'created': _STR, 'updated': _STR}
    props.update(fields)
    return {'type': 'object', 'required': ['_id', *required], 'properties': props}


SCHEMAS = {
    'User': _doc(('login', 'firstName', 'lastName'), login=_STR, email=_STR, firstName=_STR,
                 lastName=_STR, admin=_BOOL),
    'Collection': _doc(('name',), name=_STR, description=_STR, public=_BOOL, size=_NUM,
                       meta=_META, _accessLevel=_INT),
    'Folder': _doc(('name', 'parentId', 'parentCollection'), name=_STR, description=_STR,
                   parentId=_STR,
                   parentCollection={'type': 'string', 'enum': ['folder', 'user', 'collection']},
                   baseParentType={'type': 'string', 'enum': ['user', 'collection']},
                   baseParentId=_STR, public=_BOOL, size=_NUM, meta=_META, _accessLevel=_INT),
    'LargeImageInfo': {'type': 'object', 'properties': {
        'fileId': _STR, 'originalId': _STR, 'expected': _BOOL, 'jobId': _STR,
        'sourceName': _STR}},
    'Item': _doc(('name', 'folderId'), name=_STR, description=_STR, folderId=_STR, size=_NUM,
                 meta=_META, largeImage={'$ref': '#/components/schemas/LargeImageInfo'},
                 # the labels plugin's masks on this item, by labeller id
                 labelMasks={'type': 'object', 'additionalProperties': {
                     'type': 'object', 'required': ['fileId', 'login', 'status'],
                     'properties': {'fileId': _STR, 'login': _STR, 'status': {
                         'type': 'string', 'enum': ['checkpoint', 'done']}}}}),
    'File': _doc(('name', 'size', 'itemId'), name=_STR, size=_NUM, mimeType=_STR,
                 itemId=_STR),
    'Group': _doc(('name',), name=_STR, description=_STR),
    'ApiKey': _doc(('name', 'active'), name=_STR, key=_STR, active=_BOOL,
                   scope={'type': 'array', 'items': _STR, 'nullable': True},
                   tokenDuration=_NULLABLE_NUM, lastUse={'type': 'string', 'nullable': True}),
    'Job': _doc(('status',), title=_STR, type=_STR, status=_INT,
                progress={'type': 'object', 'nullable': True, 'properties': {
                    'current': _NUM, 'total': _NULLABLE_NUM, 'message': _STR}},
                log={'oneOf': [{'type': 'array', 'items': _STR}, _STR]}),
    'FrameInfo': {'type': 'object', 'required': ['Frame'], 'properties': {
        'Frame': _INT, 'Index': _INT}, 'additionalProperties': _NUM},
    'TileMetadata': {
        'type': 'object',
        'required': ['levels', 'sizeX', 'sizeY', 'tileWidth', 'tileHeight'],
        'properties': {
            'levels': _INT, 'sizeX': _INT, 'sizeY': _INT, 'tileWidth': _INT, 'tileHeight': _INT,
            'magnification': _NULLABLE_NUM, 'mm_x': _NULLABLE_NUM, 'mm_y': _NULLABLE_NUM,
            'dtype': _STR, 'bandCount': _INT,
            'frames': {'type': 'array', 'items': {'$ref': '#/components/schemas/FrameInfo'}},
            'IndexRange': {'type': 'object', 'additionalProperties': _INT},
            'IndexStride': {'type': 'object', 'additionalProperties': _INT},
            'channels': {'type': 'array', 'items': _STR}}},
    'AnnotationBody': {'type': 'object', 'required': ['name'], 'properties': {
        'name': _STR, 'description': _STR,
        'display': {'type': 'object', 'properties': {
            'visible': {'oneOf': [{'type': 'string', 'enum': ['new']}, _BOOL]}}},
        'attributes': _META,
        # elements are typed by the client (src/types.ts): their fields vary by type
        'elements': {'type': 'array', 'items': _META}}},
    'ElementQuery': {'type': 'object', 'required': ['count', 'returned'], 'properties': {
        'count': _INT, 'returned': _INT, 'details': _INT, 'offset': _INT, 'limit': _INT,
        'props': {'type': 'array', 'items': {'type': 'array', 'items': {}}}}},
    'Annotation': _doc(('itemId', 'annotation'), itemId=_STR, creatorId=_STR, updatedId=_STR,
                       public=_BOOL, _version=_INT, _active=_BOOL, _accessLevel=_INT,
                       _elementCount=_INT, _detailsCount=_INT,
                       _elementQuery={'$ref': '#/components/schemas/ElementQuery'},
                       annotation={'$ref': '#/components/schemas/AnnotationBody'}),
}


def answer_schema(name):
    """The schema of a route's ``response``: ``'Item'`` or a list, ``'Item[]'``."""
    if name.endswith('[]'):
        return {'type': 'array', 'items': answer_schema(name[:-2])}
    if name not in SCHEMAS:
        raise ValueError('No response schema named %r' % name)
    return {'$ref': '#/components/schemas/' + name}


def client_contract(description):
    """The part of an OpenAPI description the web client's types are generated from.

    The schemas, and for each operation that declares one only its 200 answer: the
    committed copy (web_client/openapi.json) then changes when a document's shape or a
    route's answer does, not with every parameter or error code of any route.
    """
    paths = {}
    for path, ops in description['paths'].items():
        for method, op in ops.items():
            answer = op['responses'].get('200', {})
            if 'content' in answer:
                paths.setdefault(path, {})[method] = {
                    'operationId': op['operationId'], 'responses': {'200': answer}}
    return {'openapi': description['openapi'],
            'info': {'title': description['info']['title'], 'version': 'contract'},
            'paths': paths,
            'components': {'schemas': description['components']['schemas']}}
