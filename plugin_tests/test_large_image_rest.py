"""/item/:id/tiles and /job over the REST framework (in-process requests)."""
import threading
import xml.etree.ElementTree as ET

import pytest
from bson import ObjectId

import test_large_image_samples as sample_files
from tilery.jobs.model import JobStatus

samples = sample_files.samples  # the session fixture of sample images
decode = sample_files.decode

WAIT = 120


def folder_of(server, user, name='Public'):
    return server.app.models.folder.find_one({'parentId': user['_id'], 'name': name})


def upload(server, user, path, folder='Public'):
    """Upload a file into a new item of the user's folder (one request); the item."""
    data = path.read_bytes()
    r = server.request('file', method='POST', user=user, body=data, params={
        'parentType': 'folder', 'parentId': folder_of(server, user, folder)['_id'],
        'name': path.name, 'size': len(data)})
    assert r.status == 200, r
    return server.request('item/%s' % r.json['itemId'], user=user).json


def tiles_url(item, rest=''):
    return 'item/%s/tiles%s' % (item['_id'], rest)


def wait_job(server, user, item):
    job = server.app.jobs.wait(item['largeImage']['jobId'], WAIT)
    return job, server.request('item/%s' % item['_id'], user=user).json


@pytest.fixture
def hold_pool(server):
    """Occupy the one job worker, so that conversions wait in the queue."""
    started, release = threading.Event(), threading.Event()
    server.app.jobs.register('test_block', lambda ctx: (started.set(), release.wait(WAIT)))
    job = server.app.jobs.create('hold', 'test_block')
    assert started.wait(WAIT)
    yield
    release.set()
    server.app.jobs.wait(job['_id'], WAIT)


def test_uploaded_pyramid_serves_tiles(server, admin, samples):
    item = upload(server, admin, samples.pyramid)
    assert item['largeImage']['sourceName'] == 'tiff'
    meta = server.request(tiles_url(item), user=admin)
    assert meta.status == 200
    assert {k: meta.json[k] for k in ('levels', 'sizeX', 'sizeY', 'tileWidth')} == {
        'levels': 3, 'sizeX': 1000, 'sizeY': 700, 'tileWidth': 256}
    r = server.request(tiles_url(item, '/zxy/2/1/1'), user=admin)
    assert r.status == 200 and r.headers['Content-Type'] == 'image/jpeg'
    assert r.headers['Cache-Control'] == 'private, max-age=600'
    image = server.app.large_image.open(server.app.models.item.load(item['_id']))
    assert r.body == server.app.large_image.tiles.tile(image, 2, 1, 1)
    again = server.request(tiles_url(item, '/zxy/2/1/1'), user=admin,
                           headers={'If-None-Match': r.headers['ETag']})
    assert again.status == 304 and again.body == b''
    other = server.request(tiles_url(item, '/zxy/2/1/0'), user=admin)
    assert other.headers['ETag'] != r.headers['ETag']
    png = server.request(tiles_url(item, '/zxy/0/0/0'), user=admin, params={'encoding': 'PNG'})
    assert png.headers['Content-Type'] == 'image/png' and decode(png.body).shape[:2] == (
        256, 256)


def test_multiframe_tiles(server, admin, samples):
    item = upload(server, admin, samples.multiframe)
    meta = server.request(tiles_url(item), user=admin).json
    assert len(meta['frames']) == 3
    a = server.request(tiles_url(item, '/fzxy/2/1/0/0'), user=admin)
    b = server.request(tiles_url(item, '/zxy/1/0/0'), user=admin, params={'frame': 2})
    assert a.status == b.status == 200 and a.body == b.body
    assert server.request(tiles_url(item, '/fzxy/3/1/0/0'), user=admin).status == 404
    style = {'min': 'min', 'max': 'max', 'palette': ['#000', '#0f0']}
    styled = server.request(tiles_url(item, '/zxy/1/0/0'), user=admin,
                            params={'style': style, 'encoding': 'PNG'})
    assert styled.status == 200 and decode(styled.body)[..., 0].max() == 0
    frames = server.request(tiles_url(item, '/tile_frames'), user=admin,
                            params={'frameList': '0,1', 'width': 100, 'encoding': 'PNG'})
    assert frames.status == 200 and decode(frames.body).shape[:2] == (75, 200)


def test_bad_coordinates_and_missing_images(server, admin, samples, tmp_path):
    item = upload(server, admin, samples.pyramid)
    for path, status in [('/zxy/a/0/0', 400), ('/zxy/1/-1/0', 400), ('/zxy/1/0/1.5', 400),
                         ('/zxy/3/0/0', 404), ('/zxy/2/4/0', 404), ('/fzxy/x/0/0/0', 400),
                         ('/zxy/0/0/1000000000000000', 404),
                         ('/zxy/0/0/99999999999999999999', 400)]:  # beyond 64 bits
        r = server.request(tiles_url(item, path), user=admin)
        assert r.status == status, (path, r)
        assert r.json['message'] and r.json['type'] == 'rest'
    assert server.request('item/nonsense/tiles/zxy/0/0/0', user=admin).status == 400
    plain = tmp_path / 'readme.txt'
    plain.write_text('not an image')
    other = upload(server, admin, plain)
    r = server.request(tiles_url(other, '/zxy/0/0/0'), user=admin)
    assert r.status == 404 and 'no large image' in r.json['message']
    # the server kept serving through all of that
    assert server.request(tiles_url(item, '/zxy/0/0/0'), user=admin).status == 200


def test_access_token_cookie_and_scope(server, admin, user, samples):
    item = upload(server, user, samples.pyramid, folder='Private')
    url = tiles_url(item, '/zxy/0/0/0')
    assert server.request(url).status == 401
    other = server.app.models.user.create('nosy', 'nosy@example.com', 'N', 'O', 'password1')
    assert server.request(url, user=other).status == 403
    token = server.token_for(user)
    assert server.request(url, cookie=token).status == 200  # an <img> tag sends a cookie
    assert server.request(tiles_url(item), cookie=token).status == 401  # metadata: no cookie
    read_only = server.app.models.token.create(user, scope=['core.data.read'])['_id']
    assert server.request(url, token=read_only).status == 200
    denied = server.request(tiles_url(item), method='DELETE', token=read_only)
    assert denied.status == 403 and 'scope' in denied.json['message']
    assert server.request(url, user=admin).status == 200


def test_regions_thumbnails_and_values(server, admin, samples):
    item = upload(server, admin, samples.pyramid)
    r = server.request(tiles_url(item, '/region'), user=admin, params={
        'left': 100, 'top': 100, 'regionWidth': 300, 'regionHeight': 200, 'encoding': 'PNG',
        'contentDisposition': 'attachment'})
    assert r.status == 200 and decode(r.body).shape[:2] == (200, 300)
    assert r.headers['Content-Disposition'].startswith('attachment; filename="pyramid-region.png"')
    big = server.request(tiles_url(item, '/region'), user=admin, params={'width': 100000,
                                                                       'height': 100000})
    assert big.status == 400 and 'the limit is' in big.json['message']  # a 7-gigapixel upscale
    assert server.request(tiles_url(item, '/region'), user=admin,
                          params={'units': 'parsecs'}).status == 400
    assert server.request(tiles_url(item, '/region'), user=admin,
                          params={'left': 'one'}).status == 400
    thumb = server.request(tiles_url(item, '/thumbnail'), user=admin, params={'width': 128})
    assert thumb.status == 200 and max(decode(thumb.body).shape[:2]) == 128
    pixel = server.request(tiles_url(item, '/pixel'), user=admin,
                           params={'left': 10, 'top': 10}).json
    assert set(pixel) >= {'r', 'g', 'b'}
    hist = server.request(tiles_url(item, '/histogram'), user=admin, params={'bins': 8}).json
    assert len(hist) == 3 and len(hist[0]['hist']) == 8
    assert server.request(tiles_url(item, '/images'), user=admin).json == []
    assert server.request(tiles_url(item, '/images/label'), user=admin).status == 404
    internal = server.request(tiles_url(item, '/internal_metadata'), user=admin)
    assert internal.status == 200 and isinstance(internal.json, dict)


def test_region_cap(server, admin, samples):
    server.app.large_image.tiles.region_max_pixels = 100 * 100
    item = upload(server, admin, samples.pyramid)
    r = server.request(tiles_url(item, '/region'), user=admin)
    assert r.status == 400 and 'the limit is 10000 pixels' in r.json['message']


def test_deep_zoom(server, admin, samples):
    item = upload(server, admin, samples.pyramid)
    r = server.request(tiles_url(item, '/dzi.dzi'), user=admin)
    assert r.status == 200 and r.headers['Content-Type'] == 'application/xml'
    root = ET.fromstring(r.body)
    assert root.get('TileSize') == '256' and root.get('Format') == 'jpg'
    tile = server.request(tiles_url(item, '/dzi_files/10/1_1.jpg'), user=admin)
    assert tile.status == 200
    assert tile.body == server.request(tiles_url(item, '/zxy/2/1/1'), user=admin).body
    png = server.request(tiles_url(item, '/dzi_files/9/1_1.png'), user=admin)
    assert png.headers['Content-Type'] == 'image/png'
    assert decode(png.body).shape[:2] == (350 - 256, 500 - 256)
    assert server.request(tiles_url(item, '/dzi_files/10/9_9.jpg'), user=admin).status == 404
    assert server.request(tiles_url(item, '/dzi_files/10/a_b.gif'), user=admin).status == 400
    assert server.request(tiles_url(item, '/dzi.dzi'), user=admin,
                          params={'tilesize': 100}).status == 400


def test_conversion_over_rest(server, admin, samples, hold_pool):
    item = upload(server, admin, samples.strip)
    job_id = item['largeImage']['jobId']
    waiting = server.request(tiles_url(item, '/zxy/0/0/0'), user=admin)
    assert waiting.status == 409
    assert waiting.json['jobId'] == job_id and waiting.json['jobStatus'] == JobStatus.QUEUED
    assert 'still being made' in waiting.json['message']
    job = server.request('job/%s' % job_id, user=admin).json
    assert job['status'] == JobStatus.QUEUED and job['_modelType'] == 'job'
    assert job['type'] == 'large_image_conversion' and 'runner' not in job
    canceled = server.request('job/%s/cancel' % job_id, method='PUT', user=admin).json
    assert canceled['status'] == JobStatus.CANCELED
    assert 'largeImage' not in server.request('item/%s' % item['_id'], user=admin).json


def test_not_ready_carries_the_jobs_progress(server, admin, samples, hold_pool):
    item = upload(server, admin, samples.strip)
    job_id = item['largeImage']['jobId']
    waiting = server.request(tiles_url(item, '/zxy/0/0/0'), user=admin).json
    # queued: no progress reported yet, still an object a client can show
    assert waiting['progress'] == {'current': 0, 'total': None,
                                   'message': 'Waiting for a free worker'}
    # what the conversion's runner writes while the worker reports
    server.app.jobs.model.record(ObjectId(job_id), progress={
        'current': 42, 'total': 100, 'message': 'Writing the tiled pyramid'})
    for route in ('', '/zxy/0/0/0', '/dzi.dzi', '/thumbnail'):
        r = server.request(tiles_url(item, route), user=admin)
        assert r.status == 409, route
        assert r.json['progress'] == {'current': 42, 'total': 100,
                                      'message': 'Writing the tiled pyramid'}, route


def test_force_restarts_a_conversion_under_way(server, admin, samples, hold_pool):
    item = upload(server, admin, samples.strip)
    first = item['largeImage']['jobId']
    r = server.request(tiles_url(item), method='POST', user=admin)
    assert r.status == 400 and 'already has a large image' in r.json['message']
    job = server.request(tiles_url(item), method='POST', user=admin, params={
        'fileId': item['largeImage']['originalId'], 'force': True,
        'compression': 'deflate'}).json
    assert job['_id'] != first
    assert server.request('job/%s' % first, user=admin).json['status'] == JobStatus.CANCELED
    now = server.request('item/%s' % item['_id'], user=admin).json['largeImage']
    assert now['expected'] and now['jobId'] == job['_id']


def test_forced_conversion_and_undo(server, admin, samples):
    item = upload(server, admin, samples.pyramid)
    r = server.request(tiles_url(item), method='POST', user=admin)
    assert r.status == 400 and 'already has a large image' in r.json['message']
    assert server.request(tiles_url(item), method='DELETE', user=admin).json == {
        'deleted': True}
    assert server.request(tiles_url(item), user=admin).status == 404
    job = server.request(tiles_url(item), method='POST', user=admin, params={
        'force': True, 'localJob': True, 'compression': 'deflate', 'tileSize': 128}).json
    assert job['status'] in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCESS)
    done = server.app.jobs.wait(job['_id'], WAIT)
    assert done['status'] == JobStatus.SUCCESS, done['log']
    meta = server.request(tiles_url(item), user=admin).json
    assert meta['tileWidth'] == 128
    files = server.request('item/%s/files' % item['_id'], user=admin).json
    assert sorted(f['name'] for f in files) == ['pyramid.tiff', 'pyramid.tiled.tiff']
    assert server.request(tiles_url(item), method='DELETE', user=admin).json['deleted']
    files = server.request('item/%s/files' % item['_id'], user=admin).json
    assert [f['name'] for f in files] == ['pyramid.tiff']
    assert server.request(tiles_url(item), method='DELETE', user=admin).json == {
        'deleted': False}


def test_post_tiles_parameters(server, admin, user, samples):
    item = upload(server, admin, samples.png)
    server.app.jobs.wait(item['largeImage']['jobId'], WAIT)
    r = server.request(tiles_url(item), method='POST', user=admin, params={'tileSize': 100})
    assert r.status == 400 and 'multiple of 16' in r.json['message']
    r = server.request(tiles_url(item), method='POST', user=admin)
    assert r.status == 400 and 'several' in r.json['message']  # original and converted
    r = server.request(tiles_url(item), method='POST', user=admin,
                       params={'compression': 'magic'})
    assert r.status == 400
    assert server.request(tiles_url(item), method='POST', user=user).status == 403


def test_bad_files_over_rest(server, admin, samples):
    item = upload(server, admin, samples.text)
    job, item = wait_job(server, admin, item)
    listed = server.request('job/%s' % job['_id'], user=admin).json
    assert listed['status'] == JobStatus.ERROR
    assert 'not an image the server can read' in listed['log'][-1]
    assert server.request(tiles_url(item), user=admin).status == 404
    empty = upload(server, admin, samples.empty)
    assert 'largeImage' not in empty
    r = server.request(tiles_url(empty), method='POST', user=admin)
    assert r.status == 400 and 'empty' in r.json['message']


def test_job_routes(server, admin, user, other, samples):
    item = upload(server, user, samples.png)
    job_id = item['largeImage']['jobId']
    server.app.jobs.wait(job_id, WAIT)
    mine = server.request('job', user=user)
    assert [j['_id'] for j in mine.json] == [job_id] and mine.headers['Girder-Total-Count'] == '1'
    assert 'log' not in mine.json[0]
    assert server.request('job', user=user, params={'statuses': [JobStatus.ERROR]}).json == []
    assert server.request('job', user=other).json == []
    assert server.request('job', user=other, params={'userId': user['_id']}).status == 403
    assert server.request('job/%s' % job_id, user=other).status == 403
    assert server.request('job/%s' % job_id).status == 401
    assert server.request('job/%s/cancel' % job_id, method='PUT', user=other).status == 403
    assert server.request('job/all', user=user).status == 403
    assert [j['_id'] for j in server.request('job/all', user=admin).json] == [job_id]
    assert server.request('job', user=admin, params={'userId': user['_id']}).json[0][
        '_id'] == job_id
    assert server.request('job/%s' % job_id, method='DELETE', user=user).status == 200
    assert server.request('job/%s' % job_id, user=user).status == 400
    assert server.request('job/nonsense', user=user).status == 400


def test_cache_routes(server, admin, user, samples):
    item = upload(server, admin, samples.pyramid)
    assert server.request(tiles_url(item, '/zxy/0/0/0'), user=admin).status == 200
    info = server.request('large_image/cache', user=admin).json
    assert info['sources']['used'] >= 1 and info['sources']['maxsize'] == 32
    assert 'tileCache' in info
    assert server.request('large_image/cache', user=user).status == 403
    cleared = server.request('large_image/cache/clear', method='PUT', user=admin).json
    assert cleared['sources']['used'] == 0 and cleared['items']['used'] == 0
    assert server.request(tiles_url(item, '/zxy/0/0/0'), user=admin).status == 200


def test_sharing_reaches_the_tile_cache_at_once(mongo_client, db, tmp_path, admin, user,
                                                 samples):
    from tilery.testing import TestServer, make_app
    app = make_app(mongo_client, db, tmp_path / 'cached', auth_cache_seconds=60)
    cached = TestServer(app)
    try:
        item = upload(cached, admin, samples.pyramid, folder='Private')
        url = tiles_url(item, '/zxy/0/0/0')
        assert cached.request(url, user=admin).status == 200  # the item is now cached
        assert cached.request(url, user=user).status == 403
        folder = item['folderId']
        shared = {'users': [{'id': str(admin['_id']), 'level': 2},
                            {'id': str(user['_id']), 'level': 0}], 'groups': []}
        r = cached.request('folder/%s/access' % folder, 'PUT', admin, params={'access': shared})
        assert r.status == 200
        assert cached.request(url, user=user).status == 200
        own = {'users': [{'id': str(admin['_id']), 'level': 2}], 'groups': []}
        cached.request('folder/%s/access' % folder, 'PUT', admin, params={'access': own})
        assert cached.request(url, user=user).status == 403
    finally:
        app.stop()
