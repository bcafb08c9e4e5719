"""The cluster as `scripts/cluster.sh up` starts it: the database service, redis, memcached,
two web processes behind nginx and two job workers, each a real process of its own.

The tests run in this file's order against one cluster (a module fixture); the last one
brings it down and checks that no process it started is left.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import girder_client
import psutil
import pymongo
import pytest
import pyvips
import requests

from test_large_image_samples import picture, pyramid
from tilery.database import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUSTER_SH = os.path.join(ROOT, 'scripts', 'cluster.sh')
JOB_SUCCESS = 3


def test_tilery_db_serves_change_streams_and_stops_on_sigterm(tmp_path):
    """`tilery db` runs SecantusDB as a one-node replica set: change streams work."""
    proc = subprocess.Popen([sys.executable, '-m', 'tilery.cli', 'db', '--data-dir',
                             str(tmp_path), '--port', str(free_port())],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = _read_line_with(proc, 'mongodb://', 120)
        uri = re.search(r'mongodb://\S+', line).group(0)
        child = psutil.Process(int(re.search(r'pid (\d+)', line).group(1)))
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
        collection = client.tilery.changes
        with collection.watch(max_await_time_ms=200) as stream:
            collection.insert_one({'n': 1})
            deadline = time.monotonic() + 10
            change = None
            while change is None and time.monotonic() < deadline:
                change = stream.try_next()
        assert change is not None and change['operationType'] == 'insert'
        assert change['fullDocument']['n'] == 1
        # a second one on the same data refuses, and leaves the first alone
        second = subprocess.run([sys.executable, '-m', 'tilery.cli', 'db', '--data-dir',
                                 str(tmp_path), '--port', str(free_port())],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and 'already runs' in second.stderr, second.stderr
        assert _running(child) and client.tilery.changes.count_documents({}) == 1
        client.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert not _running(child)
        assert not os.path.exists(tmp_path / 'db' / 'secantus.pid')
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _read_line_with(proc, text, timeout):
    """The first line of ``proc``'s output containing ``text`` (a reader thread bounds it)."""
    found = []

    def read():
        for line in proc.stdout:
            if text in line:
                found.append(line)
                return
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert found, '%r did not appear within %d s' % (text, timeout)
    return found[0]


def _running(process):
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class Cluster:
    """What `cluster.sh up` recorded in its directory: ports, pids, logs."""

    def __init__(self, path):
        self.path = path
        with open(os.path.join(path, 'cluster.env')) as fh:
            self.env = dict(re.findall(r"^(\w+)='?([^'\n]*)'?$", fh.read(), re.M))
        self.url = 'http://127.0.0.1:%s' % self.env['NGINX_PORT']
        self.has_workers = bool(self.env['BROKER_URL'])

    def api(self, name='nginx'):
        port = self.env['NGINX_PORT' if name == 'nginx' else name.upper() + '_PORT']
        return 'http://127.0.0.1:%s/api/v1' % port

    def pid(self, name):
        with open(os.path.join(self.path, 'pids', name + '.pid')) as fh:
            return int(fh.read().split()[0])

    def names(self):
        return sorted(n[:-4] for n in os.listdir(os.path.join(self.path, 'pids')))

    def processes(self):
        """Every live process the cluster started: each recorded process, its process
        group and its descendants (nginx's workers, SecantusDB, Celery's pool)."""
        found = {}
        for name in self.names():
            try:
                leader = psutil.Process(self.pid(name))
            except psutil.NoSuchProcess:
                continue
            for proc in [leader] + leader.children(recursive=True):
                found[proc.pid] = proc
        for proc in psutil.process_iter():
            try:
                if os.getpgid(proc.pid) in {self.pid(n) for n in self.names()}:
                    found[proc.pid] = proc
            except (ProcessLookupError, psutil.NoSuchProcess):
                pass
        return [p for p in found.values() if _running(p)]

    def log(self, name):
        with open(os.path.join(self.path, 'logs', name + '.log'), errors='replace') as fh:
            return fh.read()

    def run(self, command, timeout=300):
        return subprocess.run(['bash', CLUSTER_SH, command, '--dir', self.path],
                              capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, TILERY_PYTHON=sys.executable))


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('cluster'))
    up = subprocess.run(['bash', CLUSTER_SH, 'up', '--dir', path], capture_output=True,
                        text=True, timeout=600, env=dict(os.environ, TILERY_PYTHON=sys.executable))
    started = None
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        last = up.stdout.strip().splitlines()[-1]
        assert re.fullmatch(r'Tilery cluster at http://127\.0\.0\.1:\d+/', last), last
        started = Cluster(path)
        assert last == 'Tilery cluster at %s/' % started.url
        yield started
    finally:
        if started is None and os.path.exists(os.path.join(path, 'pids')):
            started = Cluster.__new__(Cluster)
            started.path = path
        if started is not None:
            left = started.processes()
            started.run('down')
            assert not [p for p in left if _running(p)]


@pytest.fixture(scope='module')
def admin_gc(cluster):
    """girder-client through nginx, signed in as the first (admin) user."""
    gc = girder_client.GirderClient(apiUrl=cluster.api())
    gc.post('user', parameters={'login': 'admin', 'email': 'admin@example.com',
                                'firstName': 'Ad', 'lastName': 'Min',
                                'password': 'password1'})
    gc.authenticate('admin', 'password1')
    return gc


@pytest.fixture(scope='module')
def folder(admin_gc):
    me = admin_gc.get('user/me')
    private = next(admin_gc.listFolder(me['_id'], 'user', name='Private'))
    return admin_gc.createFolder(private['_id'], 'cluster', reuseExisting=True)


@pytest.fixture(scope='module')
def slide(admin_gc, folder, tmp_path_factory):
    """A pyramidal TIFF item (a large image at once, no conversion) and its file."""
    path = tmp_path_factory.mktemp('slide') / 'slide.tiff'
    pyramid(path, picture(1500, 1100, seed=3))
    item = admin_gc.createItem(folder['_id'], 'slide.tiff')
    file = admin_gc.uploadFileToItem(item['_id'], str(path))
    assert wait_large_image(admin_gc, item['_id'])
    return {'item': item, 'file': file, 'path': str(path), 'bytes': path.read_bytes()}


def wait_large_image(gc, item_id, timeout=120):
    """The item's tile metadata once it is a large image (conversions included)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return gc.get('item/%s/tiles' % item_id)
        except girder_client.HttpError as exc:
            if exc.status not in (400, 404, 409):
                raise
        time.sleep(0.25)
    raise AssertionError('item %s did not become a large image' % item_id)


def test_status_lists_every_process_and_up_again_is_refused(cluster):
    status = cluster.run('status')
    rows = dict(re.findall(r'^(\w+)\s+(\d+)\s+alive$', status.stdout, re.M))
    expected = {'db', 'secantus', 'redis', 'memcached', 'web1', 'web2', 'nginx'}
    if cluster.has_workers:
        expected |= {'worker1', 'worker2'}
    assert set(rows) == expected, status.stdout
    assert {name: int(pid) for name, pid in rows.items()} == {
        name: cluster.pid(name) for name in expected}
    before = {p.pid for p in cluster.processes()}
    again = cluster.run('up')
    assert again.returncode == 1 and 'already runs' in again.stderr
    assert {p.pid for p in cluster.processes()} == before
    assert cluster.run('status').stdout == status.stdout


def test_upload_of_a_tree_through_nginx_spreads_chunks_over_both_web_processes(
        cluster, admin_gc, folder, tmp_path):
    tree = tmp_path / 'tree'
    (tree / 'sub' / 'deeper').mkdir(parents=True)
    big = os.urandom(5 * 1024 * 1024 + 123)
    (tree / 'big.bin').write_bytes(big)
    (tree / 'sub' / 'a.txt').write_text('a' * 1000)
    (tree / 'sub' / 'deeper' / 'b.txt').write_text('b' * 2000)
    target = admin_gc.createFolder(folder['_id'], 'tree')
    admin_gc.MAX_CHUNK_SIZE = 1024 * 1024  # six chunks for big.bin
    try:
        admin_gc.upload(str(tree / '*'), target['_id'], leafFoldersAsItems=False)
    finally:
        del admin_gc.MAX_CHUNK_SIZE
    sub = next(admin_gc.listFolder(target['_id'], name='sub'))
    assert next(admin_gc.listFolder(sub['_id'], name='deeper'))
    item = next(admin_gc.listItem(target['_id'], name='big.bin'))
    file = next(admin_gc.listFile(item['_id']))
    assert admin_gc.get('file/%s/download' % file['_id'], jsonResp=False).content == big
    # each process's access log names the chunks it received, by upload id
    chunks = {}
    for name in ('web1', 'web2'):
        for upload_id in re.findall(r'"POST /api/v1/file/chunk\?[^"]*uploadId=([0-9a-f]{24})'
                                    r'[^"]*" 200', cluster.log(name + '-access')):
            chunks.setdefault(upload_id, set()).add(name)
    assert {'web1', 'web2'} in chunks.values(), chunks


def test_a_strip_tiff_converts_on_a_worker_not_a_web_process(cluster, admin_gc, folder,
                                                             tmp_path):
    need_workers(cluster)
    job = convert(admin_gc, folder, tmp_path, 'strip.tiff', 4200, 800)
    job = wait_job(admin_gc, job['_id'], 120)
    assert job['status'] == JOB_SUCCESS, job
    worker_pid = job['worker']['pid']
    assert in_group(worker_pid, cluster.pid('worker1')) or in_group(
        worker_pid, cluster.pid('worker2')), job['worker']
    assert worker_pid not in (cluster.pid('web1'), cluster.pid('web2'))


def need_workers(cluster):
    if not cluster.has_workers:
        pytest.skip('this Tilery has no `tilery worker` command yet (branch celery)')


def convert(gc, folder, tmp_path, name, width, height):
    """Upload a strip TIFF (wider than 4096 px: converted by a job); its job, as admins
    see it."""
    path = tmp_path / name
    array = picture(width, height, seed=height)
    pyvips.Image.new_from_array(array, interpretation='srgb').tiffsave(
        str(path), tile=False, compression='deflate')
    item = gc.createItem(folder['_id'], name)
    gc.uploadFileToItem(item['_id'], str(path))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = gc.getItem(item['_id']).get('largeImage') or {}
        if info.get('jobId'):
            return gc.get('job/%s' % info['jobId'])
        time.sleep(0.1)
    raise AssertionError('no conversion job for %s' % name)


def wait_job(gc, job_id, timeout, until=lambda job: job['status'] in (3, 4, 5)):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = gc.get('job/%s' % job_id)
        if until(job):
            return job
        time.sleep(0.2)
    raise AssertionError('job %s: %r' % (job_id, job))


def in_group(pid, group):
    try:
        return os.getpgid(pid) == group
    except ProcessLookupError:
        return False


def test_kill_9_of_the_worker_running_a_conversion_the_other_worker_finishes_it(
        cluster, admin_gc, folder, tmp_path):
    need_workers(cluster)
    job = convert(admin_gc, folder, tmp_path, 'long_strip.tiff', 7000, 7000)
    job = wait_job(admin_gc, job['_id'], 60,
                   until=lambda job: job['status'] == 2 and (job.get('worker') or {}).get('pid'))
    pid = job['worker']['pid']
    running_on = next(name for name in ('worker1', 'worker2')
                      if in_group(pid, cluster.pid(name)))
    other = 'worker2' if running_on == 'worker1' else 'worker1'
    # hold the conversion where it is (SIGSTOP), so the kill lands mid-conversion however
    # fast the machine is
    deadline = time.monotonic() + 30
    while True:
        held = [child for child in psutil.Process(pid).children(recursive=True)
                if 'convert_worker' in ' '.join(child.cmdline())]
        if held:
            break
        assert time.monotonic() < deadline, 'no conversion process under worker %d' % pid
        time.sleep(0.05)
    try:
        for child in held:
            child.send_signal(signal.SIGSTOP)
        assert admin_gc.get('job/%s' % job['_id'])['status'] == 2
        os.killpg(cluster.pid(running_on), signal.SIGKILL)  # the worker and its pool at once
        # the conversion (a process of its own) dies with its worker: no orphan holds on
        gone, alive = psutil.wait_procs(held, timeout=10)
        assert not alive, alive
    finally:
        for child in held:
            if _running(child):
                child.kill()
    job = wait_job(admin_gc, job['_id'], 150)
    assert job['status'] == JOB_SUCCESS, job
    assert in_group(job['worker']['pid'], cluster.pid(other)), (job['worker'], other)


def test_a_revoked_share_is_refused_by_either_web_process_within_a_second(
        cluster, admin_gc, folder, slide):
    user = requests.post(cluster.api() + '/user', params={
        'login': 'viewer', 'email': 'viewer@example.com', 'firstName': 'Vi',
        'lastName': 'Ewer', 'password': 'password1'}).json()
    # nginx adds its hop to X-Forwarded-For and the web processes trust it: the audit log
    # has the client's address, not nginx's
    token = requests.get(cluster.api() + '/user/authentication', auth=('viewer', 'password1'),
                         headers={'X-Forwarded-For': '203.0.113.7'}).json()['authToken']['token']
    sign_in = admin_gc.get('system/audit', parameters={'type': 'login', 'userId': user['_id']})
    assert sign_in[0]['details']['address'] == '203.0.113.7'  # the newest first
    shared = admin_gc.createFolder(folder['_id'], 'shared')
    item = admin_gc.createItem(shared['_id'], 'slide.tiff')
    admin_gc.uploadFileToItem(item['_id'], slide['path'])
    wait_large_image(admin_gc, item['_id'])
    tile = '/item/%s/tiles/zxy/0/0/0' % item['_id']
    headers = {'Girder-Token': token}
    webs = ('web1', 'web2')
    for name in webs:
        assert requests.get(cluster.api(name) + tile, headers=headers).status_code == 403
    me = admin_gc.get('user/me')
    grant = {'users': [{'id': me['_id'], 'level': 2}, {'id': user['_id'], 'level': 0}],
             'groups': []}
    admin_gc.put('folder/%s/access' % shared['_id'],
                 parameters={'access': json.dumps(grant), 'public': 'false'})
    # both processes serve the tile, so each holds whatever it caches about the user
    for name in webs:
        until_status(cluster.api(name) + tile, headers, 200, timeout=15)
    grant['users'] = grant['users'][:1]
    requests.put(cluster.api('web1') + '/folder/%s/access' % shared['_id'], params={
        'access': json.dumps(grant), 'public': 'false'},
        headers={'Girder-Token': admin_gc.token}).raise_for_status()
    revoked = time.monotonic()
    refused = {}
    while len(refused) < 2 and time.monotonic() - revoked < 5:
        for name in webs:
            if name not in refused and requests.get(cluster.api(name) + tile,
                                                    headers=headers).status_code == 403:
                refused[name] = time.monotonic() - revoked
        time.sleep(0.02)
    assert sorted(refused) == list(webs), refused
    assert max(refused.values()) < 1.0, refused


def until_status(url, headers, status, timeout):
    deadline = time.monotonic() + timeout
    while requests.get(url, headers=headers).status_code != status:
        assert time.monotonic() < deadline, '%s did not answer %d' % (url, status)
        time.sleep(0.1)


def test_the_notification_stream_through_nginx_gets_a_change_made_on_another_process(
        cluster, admin_gc, slide):
    item_id = slide['item']['_id']
    events = []
    opened = threading.Event()

    def follow():
        with requests.get(cluster.api() + '/notification/stream', stream=True, timeout=30,
                          params={'watch': 'item:%s' % item_id, 'timeout': 20},
                          headers={'Girder-Token': admin_gc.token}) as stream:
            assert stream.status_code == 200
            opened.set()
            for line in stream.iter_lines():
                if line.startswith(b'data: '):
                    event = json.loads(line[6:])
                    if event['type'] == 'annotation.create':
                        events.append((time.monotonic(), event))
                        return
    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert opened.wait(10)
    time.sleep(0.5)  # the stream is registered once its headers are out
    created = requests.post(cluster.api('web2') + '/annotation', params={'itemId': item_id},
                            json={'name': 'live', 'elements': []},
                            headers={'Girder-Token': admin_gc.token})
    sent = time.monotonic()
    created.raise_for_status()
    reader.join(15)
    assert events, 'no annotation.create event through nginx'
    received, event = events[0]
    assert event['data']['annotationId'] == created.json()['_id']
    assert event['data']['itemId'] == item_id
    assert received - sent < 2.0, received - sent


def test_kill_9_of_a_web_process_downloads_and_tiles_keep_working_through_nginx(
        cluster, admin_gc, slide):
    os.killpg(cluster.pid('web2'), signal.SIGKILL)
    psutil.Process(cluster.pid('web1'))  # the other one still runs
    session = requests.Session()
    session.headers['Girder-Token'] = admin_gc.token
    api = cluster.api()
    for _ in range(6):  # round robin would send every other one to the dead process
        download = session.get(api + '/file/%s/download' % slide['file']['_id'])
        assert download.status_code == 200 and download.content == slide['bytes']
        tile = session.get(api + '/item/%s/tiles/zxy/1/1/0' % slide['item']['_id'])
        assert tile.status_code == 200 and tile.headers['Content-Type'] == 'image/jpeg'
        # nginx passes Tilery's caching headers through (tile_cache_control's default)
        assert tile.headers['Cache-Control'] == 'private, max-age=600'
    status = cluster.run('status').stdout
    assert re.search(r'^web2\s+\d+\s+dead$', status, re.M), status
    assert re.search(r'^web1\s+\d+\s+alive$', status, re.M), status


def test_down_stops_every_process_it_started_and_only_those(cluster):
    bystander = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])
    try:
        started = cluster.processes()
        names = {p.name() for p in started}
        assert {'redis-server', 'memcached', 'nginx'} <= names, names
        assert len(started) >= 7
        down = cluster.run('down')
        assert down.returncode == 0, down.stdout + down.stderr
        assert not [p for p in started if _running(p)]
        assert bystander.poll() is None
        assert 'alive' not in cluster.run('status').stdout
    finally:
        bystander.kill()
        bystander.wait()


def test_up_after_down_serves_the_same_data(cluster):
    """The directory keeps the data: a new `up` serves what the last one stored (its
    readiness is read from the new logs, not from the last run's)."""
    up = cluster.run('up', timeout=600)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        again = Cluster(cluster.path)
        signed_in = requests.get(again.api() + '/user/authentication',
                                 auth=('admin', 'password1'))
        assert signed_in.status_code == 200 and signed_in.json()['user']['admin']
        assert again.run('status').stdout.count(' alive') == len(again.names())
    finally:
        started = Cluster(cluster.path).processes()
        assert cluster.run('down').returncode == 0
        assert not [p for p in started if _running(p)]
