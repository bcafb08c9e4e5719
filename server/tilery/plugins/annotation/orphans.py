"""Removing chunks that no version refers to: what ingests that died with their process left.

A save writes its chunks first and makes them visible last, by inserting the version
that lists them (see service.py). A process killed in between leaves chunks (and their
JSON parts) that nothing will ever read. Only chunks older than ``min_age`` seconds are
touched (ObjectIds carry their creation time), so an ingest still running is safe.
"""
import datetime
import threading

from bson import ObjectId

from . import store

DEFAULT_MIN_AGE = 3600  # seconds; an ingest of a 1.5 GB file takes minutes, not an hour
BATCH = 1000


def _cutoff(min_age):
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=min_age)
    return ObjectId.from_datetime(when)


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


def remove_orphans(model, min_age=DEFAULT_MIN_AGE, stop=None):
    """Delete unreferenced chunks and parts older than ``min_age`` seconds; the counts."""
    cutoff = _cutoff(min_age)
    by_annotation = {}
    # one pass over the chunks' ids (the projection keeps the big arrays unread)
    for doc in model.chunks.find({'_id': {'$lt': cutoff}}, {'annotationId': 1}):
        by_annotation.setdefault(doc.get('annotationId'), []).append(doc['_id'])
    orphans = []
    for annotation_id, chunk_ids in by_annotation.items():
        if stop is not None and stop.is_set():
            break
        referenced = _referenced(model, annotation_id) if annotation_id is not None else set()
        orphans.extend(cid for cid in chunk_ids if cid not in referenced)
    store.delete_chunks(model, orphans)
    # parts are written before their chunk: a crash in between leaves parts alone
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
    for start in range(0, len(lone_parts), BATCH):
        model.parts.delete_many({'_id': {'$in': lone_parts[start:start + BATCH]}})
    return {'chunks': len(orphans), 'parts': len(lone_parts)}


class Sweeper:
    """Runs ``remove_orphans`` once in a background thread (at server start)."""

    def __init__(self, model, min_age=DEFAULT_MIN_AGE, log=None):
        self.model, self.min_age, self.log = model, min_age, log
        self.result = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='tilery-annotation-orphans',
                                        daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        try:
            self.result = remove_orphans(self.model, self.min_age, self._stop)
            if self.log and (self.result['chunks'] or self.result['parts']):
                self.log.info('Removed %d orphaned annotation chunks and %d parts',
                              self.result['chunks'], self.result['parts'])
        except Exception:
            if self.log and not self._stop.is_set():
                self.log.exception('Removing orphaned annotation chunks failed')

    def wait(self, timeout=None):
        """Wait for the sweep to end; its counts (None if it failed or is still running)."""
        self._thread.join(timeout)
        return self.result

    def stop(self, timeout=30.0):
        """Ask the sweep to stop and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
