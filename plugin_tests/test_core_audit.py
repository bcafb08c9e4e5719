"""The audit log (issue 8): sign-ins, keys, access and admin changes, imports; admins
query it with GET /system/audit, and it can also go to a file of JSON lines."""
import datetime
import json

from test_core_support import assert_error, home_folder, make_folder, ok


def audit(server, admin, **params):
    resp = server.request('system/audit', user=admin, params=params)
    return ok(resp), int(resp.headers['Girder-Total-Count'])


def test_audit_records_security_events_and_admins_query_them(server, admin, user, other,
                                                             tmp_path):
    log_file = tmp_path / 'audit.jsonl'
    server.app.audit.path = str(log_file)
    server.request('user/authentication', basic=('user1', 'wrong-password'))
    token = ok(server.request('user/authentication', basic=('user1', 'password1')))
    key = ok(server.request('api_key', 'POST', user=user, params={'name': 'script'}))
    ok(server.request('api_key/token', 'POST', params={'key': key['key']}))
    ok(server.request('api_key/%s' % key['_id'], 'PUT', user=user, params={'active': False}))
    ok(server.request('api_key/%s' % key['_id'], 'DELETE', user=user))
    folder = make_folder(server, user, home_folder(server, user), 'shared')
    ok(server.request('folder/%s/access' % folder['_id'], 'PUT', user=user, params={
        'access': {'users': [{'id': str(other['_id']), 'level': 1}], 'groups': []},
        'recurse': True}))
    group = ok(server.request('group', 'POST', user=admin, params={'name': 'lab'}))
    ok(server.request('group/%s/invitation' % group['_id'], 'POST', user=admin, params={
        'userId': user['_id'], 'force': True}))
    ok(server.request('user/%s' % other['_id'], 'PUT', user=admin, params={'admin': True}))
    ok(server.request('system/setting', 'PUT', user=admin, params={
        'key': 'core.brand_name', 'value': 'Lab'}))
    source = tmp_path / 'scans'
    source.mkdir()
    (source / 'a.txt').write_bytes(b'a')
    store = server.app.models.assetstore.current()
    ok(server.request('assetstore/%s/import' % store['_id'], 'POST', user=admin, params={
        'importPath': str(source), 'destinationId': home_folder(server, admin)['_id']}))
    ok(server.request('user/authentication', 'DELETE', token=token['authToken']['token']))

    events, total = audit(server, admin, limit=100)
    types = [e['type'] for e in events]
    assert total == len(events)
    for wanted in ('login.failure', 'login', 'api_key.create', 'token.create',
                   'api_key.update', 'api_key.delete', 'access.change', 'group.member.add',
                   'user.admin_change', 'setting.change', 'import', 'logout'):
        assert wanted in types, (wanted, types)
    assert types[0] == 'logout'  # newest first
    by_type = {e['type']: e for e in reversed(events)}
    failure = by_type['login.failure']
    assert failure['login'] == 'user1' and failure['details']['address'] == '127.0.0.1'
    change = by_type['access.change']
    assert change['details']['recurse'] is True and change['login'] == 'user1'
    assert change['details']['resourceId'] == folder['_id']
    assert by_type['user.admin_change']['details'] == {
        'userId': str(other['_id']), 'login': 'other1', 'admin': True}
    assert by_type['import']['details']['files'] == 1

    # filters: type list, user, dates, paging
    only, n = audit(server, admin, type='login,login.failure')
    assert {e['type'] for e in only} == {'login', 'login.failure'} and n == 2
    mine, _ = audit(server, admin, userId=user['_id'], limit=100)
    assert mine and all(e['userId'] == str(user['_id']) for e in mine)
    page, n = audit(server, admin, limit=2, offset=1)
    assert len(page) == 2 and n == total and page[0] == events[1]
    future = (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).isoformat() + 'Z'
    assert audit(server, admin, since=future) == ([], 0)
    assert audit(server, admin, until=future)[1] == total
    assert_error(server.request('system/audit', user=admin, params={'since': 'yesterday'}),
                 400, contains='ISO 8601')

    # admins only
    assert_error(server.request('system/audit'), 401)
    assert_error(server.request('system/audit', user=user), 403)

    # the file has one JSON line per event
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [e['type'] for e in lines] == list(reversed(types))
    assert all(set(e) == {'type', 'when', 'userId', 'login', 'details'} for e in lines)


def test_audit_entries_expire_by_age(server, admin):
    server.app.audit.days = 2
    entry = server.app.audit.record('test.event', admin, n=1)
    assert abs((entry['expires'] - entry['when']) - datetime.timedelta(days=2)) < \
        datetime.timedelta(seconds=1)
    server.app.audit.days = 0  # kept forever: no expiry date for the TTL index
    assert 'expires' not in server.app.audit.record('test.event', admin, n=2)
    indexes = server.app.models.audit.collection.index_information()
    assert any(i.get('expireAfterSeconds') == 0 and i['key'] == [('expires', 1)]
               for i in indexes.values())
