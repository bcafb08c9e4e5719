"""The change feed: events that reach every server process (web and worker alike).

A change in one process (a revoked share, a new annotation element, a job's progress)
is stored once in the ``notification`` collection and read by every process's feed
thread, which hands it to its subscribers: the per-process caches forget what changed
(``Invalidation``) and the notification streams pass it to the users who may read it.

Why the database and not a broker: every process already talks to it, so the feed
needs no other server and works the same embedded or in a cluster; events stay
readable for ``feed_window`` seconds, which is what a reconnecting stream replays.
Events are read by polling, one indexed range query (``seq`` above the last one seen),
so ten polls a second cost little and there is one delivery path everywhere. Where the
database offers change streams (a replica set: real MongoDB, or ``tilery db``), a
second thread watches the collection's inserts and wakes the poller at once, which
takes the delay from about ``poll_interval`` down to the database's own; a standalone
server (the embedded default) refuses the watch and the feed keeps polling.

Sequence numbers are handed out before the insert, so a poll may see number n + 1
stored before n (two processes writing at once). The feed then waits for n up to
``GAP_SECONDS`` before giving it up (its writer died between the two writes).
"""
import datetime
import logging
import threading
import time
import uuid

import pymongo.errors

log = logging.getLogger(__name__)

#: how long a missing sequence number is waited for before it is skipped
GAP_SECONDS = 5.0
#: events read per poll at most (a backlog is read over the next polls)
BATCH = 1000


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Feed:
    """Publishes events and calls subscribers with every event of every process."""

    def __init__(self, model, poll_interval=0.1, window=3600.0):
        self.model = model
        self.poll_interval = poll_interval
        self.window = window
        self.origin = uuid.uuid4().hex  # this process, as the events it writes name it
        self._subscribers = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self._waker = None
        self.watching = False  # a change stream wakes the poller
        self._next = None  # every event numbered below has been handled
        self._seen = set()  # numbers at or above _next already handed out
        self._gap_since = None  # when _next was first found missing

    # -- writing
    def publish(self, type, data=None, user_id=None, scope=None):
        """Store an event for every process; the stored document.

        ``user_id``: only that user's notification streams may receive it.
        ``scope``: ``{'type', 'id'}`` of what a reader must be able to read.
        Neither: an internal event (cache invalidation), never sent to streams.
        """
        return self.publish_many([(type, data, user_id, scope)])[0]

    def publish_many(self, events):
        """Store several ``(type, data, user_id, scope)`` events in order, with two
        database writes in all; the stored documents."""
        now = utcnow()
        expires = now + datetime.timedelta(seconds=self.window)
        stored = self.model.add([
            {'time': now, 'type': type, 'data': data or {}, 'userId': user_id,
             'scope': scope, 'origin': self.origin, 'expires': expires}
            for type, data, user_id, scope in events])
        self._wake.set()  # subscribers of this process hear of them at once
        return stored

    # -- reading
    def subscribe(self, callback):
        """Call ``callback(event)`` in the feed thread for each event; the unsubscriber.

        Callbacks must be quick: they delay every later event of this process."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe():
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)
        return unsubscribe

    def replay(self, after_id=None, since=None, limit=BATCH):
        """Stored events after the event ``after_id``, or after the time ``since``.

        None when ``after_id`` is no longer stored (older than the window)."""
        now = utcnow()
        if after_id is not None:
            return self.model.after(after_id, now, limit)
        return self.model.since(since or now, now, limit)

    # -- the thread
    def start(self):
        if self._thread is not None:
            return
        self._next = self.model.last_seq() + 1
        self._thread = threading.Thread(target=self._loop, name='tilery-feed', daemon=True)
        self._thread.start()
        self._waker = threading.Thread(target=self._watch, name='tilery-feed-watch',
                                       daemon=True)
        self._waker.start()

    def stop(self, timeout=5.0):
        self._stop.set()
        self._wake.set()
        for thread in (self._thread, self._waker):
            if thread is not None:
                thread.join(timeout)

    def _watch(self):
        """Wake the poller on every insert, for as long as the database offers a change
        stream; a database that has none ends this thread and polling goes on."""
        while not self._stop.is_set():
            try:
                with self.model.collection.watch([{'$match': {'operationType': 'insert'}}],
                                                 max_await_time_ms=500) as stream:
                    self.watching = True
                    while not self._stop.is_set():
                        if stream.try_next() is not None:
                            self._wake.set()
            except pymongo.errors.OperationFailure:
                log.info('The database offers no change streams: the feed polls every '
                         '%s s', self.poll_interval)
                return
            except pymongo.errors.PyMongoError:
                pass  # unreachable for a while: the poller says so; watch again
            finally:
                self.watching = False
            self._stop.wait(1.0)

    def _loop(self):
        failing = False
        while not self._stop.is_set():
            try:
                more = self.poll()
                failing = False
            except pymongo.errors.PyMongoError:
                if not failing:
                    log.warning('The change feed cannot read the database; retrying',
                                exc_info=True)
                failing, more = True, False
            if not more:
                self._wake.wait(1.0 if failing else self.poll_interval)
                self._wake.clear()

    def poll(self):
        """Hand new events to the subscribers; True if more may be waiting."""
        events = self.model.from_seq(self._next, utcnow(), BATCH)
        for event in events:
            if event['seq'] not in self._seen:
                self._seen.add(event['seq'])
                self._deliver(event)
        self._advance()
        return len(events) == BATCH

    def _advance(self):
        """Move ``_next`` past the handled numbers, and past a gap waited for too long."""
        while self._seen:
            if self._next in self._seen:
                self._seen.discard(self._next)
                self._next += 1
                self._gap_since = None
                continue
            now = time.monotonic()
            if self._gap_since is None:
                self._gap_since = now
            if now - self._gap_since < GAP_SECONDS:
                return
            self._next += 1  # its writer died before storing it, or it expired
            self._gap_since = None

    def _deliver(self, event):
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                log.exception('A change feed subscriber failed on %s', event.get('type'))


class Invalidation:
    """Per-process caches that forget a key in every process at once.

    ``register(name, forget)`` names a cache; ``invalidate(name, key)`` calls
    ``forget(key)`` here at once and, through the feed, in every other process within
    about ``poll_interval`` (``key`` None: forget everything; keys must be BSON values).
    """

    EVENT = 'cache.forget'

    def __init__(self, feed):
        self.feed = feed
        self._forgetters = {}
        feed.subscribe(self._on_event)

    def register(self, name, forget):
        """Name a cache; returns ``invalidate(key=None)`` for that cache."""
        if name in self._forgetters:
            raise ValueError('A cache named %r is already registered' % name)
        self._forgetters[name] = forget
        return lambda key=None: self.invalidate(name, key)

    def invalidate(self, name, key=None):
        self._forgetters[name](key)
        self.feed.publish(self.EVENT, {'cache': name, 'key': key})

    def _on_event(self, event):
        if event['type'] != self.EVENT or event['origin'] == self.feed.origin:
            return
        forget = self._forgetters.get(event['data'].get('cache'))
        if forget is not None:  # a cache of a plugin not enabled here
            forget(event['data'].get('key'))
