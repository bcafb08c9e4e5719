"""StreamHub: one thread that serves every open notification stream of the process.

Why a component of its own: cheroot gives each connection a worker thread for as long
as its answer lasts, and a notification stream lasts minutes. 500 viewers with a slide
open would hold 500 threads (each with its stack, all sharing the GIL) and starve the
tile requests of workers. So once a stream's headers are sent, the gateway
(rest/gateway.py, ``take_socket``) detaches the socket from cheroot's connection and
hands it here, and the worker thread is free at once. The hub is one ``selectors`` loop
in one thread ('tilery-streams') that

- takes the feed's events from its inbox (``publish`` only appends and wakes the loop
  through a socketpair, so the feed's thread never waits on a client);
- asks the ``delivery`` (notification/service.py) whether each stream may have each
  event (access is checked then, not when the stream opened) and writes the event's
  frame, built once, to every stream that may;
- writes to non-blocking sockets, keeping what a slow peer has not taken yet (a peer
  more than ``max_buffer`` bytes behind is dropped: it cannot hold the server's memory);
- notices peers that closed (their socket reads empty), sends ``: keepalive`` after
  ``keepalive`` seconds of silence, and ends each stream at its deadline.

When the socket cannot be detached (TLS sockets, in-process test requests), the worker
thread iterates the stream instead, and the hub puts its frames on a queue for it: the
same frames and rules, one thread held.
"""
import collections
import logging
import queue
import selectors
import socket
import threading
import time

log = logging.getLogger(__name__)

KEEPALIVE = b': keepalive\n\n'
_END = object()


class Stream:
    """One open stream: what it subscribes to, its deadline and its output."""

    def __init__(self, hub, subscription, seconds):
        self.hub = hub
        self.subscription = subscription
        self.seconds = seconds
        self.deadline = None
        self.sock = None
        self.chunked = False
        self.queue = None
        self.out = bytearray()
        self.last_write = 0.0
        self.closed = False

    # -- the WSGI side (a cheroot worker thread)
    def take_socket(self, sock, chunked):
        """The gateway's hand-off: the stream owns ``sock`` from now on.

        ``chunked``: cheroot announced chunked transfer coding (HTTP/1.1 clients), so
        each write is framed as a chunk; HTTP/1.0 peers (nginx's default upstream
        protocol) read until the socket closes.
        """
        sock.setblocking(False)
        self.sock, self.chunked = sock, chunked
        self.hub.open(self)

    def __iter__(self):
        """The frames, for a server that cannot hand the socket over (holds the thread)."""
        self.queue = queue.SimpleQueue()
        self.hub.open(self)
        try:
            while True:
                data = self.queue.get()
                if data is _END:
                    return
                yield data
        finally:  # the peer went away (a write failed) or the stream ended
            self.hub.drop(self)

    # -- the hub's side (the hub thread only)
    def send(self, data):
        """Queue ``data`` for the peer; False once the stream is over."""
        if self.closed:
            return False
        self.last_write = time.monotonic()
        if self.queue is not None:
            self.queue.put(data)
            return True
        if self.chunked:
            data = b'%x\r\n%s\r\n' % (len(data), data)
        self.out += data
        return self.flush()

    def flush(self):
        """Send what the socket takes now; False when the peer is gone or too far behind."""
        try:
            while self.out:
                sent = self.sock.send(self.out)
                del self.out[:sent]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            return False
        return len(self.out) <= self.hub.max_buffer


class StreamHub:
    """The streams of one process and the thread that writes to them (see module doc)."""

    def __init__(self, delivery, keepalive=15.0, max_buffer=1 << 20, max_streams=2000,
                 max_per_user=20):
        # accepts(subscription, event), backlog(subscription), frame(event), tick()
        self.delivery = delivery
        self.keepalive = keepalive
        self.max_buffer = max_buffer
        self.max_streams = max_streams
        self.max_per_user = max_per_user
        self.token_check = 2.0  # seconds between checks that the streams' tokens live
        self._inbox = collections.deque()
        self._streams = set()
        self._per_user = collections.Counter()
        self._selector = None
        self._wake_r = self._wake_w = None
        self._thread = None
        self._stopping = False
        self.delivered = 0  # frames written (events x streams), for the metrics and bench

    # -- any thread
    def stream(self, subscription, seconds):
        """A new stream; it starts when the gateway hands it the socket (or is iterated)."""
        return Stream(self, subscription, seconds)

    def room_for(self, user_id):
        """'' when another stream may open, else why not ('stopped', 'process', 'user')."""
        if self._thread is None or self._stopping:
            return 'stopped'  # an app that was not started (or is stopping) serves none
        if len(self._streams) >= self.max_streams:
            return 'process'
        if self._per_user[user_id] >= self.max_per_user:
            return 'user'
        return ''

    @property
    def count(self):
        """Streams open now."""
        return len(self._streams)

    def open(self, stream):
        self._post(('open', stream))

    def drop(self, stream):
        self._post(('drop', stream))

    def publish(self, event):
        """The feed's callback: quick, never blocks."""
        self._post(('event', event))

    def _post(self, message):
        self._inbox.append(message)
        try:
            self._wake_w.send(b'.')
        except (BlockingIOError, AttributeError):
            pass  # a wake-up is pending already, or the hub has not started

    def start(self):
        if self._thread is not None:
            return self
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name='tilery-streams', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """End every stream (their clients reconnect elsewhere) and the thread."""
        if self._thread is None:
            return
        self._stopping = True
        self._post(('stop', None))
        self._thread.join(10)
        self._thread = None
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    # -- the hub thread
    def _run(self):
        last_sweep = last_check = time.monotonic()
        while not self._stopping:
            for key, mask in self._selector.select(0.5):
                if key.data is None:
                    self._drain_wake()
                else:
                    self._ready(key.data, mask)
            self._handle_inbox()
            now = time.monotonic()
            if now - last_sweep >= 0.5:
                last_sweep = now
                self._sweep(now)
            if now - last_check >= self.token_check:
                last_check = now
                self._end_revoked()
        for stream in list(self._streams):
            self._end(stream)

    def _drain_wake(self):
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _handle_inbox(self):
        while self._inbox:
            kind, value = self._inbox.popleft()
            try:
                if kind == 'event':
                    self._deliver(value)
                elif kind == 'open':
                    self._register(value)
                elif kind == 'drop':
                    self._close(value)
            except Exception:  # one bad event or stream must not end every stream
                log.exception('Notification stream hub: %s failed', kind)

    def _register(self, stream):
        if stream.closed:
            return
        stream.deadline = time.monotonic() + stream.seconds
        stream.last_write = time.monotonic()
        self._streams.add(stream)
        self._per_user[stream.subscription.user_id] += 1
        if stream.sock is not None:
            self._selector.register(stream.sock, selectors.EVENT_READ, stream)
        for event in self.delivery.backlog(stream.subscription):
            self._write(stream, self.delivery.frame(event))

    def _deliver(self, event):
        frame = None
        accepts = self.delivery.accepts
        for stream in list(self._streams):
            if stream.subscription.seen(event) or not accepts(stream.subscription, event):
                continue
            if frame is None:
                frame = self.delivery.frame(event)
            self._write(stream, frame)

    def _write(self, stream, data):
        if stream.send(data):
            self.delivered += 1
            self._want_write(stream)
        else:
            self._close(stream)

    def _want_write(self, stream):
        if stream.sock is None or stream.closed:
            return
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if stream.out else 0)
        if self._selector.get_key(stream.sock).events != events:
            self._selector.modify(stream.sock, events, stream)

    def _ready(self, stream, mask):
        if mask & selectors.EVENT_READ and not self._peer_open(stream):
            self._close(stream)
            return
        if mask & selectors.EVENT_WRITE:
            if stream.flush():
                self._want_write(stream)
            else:
                self._close(stream)

    @staticmethod
    def _peer_open(stream):
        """Read (and ignore) what the peer sent; False when it closed its side."""
        try:
            return bool(stream.sock.recv(4096))
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False

    def _sweep(self, now):
        self.delivery.tick()
        for stream in list(self._streams):
            if now >= stream.deadline:
                self._end(stream)
            elif now - stream.last_write >= self.keepalive:
                self._write(stream, KEEPALIVE)

    def _end_revoked(self):
        """End the streams whose token is gone (signed out, expired, user deleted)."""
        streams = list(self._streams)
        try:
            revoked = set(map(id, self.delivery.revoked([s.subscription for s in streams])))
        except Exception:  # the database is away: the next check asks again
            log.warning('Notification streams: tokens could not be checked', exc_info=True)
            return
        for stream in streams:
            if id(stream.subscription) in revoked:
                self._end(stream)

    def _end(self, stream):
        """The stream's time is up: finish the answer properly, then close."""
        if stream.chunked and stream.sock is not None and not stream.closed:
            stream.out += b'0\r\n\r\n'
            stream.flush()
        self._close(stream)

    def _close(self, stream):
        if stream.closed:
            return
        stream.closed = True
        if stream in self._streams:
            self._streams.discard(stream)
            user_id = stream.subscription.user_id
            self._per_user[user_id] -= 1
            if self._per_user[user_id] <= 0:
                del self._per_user[user_id]
        if stream.queue is not None:
            stream.queue.put(_END)
        if stream.sock is not None:
            try:
                self._selector.unregister(stream.sock)
            except (KeyError, ValueError):
                pass
            try:
                stream.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            stream.sock.close()
