"""Users, sign-in, tokens and API keys."""
import datetime

import pytest

from test_core_support import assert_error, home_folder, make_item, ok, upload

NEW_USER = {'login': 'newbie', 'email': 'newbie@example.com', 'firstName': 'New',
            'lastName': 'Bie', 'password': 'password1'}


def test_sign_in_with_basic_auth_then_sign_out(server, user):
    resp = server.request('user/authentication', basic=('user1', 'password1'))
    body = ok(resp)
    assert body['user']['login'] == 'user1' and 'salt' not in body['user']
    token = body['authToken']['token']
    assert body['authToken']['scope'] == ['core.user_auth']
    cookie = resp.headers['Set-Cookie']
    assert cookie.startswith('girderToken=%s;' % token) and 'HttpOnly' in cookie
    assert ok(server.request('user/me', token=token))['login'] == 'user1'
    # by email, case-insensitively
    ok(server.request('user/authentication', basic=('USER1@example.com', 'password1')))
    # GET with a token and no Basic header answers that token
    assert ok(server.request('user/authentication', token=token))['authToken']['token'] == token
    out = server.request('user/authentication', 'DELETE', token=token)
    assert ok(out)['message'] == 'Logged out.'
    assert out.headers['Set-Cookie'].startswith('girderToken=;')
    assert ok(server.request('user/me', token=token)) is None
    assert_error(server.request('token/session', 'DELETE', token=token), 401)


@pytest.mark.parametrize('auth, header', [
    (('user1', 'wrong-password'), None), (('nobody', 'password1'), None),
    (('user1', 'x' * 100), None),
    (None, 'Basic !!!not-base64'), (None, 'Bearer abc')])
def test_bad_credentials_are_a_401(server, user, auth, header):
    headers = {'Authorization': header} if header else None
    resp = server.request('user/authentication', basic=auth, headers=headers)
    assert resp.status == 401 and resp.json['message']
    assert server.app.models.token.count({'userId': user['_id']}) == 0


def test_registration_validates_everything_before_storing(server, user):
    users = server.app.models.user
    before = users.count()
    for change, field in (({'login': 'ab'}, 'login'), ({'login': '9lives'}, 'login'),
                          ({'login': 'a@bcd'}, 'login'), ({'login': 'USER1'}, 'login'),
                          ({'email': 'not-an-email'}, 'email'),
                          ({'email': 'User1@Example.com'}, 'email'),
                          ({'firstName': '  '}, 'firstName'), ({'password': 'short'}, 'password'),
                          ({'password': 'p' * 73}, 'password')):
        assert_error(server.request('user', 'POST', params=dict(NEW_USER, **change)), 400,
                     'validation', field=field)
    assert_error(server.request('user', 'POST', params={'login': 'x'}), 400, 'rest',
                 contains='required')
    assert users.count() == before
    created = ok(server.request('user', 'POST', params=NEW_USER))
    assert created['admin'] is False and created['login'] == 'newbie'
    stored = users.load(created['_id'])
    assert stored['salt'].startswith('$2') and 'password1' not in str(stored)
    assert ok(server.request('user/me', token=created['authToken']['token']))['_id'] == \
        created['_id']


def test_listing_users_hides_private_users_and_emails(server, admin, user, make_user):
    hermit = make_user('hermit')
    server.app.models.user.collection.update_one({'_id': hermit['_id']},
                                                 {'$set': {'public': False}})
    for i in range(4):
        make_user('member%d' % i)
    anonymous = server.request('user', params={'limit': 3, 'sort': 'login'})
    assert [u['login'] for u in ok(anonymous)] == ['admin', 'member0', 'member1']
    assert anonymous.headers['Girder-Total-Count'] == '6'
    assert all('email' not in u for u in anonymous.json)
    page = ok(server.request('user', params={'limit': 2, 'offset': 2, 'sort': 'login',
                                             'sortdir': -1}))
    assert [u['login'] for u in page] == ['member2', 'member1']
    as_admin = server.request('user', user=admin, params={'text': 'HERM'})
    assert [u['login'] for u in ok(as_admin)] == ['hermit']
    assert as_admin.json[0]['email'] == 'hermit@example.com'
    assert ok(server.request('user', user=user, params={'text': 'herm'})) == []
    me = ok(server.request('user/%s' % user['_id'], user=user))
    assert me['email'] == 'user1@example.com' and me['_accessLevel'] == 2
    seen = ok(server.request('user/%s' % user['_id']))
    assert 'email' not in seen and seen['_modelType'] == 'user'
    assert ok(server.request('user/%s/details' % user['_id'])) == {'nFolders': 2}
    assert ok(server.request('user/details', user=admin)) == {'nUsers': 7}


def test_updating_users_and_admin_rights(server, admin, user, other):
    path = 'user/%s' % user['_id']
    assert ok(server.request(path, 'PUT', user=user, params={'firstName': 'Ada'}))[
        'firstName'] == 'Ada'
    assert_error(server.request(path, 'PUT', user=other, params={'firstName': 'Eve'}), 403)
    assert_error(server.request(path, 'PUT', user=user, params={'admin': True}), 403,
                 contains='only administrators')
    assert_error(server.request(path, 'PUT', user=user, params={
        'email': 'other1@example.com'}), 400, 'validation', field='email')
    assert_error(server.request(path, 'PUT', user=user, params={'status': 'asleep'}), 400)
    stored = server.app.models.user.load(user['_id'])
    assert (stored['firstName'], stored['email'], stored['admin']) == (
        'Ada', 'user1@example.com', False)
    assert ok(server.request(path, 'PUT', user=admin, params={'admin': True}))['admin']
    # the last site admin cannot be demoted or deleted
    ok(server.request(path, 'PUT', user=admin, params={'admin': False}))
    assert_error(server.request('user/%s' % admin['_id'], 'PUT', user=admin, params={
        'admin': False}), 400, contains='last site administrator')
    assert_error(server.request('user/%s' % admin['_id'], 'DELETE', user=admin), 400,
                 contains='last site administrator')
    assert server.app.models.user.load(admin['_id'])['admin'] is True


def test_disabled_users_cannot_sign_in_or_use_their_tokens(server, admin, user):
    token = server.token_for(user)
    ok(server.request('user/%s' % user['_id'], 'PUT', user=admin,
                      params={'status': 'disabled'}))
    assert_error(server.request('user/authentication', basic=('user1', 'password1')), 401,
                 contains='disabled')
    assert_error(server.request('folder', 'POST', token=token, params={
        'parentType': 'user', 'parentId': user['_id'], 'name': 'x'}), 401)
    ok(server.request('user/%s' % user['_id'], 'PUT', user=admin, params={'status': 'enabled'}))
    assert ok(server.request('user/me', token=token))['login'] == 'user1'


def test_passwords(server, admin, user, other):
    assert_error(server.request('user/password', 'PUT', user=user, params={
        'old': 'wrong', 'new': 'password2'}), 403, contains='old password')
    assert_error(server.request('user/password', 'PUT', user=user, params={
        'old': 'password1', 'new': 'abc'}), 400, 'validation', field='password')
    ok(server.request('user/password', 'PUT', user=user, params={
        'old': 'password1', 'new': 'password2'}))
    assert_error(server.request('user/authentication', basic=('user1', 'password1')), 401)
    ok(server.request('user/authentication', basic=('user1', 'password2')))
    assert_error(server.request('user/%s/password' % user['_id'], 'PUT', user=other,
                                params={'password': 'hijacked1'}), 403)
    ok(server.request('user/%s/password' % user['_id'], 'PUT', user=admin,
                      params={'password': 'password3'}))
    ok(server.request('user/authentication', basic=('user1', 'password3')))


def test_deleting_a_user_removes_their_data_and_tokens(server, admin, user, other):
    item = make_item(server, user, home_folder(server, user), 'slide')
    upload(server, user, item, b'x' * 1000)
    token = server.token_for(user)
    assert_error(server.request('user/%s' % user['_id'], 'DELETE', user=other), 403)
    ok(server.request('user/%s' % user['_id'], 'DELETE', user=admin))
    models = server.app.models
    assert models.user.load(user['_id'], exc=False) is None
    assert models.folder.count({'baseParentId': user['_id']}) == 0
    assert models.item.count({'baseParentId': user['_id']}) == 0
    assert models.file.count({}) == 0
    assert models.token.count({'userId': user['_id']}) == 0
    assert ok(server.request('user/me', token=token)) is None
    assert_error(server.request('user/%s' % user['_id'], user=admin), 400,
                 contains='invalid user id')


def test_expired_tokens_count_as_anonymous(server, user):
    token = server.token_for(user)
    assert ok(server.request('token/current', token=token))['token'] == token
    server.app.models.token.collection.update_one({'_id': token}, {'$set': {
        'expires': datetime.datetime.utcnow() - datetime.timedelta(minutes=1)}})
    assert ok(server.request('user/me', token=token)) is None
    assert ok(server.request('token/current', token=token)) is None
    assert_error(server.request('folder', 'POST', token=token, params={
        'parentType': 'user', 'parentId': user['_id'], 'name': 'late'}), 401)
    assert server.app.models.folder.count({'parentId': user['_id']}) == 2
    assert ok(server.request('user/me', token='made-up-token-value')) is None


def test_sign_in_lifetime_follows_the_cookie_lifetime_setting(server, admin, user):
    def lifetime():
        token = ok(server.request('user/authentication', basic=('user1', 'password1')))
        return server.app.models.token.lookup(token['authToken']['token'])['expires'] - \
            datetime.datetime.utcnow()
    assert datetime.timedelta(days=29.9) < lifetime() <= datetime.timedelta(days=30)
    ok(server.request('system/setting', 'PUT', user=admin, params={
        'key': 'core.cookie_lifetime', 'value': 2}))
    assert datetime.timedelta(days=1.9) < lifetime() <= datetime.timedelta(days=2)


def test_registration_needing_approval(server, admin):
    ok(server.request('system/setting', 'PUT', user=admin, params={
        'key': 'core.registration_policy', 'value': 'approve'}))
    created = ok(server.request('user', 'POST', params=NEW_USER))
    assert created['status'] == 'pending' and 'authToken' not in created
    assert_error(server.request('user/authentication', basic=('newbie', 'password1')), 401,
                 contains='awaiting approval')
    ok(server.request('user/%s' % created['_id'], 'PUT', user=admin,
                      params={'status': 'enabled'}))
    ok(server.request('user/authentication', basic=('newbie', 'password1')))


def test_sessions_and_scopes(server, user):
    anon = ok(server.request('token/session'))
    assert anon['scope'] == ['core.anonymous_session']
    assert ok(server.request('user/me', token=anon['token'])) is None
    token = server.token_for(user)
    assert ok(server.request('token/session', token=token))['token'] == token
    scopes = {s['id'] for s in ok(server.request('token/scopes'))['custom']}
    assert {'core.data.read', 'core.data.write', 'core.user_auth'} <= scopes
    ok(server.request('token/session', 'DELETE', token=token))
    assert server.app.models.token.lookup(token) is None


def test_api_keys(server, admin, user, other):
    key = ok(server.request('api_key', 'POST', user=user, params={
        'name': 'script', 'tokenDuration': 2}))
    assert key['active'] is True and key['name'] == 'script'
    listed = server.request('api_key', user=user)
    assert [k['_id'] for k in ok(listed)] == [key['_id']]
    assert listed.headers['Girder-Total-Count'] == '1'
    assert_error(server.request('api_key', user=other, params={'userId': user['_id']}), 403)
    assert ok(server.request('api_key', user=admin, params={'userId': user['_id']}))
    path = 'api_key/%s' % key['_id']
    assert_error(server.request(path, 'PUT', user=other, params={'name': 'mine'}), 403)
    assert_error(server.request(path, 'DELETE', user=other), 403)
    assert_error(server.request(path, 'PUT', user=user, params={'scope': ['no.such']}), 400,
                 'validation', field='scope')
    assert server.app.models.api_key.load(key['_id'])['scope'] is None
    exchanged = ok(server.request('api_key/token', 'POST', params={
        'key': key['key'], 'duration': 30}))
    assert exchanged['user']['login'] == 'user1'
    token = exchanged['authToken']['token']
    lifetime = server.app.models.token.lookup(token)['expires'] - datetime.datetime.utcnow()
    assert datetime.timedelta(days=1.9) < lifetime <= datetime.timedelta(days=2)
    ok(server.request(path, 'PUT', user=user, params={'active': False}))
    assert ok(server.request('user/me', token=token)) is None
    assert_error(server.request('api_key/token', 'POST', params={'key': key['key']}), 401,
                 contains='invalid api key')
    ok(server.request(path, 'PUT', user=user, params={'active': True}))
    token = ok(server.request('api_key/token', 'POST', params={'key': key['key']}))[
        'authToken']['token']
    ok(server.request(path, 'DELETE', user=user))
    assert ok(server.request('user/me', token=token)) is None
    assert_error(server.request('api_key/token', 'POST', params={'key': 'guess'}), 401)
