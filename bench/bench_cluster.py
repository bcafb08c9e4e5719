"""The cluster of `scripts/cluster.sh`: tiles through nginx, and how fast an access change
made on one web process reaches the other.

Starts a cluster in a scratch directory (or uses the running one in CLUSTER_DIR), then in
the same run measures:
  - large_image's own getTile on the JPEG pyramid in this process (one thread, ICC off:
    the floor, as in bench_wrk_tiles.py);
  - `wrk` (8 connections, WRK_SECONDS) on random max-level tiles through nginx with both
    web processes in its upstream, then with only the first (nginx reloaded with one),
    then straight at the first web process (what the nginx hop costs);
  - cache memory after those runs: memcached's bytes and items (the shared tile cache)
    and each web process's RSS;
  - event-to-invalidation latency across processes, ROUNDS times: a folder is shared
    with a user whose tile requests both processes have answered, the share is revoked
    through web1, and web2 is polled until it refuses; p50 and p95 of that time;
  - the database's growth per annotation element: ANN_N rectangles POSTed through nginx
    as one annotation, dbStats and the database directory on disk before and after.
Env: CLUSTER_DIR, BENCH_TMP (/tmp/tilery-bench), SIZE_PX (8192), WRK_SECONDS (8),
ROUNDS (20), ANN_N (1000000), PARTS ("tiles latency annotations"). Prints one JSON line
per figure.
Run: .venv/bin/python bench/bench_cluster.py
"""
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

from bench_wrk_tiles import in_process, prepare
from benchlib import log, login, percentile, pyramid_tiff, rss_mb, wrk_tiles

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUSTER_SH = os.path.join(ROOT, 'scripts', 'cluster.sh')
TMP = os.environ.get('BENCH_TMP', '/tmp/tilery-bench')
SIZE = int(os.environ.get('SIZE_PX', '8192'))
WRK_SECONDS = int(os.environ.get('WRK_SECONDS', '8'))
ROUNDS = int(os.environ.get('ROUNDS', '20'))
ANN_N = int(os.environ.get('ANN_N', '1000000'))
PARTS = os.environ.get('PARTS', 'tiles latency annotations').split()
POLL_TIMEOUT = 30.0  # a revocation not seen by then counts as this long


def cluster_sh(command, path):
    out = subprocess.run(['bash', CLUSTER_SH, command, '--dir', path], capture_output=True,
                         text=True, env=dict(os.environ, TILERY_PYTHON=sys.executable))
    if out.returncode:
        raise SystemExit('cluster.sh %s failed:\n%s%s' % (command, out.stdout, out.stderr))
    return out.stdout


def read_env(path):
    with open(os.path.join(path, 'cluster.env')) as fh:
        return dict(re.findall(r"^(\w+)='?([^'\n]*)'?$", fh.read(), re.M))


def upstreams(path, env, names):
    """Reload nginx with only the web processes ``names`` in its upstream."""
    conf = os.path.join(path, 'nginx', 'tilery.conf')
    with open(conf) as fh:
        text = fh.read()
    servers = ' '.join('server 127.0.0.1:%s max_fails=1 fail_timeout=5s;' % env[
        name.upper() + '_PORT'] for name in names)
    text = re.sub(r'(upstream tilery_web \{.*?\n)(\s*server [^\n]*\n)', r'\1    %s\n' % servers,
                  text, count=1, flags=re.S)
    with open(conf, 'w') as fh:
        fh.write(text)
    with open(os.path.join(path, 'pids', 'nginx.pid')) as fh:
        os.kill(int(fh.read().split()[0]), signal.SIGHUP)
    time.sleep(2)  # the old workers finish, the new ones take over


def tile_image(env):
    """girder-client signed in through nginx, the pyramid uploaded: (gc, tile path, ...)."""
    url = 'http://127.0.0.1:%s/api/v1' % env['NGINX_PORT']
    login(url)
    image = pyramid_tiff(TMP, SIZE, 'bench_pyramid', Q=90)
    gc, _, tile_path, across, down = prepare(url, image)
    return gc, tile_path, image, across, down


def tile_rates(path, env, nginx_url):
    gc, tile_path, image, across, down = tile_image(env)
    floor = in_process(image, across, down, int(tile_path.rsplit('/', 1)[1]))
    print(json.dumps({'bench': 'in_process_getTile', 'tiles_per_s': floor}), flush=True)
    for names in (('web1', 'web2'), ('web1',)):
        upstreams(path, env, names)
        result = wrk_tiles(nginx_url, gc.token, tile_path, across, down, WRK_SECONDS, TMP)
        result.update(bench='wrk_tiles_through_nginx', web_processes=len(names),
                      vs_in_process=round(result['tiles_per_s'] / floor, 3)
                      if result['tiles_per_s'] else None)
        print(json.dumps(result, sort_keys=True), flush=True)
    # the same load straight at one web process: what nginx's hop costs
    result = wrk_tiles('http://127.0.0.1:%s' % env['WEB1_PORT'], gc.token, tile_path, across,
                       down, WRK_SECONDS, TMP)
    result.update(bench='wrk_tiles_direct_to_one_web_process', vs_in_process=round(
        result['tiles_per_s'] / floor, 3) if result['tiles_per_s'] else None)
    print(json.dumps(result, sort_keys=True), flush=True)
    upstreams(path, env, ('web1', 'web2'))
    cache_memory(path, env)
    return gc, tile_path


def cache_memory(path, env):
    """memcached's bytes and items, and each web process's RSS (MB)."""
    with socket.create_connection(('127.0.0.1', int(env['MEMCACHED_PORT'])), 5) as sock:
        sock.sendall(b'stats\r\n')
        answer = b''
        while not answer.endswith(b'END\r\n'):
            answer += sock.recv(65536)
    stats = dict(line.split()[1:3] for line in answer.decode().splitlines()
                 if line.startswith('STAT '))
    rss = {}
    for name in ('web1', 'web2'):
        with open(os.path.join(path, 'pids', name + '.pid')) as fh:
            rss[name] = rss_mb(int(fh.read().split()[0]))
    items = int(stats['curr_items'])
    print(json.dumps({'bench': 'cache_memory', 'memcached_bytes': int(stats['bytes']),
                      'memcached_items': items, 'bytes_per_item':
                      int(stats['bytes']) // items if items else None, 'web_rss_mb': rss}),
          flush=True)


def disk_bytes(root):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(root)
               for f in files)


def annotation_size(path, env, gc, item_id):
    """Bytes the database grows by per element, for ANN_N rectangles in one annotation."""
    import pymongo
    client = pymongo.MongoClient(env['MONGO_URI'])
    db = client.get_default_database()
    storage = os.path.join(path, 'db', 'db', 'db')
    before = db.command('dbStats'), disk_bytes(storage)
    rng = random.Random(3)
    elements = [{'type': 'rectangle', 'center': [rng.uniform(0, 16000), rng.uniform(0, 16000),
                                                 0], 'width': rng.uniform(5, 40),
                 'height': rng.uniform(5, 40), 'rotation': 0, 'lineColor': '#00ff00'}
                for _ in range(ANN_N)]
    body = json.dumps({'name': 'size', 'elements': elements}).encode()
    del elements
    t0 = time.perf_counter()
    requests.post('http://127.0.0.1:%s/api/v1/annotation' % env['NGINX_PORT'],
                  params={'itemId': item_id}, data=body, timeout=1800, headers={
                      'Girder-Token': gc.token, 'Content-Type': 'application/json'},
                  ).raise_for_status()
    seconds = time.perf_counter() - t0
    time.sleep(2)
    after = db.command('dbStats'), disk_bytes(storage)
    client.close()
    grew = {key: after[0].get(key, 0) - before[0].get(key, 0)
            for key in ('dataSize', 'storageSize', 'indexSize')}
    print(json.dumps({
        'bench': 'database_per_annotation_element', 'elements': ANN_N,
        'json_body_mb': round(len(body) / 2 ** 20, 1), 'post_s': round(seconds, 1),
        'db_stats_growth_mb': {k: round(v / 2 ** 20, 1) for k, v in grew.items()},
        'disk_growth_mb': round((after[1] - before[1]) / 2 ** 20, 1),
        'disk_mb_per_million': round((after[1] - before[1]) / 2 ** 20 * 1e6 / ANN_N, 1)}),
        flush=True)


def status_of(url, token):
    return requests.get(url, headers={'Girder-Token': token}, timeout=10).status_code


def until(url, token, status, timeout):
    """Seconds until ``url`` answers ``status`` (polled every 5 ms), or ``timeout``."""
    start = time.monotonic()
    while status_of(url, token) != status:
        if time.monotonic() - start > timeout:
            return timeout
        time.sleep(0.005)
    return time.monotonic() - start


def invalidation_latency(env, gc, tile_path):
    api = 'http://127.0.0.1:%s/api/v1'
    web1, web2 = api % env['WEB1_PORT'], api % env['WEB2_PORT']
    requests.post(web1 + '/user', params={
        'login': 'viewer', 'email': 'viewer@example.com', 'firstName': 'Vi',
        'lastName': 'Ewer', 'password': 'viewerpass1'})
    token = requests.get(web1 + '/user/authentication', auth=('viewer', 'viewerpass1'),
                         timeout=10).json()['authToken']['token']
    viewer = requests.get(web1 + '/user/me', headers={'Girder-Token': token}).json()
    me = gc.get('user/me')
    item = gc.getItem(tile_path.split('/item/')[1].split('/')[0])
    folder_id = item['folderId']
    tile = '/item/%s/tiles/zxy/0/0/0' % item['_id']
    latencies = []
    for round_ in range(ROUNDS):
        grant = [{'id': me['_id'], 'level': 2}, {'id': viewer['_id'], 'level': 0}]
        gc.put('folder/%s/access' % folder_id, parameters={
            'access': json.dumps({'users': grant, 'groups': []}), 'public': 'false'})
        for url in (web1, web2):  # both have answered the viewer: whatever they cache
            until(url + tile, token, 200, POLL_TIMEOUT)
        requests.put(web1 + '/folder/%s/access' % folder_id, headers={
            'Girder-Token': gc.token}, params={
            'access': json.dumps({'users': grant[:1], 'groups': []}),
            'public': 'false'}).raise_for_status()
        latencies.append(until(web2 + tile, token, 403, POLL_TIMEOUT))
        log('round', round_, 'web2 refused after %.3f s' % latencies[-1])
    print(json.dumps({
        'bench': 'revocation_to_refusal_on_the_other_process', 'rounds': ROUNDS,
        'p50_s': round(percentile(latencies, 50), 3),
        'p95_s': round(percentile(latencies, 95), 3),
        'max_s': round(max(latencies), 3)}), flush=True)


def main():
    path = os.environ.get('CLUSTER_DIR')
    own = path is None
    if own:
        path = tempfile.mkdtemp(prefix='tilery-cluster-bench-')
        log(cluster_sh('up', path).strip().splitlines()[-1])
    try:
        env = read_env(path)
        gc, tile_path = tile_rates(path, env, 'http://127.0.0.1:%s' % env['NGINX_PORT']) \
            if 'tiles' in PARTS else tile_image(env)[:2]
        if 'latency' in PARTS:
            invalidation_latency(env, gc, tile_path)
        if 'annotations' in PARTS:
            annotation_size(path, env, gc, tile_path.split('/item/')[1].split('/')[0])
    finally:
        if own:
            cluster_sh('down', path)


if __name__ == '__main__':
    main()
