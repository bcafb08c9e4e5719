"""Response schemas in GET /describe: every route that answers JSON declares its answer,
the committed description the web client's types are generated from is the server's,
and real answers match their declared schemas."""
import io
import json
import os
import pathlib

import jsonschema
import numpy as np
import pytest
from PIL import Image

import test_large_image_samples as sample_files
from answer_check import check, check_answer
from test_core_support import home_folder, make_folder, make_item, ok, upload
from tilery.plugins.annotation import schema as annotation_schema
from tilery.rest import Resource, Router, route
from tilery.rest.schemas import SCHEMAS, answer_schema, client_contract

samples = sample_files.samples  # the session fixture of sample images

OPENAPI_JSON = pathlib.Path(__file__).resolve().parents[1] / 'web_client' / 'openapi.json'

#: The only routes without a response schema: they answer bytes or streams of a format
#: of their own (or nothing), never a JSON document. Every other route must declare its
#: answer (``response=`` in its route declaration, see tilery/rest/schemas.py).
NOT_JSON = {
    # downloads: the file's own bytes, or a zip of several
    ('GET', 'collection/:id/download'): 'a zip',
    ('GET', 'folder/:id/download'): 'a zip',
    ('GET', 'item/:id/download'): 'the file, or a zip of the files',
    ('GET', 'file/:id/download'): "the file's bytes (HTTP ranges)",
    ('HEAD', 'file/:id/download'): 'the headers of a download, no body',
    ('GET', 'file/:id/download/:name'): "the file's bytes",
    ('GET', 'resource/download'): 'a zip',
    ('POST', 'resource/download'): 'a zip',
    # annotation exports, and a patch that answers 204 without a body
    ('GET', 'annotation/:id/geojson'): 'a GeoJSON file download (application/geo+json)',
    ('GET', 'annotation/:id/iid'): 'an .iid file',
    ('GET', 'annotation/:id/mask'): 'a PNG or TIFF mask',
    ('PATCH', 'annotation/:id'): '204, no body (the version in a header)',
    ('GET', 'notification/stream'): 'Server-Sent Events (text/event-stream)',
    # label masks and superpixels are PNGs; a project's masks a zip
    ('GET', 'item/:itemId/labels/:userId'): 'a PNG',
    ('GET', 'item/:itemId/superpixels'): 'a PNG (count and scale in headers)',
    ('GET', 'folder/:id/labels/download'): 'a zip',
    ('GET', 'folder/:id/tags/csv'): 'a CSV file',
    # images
    ('GET', 'item/:itemId/tiles/zxy/:z/:x/:y'): 'an image',
    ('GET', 'item/:itemId/tiles/fzxy/:frame/:z/:x/:y'): 'an image',
    ('GET', 'item/:itemId/tiles/region'): 'an image',
    ('GET', 'item/:itemId/tiles/thumbnail'): 'an image',
    ('GET', 'item/:itemId/tiles/tile_frames'): 'an image',
    ('GET', 'item/:itemId/tiles/images/:image'): 'an image',
    ('GET', 'item/:itemId/tiles/dzi.dzi'): 'Deep Zoom XML',
    ('GET', 'item/:itemId/tiles/dzi_files/:level/:tile'): 'an image',
}


def test_every_json_route_declares_its_answer(server):
    routes = {(spec.method, spec.path): spec for spec in server.app.router.routes}
    undeclared = sorted('%s %s' % key for key, spec in routes.items()
                        if spec.response is None and key not in NOT_JSON)
    assert not undeclared, (
        'routes answering JSON without a response schema (give them response=..., or '
        'list them in NOT_JSON if they answer bytes): %s' % ', '.join(undeclared))
    stale = sorted('%s %s' % key for key in NOT_JSON
                   if key not in routes or routes[key].response is not None)
    assert not stale, 'NOT_JSON lists routes that are gone or declare a schema: %s' % stale


def test_a_route_without_a_known_schema_fails_at_start():
    class Bad(Resource):
        @route('GET', 'x', response='Itme[]')
        def x(self, req):
            return []
    with pytest.raises(ValueError, match='Itme'):
        Router().add_resource(Bad())
    router = Router()
    router.add_schemas({'Thing': {'type': 'object'}})
    with pytest.raises(ValueError, match='Thing'):
        router.add_schemas({'Thing': {'type': 'string'}})
    with pytest.raises(ValueError, match='Item'):
        router.add_schemas({'Item': {'type': 'object'}})


def test_committed_description_is_the_servers(server):
    """web_client/openapi.json (the source of src/api-types.ts) must match the server.

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


def _answer(doc, path, method='get'):
    return doc['paths'][path][method]['responses']['200']['content'][
        'application/json']['schema']


def test_main_documents_have_response_schemas(server):
    doc = ok(server.request('describe'))
    assert set(SCHEMAS) <= set(doc['components']['schemas'])
    assert _answer(doc, '/item/{id}') == {'$ref': '#/components/schemas/Item'}
    assert _answer(doc, '/folder') == {'type': 'array',
                                       'items': {'$ref': '#/components/schemas/Folder'}}
    for path, name in [('/user/{id}', 'User'), ('/collection/{id}', 'Collection'),
                       ('/file/{id}', 'File'), ('/group/{id}', 'Group'),
                       ('/annotation/{id}', 'Annotation'), ('/job/{id}', 'Job'),
                       ('/item/{itemId}/tiles', 'TileMetadata'),
                       ('/folder/{id}/access', 'AccessList'),
                       ('/folder/{id}/labels/progress', 'LabelProgress'),
                       ('/folder/{id}/tagset', 'Tagset')]:
        assert _answer(doc, path) == {'$ref': '#/components/schemas/' + name}
    assert _answer(doc, '/api_key', 'post') == {'$ref': '#/components/schemas/ApiKey'}
    assert _answer(doc, '/file', 'post') == {'oneOf': [
        {'$ref': '#/components/schemas/Upload'}, {'$ref': '#/components/schemas/File'}]}
    assert _answer(doc, '/user/me') == {
        'allOf': [{'$ref': '#/components/schemas/User'}], 'nullable': True}
    assert _answer(doc, '/annotation/folder/{id}/create') == {'type': 'boolean'}
    with pytest.raises(ValueError, match='Nope'):
        answer_schema('Nope[]')


def test_elements_are_described_from_the_annotation_schema(server):
    """One definition: each element type's schema is the validating one, labels included."""
    schemas = ok(server.request('describe'))['components']['schemas']
    union = schemas['AnnotationElement']['oneOf']
    assert len(union) == len(annotation_schema.ELEMENT_SCHEMAS)
    for kind, spec in annotation_schema.ELEMENT_SCHEMAS.items():
        described = schemas[kind.capitalize() + 'Element']
        assert {'$ref': '#/components/schemas/%sElement' % kind.capitalize()} in union
        assert set(described['properties']) == set(spec['properties'])
        assert described['required'] == spec['required']
        assert described['properties']['type'] == {'type': 'string', 'enum': [kind]}
        assert described['properties']['label'] == {'$ref': '#/components/schemas/ElementLabel'}
    assert set(schemas['ElementLabel']['properties']) == set(annotation_schema.LABEL['properties'])
    # draft 6's numeric exclusiveMinimum, as OpenAPI 3.0 says it
    assert schemas['ElementLabel']['properties']['fontSize'] == {
        'type': 'number', 'minimum': 0, 'exclusiveMinimum': True}
    assert schemas['AnnotationBody']['properties']['elements']['items'] == {
        '$ref': '#/components/schemas/AnnotationElement'}


class Caller:
    """Requests whose answers are checked against the schema their route declares."""

    def __init__(self, server, user):
        self.server, self.user = server, user
        self.checked = set()

    def __call__(self, path, method='GET', status=200, user='default', **kw):
        resp = self.server.request(path, method, user=self.user if user == 'default' else user,
                                   **kw)
        body = ok(resp, status)
        self.checked.add((method, check_answer(self.server.app, method, path, body)))
        return body


def _png(array):
    out = io.BytesIO()
    Image.fromarray(array).save(out, 'PNG')
    return out.getvalue()


ELEMENTS = [
    {'type': 'point', 'center': [1, 2, 0], 'label': {'value': 'p', 'fontSize': 12}},
    {'type': 'arrow', 'points': [[0, 0, 0], [5, 5, 0]], 'lineColor': '#ff0000'},
    {'type': 'circle', 'center': [10, 10, 0], 'radius': 4, 'group': 'g'},
    {'type': 'polyline', 'points': [[0, 0, 0], [9, 0, 0], [9, 9, 0]], 'closed': True,
     'holes': [[[1, 1, 0], [2, 1, 0], [2, 2, 0]]]},
    {'type': 'rectangle', 'center': [20, 20, 0], 'width': 4, 'height': 2, 'rotation': 0.5},
    {'type': 'ellipse', 'center': [20, 20, 0], 'width': 4, 'height': 2, 'user': {'k': 1}},
    {'type': 'rectanglegrid', 'center': [20, 20, 0], 'width': 4, 'height': 2,
     'widthSubdivisions': 2, 'heightSubdivisions': 2},
    {'type': 'heatmap', 'points': [[1, 1, 0, 0.5]], 'radius': 3},
    {'type': 'griddata', 'values': [1, 2, 3, 4], 'gridWidth': 2, 'interpretation': 'contour'},
]


def _core_walk(call, server, admin, user, samples):
    folder = home_folder(server, admin, 'Public')
    sub = make_folder(server, admin, folder, 'cases')
    item = make_item(server, admin, sub, 'slide')
    upload(server, admin, item, samples.pyramid.read_bytes(), name='pyramid.tiff')
    for path in ('user/me', 'user/%s' % admin['_id'], 'user', 'user/details', 'token/current',
                 'token/session', 'token/scopes', 'api_key', 'group', 'collection',
                 'collection/details', 'folder/%s' % sub['_id'], 'folder/%s/details' % sub['_id'],
                 'folder/%s/rootpath' % sub['_id'], 'folder/%s/access' % sub['_id'],
                 'item/%s' % item['_id'], 'item/%s/rootpath' % item['_id'],
                 'item/%s/files' % item['_id'], 'user/%s/details' % admin['_id'],
                 'system/version', 'system/health/live', 'system/health/ready',
                 'system/check', 'system/public_settings', 'system/access_flag',
                 'system/plugins', 'system/audit', 'system/uploads', 'assetstore', 'job/all'):
        call(path)
    call('user/me', user=None)
    call('token/current', user=None)
    call('system/check', params={'mode': 'slow'})
    call('system/setting', params={'key': 'core.registration_policy'})
    call('system/setting', 'PUT', params={'key': 'core.brand_name', 'value': 'Lab'})
    call('user', 'POST', user=None, params={'login': 'newbie', 'email': 'n@example.com',
                                            'firstName': 'N', 'lastName': 'B',
                                            'password': 'password1'})
    call('user/authentication', basic=('newbie', 'password1'), user=None)
    coll = call('collection', 'POST', params={'name': 'Study'})
    call('collection/%s/access' % coll['_id'])
    call('collection/%s/metadata' % coll['_id'], 'PUT', body={'stain': 'HE'})
    call('folder', params={'parentType': 'user', 'parentId': str(admin['_id'])})
    call('folder/%s/metadata' % sub['_id'], 'PUT', body={'k': 1})
    call('item/%s/metadata' % item['_id'], 'PUT', body={'k': 1})
    group = call('group', 'POST', params={'name': 'Lab'})
    call('group/%s/invitation' % group['_id'], 'POST', params={
        'userId': str(user['_id']), 'force': True})
    call('group/%s/member' % group['_id'])
    call('group/%s/admin' % group['_id'], 'POST', params={'userId': str(user['_id'])})
    call('group/%s/access' % group['_id'])
    key = call('api_key', 'POST', params={'name': 'script'})
    call('api_key/token', 'POST', user=None, params={'key': key['key']})
    shared = make_folder(server, admin, folder, 'shared')
    call('folder/%s/access' % shared['_id'], 'PUT', params={'access': {
        'users': [{'id': str(admin['_id']), 'level': 2}, {'id': str(user['_id']), 'level': 0}],
        'groups': [{'id': str(group['_id']), 'level': 0}]}})
    assert call('resource/shared', user=user)[0]['_shared']['by']['login'] == 'admin'
    call('resource/search', params={'q': 'sli', 'types': ['item', 'folder', 'user', 'group']})
    call('resource/lookup', params={'path': '/user/admin/Public/cases/slide'})
    call('resource/lookup', params={'path': '/user/admin/nothing', 'test': True})
    call('resource/%s' % item['_id'], params={'type': 'item'})
    call('resource/%s/path' % item['_id'], params={'type': 'item'})
    started = call('file', 'POST', params={'parentType': 'item', 'parentId': item['_id'],
                                           'name': 'two.bin', 'size': 4})
    call('file/offset', params={'uploadId': started['_id']})
    call('file/chunk', 'POST', params={'uploadId': started['_id'], 'offset': 0}, body=b'ab')
    done = call('file/chunk', 'POST', params={'uploadId': started['_id'], 'offset': 2},
                body=b'cd')
    assert done['itemId'] == item['_id']
    call('file/%s' % done['_id'], 'PUT', params={'name': 'three.bin'})
    call('item/%s/copy' % item['_id'], 'POST', params={'folderId': sub['_id']})
    call('file/%s' % done['_id'], 'DELETE')
    return folder, sub, item


def _plugin_walk(call, server, admin, item):
    anns = ok(server.request('annotation', 'POST', user=admin, params={'itemId': item['_id']},
                             body={'name': 'A', 'elements': ELEMENTS}))
    got = call('annotation/%s' % anns['_id'])
    assert sorted(e['type'] for e in got['annotation']['elements']) == sorted(
        e['type'] for e in ELEMENTS)
    call('annotation', params={'itemId': item['_id']})
    call('annotation/%s/metadata' % anns['_id'], 'PUT', body={'stain': 'HE'})
    call('annotation/%s/history' % anns['_id'])
    call('annotation/%s/history/1' % anns['_id'])
    call('annotation/%s/access' % anns['_id'])
    call('annotation/item/%s' % item['_id'])
    call('annotation/counts', params={'items': item['_id']})
    call('annotation/folder/%s/present' % item['folderId'])
    call('annotation/folder/%s/create' % item['folderId'])
    call('annotation/schema')
    call('annotation/%s/metadata' % anns['_id'], 'DELETE', body=['stain'])
    call('annotation/folder/%s' % item['folderId'])
    call('annotation/folder/%s/access' % item['folderId'], 'PUT', params={'access': {
        'users': [{'id': str(admin['_id']), 'level': 2}], 'groups': []}})
    for path in ('tiles', 'tiles/internal_metadata', 'tiles/images', 'tiles/histogram'):
        call('item/%s/%s' % (item['_id'], path))
    call('item/%s/tiles/pixel' % item['_id'], params={'left': 1, 'top': 1})
    call('large_image/cache')
    folder = server.app.models.folder.load(item['folderId'])
    call('folder/%s/labels/classes' % folder['_id'], 'PUT', body=[
        {'value': 1, 'name': 'tumor', 'color': '#ff0000'}])
    meta = ok(server.request('item/%s/tiles' % item['_id'], user=admin))
    mask = np.zeros((meta['sizeY'] // 4, meta['sizeX'] // 4), np.uint8)
    mask[:4, :4] = 1
    call('item/%s/labels' % item['_id'], 'PUT', params={'status': 'done'}, body=_png(mask))
    call('item/%s/labels' % item['_id'])
    call('folder/%s/labels/progress' % folder['_id'])
    call('folder/%s/tagset' % folder['_id'], 'PUT', body={'tags': [{'code': 'a'}]})
    call('item/%s/tags' % item['_id'], 'PUT', body=['a'])
    call('folder/%s/tags/summary' % folder['_id'])
    call('annotation/folder/%s' % folder['_id'], 'DELETE')


def test_answers_match_their_declared_schemas(server, admin, user, samples):
    call = Caller(server, admin)
    _, _, item = _core_walk(call, server, admin, user, samples)
    _plugin_walk(call, server, admin, item)
    # most JSON routes, checked with real answers (keeps the walk from quietly shrinking)
    assert len(call.checked) >= 85, sorted(call.checked)


def test_a_wrong_answer_fails_its_schema(server):
    """The checks above can fail: answers that break their schema are refused."""
    schemas = server.app.router.schemas

    def fails(body, name, match=None):
        with pytest.raises(jsonschema.ValidationError, match=match):
            check(body, answer_schema(name, schemas), schemas)
    fails({'_id': 'x', 'name': 'a'}, 'Item', 'folderId')
    tiles = {'levels': 1, 'sizeX': 1, 'sizeY': 1, 'tileWidth': 1, 'tileHeight': 1}
    fails(dict(tiles, mm_x='wide'), 'TileMetadata')
    check(dict(tiles, mm_x=None), answer_schema('TileMetadata', schemas), schemas)
    fails({'type': 'point'}, 'AnnotationElement')  # no center
    fails({'type': 'point', 'center': [1, 2, 0], 'colour': 'red'}, 'AnnotationElement')
    fails({'type': 'point', 'center': [1, 2, 0], 'label': {'value': 'x', 'fontSize': 0}},
          'AnnotationElement')
    fails({'users': [{'id': 'x'}], 'groups': []}, 'AccessList', 'level')
    fails({'_id': 'x', 'name': 'n', 'size': 3}, 'Upload|File')
    fails(None, 'User')
    job = {'_id': 'x', 'status': 2, 'celeryTaskId': None, 'celeryQueue': 'large',
           'worker': {'host': 'node1', 'pid': 12}}  # as administrators see a Celery job
    check(job, answer_schema('Job', schemas), schemas)
    fails(dict(job, worker={'host': 'node1', 'pid': 'twelve'}), 'Job', 'twelve')
    check(None, answer_schema('User?', schemas), schemas)
