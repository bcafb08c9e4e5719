"""The annotation service against a real database: storage, queries, versions, errors."""
import io
import threading
import tracemalloc

import numpy as np
import orjson
import pytest
from bson import ObjectId

from tilery.errors import Conflict, NotFound, ValidationError
from tilery.plugins.annotation import store
from tilery.plugins.annotation.settings import options
from tilery.plugins.annotation.service import AnnotationService


@pytest.fixture
def svc(server):
    return AnnotationService(server.app.models.annotation, {'chunk_size': 50, 'batch_size': 400})


@pytest.fixture
def owner(user):
    return user  # a stored user: access lists name only users that exist


@pytest.fixture
def item():
    folder = {'_id': ObjectId(), 'public': False,
              'access': {'users': [{'id': ObjectId(), 'level': 1, 'flags': []}], 'groups': []}}
    return {'_id': ObjectId(), 'folderId': folder['_id']}, folder


def grid(n, step=10):
    """n rectangles on a grid, with alternating groups."""
    side = int(np.ceil(np.sqrt(n)))
    return [{'type': 'rectangle', 'center': [(i % side) * step + 5, (i // side) * step + 5, 0],
             'width': 4, 'height': 4, 'group': 'g%d' % (i % 2)} for i in range(n)]


def answer(query):
    return orjson.loads(b''.join(query.iter_json()))


def test_create_and_read_back_in_order(svc, owner, item):
    it, folder = item
    els = grid(1000)
    doc = svc.create(it, owner, {'name': 'cells', 'elements': els}, folder)
    assert doc['_elementCount'] == 1000 and doc['_detailsCount'] == 4000
    assert doc['groups'] == ['g0', 'g1']
    # the creator is ADMIN and the folder's ACL was copied
    levels = {e['id']: e['level'] for e in doc['access']['users']}
    assert levels[owner['_id']] == 2 and len(levels) == 2
    out = answer(svc.query(doc))
    got = out['annotation']['elements']
    assert [e['center'] for e in got] == [e['center'] for e in els]
    assert len({e['id'] for e in got}) == 1000
    assert out['_elementQuery']['count'] == 1000 and out['_elementQuery']['returned'] == 1000
    # chunks were written spatially sorted and small
    chunks = list(svc.model.chunks.find({'annotationId': doc['_id']}, {'n': 1}))
    assert len(chunks) == 20 and all(c['n'] <= 50 for c in chunks)


def test_region_size_sort_and_paging_match_brute_force(svc, owner, item):
    it, folder = item
    rng = np.random.default_rng(5)
    els = [{'type': 'circle', 'center': [float(x), float(y), 0], 'radius': float(r)}
           for x, y, r in zip(rng.uniform(0, 1000, 700), rng.uniform(0, 1000, 700),
                              rng.uniform(1, 30, 700))]
    doc = svc.create(it, owner, {'elements': els}, folder)
    region = {'left': 200, 'right': 450, 'top': 300, 'bottom': 500}
    expect = [i for i, e in enumerate(els)
              if e['center'][0] + e['radius'] >= 200 and e['center'][0] - e['radius'] < 450
              and e['center'][1] + e['radius'] >= 300 and e['center'][1] - e['radius'] < 500]
    got = answer(svc.query(doc, region))
    centers = [e['center'] for e in got['annotation']['elements']]
    assert centers == [els[i]['center'] for i in expect]
    assert got['_elementQuery']['filter']['bbox.lowx'] == {'$lt': 450}
    big = answer(svc.query(doc, dict(region, sort='size', sortdir=-1, limit=5, offset=2,
                                     minimumSize=20)))['annotation']['elements']
    sizes = sorted((e['radius'] * 2 * 2 ** 0.5 for e in (els[i] for i in expect)
                    if e['radius'] * 2 * 2 ** 0.5 >= 20), reverse=True)
    assert [e['radius'] * 2 * 2 ** 0.5 for e in big] == pytest.approx(sizes[2:7])
    limited = answer(svc.query(doc, {'maxDetails': 10}))
    assert limited['_elementQuery']['returned'] == 3 and limited['_elementQuery']['details'] == 12


def test_centroids_binary_layout(svc, owner, item):
    it, folder = item
    els = [{'type': 'point', 'center': [10, 20, 0], 'fillColor': '#ff0000'},
           {'type': 'rectangle', 'center': [100, 50, 0], 'width': 6, 'height': 8,
            'lineColor': '#00ff00'},
           {'type': 'polyline', 'points': [[0, 0, 0], [4, 0, 0], [4, 2, 0]], 'closed': True}]
    doc = svc.create(it, owner, {'name': 'c', 'elements': els}, folder)
    q = svc.query(doc, {'centroids': 'true'})
    assert q.content_type == 'application/octet-stream'
    data = b''.join(q.iter_centroids())
    head, rest = data.split(b'\x00', 1)
    assert head.endswith(b'"elements": [')
    binary, tail = rest[:28 * 3], rest[28 * 3:]
    assert tail.startswith(b'\x00]')
    info = orjson.loads(head.replace(b'"elements": [', b'"elements": []') + tail[2:])
    props = info['_elementQuery']['props']
    rec = np.frombuffer(binary, dtype=[('id', 'S12'), ('x', '<f4'), ('y', '<f4'),
                                       ('s', '<f4'), ('i', '<i4')])
    full = answer(svc.query(doc))['annotation']['elements']
    assert [bytes(r).ljust(12, b'\0').hex() for r in rec['id']] == [e['id'] for e in full]
    assert rec['x'].tolist() == [10, 100, 2] and rec['y'].tolist() == [20, 50, 1]
    assert rec['s'][0] == 0 and rec['s'][1] == pytest.approx(10)
    assert props[rec['i'][0]] == ['point', '#ff0000', 'rgb(0,0,0)', 2]
    assert props[rec['i'][2]] == ['polyline', 'rgba(0,0,0,0)', 'rgb(0,0,0)', 2, True]
    assert info['_elementQuery']['returned'] == 3


@pytest.mark.parametrize('bad, field', [
    ({'type': 'polyline', 'points': [[1, 2, 0]]}, 'elements/1/points'),
    ({'type': 'point', 'center': [1, float('nan'), 0]}, 'elements/1'),
    ({'type': 'point', 'center': [1, float('inf'), 0]}, 'elements/1'),
    ({'type': 'point', 'center': ['1', 2, 0]}, 'elements/1/center/0'),
    ({'type': 'blob', 'center': [1, 2, 0]}, 'elements/1/type'),
    ({'type': 'point', 'center': [1, 2, 0], 'extra': 1}, 'elements/1'),
])
def test_invalid_elements_are_refused_and_nothing_is_stored(svc, owner, item, bad, field):
    it, folder = item
    with pytest.raises(ValidationError) as exc:
        svc.create(it, owner, {'elements': [{'type': 'point', 'center': [0, 0, 0]}, bad]},
                   folder)
    assert exc.value.field == field and 'Element 1' in exc.value.message
    assert svc.model.chunks.count_documents({}) == 0
    assert svc.model.collection.count_documents({}) == 0


def test_duplicate_ids_and_bad_header_leave_nothing(svc, owner, item):
    it, folder = item
    dup = 'ab' * 12
    els = grid(600) + [{'type': 'point', 'center': [0, 0, 0], 'id': dup},
                       {'type': 'point', 'center': [1, 1, 0], 'id': dup}]
    with pytest.raises(ValidationError, match='Duplicate element id abab'):
        svc.create(it, owner, {'elements': els}, folder)
    with pytest.raises(ValidationError, match='name'):
        svc.create(it, owner, {'name': 5, 'elements': grid(3)}, folder)
    with pytest.raises(ValidationError, match='Invalid JSON'):
        svc.create(it, owner, io.BytesIO(b'{"name": "x", "elements": [{"type": "po'), folder)
    assert svc.model.chunks.count_documents({}) == 0
    assert svc.model.versions.count_documents({}) == 0


def test_streamed_body_with_wrapper_and_cap(server, owner, item):
    it, folder = item
    svc = AnnotationService(server.app.models.annotation, {'max_upload_bytes': 2000})
    body = orjson.dumps({'annotation': {'name': 'wrapped', 'elements': grid(5)}, '_id': 'x'})
    doc = svc.create(it, owner, io.BytesIO(body), folder)
    assert doc['annotation']['name'] == 'wrapped' and doc['_elementCount'] == 5
    with pytest.raises(Exception) as exc:
        svc.create(it, owner, io.BytesIO(orjson.dumps({'elements': grid(100)})), folder)
    assert exc.value.status == 413


def test_patch_versions_history_revert_delete(svc, owner, item):
    it, folder = item
    doc = svc.create(it, owner, {'name': 'v1', 'elements': grid(300)}, folder)
    els = answer(svc.query(doc))['annotation']['elements']
    chunk_ids = set(store.ChunkTable.from_doc(doc['_chunks']).ids)
    new_id = 'cd' * 12
    v2 = svc.patch(doc['_id'], [
        {'op': 'replace', 'path': 'name', 'value': 'v2'},
        {'op': 'remove', 'path': 'elements/id:' + els[0]['id']},
        {'op': 'replace', 'path': 'elements/id:%s/width' % els[1]['id'], 'value': 8},
        {'op': 'add', 'path': 'elements/id:' + new_id,
         'value': {'type': 'point', 'center': [3, 3, 0]}}], owner)
    assert v2['_version'] == 2 and v2['_elementCount'] == 300
    # only the touched chunks were rewritten
    shared = set(store.ChunkTable.from_doc(v2['_chunks']).ids) & chunk_ids
    assert len(shared) >= len(chunk_ids) - 2
    got = answer(svc.query(v2))['annotation']['elements']
    assert got[0]['id'] == els[1]['id'] and got[0]['width'] == 8 and got[-1]['id'] == new_id
    old = answer(svc.query_version(doc['_id'], 1))
    assert old['annotation']['name'] == 'v1' and len(old['annotation']['elements']) == 300
    assert [h['_version'] for h in svc.history(doc['_id'])] == [2, 1]
    with pytest.raises(Conflict):
        svc.patch(doc['_id'], [{'op': 'replace', 'path': 'name', 'value': 'x'}], owner,
                  expected_version=1)
    with pytest.raises(ValidationError, match='already exists'):
        svc.patch(doc['_id'], [{'op': 'add', 'path': 'elements/id:' + new_id,
                                'value': {'type': 'point', 'center': [3, 3, 0]}}], owner)
    v3 = svc.revert(doc['_id'], 1, owner)
    assert v3['_version'] == 3 and v3['annotation']['name'] == 'v1'
    svc.delete(doc['_id'])
    with pytest.raises(NotFound):
        svc.load(doc['_id'], active_only=True)
    assert svc.find(item_id=it['_id'])[1] == 0
    svc.revert(doc['_id'])
    assert svc.find(item_id=it['_id'])[1] == 1


def test_concurrent_patches_lose_nothing(svc, owner, item):
    it, folder = item
    doc = svc.create(it, owner, {'elements': grid(200)}, folder)
    errors = []

    def add(n):
        try:
            svc.patch(doc['_id'], [{'op': 'add', 'path': 'elements/id:%024x' % n,
                                    'value': {'type': 'point', 'center': [n, n, 0]}}], owner)
        except Exception as exc:  # recorded, asserted below
            errors.append(exc)
    threads = [threading.Thread(target=add, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = svc.load(doc['_id'])
    ids = {e['id'] for e in answer(svc.query(final))['annotation']['elements']}
    added = sum('%024x' % n in ids for n in range(1, 5))
    # every patch either landed or failed with a 409; none vanished silently
    assert added + sum(isinstance(e, Conflict) for e in errors) == 4
    assert final['_elementCount'] == 200 + added
    assert not [e for e in errors if not isinstance(e, Conflict)]


def test_update_copy_metadata_access_counts(svc, owner, item):
    it, folder = item
    doc = svc.create(it, owner, {'name': 'a', 'elements': grid(120)}, folder)
    kept = svc.update(doc['_id'], {'name': 'renamed'}, owner)
    assert kept['_elementCount'] == 120 and kept['annotation']['name'] == 'renamed'
    replaced = svc.update(doc['_id'], {'name': 'b', 'elements': grid(3)}, owner,
                          expected_version=2)
    assert replaced['_elementCount'] == 3
    with pytest.raises(Conflict):
        svc.update(doc['_id'], {'name': 'c'}, owner, expected_version=2)
    other_item = {'_id': ObjectId(), 'folderId': folder['_id']}
    copied = svc.copy(doc['_id'], other_item, owner, folder)
    assert len(answer(svc.query(copied))['annotation']['elements']) == 3
    meta = svc.set_metadata(doc['_id'], {'stain': 'HE', 'gone': None}, owner)
    assert meta['annotation']['attributes'] == {'stain': 'HE'}
    with pytest.raises(ValidationError):
        svc.set_metadata(doc['_id'], {'$bad': 1}, owner)
    svc.set_access(doc['_id'], {'users': [{'id': str(owner['_id']), 'level': 2}]}, public=True)
    assert svc.load(doc['_id'])['public'] is True
    counts = svc.counts([it['_id'], other_item['_id']])
    assert counts == {str(it['_id']): 1, str(other_item['_id']): 1}
    assert svc.delete_for_item(it['_id']) == 1


def test_history_pruning_removes_unreferenced_chunks(server, owner, item):
    it, folder = item
    svc = AnnotationService(server.app.models.annotation, {'history_keep': 1, 'chunk_size': 10})
    doc = svc.create(it, owner, {'elements': grid(30)}, folder)
    svc.update(doc['_id'], {'name': 'x', 'elements': grid(5)}, owner)
    assert [h['_version'] for h in svc.history(doc['_id'])] == [2]
    assert svc.model.chunks.count_documents({}) == 1


def test_ingest_buffer_stays_small(owner):
    """Buffered elements cost their JSON plus ~100 bytes (lists of objects took ~4.6 KB)."""
    writer = store.ChunkWriter(None, ObjectId(), options(batch_size=10 ** 6))
    def element(i):
        return {'type': 'rectangle', 'center': [i, 5.5, 0], 'width': 4, 'height': 4.25,
                'lineColor': '#00ff00'}
    n = 20000
    json_bytes = sum(len(orjson.dumps(element(i))) for i in range(n)) + 36 * n  # ids added
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for index in range(n):
            writer.add(element(index), index)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert used < json_bytes * 1.2 + 120 * n, (used / n, json_bytes / n)
    ids, box, details, order, style, ends = writer._buf.arrays()
    assert len(ids) == 20000 and box[7].tolist() == [5, 3.375, 0, 9, 7.625, 0]
    assert ends[-1] == len(writer._buf.text) and writer._styles == [
        ('rectangle', 'rgba(0,0,0,0)', '#00ff00', 2)]
