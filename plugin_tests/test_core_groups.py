"""Groups: creation, visibility, invitations, members, moderators and deletion."""
from bson import ObjectId

from test_core_support import assert_error, home_folder, make_folder, ok
from tilery.models.base import ADMIN, READ, WRITE


def group_of(server, creator, name='lab', public=False):
    return ok(server.request('group', 'POST', user=creator, params={
        'name': name, 'description': 'd', 'public': public}))


def test_create_list_and_get_groups(server, user, other):
    assert_error(server.request('group', 'POST', params={'name': 'x'}), 401)
    hidden = group_of(server, user, 'Hidden Lab')
    shown = group_of(server, user, 'Open Lab', public=True)
    assert hidden['_modelType'] == 'group' and hidden['_accessLevel'] == ADMIN
    assert_error(server.request('group', 'POST', user=other, params={'name': 'hidden lab'}),
                 400, 'validation', field='name')
    assert_error(server.request('group', 'POST', user=other, params={'name': 'a/b'}),
                 400, 'validation', field='name')
    mine = server.request('group', user=user, params={'sort': 'name'})
    assert [g['name'] for g in ok(mine)] == ['Hidden Lab', 'Open Lab']
    assert mine.headers['Girder-Total-Count'] == '2'
    assert [g['name'] for g in ok(server.request('group', user=other))] == ['Open Lab']
    assert [g['name'] for g in ok(server.request('group'))] == ['Open Lab']
    assert [g['name'] for g in ok(server.request('group', user=user, params={
        'text': 'open', 'exact': False}))] == ['Open Lab']
    assert ok(server.request('group', user=user, params={'text': 'open', 'exact': True})) == []
    assert_error(server.request('group/%s' % hidden['_id'], user=other), 403)
    assert_error(server.request('group/%s' % hidden['_id']), 401)
    assert ok(server.request('group/%s' % shown['_id']))['name'] == 'Open Lab'
    assert 'requests' not in ok(server.request('group/%s' % shown['_id'], user=other))


def test_invitation_join_moderate_and_leave(server, admin, user, other, make_user):
    group = group_of(server, user)
    gid = group['_id']
    third = make_user('third')
    # the invited user can see the private group and accept
    assert_error(server.request('group/%s/invitation' % gid, 'POST', user=other, params={
        'userId': third['_id']}), 403)
    ok(server.request('group/%s/invitation' % gid, 'POST', user=user, params={
        'userId': other['_id']}))
    invited = ok(server.request('group/%s/invitation' % gid, user=user))
    assert [u['login'] for u in invited] == ['other1']
    assert ok(server.request('group/%s' % gid, user=other))['_accessLevel'] == READ
    ok(server.request('group/%s/member' % gid, 'PUT', user=other))
    members = server.request('group/%s/member' % gid, user=user)
    assert sorted(u['login'] for u in ok(members)) == ['other1', 'user1']
    assert members.headers['Girder-Total-Count'] == '2'
    assert server.app.models.user.load(other['_id'])['groups'] == [ObjectId(gid)]
    assert_error(server.request('group/%s/invitation' % gid, 'POST', user=user, params={
        'userId': other['_id']}), 400, contains='already a member')
    # a member is not a moderator: cannot invite, remove others, or rename
    assert_error(server.request('group/%s' % gid, 'PUT', user=other, params={'name': 'x'}), 403)
    ok(server.request('group/%s/moderator' % gid, 'POST', user=user, params={
        'userId': other['_id']}))
    ok(server.request('group/%s/invitation' % gid, 'POST', user=other, params={
        'userId': third['_id']}))
    # moderators may not invite at a higher level than read, nor touch admins
    assert_error(server.request('group/%s/invitation' % gid, 'POST', user=other, params={
        'userId': third['_id'], 'level': ADMIN}), 403)
    assert_error(server.request('group/%s/member' % gid, 'DELETE', user=other, params={
        'userId': user['_id']}), 403)
    assert_error(server.request('group/%s/admin' % gid, 'POST', user=user, params={
        'userId': third['_id']}), 400, contains='not a member')
    # only site admins add members directly
    assert_error(server.request('group/%s/invitation' % gid, 'POST', user=user, params={
        'userId': third['_id'], 'force': True}), 403)
    ok(server.request('group/%s/invitation' % gid, 'POST', user=admin, params={
        'userId': third['_id'], 'force': True, 'level': WRITE}))
    assert ObjectId(gid) in server.app.models.user.load(third['_id'])['groups']
    ok(server.request('group/%s/member' % gid, 'DELETE', user=other, params={
        'userId': third['_id']}))
    ok(server.request('group/%s/member' % gid, 'DELETE', user=other))
    assert sorted(u['login'] for u in ok(server.request('group/%s/member' % gid,
                                                        user=user))) == ['user1']


def test_asking_to_join_a_public_group(server, user, other):
    group = group_of(server, user, public=True)
    ok(server.request('group/%s/member' % group['_id'], 'POST', user=other))
    assert ok(server.request('group/%s' % group['_id'], user=user))['requests'] == [
        str(other['_id'])]
    assert ObjectId(group['_id']) not in server.app.models.user.load(other['_id'])['groups']


def test_deleting_a_group_removes_memberships_and_grants(server, user, other):
    group = group_of(server, user)
    gid = group['_id']
    ok(server.request('group/%s/invitation' % gid, 'POST', user=user, params={
        'userId': other['_id']}))
    ok(server.request('group/%s/member' % gid, 'POST', user=other))
    folder = make_folder(server, user, home_folder(server, user), 'shared')
    ok(server.request('folder/%s/access' % folder['_id'], 'PUT', user=user, params={
        'access': {'users': [{'id': str(user['_id']), 'level': ADMIN}],
                   'groups': [{'id': gid, 'level': READ}]}}))
    assert ok(server.request('folder/%s' % folder['_id'], user=other))
    assert_error(server.request('group/%s' % gid, 'DELETE', user=other), 403)
    acl = ok(server.request('group/%s/access' % gid, user=user))
    assert {u['login'] for u in acl['users']} == {'user1', 'other1'}
    ok(server.request('group/%s' % gid, 'DELETE', user=user))
    assert server.app.models.user.load(other['_id'])['groups'] == []
    stored = server.app.models.folder.load(folder['_id'])
    assert stored['access']['groups'] == []
    assert_error(server.request('folder/%s' % folder['_id'], user=other), 403)
    assert_error(server.request('group/%s' % gid, user=user), 400, contains='invalid group id')
