"""Tiles over HTTP against large_image in-process, on a converted 20000 x 20000 image.

Starts a Tilery (embedded database, scratch data directory) unless BASE_URL is set,
uploads a synthetic 20000^2 strip TIFF with girder-client (Tilery converts it in a
job), then in the same run measures:
  - large_image's own getTile rate on the converted file, one thread (default options,
    and with ICC correction off, which is what Tilery does for files without a profile);
  - GET /item/:id/tiles/zxy over HTTP with 1 and 8 Python client threads (p50/p95), and
    with wrk (8 connections) when it is installed (apt-get install wrk);
and prints one JSON line with the ratios HTTP / in-process.
Env: BASE_URL, BENCH_TMP (/tmp/tilery-bench), SIZE_PX (20000), N_TILES (2000),
WRK_SECONDS (10), WORKERS (1: server processes, `tilery serve --workers`).
Run: .venv/bin/python bench/bench_tiles_http.py
"""
import concurrent.futures
import json
import os
import random
import shutil
import threading
import time

import requests

from benchlib import Server, log, login, percentile, synthetic, wrk_tiles

TMP = os.environ.get('BENCH_TMP', '/tmp/tilery-bench')
SIZE = int(os.environ.get('SIZE_PX', '20000'))
N_TILES = int(os.environ.get('N_TILES', '2000'))
WRK_SECONDS = int(os.environ.get('WRK_SECONDS', '10'))
WORKERS = int(os.environ.get('WORKERS', '1'))


def strip_tiff():
    """A synthetic RGB strip TIFF (what a scanner export without tiling looks like)."""
    path = os.path.join(TMP, 'bench_strip_%d.tiff' % SIZE)
    if not os.path.exists(path):
        os.makedirs(TMP, exist_ok=True)
        log('generating', path)
        image = synthetic(SIZE)
        image.tiffsave(path + '.tmp', tile=False, compression='none', bigtiff=True)
        os.rename(path + '.tmp', path)
    return path


def in_process_rate(path, coords, level, icc):
    import large_image_source_tiff
    source = large_image_source_tiff.open(path, noCache=True, **(
        {} if icc else {'style': {'icc': False}}))
    t0 = time.perf_counter()
    for x, y in coords:
        source.getTile(x, y, level)
    return len(coords) / (time.perf_counter() - t0)


def http_rate(url, token, coords, threads):
    local = threading.local()

    def get(c):
        session = getattr(local, 's', None)
        if session is None:
            session = local.s = requests.Session()
            session.headers['Girder-Token'] = token
        t0 = time.perf_counter()
        r = session.get(url % c)
        r.content
        return r.status_code, time.perf_counter() - t0
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(get, coords))
    wall = time.perf_counter() - t0
    lat = [r[1] for r in results]
    return {'threads': threads, 'tiles_per_s': round(len(coords) / wall, 1),
            'errors': sum(1 for r in results if r[0] != 200),
            'p50_ms': round(percentile(lat, 50) * 1000, 2),
            'p95_ms': round(percentile(lat, 95) * 1000, 2)}


def wrk_rate(url, token, across, down):
    if shutil.which('wrk') is None:
        return None
    base, path = url.split('/api/', 1)
    return wrk_tiles(base, token, '/api/' + path.rsplit('/', 2)[0], across, down,
                     WRK_SECONDS, TMP)


def main():
    src = strip_tiff()
    out = {'bench': 'tiles_http', 'size_px': SIZE, 'tiles': N_TILES, 'workers': WORKERS}
    with Server(WORKERS) as server:
        gc = login(server.url)
        me = gc.get('user/me')
        private = next(gc.listFolder(me['_id'], 'user', name='Private'))
        folder = gc.createFolder(private['_id'], 'tiles-bench-%d' % time.time())
        t0 = time.perf_counter()
        f = gc.uploadFileToFolder(folder['_id'], src)
        out['upload_s'] = round(time.perf_counter() - t0, 2)
        item = gc.getItem(f['itemId'])
        job_id = item['largeImage'].get('jobId')  # none when a source read it directly
        while job_id and gc.get('job/%s' % job_id)['status'] not in (3, 4, 5):
            time.sleep(0.2)
        if job_id:
            job = gc.get('job/%s' % job_id)
            assert job['status'] == 3, job.get('log')
        out['convert_s_after_upload'] = round(time.perf_counter() - t0 - out['upload_s'], 2)
        item = gc.getItem(f['itemId'])
        meta = gc.get('item/%s/tiles' % item['_id'])
        level = meta['levels'] - 1
        across = -(-meta['sizeX'] // meta['tileWidth'])
        down = -(-meta['sizeY'] // meta['tileHeight'])
        converted = os.path.join(TMP, 'converted_%d.tiff' % SIZE)
        gc.downloadFile(item['largeImage']['fileId'], converted)
        rng = random.Random(1)
        coords = [(rng.randrange(across), rng.randrange(down)) for _ in range(N_TILES)]
        out['in_process_default_tiles_per_s'] = round(
            in_process_rate(converted, coords, level, True), 1)
        out['in_process_icc_off_tiles_per_s'] = round(
            in_process_rate(converted, coords, level, False), 1)
        url = server.url + '/item/%s/tiles/zxy/%d/%%d/%%d' % (item['_id'], level)
        requests.get(url % (0, 0), headers={'Girder-Token': gc.token}).raise_for_status()
        out['http'] = [http_rate(url, gc.token, coords, 1),
                       http_rate(url, gc.token, coords[::-1], 8)]
        out['wrk'] = wrk_rate(url, gc.token, across, down)
        base = out['in_process_icc_off_tiles_per_s']
        out['ratio_http8_to_in_process'] = round(out['http'][1]['tiles_per_s'] / base, 3)
        if out['wrk'] and out['wrk']['tiles_per_s']:
            out['ratio_wrk8_to_in_process'] = round(out['wrk']['tiles_per_s'] / base, 3)
        gc.delete('folder/%s' % folder['_id'])
    print(json.dumps(out, sort_keys=True))


if __name__ == '__main__':
    main()
