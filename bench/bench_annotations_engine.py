"""In-process benchmark of the annotation engine (no HTTP): ingest, queries, centroids.

Builds N rectangles (default 1,000,000) on a 16384 px slide as one JSON body, ingests
it through the streamed path (as POST /annotation does), then times: 50 region queries
of ~1% of the slide (p50/p95), centroids of all elements, a full JSON answer, and a
one-element PATCH. Prints one JSON line; peak RSS included, and the RSS the ingest
added at its peak (sampled every 10 ms).

    python bench/bench_annotations_engine.py            # N=1000000, embedded SecantusDB
    BENCH_N=100000 MONGO_URI=mongodb://... python bench/bench_annotations_engine.py
    BENCH_CHUNK_SIZE=1000 BENCH_BATCH_SIZE=500000 ...   # try other storage settings
"""
import io
import json
import os
import random
import resource
import tempfile
import threading
import time

import orjson
import psutil
from bson import ObjectId

from tilery import database
from tilery.plugins.annotation.service import AnnotationService
from tilery.testing import make_app

N = int(os.environ.get('BENCH_N', '1000000'))
SLIDE = 16384


def body(n, seed=1):
    rng = random.Random(seed)
    els = [{'type': 'rectangle', 'center': [round(rng.uniform(50, SLIDE - 50), 2),
                                            round(rng.uniform(50, SLIDE - 50), 2), 0],
            'width': round(rng.uniform(8, 60), 2), 'height': round(rng.uniform(8, 60), 2),
            'rotation': 0, 'lineColor': '#00ff00', 'lineWidth': 2} for _ in range(n)]
    return orjson.dumps({'name': 'bench', 'elements': els})


def drain(pieces):
    return sum(len(p) for p in pieces)


class RssPeak:
    """The highest RSS of this process while the ``with`` block runs."""

    def __enter__(self):
        self._proc = psutil.Process()
        self.start = self.peak = self._proc.memory_info().rss
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.01):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()


def run(db, data_dir):
    app = make_app(db.client, db, data_dir)  # for its Annotation model and indexes
    overrides = {key: int(os.environ[env]) for key, env in (
        ('chunk_size', 'BENCH_CHUNK_SIZE'), ('batch_size', 'BENCH_BATCH_SIZE'))
        if env in os.environ}
    svc = AnnotationService(app.models.annotation, overrides)
    data = body(N)
    res = {'bench': 'annotation_engine', 'n': N, 'body_bytes': len(data),
           'settings': {k: svc.settings[k] for k in ('chunk_size', 'batch_size')}}
    owner = {'_id': ObjectId()}
    item = {'_id': ObjectId(), 'folderId': ObjectId()}
    # peak RSS so far is the cost of building the test body, not of the engine
    res['peak_rss_before_ingest_mb'] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    t0 = time.perf_counter()
    with RssPeak() as rss:
        doc = svc.create(item, owner, io.BytesIO(data))
    res['ingest_s'] = round(time.perf_counter() - t0, 2)
    res['ingest_rss_added_mb'] = round((rss.peak - rss.start) / 2 ** 20)
    res['ingest_elements_per_s'] = round(N / res['ingest_s'])
    del data
    res['chunks'] = db.annotation_chunk.count_documents({})
    rng = random.Random(7)
    times, counts = [], []
    for _ in range(50):
        x, y = rng.uniform(0, SLIDE * 0.9), rng.uniform(0, SLIDE * 0.9)
        t0 = time.perf_counter()
        q = svc.query(svc.load(doc['_id']), {'left': x, 'top': y, 'right': x + SLIDE * 0.1,
                                             'bottom': y + SLIDE * 0.1})
        drain(q.iter_json())
        times.append(time.perf_counter() - t0)
        counts.append(q.info['returned'])
    times.sort()
    res['region_p50_ms'] = round(times[len(times) // 2] * 1000, 1)
    res['region_p95_ms'] = round(times[int(len(times) * 0.95)] * 1000, 1)
    res['region_mean_returned'] = round(sum(counts) / len(counts))
    t0 = time.perf_counter()
    q = svc.query(svc.load(doc['_id']), {'centroids': True})
    res['centroids_bytes'] = drain(q.iter_centroids())
    res['centroids_s'] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    res['full_json_bytes'] = drain(svc.query(svc.load(doc['_id'])).iter_json())
    res['full_json_s'] = round(time.perf_counter() - t0, 2)
    first = next(svc.query(doc, {'limit': 1}).elements())
    t0 = time.perf_counter()
    svc.patch(doc['_id'], [{'op': 'replace', 'path': 'elements/id:%s/width' % first['id'],
                            'value': 99}], owner, expected_version=1)
    res['patch_one_element_s'] = round(time.perf_counter() - t0, 2)
    sizes = [sum(len(v) for v in d.values() if isinstance(v, bytes))
             for d in db.annotation_chunk.find({}, {'_id': 0, 'json': 1, 'ids': 1, 'box': 1})]
    res['largest_chunk_bytes'] = max(sizes)
    res['chunk_storage_mb'] = round(sum(sizes) / 1e6, 1)
    res['peak_rss_mb'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return res


def main():
    uri = os.environ.get('MONGO_URI')
    if uri:
        client = database.connect(uri)
        name = 'bench_annotations_%s' % ObjectId()
        try:
            with tempfile.TemporaryDirectory(prefix='tilery-bench-') as path:
                print(json.dumps(run(client[name], path)))
        finally:
            client.drop_database(name)
        return
    with tempfile.TemporaryDirectory(prefix='tilery-bench-') as path:
        with database.EmbeddedDatabase(path) as server:
            client = database.connect(server.uri)
            print(json.dumps(run(client['bench'], os.path.join(path, 'data'))))
            client.close()


if __name__ == '__main__':
    main()
