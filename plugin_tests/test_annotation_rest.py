"""The annotation routes over the in-process app, and girder-client over HTTP."""
import girder_client
import orjson
import pytest

from tilery.plugins import ANNOTATE_FLAG


@pytest.fixture
def setup(server, user, other):
    folders, items = server.app.models.folder, server.app.models.item
    folder = folders.create('slides', user, 'user', user, public=False)
    item = items.create('slide.svs', folder, user)
    return folder, item


def rects(n):
    return [{'type': 'rectangle', 'center': [10 * i + 5, 5, 0], 'width': 4, 'height': 4}
            for i in range(n)]


def test_create_get_region_centroids_etag(server, setup, user, other):
    folder, item = setup
    r = server.request('annotation', 'POST', user, {'itemId': item['_id']},
                       {'name': 'a', 'elements': rects(20)})
    assert r.status == 200, r.body
    aid = r.json['_id']
    assert r.json['_elementCount'] == 20 and '_chunks' not in r.json
    r = server.request('annotation/' + aid, user=user, params={'left': 0, 'right': 50})
    body = r.json
    assert [e['center'][0] for e in body['annotation']['elements']] == [5, 15, 25, 35, 45]
    assert body['_elementQuery']['returned'] == 5
    etag = r.headers['ETag']
    again = server.request('annotation/' + aid, user=user, params={'left': 0, 'right': 50},
                           headers={'If-None-Match': etag})
    assert again.status == 304
    r = server.request('annotation/' + aid, user=user, params={'centroids': True})
    assert r.headers['Content-Type'] == 'application/octet-stream'
    assert r.body.count(b'\x00') >= 2 and b'"returned": 20' in r.body
    # other has no access to the private folder
    assert server.request('annotation/' + aid, user=other).status == 403
    assert server.request('annotation/' + aid).status == 401
    assert server.request('annotation/' + 'f' * 24, user=user).status == 404


def test_bad_input_errors(server, setup, user):
    folder, item = setup
    r = server.request('annotation', 'POST', user, {'itemId': item['_id']},
                       b'{"name": "x", "elements": [')
    assert r.status == 400 and 'Invalid JSON' in r.json['message']
    r = server.request('annotation', 'POST', user, {'itemId': item['_id']},
                       {'elements': [{'type': 'polyline', 'points': [[1, 2, 0]]}]})
    assert r.status == 400 and r.json['field'] == 'elements/0/points'
    assert r.json['type'] == 'validation'
    r = server.request('annotation', 'POST', user, {'itemId': item['_id']},
                       b'{"elements": [{"type": "point", "center": [NaN, 1, 0]}]}')
    assert r.status == 400
    aid = server.request('annotation', 'POST', user, {'itemId': item['_id']},
                         {'elements': rects(2)}).json['_id']
    r = server.request('annotation/' + aid, 'PATCH', user, {'version': 7},
                       [{'op': 'replace', 'path': 'name', 'value': 'z'}])
    assert r.status == 409
    r = server.request('annotation/' + aid, user=user, params={'sort': 'weird'})
    assert r.status == 400
    assert server.app.db.annotation.count_documents({}) == 1


def test_annotate_flag_lets_readers_annotate(server, setup, user, other):
    folder, item = setup
    folders = server.app.models.folder
    folders.set_user_access(folder, other['_id'], 0)
    folders.save(folder)
    body = {'elements': rects(1)}
    assert server.request('annotation', 'POST', other, {'itemId': item['_id']}, body).status == 403
    assert server.request('annotation/folder/%s/create' % folder['_id'], user=other).json is False
    folders.set_user_access(folder, other['_id'], 0, [ANNOTATE_FLAG])
    folders.save(folder)
    r = server.request('annotation', 'POST', other, {'itemId': item['_id']}, body)
    assert r.status == 200
    assert server.request('annotation/folder/%s/create' % folder['_id'], user=other).json is True
    # the creator administers their annotation; the folder owner keeps their own rights
    aid = r.json['_id']
    assert server.request('annotation/%s/access' % aid, user=other).status == 200
    # but a reader cannot change or delete the folder owner's annotations
    mine = server.request('annotation', 'POST', user, {'itemId': item['_id']}, body).json['_id']
    assert server.request('annotation/' + mine, user=other).status == 200
    assert server.request('annotation/' + mine, 'DELETE', other).status == 403
    assert server.request('annotation/%s/access' % mine, user=other).status == 403
    assert server.request('annotation/' + mine, 'PATCH', other,
                          body=[{'op': 'remove', 'path': 'name'}]).status == 403


def test_history_patch_metadata_copy_item_routes(server, setup, user):
    folder, item = setup
    aid = server.request('annotation', 'POST', user, {'itemId': item['_id']},
                         {'name': 'a', 'elements': rects(3)}).json['_id']
    els = server.request('annotation/' + aid, user=user).json['annotation']['elements']
    r = server.request('annotation/' + aid, 'PATCH', user, {'version': 1},
                       [{'op': 'remove', 'path': 'elements/id:' + els[0]['id']}])
    # large_image answers 204 without a body; the new version comes in a header
    assert r.status == 204 and r.body == b''
    assert r.headers['Tilery-Annotation-Version'] == '2'
    hist = server.request('annotation/%s/history' % aid, user=user).json
    assert [h['_version'] for h in hist] == [2, 1]
    v1 = server.request('annotation/%s/history/1' % aid, user=user).json
    assert len(v1['annotation']['elements']) == 3
    r = server.request('annotation/%s/metadata' % aid, 'PUT', user, body={'stain': 'HE'})
    assert r.json['annotation']['attributes'] == {'stain': 'HE'}
    r = server.request('annotation/%s/history/revert' % aid, 'PUT', user, {'version': 1})
    assert r.json['_elementCount'] == 3
    assert server.request('annotation/' + aid, 'DELETE', user).status == 200
    assert server.request('annotation', user=user, params={'itemId': item['_id']}).json == []
    server.request('annotation/%s/history/revert' % aid, 'PUT', user)
    listed = server.request('annotation', user=user, params={'itemId': item['_id']})
    assert len(listed.json) == 1 and listed.headers['Girder-Total-Count'] == '1'
    r = server.request('annotation/%s/copy' % aid, 'POST', user, {'itemId': item['_id']})
    assert r.status == 200
    r = server.request('annotation/item/%s' % item['_id'], user=user)
    assert len(r.json) == 2
    r = server.request('annotation/counts', user=user, params={'items': str(item['_id'])})
    assert r.json == {str(item['_id']): 2}
    r = server.request('annotation/item/%s' % item['_id'], 'POST', user,
                       body=[{'name': 'x', 'elements': rects(1)}, {'annotation': {'name': 'y'}}])
    assert r.json == 2
    assert server.request('annotation/folder/%s/present' % folder['_id'], user=user).json
    assert server.request('annotation/item/%s' % item['_id'], 'DELETE', user).json == 4
    geo = server.request('annotation/%s/geojson' % aid, user=user)
    assert orjson.loads(geo.body)['type'] == 'FeatureCollection'
    assert server.request('annotation/schema').json['properties']['elements']


def test_girder_client_posts_gets_and_deletes(bound_server, server, setup, user):
    folder, item = setup
    gc = girder_client.GirderClient(apiUrl=bound_server.api_url)
    gc.authenticate('user1', 'password1')
    doc = gc.post('annotation', parameters={'itemId': str(item['_id'])},
                  json={'name': 'gc', 'elements': rects(4)})
    got = gc.get('annotation/%s' % doc['_id'])
    assert len(got['annotation']['elements']) == 4
    assert gc.get('annotation', parameters={'itemId': str(item['_id'])})[0]['_id'] == doc['_id']
    gc.delete('annotation/%s' % doc['_id'])
    with pytest.raises(girder_client.HttpError) as exc:
        gc.post('annotation', parameters={'itemId': str(item['_id'])},
                json={'elements': [{'type': 'point'}]})
    assert exc.value.status == 400
    # a .json file uploaded into the item is imported
    path = bound_server.app.settings.data_dir + '/upload.json'
    with open(path, 'wb') as fh:
        fh.write(orjson.dumps({'name': 'from file', 'elements': rects(7)}))
    gc.uploadFileToItem(str(item['_id']), path)
    [job] = gc.get('job', parameters={'types': '["annotation_import"]'})
    bound_server.app.jobs.wait(job['_id'], 30)
    job = gc.get('job/%s' % job['_id'])
    assert job['status'] == 3 and job['progress']['current'] == 7, job
    names = [a['annotation']['name'] for a in
             gc.get('annotation', parameters={'itemId': str(item['_id'])})]
    assert names == ['from file']
    

def scoped_token(server, user, scope):
    key = server.request('api_key', 'POST', user, {'scope': scope}).json
    return server.request('api_key/token', 'POST', params={'key': key['key']}).json[
        'authToken']['token']


def test_token_scopes(server, setup, user):
    folder, item = setup
    aid = server.request('annotation', 'POST', user, {'itemId': item['_id']},
                         {'name': 'a', 'elements': rects(3)}).json['_id']
    read = scoped_token(server, user, ['core.data.read'])
    r = server.request('annotation/' + aid, token=read)
    assert r.status == 200 and len(r.json['annotation']['elements']) == 3
    assert server.request('annotation', token=read, params={'itemId': item['_id']}).json
    assert server.request('annotation/%s/history' % aid, token=read).status == 200
    for method, path, params, body in (
            ('POST', 'annotation', {'itemId': item['_id']}, {'elements': rects(1)}),
            ('PUT', 'annotation/' + aid, {}, {'name': 'renamed'}),
            ('PATCH', 'annotation/' + aid, {}, [{'op': 'replace', 'path': 'name',
                                                 'value': 'z'}]),
            ('DELETE', 'annotation/' + aid, {}, None),
            ('PUT', 'annotation/%s/metadata' % aid, {}, {'k': 1}),
            ('POST', 'annotation/item/%s' % item['_id'], {}, [{'name': 'x'}]),
            ('POST', 'annotation/item/%s/mask' % item['_id'], {}, b'png'),
            ('GET', 'annotation/%s/access' % aid, {}, None)):
        r = server.request(path, method, token=read, params=params, body=body)
        assert r.status in (401, 403) and 'scope' in r.json['message'], (method, path, r)
    doc = server.app.annotations.load(aid)
    assert doc['_version'] == 1 and doc['_active'] and doc['annotation']['name'] == 'a'
    assert server.app.db.annotation.count_documents({}) == 1
    write = scoped_token(server, user, ['core.data.read', 'core.data.write'])
    r = server.request('annotation/' + aid, 'PATCH', token=write,
                       body=[{'op': 'replace', 'path': 'name', 'value': 'z'}])
    assert r.status == 204 and server.app.annotations.load(aid)['annotation']['name'] == 'z'
    # changing who may see it takes core.data.own
    access = {'users': [{'id': str(user['_id']), 'level': 2}]}
    r = server.request('annotation/%s/access' % aid, 'PUT', token=write,
                       params={'access': access})
    assert r.status == 403 and 'core.data.own' in r.json['message']
    own = scoped_token(server, user, ['core.data.own'])
    r = server.request('annotation/%s/access' % aid, 'PUT', token=own,
                       params={'access': access, 'public': True})
    assert r.status == 200 and r.json['public'] is True


def test_put_without_item_id_keeps_the_item(server, admin):
    folders = server.app.models.folder
    private = folders.find_one({'parentId': admin['_id'], 'name': 'Private'})
    item = server.app.models.item.create('slide', private, admin)
    created = server.request('annotation', 'POST', admin, params={'itemId': item['_id']},
                             body={'name': 'a', 'elements': []}).json
    r = server.request('annotation/%s' % created['_id'], 'PUT', admin, body={
        'name': 'renamed', 'elements': [{'type': 'point', 'center': [1, 2, 0]}]})
    assert r.status == 200, r.json
    got = server.request('annotation/%s' % created['_id'], user=admin).json
    assert got['annotation']['name'] == 'renamed' and got['itemId'] == str(item['_id'])
    assert len(got['annotation']['elements']) == 1
