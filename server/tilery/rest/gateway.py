"""cheroot, the WSGI server Tilery runs on, with socket I/O that keeps up with the disk.

cheroot moves bytes through Python's pure-Python io module (``_pyio``). Reading a
1 MiB body block allocates and zeroes a 1 MiB buffer for every ``recv`` and copies
the data three times; writing a large block copies its whole unsent remainder after
every partial ``send``. Uploads, downloads and zip streams spent most of their time
there (profiled with py-spy, see bench/README.md). This module keeps cheroot's
parsing, threads and keep-alive, and replaces only the byte paths, on plain TCP
sockets (TLS sockets keep cheroot's own files):

- ``wsgi.input`` reads straight from the socket into the caller's buffer (``readinto``);
- ``wsgi.file_wrapper`` answers go out from one reused 256 KiB buffer, limited to the
  answer's Content-Length (measured on this machine's loopback: 1,970 MiB/s, against
  880-1,330 for ``socket.sendfile`` on a socket with a timeout, 1,520-1,660 for
  ``os.sendfile`` on a blocking one, and 750-850 for 4 MiB blocks, which miss the CPU
  caches: bench/bench_send_paths.py);
- responses are written with one ``sendall`` per block, and a short answer's headers
  leave in the same send as its body;
- an answer with a ``take_socket(sock, chunked)`` method (a notification stream,
  notification/hub.py) gets the socket itself once its headers are sent: the socket is
  detached from cheroot's connection, which then neither closes nor reuses it, and the
  worker thread goes back to the pool at once instead of being held for the stream's
  minutes.
"""
import select
import socket
import threading
import time

import cheroot.server
import cheroot.wsgi


SEND_BLOCK = 256 << 10  # file bytes sent at a time: fits the CPU caches
# request line and headers together: cheroot's default (0) has no limit, so one client
# streaming headers held hundreds of MiB of a worker's memory. Generous for long query
# strings (Girder clients put JSON lists of ids there); beyond it cheroot answers 414/413.
MAX_HEADER_BYTES = 1 << 20
# connections the kernel holds for accept(): cheroot's default of 5 made a burst of
# clients (500 viewers' notification streams reconnecting after a restart) wait out
# 1 s SYN retransmits
LISTEN_BACKLOG = 256


class FileWrapper:
    """``wsgi.file_wrapper``: an open file, from its current position, as an answer.

    ``length`` bounds what is sent (a Range answer is a slice of the file); without it
    the file is sent to its end, as the WSGI spec's wrapper does.
    """

    def __init__(self, filelike, block_size=1 << 20, length=None):
        self.filelike = filelike
        self.block_size = block_size
        self.length = length

    def __iter__(self):  # on TLS sockets cheroot sends it in blocks
        read = self.filelike.read
        left = self.length
        while left is None or left > 0:
            data = read(self.block_size if left is None else min(self.block_size, left))
            if not data:
                return
            if left is not None:
                left -= len(data)
            yield data

    def close(self):
        self.filelike.close()


class SocketBody:
    """``wsgi.input`` for a body with a Content-Length, read straight from the socket."""

    def __init__(self, rfile, sock):
        self._rfile = rfile  # cheroot's KnownLengthRFile: it keeps the count of what is left
        self._stream = rfile.rfile  # the connection's buffered reader (headers came through it)
        self._sock = sock

    @property
    def remaining(self):
        return self._rfile.remaining

    def readinto(self, buffer):
        """Fill up to ``len(buffer)`` bytes with one read; 0 at the end of the body."""
        view = memoryview(buffer).cast('B')
        want = min(len(view), self._rfile.remaining)
        if want <= 0:
            return 0
        if self._stream.has_data():  # bytes that arrived with the headers come first
            data = self._stream.read1(want)
            count = len(data)
            view[:count] = data
        else:
            count = self._sock.recv_into(view[:want])
            self._stream.bytes_read += count
        self._rfile.remaining -= count
        if not count:
            self._rfile.remaining = 0  # the client went away mid-body
        return count

    def read(self, size=None):
        """Up to ``size`` bytes (all that is left without one), fewer only at the end."""
        left = self._rfile.remaining
        size = left if size is None or size < 0 else min(size, left)
        buffer = bytearray(size)
        view = memoryview(buffer)
        filled = 0
        while filled < size:
            count = self.readinto(view[filled:])
            if not count:
                break
            filled += count
        del view
        del buffer[filled:]
        return bytes(buffer)

    # line reads are rare (form posts to the web root): cheroot's own reader does them
    def readline(self, size=None):
        return self._rfile.readline(size)

    def readlines(self, sizehint=0):
        return self._rfile.readlines(sizehint)

    def __iter__(self):
        return iter(self._rfile)

    def close(self):
        self._rfile.close()


class SocketWriter:
    """The connection's output: each write goes out with one ``sendall``.

    ``hold()`` keeps the next write (the headers) back so it leaves together with the
    first body block: one send instead of two for a tile.
    """

    def __init__(self, sock):
        self._sock = sock
        self._held = None
        self.bytes_written = 0

    def hold(self):
        self._held = []

    def write(self, data):
        if self._held is not None:
            self._held.append(bytes(data))
            if len(self._held) < 2:
                return len(data)
            data = b''.join(self._held)
            self._held = None
        self._sock.sendall(data)
        self.bytes_written += len(data)
        return len(data)

    def flush(self):
        if self._held:
            data, self._held = b''.join(self._held), None
            self._sock.sendall(data)
            self.bytes_written += len(data)
        self._held = None

    def close(self):
        self._held = None


def _plain(sock):
    return type(sock) is socket.socket


class HeadWatch:
    """Shuts the socket of a request whose line and headers take over ``seconds``.

    A worker thread reads a request's head with a per-read socket timeout only, so a
    client sending a header byte every few seconds (slowloris) would hold its thread
    for ever, and a few dozen such clients every thread. Each head read is registered
    here (a dict insert and delete a request); one thread, alive only while heads are
    being read, checks twice a second and shuts the sockets past their deadline, which
    ends the read at once. Behind a buffering proxy (nginx) heads arrive whole.
    """

    def __init__(self, seconds):
        self.seconds = seconds
        self._reading = {}
        self._lock = threading.Lock()
        self._thread = None

    def start(self, sock):
        """Watch one head read; returns the key to pass to ``done``."""
        key = object()
        self._reading[key] = (time.monotonic() + self.seconds, sock)
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name='tilery-heads',
                                                    daemon=True)
                    self._thread.start()
        return key

    def done(self, key):
        self._reading.pop(key, None)

    def _run(self):
        idle_since = None
        while True:
            time.sleep(0.5)
            now = time.monotonic()
            for key, (deadline, sock) in list(self._reading.items()):
                if now > deadline and self._reading.pop(key, None) is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass  # already closed
            if self._reading:
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since > 5:
                with self._lock:  # nothing to watch for a while: end the thread
                    if not self._reading:
                        self._thread = None
                        return


class Request(cheroot.server.HTTPRequest):
    """cheroot's request, with its head read under the server's HeadWatch deadline."""

    def parse_request(self):
        watch = getattr(self.server, 'head_watch', None)
        if watch is None:
            return super().parse_request()
        key = watch.start(self.conn.socket)
        try:
            return super().parse_request()
        finally:
            watch.done(key)


class Connection(cheroot.server.HTTPConnection):
    """cheroot's connection, writing through a SocketWriter on plain TCP sockets.

    After each answer cheroot hands a keep-alive connection back to its selector thread,
    which queues it for a worker again when the next request comes: three thread
    hand-offs a request, a quarter of a tile's server time (py-spy --gil, wrk with 8
    connections). A client fetching tiles sends its next request within a millisecond
    or two, so the worker waits that long for it and serves it at once, as long as no
    other connection is waiting for a worker.
    """

    RequestHandlerClass = Request
    linger_ms = 2  # how long a worker waits for a keep-alive client's next request
    burst = 64  # requests served in a row before the connection goes back to the queue

    def __init__(self, server, sock, makefile=cheroot.server.MakeFile):
        super().__init__(server, sock, makefile)
        self._poll = None
        if _plain(sock):
            self.wfile = SocketWriter(sock)
            self._poll = select.poll()
            self._poll.register(sock, select.POLLIN)

    def communicate(self):
        keep = super().communicate()
        served = 1
        while keep and served < self.burst and self._next_request_soon():
            keep = super().communicate()
            served += 1
        return keep

    def _next_request_soon(self):
        if self._poll is None or self.server.requests.qsize:
            return False  # TLS (buffered elsewhere), or others are waiting for a worker
        return self.rfile.has_data() or bool(self._poll.poll(self.linger_ms))


class Gateway(cheroot.wsgi.Gateway_10):
    """cheroot's WSGI 1.0 gateway with the fast byte paths described above."""

    def get_environ(self):
        env = super().get_environ()
        env['wsgi.file_wrapper'] = FileWrapper
        req = self.req
        if not req.chunked_read and _plain(req.conn.socket) and isinstance(
                req.rfile, cheroot.server.KnownLengthRFile):
            env['wsgi.input'] = SocketBody(req.rfile, req.conn.socket)
        return env

    def start_response(self, status, headers, exc_info=None):
        # an answer with Connection: close closes: cheroot would otherwise keep the
        # connection and read the rest of a refused body into memory in one piece (a
        # 1 GB Content-Length refused at its first block), or wait out its socket
        # timeout a second time for a client that went silent
        if any(k.lower() == 'connection' and v.lower() == 'close' for k, v in headers):
            self.req.close_connection = True
        return super().start_response(status, headers, exc_info)

    def respond(self):
        response = self.req.server.wsgi_app(self.env, self.start_response)
        writer = self.req.conn.wfile
        fast = isinstance(writer, SocketWriter) and not self.req.chunked_write
        # the access log wraps streamed answers to count them: look through it
        inner = getattr(response, 'wrapped', response)
        try:
            if fast and hasattr(inner, 'take_socket'):
                self._hand_off(inner)
                return
            if fast and self._sent_as_file(response, inner):
                return
            if fast and isinstance(response, list) and len(response) == 1:
                writer.hold()  # the headers wait for the one body block
            for chunk in response:
                if chunk:
                    if not isinstance(chunk, bytes):
                        raise ValueError('WSGI Applications must yield bytes')
                    self.write(chunk)
        finally:
            self.req.ensure_headers_sent()
            writer.flush()
            if hasattr(response, 'close'):
                response.close()

    def _sent_as_file(self, response, inner):
        """Send a FileWrapper answer from its file through one buffer; False if it is not
        one that can go that way."""
        if not isinstance(inner, FileWrapper) or self.remaining_bytes_out is None or \
                not hasattr(inner.filelike, 'readinto'):
            return False
        count = self.remaining_bytes_out
        if inner.length is not None:
            count = min(count, inner.length)
        sent = self._send_file(inner.filelike, count)
        if hasattr(response, 'add_sent'):
            response.add_sent(sent)
        return True

    def _hand_off(self, answer):
        """Send the headers, then give the socket to ``answer`` for good.

        ``linger`` makes cheroot's ``close`` leave the socket alone, and ``detach`` leaves
        cheroot's socket object without a descriptor, so neither its close nor its
        garbage collection can end the connection the answer now owns.
        """
        req = self.req
        req.ensure_headers_sent()
        req.conn.wfile.flush()
        req.close_connection = True  # never read another request from this connection
        conn = req.conn
        conn.linger = True
        chunked, req.chunked_write = req.chunked_write, False  # the answer ends its chunks
        sock = socket.socket(fileno=conn.socket.detach())
        answer.take_socket(sock, chunked)

    def _send_file(self, filelike, count):
        """Send ``count`` bytes of the file from its position, through one small buffer."""
        req = self.req
        req.ensure_headers_sent()
        sock = req.conn.socket
        view = memoryview(bytearray(SEND_BLOCK))
        sent = 0
        while sent < count:
            got = filelike.readinto(view[:min(count - sent, SEND_BLOCK)])
            if not got:
                break
            sock.sendall(view[:got])
            sent += got
        req.conn.wfile.bytes_written += sent
        if sent < count:
            # the file is shorter than its record says: the client must not wait for
            # bytes that will never come
            req.close_connection = True
        return sent


def make_server(bind_addr, wsgi_app, head_timeout=10.0, **kwargs):
    """A cheroot WSGI server using the Gateway and Connection above; a request's line
    and headers must arrive within ``head_timeout`` seconds (0: no deadline)."""
    server = cheroot.wsgi.Server(bind_addr, wsgi_app, **kwargs)
    server.head_watch = HeadWatch(head_timeout) if head_timeout else None
    server.max_request_header_size = MAX_HEADER_BYTES
    server.request_queue_size = LISTEN_BACKLOG
    server.gateway = Gateway
    server.ConnectionClass = Connection
    return server
