"""/resource: lookup, path, search, get by type, and move, copy, delete of mixed sets."""
from bson import ObjectId

from test_core_support import (assert_error, home_folder, make_folder, make_item, ok,
                               size_of, store_root, stored_files, upload)


def test_lookup_and_path(server, admin, user, other):
    home = home_folder(server, user, 'Public')
    folder = make_folder(server, user, home, 'Cases')
    item = make_item(server, user, folder, 'slide 1.svs')
    f = upload(server, user, item, b'abc', 'slide 1.svs')
    for path, kind, doc in (('/user/user1', 'user', user),
                            ('/user/USER1/Public/Cases', 'folder', folder),
                            ('/user/user1/Public/Cases/slide 1.svs', 'item', item),
                            ('/user/user1/Public/Cases/slide 1.svs/slide 1.svs', 'file', f)):
        found = ok(server.request('resource/lookup', user=other, params={'path': path}))
        assert (found['_id'], found['_modelType']) == (str(doc['_id']), kind)
        if kind != 'user':
            assert ok(server.request('resource/%s/path' % doc['_id'],
                                     params={'type': kind})) == path.replace('USER1', 'user1')
    coll = ok(server.request('collection', 'POST', user=admin, params={'name': 'Lab'}))
    cf = make_folder(server, admin, coll, 'x', parent_type='collection')
    assert ok(server.request('resource/lookup', user=admin, params={
        'path': '/collection/Lab/x'}))['_id'] == cf['_id']
    assert ok(server.request('resource/%s/path' % coll['_id'], user=admin, params={
        'type': 'collection'})) == '/collection/Lab'
    assert_error(server.request('resource/lookup', user=other, params={
        'path': '/collection/Lab/x'}), 400, contains='path not found')
    for bad in ('/user/user1/Public/nope', '/planet/x', 'user', '/user/ghost'):
        assert_error(server.request('resource/lookup', params={'path': bad}), 400)
    assert ok(server.request('resource/lookup', params={'path': '/user/user1/nope',
                                                         'test': True})) is None
    assert_error(server.request('resource/%s/path' % item['_id'], params={
        'type': 'folder'}), 400, contains='invalid folder id')
    assert_error(server.request('resource/%s/path' % item['_id'], params={
        'type': 'planet'}), 400, contains='allowed values')
    got = ok(server.request('resource/%s' % item['_id'], params={'type': 'item'}))
    assert got['name'] == 'slide 1.svs'


def test_search_is_case_insensitive_and_respects_access(server, admin, user, other):
    public = home_folder(server, user, 'Public')
    private = home_folder(server, user)
    make_item(server, user, public, 'Kidney biopsy')
    make_item(server, user, private, 'kidney secret')
    make_folder(server, user, public, 'KIDNEY cases')
    make_folder(server, user, public, 'a.b*c(kidney)')
    found = ok(server.request('resource/search', user=other, params={
        'q': 'kidney', 'types': ['item', 'folder', 'user']}))
    assert [i['name'] for i in found['item']] == ['Kidney biopsy']
    assert [f['name'] for f in found['folder']] == ['a.b*c(kidney)', 'KIDNEY cases']
    assert found['user'] == []
    mine = ok(server.request('resource/search', user=user, params={
        'q': 'KIDNEY', 'types': ['item']}))
    assert sorted(i['name'] for i in mine['item']) == ['Kidney biopsy', 'kidney secret']
    regexy = ok(server.request('resource/search', params={'q': '*c(', 'types': ['folder']}))
    assert [f['name'] for f in regexy['folder']] == ['a.b*c(kidney)']
    prefix = ok(server.request('resource/search', params={
        'q': 'kid', 'mode': 'prefix', 'types': ['item', 'folder']}))
    assert [i['name'] for i in prefix['item']] == ['Kidney biopsy']
    assert [f['name'] for f in prefix['folder']] == ['KIDNEY cases']
    paged = ok(server.request('resource/search', user=user, params={
        'q': 'kidney', 'types': ['item'], 'limit': 1, 'offset': 1}))
    assert [i['name'] for i in paged['item']] == ['kidney secret']
    users = ok(server.request('resource/search', params={'q': 'OTHER', 'types': ['user']}))
    assert [u['login'] for u in users['user']] == ['other1']
    assert_error(server.request('resource/search', params={'q': 'x', 'types': ['file']}),
                 400, contains='invalid resource type')
    assert_error(server.request('resource/search', params={'q': 'x', 'types': '{}'}), 400)


def test_move_sets_checks_everything_first(server, user, other):
    home = home_folder(server, user)
    dest = make_folder(server, user, home, 'dest')
    moving = make_folder(server, user, home, 'moving')
    inner = make_folder(server, user, moving, 'inner')
    item = make_item(server, user, home, 'slide')
    upload(server, user, item, b'm' * 400)
    theirs = make_folder(server, other, home_folder(server, other), 'theirs')
    clash = make_folder(server, user, dest, 'moving')
    before = {'folder': list(server.app.models.folder.find({})),
              'item': list(server.app.models.item.find({}))}

    def move(resources, parent, parent_type='folder', who=user):
        return server.request('resource/move', 'PUT', user=who, params={
            'resources': resources, 'parentType': parent_type, 'parentId': parent['_id']})
    assert_error(move({'folder': [moving['_id']], 'item': [item['_id']]}, user, 'user'), 400,
                 contains='items can only be moved into folders')
    assert_error(move({'folder': [moving['_id'], theirs['_id']]}, dest), 403)
    assert_error(move({'folder': [dest['_id'], moving['_id']]}, inner), 400,
                 contains='into itself')
    assert_error(move({'folder': [moving['_id']], 'item': [item['_id']]},
                      home_folder(server, other)), 403)
    assert_error(move({'collection': [str(ObjectId())]}, dest), 400,
                 contains='invalid resource type')
    assert_error(move({'item': ['zzz']}, dest), 400, contains='objectid')
    assert_error(move({'item': [item['_id']], 'folder': [moving['_id']]}, dest), 400,
                 'validation', contains='already exists')
    # nothing moved
    assert list(server.app.models.folder.find({})) == before['folder']
    assert list(server.app.models.item.find({})) == before['item']
    ok(server.request('folder/%s' % clash['_id'], 'DELETE', user=user))
    ok(move({'item': [item['_id']], 'folder': [inner['_id']]}, dest))
    assert server.app.models.item.load(item['_id'])['folderId'] == ObjectId(dest['_id'])
    assert size_of(server, 'folder', dest) == 400 and size_of(server, 'folder', home) == 400


def test_copy_and_delete_sets(server, user, other):
    home = home_folder(server, user)
    dest = make_folder(server, user, home, 'dest')
    src = make_folder(server, user, home, 'src')
    item = make_item(server, user, src, 'slide')
    upload(server, user, item, b'c' * 250)
    loose = make_item(server, user, home, 'loose')
    upload(server, user, loose, b'l' * 50)
    assert_error(server.request('resource/copy', 'POST', user=other, params={
        'resources': {'item': [loose['_id']]}, 'parentType': 'folder',
        'parentId': home_folder(server, other)['_id']}), 403)
    ok(server.request('resource/copy', 'POST', user=user, params={
        'resources': {'folder': [src['_id']], 'item': [loose['_id']]},
        'parentType': 'folder', 'parentId': dest['_id']}))
    assert size_of(server, 'folder', dest) == 300 and size_of(server, 'folder', home) == 600
    root = store_root(server)
    assert len(stored_files(root)) == 4
    assert_error(server.request('resource', 'DELETE', user=other, params={
        'resources': {'folder': [dest['_id']], 'item': [loose['_id']]}}), 403)
    assert_error(server.request('resource', 'DELETE', user=user, params={
        'resources': {'folder': [dest['_id']], 'user': [user['_id']]}}), 400)
    assert size_of(server, 'folder', home) == 600
    ok(server.request('resource', 'DELETE', user=user, params={
        'resources': {'folder': [dest['_id']], 'item': [loose['_id']]}}))
    assert size_of(server, 'folder', home) == 250 and len(stored_files(root)) == 1
    assert server.app.models.folder.load(dest['_id'], exc=False) is None
