"""Schemas of the documents the API answers with, for the OpenAPI description.

A route names its answer with ``response=``: a schema's name (``'Item'``), a list of
them (``'Item[]'``), one that may be null (``'User?'``), one of several (``'Upload|File'``),
or a small schema written in place (a dict). Plugins add their named schemas with
``app.router.add_schemas`` before their routes. The description then carries them, and
the web client's types are generated from it (web_client/openapi.json,
``npm run gen-types``). Each schema lists the fields clients rely on; answers may carry
more (``additionalProperties`` stays open unless a schema closes it), and
plugin_tests/test_openapi_contract.py checks that every JSON route declares one and
that real answers match.
"""

_STR = {'type': 'string'}
_INT = {'type': 'integer'}
_NUM = {'type': 'number'}
_BOOL = {'type': 'boolean'}
_META = {'type': 'object', 'additionalProperties': True}
_NULLABLE_NUM = {'type': 'number', 'nullable': True}
_NULLABLE_STR = {'type': 'string', 'nullable': True}
_STRS = {'type': 'array', 'items': _STR}
_ANY = {}  # any JSON value


def _obj(required=(), **fields):
    """An object with these fields (more may come)."""
    out = {'type': 'object', 'properties': fields}
    if required:
        out['required'] = list(required)
    return out


def _ref(name):
    return {'$ref': '#/components/schemas/' + name}


def _doc(required=(), **fields):
    """A stored document: an ``_id``, creation and update times, and its own fields."""
    props = {'_id': _STR, '_modelType': _STR, 'created': _STR, 'updated': _STR}
    props.update(fields)
    return {'type': 'object', 'required': ['_id', *required], 'properties': props}


def _map(values):
    """An object whose keys are free (ids, names) and whose values are ``values``."""
    return {'type': 'object', 'additionalProperties': values}


SCHEMAS = {
    'User': _doc(('login', 'firstName', 'lastName'), login=_STR, email=_STR, firstName=_STR,
                 lastName=_STR, admin=_BOOL, public=_BOOL, status=_STR, _accessLevel=_INT),
    'Collection': _doc(('name',), name=_STR, description=_STR, public=_BOOL, size=_NUM,
                       meta=_META, _accessLevel=_INT),
    'Folder': _doc(('name', 'parentId', 'parentCollection'), name=_STR, description=_STR,
                   parentId=_STR,
                   parentCollection={'type': 'string', 'enum': ['folder', 'user', 'collection']},
                   baseParentType={'type': 'string', 'enum': ['user', 'collection']},
                   baseParentId=_STR, public=_BOOL, size=_NUM, meta=_META, _accessLevel=_INT,
                   # set by the labels plugin (a labelling project) and the tagging plugin
                   labelClasses={'type': 'array', 'items': _ref('LabelClass')},
                   tagset=_ref('Tagset')),
    'LabelClass': _obj(('value', 'name', 'color'), value=_INT, name=_STR, color=_STR),
    'Tagset': _obj(('tags', 'multiple'), multiple=_BOOL, tags={'type': 'array', 'items': _obj(
        ('code', 'alias'), code=_STR, alias=_STR, key=_NULLABLE_STR)}),
    # GET /resource/shared: a folder with who shared it with the caller, when, and how
    'SharedFolder': {'allOf': [_ref('Folder'), _obj(('_shared',), _shared=_obj(
        ('at', 'by', 'via'), at=_STR,
        by=dict(_obj(('_id', 'login', 'name'), _id=_STR, login=_STR, name=_STR), nullable=True),
        via={'oneOf': [
            _obj(('type',), type={'type': 'string', 'enum': ['user']}),
            _obj(('type', 'id', 'name'), type={'type': 'string', 'enum': ['group']}, id=_STR,
                 name=_NULLABLE_STR)]}))]},
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
    # an upload under way: POST /file answers it until the last byte, then the File
    'Upload': _doc(('name', 'size', 'received'), name=_STR, size=_NUM, received=_NUM,
                   parentType=_STR, parentId=_NULLABLE_STR, mimeType=_STR, userId=_STR,
                   assetstoreId=_STR, reference=_NULLABLE_STR),
    # one document of any of the types /resource answers with (anyOf: their schemas overlap)
    'AnyResource': {'anyOf': [_ref('Collection'), _ref('User'), _ref('Folder'), _ref('Item'),
                              _ref('File')]},
    'RootPathEntry': {'oneOf': [
        _obj(('type', 'object'), type={'type': 'string', 'enum': ['user']},
             object=_ref('User')),
        _obj(('type', 'object'), type={'type': 'string', 'enum': ['collection']},
             object=_ref('Collection')),
        _obj(('type', 'object'), type={'type': 'string', 'enum': ['folder']},
             object=_ref('Folder'))]},
    'SearchResult': _obj(
        collection={'type': 'array', 'items': _ref('Collection')},
        folder={'type': 'array', 'items': _ref('Folder')},
        item={'type': 'array', 'items': _ref('Item')},
        user={'type': 'array', 'items': _ref('User')},
        group={'type': 'array', 'items': _ref('Group')}),
    'Group': _doc(('name',), name=_STR, description=_STR, public=_BOOL, _accessLevel=_INT),
    # GET .../access: the ACL with the names of its users and groups
    'AccessEntry': _obj(('id', 'level'), id=_STR, level=_INT, flags=_STRS, name=_STR,
                        login=_STR),
    'AccessList': _obj(('users', 'groups'),
                       users={'type': 'array', 'items': _ref('AccessEntry')},
                       groups={'type': 'array', 'items': _ref('AccessEntry')}),
    'AccessFlag': _obj(('name',), name=_STR, description=_STR, admin=_BOOL),
    'Message': _obj(('message',), message=_STR),
    'Token': _obj(('token', 'expires', 'scope'), token=_STR, expires=_STR, scope=_STRS),
    # a sign-in: the user and the token to send as Girder-Token
    'Session': _obj(('user', 'authToken'), user=_ref('User'), authToken=_ref('Token'),
                    message=_STR),
    # POST /user: the new account, with a token when the visitor registered themselves
    'NewUser': {'allOf': [_ref('User'), _obj(authToken=_ref('Token'))]},
    'TokenScopes': _obj(('custom', 'adminCustom'), adminCustom={'type': 'array', 'items': {}},
                        custom={'type': 'array', 'items': _obj(
                            ('id', 'name'), id=_STR, name=_STR, description=_STR)}),
    'ApiKey': _doc(('name', 'active'), name=_STR, key=_STR, active=_BOOL,
                   scope={'type': 'array', 'items': _STR, 'nullable': True},
                   tokenDuration=_NULLABLE_NUM, lastUse={'type': 'string', 'nullable': True}),
    'Job': _doc(('status',), title=_STR, type=_STR, status=_INT,
                progress={'type': 'object', 'nullable': True, 'properties': {
                    'current': _NUM, 'total': _NULLABLE_NUM, 'message': _STR}},
                log={'oneOf': [{'type': 'array', 'items': _STR}, _STR]}, meta=_META,
                # administrators only: where the job runs (Celery task and queue, worker)
                celeryTaskId=_NULLABLE_STR, celeryQueue=_NULLABLE_STR,
                worker=dict(_obj(host=_STR, pid=_INT), nullable=True)),
    'Version': _obj(('release', 'apiVersion', 'serverVersion'), release=_STR,
                    apiVersion=_STR, serverVersion=_STR, server=_STR, python=_STR),
    'Health': _obj(('status',), status={'type': 'string', 'enum': ['ok']}, database=_STR),
    # times for anyone; administrators get memory, threads and the database's answers too
    'SystemCheck': _obj(('bootTime', 'currentTime', 'processStartTime'), bootTime=_NUM,
                        currentTime=_NUM, processStartTime=_NUM, cpuCount=_INT,
                        threads=_INT, serverThreadPoolSize=_INT, databaseAnswers=_BOOL,
                        virtualMemory=_META, processMemory=_META, processCpuTimes=_META,
                        mongoBuildInfo=_META, mongoDbStats=_META),
    'PublicSettings': _obj(('core.registration_policy', 'noUsersYet'),
                           **{'core.registration_policy': {
                               'type': 'string', 'enum': ['open', 'closed', 'approve']},
                              'core.brand_name': _NULLABLE_STR, 'noUsersYet': _BOOL}),
    'AuditEvent': _obj(('_id', 'type', 'when', 'details'), _id=_STR, type=_STR, when=_STR,
                       userId=_NULLABLE_STR, login=_NULLABLE_STR, details=_META),
    'Plugins': _obj(('all', 'enabled'), enabled=_STRS, all=_map(_obj(
        ('name',), name=_STR, description=_STR))),
    'Assetstore': _doc(('name', 'type', 'current'), name=_STR, type=_INT, current=_BOOL,
                       root=_STR, db=_STR, capacity=_obj(('free', 'total'),
                                                         free=_NULLABLE_NUM,
                                                         total=_NULLABLE_NUM)),
    'Details': _obj(nUsers=_INT, nCollections=_INT, nFolders=_INT, nItems=_INT),
    'UploadOffset': _obj(('offset',), offset=_NUM),
    'Cleared': _obj(('cleared',), cleared=_INT),
    'Updated': _obj(('updated',), updated=_INT),
    'AccessFlags': _map(_ref('AccessFlag')),
    # a site setting's value is any JSON; with list=, {key: value} (GET) or the values (PUT)
    'SettingValue': _ANY,
    'OpenAPI': _obj(('openapi', 'info', 'paths'), openapi=_STR, info=_META, paths=_META,
                    components=_META),
    'ImportCounts': _obj(('folders', 'items', 'files', 'skipped'), folders=_INT, items=_INT,
                         files=_INT, skipped=_INT),
}


_PRIMITIVES = ('string', 'integer', 'number', 'boolean')


def answer_schema(answer, known=SCHEMAS):
    """The schema of a route's ``response``, checking that the names in it are ``known``.

    ``'Item'``, ``'Item[]'`` (a list), ``'User?'`` (or null), ``'Upload|File'`` (one of
    them), a JSON type (``'integer'``, ``'string[]'``), or a dict: a schema written in
    place, taken as it is.
    """
    if isinstance(answer, dict):
        return answer
    if '|' in answer:
        return {'oneOf': [answer_schema(part, known) for part in answer.split('|')]}
    if answer.endswith('?'):
        # OpenAPI 3.0 ignores the siblings of a $ref, hence allOf
        return {'allOf': [answer_schema(answer[:-1], known)], 'nullable': True}
    if answer.endswith('[]'):
        return {'type': 'array', 'items': answer_schema(answer[:-2], known)}
    if answer in _PRIMITIVES:
        return {'type': answer}
    if answer not in known:
        raise ValueError('No response schema named %r' % answer)
    return _ref(answer)


def from_json_schema(schema, names):
    """A JSON Schema (draft 6) as OpenAPI 3.0 says it, parts named by ``names``.

    ``names`` maps sub-schema objects (by identity: the very dicts the JSON Schema is
    built from) to the component names that stand for them, so that one definition,
    such as an annotation element's, serves validation and the description alike.
    """
    def convert(value, top=False):
        if isinstance(value, list):
            return [convert(v) for v in value]
        if not isinstance(value, dict):
            return value
        if not top and id(value) in names:
            return _ref(names[id(value)])
        out = {}
        for key, item in value.items():
            if key == '$schema':
                continue
            if key in ('exclusiveMinimum', 'exclusiveMaximum') and not isinstance(item, bool):
                # draft 6 gives the bound itself; OpenAPI 3.0 a flag on minimum/maximum
                out[key.replace('exclusiveM', 'm')] = item
                out[key] = True
            elif key == 'properties':
                out[key] = {name: convert(v) for name, v in item.items()}
            else:
                out[key] = convert(item)
        return out
    return convert(schema, top=True)


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
