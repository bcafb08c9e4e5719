"""Request bounds: JSON depth and size, form bodies, short and silent bodies, and the
faults a client's input raises deep down, each answered with a clear 4xx."""
import io
import socket
import time

import orjson
import psutil
import pytest

from test_core_support import assert_error, home_folder, make_item, ok, raw_request
from tilery.plugins.annotation.formats import importer
from tilery.testing import BoundServer


@pytest.fixture
def item(server, user):
    folder = server.app.models.folder.create('slides', user, 'user', user, public=False)
    return server.app.models.item.create('slide.svs', folder, user)


def nested(depth, leaf=b'1'):
    """A JSON value nested ``depth`` objects deep."""
    return b'{"a":' * depth + leaf + b'}' * depth


def annotation_with_user(depth):
    return (b'{"name": "deep", "elements": [{"type": "point", "center": [1, 2, 0], '
            b'"user": ' + nested(depth) + b'}]}')


def stored_annotations(server):
    db = server.app.db
    return db.annotation.count_documents({}) + db.annotation_chunk.count_documents({})


def test_annotation_nested_past_the_limit_is_refused(server, user, item):
    limit = server.app.settings.max_json_depth
    # the element sits at depth 3 (object, elements, element), its user value below
    ok(server.request('annotation', 'POST', user, {'itemId': item['_id']},
                      annotation_with_user(limit - 3)))
    assert stored_annotations(server) == 2
    r = server.request('annotation', 'POST', user, {'itemId': item['_id']},
                       annotation_with_user(limit - 2))
    assert_error(r, 400, 'rest', contains='nested more than %d levels' % limit)
    assert stored_annotations(server) == 2


def test_annotation_nested_100000_deep_is_refused_fast_and_keeps_no_memory(
        server, user, item):
    process = psutil.Process()
    body = annotation_with_user(100000)  # ~600 KB
    assert len(body) < 700000
    before = process.memory_info().rss
    start = time.monotonic()
    for _ in range(3):
        r = server.request('annotation', 'POST', user, {'itemId': item['_id']}, body)
        assert_error(r, 400, 'rest', contains='nested more than')
    elapsed = time.monotonic() - start
    after = process.memory_info().rss
    assert elapsed < 3, elapsed  # was ~45 s and 10 GB for one request
    assert after - before < 50 << 20, (before, after)
    assert stored_annotations(server) == 0
    # the same through the annotation list route and an imported .json file
    r = server.request('annotation/item/%s' % item['_id'], 'POST', user, body=body)
    assert_error(r, 400, 'rest', contains='nested more than')
    service = server.app.annotations
    with pytest.raises(Exception, match='nested more than'):
        importer.import_file(service, item, user, io.BytesIO(body), 'deep.json')
    assert stored_annotations(server) == 0


def test_annotation_body_size_limit(server, user, item):
    server.app.annotations.settings['max_upload_bytes'] = 1000
    body = orjson.dumps({'name': 'big', 'elements': [
        {'type': 'point', 'center': [i, i, 0]} for i in range(100)]})
    assert len(body) > 1000
    r = server.request('annotation', 'POST', user, {'itemId': item['_id']}, body)
    assert_error(r, 413, 'rest', contains='too large')
    # the declared length is refused before a byte of the body is read
    r = raw_request(server, 'POST', 'annotation', 'itemId=%s' % item['_id'], user, b'{',
                    declared=10 ** 9)
    assert_error(r, 413, 'rest', contains='too large')
    assert stored_annotations(server) == 0


def test_json_body_depth_and_size(server, user):
    item = make_item(server, user, home_folder(server, user), 'x')
    path = 'item/%s/metadata' % item['_id']
    limit = server.app.settings.max_json_depth
    ok(server.request(path, 'PUT', user, body=b'{"m":' + nested(limit - 1) + b'}'))
    for depth in (limit, 1000, 100000):
        r = server.request(path, 'PUT', user, body=b'{"m":' + nested(depth) + b'}')
        assert_error(r, 400, 'rest', contains='nested more than')
    # a json query parameter is held to the same depth
    r = server.request('item', 'POST', user, params={
        'folderId': item['folderId'], 'name': 'y',
        'metadata': (b'{"m":' + nested(1000) + b'}').decode()})
    assert_error(r, 400, 'rest', contains='nested more than')
    # a 100 MB body is refused from its Content-Length, unread
    r = raw_request(server, 'PUT', path, user=user, body=b'{', declared=100 << 20)
    assert_error(r, 413, 'rest', contains='too large')
    # under the body limit but over what a document holds: 413, not DocumentTooLarge
    server.app.settings.max_json_body = 64 << 20
    r = server.request(path, 'PUT', user, body={'big': 'x' * (17 << 20)})
    assert_error(r, 413, 'rest', contains='larger than the database accepts')
    meta = server.app.models.item.load(item['_id'])['meta']
    assert list(meta) == ['m']  # what was stored is still there


def test_metadata_keys_nul_dollar_dot(server, user):
    item = make_item(server, user, home_folder(server, user), 'x')
    path = 'item/%s/metadata' % item['_id']
    for body in ({'a\x00b': 1}, {'$set': 1}, {'a.b': 1}):
        assert_error(server.request(path, 'PUT', user, body=body), 400, 'validation')
    # a NUL in a nested key is refused by BSON: still a 400, mapped in the dispatcher
    r = server.request(path, 'PUT', user, body={'a': {'b\x00': 1}})
    assert_error(r, 400, 'rest', contains='NULL byte')
    r = server.request(path, 'PUT', user, body={'a': 2 ** 64 - 1})
    assert_error(r, 400, 'rest', contains='64 bits')
    assert 'meta' not in server.app.models.item.load(item['_id']) or \
        server.app.models.item.load(item['_id'])['meta'] == {}


def test_iid_export_with_a_huge_scale(server, user, item):
    aid = ok(server.request('annotation', 'POST', user, {'itemId': item['_id']}, {
        'name': 'p', 'elements': [{'type': 'polyline', 'closed': True,
                                   'points': [[10, 10, 0], [60, 10, 0], [35, 50, 0]]}]}))['_id']
    r = server.request('annotation/%s/iid' % aid, user=user)
    assert r.status == 200
    for scale in (1e16, 1e300, 5000):
        r = server.request('annotation/%s/iid' % aid, user=user, params={'scale': scale})
        assert_error(r, 400, 'validation', contains='smaller scale')


def test_form_encoded_bodies_are_parameters(server, admin, user):
    form = {'Content-Type': 'application/x-www-form-urlencoded'}
    r = server.request('user', 'POST', body=b'login=formuser&email=form%40example.com&'
                       b'firstName=Form&lastName=User&password=secret123', headers=form)
    assert ok(r)['login'] == 'formuser'
    private = home_folder(server, user)
    token = server.token_for(user)
    r = server.request('folder', 'POST', body=(
        'parentType=folder&parentId=%s&name=from+a+form&token=%s' % (
            private['_id'], token)).encode(), headers=form)
    assert ok(r)['name'] == 'from a form'
    # charset parameters are fine; a field also in the query is a 400
    r = server.request('folder', 'POST', params={'name': 'twice'}, body=(
        'parentType=folder&parentId=%s&name=again&token=%s' % (private['_id'], token)
    ).encode(), headers={'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8'})
    assert_error(r, 400, 'rest', contains='more than once')
    # without a token field the form is anonymous
    r = server.request('folder', 'POST', body=(
        'parentType=folder&parentId=%s&name=x' % private['_id']).encode(), headers=form)
    assert_error(r, 401)
    # the form's size is bounded
    big = b'name=' + b'x' * (server.app.settings.max_form_body + 1)
    r = server.request('folder', 'POST', user, body=big, headers=form)
    assert_error(r, 413, 'rest', contains='too large')


def test_api_key_scope_null_means_full_access(server, user):
    key = ok(server.request('api_key', 'POST', user, {'name': 'k', 'scope': 'null'}))
    assert key['scope'] is None
    token = ok(server.request('api_key/token', 'POST', params={'key': key['key']}))
    r = server.request('user/me', token=token['authToken']['token'])
    assert ok(r)['login'] == user['login']
    key = ok(server.request('api_key/%s' % key['_id'], 'PUT', user,
                            {'scope': '["core.data.read"]'}))
    assert key['scope'] == ['core.data.read']
    key = ok(server.request('api_key/%s' % key['_id'], 'PUT', user, {'name': 'renamed'}))
    assert key['scope'] == ['core.data.read']  # not given: unchanged
    key = ok(server.request('api_key/%s' % key['_id'], 'PUT', user, {'scope': 'null'}))
    assert key['scope'] is None
    r = server.request('api_key', 'POST', user, {'scope': '"core.data.read"'})
    assert_error(r, 400, 'rest', contains='list or null')


def test_unknown_methods_answer_405_with_allow(server, user):
    r = server.request('system/version', 'TRACE')
    assert_error(r, 405, 'rest')
    assert r.headers['Allow'] == 'GET, OPTIONS'
    assert server.request('no/such/path', 'TRACE').status == 405


def _raw_http(port, head, body=b'', close_write=False, wait=10):
    """Send a request by hand; return (status line, seconds until it came)."""
    with socket.create_connection(('127.0.0.1', port), timeout=wait) as sock:
        sock.sendall(head + body)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        start = time.monotonic()
        answer = b''
        while b'\r\n' not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer.split(b'\r\n', 1)[0], time.monotonic() - start


def test_short_and_silent_bodies(server, user):
    server.app.settings.socket_timeout = 1.0
    bound = BoundServer(server.app).start()
    try:
        item = make_item(server, user, home_folder(server, user), 'x')
        head = ('PUT /api/v1/item/%s/metadata HTTP/1.1\r\nHost: x\r\n'
                'Girder-Token: %s\r\nContent-Type: application/json\r\n'
                'Content-Length: 100\r\n\r\n' % (item['_id'], server.token_for(user))).encode()
        # the client sends 10 of 100 bytes and closes its side: a prompt 400
        status, seconds = _raw_http(bound.port, head, b'{"a": 1234', close_write=True)
        assert status.startswith(b'HTTP/1.1 400'), status
        assert seconds < 1
        # the client sends 10 bytes and goes silent: 408 after the socket timeout
        status, seconds = _raw_http(bound.port, head, b'{"a": 1234')
        assert status.startswith(b'HTTP/1.1 408'), status
        assert seconds < 5
        # a body refused at its first block closes the connection, the rest unread
        deep = ('POST /api/v1/annotation?itemId=%s HTTP/1.1\r\nHost: x\r\n'
                'Girder-Token: %s\r\nContent-Length: %d\r\n\r\n' % (
                    item['_id'], server.token_for(user), 1 << 30)).encode()
        status, seconds = _raw_http(bound.port, deep, b'[' * (2 << 20))
        assert status.startswith(b'HTTP/1.1 400'), status
        assert seconds < 1
        # the server still answers
        status, _ = _raw_http(bound.port, b'GET /api/v1/system/version HTTP/1.1\r\n'
                              b'Host: x\r\nConnection: close\r\n\r\n')
        assert status.startswith(b'HTTP/1.1 200'), status
    finally:
        bound.stop()


def test_describe_id_patterns_and_error_answers(server):
    from tilery.rest.params import ModelParam, OBJECT_ID_PATTERN
    doc = ok(server.request('describe'))
    routes = [r for r in server.app.router.routes if not r.hidden]
    checked = 0
    for spec in routes:
        path = '/' + '/'.join('{%s}' % s[1:] if s.startswith(':') else s
                              for s in spec.segments)
        op = doc['paths'][path][spec.method.lower()]
        params = {p['name']: p for p in op['parameters']}
        for param in spec.all_params():
            if isinstance(param, ModelParam) or param.type == 'objectid':
                assert params[param.name]['schema']['pattern'] == OBJECT_ID_PATTERN, path
                checked += 1
        codes = set(op['responses'])
        assert {'200', '400', '401', '403'} <= codes, path
        if any(p.location == 'path' for p in spec.all_params()):
            assert '404' in codes, path
        if spec.method in ('POST', 'PUT', 'PATCH'):
            assert {'408', '409', '413'} <= codes, path
    assert checked > 100
    assert doc['paths']['/folder']['get']['parameters'][0]['schema'] != {}
    limit = [p for p in doc['paths']['/folder']['get']['parameters'] if p['name'] == 'limit']
    assert limit[0]['schema']['minimum'] == 0
    assert '429' in doc['paths']['/user/authentication']['get']['responses']


def _depth(value):
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@pytest.mark.parametrize('piece', [1, 2, 3, 7, 1 << 20])
def test_depth_guard_counts_only_brackets_outside_strings(piece):
    import json

    from test_annotation_streams import DOCS
    from tilery import errors
    from tilery.rest import jsonbounds
    for doc in DOCS + [[[[]]], {'s': '\\\\"[[[[[[[[[['}, {'a': [{'b': ['"]]]]']}]}]:
        raw = json.dumps(doc, ensure_ascii=False).encode()
        depth = _depth(doc)
        chunks = [raw[i:i + piece] for i in range(0, len(raw), piece)]
        assert list(jsonbounds.DepthGuard(depth).check_chunks(chunks)) == chunks
        with pytest.raises(errors.RestError, match='nested more than'):
            list(jsonbounds.DepthGuard(depth - 1).check_chunks(chunks))
