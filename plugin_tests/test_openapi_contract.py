"""Response schemas in GET /describe: the committed description the web client's types
are generated from is the server's, and real answers match their declared schemas."""
import json
import os
import pathlib

import jsonschema
import pytest

import test_large_image_samples as sample_files
from test_core_support import home_folder, make_item, ok, upload
from tilery.rest.schemas import SCHEMAS, answer_schema, client_contract

samples = sample_files.samples  # the session fixture of sample images

OPENAPI_JSON = pathlib.Path(__file__).resolve().parents[1] / 'web_client' / 'openapi.json'


def test_committed_description_is_the_servers(server):
    """web_client/openapi.json (the source of src/api-types.d.ts) must match the server.

    After changing routes or schemas: ``TILERY_WRITE_OPENAPI=1 pytest`` this test, then
    ``npm run gen-types`` in web_client.
    """
    described = client_contract(ok(server.request('describe')))
    text = json.dumps(described, indent=1, sort_keys=True) + '\n'
    if os.environ.get('TILERY_WRITE_OPENAPI'):
        OPENAPI_JSON.write_text(text)
    assert OPENAPI_JSON.exists(), 'no committed web_client/openapi.json'
    committed = json.loads(OPENAPI_JSON.read_text())
    assert committed == described, (
        'web_client/openapi.json is out of date: run TILERY_WRITE_OPENAPI=1 pytest %s, '
        'then npm run gen-types' % pathlib.Path(__file__).name)


def test_main_documents_have_response_schemas(server):
    doc = ok(server.request('describe'))
    assert set(SCHEMAS) <= set(doc['components']['schemas'])

    def answer(path, method='get'):
        return doc['paths'][path][method]['responses']['200']['content'][
            'application/json']['schema']
    assert answer('/item/{id}') == {'$ref': '#/components/schemas/Item'}
    assert answer('/folder') == {'type': 'array',
                                 'items': {'$ref': '#/components/schemas/Folder'}}
    for path, name in [('/user/{id}', 'User'), ('/collection/{id}', 'Collection'),
                       ('/file/{id}', 'File'), ('/group/{id}', 'Group'),
                       ('/annotation/{id}', 'Annotation'), ('/job/{id}', 'Job'),
                       ('/item/{itemId}/tiles', 'TileMetadata')]:
        assert answer(path) == {'$ref': '#/components/schemas/' + name}
    assert answer('/api_key', 'post') == {'$ref': '#/components/schemas/ApiKey'}
    with pytest.raises(ValueError, match='Nope'):
        answer_schema('Nope[]')


def _json_schema(schema):
    """OpenAPI 3.0's ``nullable`` as JSON Schema says it, for jsonschema."""
    if isinstance(schema, list):
        return [_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _json_schema(v) for k, v in schema.items() if k != 'nullable'}
    if schema.get('nullable'):
        out['type'] = [schema['type'], 'null']
    return out


def _check(body, schema, components):
    jsonschema.validate(body, _json_schema(dict(schema, components=components)))


def _validate(doc, resp):
    """Check an answer against the schema its route declares in the description."""
    body = ok(resp)
    path, method = resp.route
    schema = doc['paths'][path][method]['responses']['200']['content'][
        'application/json']['schema']
    _check(body, schema, doc['components'])
    return body


def test_answers_match_their_declared_schemas(server, admin, samples):
    doc = ok(server.request('describe'))

    def call(path, openapi_path, method='GET', **kw):
        resp = server.request(path, method, user=admin, **kw)
        resp.route = (openapi_path, method.lower())
        return _validate(doc, resp)

    folder = home_folder(server, admin, 'Public')
    item = make_item(server, admin, folder, 'slide')
    upload(server, admin, item, samples.pyramid.read_bytes(), name='pyramid.tiff')
    call('user/%s' % admin['_id'], '/user/{id}')
    call('user', '/user')
    coll = call('collection', '/collection', 'POST', params={'name': 'Study'})
    call('collection/%s' % coll['_id'], '/collection/{id}')
    call('folder', '/folder', params={'parentType': 'user', 'parentId': str(admin['_id'])})
    call('folder/%s' % folder['_id'], '/folder/{id}')
    item = call('item/%s' % item['_id'], '/item/{id}')
    assert item['largeImage']['fileId']
    files = call('item/%s/files' % item['_id'], '/item/{id}/files')
    call('file/%s' % files[0]['_id'], '/file/{id}')
    call('item/%s/tiles' % item['_id'], '/item/{itemId}/tiles')
    call('group', '/group', 'POST', params={'name': 'Lab'})
    call('api_key', '/api_key', 'POST', params={'name': 'script'})
    call('api_key', '/api_key')
    ann = ok(server.request('annotation', 'POST', user=admin, params={'itemId': item['_id']},
                            body=json.dumps({'name': 'A', 'elements': [
                                {'type': 'point', 'center': [1, 2, 0]}]}).encode()))
    call('annotation/%s' % ann['_id'], '/annotation/{id}')


def test_a_wrong_answer_fails_its_schema():
    """The check above can fail: an item without its folder id is refused."""
    components = {'schemas': SCHEMAS}
    with pytest.raises(jsonschema.ValidationError, match='folderId'):
        _check({'_id': 'x', 'name': 'a'}, answer_schema('Item'), components)
    with pytest.raises(jsonschema.ValidationError):
        _check({'levels': 1, 'sizeX': 1, 'sizeY': 1, 'tileWidth': 1, 'tileHeight': 1,
                'mm_x': 'wide'}, answer_schema('TileMetadata'), components)
    _check({'levels': 1, 'sizeX': 1, 'sizeY': 1, 'tileWidth': 1, 'tileHeight': 1,
            'mm_x': None}, answer_schema('TileMetadata'), components)
