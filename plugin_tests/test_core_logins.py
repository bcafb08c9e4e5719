"""Safe to share (issue 8): registration policy, one first admin whatever the
concurrency, sign-in throttling per account and per address, equal-time refusals."""
import concurrent.futures
import statistics
import time

import requests

from test_core_support import assert_error, ok


def sign_in(server, login, password='password1', address='127.0.0.1', headers=None):
    return server.request('user/authentication', basic=(login, password),
                          remote_addr=address, headers=headers)


def register(server, login, who=None, **extra):
    return server.request('user', 'POST', user=who, params=dict(
        login=login, email='%s@example.com' % login, firstName='F', lastName='L',
        password='password1', **extra))


def test_concurrent_first_registrations_make_exactly_one_admin(bound_server):
    def post(n):
        return requests.post(bound_server.api_url + '/user', params={
            'login': 'racer%d' % n, 'email': 'racer%d@example.com' % n, 'firstName': 'R',
            'lastName': 'R', 'password': 'password1', 'admin': 'true'})

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(post, range(10)))
    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
    assert sum(a.json()['admin'] for a in answers) == 1
    users = bound_server.app.models.user
    assert users.count({}) == 10 and users.count({'admin': True}) == 1


def test_registration_policy_closed_and_approve(server, admin, user):
    settings = server.app.models.setting
    settings.set('core.registration_policy', 'closed')
    assert_error(register(server, 'stranger'), 401, contains='closed')
    assert_error(register(server, 'stranger', who=user), 403, contains='closed')
    made = ok(register(server, 'invited', who=admin))
    assert made['status'] == 'enabled' and 'authToken' not in made
    assert ok(sign_in(server, 'invited'))['user']['login'] == 'invited'

    settings.set('core.registration_policy', 'approve')
    pending = ok(register(server, 'waiting'))
    assert pending['status'] == 'pending' and 'authToken' not in pending
    assert_error(sign_in(server, 'waiting'), 401, contains='awaiting approval')
    assert_error(server.request('user/%s' % pending['_id'], 'PUT', user=user,
                                params={'status': 'enabled'}), 403)
    ok(server.request('user/%s' % pending['_id'], 'PUT', user=admin,
                      params={'status': 'enabled'}))
    assert ok(sign_in(server, 'waiting'))['user']['status'] == 'enabled'

    settings.set('core.registration_policy', 'open')
    assert 'authToken' in ok(register(server, 'walkin'))


def test_wrong_passwords_lock_the_account_then_an_admin_clears_it(server, admin, user,
                                                                  make_user):
    make_user('bystander')
    answers = [sign_in(server, 'user1', 'wrong-guess') for _ in range(8)]
    assert [a.status for a in answers] == [401] * 5 + [429] * 3
    body = assert_error(answers[-1], 429, kind='throttle', contains='try again')
    retry = int(answers[-1].headers['Retry-After'])
    assert 25 <= retry <= 30 and body['retryAfter'] == retry
    # the right password is refused too while the lock lasts, from any address
    assert sign_in(server, 'user1').status == 429
    assert sign_in(server, 'user1', address='10.1.2.3').status == 429
    assert sign_in(server, 'USER1@example.com', address='10.1.2.3').status == 429
    # other accounts from the same address are not locked (the address limit is higher)
    assert ok(sign_in(server, 'bystander'))['user']['login'] == 'bystander'
    # tokens already given keep working
    assert ok(server.request('user/me', user=user))['login'] == 'user1'

    path = 'system/login_throttle'
    assert_error(server.request(path, 'DELETE', params={'login': 'user1'}), 401)
    assert_error(server.request(path, 'DELETE', user=user, params={'login': 'user1'}), 403)
    assert_error(server.request(path, 'DELETE', user=admin), 400)
    assert ok(server.request(path, 'DELETE', user=admin, params={'login': 'user1'}))[
        'cleared'] == 1
    assert ok(sign_in(server, 'user1'))['user']['login'] == 'user1'


def test_unknown_logins_are_throttled_like_known_ones(server, admin):
    answers = [sign_in(server, 'nobody-here', 'x' * 8) for _ in range(7)]
    assert [a.status for a in answers] == [401] * 5 + [429] * 2
    assert [a.json['message'] for a in answers[:5]] == ['Login failed.'] * 5


def test_the_address_limit_never_locks_other_addresses(server, admin, user):
    server.app.settings.login_address_max_failures = 3
    for login in ('alpha', 'beta', 'gamma'):
        assert sign_in(server, login, 'guess', address='10.0.0.66').status == 401
    assert sign_in(server, 'delta', 'guess', address='10.0.0.66').status == 429
    assert sign_in(server, 'user1', address='10.0.0.66').status == 429
    assert ok(sign_in(server, 'user1', address='10.0.0.7'))['user']['login'] == 'user1'
    ok(server.request('system/login_throttle', 'DELETE', user=admin,
                      params={'ip': '10.0.0.66'}))
    assert ok(sign_in(server, 'user1', address='10.0.0.66'))['user']['login'] == 'user1'
    # an IPv6 host holds a whole /64: rotating within it does not reset the count
    for n in range(3):
        assert sign_in(server, 'alpha', 'guess', address='2001:db8:1:2::%x' % n).status == 401
    assert sign_in(server, 'user1', address='2001:db8:1:2:ffff::1').status == 429
    assert ok(sign_in(server, 'user1', address='2001:db8:1:3::1'))['user']['login'] == 'user1'


def test_lockouts_double_and_are_capped(server, admin, user):
    settings = server.app.settings
    settings.login_max_failures, settings.login_lockout_seconds = 2, 0.2
    settings.login_lockout_max_seconds = 0.5
    throttle = server.app.models.login_throttle

    def fail_once_unlocked():
        deadline = time.monotonic() + 5
        while True:
            status = sign_in(server, 'user1', 'bad-guess').status
            if status == 401:
                return throttle.collection.find_one({'_id': 'user:%s' % user['_id']})
            assert status == 429 and time.monotonic() < deadline
            time.sleep(0.05)

    assert 'lockSeconds' not in fail_once_unlocked()
    lengths = [fail_once_unlocked()['lockSeconds'] for _ in range(4)]
    assert lengths == [0.2, 0.4, 0.5, 0.5]


def test_unknown_logins_take_as_long_as_known_ones(server, admin, user):
    server.app.settings.login_max_failures = 0  # no lock: time every refusal
    server.app.settings.login_address_max_failures = 0

    def median(login):
        times = []
        for _ in range(7):
            start = time.perf_counter()
            assert sign_in(server, login, 'not-the-password').status == 401
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    known, unknown = median('user1'), median('no-such-login')
    assert unknown > 0.6 * known and known > 0.005, (known, unknown)


def test_client_address_trusts_forwarded_for_only_from_trusted_proxies(server, admin):
    from tilery.rest.request import client_address
    assert client_address('10.0.0.1', '1.2.3.4', ()) == '10.0.0.1'
    assert client_address('10.0.0.1', '1.2.3.4', ('10.0.0.0/8',)) == '1.2.3.4'
    # a client's own forged entries are left of the last untrusted hop
    assert client_address('10.0.0.1', '6.6.6.6, 1.2.3.4, 10.0.0.2', ('10.0.0.0/8',)) == \
        '1.2.3.4'
    server.app.settings.login_address_max_failures = 2
    forged = {'X-Forwarded-For': '203.0.113.9'}
    for _ in range(2):  # from an untrusted peer the header is ignored: the peer is counted
        assert sign_in(server, 'x-%d' % _, 'bad-guess', headers=forged).status == 401
    assert sign_in(server, 'admin', headers={'X-Forwarded-For': '203.0.113.10'}).status == 429
    server.app.settings.trusted_proxies = ('127.0.0.1',)
    assert ok(sign_in(server, 'admin', address='127.0.0.1',
                      headers={'X-Forwarded-For': '203.0.113.10'}))['user']['login'] == 'admin'
    events = ok(server.request('system/audit', user=admin, params={'type': 'login'}))
    assert events[0]['details']['address'] == '203.0.113.10'


def test_parallel_guesses_get_no_more_tries_than_the_limit(bound_server, user):
    """The lock is checked before the slow hash: without counting the tries under way,
    every worker thread got one guess past the check before the first failure counted."""
    limit = bound_server.app.settings.login_max_failures

    def guess(n):
        return requests.get(bound_server.api_url + '/user/authentication',
                            auth=('user1', 'wrong-%d' % n)).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(guess, range(32)))
    assert set(codes) <= {401, 429}, codes
    assert 0 < codes.count(401) <= limit, codes
    # the account is locked now: the right password too is refused
    right = requests.get(bound_server.api_url + '/user/authentication',
                         auth=('user1', 'password1'))
    assert right.status_code == 429, right.text
