"""How fast this machine's loopback takes a file's bytes, by the way they are sent.

One server socket, curl as the client (discarding), the same file sent with
socket.sendfile (socket with a timeout, as cheroot's are), os.sendfile (blocking
socket), and readinto + sendall through reused buffers of 256 KiB, 1 MiB and 4 MiB.
rest/gateway.py chose its download path from these figures.
Env: SEND_FILE (a file to send; default: 512 MiB of random bytes made in BENCH_TMP).
Run: python bench/bench_send_paths.py
"""
import os
import socket
import subprocess
import tempfile
import time

TMP = os.environ.get('BENCH_TMP', tempfile.gettempdir())
path = os.environ.get('SEND_FILE') or os.path.join(TMP, 'bench_send_512.bin')
if not os.path.exists(path):
    with open(path, 'wb') as out:
        for _ in range(512):
            out.write(os.urandom(1 << 20))
size = os.path.getsize(path)


def run(label, fn, timeout):
    srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)
    port = srv.getsockname()[1]
    p = subprocess.Popen(['curl', '-s', '-o', '/dev/null', '--http0.9', 'http://127.0.0.1:%d/' % port])
    conn, _ = srv.accept(); conn.settimeout(timeout)
    conn.recv(4096)
    t0 = time.perf_counter()
    conn.sendall(b'HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n' % size)
    with open(path, 'rb', buffering=0) as fh:
        fn(conn, fh)
    conn.close(); p.wait(); dt = time.perf_counter() - t0
    print('%-28s %6.0f MiB/s' % (label, size / 1048576 / dt), flush=True)


def sendfile(conn, fh):
    conn.sendfile(fh, 0, size)


def os_sendfile_blocking(conn, fh):
    off = 0
    while off < size:
        off += os.sendfile(conn.fileno(), fh.fileno(), off, size - off)


def blocks(n):
    def f(conn, fh):
        buf = bytearray(n); mv = memoryview(buf)
        while True:
            k = fh.readinto(buf)
            if not k: break
            conn.sendall(mv[:k])
    return f


for r in range(2):
    run('sock.sendfile timeout=10', sendfile, 10)
    run('os.sendfile blocking', os_sendfile_blocking, None)
    run('sendall 1MiB timeout', blocks(1 << 20), 10)
    run('sendall 4MiB timeout', blocks(4 << 20), 10)
    run('sendall 256K timeout', blocks(256 << 10), 10)
