"""GET /resource/shared: folders other users shared with me, newest share first."""
from test_core_support import assert_error, home_folder, make_folder, make_item, ok
from tilery.models.base import ADMIN, READ, WRITE, now


def share(server, owner, folder, users=(), groups=(), level=READ, recurse=False):
    """Set ``folder``'s ACL to its owner plus ``users`` and ``groups`` at ``level``."""
    access = {'users': [{'id': str(owner['_id']), 'level': ADMIN}] + [
        {'id': str(u['_id']), 'level': level} for u in users],
        'groups': [{'id': str(g['_id']), 'level': level} for g in groups]}
    ok(server.request('folder/%s/access' % folder['_id'], 'PUT', user=owner,
                      params={'access': access, 'recurse': recurse}))
    tick()


def tick():
    """Wait until the stored clock (milliseconds) moves on, so share times differ."""
    start = now()
    while now() == start:
        pass


def shared(server, user, **params):
    resp = server.request('resource/shared', user=user, params=params)
    body = ok(resp)
    return [f['name'] for f in body], int(resp.headers['Girder-Total-Count']), body


def test_direct_share_newest_first_with_who_and_when(server, admin, user, other):
    private = home_folder(server, other)
    first = make_folder(server, other, private, 'first')
    second = make_folder(server, other, private, 'second')
    make_folder(server, other, private, 'not shared')
    share(server, other, second, [user])
    share(server, other, first, [user], level=WRITE)
    names, total, body = shared(server, user)
    assert names == ['first', 'second'] and total == 2
    assert body[0]['_shared']['by']['login'] == 'other1'
    assert body[0]['_shared']['via'] == {'type': 'user'}
    assert body[0]['_accessLevel'] == WRITE and body[1]['_accessLevel'] == READ
    assert body[0]['_shared']['at'] > body[1]['_shared']['at']
    # changing the level keeps when it was first shared
    share(server, other, second, [user], level=WRITE)
    assert shared(server, user)[0] == ['first', 'second']
    # the owner's own folders are not "shared with me", nor is anything for others
    assert shared(server, other)[:2] == ([], 0)
    outsider = server.app.models.user.create('outsider', 'o@example.com', 'O', 'S', 'password1')
    assert shared(server, outsider)[:2] == ([], 0)


def test_shared_through_a_group_and_leaving_it(server, admin, user, other):
    group = ok(server.request('group', 'POST', user=other, params={'name': 'lab'}))
    ok(server.request('group/%s/invitation' % group['_id'], 'POST', user=admin, params={
        'userId': user['_id'], 'force': True}))
    project = make_folder(server, other, home_folder(server, other), 'project')
    share(server, other, project, groups=[group])
    names, total, body = shared(server, user)
    assert names == ['project'] and total == 1
    assert body[0]['_shared']['via'] == {'type': 'group', 'id': group['_id'], 'name': 'lab'}
    # shared with me directly as well: listed once, by its newest share
    share(server, other, project, users=[user], groups=[group])
    names, total, body = shared(server, user)
    assert names == ['project'] and total == 1 and body[0]['_shared']['via']['type'] == 'user'
    share(server, other, project, groups=[group])
    ok(server.request('group/%s/member' % group['_id'], 'DELETE', user=user))
    assert shared(server, user)[:2] == ([], 0)


def test_revoked_and_deleted_shares_disappear(server, admin, user, other):
    private = home_folder(server, other)
    kept = make_folder(server, other, private, 'kept')
    revoked = make_folder(server, other, private, 'revoked')
    deleted = make_folder(server, other, private, 'deleted')
    for folder in (kept, revoked, deleted):
        share(server, other, folder, [user])
    assert shared(server, user)[:2] == (['deleted', 'revoked', 'kept'], 3)
    share(server, other, revoked, [])
    ok(server.request('folder/%s' % deleted['_id'], 'DELETE', user=other))
    assert shared(server, user)[:2] == (['kept'], 1)
    # a recursive change from above that drops me revokes the subfolder's share too
    parent = make_folder(server, other, private, 'parent')
    child = make_folder(server, other, parent, 'child')
    share(server, other, child, [user])
    assert shared(server, user)[0] == ['child', 'kept']
    share(server, other, parent, [], recurse=True)
    assert shared(server, user)[:2] == (['kept'], 1)
    # the folder itself says so too: the list never shows what I cannot open
    assert_error(server.request('folder/%s' % child['_id'], user=user), 403)


def test_recursive_share_lists_the_top_folder_only(server, admin, user, other):
    top = make_folder(server, other, home_folder(server, other), 'study')
    make_folder(server, other, top, 'slides')
    make_item(server, other, top, 'slide.svs')
    share(server, other, top, [user], recurse=True)
    assert shared(server, user)[:2] == (['study'], 1)
    # its subfolders and items are reachable by browsing it
    sub = ok(server.request('folder', user=user, params={
        'parentType': 'folder', 'parentId': top['_id']}))
    assert [f['name'] for f in sub] == ['slides']


def test_admin_sees_only_what_was_shared_with_them(server, admin, user, other):
    private = home_folder(server, other)
    for name in ('a', 'b'):
        share(server, other, make_folder(server, other, private, name), [user])
    assert shared(server, admin)[:2] == ([], 0)
    share(server, other, make_folder(server, other, private, 'for admin'), [admin])
    assert shared(server, admin)[:2] == (['for admin'], 1)
    # what the admin shares from their own tree is not listed for them
    mine = make_folder(server, admin, home_folder(server, admin), 'mine')
    share(server, admin, mine, [user])
    assert shared(server, admin)[:2] == (['for admin'], 1)
    assert shared(server, user)[0] == ['mine', 'b', 'a']


def test_paging_and_bad_parameters(server, admin, user, other):
    private = home_folder(server, other)
    for i in range(7):
        share(server, other, make_folder(server, other, private, 'f%d' % i), [user])
    newest_first = ['f%d' % i for i in reversed(range(7))]
    assert shared(server, user, limit=3)[:2] == (newest_first[:3], 7)
    assert shared(server, user, limit=3, offset=3)[:2] == (newest_first[3:6], 7)
    assert shared(server, user, limit=3, offset=6)[:2] == (newest_first[6:], 7)
    assert shared(server, user, offset=50)[:2] == ([], 7)
    assert_error(server.request('resource/shared', user=user, params={'limit': 0}), 400)
    assert_error(server.request('resource/shared', user=user, params={'limit': 5000}), 400)
    assert_error(server.request('resource/shared', user=user, params={'offset': -1}), 400)
    assert_error(server.request('resource/shared', user=user, params={'limit': 'x'}), 400)


def test_who_may_call_it(server, admin, user):
    assert_error(server.request('resource/shared'), 401)
    assert ok(server.request('resource/shared', user=user)) == []
