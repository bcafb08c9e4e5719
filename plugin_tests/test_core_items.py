"""Items: names, listings, metadata, moves, copies and deletion."""
import pytest
from bson import ObjectId

from test_core_support import (assert_error, home_folder, make_folder, make_item, ok,
                               size_of, store_root, stored_files, upload)


@pytest.mark.parametrize('name', ['', ' ', 'x/y', 'a\x00b', '.'])
def test_bad_item_names_are_refused(server, user, name):
    folder = home_folder(server, user)
    assert_error(server.request('item', 'POST', user=user, params={
        'folderId': folder['_id'], 'name': name}), 400, 'validation', field='name')
    assert server.app.models.item.count({'folderId': folder['_id']}) == 0


def test_clashing_item_names_get_a_number_as_in_girder(server, user, other):
    folder = home_folder(server, user)
    first = make_item(server, user, folder, 'scan.svs', description='d')
    assert first['_modelType'] == 'item' and first['folderId'] == str(folder['_id'])
    assert make_item(server, user, folder, 'scan.svs')['name'] == 'scan.svs (1)'
    assert make_item(server, user, folder, 'scan.svs')['name'] == 'scan.svs (2)'
    assert make_item(server, user, folder, 'scan.svs', reuseExisting=True)['_id'] == \
        first['_id']
    assert_error(server.request('item', 'POST', user=other, params={
        'folderId': folder['_id'], 'name': 'x'}), 403)
    assert_error(server.request('item', 'POST', user=user, params={'name': 'x'}), 400,
                 contains='"folderid" is required')


def test_listing_and_searching_items(server, user, other):
    folder = home_folder(server, user, 'Public')
    names = ['slide-%03d' % i for i in range(15)] + ['Tumour A', 'tumour b']
    for name in names:
        make_item(server, user, folder, name)
    private = make_item(server, user, home_folder(server, user), 'tumour hidden')
    page = server.request('item', params={'folderId': folder['_id'], 'limit': 4,
                                          'offset': 4, 'sort': 'name'})
    assert [i['name'] for i in ok(page)] == sorted(names)[4:8]
    assert page.headers['Girder-Total-Count'] == str(len(names))
    desc = ok(server.request('item', params={'folderId': folder['_id'], 'sortdir': -1,
                                             'limit': 2}))
    assert [i['name'] for i in desc] == ['tumour b', 'Tumour A']
    assert [i['name'] for i in ok(server.request('item', params={
        'folderId': folder['_id'], 'text': 'TUMOUR'}))] == ['Tumour A', 'tumour b']
    assert [i['name'] for i in ok(server.request('item', params={
        'folderId': folder['_id'], 'name': 'tumour b'}))] == ['tumour b']
    everywhere = ok(server.request('item', user=other, params={'text': 'tumour'}))
    assert sorted(i['name'] for i in everywhere) == ['Tumour A', 'tumour b']
    assert {i['name'] for i in ok(server.request('item', user=user, params={
        'text': 'tumour'}))} == {'Tumour A', 'tumour b', 'tumour hidden'}
    assert_error(server.request('item'), 400, contains='give folderid or text')
    chain = ok(server.request('item/%s/rootpath' % private['_id'], user=user))
    assert [c['type'] for c in chain] == ['user', 'folder']


def test_update_move_and_metadata(server, user, other):
    home = home_folder(server, user)
    dest = make_folder(server, user, home, 'dest')
    item = make_item(server, user, home, 'slide', metadata={'grade': 2})
    upload(server, user, item, b'z' * 500)
    path = 'item/%s' % item['_id']
    renamed = ok(server.request(path, 'PUT', user=user, params={
        'name': 'slide 1', 'description': 'new', 'metadata': {'grade': 3, 'x': None}}))
    assert (renamed['name'], renamed['description'], renamed['meta']) == (
        'slide 1', 'new', {'grade': 3})
    assert_error(server.request(path, 'PUT', user=user, params={
        'name': 'bad/name', 'metadata': {'grade': 4}}), 400, 'validation', field='name')
    assert_error(server.request(path, 'PUT', user=user, params={
        'name': 'fine', 'metadata': {'$grade': 4}}), 400, 'validation')
    assert_error(server.request(path, 'PUT', user=user, params={
        'name': 'fine', 'folderId': home_folder(server, other)['_id']}), 403)
    stored = server.app.models.item.load(item['_id'])
    assert (stored['name'], stored['meta'], stored['folderId']) == (
        'slide 1', {'grade': 3}, home['_id'])
    moved = ok(server.request(path, 'PUT', user=user, params={'folderId': dest['_id']}))
    assert moved['folderId'] == dest['_id']
    assert size_of(server, 'folder', dest) == 500
    assert size_of(server, 'folder', home) == 500  # dest is inside home
    meta = ok(server.request(path + '/metadata', 'PUT', user=user,
                             body={'a': {'nested': [1, 2]}}))['meta']
    assert meta == {'grade': 3, 'a': {'nested': [1, 2]}}
    assert ok(server.request(path + '/metadata', 'DELETE', user=user, params={
        'fields': ['a', 'missing']}))['meta'] == {'grade': 3}
    assert_error(server.request(path + '/metadata', 'DELETE', user=user, params={
        'fields': {'a': 1}}), 400, contains='json list')


def test_copy_and_delete_items(server, user, other):
    home = home_folder(server, user)
    item = make_item(server, user, home, 'slide', metadata={'k': 1})
    upload(server, user, item, b'1' * 100, 'one.bin')
    upload(server, user, item, b'2' * 200, 'two.bin')
    files = ok(server.request('item/%s/files' % item['_id'], user=user))
    assert [f['name'] for f in files] == ['one.bin', 'two.bin']
    assert_error(server.request('item/%s/copy' % item['_id'], 'POST', user=other), 403)
    other_home = home_folder(server, other)
    assert_error(server.request('item/%s/copy' % item['_id'], 'POST', user=user, params={
        'folderId': other_home['_id']}), 403)
    copy = ok(server.request('item/%s/copy' % item['_id'], 'POST', user=user))
    assert copy['name'] == 'slide (1)' and copy['meta'] == {'k': 1} and copy['size'] == 300
    assert size_of(server, 'folder', home) == 600
    root = store_root(server)
    assert len(stored_files(root)) == 4
    assert_error(server.request('item/%s' % item['_id'], 'DELETE', user=other), 403)
    ok(server.request('item/%s' % item['_id'], 'DELETE', user=user))
    assert len(stored_files(root)) == 2
    assert size_of(server, 'folder', home) == 300 and size_of(server, 'user', user) == 300
    assert server.app.models.file.count({'itemId': ObjectId(item['_id'])}) == 0
    assert_error(server.request('item/%s' % item['_id'], user=user), 400,
                 contains='invalid item id')
