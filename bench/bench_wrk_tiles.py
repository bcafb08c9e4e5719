"""wrk tiles against one or more running servers in turn, and the in-process floor.

For each server in BASE_URLS (space-separated API roots, e.g. Tilery and the peer
Girder), uploads the same JPEG pyramidal TIFF (made once with pyvips, SIZE_PX square,
256-px tiles), waits until it is a large image, then runs `wrk` (8 connections,
WRK_SECONDS) on random max-level `GET /item/:id/tiles/zxy/z/x/y`. Servers alternate
ROUNDS times so both see the same machine load. The floor is large_image's own
`getTile` on the same file in this process, one thread, ICC correction off (what
Tilery does for files without a profile), measured before every round.
Env: BASE_URLS, BENCH_USER/BENCH_PASSWORD (admin/adminpass1), BENCH_TMP, SIZE_PX (8192),
WRK_SECONDS (8), ROUNDS (2). Prints one JSON line per measurement.
"""
import json
import os
import random
import time

import girder_client

from benchlib import pyramid_tiff, wrk_tiles

URLS = os.environ.get('BASE_URLS', 'http://127.0.0.1:8080/api/v1').split()
USER = os.environ.get('BENCH_USER', 'admin')
PASSWORD = os.environ.get('BENCH_PASSWORD', 'adminpass1')
TMP = os.environ.get('BENCH_TMP', '/tmp/tilery-bench')
SIZE = int(os.environ.get('SIZE_PX', '8192'))
WRK_SECONDS = int(os.environ.get('WRK_SECONDS', '8'))
ROUNDS = int(os.environ.get('ROUNDS', '2'))


def prepare(url, path):
    """Upload the pyramid to ``url``; return (token, tile URL pattern, columns, rows)."""
    gc = girder_client.GirderClient(apiUrl=url)
    gc.authenticate(USER, PASSWORD)
    me = gc.get('user/me')
    private = next(gc.listFolder(me['_id'], 'user', name='Private'))
    folder = gc.createFolder(private['_id'], 'wrk-tiles-%d' % time.time())
    item_id = gc.uploadFileToFolder(folder['_id'], path)['itemId']
    for _ in range(300):
        if (gc.getItem(item_id).get('largeImage') or {}).get('fileId'):
            break
        time.sleep(0.2)
    meta = gc.get('item/%s/tiles' % item_id)
    across = -(-meta['sizeX'] // meta['tileWidth'])
    down = -(-meta['sizeY'] // meta['tileHeight'])
    return gc, folder, '/api/v1/item/%s/tiles/zxy/%d' % (item_id, meta['levels'] - 1), \
        across, down


def in_process(path, across, down, level, n=2000):
    import large_image_source_tiff
    source = large_image_source_tiff.open(path, noCache=True, style={'icc': False})
    rng = random.Random(1)
    coords = [(rng.randrange(across), rng.randrange(down)) for _ in range(n)]
    t0 = time.perf_counter()
    for x, y in coords:
        source.getTile(x, y, level)
    return round(n / (time.perf_counter() - t0), 1)


def main():
    path = pyramid_tiff(TMP, SIZE, 'bench_pyramid', Q=90)
    targets = [(url,) + prepare(url, path) for url in URLS]
    level = int(targets[0][3].rsplit('/', 1)[1])
    try:
        for round_ in range(ROUNDS):
            floor = in_process(path, targets[0][4], targets[0][5], level)
            print(json.dumps({'bench': 'in_process_getTile', 'round': round_,
                              'tiles_per_s': floor}), flush=True)
            for url, gc, _, tile_path, across, down in targets:
                result = wrk_tiles(url.split('/api/')[0], gc.token, tile_path, across,
                                   down, WRK_SECONDS, TMP)
                result.update(bench='wrk_tiles', base_url=url, round=round_,
                              vs_in_process=round(result['tiles_per_s'] / floor, 3)
                              if result['tiles_per_s'] else None)
                print(json.dumps(result, sort_keys=True), flush=True)
    finally:
        for url, gc, folder, *_ in targets:
            gc.delete('folder/%s' % folder['_id'])


if __name__ == '__main__':
    main()
