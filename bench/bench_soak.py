"""Soak: N minutes of mixed load from 16 client threads, watching the server's memory.

Starts a Tilery (embedded database, scratch data directory) unless BASE_URL is set,
makes a tiled image, an annotation of ANN_N rectangles and a folder of 500 items,
then runs THREADS clients, each picking at random: a folder listing (a fixed folder,
or the growing upload folder), an item read, a tile, an annotation region query or a
small upload (4 KB, one request). It prints the server's RSS every 5 minutes (every
minute for runs under 15 minutes), then one JSON line: the RSS slope after warm-up
(MB per minute, least squares over samples taken every 10 s after the first fifth of
the run, at least one minute), error count, and p50/p99 (ms) per operation.
RSS is the server process's own (`/proc/PID/status` VmRSS), without the database
child; with BASE_URL, set SERVER_PID to the server's pid to measure it.
Env or argv[1]: DURATION (minutes, default 30). Env: BASE_URL, SERVER_PID, THREADS (16),
ANN_N (20000), SIZE_PX (8192), BENCH_TMP (/tmp/tilery-bench).
Run: .venv/bin/python bench/bench_soak.py 10
"""
import collections
import json
import os
import random
import sys
import threading
import time

import requests

from benchlib import Server, log, login, percentile, pyramid_tiff, rss_mb

DURATION = float(sys.argv[1] if len(sys.argv) > 1 else os.environ.get('DURATION', '30'))
THREADS = int(os.environ.get('THREADS', '16'))
ANN_N = int(os.environ.get('ANN_N', '20000'))
SIZE = int(os.environ.get('SIZE_PX', '8192'))
TMP = os.environ.get('BENCH_TMP', '/tmp/tilery-bench')
OPERATIONS = ('listing', 'item', 'tile', 'annotation_region', 'upload')
WEIGHTS = (2, 2, 10, 2, 1)


def prepare(gc):
    """The data the load reads: an image, an annotation on it, a folder of 500 items."""
    me = gc.get('user/me')
    private = next(gc.listFolder(me['_id'], 'user', name='Private'))
    root = gc.createFolder(private['_id'], 'soak-%d' % time.time())
    listed = gc.createFolder(root['_id'], 'listed')
    uploads = gc.createFolder(root['_id'], 'uploads')
    items = [gc.createItem(listed['_id'], 'item %04d' % i)['_id'] for i in range(500)]
    image = gc.uploadFileToFolder(root['_id'], pyramid_tiff(TMP, SIZE, 'soak_tiled', bigtiff=True))
    item_id = image['itemId']
    meta = gc.get('item/%s/tiles' % item_id)
    rng = random.Random(3)
    elements = [{'type': 'rectangle', 'center': [rng.uniform(0, meta['sizeX']),
                                                 rng.uniform(0, meta['sizeY']), 0],
                 'width': 30, 'height': 20} for _ in range(ANN_N)]
    annotation = gc.post('annotation', parameters={'itemId': item_id},
                         json={'name': 'soak', 'elements': elements})
    return {'root': root['_id'], 'listed': listed['_id'], 'uploads': uploads['_id'],
            'items': items, 'image': item_id, 'meta': meta, 'annotation': annotation['_id']}


class Client(threading.Thread):
    """One client: random operations until ``stop`` is set, timing each."""

    def __init__(self, url, token, data, seed, stop, results):
        super().__init__(daemon=True)
        self.url, self.data, self.stop, self.results = url, data, stop, results
        self.session = requests.Session()
        self.session.headers['Girder-Token'] = token
        self.rng = random.Random(seed)
        self.seed = seed
        self.uploaded = 0

    def run(self):
        while not self.stop.is_set():
            op = self.rng.choices(OPERATIONS, WEIGHTS)[0]
            t0 = time.perf_counter()
            try:
                ok = getattr(self, op)()
            except requests.RequestException:
                ok = False
            self.results[op].append((time.perf_counter() - t0, ok))

    def _get(self, path, **params):
        r = self.session.get(self.url + path, params=params, timeout=60)
        r.content
        return r.status_code == 200

    def listing(self):
        if self.rng.random() < 0.3:  # the upload folder grows all through the run
            return self._get('/item', folderId=self.data['uploads'], limit=50)
        return self._get('/item', folderId=self.data['listed'], limit=50,
                         offset=self.rng.randrange(0, 450))

    def item(self):
        return self._get('/item/%s' % self.rng.choice(self.data['items']))

    def tile(self):
        meta = self.data['meta']
        z = self.rng.randrange(meta['levels'])
        scale = 2 ** (meta['levels'] - 1 - z)
        across = max(1, -(-meta['sizeX'] // (meta['tileWidth'] * scale)))
        down = max(1, -(-meta['sizeY'] // (meta['tileHeight'] * scale)))
        return self._get('/item/%s/tiles/zxy/%d/%d/%d' % (
            self.data['image'], z, self.rng.randrange(across), self.rng.randrange(down)))

    def annotation_region(self):
        meta = self.data['meta']
        left = self.rng.uniform(0, meta['sizeX'] - 2000)
        top = self.rng.uniform(0, meta['sizeY'] - 2000)
        return self._get('/annotation/%s' % self.data['annotation'], left=left, top=top,
                         right=left + 2000, bottom=top + 2000)

    def upload(self):
        self.uploaded += 1
        body = os.urandom(4096)
        r = self.session.post(self.url + '/file', data=body, timeout=60, params={
            'parentType': 'folder', 'parentId': self.data['uploads'], 'size': len(body),
            'name': 'soak-%d-%d.bin' % (self.seed, self.uploaded)})
        return r.status_code == 200


def slope(samples):
    """Least-squares slope of (minutes, MB) samples, MB per minute."""
    n = len(samples)
    if n < 2:
        return None
    mx = sum(t for t, _ in samples) / n
    my = sum(m for _, m in samples) / n
    den = sum((t - mx) ** 2 for t, _ in samples)
    return sum((t - mx) * (m - my) for t, m in samples) / den if den else None


def main():
    out = {'bench': 'soak', 'minutes': DURATION, 'threads': THREADS, 'annotation_elements':
           ANN_N, 'image_px': SIZE}
    with Server(port_base=19000) as server:
        gc = login(server.url)
        log('preparing data')
        data = prepare(gc)
        results = collections.defaultdict(list)
        stop = threading.Event()
        clients = [Client(server.url, gc.token, data, seed, stop, results)
                   for seed in range(THREADS)]
        report_every = 5.0 if DURATION >= 15 else 1.0
        warmup = max(1.0, DURATION / 5.0)
        start_rss = rss_mb(server.pid) if server.pid else None
        log('RSS before load: %s MB' % (None if start_rss is None else round(start_rss, 1)))
        for client in clients:
            client.start()
        t0 = time.monotonic()
        samples, next_report = [], report_every
        while True:
            minutes = (time.monotonic() - t0) / 60.0
            if minutes >= DURATION:
                break
            rss = rss_mb(server.pid) if server.pid else None
            if rss is not None:
                samples.append((minutes, rss))
            if minutes >= next_report - 1e-6:
                done = sum(len(v) for v in results.values())
                log('%5.1f min  RSS %s MB  requests %d' % (
                    minutes, None if rss is None else round(rss, 1), done))
                next_report += report_every
            time.sleep(min(10.0, max(0.1, (DURATION - minutes) * 60)))
        stop.set()
        for client in clients:
            client.join(120)
        end_rss = rss_mb(server.pid) if server.pid else None
        log('%5.1f min  RSS %s MB (end)' % (DURATION, end_rss and round(end_rss, 1)))
        after = [(t, m) for t, m in samples if t >= warmup]
        s = slope(after)
        out['rss_mb'] = {'before_load': start_rss and round(start_rss, 1),
                         'after_warmup': round(after[0][1], 1) if after else None,
                         'end': end_rss and round(end_rss, 1)}
        out['rss_slope_mb_per_min_after_warmup'] = None if s is None else round(s, 3)
        out['warmup_minutes'] = warmup
        out['errors'] = sum(1 for v in results.values() for _, ok in v if not ok)
        out['operations'] = {}
        for op in OPERATIONS:
            lat = [d for d, _ in results[op]]
            if lat:
                out['operations'][op] = {
                    'count': len(lat), 'errors': sum(1 for _, ok in results[op] if not ok),
                    'p50_ms': round(percentile(lat, 50) * 1000, 2),
                    'p99_ms': round(percentile(lat, 99) * 1000, 2)}
        if not os.environ.get('BASE_URL'):
            gc.delete('folder/%s' % data['root'])
    print(json.dumps(out, sort_keys=True))


if __name__ == '__main__':
    main()
