"""Access control: who may call each core route, levels, public, groups, flags, recurse."""
import pytest

from test_core_support import (assert_error, home_folder, make_folder, make_item, ok,
                               upload)
from tilery.models.base import ADMIN, READ, WRITE
from tilery.rest.params import ModelParam
from tilery.rest.routing import ADMIN_ONLY, PUBLIC

DUMMY_ID = '0123456789abcdef01234567'


def core_routes(app):
    """The routes the core declares (plugins test their own)."""
    return [r for r in app.router.routes
            if r.handler.__module__.startswith(('tilery.rest.resources', 'tilery.rest.describe'))]


def fill_path(spec, values):
    return '/'.join(values.get(s[1:], DUMMY_ID) if s.startswith(':') else s
                    for s in spec.segments)


def test_anonymous_and_plain_users_are_stopped_before_anything_runs(server, admin, user):
    checked = 0
    for spec in core_routes(server.app):
        if spec.access == PUBLIC:
            continue
        path = fill_path(spec, {})
        resp = server.request(path, spec.method)
        assert_error(resp, 401, contains='logged in')
        if spec.access == ADMIN_ONLY:
            assert_error(server.request(path, spec.method, user=user), 403,
                         contains='administrator')
        checked += 1
    assert checked > 60
    # the same routes with a signed-in caller get past the access check (400: dummy ids)
    assert server.request('assetstore', user=admin).status == 200
    assert_error(server.request('folder/%s' % DUMMY_ID, 'DELETE', user=user), 400,
                 'rest', contains='invalid folder id')


@pytest.fixture
def private_world(server, admin, user, make_user):
    """One private resource of each kind, owned by ``user`` (or made private for them)."""
    folder = home_folder(server, user)
    item = make_item(server, user, folder, 'secret')
    file = upload(server, user, item, b'secret bytes', 'secret.txt')
    coll = ok(server.request('collection', 'POST', user=admin, params={
        'name': 'closed', 'public': False}))
    group = ok(server.request('group', 'POST', user=user, params={
        'name': 'hidden', 'public': False}))
    hermit = make_user('hermit')
    server.app.models.user.collection.update_one({'_id': hermit['_id']},
                                                 {'$set': {'public': False}})
    return {'Folder': folder['_id'], 'Item': item['_id'], 'File': file['_id'],
            'Collection': coll['_id'], 'Group': group['_id'], 'User': hermit['_id']}


def test_every_id_route_refuses_callers_without_access(server, other, private_world):
    """For each route loading a document by id: 403 signed in, 401 anonymous."""
    checked = set()
    for spec in core_routes(server.app):
        params = {p.name: p for p in spec.all_params()}
        model_param = params.get('id')
        if not isinstance(model_param, ModelParam) or model_param.force:
            continue
        kind = model_param.model.__name__
        if kind not in private_world or spec.access == ADMIN_ONLY:
            continue
        path = fill_path(spec, {'id': str(private_world[kind])})
        assert_error(server.request(path, spec.method, user=other), 403,
                     contains='access denied')
        if spec.access != PUBLIC or model_param.level >= READ:
            assert_error(server.request(path, spec.method), 401)
        checked.add((spec.method, spec.path))
    assert len(checked) > 45


def test_no_core_route_answers_500_to_an_admin(server, admin, private_world):
    """Every route, called with real ids and no other parameters, fails cleanly if at all."""
    ids = dict(private_world, Assetstore=server.app.models.assetstore.current()['_id'],
               ApiKey=ok(server.request('api_key', 'POST', user=admin))['_id'])
    routes = sorted(core_routes(server.app), key=lambda r: r.method == 'DELETE')
    for spec in routes:
        param = {p.name: p for p in spec.all_params()}.get('id')
        kind = param.model.__name__ if isinstance(param, ModelParam) else 'Folder'
        resp = server.request(fill_path(spec, {'id': str(ids[kind])}), spec.method, user=admin)
        assert resp.status < 500, (spec.method, spec.path, resp)
        if resp.status >= 400:
            assert_error(resp, resp.status)


def test_private_folder_by_id_and_by_every_other_way(server, user, other):
    private = home_folder(server, user)
    item = make_item(server, user, private, 'slide')
    file = upload(server, user, item, b'abc', 'slide.bin')
    before = server.app.models.folder.load(private['_id'])
    for path, params in (
            ('folder/%s' % private['_id'], {}),
            ('folder', {'parentType': 'folder', 'parentId': private['_id']}),
            ('item', {'folderId': private['_id']}),
            ('item/%s' % item['_id'], {}),
            ('file/%s/download' % file['_id'], {}),
            ('folder/%s/download' % private['_id'], {}),
            ('resource/%s' % private['_id'], {'type': 'folder'}),
            ('resource/%s/path' % item['_id'], {'type': 'item'})):
        assert_error(server.request(path, user=other, params=params), 403)
        assert_error(server.request(path, params=params), 401)
    for method, path, params in (
            ('POST', 'item', {'folderId': private['_id'], 'name': 'intruder'}),
            ('POST', 'folder', {'parentId': private['_id'], 'name': 'intruder'}),
            ('PUT', 'folder/%s' % private['_id'], {'name': 'taken'}),
            ('DELETE', 'folder/%s' % private['_id'], {}),
            ('POST', 'file', {'parentType': 'folder', 'parentId': private['_id'],
                              'name': 'x', 'size': 1})):
        assert_error(server.request(path, method, user=other, params=params), 403)
    # lookups and listings do not reveal it either
    assert_error(server.request('resource/lookup', user=other, params={
        'path': '/user/user1/Private/slide'}), 400, contains='not found')
    listing = ok(server.request('folder', user=other, params={
        'parentType': 'user', 'parentId': user['_id']}))
    assert [f['name'] for f in listing] == ['Public']
    found = ok(server.request('resource/search', user=other, params={
        'q': 'slide', 'types': ['item', 'folder']}))
    assert found == {'item': [], 'folder': []}
    # nothing changed
    assert server.app.models.folder.load(private['_id']) == before
    assert server.app.models.item.count({'folderId': private['_id']}) == 1


def test_levels_read_write_admin_on_a_shared_folder(server, user, other):
    shared = make_folder(server, user, home_folder(server, user), 'shared')
    item = make_item(server, user, shared, 'scan')

    def grant(level):
        ok(server.request('folder/%s/access' % shared['_id'], 'PUT', user=user, params={
            'access': {'users': [{'id': str(user['_id']), 'level': ADMIN},
                                 {'id': str(other['_id']), 'level': level}]}}))
    grant(READ)
    got = ok(server.request('folder/%s' % shared['_id'], user=other))
    assert got['_accessLevel'] == READ
    assert ok(server.request('item/%s' % item['_id'], user=other))['name'] == 'scan'
    assert_error(server.request('item', 'POST', user=other, params={
        'folderId': shared['_id'], 'name': 'mine'}), 403, contains='write access denied')
    assert_error(server.request('item/%s' % item['_id'], 'PUT', user=other,
                                params={'name': 'renamed'}), 403)
    grant(WRITE)
    ok(server.request('item', 'POST', user=other, params={'folderId': shared['_id'],
                                                          'name': 'mine'}))
    ok(server.request('item/%s' % item['_id'], 'PUT', user=other, params={'name': 'renamed'}))
    assert_error(server.request('folder/%s/access' % shared['_id'], user=other), 403,
                 contains='admin access denied')
    assert_error(server.request('folder/%s' % shared['_id'], 'DELETE', user=other), 403)
    grant(ADMIN)
    acl = ok(server.request('folder/%s/access' % shared['_id'], user=other))
    assert {(u['login'], u['level']) for u in acl['users']} == {('user1', ADMIN),
                                                                ('other1', ADMIN)}
    ok(server.request('folder/%s' % shared['_id'], 'DELETE', user=other))
    assert server.app.models.folder.load(shared['_id'], exc=False) is None


def test_public_flag_groups_and_site_admin(server, admin, user, other, make_user):
    folder = make_folder(server, user, home_folder(server, user), 'lab')
    assert_error(server.request('folder/%s' % folder['_id']), 401)
    ok(server.request('folder/%s/access' % folder['_id'], 'PUT', user=user, params={
        'access': {'users': [{'id': str(user['_id']), 'level': ADMIN}]}, 'public': True}))
    assert ok(server.request('folder/%s' % folder['_id']))['public'] is True
    assert_error(server.request('item', 'POST', user=other, params={
        'folderId': folder['_id'], 'name': 'x'}), 403)
    ok(server.request('folder/%s/access' % folder['_id'], 'PUT', user=user, params={
        'access': {'users': [{'id': str(user['_id']), 'level': ADMIN}]}, 'public': False}))
    assert_error(server.request('folder/%s' % folder['_id'], user=other), 403)

    # a group with WRITE: its members write, others do not, leaving drops the right
    group = ok(server.request('group', 'POST', user=user, params={'name': 'pathologists'}))
    ok(server.request('group/%s/invitation' % group['_id'], 'POST', user=user, params={
        'userId': other['_id']}))
    ok(server.request('folder/%s/access' % folder['_id'], 'PUT', user=user, params={
        'access': {'users': [{'id': str(user['_id']), 'level': ADMIN}],
                   'groups': [{'id': group['_id'], 'level': WRITE}]}}))
    assert_error(server.request('item', 'POST', user=other, params={
        'folderId': folder['_id'], 'name': 'invited-only'}), 403)
    ok(server.request('group/%s/member' % group['_id'], 'POST', user=other))
    ok(server.request('item', 'POST', user=other, params={'folderId': folder['_id'],
                                                          'name': 'member'}))
    outsider = make_user('outsider')
    assert_error(server.request('folder/%s' % folder['_id'], user=outsider), 403)
    ok(server.request('group/%s/member' % group['_id'], 'DELETE', user=other))
    assert_error(server.request('item', 'POST', user=other, params={
        'folderId': folder['_id'], 'name': 'gone'}), 403)
    # site admins pass every check
    got = ok(server.request('folder/%s' % folder['_id'], user=admin))
    assert got['_accessLevel'] == ADMIN
    ok(server.request('folder/%s/access' % folder['_id'], user=admin))


def test_access_flags_are_granted_by_user_group_and_public(server, user, other):
    folders = server.app.models.folder
    folder = make_folder(server, user, home_folder(server, user), 'flagged')
    doc = folders.load(folder['_id'])
    assert not folders.has_access(doc, other, READ, flags=('annotate',))
    ok(server.request('folder/%s/access' % folder['_id'], 'PUT', user=user, params={
        'access': {'users': [{'id': str(user['_id']), 'level': ADMIN},
                             {'id': str(other['_id']), 'level': READ,
                              'flags': ['annotate']}]}}))
    doc = folders.load(folder['_id'])
    assert folders.has_access(doc, other, READ, flags=('annotate',))
    assert not folders.has_access(doc, other, WRITE, flags=('annotate',))
    assert not folders.has_access(doc, other, READ, flags=('annotate', 'other'))
    acl = ok(server.request('folder/%s/access' % folder['_id'], user=user))
    assert [u['flags'] for u in acl['users'] if u['login'] == 'other1'] == [['annotate']]
    ok(server.request('folder/%s/access' % folder['_id'], 'PUT', user=user, params={
        'access': {'users': [{'id': str(user['_id']), 'level': ADMIN}]}, 'public': True,
        'publicFlags': ['annotate']}))
    doc = folders.load(folder['_id'])
    assert folders.has_access(doc, other, READ, flags=('annotate',))
    assert not folders.has_access(doc, None, READ, flags=('annotate',))
    assert_error(server.request('folder/%s/access' % folder['_id'], 'PUT', user=user, params={
        'access': {'users': [{'id': str(other['_id']), 'level': READ, 'flags': 'annotate'}]}}),
        400, contains='flags')


def test_recurse_pushes_the_acl_to_every_subfolder(server, user, other):
    top = make_folder(server, user, home_folder(server, user), 'top')
    mid = make_folder(server, user, top, 'mid')
    deep = make_folder(server, user, mid, 'deep')
    item = make_item(server, user, deep, 'slide')
    acl = {'users': [{'id': str(user['_id']), 'level': ADMIN},
                     {'id': str(other['_id']), 'level': READ}]}
    ok(server.request('folder/%s/access' % top['_id'], 'PUT', user=user,
                      params={'access': acl}))
    assert_error(server.request('item/%s' % item['_id'], user=other), 403)
    ok(server.request('folder/%s/access' % top['_id'], 'PUT', user=user,
                      params={'access': acl, 'recurse': True}))
    for folder in (top, mid, deep):
        assert ok(server.request('folder/%s' % folder['_id'], user=other))['_accessLevel'] == READ
    assert ok(server.request('item/%s' % item['_id'], user=other))['name'] == 'slide'
    # new folders copy their parent's ACL (and the creator is admin of them)
    newer = make_folder(server, user, deep, 'newer')
    stored = server.app.models.folder.load(newer['_id'])
    assert {(e['id'], e['level']) for e in stored['access']['users']} == {
        (user['_id'], ADMIN), (other['_id'], READ)}
    # a bad ACL is refused and changes nothing
    before = server.app.models.folder.load(top['_id'])['access']
    for bad in ({'users': [{'id': 'nope', 'level': READ}]},
                {'users': [{'id': str(other['_id']), 'level': 7}]},
                {'users': [{'id': str(other['_id']), 'level': True}]},
                {'users': 'everyone'},
                {'groups': [{'level': READ}]}):
        assert_error(server.request('folder/%s/access' % top['_id'], 'PUT', user=user,
                                    params={'access': bad, 'recurse': True}), 400)
    assert server.app.models.folder.load(top['_id'])['access'] == before
    assert_error(server.request('folder/%s/access' % top['_id'], 'PUT', user=user,
                                params={'access': [1, 2]}), 400, contains='json object')


def test_users_get_public_and_private_folders_and_the_first_user_is_admin(server):
    first = ok(server.request('user', 'POST', params={
        'login': 'founder', 'email': 'f@example.com', 'firstName': 'F', 'lastName': 'L',
        'password': 'secret123'}))
    assert first['admin'] is True
    second = ok(server.request('user', 'POST', params={
        'login': 'second', 'email': 's@example.com', 'firstName': 'S', 'lastName': 'L',
        'password': 'secret123', 'admin': True}))
    assert second['admin'] is False
    token = second['authToken']['token']
    folders = ok(server.request('folder', token=token, params={
        'parentType': 'user', 'parentId': second['_id']}))
    assert {(f['name'], f['public']) for f in folders} == {('Public', True),
                                                           ('Private', False)}
    anon = ok(server.request('folder', params={'parentType': 'user',
                                               'parentId': second['_id']}))
    assert [f['name'] for f in anon] == ['Public']


def scoped_token(server, user, scope):
    key = ok(server.request('api_key', 'POST', user=user, params={'scope': scope}))
    return ok(server.request('api_key/token', 'POST', params={'key': key['key']}))[
        'authToken']['token']


def test_token_scopes_limit_what_a_key_may_do(server, user):
    folder = home_folder(server, user)
    item = make_item(server, user, folder, 'scoped')
    read = scoped_token(server, user, ['core.data.read'])
    assert ok(server.request('item/%s' % item['_id'], token=read))['name'] == 'scoped'
    assert ok(server.request('item', token=read, params={'folderId': folder['_id']}))
    for method, path, params in (
            ('DELETE', 'item/%s' % item['_id'], {}),
            ('PUT', 'item/%s' % item['_id'], {'name': 'renamed'}),
            ('POST', 'item', {'folderId': folder['_id'], 'name': 'new'}),
            ('POST', 'api_key', {}),
            ('PUT', 'user/password', {'old': 'password1', 'new': 'password2'})):
        assert_error(server.request(path, method, token=read, params=params), 403,
                     contains='scope')
    assert server.app.models.item.load(item['_id'])['name'] == 'scoped'
    write = scoped_token(server, user, ['core.data.read', 'core.data.write'])
    ok(server.request('item/%s' % item['_id'], 'PUT', token=write, params={'name': 'renamed'}))
    ok(server.request('item/%s' % item['_id'], 'DELETE', token=write))
    sub = make_folder(server, user, folder, 'sub')
    for method, path, params in (('DELETE', 'folder/%s' % sub['_id'], {}),
                                 ('PUT', 'folder/%s/access' % sub['_id'], {'access': {}})):
        assert_error(server.request(path, method, token=write, params=params), 403,
                     contains='core.data.own')
    own = scoped_token(server, user, ['core.data.own'])
    ok(server.request('folder/%s' % sub['_id'], 'DELETE', token=own))
    # a restricted token counts as anonymous on public routes it has no scope for
    assert ok(server.request('user/me', token=write)) is None
    assert ok(server.request('system/version', token=write))['release']
    assert_error(server.request('api_key', 'POST', user=user, params={'scope': ['bogus']}),
                 400, 'validation', contains='invalid scopes', field='scope')
