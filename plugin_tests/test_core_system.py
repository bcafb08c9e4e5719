"""The REST conventions, /system, GET /describe and the plugin contract."""
import ast
import pathlib
import re

import pytest
from bson import ObjectId

import tilery
from test_core_support import assert_error, home_folder, make_item, ok, raw_request
from tilery.plugins import EVENTS
from tilery.rest import PUBLIC, Resource, route


def test_every_answer_has_a_request_uid_and_errors_are_girder_json(server, user):
    first = server.request('system/version')
    second = server.request('system/version')
    assert first.headers['Girder-Request-Uid'] != second.headers['Girder-Request-Uid']
    assert_error(server.request('no/such/route'), 400, 'rest', contains='no matching route')
    assert_error(server.request('system/version', 'DELETE'), 400, 'rest')
    assert_error(server.request('folder/not-an-id', user=user), 400, 'rest',
                 contains='invalid objectid')
    assert_error(server.request('folder/%s' % ('0' * 24), user=user), 400, 'rest',
                 contains='invalid folder id')
    assert_error(server.request('system/setting', 'PUT', user=user, params={
        'list': 'not json'}), 403)


class Boom(Resource):
    prefix = 'test_boom'

    @route('GET', '', access=PUBLIC, summary='Fails on purpose.')
    def fail(self, req):
        raise RuntimeError('secret detail')


def test_unexpected_errors_are_a_500_with_the_request_uid(server, caplog):
    server.app.router.add_resource(Boom())
    resp = server.request('test_boom')
    body = assert_error(resp, 500, 'internal')
    assert body['uid'] == resp.headers['Girder-Request-Uid']
    assert 'trace' not in body and 'secret detail' not in body['message']
    assert body['uid'] in caplog.text and 'secret detail' in caplog.text
    server.app.settings.debug = True
    assert any('secret detail' in line for line in server.request('test_boom').json['trace'])


def test_a_parameter_given_twice_is_refused(server, user):
    folder = home_folder(server, user)
    resp = raw_request(server, 'POST', 'item', 'folderId=%s&name=a&name=b' % folder['_id'],
                       user=user)
    assert_error(resp, 400, 'rest', contains='"name" was given more than once')
    assert server.app.models.item.count({'folderId': folder['_id']}) == 0
    # the token parameter counts too
    token = server.token_for(user)
    assert_error(raw_request(server, 'GET', 'user/me', 'token=%s&token=%s' % (token, token)),
                 400, contains='more than once')
    assert ok(raw_request(server, 'GET', 'user/me', 'token=%s' % token))['login'] == 'user1'


@pytest.mark.parametrize('params, message', [
    ({'limit': 'ten'}, 'invalid value for integer parameter "limit"'),
    ({'limit': -1}, 'limit must be at least 0'),
    ({'offset': 1.5}, 'parameter "offset"'),
    ({'sortdir': 0}, 'allowed values: 1, -1'),
    ({'parentType': 'planet'}, 'allowed values: folder, user, collection'),
    ({'parentId': 'xyz'}, 'invalid value for objectid parameter "parentid"'),
    ({'offset': 10 ** 20}, 'invalid value for integer parameter "offset"'),
    ({'limit': 2 ** 63}, 'invalid value for integer parameter "limit"'),
    ({'sort': '$where'}, 'invalid sort field'),
    ({'sort': 'meta.$x'}, 'invalid sort field'),
    ({'sort': ''}, 'invalid sort field'),
])
def test_bad_parameter_values(server, user, params, message):
    query = dict({'parentType': 'user', 'parentId': user['_id']}, **params)
    assert_error(server.request('folder', user=user, params=query), 400, 'rest',
                 contains=message)


def test_json_parameters_and_bodies_must_have_the_declared_shape(server, user):
    item = make_item(server, user, home_folder(server, user), 'slide', metadata={'a': 1})
    path = 'item/%s/metadata' % item['_id']
    for body, message in ((b'[1, 2]', 'must be a json object'), (b'"text"', 'json object'),
                          (b'{"a": ', 'invalid json'), (b'', 'request body is required'),
                          (b'{"$set": 1}', 'invalid key'), (b'{"a.b": 1}', 'invalid key')):
        assert_error(server.request(path, 'PUT', user=user, body=body), 400, contains=message)
    assert_error(server.request('item', 'POST', user=user, params={
        'folderId': item['folderId'], 'name': 'x', 'metadata': '[1]'}), 400,
        contains='must be a json object')
    assert_error(server.request('item', 'POST', user=user, params={
        'folderId': item['folderId'], 'name': 'x', 'metadata': '{nope'}), 400,
        contains='invalid value for json parameter')
    assert server.app.models.item.load(item['_id'])['meta'] == {'a': 1}
    assert server.app.models.item.count({'folderId': ObjectId(item['folderId'])}) == 1


def test_version_and_public_settings(server):
    version = ok(server.request('system/version'))
    assert int(version['release'].split('.')[0]) >= 3
    assert version['serverVersion'] == tilery.__version__
    public = ok(server.request('system/public_settings'))
    assert public['core.registration_policy'] == 'open'
    assert public['noUsersYet'] is True  # a new site: the first visitor creates the admin


def test_public_settings_say_only_whether_anyone_registered(server, admin, user):
    public = ok(server.request('system/public_settings'))
    assert public['noUsersYet'] is False
    assert set(public) == {'core.registration_policy', 'core.brand_name', 'noUsersYet'}


def test_settings_are_admin_only_validated_and_restorable(server, admin, user):
    assert_error(server.request('system/setting', params={'key': 'core.brand_name'},
                                user=user), 403)
    assert ok(server.request('system/setting', user=admin,
                             params={'key': 'core.brand_name'})) == 'Tilery'
    # a plain string value (not JSON) is accepted, as Girder does
    assert ok(server.request('system/setting', 'PUT', user=admin, params={
        'key': 'core.brand_name', 'value': 'Pathology Lab'})) == 'Pathology Lab'
    assert ok(server.request('system/setting', 'PUT', user=admin, params={
        'key': 'core.cookie_lifetime', 'value': '14'})) == 14
    assert_error(server.request('system/setting', 'PUT', user=admin, params={
        'key': 'core.registration_policy', 'value': 'sometimes'}), 400, 'validation',
        field='value')
    assert_error(server.request('system/setting', 'PUT', user=admin, params={
        'key': 'core.nonsense', 'value': '1'}), 400, 'validation', field='key')
    everything = ok(server.request('system/setting', user=admin))
    assert everything['core.brand_name'] == 'Pathology Lab'
    assert everything['core.registration_policy'] == 'open'
    assert ok(server.request('system/setting', 'PUT', user=admin, params={
        'key': 'core.brand_name', 'value': 'null'})) == 'Tilery'
    pairs = ok(server.request('system/setting', 'PUT', user=admin, params={'list': [
        {'key': 'core.registration_policy', 'value': 'closed'}]}))
    assert pairs == ['closed']
    assert_error(server.request('system/setting', 'PUT', user=admin, params={
        'list': ['core.brand_name']}), 400, contains='list must be')
    # closed registration: anonymous callers are refused, admins may still add users
    assert_error(server.request('user', 'POST', params={
        'login': 'newbie', 'email': 'n@example.com', 'firstName': 'N', 'lastName': 'B',
        'password': 'password1'}), 401, contains='closed')
    ok(server.request('user', 'POST', user=admin, params={
        'login': 'newbie', 'email': 'n@example.com', 'firstName': 'N', 'lastName': 'B',
        'password': 'password1'}))


def test_plugins_are_listed_for_admins(server, admin, user):
    assert_error(server.request('system/plugins', user=user), 403)
    listed = ok(server.request('system/plugins', user=admin))
    assert listed['enabled'] == sorted(server.app.plugins)


def _openapi_path(spec):
    return '/' + re.sub(r':(\w+)', r'{\1}', '/'.join(spec.segments))


def test_describe_lists_every_route_with_its_parameters(server):
    doc = ok(server.request('describe'))
    assert doc['openapi'].startswith('3.')
    routes = [r for r in server.app.router.routes if not r.hidden]
    described = {(path, method) for path, ops in doc['paths'].items() for method in ops}
    assert described == {(_openapi_path(r), r.method.lower()) for r in routes}
    for spec in routes:
        op = doc['paths'][_openapi_path(spec)][spec.method.lower()]
        assert {(p['name'], p['in']) for p in op['parameters']} == {
            (p.name, p.location) for p in spec.all_params()}
        for param in op['parameters']:
            if param['in'] == 'path':
                assert param['required'] is True
        if spec.json_body:
            assert 'application/json' in op['requestBody']['content']
    ids = [op['operationId'] for ops in doc['paths'].values() for op in ops.values()]
    assert len(ids) == len(set(ids)), 'operationIds must be unique'
    folder_get = doc['paths']['/folder']['get']
    assert {p['name'] for p in folder_get['parameters']} >= {
        'parentType', 'parentId', 'text', 'name', 'limit', 'offset', 'sort', 'sortdir'}


def test_describe_is_a_valid_openapi_3_document(server):
    validator = pytest.importorskip('openapi_spec_validator')
    validator.validate(ok(server.request('describe')))


def _emitted_event_names():
    """(file, line, name or None) for each events.emit(...) / subscribe(...) call."""
    root = pathlib.Path(tilery.__file__).parent
    found = []
    for path in root.rglob('*.py'):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in ('emit', 'subscribe') and \
                    isinstance(node.func.value, ast.Attribute) and \
                    node.func.value.attr == 'events' and node.args:
                arg = node.args[0]
                name = arg.value if isinstance(arg, ast.Constant) else None
                found.append(('%s:%d' % (path.relative_to(root), node.lineno), name))
    return found


def test_every_event_in_the_code_is_documented_in_the_plugin_contract():
    calls = _emitted_event_names()
    assert len(calls) >= 12
    dynamic = [where for where, name in calls if name is None]
    assert not dynamic, 'event names must be literal strings: %s' % dynamic
    undocumented = sorted({(name, where) for where, name in calls if name not in EVENTS})
    assert not undocumented, 'document these in tilery.plugins.EVENTS: %s' % undocumented
    for name in ('model.item.created', 'model.file.finalized', 'model.folder.removed'):
        assert name in {n for _, n in calls}


def test_events_reach_subscribers(server, user):
    seen = []
    server.app.events.subscribe('model.item.created', lambda doc: seen.append(doc['name']))
    server.app.events.subscribe('model.item.created', lambda doc: 1 / 0)  # logged, not fatal
    make_item(server, user, home_folder(server, user), 'announced')
    assert seen == ['announced']


def test_undocumented_events_are_refused_at_run_time(server):
    with pytest.raises(ValueError, match='EVENTS'):
        server.app.events.subscribe('model.item.exploded', lambda payload: None)
    with pytest.raises(ValueError):
        server.app.events.emit('model.item.exploded')
