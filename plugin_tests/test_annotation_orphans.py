"""Chunks left by ingests that died with their process are removed, and only those."""
import datetime
import socket
import subprocess

import numpy as np
import psutil
import pytest
from bson import Binary, ObjectId

from tilery.models.base import now

from tilery.plugins.annotation import chunks, orphans, store
from tilery.plugins.annotation.service import AnnotationService


def rects(n, x=0):
    return [{'type': 'rectangle', 'center': [x + 10 * i + 5, 5, 0], 'width': 4, 'height': 4}
            for i in range(n)]


def old_id(hours=2):
    """An ObjectId made ``hours`` ago (what a chunk written then carries)."""
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=hours)
    return ObjectId(ObjectId.from_datetime(when).binary[:4] + ObjectId().binary[4:])


def dead_ingest(db, annotation_id, n=30, chunk_size=10):
    """Chunks written as an ingest writes them, by one killed before saving its version."""
    writer = store.ChunkWriter(db, annotation_id, dict(store.DEFAULT_SETTINGS,
                                                       chunk_size=chunk_size))
    for index, element in enumerate(rects(n, 5000)):
        writer.add(element, index)
    writer.flush()
    writer._wait()
    return list(writer.written)


def backdate(db, chunk_ids, hours=2):
    """Re-store chunks under ids made ``hours`` ago; returns the new ids."""
    new_ids = []
    for cid in chunk_ids:
        doc = db[store.CHUNK].find_one({'_id': cid})
        db[store.CHUNK].delete_one({'_id': cid})
        doc['_id'] = old_id(hours)
        db[store.CHUNK].insert_one(doc)
        new_ids.append(doc['_id'])
    return new_ids


@pytest.fixture
def svc(db):
    service = AnnotationService(db, {'chunk_size': 10})
    service.ensure_indexes()
    return service


def marker(db, annotation_id, host='other-host', pid=1, proc_start=0.0, started_hours=0,
           beat_seconds=0):
    """The in-flight marker of an ingest in another process; its id."""
    when = now()
    doc = {'_id': ObjectId(), 'annotationId': annotation_id, 'host': host, 'pid': pid,
           'procStart': proc_start,
           'started': when - datetime.timedelta(hours=started_hours),
           'heartbeat': when - datetime.timedelta(seconds=beat_seconds)}
    db[store.INGEST].insert_one(doc)
    return doc['_id']


def finished_process():
    """(pid, start time) of a process that has exited."""
    proc = subprocess.Popen(['true'])
    started = psutil.Process(proc.pid).create_time() if psutil.pid_exists(proc.pid) else 0.0
    proc.wait()
    return proc.pid, started


def test_leftovers_of_dead_ingests_go_at_any_age_and_live_ingests_keep_theirs(svc):
    db, owner = svc.db, {'_id': ObjectId()}
    item = {'_id': ObjectId(), 'folderId': ObjectId()}
    doc = svc.create(item, owner, {'name': 'kept', 'elements': rects(40)})
    first = svc.query(doc, {'limit': 1})
    eid = next(first.elements())['id']
    svc.patch(doc['_id'], [{'op': 'remove', 'path': 'elements/id:' + eid}], owner)
    svc.delete(doc['_id'])  # deleted annotations can be undone: their chunks stay
    live = set(d['_id'] for d in db[store.CHUNK].find({}, {'_id': 1}))
    assert len(live) == 5  # 4 of version 1, 1 rewritten by the patch
    assert db[store.INGEST].count_documents({}) == 0  # saves clear their markers
    # dead ingests: of a new version of the annotation, of one never saved, and one that
    # died a minute ago in a process of this machine that is gone (its marker says so)
    old = backdate(db, dead_ingest(db, doc['_id']))
    never_saved = backdate(db, dead_ingest(db, ObjectId()))
    recent_id = ObjectId()
    recent = backdate(db, dead_ingest(db, recent_id), hours=1 / 60)
    pid, started = finished_process()
    dead_marker = marker(db, recent_id, socket.gethostname(), pid, started)
    # live ingests, running for hours: one in another server (fresh heartbeat), one here
    running_id, here_id = ObjectId(), ObjectId()
    running = backdate(db, dead_ingest(db, running_id))
    running_marker = marker(db, running_id, started_hours=2.5)
    # a big chunk's JSON parts are written before the chunk: a crash between leaves parts;
    # a live ingest that started before a part was written may still own it
    lone_part = {'_id': old_id(3), 'chunkId': ObjectId(), 'data': Binary(b'x')}
    young_part = {'_id': old_id(1), 'chunkId': ObjectId(), 'data': Binary(b'x')}
    db[store.PART].insert_many([lone_part, young_part])
    with svc.in_flight.track(here_id):
        mine = backdate(db, dead_ingest(db, here_id))
        assert db[store.CHUNK].count_documents({}) == 5 + 3 * 5
        assert svc.remove_orphans() == {'chunks': 9, 'parts': 1}
        left = set(d['_id'] for d in db[store.CHUNK].find({}, {'_id': 1}))
        assert left == live | set(running) | set(mine)
        assert not left & set(old + never_saved + recent)
        assert [p['_id'] for p in db[store.PART].find()] == [young_part['_id']]
        # the dead ingest's marker went with its chunks; the live ones stay
        markers = {m['_id'] for m in db[store.INGEST].find()}
        assert dead_marker not in markers and running_marker in markers
        assert len(markers) == 2
    # every version still reads whole
    svc.undelete(doc['_id'])
    for version, count in ((1, 40), (2, 39)):
        assert svc.query_version(doc['_id'], version, {}).info['count'] == count
    # this process's ingest ended without a save (an import that failed its check):
    # its chunks are now leftovers; the other server's ingest still runs
    assert svc.remove_orphans() == {'chunks': 3, 'parts': 0}
    # the other server stops beating (it died): its chunks and the part go too
    db[store.INGEST].update_one({'_id': running_marker}, {'$set': {
        'heartbeat': now() - datetime.timedelta(seconds=orphans.STALE_SECONDS + 1)}})
    assert svc.remove_orphans() == {'chunks': 3, 'parts': 1}
    assert db[store.CHUNK].count_documents({}) == 5
    assert db[store.INGEST].count_documents({}) == 0


def test_chunks_split_into_parts_are_removed_with_their_parts(svc):
    db = svc.db
    texts = [b'{"type":"point","center":[1,2,0]}'] * 3
    doc, _ = chunks.encode(ObjectId(), 0, np.array([ObjectId().binary] * 3, dtype='S12'),
                           np.zeros((3, 6)), [1, 1, 1], [0, 1, 2], [('point',)] * 3, texts)
    # stored as a chunk over MAX_INLINE_JSON is: its compressed JSON in part documents
    blob = doc.pop('json')
    doc['_id'] = old_id()
    parts = [{'_id': old_id(), 'chunkId': doc['_id'], 'data': Binary(blob[:10])},
             {'_id': old_id(), 'chunkId': doc['_id'], 'data': Binary(blob[10:])}]
    doc['parts'] = [p['_id'] for p in parts]
    db[store.PART].insert_many(parts)
    db[store.CHUNK].insert_one(doc)
    assert svc.remove_orphans() == {'chunks': 1, 'parts': 0}
    assert db[store.PART].count_documents({}) == 0


def test_admin_route_and_sweep_at_start(server, admin, user):
    app, db = server.app, server.app.db
    old = backdate(db, dead_ingest(db, ObjectId()))
    assert server.request('annotation/orphans', 'DELETE', user).status == 403
    # a restricted token, even an admin's, may not call maintenance routes
    key = server.request('api_key', 'POST', admin, {'scope': ['core.data.write']}).json
    token = server.request('api_key/token', 'POST', params={'key': key['key']}).json[
        'authToken']['token']
    assert server.request('annotation/orphans', 'DELETE', token=token).status in (401, 403)
    assert db[store.CHUNK].count_documents({}) == len(old)
    r = server.request('annotation/orphans', 'DELETE', admin)
    assert r.status == 200 and r.json == {'chunks': 3, 'parts': 0}
    assert db[store.CHUNK].count_documents({}) == 0
    backdate(db, dead_ingest(db, ObjectId()))
    app.start()
    app.annotations.sweeper.wait(30)
    assert app.annotations.sweeper.result == {'chunks': 3, 'parts': 0}
    assert db[store.CHUNK].count_documents({}) == 0
