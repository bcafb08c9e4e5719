"""Making large images through the service layer, on a real app and database:
direct use of tiled files, conversion jobs, bad input, removal."""
import dataclasses
import hashlib
import sys
import threading

import large_image
import numpy as np
import pytest

import test_large_image_samples as sample_files
from tilery.errors import RestError
from tilery.jobs.model import JobStatus
from tilery.plugins.large_image.errors import NoLargeImage, NotReady
from tilery.plugins.large_image.params import Encoding, RegionParams
from tilery.testing import make_app

samples = sample_files.samples  # the session fixture of sample images
decode = sample_files.decode

WAIT = 120


def upload(app, user, path, name=None):
    """A new item in the user's Public folder holding the file at ``path``."""
    folder = app.models.folder.find_one({'parentId': user['_id'], 'name': 'Public'})
    item = app.models.item.create(name or path.name, folder, user)
    file_doc = app.uploads.add_local_file(item, str(path), name or path.name, user)
    return app.models.item.load(item['_id']), file_doc


def converted(app, item):
    """Wait for the item's conversion job; return (job, fresh item)."""
    job = app.jobs.wait(item['largeImage']['jobId'], WAIT)
    return job, app.models.item.load(item['_id'])


def region_pixels(app, item, **region):
    image = app.large_image.open(item)
    data, _ = app.large_image.tiles.region(image, RegionParams(**region), Encoding('PNG'))
    return decode(data)


def sha512(path):
    return hashlib.sha512(open(path, 'rb').read()).hexdigest()


def test_tiled_file_is_a_large_image_at_once(server, admin, samples):
    app = server.app
    item, file_doc = upload(app, admin, samples.pyramid)
    assert item['largeImage'] == {'fileId': file_doc['_id'], 'sourceName': 'tiff'}
    image = app.large_image.open(item)
    assert image.metadata['sizeX'] == 1000 and image.metadata['levels'] == 3
    assert app.jobs.model.find()[1] == 0  # no job was needed


@pytest.mark.parametrize('name, compression', [
    ('strip', 'jpeg'), ('png', 'jpeg'), ('jpeg', 'jpeg'), ('bmp', 'jpeg'), ('mask', 'deflate')])
def test_other_images_are_converted(server, admin, samples, name, compression):
    app = server.app
    path = getattr(samples, name)
    item, original = upload(app, admin, path)
    assert item['largeImage']['expected'] is True
    assert item['largeImage']['originalId'] == original['_id']
    job, item = converted(app, item)
    assert job['status'] == JobStatus.SUCCESS, job['log']
    assert job['meta']['conversion']['compression'] == compression
    info = item['largeImage']
    assert info['originalId'] == original['_id'] and info['sourceName'] == 'tiff'
    stored = app.models.file.load(info['fileId'])
    assert stored['name'].endswith('.tiff') and stored['itemId'] == item['_id']
    assert app.models.file.load(original['_id'])['sha512'] == original['sha512']
    assert [t['status'] for t in job['timestamps']] == [1, 2, 3]
    source = large_image.open(app.models.file.local_path(stored), noCache=True)
    assert source.getMetadata()['tileWidth'] == 256
    expected = {'strip': samples.wide_array, 'mask': samples.mask_array,
                'jpeg': decode(samples.jpeg.read_bytes())}.get(name, samples.array[:300, :400])
    pixels = region_pixels(app, item)
    if name == 'mask':  # lossless: every label survives exactly
        assert np.array_equal(pixels, expected)
    else:
        assert pixels.shape[:2] == expected.shape[:2]
        assert np.abs(pixels[..., :3].astype(int) - expected).mean() < 4


def test_multiframe_tiff_is_read_directly(server, admin, samples):
    item, _ = upload(server.app, admin, samples.multiframe)
    image = server.app.large_image.open(item)
    assert len(image.metadata['frames']) == 3 and image.frame_count == 3


def test_forced_conversion_of_a_readable_file(server, admin, samples):
    app = server.app
    folder = app.models.folder.find_one({'parentId': admin['_id'], 'name': 'Public'})
    item = app.models.item.create('manual', folder, admin)
    original = app.uploads.add_local_file(item, str(samples.pyramid), 'pyramid.tiff', admin)
    item = app.models.item.load(item['_id'])
    with pytest.raises(RestError, match='already has a large image'):
        app.large_image.create(item, original, admin)
    assert app.large_image.delete(item) is True
    item = app.models.item.load(item['_id'])
    assert 'largeImage' not in item
    job = app.large_image.create(item, original, admin, force=True, compression='deflate',
                                 tile_size=512)
    done, item = converted(app, app.models.item.load(item['_id']))
    assert done['status'] == JobStatus.SUCCESS
    assert done['kwargs']['tileSize'] == 512 and done['_id'] == job['_id']
    assert app.large_image.open(item).metadata['tileWidth'] == 512
    # undo removes the converted file and keeps the original
    converted_id = item['largeImage']['fileId']
    assert app.large_image.delete(item) is True
    assert app.models.file.load(converted_id, exc=False) is None
    assert app.models.file.load(original['_id']) is not None


@pytest.mark.parametrize('name, message', [
    ('text', 'not an image the server can read ("notes.tif" is not a known file format)'),
    ('huge', 'claims to be 1000000 x 1000000 pixels'),
    ('truncated', 'truncated or corrupt'),
])
def test_unreadable_files_end_in_error_and_change_nothing(server, admin, samples, name,
                                                          message):
    app = server.app
    path = getattr(samples, name)
    before = sha512(path)
    item, original = upload(app, admin, path)
    job, item = converted(app, item)
    assert job['status'] == JobStatus.ERROR
    assert message in job['log'][-1], job['log']
    assert 'largeImage' not in item
    assert [f['_id'] for f in app.models.item.files(item)] == [original['_id']]
    assert sha512(app.models.file.local_path(original)) == before
    with pytest.raises(NoLargeImage):
        app.large_image.open(item)


def test_empty_and_non_image_files_are_left_alone(server, admin, samples, tmp_path):
    app = server.app
    item, empty = upload(app, admin, samples.empty)
    assert 'largeImage' not in item
    with pytest.raises(RestError, match='empty'):
        app.large_image.create(item, empty, admin)
    notes = tmp_path / 'notes.txt'
    notes.write_text('hello')
    item, _ = upload(app, admin, notes)
    assert 'largeImage' not in item and app.jobs.model.find()[1] == 0


def test_conversion_in_progress_answers_not_ready(server, admin, samples):
    app = server.app
    started, release = threading.Event(), threading.Event()
    app.jobs.register('test_block', lambda ctx: (started.set(), release.wait(WAIT)))
    blocker = app.jobs.create('hold the pool', 'test_block')  # the pool has one worker
    assert started.wait(WAIT)
    item, _ = upload(app, admin, samples.png)
    with pytest.raises(NotReady) as caught:
        app.large_image.open(item)
    assert caught.value.status == 409
    assert caught.value.to_json()['jobId'] == str(item['largeImage']['jobId'])
    # deleting the item cancels its queued conversion
    app.models.item.remove(item)
    job = app.jobs.model.load(item['largeImage']['jobId'])
    assert job['status'] == JobStatus.CANCELED
    release.set()
    assert app.jobs.wait(blocker['_id'], WAIT)['status'] == JobStatus.SUCCESS


def test_removing_the_file_removes_the_large_image(server, admin, samples):
    app = server.app
    item, file_doc = upload(app, admin, samples.pyramid)
    app.large_image.open(item)
    app.models.file.remove(file_doc)
    item = app.models.item.load(item['_id'])
    assert 'largeImage' not in item
    assert app.large_image.sources.info()['used'] == 0


def test_remove_original_setting(server, admin, samples):
    app = server.app
    app.large_image.settings = dataclasses.replace(app.large_image.settings,
                                                   remove_original=True)
    item, original = upload(app, admin, samples.png)
    job, item = converted(app, item)
    assert job['status'] == JobStatus.SUCCESS
    assert app.models.file.load(original['_id'], exc=False) is None
    assert 'originalId' not in item['largeImage']
    assert [f['_id'] for f in app.models.item.files(item)] == [item['largeImage']['fileId']]


def test_conversion_survives_a_server_restart(mongo_client, db, tmp_path, samples):
    first = make_app(mongo_client, db, tmp_path / 'data')
    admin = first.models.user.create('admin', 'admin@example.com', 'A', 'B', 'password1')
    # the one worker is busy when the conversion is queued, and the server stops
    first.jobs.register('test_hold', lambda ctx: ctx.run_child(
        [sys.executable, '-c', 'import time; time.sleep(3600)']))
    first.jobs.create('hold', 'test_hold')
    item, _ = upload(first, admin, samples.png)
    job_id = item['largeImage']['jobId']
    first.stop()
    assert first.jobs.model.load(job_id)['status'] == JobStatus.QUEUED
    assert first.models.item.load(item['_id'])['largeImage']['expected'] is True

    second = make_app(mongo_client, db, tmp_path / 'data')
    second.jobs.register('test_hold', lambda ctx: None)
    second.start()
    try:
        done = second.jobs.wait(job_id, WAIT)
        assert done['status'] == JobStatus.SUCCESS and done['restarts'] == 0
        item = second.models.item.load(item['_id'])
        assert second.large_image.open(item).metadata['sizeX'] == 400
    finally:
        second.stop()


def test_a_conversion_promise_without_a_live_job_is_dropped(server, admin, samples):
    app = server.app
    item, original = upload(app, admin, samples.pyramid)
    app.large_image.delete(item)
    job = app.jobs.create('gone', 'large_image_conversion', schedule=False)
    app.jobs.model.transition(job['_id'], JobStatus.ERROR)
    app.models.item.collection.update_one({'_id': item['_id']}, {'$set': {'largeImage': {
        'expected': True, 'jobId': job['_id'], 'originalId': original['_id']}}})
    with pytest.raises(NoLargeImage, match='did not make one'):
        app.large_image.open(app.models.item.load(item['_id']))
    assert 'largeImage' not in app.models.item.load(item['_id'])


def test_copied_items_keep_their_large_image(server, admin, samples):
    app = server.app
    item, _ = upload(app, admin, samples.png)
    job, item = converted(app, item)
    folder = app.models.folder.find_one({'parentId': admin['_id'], 'name': 'Private'})
    copy = app.tree.copy_item(item, folder, admin)
    info, source_info = copy['largeImage'], item['largeImage']
    files = {f['_id']: f['name'] for f in app.models.item.files(copy)}
    assert files[info['fileId']] == 'photo.tiff' and files[info['originalId']] == 'photo.png'
    assert info['fileId'] != source_info['fileId']
    assert [j['status'] for j in app.jobs.model.find()[0]].count(JobStatus.SUCCESS) == 1
    assert app.large_image.open(copy).metadata['sizeX'] == 400
    # undoing the copy's large image leaves the source's alone
    app.large_image.delete(copy)
    assert app.large_image.open(app.models.item.load(item['_id'])).metadata['sizeX'] == 400


def test_a_file_that_fails_to_open_is_not_reopened_on_every_request():
    from tilery.plugins.large_image.errors import ImageDataError
    from tilery.metrics import Metrics
    from tilery.plugins.large_image.sources import SourceCache, SourceKey
    cache = SourceCache(4, Metrics().cache('test'), failure_seconds=60)
    calls = []

    def broken():
        calls.append(1)
        raise ImageDataError('truncated')
    key = SourceKey('f1')
    for _ in range(3):
        with pytest.raises(ImageDataError, match='truncated'):
            cache.get(key, broken)
    assert len(calls) == 1
    cache.evict_file('f1')  # new bytes: try again
    assert cache.get(key, lambda: 'opened') == 'opened'
    expired = SourceCache(4, Metrics().cache('test'), failure_seconds=0)
    with pytest.raises(ImageDataError):
        expired.get(key, broken)
    assert expired.get(key, lambda: 'opened later') == 'opened later'
