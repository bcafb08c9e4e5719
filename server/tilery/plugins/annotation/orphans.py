"""Removing chunks that no version refers to: what ingests that died with their process left.

A save writes its chunks first and makes them visible last, by inserting the version
that lists them (see service.py). A process killed in between leaves chunks (and their
JSON parts) that nothing will ever read.

Every ingest marks itself in flight first (``InFlight.track``: a document naming its
annotation and its process, with a heartbeat while it runs), so a sweep can tell the
leftovers of a dead ingest, of any age, from the chunks of one still running: the
chunks of an annotation with a live ingest are kept, and so are chunks written after the
sweep began (an ingest that registers later writes only those).
"""
import contextlib
import datetime
import itertools
import logging
import os
import socket
import threading
import time

import psutil
import pymongo.errors
from bson import ObjectId

from .. import now
from . import store

log = logging.getLogger(__name__)

DEFAULT_MIN_AGE = 0  # seconds; in-flight markers, not age, protect running ingests
CLOCK_MARGIN = 5  # seconds: chunk ids come from each server's clock; allow some skew
HEARTBEAT_SECONDS = 10  # how often a process refreshes the markers of its ingests
STALE_SECONDS = 60  # a marker of another host not refreshed this long is a dead ingest
SETTLE_DELAYS = (3, 5, 5, 5, 10, 10, 20, 30)  # seconds between the sweeps after the first
# a killed process's chunk inserts already sent can land later still (a loaded database
# applies a backlog of large writes), and a process on another host may die any time:
# after the settle sweeps, one sweep every PERIODIC_SECONDS for the server's life
PERIODIC_SECONDS = 300
BATCH = 1000


def _cutoff(min_age):
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(
        seconds=max(min_age, CLOCK_MARGIN))
    return ObjectId.from_datetime(when)


class InFlight:
    """The in-flight markers of this process's ingests, and which markers are live."""

    def __init__(self, model):
        self.collection = model.ingest
        process = psutil.Process()
        self.owner = {'host': socket.gethostname(), 'pid': os.getpid(),
                      'procStart': process.create_time()}
        self._active = 0
        self._lock = threading.Lock()
        self._heartbeat = None
        self._wake = threading.Event()

    @contextlib.contextmanager
    def track(self, annotation_id):
        """Mark an ingest of ``annotation_id`` in flight for the duration of the block."""
        marker = dict(self.owner, _id=ObjectId(), annotationId=annotation_id, started=now(),
                      heartbeat=now())
        self.collection.insert_one(marker)
        with self._lock:
            self._active += 1
            if self._heartbeat is None or not self._heartbeat.is_alive():
                self._heartbeat = threading.Thread(
                    target=self._beat, name='tilery-annotation-heartbeat', daemon=True)
                self._heartbeat.start()
        try:
            yield marker
        finally:
            with self._lock:
                self._active -= 1
            try:
                self.collection.delete_one({'_id': marker['_id']})
            except pymongo.errors.ConnectionFailure:
                # the next sweep finds it dead (this process gone or its heartbeat old)
                log.warning('Could not clear the in-flight marker of annotation %s',
                            annotation_id)

    def _beat(self):
        """Refresh this process's markers while it has ingests running; then end."""
        while not self._wake.wait(HEARTBEAT_SECONDS):
            with self._lock:
                if not self._active:
                    self._heartbeat = None
                    return
            try:
                self.collection.update_many(
                    {k: self.owner[k] for k in ('host', 'pid', 'procStart')},
                    {'$set': {'heartbeat': now()}})
            except pymongo.errors.ConnectionFailure:
                pass  # the database is restarting; the next beat tries again

    def stop(self):
        """End the heartbeat thread (at server stop)."""
        self._wake.set()

    def is_live(self, marker):
        """Whether the ingest that wrote ``marker`` may still be running."""
        if all(marker.get(k) == self.owner[k] for k in ('host', 'pid', 'procStart')):
            return True
        if marker.get('host') == self.owner['host']:
            # on this machine, ask the operating system: a killed process is dead at once
            try:
                started = psutil.Process(marker.get('pid')).create_time()
            except (psutil.Error, TypeError, ValueError):
                return False
            return abs(started - (marker.get('procStart') or 0)) < 1
        beat = marker.get('heartbeat')
        return beat is not None and (now() - beat).total_seconds() < STALE_SECONDS


def _referenced(model, annotation_id):
    """Ids of the chunks that any version (or the current document) of an annotation lists."""
    ids = set()
    tables = [v.get('_chunks') for v in model.versions.find(
        {'annotationId': annotation_id}, {'_chunks.ids': 1})]
    doc = model.collection.find_one({'_id': annotation_id}, {'_chunks.ids': 1})
    if doc is not None:
        tables.append(doc.get('_chunks'))
    for table in tables:
        raw = bytes((table or {}).get('ids') or b'')
        ids.update(ObjectId(raw[i:i + 12]) for i in range(0, len(raw), 12))
    return ids


def remove_orphans(model, in_flight, min_age=DEFAULT_MIN_AGE, stop=None):
    """Delete chunks and parts that no version refers to and no live ingest may still
    claim (and older than ``min_age`` seconds); the counts."""
    # the cutoff is taken before the markers are read: an ingest that registers after
    # that writes only chunks past the cutoff
    cutoff = _cutoff(min_age)
    markers = list(in_flight.collection.find({}))
    live = [m for m in markers if in_flight.is_live(m)]
    orphans = _orphan_chunks(model, cutoff, {m.get('annotationId') for m in live}, stop)
    store.delete_chunks(model, orphans)
    # a live ingest's parts are written before its chunk: keep parts it may own
    cutoff_parts = min([cutoff] + [ObjectId.from_datetime(m['started']) for m in live])
    lone_parts = _lone_parts(model, cutoff_parts)
    for start in range(0, len(lone_parts), BATCH):
        model.parts.delete_many({'_id': {'$in': lone_parts[start:start + BATCH]}})
    live_ids = {m['_id'] for m in live}
    dead = [m['_id'] for m in markers if m['_id'] not in live_ids]
    if dead:
        in_flight.collection.delete_many({'_id': {'$in': dead}})
    return {'chunks': len(orphans), 'parts': len(lone_parts)}


def _orphan_chunks(model, cutoff, busy, stop=None):
    """Ids of chunks before ``cutoff`` that no version lists, but those of ``busy``
    annotations (a live ingest is writing them)."""
    by_annotation = {}
    # one pass over the chunks' ids (the projection keeps the big arrays unread)
    for doc in model.chunks.find({'_id': {'$lt': cutoff}}, {'annotationId': 1}):
        by_annotation.setdefault(doc.get('annotationId'), []).append(doc['_id'])
    orphans = []
    for annotation_id, chunk_ids in by_annotation.items():
        if stop is not None and stop.is_set():
            break
        if annotation_id in busy:
            continue
        referenced = _referenced(model, annotation_id) if annotation_id is not None else set()
        orphans.extend(cid for cid in chunk_ids if cid not in referenced)
    return orphans


def _lone_parts(model, cutoff):
    """Ids of parts before ``cutoff`` whose chunk does not exist: parts are written before
    their chunk, so a crash in between leaves parts alone."""
    lone_parts = []
    part_chunks = {}
    for doc in model.parts.find({'_id': {'$lt': cutoff}}, {'chunkId': 1}):
        part_chunks.setdefault(doc.get('chunkId'), []).append(doc['_id'])
    chunk_ids = list(part_chunks)
    for start in range(0, len(chunk_ids), BATCH):
        batch = chunk_ids[start:start + BATCH]
        present = {d['_id'] for d in model.chunks.find({'_id': {'$in': batch}}, {'_id': 1})}
        for cid in batch:
            if cid not in present:
                lone_parts.extend(part_chunks[cid])
    return lone_parts


class Sweeper:
    """Runs ``remove_orphans`` in a background thread at server start, a few more times
    in the next minute and a half (SETTLE_DELAYS), then every PERIODIC_SECONDS."""

    def __init__(self, model, in_flight, min_age=DEFAULT_MIN_AGE, log=None):
        self.model, self.in_flight, self.min_age, self.log = model, in_flight, min_age, log
        self.result = None
        self._stop = threading.Event()
        self._swept = threading.Event()  # set once the first sweep is done
        self._thread = threading.Thread(target=self._run, name='tilery-annotation-orphans',
                                        daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        # chunks written by a process killed just before this one started may be younger
        # than the clock margin; from this wait on, all of them are older
        since_start = time.time() - self.in_flight.owner['procStart']
        if self._stop.wait(max(0.0, CLOCK_MARGIN - since_start)):
            return
        total = {'chunks': 0, 'parts': 0}
        # writes a killed process had sent may still land after its death (a busy
        # database can take seconds to apply them): look again a few times, then now
        # and then for the server's life; a failed sweep (database restarting) is retried
        for delay in itertools.chain((0,) + SETTLE_DELAYS, itertools.repeat(PERIODIC_SECONDS)):
            if self._stop.wait(delay):
                break
            try:
                found = remove_orphans(self.model, self.in_flight, self.min_age, self._stop)
            except Exception:
                if self.log and not self._stop.is_set():
                    self.log.exception('Removing orphaned annotation chunks failed')
                continue
            total = {k: total[k] + found[k] for k in total}
            self.result = total
            self._swept.set()
            if self.log and (found['chunks'] or found['parts']):
                self.log.info('Removed %d orphaned annotation chunks and %d parts',
                              found['chunks'], found['parts'])

    def wait(self, timeout=None):
        """Wait for the first sweep; the counts so far (None if it failed or is running)."""
        self._swept.wait(timeout)
        return self.result

    def stop(self, timeout=30.0):
        """Ask the sweep to stop and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
