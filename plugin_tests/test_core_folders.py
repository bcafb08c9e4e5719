"""Folders: creation rules, listings, metadata, moves, copies and deletion."""
import os

import pytest
from bson import ObjectId

from test_core_support import (assert_error, home_folder, make_folder, make_item, ok,
                               size_of, store_root, stored_files, upload)


@pytest.mark.parametrize('name', ['', '   ', 'a/b', 'nul\x00here', '..', 'back\\slash'])
def test_bad_folder_names_are_refused(server, user, name):
    parent = home_folder(server, user)
    assert_error(server.request('folder', 'POST', user=user, params={
        'parentId': parent['_id'], 'name': name}), 400, 'validation', field='name')
    assert server.app.models.folder.count({'parentId': parent['_id']}) == 0


def test_sibling_names_are_unique_and_reuse_existing(server, user):
    parent = home_folder(server, user)
    first = make_folder(server, user, parent, 'Slides', description='first')
    assert first['_modelType'] == 'folder' and first['lowerName'] == 'slides'
    assert first['baseParentType'] == 'user' and first['baseParentId'] == str(user['_id'])
    assert_error(server.request('folder', 'POST', user=user, params={
        'parentId': parent['_id'], 'name': 'Slides'}), 400, 'validation',
        contains='already exists', field='name')
    again = make_folder(server, user, parent, ' Slides ', reuseExisting=True)
    assert again['_id'] == first['_id'] and again['description'] == 'first'
    # an item may share a folder's name (they are unique separately)
    make_item(server, user, parent, 'Slides')
    assert server.app.models.folder.count({'parentId': parent['_id']}) == 1


def test_who_may_create_folders_where(server, admin, user, other):
    assert_error(server.request('folder', 'POST', user=other, params={
        'parentType': 'user', 'parentId': user['_id'], 'name': 'x'}), 403)
    coll = ok(server.request('collection', 'POST', user=admin, params={'name': 'c',
                                                                       'public': True}))
    assert_error(server.request('folder', 'POST', user=user, params={
        'parentType': 'collection', 'parentId': coll['_id'], 'name': 'x'}), 403)
    made = ok(server.request('folder', 'POST', user=admin, params={
        'parentType': 'collection', 'parentId': coll['_id'], 'name': 'x'}))
    assert made['public'] is True  # copied from the collection
    assert_error(server.request('folder', 'POST', user=user, params={
        'parentType': 'item', 'parentId': coll['_id'], 'name': 'x'}), 400,
        contains='allowed values')
    assert_error(server.request('folder', 'POST', user=user, params={
        'parentType': 'folder', 'parentId': str(ObjectId()), 'name': 'x'}), 400,
        contains='invalid folder id')


def test_listing_paging_sorting_and_search(server, user, other):
    parent = make_folder(server, user, home_folder(server, user, 'Public'), 'cases')
    names = ['case-%02d' % i for i in range(12)] + ['Biopsy', 'biopsy-2']
    for name in names:
        make_folder(server, user, parent, name)
    query = {'parentType': 'folder', 'parentId': parent['_id']}
    page = server.request('folder', user=other, params=dict(query, limit=5, offset=10))
    assert page.headers['Girder-Total-Count'] == '14'
    assert [f['name'] for f in ok(page)] == sorted(names, key=str.lower)[10:15]
    desc = ok(server.request('folder', params=dict(query, sort='name', sortdir=-1, limit=3)))
    assert [f['name'] for f in desc] == sorted(names, reverse=True)[:3]
    found = ok(server.request('folder', user=user, params=dict(query, text='BIOPSY')))
    assert [f['name'] for f in found] == ['Biopsy', 'biopsy-2']
    assert [f['name'] for f in ok(server.request('folder', params=dict(
        query, name='Biopsy')))] == ['Biopsy']
    everywhere = ok(server.request('folder', user=other, params={'text': 'opsy-'}))
    assert [f['name'] for f in everywhere] == ['biopsy-2']
    assert_error(server.request('folder', params={'parentId': parent['_id']}), 400,
                 contains='parentType is required')
    assert_error(server.request('folder'), 400, contains='give parenttype')
    details = ok(server.request('folder/%s/details' % parent['_id']))
    assert details == {'nItems': 0, 'nFolders': 14}
    deep = make_folder(server, user, make_folder(server, user, parent, 'z'), 'deep')
    chain = ok(server.request('folder/%s/rootpath' % deep['_id'], user=user))
    assert [(c['type'], c['object'].get('name') or c['object']['login']) for c in chain] == [
        ('user', 'user1'), ('folder', 'Public'), ('folder', 'cases'), ('folder', 'z')]


def test_metadata_merge_null_removal_and_bad_keys(server, user, other):
    folder = make_folder(server, user, home_folder(server, user), 'm',
                         metadata={'stain': 'HE', 'n': 1})
    path = 'folder/%s/metadata' % folder['_id']
    meta = ok(server.request(path, 'PUT', user=user, body={'n': 2, 'site': 'lung'}))['meta']
    assert meta == {'stain': 'HE', 'n': 2, 'site': 'lung'}
    meta = ok(server.request(path, 'PUT', user=user, body={'stain': None}))['meta']
    assert meta == {'n': 2, 'site': 'lung'}
    meta = ok(server.request(path, 'PUT', user=user, body={'n': None},
                             params={'allowNull': True}))['meta']
    assert meta == {'n': None, 'site': 'lung'}
    for bad in ({'$where': 1}, {'a.b': 1}, {'': 1}):
        assert_error(server.request(path, 'PUT', user=user, body=bad), 400, 'validation')
    assert_error(server.request(path, 'PUT', user=other, body={'x': 1}), 403)
    meta = ok(server.request(path, 'DELETE', user=user, params={'fields': ['n']}))['meta']
    assert meta == {'site': 'lung'}
    assert_error(server.request('folder', 'POST', user=user, params={
        'parentId': folder['_id'], 'name': 'bad', 'metadata': {'$x': 1}}), 400, 'validation')
    assert server.app.models.folder.load(folder['_id'])['meta'] == {'site': 'lung'}
    assert server.app.models.folder.count({'parentId': ObjectId(folder['_id'])}) == 0


def test_a_refused_update_changes_nothing(server, user, other):
    home = home_folder(server, user)
    make_folder(server, user, home, 'taken')
    folder = make_folder(server, user, home, 'mine', metadata={'k': 1})
    path = 'folder/%s' % folder['_id']
    before = server.app.models.folder.load(folder['_id'])
    assert_error(server.request(path, 'PUT', user=user, params={
        'name': 'taken', 'metadata': {'k': 2}}), 400, 'validation', field='name')
    assert_error(server.request(path, 'PUT', user=user, params={
        'name': 'renamed', 'metadata': {'$k': 2}}), 400, 'validation')
    assert_error(server.request(path, 'PUT', user=user, params={
        'name': 'renamed', 'parentType': 'folder',
        'parentId': home_folder(server, other)['_id']}), 403)
    assert server.app.models.folder.load(folder['_id']) == before
    renamed = ok(server.request(path, 'PUT', user=user, params={
        'name': 'renamed', 'description': 'new', 'metadata': {'k': 2}}))
    assert (renamed['name'], renamed['description'], renamed['meta']) == (
        'renamed', 'new', {'k': 2})


def test_move_folder_updates_sizes_and_base_parents(server, admin, user):
    home = home_folder(server, user)
    src = make_folder(server, user, home, 'src')
    sub = make_folder(server, user, src, 'sub')
    item = make_item(server, user, sub, 'slide')
    upload(server, user, item, b'x' * 3000)
    coll = ok(server.request('collection', 'POST', user=admin, params={'name': 'archive'}))
    ok(server.request('collection/%s/access' % coll['_id'], 'PUT', user=admin, params={
        'access': {'users': [{'id': str(user['_id']), 'level': 1}]}}))
    dest = ok(server.request('folder', 'POST', user=user, params={
        'parentType': 'collection', 'parentId': coll['_id'], 'name': 'dest'}))
    assert size_of(server, 'folder', home) == 3000 and size_of(server, 'user', user) == 3000
    assert_error(server.request('folder/%s' % src['_id'], 'PUT', user=user, params={
        'parentType': 'folder', 'parentId': sub['_id']}), 400, contains='into itself')
    moved = ok(server.request('folder/%s' % src['_id'], 'PUT', user=user, params={
        'parentType': 'folder', 'parentId': dest['_id']}))
    assert moved['parentId'] == dest['_id'] and moved['baseParentType'] == 'collection'
    assert size_of(server, 'folder', home) == 0 and size_of(server, 'user', user) == 0
    assert size_of(server, 'folder', dest) == 3000
    assert size_of(server, 'collection', coll) == 3000
    stored = server.app.models.item.load(item['_id'])
    assert stored['baseParentId'] == ObjectId(coll['_id'])
    assert ok(server.request('resource/%s/path' % item['_id'], user=user,
                             params={'type': 'item'})) == '/collection/archive/dest/src/sub/slide'


def test_copy_folder_duplicates_contents_and_bytes(server, user):
    home = home_folder(server, user)
    src = make_folder(server, user, home, 'src', metadata={'k': 'v'})
    sub = make_folder(server, user, src, 'sub')
    item = make_item(server, user, sub, 'slide')
    original = upload(server, user, item, os.urandom(2000), 'a.bin')
    copy = ok(server.request('folder/%s/copy' % src['_id'], 'POST', user=user))
    assert copy['name'] == 'src (copy)' and copy['meta'] == {'k': 'v'}
    assert size_of(server, 'folder', copy) == 2000
    assert size_of(server, 'folder', home) == 4000
    copied_sub = server.app.models.folder.find_one({'parentId': ObjectId(copy['_id'])})
    copied_item = server.app.models.item.find_one({'folderId': copied_sub['_id']})
    copied_file = server.app.models.file.find_one({'itemId': copied_item['_id']})
    assert copied_file['_id'] != ObjectId(original['_id'])
    assert copied_file['sha512'] == original['sha512']
    assert len(stored_files(store_root(server))) == 2
    assert_error(server.request('folder/%s/copy' % src['_id'], 'POST', user=user, params={
        'parentType': 'folder', 'parentId': sub['_id']}), 400, contains='into itself')
    assert server.app.models.folder.count({'parentId': sub['_id']}) == 0


def test_delete_folder_removes_the_subtree_and_frees_bytes(server, user, other):
    home = home_folder(server, user)
    keep = make_item(server, user, home, 'keep')
    upload(server, user, keep, b'k' * 100)
    top = make_folder(server, user, home, 'top')
    ids = {'folder': [top['_id']], 'item': [], 'file': []}
    parent = top
    for depth in range(3):
        item = make_item(server, user, parent, 'item%d' % depth)
        ids['item'].append(item['_id'])
        ids['file'].append(upload(server, user, item, b'd' * 1000, 'f%d' % depth)['_id'])
        parent = make_folder(server, user, parent, 'level%d' % depth)
        ids['folder'].append(parent['_id'])
    root = store_root(server)
    assert len(stored_files(root)) == 4
    assert size_of(server, 'folder', home) == 3100 and size_of(server, 'user', user) == 3100
    assert_error(server.request('folder/%s' % top['_id'], 'DELETE', user=other), 403)
    ok(server.request('folder/%s' % top['_id'], 'DELETE', user=user))
    models = server.app.models
    for kind, kind_ids in ids.items():
        assert models[kind].count({'_id': {'$in': [ObjectId(i) for i in kind_ids]}}) == 0
    assert len(stored_files(root)) == 1
    assert size_of(server, 'folder', home) == 100 and size_of(server, 'user', user) == 100
    ok(server.request('folder/%s/contents' % home['_id'], 'DELETE', user=user))
    assert models.item.count({'folderId': home['_id']}) == 0
    assert stored_files(root) == set() and size_of(server, 'folder', home) == 0
    assert models.folder.load(home['_id'])['name'] == 'Private'
