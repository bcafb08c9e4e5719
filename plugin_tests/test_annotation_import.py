"""Annotation files uploaded into items are imported by jobs; label masks by a route."""
import io
import os
import threading

import numpy as np
import orjson
import pytest
from PIL import Image

from tilery.jobs.model import JobStatus
from tilery.plugins.annotation import imports, store
from tilery.plugins.annotation.formats import importer

WAIT = 60


@pytest.fixture
def setup(server, user):
    folder = server.app.models.folder.create('slides', user, 'user', user, public=False)
    item = server.app.models.item.create('slide.svs', folder, user)
    return folder, item


def rects(n):
    return [{'type': 'rectangle', 'center': [10 * i + 5, 5, 0], 'width': 4, 'height': 4}
            for i in range(n)]


def upload(server, user, item, tmp_path, name, value, imported=True):
    """Upload a file into the item; return (file, its finished import job or None)."""
    path = tmp_path / name
    path.write_bytes(value if isinstance(value, bytes) else orjson.dumps(value))
    file = server.app.uploads.add_local_file(item, str(path), name, user)
    jobs, _ = server.app.jobs.model.find(types=[imports.JOB_TYPE], limit=0)
    found = [j for j in jobs if j['kwargs']['fileId'] == str(file['_id'])]
    if not imported:
        assert found == [], name
        return file, None
    [job] = found
    return file, server.app.jobs.wait(job['_id'], WAIT)


def test_only_annotation_looking_files_are_imported(server, setup, user, tmp_path):
    folder, item = setup
    element = {'type': 'point', 'center': [1, 2, 0]}
    feature = {'type': 'Feature', 'geometry': {'type': 'Point', 'coordinates': [1, 2]},
               'properties': {}}
    for name, value in (
            ('config.json', {'title': 'settings', 'size': 3}),
            ('nested.json', {'ui': {'elements': [1], 'annotation': {}}}),
            ('numbers.json', [1, 2, 3]),
            ('others.json', [{'title': 'x'}, {'elements': []}]),
            ('text.geojson', b'hello'),
            ('empty.json', b''),
            ('late.json', b'{"pad": "' + b'x' * 70000 + b'", "elements": []}'),
            ('junk.iid', b'\x00' * 100),
            ('short.iid', b'iid')):
        file, _ = upload(server, user, item, tmp_path, name, value, imported=False)
        assert server.app.models.file.load(file['_id'])['name'] == name
    for name, value in (
            ('cells.json', {'description': 'd' * 30000, 'elements': [element]}),
            ('list.json', [{'name': 'a', 'elements': [element]}]),
            ('wrapped.json', {'_id': 'x', 'annotation': {'name': 'w', 'elements': [element]}}),
            ('shapes.geojson', {'type': 'FeatureCollection', 'features': [feature]}),
            ('one.json', b'\xef\xbb\xbf' + orjson.dumps(feature)),
            ('features.json', [feature, feature])):
        _, job = upload(server, user, item, tmp_path, name, value)
        assert job['status'] == JobStatus.SUCCESS, (name, job['log'])
    assert server.app.annotations.find(item_id=item['_id'])[1] == 6
    # the decision reads a bounded start of the file, whatever its size
    asked = []
    assert importer.importable('big.json', lambda size: asked.append(size) or b'{"elements"')
    assert not importer.importable('slide.svs', lambda size: asked.append(size))
    assert asked == [importer.SNIFF_BYTES]


def elements_of(server, doc):
    return orjson.loads(b''.join(server.app.annotations.query(doc).iter_json()))[
        'annotation']['elements']


def test_uploaded_file_is_imported_by_a_job(server, setup, user, tmp_path):
    folder, item = setup
    file, job = upload(server, user, item, tmp_path, 'cells.json',
                       {'name': 'cells', 'elements': rects(25)})
    assert job['status'] == JobStatus.SUCCESS, job['log']
    assert job['userId'] == user['_id'] and job['title'] == 'Import annotations from cells.json'
    assert job['progress']['current'] == 25 and job['progress']['total'] == 25
    docs, total = server.app.annotations.find(item_id=item['_id'])
    assert total == 1 and docs[0]['annotation']['name'] == 'cells'
    assert job['meta']['annotationIds'] == [docs[0]['_id']]
    assert docs[0]['creatorId'] == user['_id'] and '_importJob' not in docs[0]
    assert [e['center'][0] for e in elements_of(server, server.app.annotations.load(
        docs[0]['_id']))] == [10 * i + 5 for i in range(25)]
    # the job and the annotation are visible over REST, without internal fields
    r = server.request('job/%s' % job['_id'], user=user)
    assert r.json['status'] == 3 and 'Imported 25 elements' in r.json['log'][-1]
    listed = server.request('annotation', user=user, params={'itemId': item['_id']}).json
    assert '_importJob' not in listed[0]


def test_a_bad_file_fails_its_job_and_leaves_no_annotation(server, setup, user, tmp_path):
    folder, item = setup
    bad = rects(20)
    bad[12] = {'type': 'polyline', 'points': [[1, 2, 0]]}
    # a list: the first annotation is fine, the second is not; neither may stay
    file, job = upload(server, user, item, tmp_path, 'two.json',
                       [{'name': 'good', 'elements': rects(5)}, {'name': 'bad', 'elements': bad}])
    assert job['status'] == JobStatus.ERROR
    assert job['log'][-1] == ('Error: two.json was not imported: Element 12 (polyline): points '
                              'must hold at least 2 points.')
    assert server.app.db[store.ANNOTATION].count_documents({}) == 0
    assert server.app.db[store.CHUNK].count_documents({}) == 0
    assert server.app.db[store.VERSION].count_documents({}) == 0
    # the upload itself stands
    assert server.app.models.file.load(file['_id'])['size'] == file['size']
    _, job = upload(server, user, item, tmp_path, 'broken.geojson',
                    b'{"type": "FeatureCollection", "features": [{"type": ')
    assert job['status'] == JobStatus.ERROR and 'Invalid JSON' in job['log'][-1]
    _, job = upload(server, user, item, tmp_path, 'notes.json',
                    {'name': 'x', 'elements': [], 'title': 'not annotations'})
    assert job['status'] == JobStatus.ERROR
    assert 'unknown field title' in job['log'][-1]
    assert server.app.db[store.ANNOTATION].count_documents({}) == 0


def test_a_rerun_removes_what_an_interrupted_run_made(server, setup, user, tmp_path):
    folder, item = setup
    path = tmp_path / 'again.json'
    path.write_bytes(orjson.dumps({'name': 'again', 'elements': rects(3)}))
    jobs = server.app.jobs
    # the file is stored without the upload event, so no job runs yet
    file = server.app.models.file.collection.find_one(
        {'_id': server.app.uploads.add_local_file(item, str(path), 'again.txt', user)['_id']})
    server.app.models.file.rename(file, 'again.json')
    job = jobs.create('Import', imports.JOB_TYPE, user, schedule=False,
                      kwargs={'fileId': str(file['_id']), 'itemId': str(item['_id'])})
    # what a run killed after its first annotation was saved leaves behind
    server.app.annotations.create(item, user, {'name': 'half', 'elements': rects(2)},
                                  import_job=job['_id'])
    jobs.schedule(job)
    job = jobs.wait(job['_id'], WAIT)
    assert job['status'] == JobStatus.SUCCESS, job['log']
    assert 'Removed 1 annotation(s) made by an interrupted run.' in job['log']
    docs, _ = server.app.annotations.find(item_id=item['_id'])
    assert [d['annotation']['name'] for d in docs] == ['again']
    # an import whose item went away fails with the reason
    job = jobs.create('Import', imports.JOB_TYPE, user, schedule=False,
                      kwargs={'fileId': str(file['_id']), 'itemId': str(item['_id'])})
    server.app.models.item.remove(item)
    job = jobs.wait(jobs.schedule(job)['_id'], WAIT)
    assert job['status'] == JobStatus.ERROR and 'item was deleted' in job['log'][-1]


def png(array):
    out = io.BytesIO()
    Image.fromarray(array).save(out, 'PNG')
    return out.getvalue()


def label_image():
    """A 20x30 quarter-size mask: value 1 a square with a hole, 2 a bar, 3 a dot."""
    label = np.zeros((20, 30), dtype=np.uint8)
    label[2:8, 2:8] = 1
    label[4:6, 4:6] = 0
    label[10:12, 5:25] = 2
    label[15, 15] = 3
    return label


def post_mask(server, user, item, params, body=None):
    """POST a label mask; (the answer, the finished job or None when refused)."""
    r = server.request('annotation/item/%s/mask' % item['_id'], 'POST', user, params, body)
    if r.status != 200:
        return r, None
    assert r.json['_modelType'] == 'job' and r.json['type'] == imports.MASK_JOB_TYPE
    return r, server.app.jobs.wait(r.json['_id'], WAIT)


def imported(server, job):
    assert job['status'] == JobStatus.SUCCESS, job['log']
    [aid] = job['meta']['annotationIds']
    return server.app.annotations.load(aid)


def test_label_mask_route(server, setup, user, other, tmp_path):
    folder, item = setup
    classes = {'1': {'name': 'tumor', 'fillColor': 'rgba(255,0,0,0.5)', 'lineColor': '#f00'},
               '3': 'necrosis'}
    r, job = post_mask(server, user, item, {'scale': 0.25, 'classes': classes, 'name': 'ai'},
                       png(label_image()))
    # the request answers the job; the job traces the mask
    assert r.json['status'] in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCESS)
    doc = imported(server, job)
    assert job['progress']['current'] == job['progress']['total'] == 2
    assert job['userId'] == user['_id'] and doc['creatorId'] == user['_id']
    assert doc['annotation']['name'] == 'ai' and doc['_elementCount'] == 2
    assert '_importJob' not in server.request('annotation/%s' % doc['_id'], user=user).json
    els = elements_of(server, doc)
    tumor = next(e for e in els if e['group'] == 'tumor')
    assert tumor['label'] == {'value': 'tumor'} and tumor['fillColor'] == 'rgba(255,0,0,0.5)'
    assert tumor['lineColor'] == '#f00' and len(tumor['holes']) == 1
    # points come back in slide pixels: the mask is a quarter of the slide
    xs = [p[0] for p in tumor['points']]
    assert (min(xs), max(xs)) == (8, 32)
    necrosis = next(e for e in els if e['group'] == 'necrosis')
    assert 'fillColor' not in necrosis and necrosis['points'][0][:2] == [60, 60]
    # a list names values 1, 2, ... and takes every value; a stored file works too
    mask_file = tmp_path / 'labels'
    mask_file.write_bytes(png(label_image()))
    stored = server.app.uploads.add_local_file(item, str(mask_file), 'labels', user)
    r, job = post_mask(server, user, item, {'fileId': stored['_id'],
                                            'classes': ['tumor', 'stroma']})
    doc = imported(server, job)
    assert doc['annotation']['name'] == 'Label mask'
    els = elements_of(server, doc)
    assert sorted(e['group'] for e in els) == ['class 3', 'stroma', 'tumor']
    assert server.app.db[store.ANNOTATION].count_documents({}) == 2
    # the masks sent as bodies do not outlive their jobs
    assert os.listdir(imports.mask_dir(server.app)) == []
    for params, body, words in (
            ({'classes': {'1': {'name': 'x', 'fillColor': 'red'}}}, png(label_image()),
             'not a colour'),
            ({'classes': {'one': 'x'}}, png(label_image()), 'not a mask value'),
            ({}, png(np.zeros((4, 4, 3), dtype=np.uint8)), 'single channel'),
            ({}, png(np.zeros((4, 4, 2), dtype=np.uint8)), 'single channel'),
            ({}, b'not an image', 'not a readable mask'),
            ({}, None, 'request body'),
            ({'scale': 0}, png(label_image()), 'scale')):
        r, _ = post_mask(server, user, item, params, body)
        assert r.status == 400 and words in r.json['message'].lower(), (params, r)
    # what needs the pixels fails the job, with the reason
    r, job = post_mask(server, user, item, {'classes': {'7': 'x'}}, png(label_image()))
    assert job['status'] == JobStatus.ERROR and 'no pixels' in job['log'][-1]
    server.app.annotations.settings['max_mask_pixels'] = 100
    r, _ = post_mask(server, user, item, {}, png(label_image()))
    assert r.status == 400 and 'pixel limit' in r.json['message']
    server.app.annotations.settings['max_upload_bytes'] = 100
    r, _ = post_mask(server, user, item, {}, png(label_image()))
    assert r.status == 413
    r, _ = post_mask(server, other, item, {}, png(label_image()))
    assert r.status == 403
    assert server.app.db[store.ANNOTATION].count_documents({}) == 2
    assert os.listdir(imports.mask_dir(server.app)) == []


def test_a_queued_mask_import_that_is_canceled_leaves_nothing(server, setup, user):
    folder, item = setup
    # occupy the one job worker, so that the import waits in the queue
    started, release = threading.Event(), threading.Event()
    server.app.jobs.register('test_block', lambda ctx: (started.set(), release.wait(WAIT)))
    blocker = server.app.jobs.create('hold', 'test_block')
    try:
        assert started.wait(WAIT)
        r = server.request('annotation/item/%s/mask' % item['_id'], 'POST', user, {},
                           png(label_image()))
        assert r.status == 200 and len(os.listdir(imports.mask_dir(server.app))) == 1
        job = server.app.jobs.cancel(r.json['_id'])
        assert job['status'] == JobStatus.CANCELED
        assert os.listdir(imports.mask_dir(server.app)) == []
    finally:
        release.set()
        server.app.jobs.wait(blocker['_id'], WAIT)
    assert server.app.db[store.ANNOTATION].count_documents({}) == 0
