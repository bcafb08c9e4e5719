"""Collections: who creates them, visibility, metadata, access and deletion."""
import io
import zipfile

from bson import ObjectId

from test_core_support import (assert_error, make_folder, make_item, ok, size_of, store_root,
                               stored_files, upload)
from tilery.models.base import ADMIN, READ, WRITE


def make_collection(server, admin, name, **params):
    return ok(server.request('collection', 'POST', user=admin, params=dict(name=name, **params)))


def test_only_site_admins_create_collections_with_valid_names(server, admin, user):
    assert_error(server.request('collection', 'POST', params={'name': 'c'}), 401)
    assert_error(server.request('collection', 'POST', user=user, params={'name': 'c'}), 403,
                 contains='only administrators')
    coll = make_collection(server, admin, 'Pathology', description='d', metadata={'k': 1})
    assert coll['_modelType'] == 'collection' and coll['public'] is False
    assert coll['meta'] == {'k': 1} and coll['lowerName'] == 'pathology'
    for name, field in (('Pathology', 'name'), ('', 'name'), ('a/b', 'name')):
        assert_error(server.request('collection', 'POST', user=admin, params={'name': name}),
                     400, 'validation', field=field)
    assert_error(server.request('collection', 'POST', user=admin, params={
        'name': 'other', 'metadata': {'a.b': 1}}), 400, 'validation')
    assert server.app.models.collection.count() == 1


def test_visibility_listing_and_details(server, admin, user):
    for i in range(4):
        make_collection(server, admin, 'open-%d' % i, public=True)
    hidden = make_collection(server, admin, 'Closed')
    listed = server.request('collection', params={'limit': 2, 'offset': 1})
    assert [c['name'] for c in ok(listed)] == ['open-1', 'open-2']
    assert listed.headers['Girder-Total-Count'] == '4'
    assert len(ok(server.request('collection', user=admin))) == 5
    assert ok(server.request('collection', user=admin, params={'text': 'CLOSED'}))[0][
        '_id'] == hidden['_id']
    assert [c['name'] for c in ok(server.request('collection', params={
        'name': 'open-3'}))] == ['open-3']
    assert ok(server.request('collection/details', user=user)) == {'nCollections': 4}
    assert ok(server.request('collection/details', user=admin)) == {'nCollections': 5}
    assert_error(server.request('collection/%s' % hidden['_id'], user=user), 403)
    assert_error(server.request('collection/%s' % hidden['_id']), 401)
    ok(server.request('collection/%s/access' % hidden['_id'], 'PUT', user=admin, params={
        'access': {'users': [{'id': str(user['_id']), 'level': READ}]}}))
    assert ok(server.request('collection/%s' % hidden['_id'], user=user))[
        '_accessLevel'] == READ
    make_folder(server, admin, hidden, 'f', parent_type='collection')
    assert ok(server.request('collection/%s/details' % hidden['_id'], user=user)) == {
        'nFolders': 1}


def test_update_metadata_and_access(server, admin, user, other):
    coll = make_collection(server, admin, 'c', metadata={'a': 1, 'b': 2})
    path = 'collection/%s' % coll['_id']
    ok(server.request(path + '/access', 'PUT', user=admin, params={
        'access': {'users': [{'id': str(user['_id']), 'level': WRITE},
                             {'id': str(other['_id']), 'level': READ}]}}))
    assert_error(server.request(path, 'PUT', user=other, params={'name': 'x'}), 403)
    updated = ok(server.request(path, 'PUT', user=user, params={
        'name': 'Renamed', 'metadata': {'a': None, 'c': 3}}))
    assert (updated['name'], updated['meta']) == ('Renamed', {'b': 2, 'c': 3})
    make_collection(server, admin, 'taken')
    assert_error(server.request(path, 'PUT', user=user, params={
        'name': 'taken', 'metadata': {'d': 4}}), 400, 'validation', field='name')
    assert_error(server.request(path, 'PUT', user=user, params={
        'metadata': {'$d': 4}}), 400, 'validation')
    stored = server.app.models.collection.load(coll['_id'])
    assert (stored['name'], stored['meta']) == ('Renamed', {'b': 2, 'c': 3})
    meta = ok(server.request(path + '/metadata', 'PUT', user=user, body={'e': 5}))['meta']
    assert meta == {'b': 2, 'c': 3, 'e': 5}
    assert ok(server.request(path + '/metadata', 'DELETE', user=user, params={
        'fields': ['b', 'c']}))['meta'] == {'e': 5}
    assert_error(server.request(path + '/access', user=user), 403)
    assert_error(server.request(path, 'DELETE', user=user), 403)
    acl = ok(server.request(path + '/access', user=admin))
    assert {(u['login'], u['level']) for u in acl['users']} == {
        ('user1', WRITE), ('other1', READ)}


def test_collection_acl_recurse_and_deletion(server, admin, user, other):
    coll = make_collection(server, admin, 'lab')
    path = 'collection/%s' % coll['_id']
    top = make_folder(server, admin, coll, 'top', parent_type='collection')
    sub = make_folder(server, admin, top, 'sub')
    item = make_item(server, admin, sub, 'slide')
    upload(server, admin, item, b'q' * 777)
    assert size_of(server, 'collection', coll) == 777
    ok(server.request(path + '/access', 'PUT', user=admin, params={
        'access': {'users': [{'id': str(admin['_id']), 'level': ADMIN},
                             {'id': str(other['_id']), 'level': READ}]},
        'public': False, 'recurse': True}))
    assert ok(server.request('item/%s' % item['_id'], user=other))['name'] == 'slide'
    assert_error(server.request('item/%s' % item['_id'], user=user), 403)
    resp = server.request(path + '/download', user=other)
    assert resp.status == 200 and resp.headers['Content-Type'] == 'application/zip'
    with zipfile.ZipFile(io.BytesIO(resp.body)) as archive:
        assert archive.namelist() == ['lab/top/sub/slide/data.bin']
        assert archive.read('lab/top/sub/slide/data.bin') == b'q' * 777
    assert_error(server.request(path + '/download', user=user), 403)
    root = store_root(server)
    assert len(stored_files(root)) == 1
    ok(server.request(path, 'DELETE', user=admin))
    models = server.app.models
    assert models.collection.count() == 0
    assert models.folder.count({'baseParentId': ObjectId(coll['_id'])}) == 0
    assert models.item.count({}) == 0 and stored_files(root) == set()
