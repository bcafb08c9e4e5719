"""The labels plugin: per-user masks, classes, progress, zip, superpixels, access."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from tilery.plugins.labels.service import decode_ids


def png(array, mode=None):
    out = io.BytesIO()
    Image.fromarray(array, mode).save(out, 'PNG')
    return out.getvalue()


@pytest.fixture
def project(server, admin, user):
    """A folder holding one 256x192 RGB image item, shared read-only with ``user``."""
    folders = server.app.models.folder
    private = folders.find_one({'parentId': admin['_id'], 'name': 'Private'})
    folder = folders.create('project', private, 'folder', admin)
    rng = np.random.default_rng(1)
    image = np.zeros((192, 256, 3), np.uint8)
    image[:, :128] = (200, 40, 40)
    image[:, 128:] = (40, 40, 200)
    image += rng.integers(0, 20, image.shape, dtype=np.uint8)
    data = png(image)
    item = server.app.models.item.create('slide.png', folder, admin)
    r = server.request('file', 'POST', admin, params={
        'parentType': 'item', 'parentId': item['_id'], 'name': 'slide.png',
        'size': len(data)}, body=data)
    assert r.status == 200, r.json
    r = server.request('folder/%s/access' % folder['_id'], 'PUT', admin, params={
        'access': {'users': [{'id': str(admin['_id']), 'level': 2},
                             {'id': str(user['_id']), 'level': 0}], 'groups': []}})
    assert r.status == 200, r.json
    return folder, item


def test_save_read_replace_and_progress(server, admin, project):
    folder, item = project
    mask = np.zeros((96, 128), np.uint8)
    mask[10:50, 10:60] = 2
    r = server.request('item/%s/labels' % item['_id'], 'PUT', admin, params={
        'status': 'checkpoint'}, body=png(mask))
    assert r.status == 200, r.json
    assert r.json['values'] == [0, 2] and r.json['scale'] == 2.0
    mask[60:90, 70:120] = 3
    r = server.request('item/%s/labels' % item['_id'], 'PUT', admin, params={
        'status': 'done'}, body=png(mask))
    assert r.status == 200 and r.json['status'] == 'done'
    assert server.request('item/%s/labels' % item['_id']).status == 401  # private folder
    listed = server.request('item/%s/labels' % item['_id'], user=admin).json
    assert len(listed) == 1 and listed[0]['login'] == 'admin'
    back = server.request('item/%s/labels/%s' % (item['_id'], admin['_id']), user=admin)
    assert back.status == 200
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(back.body))), mask)
    # replacing kept one file for the mask (plus the image)
    files = server.request('item/%s/files' % item['_id'], user=admin).json
    assert sorted(f['name'] for f in files) == ['labels-admin.png', 'slide.png']
    progress = server.request('folder/%s/labels/progress' % folder['_id'], user=admin).json
    assert progress['items'] == 1
    assert progress['labellers'][0]['done'] == 1
    z = server.request('folder/%s/labels/download' % folder['_id'], user=admin)
    with zipfile.ZipFile(io.BytesIO(z.body)) as archive:
        assert archive.namelist() == ['project/slide.png/admin-done.png']


def test_bad_masks_are_refused_and_change_nothing(server, admin, project):
    folder, item = project
    url = 'item/%s/labels' % item['_id']
    r = server.request(url, 'PUT', admin, body=b'not an image')
    assert r.status == 400 and 'readable' in r.json['message']
    r = server.request(url, 'PUT', admin, body=png(np.zeros((10, 10, 3), np.uint8)))
    assert r.status == 400 and 'single-channel' in r.json['message']
    r = server.request(url, 'PUT', admin, body=png(np.zeros((100, 50), np.uint8)))
    assert r.status == 400 and 'shapes differ' in r.json['message']
    r = server.request(url, 'PUT', admin, params={'status': 'finished'},
                       body=png(np.zeros((96, 128), np.uint8)))
    assert r.status == 400
    assert server.request(url, user=admin).json == []


def test_read_only_user_needs_the_annotate_flag(server, admin, user, project):
    folder, item = project
    url = 'item/%s/labels' % item['_id']
    body = png(np.ones((96, 128), np.uint8))
    assert server.request(url, 'PUT', user, body=body).status == 403
    assert server.request(url, 'PUT', body=body).status == 401
    r = server.request('folder/%s/access' % folder['_id'], 'PUT', admin, params={
        'access': {'users': [{'id': str(admin['_id']), 'level': 2},
                             {'id': str(user['_id']), 'level': 0, 'flags': ['annotate']}],
                   'groups': []}})
    assert r.status == 200
    r = server.request(url, 'PUT', user, body=body)
    assert r.status == 200, r.json
    # a labeller cannot delete someone else's mask without write access
    server.request(url, 'PUT', admin, body=body)
    r = server.request('%s/%s' % (url, admin['_id']), 'DELETE', user)
    assert r.status == 403
    r = server.request('%s/%s' % (url, user['_id']), 'DELETE', user)
    assert r.status == 200
    assert [m['login'] for m in server.request(url, user=admin).json] == ['admin']


def test_classes(server, admin, user, project):
    folder, _ = project
    url = 'folder/%s/labels/classes' % folder['_id']
    classes = [{'value': 1, 'name': 'tumour', 'color': '#ff0000'},
               {'value': 2, 'name': 'stroma', 'color': '#00ff00'}]
    assert server.request(url, 'PUT', user, body=classes).status == 403
    assert server.request(url, 'PUT', admin, body=classes).json == classes
    assert server.request(url, user=user).json == classes
    r = server.request(url, 'PUT', admin, body=[{'value': 1, 'name': 'a'},
                                                {'value': 1, 'name': 'b'}])
    assert r.status == 400 and r.json['type'] == 'validation'
    assert server.request(url, user=user).json == classes


@pytest.mark.parametrize('algorithm', ['slic', 'felzenszwalb', 'quickshift', 'watershed'])
def test_superpixels(server, admin, project, algorithm):
    _, item = project
    r = server.request('item/%s/superpixels' % item['_id'], user=admin, params={
        'algorithm': algorithm, 'nSegments': 50, 'maxSize': 128})
    assert r.status == 200, r.body[:300]
    ids = decode_ids(r.body)
    assert ids.shape == (96, 128)
    count = int(r.headers['Superpixel-Count'])
    assert count >= 2 and ids.max() == count - 1
    assert float(r.headers['Superpixel-Scale']) == 2.0
    # no superpixel straddles the red/blue boundary at x=128 (x=64 at this scale)
    left, right = set(np.unique(ids[:, :62])), set(np.unique(ids[:, 66:]))
    assert not (left & right)


def test_superpixel_region_checks(server, admin, project):
    _, item = project
    r = server.request('item/%s/superpixels' % item['_id'], user=admin, params={
        'left': 10, 'right': 5000})
    assert r.status == 400 and 'inside' in r.json['message']
    r = server.request('item/%s/superpixels' % item['_id'], user=admin, params={
        'algorithm': 'magic'})
    assert r.status == 400
