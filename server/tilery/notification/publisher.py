"""Publisher: change events written to the feed from one background thread.

Storing an event costs the feed two database writes (its sequence number, then the
event: feed.py), 3 to 6 ms on the embedded database under load; a PATCH of one element
takes about 20 ms, so publishing from the request thread made every edit, upload and
item change measurably slower. The hot paths queue their event here instead (a deque
append) and answer; this thread stores the events in the order they were queued,
at once when it comes after a quiet spell, and in a burst with the others that arrive
within ``LINGER``, in one batch (two writes for the batch: under load the cost per
event falls). A queue past ``max_queue`` (the database is stalled) makes
publishers write themselves, so memory stays bounded and nothing is dropped; ``stop``
writes what is still queued.
"""
import collections
import logging
import threading
import time

log = logging.getLogger(__name__)

#: events stored together at most
BATCH = 500
#: in a burst, batches are stored at most every LINGER seconds (a burst of uploads or
#: edits costs the database a few writes a second; streams still hear of it within
#: about LINGER + the feed's poll interval); a lone event is stored at once
LINGER = 0.2


class Publisher:
    """``publish`` as the feed's, answered at once; the writes happen in a thread."""

    def __init__(self, feed, max_queue=10000):
        self.feed = feed
        self.max_queue = max_queue
        self._queue = collections.deque()
        self._wake = threading.Condition()
        self._thread = None
        self._stopping = False
        self._busy = False
        self._last_write = 0.0  # time.monotonic() of the last batch stored

    def publish(self, type, data=None, user_id=None, scope=None):
        """Queue an event for the feed (written now when the queue is full)."""
        if len(self._queue) >= self.max_queue or self._stopping:
            self.feed.publish(type, data, user_id=user_id, scope=scope)
            return
        with self._wake:
            self._queue.append((type, data, user_id, scope))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name='tilery-publisher',
                                                daemon=True)
                self._thread.start()
            self._wake.notify_all()

    def _run(self):
        while True:
            with self._wake:
                while not self._queue and not self._stopping:
                    self._busy = False
                    self._wake.notify_all()  # a flush may be waiting for this
                    self._wake.wait()
                if not self._queue:
                    self._busy = False
                    self._wake.notify_all()
                    return
                self._busy = True
                # in a burst (the last batch went out less than LINGER ago), wait for the
                # burst's next events to join this batch; after a quiet spell, write now
                self._wake.wait_for(lambda: self._stopping or len(self._queue) >= BATCH,
                                    self._last_write + LINGER - time.monotonic())
                batch = [self._queue.popleft()
                         for _ in range(min(len(self._queue), BATCH))]
            self._last_write = time.monotonic()
            try:
                self.feed.publish_many(batch)
            except Exception:
                log.exception('%d events could not be stored in the change feed', len(batch))

    def flush(self, timeout=10.0):
        """Wait until every queued event is stored (tests, shutdown)."""
        with self._wake:
            self._wake.wait_for(lambda: not self._queue and not self._busy, timeout)

    def stop(self, timeout=10.0):
        """Store what is queued, then end the thread."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._stopping = False
