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
