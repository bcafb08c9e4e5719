"""Folder listings come from a per-process cache keyed by the parent's listVersion:
every change to the children must show at once, in this process and in another."""
import pytest

from tilery.testing import TestServer, make_app


@pytest.fixture
def second(mongo_client, db, tmp_path, server):
    """Another server process on the same database (its own caches)."""
    app = make_app(mongo_client, db, tmp_path / 'data2')
    yield TestServer(app)
    app.stop()


def names(server, user, folder, **params):
    r = server.request('item', user=user, params=dict(folderId=folder['_id'], **params))
    assert r.status == 200, r.json
    return [d['name'] for d in r.json], int(r.headers['Girder-Total-Count'])


def folder_names(server, user, parent, parent_type='folder'):
    r = server.request('folder', user=user, params={'parentId': parent['_id'],
                                                    'parentType': parent_type})
    assert r.status == 200, r.json
    return [d['name'] for d in r.json], int(r.headers['Girder-Total-Count'])


@pytest.fixture
def folder(server, admin):
    folders = server.app.models.folder
    private = folders.find_one({'parentId': admin['_id'], 'name': 'Private'})
    folder = folders.create('listing', private, 'folder', admin)
    for name in ('b', 'd', 'a', 'c'):
        server.app.models.item.create(name, folder, admin)
    return folder


def test_item_changes_show_in_both_processes(server, second, admin, folder):
    assert names(server, admin, folder) == (['a', 'b', 'c', 'd'], 4)
    assert names(second, admin, folder) == (['a', 'b', 'c', 'd'], 4)
    created = second.request('item', 'POST', admin, params={'folderId': folder['_id'],
                                                            'name': 'aa'}).json
    assert names(server, admin, folder) == (['a', 'aa', 'b', 'c', 'd'], 5)
    server.request('item/%s' % created['_id'], 'PUT', admin, params={'name': 'zz'})
    assert names(second, admin, folder) == (['a', 'b', 'c', 'd', 'zz'], 5)
    assert names(second, admin, folder, limit=2, offset=1, sortdir=-1) == (['d', 'c'], 5)
    second.request('item/%s' % created['_id'], 'DELETE', admin)
    assert names(server, admin, folder) == (['a', 'b', 'c', 'd'], 4)


def test_moves_update_both_folders(server, second, admin, folder):
    other = server.app.models.folder.create('other', folder, 'folder', admin)
    assert names(server, admin, other) == ([], 0)
    assert names(server, admin, folder)[1] == 4
    item = server.app.models.item.find_one({'folderId': folder['_id'], 'name': 'b'})
    r = second.request('item/%s' % item['_id'], 'PUT', admin, params={'folderId': other['_id']})
    assert r.status == 200
    assert names(server, admin, folder) == (['a', 'c', 'd'], 3)
    assert names(server, admin, other) == (['b'], 1)


def test_subfolder_acl_changes_show_to_other_users(server, second, admin, user, folder):
    shared = {'users': [{'id': str(admin['_id']), 'level': 2},
                        {'id': str(user['_id']), 'level': 0}], 'groups': []}
    server.request('folder/%s/access' % folder['_id'], 'PUT', admin, params={'access': shared})
    for name in ('x', 'y'):
        server.request('folder', 'POST', admin, params={'parentId': folder['_id'], 'name': name})
    assert folder_names(server, user, folder) == (['x', 'y'], 2)
    y = server.app.models.folder.find_one({'parentId': folder['_id'], 'name': 'y'})
    own = {'users': [{'id': str(admin['_id']), 'level': 2}], 'groups': []}
    r = second.request('folder/%s/access' % y['_id'], 'PUT', admin, params={'access': own})
    assert r.status == 200
    assert folder_names(server, user, folder) == (['x'], 1)
    assert folder_names(server, admin, folder) == (['x', 'y'], 2)
    second.request('folder/%s' % y['_id'], 'PUT', admin, params={'name': 'a-first'})
    assert folder_names(server, admin, folder) == (['a-first', 'x'], 2)
    second.request('folder/%s' % y['_id'], 'DELETE', admin)
    assert folder_names(server, admin, folder) == (['x'], 1)


def test_uncached_sorts_still_work(server, admin, folder):
    item = server.app.models.item.find_one({'folderId': folder['_id'], 'name': 'c'})
    server.request('item/%s/metadata' % item['_id'], 'PUT', admin, body={'k': 1})
    found, total = names(server, admin, folder, sort='updated', sortdir=-1)
    assert found[0] == 'c' and total == 4
