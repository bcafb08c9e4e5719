"""Hostile clients on a real port: what one request may cost the server."""
import socket


def _answer(sock):
    """(status line and headers, body) of the answer on ``sock``."""
    received = b''
    while b'\r\n\r\n' not in received:
        piece = sock.recv(65536)
        if not piece:
            break
        received += piece
    head, _, body = received.partition(b'\r\n\r\n')
    length = [int(h.split(b':')[1]) for h in head.split(b'\r\n')
              if h.lower().startswith(b'content-length:')]
    while length and len(body) < length[0]:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return head, body


def _answer_head(sock):
    return _answer(sock)[0]


def test_headers_beyond_the_limit_are_refused(bound_server):
    """Headers are read into memory: a client streaming megabytes of them is cut off
    at the limit instead of holding a worker's memory without bound."""
    from tilery.rest.gateway import MAX_HEADER_BYTES
    sock = socket.create_connection(('127.0.0.1', bound_server.port), timeout=10)
    with sock:
        sock.sendall(b'GET /api/v1/system/version HTTP/1.1\r\nHost: x\r\n')
        line = b'a' * 65536
        try:
            for i in range(2 * MAX_HEADER_BYTES // len(line)):
                sock.sendall(b'X-Filler-%d: %s\r\n' % (i, line))
            sock.sendall(b'\r\n')
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before reading everything
        head = _answer_head(sock)
    assert head.startswith(b'HTTP/1.1 413'), head[:100]


def test_a_long_request_line_is_refused(bound_server):
    from tilery.rest.gateway import MAX_HEADER_BYTES
    sock = socket.create_connection(('127.0.0.1', bound_server.port), timeout=10)
    with sock:
        try:
            sock.sendall(b'GET /api/v1/system/version?q=' + b'a' * (2 * MAX_HEADER_BYTES) +
                         b' HTTP/1.1\r\nHost: x\r\n\r\n')
        except (BrokenPipeError, ConnectionResetError):
            pass
        head = _answer_head(sock)
    assert head.startswith(b'HTTP/1.1 414'), head[:100]


def test_headers_within_the_limit_are_served(bound_server):
    sock = socket.create_connection(('127.0.0.1', bound_server.port), timeout=10)
    with sock:
        sock.sendall(b'GET /api/v1/system/version HTTP/1.1\r\nHost: x\r\nX-Filler: %s\r\n\r\n'
                     % (b'a' * 100000))
        assert _answer_head(sock).startswith(b'HTTP/1.1 200')


def _raw_get(bound_server, path, token):
    """(status line and headers as text lines, body) of a GET, read off the socket."""
    sock = socket.create_connection(('127.0.0.1', bound_server.port), timeout=10)
    with sock:
        sock.sendall(('GET /api/v1/%s HTTP/1.1\r\nHost: x\r\nGirder-Token: %s\r\n'
                      'Connection: close\r\n\r\n' % (path, token)).encode())
        received = b''
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            received += piece
    head, _, body = received.partition(b'\r\n\r\n')
    return head.decode('latin-1').split('\r\n'), body


def test_a_file_name_cannot_add_headers_to_its_download(bound_server, server, user):
    """File names are the owner's text: a CR/LF in one must not end the
    Content-Disposition header and start one of the owner's choosing."""
    from test_core_support import ok
    folder = server.app.models.folder.find_one({'parentId': user['_id'], 'name': 'Public'})
    name = 'x\r\nSet-Cookie: girderToken=planted\r\n\u00e9t\u00e9.txt'
    done = ok(server.request('file', 'POST', user=user, body=b'hello', params={
        'parentType': 'folder', 'parentId': folder['_id'], 'name': name, 'size': 5}))
    lines, body = _raw_get(bound_server, 'file/%s/download' % done['_id'],
                           server.token_for(user))
    assert lines[0].startswith('HTTP/1.1 200') and body == b'hello'
    assert not [h for h in lines if h.lower().startswith('set-cookie')], lines
    disposition = [h for h in lines if h.startswith('Content-Disposition: ')]
    assert disposition == ['Content-Disposition: attachment; filename="xSet-Cookie: '
                           'girderToken=planted?t?.txt"; filename*=UTF-8\'\'x%0D%0ASet-'
                           'Cookie%3A%20girderToken%3Dplanted%0D%0A%C3%A9t%C3%A9.txt'], lines


def test_mask_class_names_cannot_break_the_answer(bound_server, server, user):
    """Class names go into a header: non-Latin-1 letters failed the answer (500), and a
    CR/LF added a header. Each name is percent-encoded."""
    import urllib.parse

    from test_core_support import ok
    folder = server.app.models.folder.find_one({'parentId': user['_id'], 'name': 'Public'})
    item = server.app.models.item.create('slide', folder, user)
    names = ['\u7ec6\u80de\r\nX-Planted: 1', 'a,b', 'plain name']
    elements = [{'type': 'rectangle', 'center': [10 + 20 * i, 10, 0], 'width': 10,
                 'height': 10, 'group': n} for i, n in enumerate(names)]
    made = ok(server.request('annotation', 'POST', user, {'itemId': item['_id']},
                             {'name': 'a', 'elements': elements}))
    lines, body = _raw_get(bound_server, 'annotation/%s/mask?width=100&height=40' %
                           made['_id'], server.token_for(user))
    assert lines[0].startswith('HTTP/1.1 200'), lines
    assert body.startswith(b'\x89PNG')
    assert not [h for h in lines if h.lower().startswith('x-planted')], lines
    classes = [h.split(': ', 1)[1] for h in lines if h.startswith('Tilery-Mask-Classes: ')]
    assert [urllib.parse.unquote(n) for n in classes[0].split(',')] == names


def _chunk_under_way(bound_server, server, user, size, sent, chunk=None):
    """An upload of ``size`` bytes whose first chunk (``chunk`` bytes, default all) has
    sent ``sent`` bytes so far (seen on disk): (upload, socket still sending, temp path)."""
    import os
    import time

    from test_core_support import ok
    folder = server.app.models.folder.find_one({'parentId': user['_id'], 'name': 'Private'})
    upload = ok(server.request('file', 'POST', user=user, params={
        'parentType': 'folder', 'parentId': folder['_id'], 'name': 'race.bin', 'size': size}))
    temp = server.app.models.upload.load(upload['_id'])['tempFile']
    sock = socket.create_connection(('127.0.0.1', bound_server.port), timeout=10)
    sock.sendall(('POST /api/v1/file/chunk?uploadId=%s&offset=0 HTTP/1.1\r\nHost: x\r\n'
                  'Girder-Token: %s\r\nContent-Length: %d\r\n\r\n' % (
                      upload['_id'], server.token_for(user), chunk or size)).encode() +
                 b'a' * sent)
    deadline = time.monotonic() + 10
    while not (os.path.exists(temp) and os.path.getsize(temp) >= sent):
        assert time.monotonic() < deadline, 'the server never wrote the chunk'
        time.sleep(0.01)
    return upload, sock, temp


def test_cancel_during_the_last_chunk(bound_server, server, user):
    """The upload is canceled while its last chunk arrives: the chunk gets a clear 400,
    and neither an empty item nor the bytes are left behind (it was a 500 and an item
    that claimed 4 MiB it never had)."""
    import json
    import os

    from test_core_support import ok
    size = 4 << 20
    upload, sock, temp = _chunk_under_way(bound_server, server, user, size, 1 << 20)
    with sock:
        ok(server.request('file/upload/%s' % upload['_id'], 'DELETE', user=user))
        sock.sendall(b'a' * (size - (1 << 20)))
        head, body = _answer(sock)
    assert head.startswith(b'HTTP/1.1 400'), head
    assert 'canceled' in json.loads(body)['message']
    assert server.app.models.item.find_one({'name': 'race.bin'}) is None
    assert server.app.models.upload.find_one({'_id': upload['_id']}) is None
    assert not os.path.exists(temp)


def test_cancel_during_a_chunk_refuses_it(bound_server, server, user):
    """The chunk answered 200 with an offset of an upload that no longer existed."""
    import os

    from test_core_support import ok
    upload, sock, temp = _chunk_under_way(bound_server, server, user, 8 << 20, 1 << 20,
                                          chunk=2 << 20)
    with sock:
        ok(server.request('file/upload/%s' % upload['_id'], 'DELETE', user=user))
        sock.sendall(b'a' * (1 << 20))
        head = _answer_head(sock)
    assert head.startswith(b'HTTP/1.1 400'), head
    assert not os.path.exists(temp)
    assert server.app.models.upload.find_one({'_id': upload['_id']}) is None


def test_slow_headers_cannot_hold_every_worker(mongo_client, db, tmp_path):
    """Slowloris: more clients than worker threads each dribble a header line every
    0.3 s. Their heads are cut off at request_head_timeout, so a normal request still
    gets its answer, and every slow connection is closed by the server."""
    import threading
    import time

    import requests

    from tilery.testing import BoundServer, make_app
    app = make_app(mongo_client, db, tmp_path / 'data', request_head_timeout=1.0)
    bound = BoundServer(app).start()  # 16 worker threads
    stop = threading.Event()
    closed = []

    def dribble():
        sock = socket.create_connection(('127.0.0.1', bound.port), timeout=30)
        with sock:
            try:
                sock.sendall(b'GET /api/v1/system/version HTTP/1.1\r\nHost: x\r\n')
                for i in range(200):
                    if stop.is_set():
                        return
                    sock.sendall(b'X-Slow-%d: y\r\n' % i)
                    time.sleep(0.3)
            except OSError:
                closed.append(True)  # the server shut the connection
    try:
        slow = [threading.Thread(target=dribble, daemon=True) for _ in range(24)]
        for thread in slow:
            thread.start()
        time.sleep(1.5)  # every worker is (or was) busy with a slow head
        started = time.monotonic()
        answer = requests.get(bound.api_url + '/system/version', timeout=20)
        assert answer.status_code == 200
        assert time.monotonic() - started < 10
        for thread in slow:
            thread.join(30)
        assert len(closed) == len(slow)
    finally:
        stop.set()
        bound.stop()
