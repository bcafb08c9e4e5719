"""In-process tile rates on a converted SIZE x SIZE image (no HTTP).

The image is the peer benchmark's synthetic pattern, written as a strip TIFF and
converted by Tilery's conversion worker (as a conversion job does); both are kept in
BENCH_TMP. N_TILES random tiles of the full-resolution level are read:

- ``large_image_default``: ``large_image.open(path).getTile`` as it comes (ICC
  correction on: every JPEG tile is decoded and re-encoded);
- ``large_image_icc_off``: with ``style={'icc': False}``: stored tiles pass through;
- ``tilery_tiles``: ``TileService.tile`` on the source Tilery opens (the route's work
  without HTTP), with THREADS threads;
- ``tilery_dispatch`` (DISPATCH=1): the whole REST request in-process
  (``Dispatcher.handle``: routing, token, item access, ETag) on a real database, with
  the token and item caches of a default server.

Each figure is the median of REPEAT runs, each over its own random tiles, after the
file was read once into the page cache.

Env: SIZE (20000), N_TILES (2000), REPEAT (3), THREADS ("1,8"), DISPATCH (1),
BENCH_TMP. Prints one JSON line.
"""
import concurrent.futures
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import bench_convert

N_TILES = int(os.environ.get('N_TILES', '2000'))
REPEAT = int(os.environ.get('REPEAT', '3'))
THREADS = [int(t) for t in os.environ.get('THREADS', '1,8').split(',')]
DISPATCH = os.environ.get('DISPATCH', '1') not in ('0', '', 'false')


def converted_image():
    path = os.path.join(bench_convert.TMP, 'bench_converted_%d.tiff' % bench_convert.SIZE)
    if not os.path.exists(path):
        strip = bench_convert.make_inputs()['strip_tiff']
        bench_convert.log('converting', strip)
        subprocess.run([sys.executable, '-m', 'tilery.plugins.large_image.convert_worker',
                        json.dumps({'src': strip, 'dst': path + '.tmp.tiff'})], check=True,
                       stdout=subprocess.DEVNULL)
        os.rename(path + '.tmp.tiff', path)
    return path


def coords(metadata, seed):
    rng = random.Random(seed)
    across = -(-metadata['sizeX'] // metadata['tileWidth'])
    down = -(-metadata['sizeY'] // metadata['tileHeight'])
    return [(rng.randrange(across), rng.randrange(down)) for _ in range(N_TILES)]


def rate(fetch, metadata, seed, threads=1):
    """Median tiles/s over REPEAT runs, each on its own random tiles."""
    rates = []
    for run in range(REPEAT):
        points = coords(metadata, seed * 100 + run)
        start = time.perf_counter()
        if threads == 1:
            sizes = [len(fetch(x, y)) for x, y in points]
        else:
            with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                sizes = list(pool.map(lambda p: len(fetch(*p)), points))
        rates.append(len(points) / (time.perf_counter() - start))
    return {'threads': threads, 'tiles': N_TILES, 'repeat': REPEAT,
            'tiles_per_s': round(sorted(rates)[len(rates) // 2]),
            'min': round(min(rates)), 'max': round(max(rates)),
            'mean_bytes': sum(sizes) // len(sizes)}


def dispatch_rates(path, metadata, z):
    import io

    from tilery import database
    from tilery.app import create_app
    from tilery.rest.request import BodyReader
    from tilery.settings import Settings
    from tilery.testing import Headers

    results = []
    with tempfile.TemporaryDirectory(prefix='tilery-bench-') as tmp:
        with database.EmbeddedDatabase(os.path.join(tmp, 'db')) as server:
            client = database.connect(server.uri)
            settings = Settings(data_dir=os.path.join(tmp, 'data'), mongo_uri=server.uri)
            app = create_app(settings, client, client['bench'])  # default caches
            user = app.models.user.create('bench', 'bench@example.com', 'B', 'B', 'password1')
            folder = app.models.folder.find_one({'parentId': user['_id'], 'name': 'Private'})
            item = app.models.item.create('bench', folder, user)
            app.uploads.add_local_file(item, path, 'bench.tiff', user)  # becomes a large image
            token = app.models.token.create(user)['_id']
            headers = Headers({'Girder-Token': token})

            def fetch(x, y):
                status, _, body = app.dispatcher.handle(
                    'GET', 'item/%s/tiles/zxy/%d/%d/%d' % (item['_id'], z, x, y), '', headers,
                    BodyReader(io.BytesIO(b''), 0), {})
                assert status == 200, body
                return body
            fetch(0, 0)
            for i, threads in enumerate(THREADS):
                results.append(rate(fetch, metadata, 30 + i, threads))
            app.stop()
            client.close()
    return results


def main():
    import large_image

    from tilery.plugins.large_image.params import Encoding
    from tilery.plugins.large_image.sources import SourceKey, open_image
    from tilery.plugins.large_image.tiles import TileService

    path = converted_image()
    with open(path, 'rb') as fh:  # every method then reads from the page cache alike
        while fh.read(1 << 24):
            pass
    out = {'bench': 'tiles_engine', 'size_px': bench_convert.SIZE, 'image_bytes':
           os.path.getsize(path)}
    default = large_image.open(path)
    metadata = default.getMetadata()
    z = metadata['levels'] - 1
    out.update(levels=metadata['levels'], tile_w=metadata['tileWidth'])
    out['large_image_default'] = rate(lambda x, y: default.getTile(x, y, z), metadata, 10)
    icc_off = large_image.open(path, style={'icc': False})
    out['large_image_icc_off'] = rate(lambda x, y: icc_off.getTile(x, y, z), metadata, 11)
    image = open_image(SourceKey('bench', None, Encoding()), path,
                       {'_id': 'bench', 'size': os.path.getsize(path)})
    tiles = TileService(10 ** 8)
    out['tilery_tiles'] = [rate(lambda x, y: tiles.tile(image, z, x, y), metadata, 20 + i,
                                threads) for i, threads in enumerate(THREADS)]
    if DISPATCH:
        out['tilery_dispatch'] = dispatch_rates(path, metadata, z)
    out['tile_cache'] = large_image.cache_util.cachesInfo().get('tileCache')
    out['ts'] = time.strftime('%Y-%m-%dT%H:%M:%S%z')
    print(json.dumps(out, sort_keys=True), flush=True)


if __name__ == '__main__':
    main()
