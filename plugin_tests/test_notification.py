"""The notification stream (Server-Sent Events), presence and element merges, over real
HTTP servers on one database (issue 13)."""
import queue
import socket
import threading
import time

import orjson
import pytest
import requests

from tilery.testing import BoundServer, make_app


class Sse:
    """A stream over a plain socket, read in a thread: its events (parsed) and end are
    queued, keepalives counted. HTTP/1.1 streams come chunked; ``http10`` asks as
    nginx does by default (no chunks: the stream ends when the socket closes)."""

    def __init__(self, url, token, params=None, headers=None, cookie=None, http10=False):
        host, port = url.split('//')[1].split('/')[0].split(':')
        query = requests.models.RequestEncodingMixin._encode_params(params or {})
        lines = ['GET /api/v1/notification/stream%s HTTP/1.%d' % (
            '?' + query if query else '', 0 if http10 else 1), 'Host: %s' % host]
        lines += ['%s: %s' % kv for kv in dict(headers or {}).items()]
        if token:
            lines.append('Girder-Token: %s' % token)
        if cookie:
            lines.append('Cookie: girderToken=%s' % cookie)
        self.sock = socket.create_connection((host, int(port)))
        self.sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode())
        self.file = self.sock.makefile('rb')
        self.status = int(self.file.readline().split()[1])
        self.headers = {}
        for line in iter(self.file.readline, b'\r\n'):
            name, _, value = line.decode().partition(':')
            self.headers[name.strip().lower()] = value.strip()
        self.items = queue.Queue()
        self.keepalives = 0
        self.ended = False  # the answer ended properly (the last chunk came)
        self.chunked = self.headers.get('transfer-encoding') == 'chunked'
        if self.status != 200:
            self.body = self.file.read(int(self.headers.get('content-length', 0)))
            self.sock.close()
            return
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def json(self):
        return orjson.loads(self.body)

    def _blocks(self):
        while True:
            if not self.chunked:
                data = self.file.read1(65536)
                if not data:
                    return
                yield data
                continue
            size = int(self.file.readline().strip() or b'0', 16)
            data = self.file.read(size + 2)[:-2]
            if not size:
                self.ended = True
                return
            yield data

    def _read(self):
        buffer = b''
        try:
            for data in self._blocks():
                buffer += data
                while b'\n\n' in buffer:
                    frame, buffer = buffer.split(b'\n\n', 1)
                    self._frame(frame)
        except (OSError, ValueError):
            pass  # closed by the test
        self.items.put(None)

    def _frame(self, frame):
        if frame == b': keepalive':
            self.keepalives += 1
            return
        event = {}
        for line in frame.split(b'\n'):
            if line.startswith(b'id: '):
                event['id'] = line[4:].decode()
            elif line.startswith(b'data: '):
                event.update(orjson.loads(line[6:]))
        self.items.put(event)

    def next(self, timeout=2.0, type=None):
        """The next event (of ``type``), or None when the stream ended or ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.items.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if event is None or type is None or event['type'] == type:
                return event

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def rects(n, start=1):
    return [{'id': '%024x' % (start + i), 'type': 'rectangle', 'center': [10 * i + 5, 5, 0],
             'width': 4, 'height': 4} for i in range(n)]


@pytest.fixture
def shared(server, user, other):
    """A folder of ``user`` that ``other`` may write, with an item and an annotation."""
    app = server.app
    folder = app.models.folder.create('slides', user, 'user', user, public=False)
    app.models.folder.set_access(folder, {'users': [
        {'id': user['_id'], 'level': 2}, {'id': other['_id'], 'level': 1}]})
    item = app.models.item.create('slide.svs', folder, user)
    r = server.request('annotation', 'POST', user, {'itemId': item['_id']},
                       {'name': 'a', 'elements': rects(6)})
    assert r.status == 200, r.body
    aid = r.json['_id']
    # other writes it too (the annotation keeps the ACL it was made with)
    r = server.request('annotation/%s/access' % aid, 'PUT', user, params={'access': {
        'users': [{'id': str(user['_id']), 'level': 2}, {'id': str(other['_id']), 'level': 1}]}})
    assert r.status == 200, r.body
    return folder, item, aid


@pytest.fixture
def bound(server):
    bound = BoundServer(server.app).start()
    yield bound
    bound.stop()


def patch(server, who, annotation_id, ops, version=None):
    return server.request('annotation/%s' % annotation_id, 'PATCH', who,
                          {'version': version} if version is not None else None, ops)


def test_a_colleague_change_arrives_within_a_second_with_element_ids(server, bound, shared,
                                                                    user, other):
    folder, item, aid = shared
    stream = Sse(bound.api_url, server.token_for(other), {'watch': 'item:%s' % item['_id']})
    assert stream.headers['content-type'] == 'text/event-stream'
    assert stream.headers['x-accel-buffering'] == 'no'
    time.sleep(0.2)  # the hub registers the stream
    started = time.monotonic()
    r = patch(server, user, aid, [
        {'op': 'replace', 'path': 'elements/id:%024x/width' % 1, 'value': 9},
        {'op': 'add', 'path': 'elements/id:%024x' % 99,
         'value': {'type': 'point', 'center': [1, 1, 0]}},
        {'op': 'remove', 'path': 'elements/id:%024x' % 2}], version=1)
    assert r.status == 204, r.body
    event = stream.next(1.0, 'annotation.update')
    assert event is not None and time.monotonic() - started < 1.0
    assert event['id'] == event['_id'] and event['time'].endswith('+00:00')
    assert event['data']['annotationId'] == aid and event['data']['itemId'] == str(item['_id'])
    assert event['data']['version'] == 2 and event['data']['userId'] == str(user['_id'])
    assert event['data']['elements'] == {'added': ['%024x' % 99], 'changed': ['%024x' % 1],
                                         'removed': ['%024x' % 2]}
    # an item created in the watched folder reaches a folder watcher
    folder_stream = Sse(bound.api_url, server.token_for(other),
                        {'watch': 'folder:%s' % folder['_id']})
    time.sleep(0.2)
    new = server.app.models.item.create('second.svs', folder, user)
    event = folder_stream.next(1.0, 'item.create')
    assert event['data'] == {'_id': str(new['_id']), 'folderId': str(folder['_id']),
                             'name': 'second.svs'}
    stream.close()
    folder_stream.close()


def test_events_cross_processes(mongo_client, db, tmp_path, admin, user, other, server,
                                shared):
    """Two servers on one database (as ``--workers 2``): a PATCH through one reaches a
    stream on the other within a second."""
    folder, item, aid = shared
    second = make_app(mongo_client, db, tmp_path / 'second')
    one, two = BoundServer(server.app).start(), BoundServer(second).start()
    try:
        stream = Sse(one.api_url, server.token_for(other), {'watch': 'item:%s' % item['_id']})
        time.sleep(0.3)
        started = time.monotonic()
        r = requests.patch('%s/annotation/%s' % (two.api_url, aid), params={'version': 1},
                           headers={'Girder-Token': server.token_for(user)},
                           json=[{'op': 'replace', 'path': 'name', 'value': 'renamed'}])
        assert r.status_code == 204, r.text
        event = stream.next(1.0, 'annotation.update')
        assert event is not None and time.monotonic() - started < 1.0
        assert event['data']['name'] == 'renamed'
        assert event['data']['elements'] == {'added': [], 'changed': [], 'removed': []}
        stream.close()
    finally:
        two.stop()
        one.stop()


def test_nothing_reaches_a_user_without_read_access_even_right_after_revocation(
        server, bound, shared, user, other, make_user):
    folder, item, aid = shared
    outsider = make_user('outsider')
    # watching what one cannot read is refused; a stream without watches gets nothing
    denied = Sse(bound.api_url, server.token_for(outsider), {'watch': 'item:%s' % item['_id']})
    assert denied.status == 403
    assert denied.json()['type'] == 'access'
    blind = Sse(bound.api_url, server.token_for(outsider))
    reader = Sse(bound.api_url, server.token_for(other), {'watch': 'item:%s' % item['_id']})
    time.sleep(0.2)
    assert patch(server, user, aid, [{'op': 'replace', 'path': 'name', 'value': 'b'}]).status \
        == 204
    assert reader.next(1.0, 'annotation.update') is not None
    # revoke other's access: within a second nothing more is delivered
    r = server.request('folder/%s/access' % folder['_id'], 'PUT', user, params={
        'access': {'users': [{'id': str(user['_id']), 'level': 2}]}})
    assert r.status == 200, r.body
    time.sleep(1.0)
    for n in range(3):
        assert patch(server, user, aid, [{'op': 'replace', 'path': 'name',
                                          'value': 'secret %d' % n}]).status == 204
    assert reader.next(1.5, 'annotation.update') is None
    assert blind.next(0.2) is None
    blind.close()
    reader.close()


def test_resume_with_last_event_id_and_since_replays_missed_events(server, bound, shared,
                                                                  user, other):
    folder, item, aid = shared
    watch = {'watch': 'item:%s' % item['_id']}
    stream = Sse(bound.api_url, server.token_for(other), watch)
    time.sleep(0.2)
    patch(server, user, aid, [{'op': 'replace', 'path': 'name', 'value': 'one'}])
    first = stream.next(1.0, 'annotation.update')
    stream.close()
    since = time.time()
    time.sleep(0.05)
    for name in ('two', 'three'):
        assert patch(server, user, aid, [{'op': 'replace', 'path': 'name',
                                          'value': name}]).status == 204
    resumed = Sse(bound.api_url, server.token_for(other), watch,
                  headers={'Last-Event-ID': first['id']})
    names = [resumed.next(1.0, 'annotation.update')['data']['name'] for _ in range(2)]
    assert names == ['two', 'three']
    # ...and only once: a later change comes live, nothing replayed twice
    patch(server, user, aid, [{'op': 'replace', 'path': 'name', 'value': 'four'}])
    assert resumed.next(1.0, 'annotation.update')['data']['name'] == 'four'
    assert resumed.next(0.3, 'annotation.update') is None
    resumed.close()
    by_time = Sse(bound.api_url, server.token_for(other), dict(watch, since=since))
    names = [by_time.next(1.0, 'annotation.update')['data']['name'] for _ in range(3)]
    assert names == ['two', 'three', 'four']
    by_time.close()


def test_own_notifications_keepalive_and_timeout(server, bound, user, other):
    hub = server.app.notifications.hub
    hub.keepalive = 0.3
    mine = Sse(bound.api_url, server.token_for(user), {'timeout': 2})
    # as nginx asks by default: HTTP/1.0, no chunks, the end is the socket's close
    proxied = Sse(bound.api_url, server.token_for(user), {'timeout': 2}, http10=True)
    assert not proxied.chunked and mine.chunked
    time.sleep(0.2)
    server.app.feed.publish('job_status', {'_id': 'x', 'status': 2}, user_id=user['_id'])
    server.app.feed.publish('job_status', {'_id': 'y', 'status': 2}, user_id=other['_id'])
    event = mine.next(1.0)
    assert event['type'] == 'job_status' and event['data']['_id'] == 'x'
    assert proxied.next(1.0)['data']['_id'] == 'x'
    started = time.monotonic()
    assert mine.next(3.0) is None  # no other event; the stream ends at its timeout
    assert time.monotonic() - started < 2.5 and mine.keepalives >= 2 and mine.ended
    assert proxied.next(2.0) is None  # the HTTP/1.0 one ends with its socket
    deadline = time.monotonic() + 2
    while hub.count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.count == 0


def test_who_may_open_a_stream(server, bound, shared, user):
    folder, item, aid = shared
    anonymous = Sse(bound.api_url, None)
    assert anonymous.status == 401
    for watch, status in (('item:nothex', 400), ('user:%s' % user['_id'], 400),
                          ('item:%s' % ('0' * 24), 400),
                          (','.join('item:%s' % item['_id'] for _ in range(101)), 400)):
        r = Sse(bound.api_url, server.token_for(user), {'watch': watch})
        assert r.status == status, (watch, r.body)
        assert set(r.json()) >= {'message', 'type'}
    bad = Sse(bound.api_url, server.token_for(user), headers={'Last-Event-ID': 'nope'})
    assert bad.status == 400
    # the girderToken cookie opens it too (EventSource sends cookies, not headers)
    by_cookie = Sse(bound.api_url, None, {'timeout': 1}, cookie=server.token_for(user))
    assert by_cookie.status == 200 and by_cookie.next(3.0) is None and by_cookie.ended


def test_per_user_and_process_stream_limits(server, bound, user):
    hub = server.app.notifications.hub
    hub.max_per_user = 2
    open_ = [Sse(bound.api_url, server.token_for(user)) for _ in range(2)]
    time.sleep(0.3)
    third = Sse(bound.api_url, server.token_for(user))
    assert third.status == 429 and third.json()['type'] == 'rest'
    hub.max_per_user, hub.max_streams = 100, 2
    full = Sse(bound.api_url, server.token_for(user))
    assert full.status == 503 and full.headers['retry-after'] == '5'
    for s in open_:
        s.close()


def count_threads():
    return threading.active_count()


def test_500_open_streams_hold_no_thread_each(mongo_client, db, tmp_path, admin, user):
    app = make_app(mongo_client, db, tmp_path / 'many', stream_max_per_user=1000)
    bound = BoundServer(app).start()
    socks = []
    try:
        token = app.models.token.create(user)['_id']
        head = ('GET /api/v1/notification/stream?timeout=60 HTTP/1.1\r\nHost: x\r\n'
                'Girder-Token: %s\r\n\r\n' % token).encode()
        requests.get(bound.api_url + '/system/version', timeout=10)
        before = count_threads()
        for _ in range(500):
            sock = socket.create_connection(('127.0.0.1', bound.port))
            sock.sendall(head)
            socks.append(sock)
        deadline = time.monotonic() + 30
        while app.notifications.hub.count < 500 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert app.notifications.hub.count == 500
        assert count_threads() <= before + 1  # cheroot's workers came back; no new ones
        r = requests.get(bound.api_url + '/system/version', timeout=5)
        assert r.status_code == 200
        # one event reaches every one of them
        app.feed.publish('job_status', {'n': 1}, user_id=user['_id'])
        for sock in socks[:: 50]:
            sock.settimeout(5)
            got = b''
            while b'"n":1' not in got:
                got += sock.recv(65536)
        for sock in socks:
            sock.close()
        deadline = time.monotonic() + 10
        while app.notifications.hub.count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert app.notifications.hub.count == 0  # closed peers are noticed
    finally:
        for sock in socks:
            sock.close()
        bound.stop()


def test_signing_out_ends_the_stream(server, bound, user):
    token = server.app.models.token.create(user)['_id']
    stream = Sse(bound.api_url, token)
    kept = Sse(bound.api_url, server.token_for(user))
    time.sleep(0.2)
    r = server.request('user/authentication', 'DELETE', token=token)
    assert r.status == 200, r.body
    started = time.monotonic()
    assert stream.next(4.0) is None and stream.ended  # ended, not timed out
    assert time.monotonic() - started < 3.0
    server.app.feed.publish('job_status', {'n': 1}, user_id=user['_id'])
    assert kept.next(1.0)['data'] == {'n': 1}  # the user's other sessions go on
    kept.close()


def test_an_app_not_serving_streams_answers_503(server, user):
    # in-process, the app was never started: no hub thread would ever write the stream
    r = server.request('notification/stream', user=user)
    assert r.status == 503 and r.headers['Retry-After'] == '5'


def test_a_reader_that_falls_behind_is_dropped(server, bound, user):
    """A client that stops reading cannot make the server hold its events for ever."""
    hub = server.app.notifications.hub
    hub.max_buffer = 64 << 10
    token = server.token_for(user)
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(('127.0.0.1', bound.port))
    stalled.sendall(('GET /api/v1/notification/stream HTTP/1.1\r\nHost: x\r\n'
                     'Girder-Token: %s\r\n\r\n' % token).encode())
    reader = Sse(bound.api_url, token)
    deadline = time.monotonic() + 5
    while hub.count < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    big = 'x' * (256 << 10)
    for n in range(80):  # 20 MiB: more than the socket buffers and max_buffer hold
        server.app.feed.publish('job_status', {'n': n, 'pad': big}, user_id=user['_id'])
        reader.next(2.0)
    deadline = time.monotonic() + 5
    while hub.count > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.count == 1  # the stalled one is gone, the reading one stays
    server.app.feed.publish('job_status', {'n': 'last'}, user_id=user['_id'])
    assert reader.next(2.0)['data'] == {'n': 'last'}
    stalled.close()
    reader.close()
