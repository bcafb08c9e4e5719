"""Jobs on Celery: a redis-server and `tilery worker` processes, real ones, against the
session's database; the web process is this test process's app (in-process requests)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

import psutil
import pytest
import pyvips
import redis

from tilery.database import free_port
from tilery.jobs.model import JobStatus
from tilery.jobs.service import JobService
from tilery.jobs.settings import JobSettings
from tilery.testing import TestServer, make_app

import test_large_image_samples as sample_files

WAIT = 60  # seconds; only reached when something is broken
LARGE = 8_000_000  # bytes: strip TIFFs above this go to the `large` queue
JOB_SETTINGS = {'heartbeat_seconds': 1.0, 'stale_seconds': 10.0, 'flush_seconds': 0.5,
                'large_input_bytes': LARGE}


def wait_for(predicate, timeout=WAIT, what='the condition'):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('Timed out after %g s waiting for %s' % (timeout, what))
        time.sleep(0.1)


@pytest.fixture(scope='module')
def broker_url(tmp_path_factory):
    """A redis-server of its own on a free loopback port (Debian's package)."""
    exe = shutil.which('redis-server')
    assert exe, 'redis-server is needed: apt-get install -y redis-server'
    port = free_port()
    work = tmp_path_factory.mktemp('redis')
    proc = subprocess.Popen([exe, '--port', str(port), '--bind', '127.0.0.1', '--save', '',
                             '--appendonly', 'no', '--dir', str(work)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = 'redis://127.0.0.1:%d/0' % port
    client = redis.Redis.from_url(url)

    def answers():
        try:
            return client.ping()
        except redis.ConnectionError:
            return False
    wait_for(answers, 20, 'redis-server')
    yield url
    client.close()
    proc.terminate()
    proc.wait(20)


@pytest.fixture(scope='module')
def db_uri(mongo_uri, mongo_client):
    """A database of this module's own, and the URI that names it for the workers."""
    name = 'test_celery_%s' % uuid.uuid4().hex[:8]
    parts = urllib.parse.urlsplit(mongo_uri)
    yield name, urllib.parse.urlunsplit(parts._replace(path='/' + name))
    mongo_client.drop_database(name)


@pytest.fixture(scope='module')
def web(mongo_client, db_uri, broker_url, tmp_path_factory):
    """The web process: an app that sends its jobs to the broker."""
    extra = {'jobs.%s' % k: v for k, v in JOB_SETTINGS.items()}
    extra['jobs.broker_url'] = broker_url
    app = make_app(mongo_client, mongo_client[db_uri[0]], tmp_path_factory.mktemp('web'),
                   extra=extra)
    server = TestServer(app)
    users = app.models.user
    server.admin = users.create('admin', 'admin@example.com', 'Ad', 'Min', 'password1',
                                admin=True)
    server.user = users.create('user1', 'user1@example.com', 'Us', 'Er', 'password1')
    yield server
    app.stop()


class Workers:
    """`tilery worker` processes started by the tests; stops exactly those."""

    def __init__(self, db_uri, broker_url, root):
        self.db_uri, self.broker_url, self.root = db_uri, broker_url, root
        self.procs = []

    def start(self, *queue_lists):
        config = self.root / 'worker.toml'
        config.write_text('[plugins.jobs]\n' + ''.join(
            '%s = %r\n' % item for item in JOB_SETTINGS.items()))
        started = []
        for queues in queue_lists:
            data_dir = self.root / ('w%d' % len(self.procs))
            proc = subprocess.Popen(
                [sys.executable, '-m', 'tilery.cli', 'worker', '--mongo-uri', self.db_uri,
                 '--broker-url', self.broker_url, '--queues', queues, '--concurrency', '1',
                 '--config', str(config), '--data-dir', str(data_dir)],
                stdout=subprocess.PIPE, stderr=open(self.root / ('w%d.log' % len(
                    self.procs)), 'w'), text=True)
            self.procs.append(proc)
            started.append(proc)
        for proc in started:  # both start at once: about 3 s, not 6
            line = _read_line(proc, WAIT)
            assert line.startswith('Tilery worker ready on %s, pid %d: queues' % (
                socket.gethostname(), proc.pid)), line
        return started

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()


def _read_line(proc, timeout):
    got = []
    reader = threading.Thread(target=lambda: got.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return got[0].strip() if got else '(no line in %g s)' % timeout


@pytest.fixture(scope='module')
def workers(db_uri, broker_url, tmp_path_factory):
    """Two workers: ``both`` takes default and large jobs, ``small`` only default ones."""
    group = Workers(db_uri[1], broker_url, tmp_path_factory.mktemp('workers'))
    group.both, group.small = group.start('default,large', 'default')
    yield group
    group.stop()


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    """Strip TIFFs wider than the tiff reader's 4096 untiled pixels (they need a
    conversion): small ones, and one over LARGE bytes."""
    root = tmp_path_factory.mktemp('celery_images')
    out = {}
    for name, (width, height) in {'small': (4200, 250), 'small2': (4300, 200),
                                  'small3': (4400, 220), 'large': (4200, 800)}.items():
        path = root / ('%s.tiff' % name)
        pyvips.Image.new_from_array(sample_files.picture(width, height, seed=len(out)),
                                    interpretation='srgb').tiffsave(
            str(path), tile=False, compression='none')
        out[name] = path
    assert out['large'].stat().st_size > LARGE > out['small'].stat().st_size
    return out


def upload(web, user, path):
    """Upload a file into a new item of the user's Public folder; the item."""
    folder = web.app.models.folder.find_one({'parentId': user['_id'], 'name': 'Public'})
    data = path.read_bytes()
    r = web.request('file', method='POST', user=user, body=data, params={
        'parentType': 'folder', 'parentId': folder['_id'], 'name': '%s-%s' % (
            uuid.uuid4().hex[:6], path.name), 'size': len(data)})
    assert r.status == 200, r
    return web.request('item/%s' % r.json['itemId'], user=user).json


def job_of(web, item):
    return web.app.jobs.model.load(item['largeImage']['jobId'])


def finished(web, job_id):
    return wait_for(lambda: (lambda j: j if j['status'] in (
        JobStatus.SUCCESS, JobStatus.ERROR, JobStatus.CANCELED) else None)(
        web.app.jobs.model.load(job_id)), what='job %s to finish' % job_id)


def freeze_running_conversion(web, item, worker_pids):
    """Wait until the item's conversion runs on one of ``worker_pids``, then stop (SIGSTOP)
    its conversion process: the job stays RUNNING mid-conversion. (job, worker pid,
    conversion process)."""
    job_id = item['largeImage']['jobId']
    job = wait_for(lambda: (lambda j: j if j['status'] == JobStatus.RUNNING else None)(
        web.app.jobs.model.load(job_id)), what='job %s to run' % job_id)
    pid = job['worker']['pid']
    assert pid in worker_pids

    def conversion():
        for child in psutil.Process(pid).children(recursive=True):
            if 'convert_worker' in ' '.join(child.cmdline()):
                return child
    child = wait_for(conversion, what='the conversion process')
    child.send_signal(signal.SIGSTOP)
    return job, pid, child


def frozen_on_either_worker(web, workers, image):
    """A conversion frozen mid-way on one of the two workers: (job, its worker, the
    other worker, the conversion process)."""
    item = upload(web, web.user, image)
    job, pid, conversion = freeze_running_conversion(
        web, item, [workers.both.pid, workers.small.pid])
    running, other = (workers.both, workers.small) if pid == workers.both.pid else (
        workers.small, workers.both)
    return job, running, other, conversion


def gone(process):
    """True once a psutil process has ended (a zombie has)."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_conversion_runs_on_a_worker_and_only_admins_see_where(web, workers, images):
    item = upload(web, web.user, images['small'])
    job = finished(web, item['largeImage']['jobId'])
    assert job['status'] == JobStatus.SUCCESS, job['log']
    # run by a worker process, not by this (web) process
    assert job['worker'] == {'host': socket.gethostname(), 'pid': job['worker']['pid']}
    assert job['worker']['pid'] in (workers.both.pid, workers.small.pid) != os.getpid()
    assert job['celeryQueue'] == 'default' and len(job['celeryTaskId']) == 32
    meta = web.request('item/%s/tiles' % item['_id'], user=web.user)
    assert meta.status == 200 and (meta.json['sizeX'], meta.json['sizeY']) == (4200, 250)

    as_admin = web.request('job/%s' % job['_id'], user=web.admin).json
    assert as_admin['celeryTaskId'] == job['celeryTaskId']
    assert as_admin['worker'] == job['worker'] and as_admin['celeryQueue'] == 'default'
    listed = web.request('job/all', user=web.admin).json
    assert [j['worker'] for j in listed if j['_id'] == str(job['_id'])] == [job['worker']]
    hidden = ('celeryTaskId', 'celeryQueue', 'worker')
    as_owner = web.request('job/%s' % job['_id'], user=web.user)
    assert as_owner.status == 200 and as_owner.json['status'] == JobStatus.SUCCESS
    assert not set(hidden) & set(as_owner.json)
    for listed in web.request('job', user=web.user).json:
        assert not set(hidden) & set(listed)
    assert web.request('job/%s' % job['_id']).status == 401


def test_a_small_job_finishes_while_large_ones_hold_the_large_queue_and_cancel_revokes(
        web, workers, images, broker_url):
    big = upload(web, web.user, images['large'])
    running, pid, conversion = freeze_running_conversion(web, big, [workers.both.pid])
    assert running['celeryQueue'] == 'large'
    waiting = job_of(web, upload(web, web.user, images['large']))
    assert waiting['celeryQueue'] == 'large'

    small = upload(web, web.user, images['small2'])
    done = finished(web, small['largeImage']['jobId'])
    assert done['status'] == JobStatus.SUCCESS and done['worker']['pid'] == workers.small.pid
    # the large queue was held all along: one running (frozen), one waiting
    assert web.app.jobs.model.load(running['_id'])['status'] == JobStatus.RUNNING
    assert web.app.jobs.model.load(waiting['_id'])['status'] == JobStatus.QUEUED

    r = web.request('job/%s/cancel' % waiting['_id'], method='PUT', user=web.user)
    assert r.status == 200 and r.json['status'] == JobStatus.CANCELED
    inspect = web.app.jobs.broker.celery.control.inspect(timeout=3)
    revoked = inspect.revoked() or {}
    assert all(waiting['celeryTaskId'] in ids for ids in revoked.values()) and len(
        revoked) == 2, revoked

    # a running job stops: its conversion process is killed, within ~flush_seconds
    r = web.request('job/%s/cancel' % running['_id'], method='PUT', user=web.user)
    assert r.status == 200
    assert finished(web, running['_id'])['status'] == JobStatus.CANCELED
    wait_for(lambda: gone(conversion), what='the canceled conversion process to end')
    # the freed worker takes the revoked message off the queue and does not run it
    queue = redis.Redis.from_url(broker_url)
    wait_for(lambda: queue.llen('large') == 0, what='the revoked message to be taken')
    time.sleep(1)
    after = web.app.jobs.model.load(waiting['_id'])
    assert after['status'] == JobStatus.CANCELED and 'worker' not in after
    assert JobStatus.RUNNING not in [t['status'] for t in after['timestamps']]
    for item in (big, small):
        assert web.request('item/%s' % item['_id'], user=web.user).status == 200
    queue.close()


def test_only_the_task_a_job_names_may_run_it(web, workers, broker_url):
    """A redelivered or superseded message (an old task id) does nothing."""
    jobs = web.app.jobs
    job = jobs.model.create('by hand', 'large_image_conversion', web.user['_id'],
                            {'itemId': str(web.user['_id']), 'fileId': str(web.user['_id'])})
    # as after a re-queue: the job names task 'new', while 'old' is still in the queue
    jobs.model.transition(job['_id'], JobStatus.QUEUED, set_fields={
        'celeryTaskId': 'new', 'celeryQueue': 'default'})
    queue = redis.Redis.from_url(broker_url)
    jobs.broker.send(job['_id'], 'old', 'default')
    wait_for(lambda: queue.llen('default') == 0 and not queue.hlen('unacked'),
             what='the old message to be taken and acknowledged')
    assert jobs.model.load(job['_id'])['status'] == JobStatus.QUEUED
    jobs.broker.send(job['_id'], 'new', 'default')
    done = finished(web, job['_id'])
    assert done['status'] == JobStatus.ERROR and done['worker']['pid'] in (
        workers.both.pid, workers.small.pid)
    assert 'Error: The item was deleted before its conversion finished.' in done['log']
    queue.close()


def test_a_job_the_broker_did_not_take_is_sent_when_it_answers(web, workers):
    port = free_port()
    unreachable = JobService(web.app.models.job, JobSettings(
        broker_url='redis://127.0.0.1:%d/0' % port, heartbeat_seconds=3600))
    unreachable.register('large_image_conversion', lambda ctx: None)
    try:
        job = unreachable.create('by hand', 'large_image_conversion', web.user, {
            'itemId': str(web.user['_id']), 'fileId': str(web.user['_id'])})
        assert job['status'] == JobStatus.QUEUED
        stored = web.app.jobs.model.load(job['_id'])
        assert stored['celeryTaskId'] is None and stored['log'][0].startswith(
            'Not sent yet (cannot reach the broker at redis://127.0.0.1:%d/0' % port)
        # the web app's next heartbeat (a second) sends it through the broker that answers
        done = finished(web, job['_id'])
        assert done['worker']['pid'] in (workers.both.pid, workers.small.pid)
        assert 'Re-queued: the broker did not take it.' in done['log']
    finally:
        unreachable.stop()


def test_a_run_whose_job_was_taken_over_leaves_the_job_to_its_new_runner(web):
    # in-process runner: the same rule holds for workers (their heartbeat may stall)
    service = JobService(web.app.models.job, JobSettings(heartbeat_seconds=3600))
    started, release = threading.Event(), threading.Event()
    service.register('slow', lambda ctx: (started.set(), release.wait(WAIT)))
    job = service.create('slow', 'slow')
    try:
        assert started.wait(WAIT)
        other = {'id': 'taken-over', 'host': socket.gethostname(), 'pid': os.getpid()}
        service.model.collection.update_one({'_id': job['_id']}, {'$set': {'runner': other}})
        release.set()
        after = service.wait(job['_id'], WAIT)
        assert after['status'] == JobStatus.RUNNING and after['runner'] == other
    finally:
        release.set()
        service.stop()
        service.model.delete(job['_id'])


def test_sigterm_hands_the_running_job_to_another_worker(web, workers, images):
    job, stopped, other, conversion = frozen_on_either_worker(web, workers, images['small3'])
    started = time.monotonic()
    stopped.send_signal(signal.SIGTERM)
    assert stopped.wait(20) == 0 and time.monotonic() - started < 15
    done = finished(web, job['_id'])
    assert done['status'] == JobStatus.SUCCESS, done['log']
    assert done['worker']['pid'] == other.pid and done['restarts'] == 0
    assert any('Interrupted by a worker shutdown' in line for line in done['log'])
    assert gone(conversion)
    replacement, = workers.start('default,large')
    if stopped is workers.both:
        workers.both = replacement
    else:
        workers.small = replacement


def test_kill_9_of_the_worker_running_a_conversion(web, workers, images):
    job, victim, other, conversion = frozen_on_either_worker(web, workers, images['small'])
    item_id = web.app.jobs.model.load(job['_id'])['kwargs']['itemId']
    killed = time.monotonic()
    victim.send_signal(signal.SIGKILL)  # not reaped yet: a zombie is a dead worker too
    # the frozen conversion process died with its worker (it would go on writing)
    wait_for(lambda: gone(conversion), 10, 'the conversion process to die with its worker')
    done = finished(web, job['_id'])
    elapsed = time.monotonic() - killed
    assert done['status'] == JobStatus.SUCCESS, done['log']
    assert done['worker']['pid'] == other.pid and done['restarts'] == 1
    assert any('Re-queued: the server running it' in line for line in done['log'])
    # taken over at the next heartbeat (its pid is gone from this host), not after
    # stale_seconds
    assert elapsed < JOB_SETTINGS['stale_seconds'], elapsed
    victim.wait()
    meta = web.request('item/%s/tiles' % item_id, user=web.user)
    assert meta.status == 200 and meta.json['sizeX'] == 4200


def test_a_worker_with_a_bad_broker_url_fails_with_a_clear_message(db_uri, tmp_path):
    port = free_port()
    url = 'redis://:secret@127.0.0.1:%d/0' % port
    command = [sys.executable, '-m', 'tilery.cli', 'worker', '--mongo-uri', db_uri[1]]
    started = time.monotonic()
    proc = subprocess.run(command + ['--broker-url', url], capture_output=True, text=True,
                          timeout=WAIT)
    assert proc.returncode == 1 and time.monotonic() - started < 30
    assert 'tilery worker: cannot reach the broker at redis://:***@127.0.0.1:%d/0' % port \
        in proc.stderr, proc.stderr
    assert 'secret' not in proc.stderr + proc.stdout
    proc = subprocess.run(command + ['--broker-url', 'http://127.0.0.1:1/'],
                          capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 1 and 'jobs.broker_url must start with one of redis://' in \
        proc.stderr, proc.stderr
    proc = subprocess.run(command + ['--broker-url', url, '--queues', 'huge'],
                          capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 1 and '--queues takes default and large' in proc.stderr
    # the broker from the settings file when no flag gives it; none at all is said too
    config = tmp_path / 'worker.toml'
    config.write_text('[plugins.jobs]\nbroker_url = "redis://127.0.0.1:%d/1"\n' % port)
    proc = subprocess.run(command + ['--config', str(config)], capture_output=True,
                          text=True, timeout=WAIT)
    assert proc.returncode == 1 and 'cannot reach the broker at redis://127.0.0.1:%d/1' % (
        port) in proc.stderr, proc.stderr
    proc = subprocess.run(command, capture_output=True, text=True, timeout=WAIT,
                          env={k: v for k, v in os.environ.items()
                               if k != 'TILERY_JOBS_BROKER_URL'})
    assert proc.returncode == 1 and 'tilery worker: a worker needs the broker: give ' \
        '--broker-url' in proc.stderr, proc.stderr
