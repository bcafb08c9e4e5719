"""Hostile clients on a real port: what one request may cost the server."""
import socket


def _answer_head(sock):
    """The status line and headers of the answer on ``sock`` (until the blank line)."""
    received = b''
    while b'\r\n\r\n' not in received:
        piece = sock.recv(65536)
        if not piece:
            break
        received += piece
    return received.partition(b'\r\n\r\n')[0]


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
