"""Large images over real HTTP: girder-client as the peer benchmark drives it, browser
style requests (cookie, ETag), OpenSeadragon's Deep Zoom URLs, and a tile cache in
memcached shared by two processes."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import girder_client
import pytest
import requests

import test_large_image_samples as sample_files
from tilery import database
from tilery.jobs.model import JobStatus

samples = sample_files.samples  # the session fixture of sample images
decode = sample_files.decode

WAIT = 120


@pytest.fixture
def folder(gc):
    me = gc.get('user/me')
    return next(gc.listFolder(me['_id'], 'user', name='Private'))


def test_girder_client_flow(bound_server, gc, folder, samples):
    pyramid = gc.uploadFileToFolder(folder['_id'], str(samples.pyramid))
    assert gc.getItem(pyramid['itemId'])['largeImage']['fileId'] == pyramid['_id']
    meta = gc.get('item/%s/tiles' % pyramid['itemId'])
    assert meta['levels'] == 3

    strip = gc.uploadFileToFolder(folder['_id'], str(samples.strip))
    item = gc.getItem(strip['itemId'])
    if item.get('largeImage'):  # converted on upload; undo to convert on request
        bound_server.app.jobs.wait(item['largeImage']['jobId'], WAIT)
        gc.delete('item/%s/tiles' % strip['itemId'])
    job = gc.post('item/%s/tiles' % strip['itemId'], parameters={
        'fileId': strip['_id'], 'force': 'true', 'localJob': 'true'})
    assert bound_server.app.jobs.wait(job['_id'], WAIT)['status'] == JobStatus.SUCCESS
    assert gc.get('job/%s' % job['_id'])['status'] == JobStatus.SUCCESS
    meta = gc.get('item/%s/tiles' % strip['itemId'])
    assert (meta['sizeX'], meta['sizeY']) == (4200, 200)
    with pytest.raises(girder_client.HttpError) as err:
        gc.get('item/%s/tiles/zxy/9/0/0' % strip['itemId'])
    assert err.value.status == 404


def test_browser_requests(bound_server, gc, folder, samples):
    item_id = gc.uploadFileToFolder(folder['_id'], str(samples.pyramid))['itemId']
    url = '%s/item/%s/tiles/zxy/2/1/1' % (bound_server.api_url, item_id)
    assert requests.get(url).status_code == 401  # a private folder
    first = requests.get(url, cookies={'girderToken': gc.token})
    assert first.status_code == 200 and first.headers['Content-Type'] == 'image/jpeg'
    assert 'ETag' in first.headers['Access-Control-Expose-Headers']
    again = requests.get(url, cookies={'girderToken': gc.token},
                         headers={'If-None-Match': first.headers['ETag']})
    assert again.status_code == 304 and again.content == b''
    with requests.Session() as session:
        session.headers['Girder-Token'] = gc.token
        bodies = {session.get(url).content for _ in range(20)}
    assert bodies == {first.content}


def test_openseadragon_deep_zoom_urls(bound_server, gc, folder, samples):
    item_id = gc.uploadFileToFolder(folder['_id'], str(samples.pyramid))['itemId']
    dzi_url = '%s/item/%s/tiles/dzi.dzi?tilesize=512&overlap=1&token=%s' % (
        bound_server.api_url, item_id, gc.token)
    xml = ET.fromstring(requests.get(dzi_url).content)
    size = xml.find('{http://schemas.microsoft.com/deepzoom/2008}Size')
    width, height = int(size.get('Width')), int(size.get('Height'))
    tile_size, overlap = int(xml.get('TileSize')), int(xml.get('Overlap'))
    # OpenSeadragon's DziTileSource: "<name>_files/<level>/<x>_<y>.<format>" + the query
    base = re.sub(r'([^/]+?)(\.(dzi|xml|js)?(\?[^/]*)?)?/?$', r'\1_files/', dzi_url)
    query = dzi_url[dzi_url.index('?'):]
    level = 10
    columns, rows = -(-width // tile_size), -(-height // tile_size)
    for y in range(rows):
        for x in range(columns):
            r = requests.get('%s%d/%d_%d.%s%s' % (base, level, x, y, xml.get('Format'), query))
            assert r.status_code == 200, r.text
            w = min(width, (x + 1) * tile_size + overlap) - max(0, x * tile_size - overlap)
            h = min(height, (y + 1) * tile_size + overlap) - max(0, y * tile_size - overlap)
            assert decode(r.content).shape[:2] == (h, w)


@pytest.fixture
def memcached():
    exe = shutil.which('memcached')
    if exe is None:
        pytest.skip('memcached is not installed')
    port = database.free_port()
    proc = subprocess.Popen([exe, '-l', '127.0.0.1', '-p', str(port), '-U', '0', '-m', '32'] +
                            (['-u', 'root'] if os.getuid() == 0 else []))
    deadline = time.monotonic() + 30
    while True:  # wait until it accepts connections
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('memcached did not start')
            time.sleep(0.05)
    yield '127.0.0.1:%d' % port
    proc.terminate()
    proc.wait(30)


READ_TILES = '''
import json, sys
import large_image
from tilery.plugins.large_image.params import Encoding
from tilery.plugins.large_image.settings import LargeImageSettings, configure_large_image
from tilery.plugins.large_image.sources import SourceKey, open_image
from tilery.plugins.large_image.tiles import TileService
configure_large_image(LargeImageSettings(memcached_url=sys.argv[2]))
# a styled source: its tiles are computed, so they are worth sharing
key = SourceKey('f1', style='{"max":200,"min":0}', encoding=Encoding('PNG'))
image = open_image(key, sys.argv[1], {'_id': 'f1', 'size': 1, 'sha512': 'x'})
tiles = [TileService(10 ** 8).tile(image, z, x, y) for z, x, y in [(0, 0, 0), (1, 1, 0), (2, 3, 2)]]
print(json.dumps({'backend': large_image.config.getConfig('cache_backend'),
                  'tiles': [t.hex() for t in tiles]}))
'''


def test_memcached_tile_cache_is_shared_between_processes(memcached, samples):
    import pylibmc
    client = pylibmc.Client([memcached])

    def run():
        out = subprocess.run([sys.executable, '-c', READ_TILES, str(samples.pyramid), memcached],
                             capture_output=True, text=True, timeout=WAIT)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    def stats():
        return {k.decode() if isinstance(k, bytes) else k: int(v) for k, v in
                client.get_stats()[0][1].items() if v.isdigit()}
    first = run()
    assert first['backend'] == 'memcached'
    after_first = stats()
    assert after_first['curr_items'] >= 3
    second = run()
    after_second = stats()
    assert second['tiles'] == first['tiles']
    assert after_second['get_hits'] - after_first['get_hits'] >= 3
    assert after_second['curr_items'] == after_first['curr_items']  # nothing computed again
