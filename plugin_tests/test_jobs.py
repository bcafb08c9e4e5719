"""The job runner against a real database: statuses, batching, pool bounds,
worker processes, cancellation and recovery after a server dies."""
import os
import socket
import subprocess
import sys
import threading

import pytest

from tilery.jobs.context import JobError
from tilery.jobs.model import JobStatus, utcnow
from tilery.jobs.service import JobService
from tilery.jobs.settings import JobSettings

WAIT = 60  # seconds; only reached when something is broken


@pytest.fixture
def make_service(server):
    """Job services as several server processes would run them, on one app's job model."""
    services = []

    def make(**settings):
        service = JobService(server.app.models.job, JobSettings(**settings))
        services.append(service)
        return service
    yield make
    for service in services:
        service.stop()


def dead_pid():
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def child(code):
    """argv running a worker that speaks the child protocol."""
    return [sys.executable, '-c', 'import sys\nfrom tilery.jobs import child\n' + code]


def test_success_with_progress_log_and_timestamps(make_service):
    service = make_service()

    def handler(ctx):
        ctx.progress(1, 2, 'half way')
        ctx.log('did %s' % ctx.kwargs['what'])
        ctx.set_meta(answer=42)
    service.register('demo', handler)
    job = service.create('Demo job', 'demo', kwargs={'what': 'things'})
    assert job['status'] == JobStatus.QUEUED
    done = service.wait(job['_id'], WAIT)
    assert done['status'] == JobStatus.SUCCESS
    assert done['log'] == ['did things']
    assert done['progress'] == {'current': 1, 'total': 2, 'message': 'half way'}
    assert done['meta'] == {'answer': 42}
    assert [t['status'] for t in done['timestamps']] == [1, 2, 3]
    assert done['title'] == 'Demo job' and done['kwargs'] == {'what': 'things'}
    assert 'runner' not in service.model.filter(done)


def test_log_lines_are_written_in_batches(make_service):
    service = make_service(flush_seconds=3600)
    logged, release = threading.Event(), threading.Event()

    def handler(ctx):
        for i in range(300):
            ctx.log('line %d' % i)
        logged.set()
        release.wait(WAIT)
    service.register('chatty', handler)
    job = service.create('chatty', 'chatty')
    assert logged.wait(WAIT)
    # 300 lines logged, none written yet: no database write per line
    assert service.model.load(job['_id'])['log'] == []
    release.set()
    done = service.wait(job['_id'], WAIT)
    assert done['log'] == ['line %d' % i for i in range(300)]


def test_log_keeps_its_tail(make_service):
    service = make_service(log_max_lines=10, flush_seconds=0)
    service.register('long', lambda ctx: [ctx.log(str(i)) for i in range(25)])
    done = service.wait(service.create('long', 'long')['_id'], WAIT)
    assert done['log'] == [str(i) for i in range(15, 25)]


def test_failures_end_in_error_with_a_message(make_service):
    service = make_service()

    def clear(ctx):
        raise JobError('The file is not an image.')

    def bug(ctx):
        return {}['missing']
    service.register('clear', clear)
    service.register('bug', bug)
    a = service.wait(service.create('a', 'clear')['_id'], WAIT)
    b = service.wait(service.create('b', 'bug')['_id'], WAIT)
    assert a['status'] == JobStatus.ERROR
    assert a['log'][-1] == 'Error: The file is not an image.'
    assert b['status'] == JobStatus.ERROR
    assert b['log'][-1] == "Unexpected error: KeyError: 'missing'"
    with pytest.raises(JobError, match='No handler'):
        service.create('x', 'unknown-type')


def test_pool_is_bounded(make_service):
    service = make_service(pool_size=2)
    lock, running, peak = threading.Lock(), [0], [0]
    release = threading.Event()
    two_running = threading.Event()

    def handler(ctx):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            if running[0] == 2:
                two_running.set()
        release.wait(WAIT)
        with lock:
            running[0] -= 1
    service.register('block', handler)
    jobs = [service.create('j%d' % i, 'block') for i in range(5)]
    assert two_running.wait(WAIT)
    statuses = [service.model.load(j['_id'])['status'] for j in jobs]
    assert statuses.count(JobStatus.RUNNING) == 2
    assert statuses.count(JobStatus.QUEUED) == 3
    release.set()
    assert all(service.wait(j['_id'], WAIT)['status'] == JobStatus.SUCCESS for j in jobs)
    assert peak[0] == 2


def test_cancel_queued_and_inactive_jobs(make_service):
    service = make_service(pool_size=1)
    started, release, ran, cleaned = threading.Event(), threading.Event(), [], []
    service.register('block', lambda ctx: (started.set(), release.wait(WAIT)))
    service.register('record', lambda ctx: ran.append(ctx.id),
                     cleanup=lambda job: cleaned.append(job['_id']))
    first = service.create('first', 'block')
    assert started.wait(WAIT)
    queued = service.create('second', 'record')
    inactive = service.create('third', 'record', schedule=False)
    assert service.cancel(queued['_id'])['status'] == JobStatus.CANCELED
    assert service.cancel(inactive['_id'])['status'] == JobStatus.CANCELED
    release.set()
    assert service.wait(first['_id'], WAIT)['status'] == JobStatus.SUCCESS
    assert service.wait(queued['_id'], WAIT)['status'] == JobStatus.CANCELED
    assert ran == []
    assert cleaned == [queued['_id'], inactive['_id']]  # what they promised is undone
    # canceling a finished job changes nothing
    assert service.cancel(first['_id'])['status'] == JobStatus.SUCCESS


def test_worker_process_reports_and_returns(make_service):
    service = make_service(flush_seconds=0)

    def handler(ctx):
        result = ctx.run_child(child(
            'def main(report):\n'
            '    print("stray output goes to stderr")\n'
            '    report.progress(5, 10, "working", force=True)\n'
            '    report.log("from the worker")\n'
            '    return {"pixels": 7}\n'
            'sys.exit(child.run(main))\n'))
        ctx.set_meta(result=result)
    service.register('work', handler)
    done = service.wait(service.create('w', 'work')['_id'], WAIT)
    assert done['status'] == JobStatus.SUCCESS, done['log']
    assert done['meta']['result'] == {'pixels': 7}
    assert done['log'] == ['from the worker']
    assert done['progress'] == {'current': 5, 'total': 10, 'message': 'working'}


def test_worker_failures_are_explained(make_service):
    service = make_service()
    codes = {
        'clear': 'def main(report):\n    raise child.WorkerFailure("Bad pixels.")\n'
                 'sys.exit(child.run(main))\n',
        'crash': 'raise SystemExit("boom")\n',
        'killed': 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n',
    }
    for name, code in codes.items():
        service.register(name, lambda ctx, code=code: ctx.run_child(child(code)))
    logs = {name: service.wait(service.create(name, name)['_id'], WAIT)['log'][-1]
            for name in codes}
    assert logs['clear'] == 'Error: Bad pixels.'
    assert logs['crash'] == 'Error: The worker process failed (exit code 1): boom'
    assert logs['killed'].startswith('Error: The worker process was killed by SIGKILL')


def test_cancel_kills_the_running_worker(make_service, tmp_path):
    service = make_service()
    fifo = str(tmp_path / 'pid')
    os.mkfifo(fifo)
    service.register('forever', lambda ctx: ctx.run_child(child(
        'import os, time\n'
        'with open(%r, "w") as fh:\n'
        '    fh.write(str(os.getpid()))\n'
        'time.sleep(3600)\n' % fifo)))
    job = service.create('forever', 'forever')
    with open(fifo) as fh:  # blocks until the worker has started
        pid = int(fh.read())
    done = service.cancel(job['_id'])
    assert done['status'] == JobStatus.CANCELED
    assert done['log'][-1] == 'Canceled.'
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_delete_removes_a_running_job(make_service):
    service = make_service()
    started = threading.Event()

    def handler(ctx):
        started.set()
        while True:
            ctx.check_canceled()
            if service._stopping.wait(0.05):
                return
    service.register('loop', handler)
    job = service.create('loop', 'loop')
    assert started.wait(WAIT)
    service.delete(job['_id'])
    assert service.model.load(job['_id']) is None


def _orphan(service, status, runner, heartbeat, restarts=0, job_type='demo', **extra):
    job = service.model.create('orphan', job_type)
    service.model.collection.update_one({'_id': job['_id']}, {'$set': dict(
        status=int(status), runner=runner, heartbeat=heartbeat, restarts=restarts, **extra)})
    return job['_id']


def test_recovery_after_a_server_died(make_service):
    service = make_service(stale_seconds=60)
    ran = []
    service.register('demo', lambda ctx: ran.append(ctx.id))
    host = socket.gethostname()
    now = utcnow()
    old = now.replace(year=now.year - 1)
    dead_here = {'id': 'dead', 'host': host, 'pid': dead_pid()}
    alive_elsewhere = {'id': 'alive', 'host': 'other-host', 'pid': 1}
    crashed = _orphan(service, JobStatus.RUNNING, dead_here, now)
    twice = _orphan(service, JobStatus.RUNNING, dead_here, now, restarts=1)
    silent = _orphan(service, JobStatus.QUEUED, alive_elsewhere, old)
    handed_back = _orphan(service, JobStatus.QUEUED, None, None)
    healthy = _orphan(service, JobStatus.RUNNING, alive_elsewhere, now)
    asked_to_cancel = _orphan(service, JobStatus.RUNNING, dead_here, now, cancelRequested=True)
    unknown = _orphan(service, JobStatus.RUNNING, dead_here, now, job_type='nobody-runs-this')

    service.start()
    for job_id in (crashed, silent, handed_back):
        done = service.wait(job_id, WAIT)
        assert done['status'] == JobStatus.SUCCESS, done['log']
    assert sorted(ran) == sorted([crashed, silent, handed_back])
    assert service.model.load(crashed)['restarts'] == 1
    assert service.model.load(crashed)['log'][0].startswith(
        'Re-queued: the server running it (%s, pid' % host)
    assert service.model.load(silent)['restarts'] == 0  # it was only queued there
    assert service.model.load(handed_back)['restarts'] == 0
    failed = service.model.load(twice)
    assert failed['status'] == JobStatus.ERROR
    assert 'already been restarted 1 time(s)' in failed['log'][-1]
    assert service.model.load(healthy)['status'] == JobStatus.RUNNING
    assert service.model.load(asked_to_cancel)['status'] == JobStatus.CANCELED
    assert 'no handler' in service.model.load(unknown)['log'][-1]
    assert service.recover() == []  # nothing left to take


def test_clean_stop_hands_jobs_to_the_next_server(make_service):
    first = make_service(pool_size=3)
    started = threading.Semaphore(0)

    def blocking(ctx):
        started.release()
        ctx.run_child(child('import time\ntime.sleep(3600)\n'))
    first.register('demo', blocking)
    running = [first.create('running %d' % i, 'demo') for i in range(3)]
    queued = first.create('queued', 'demo')
    assert all(started.acquire(timeout=WAIT) for _ in running)
    first.stop()
    for job in running + [queued]:
        job = first.model.load(job['_id'])
        assert job['status'] == JobStatus.QUEUED and job['runner'] is None
    # a pool thread freed by an interrupted job did not start the queued one meanwhile
    ran = [t['status'] for t in first.model.load(queued['_id'])['timestamps']]
    assert JobStatus.RUNNING not in ran
    second = make_service()
    second.register('demo', lambda ctx: None)
    second.start()
    for job_id in [job['_id'] for job in running] + [queued['_id']]:
        done = second.wait(job_id, WAIT)
        assert done['status'] == JobStatus.SUCCESS and done['restarts'] == 0


def test_cancel_from_another_server(make_service):
    owner, other = make_service(), make_service()
    started = threading.Event()

    def handler(ctx):
        started.set()
        ctx.run_child(child('import time\ntime.sleep(3600)\n'))
    owner.register('demo', handler)
    job = owner.create('remote', 'demo')
    assert started.wait(WAIT)
    assert other.cancel(job['_id'])['status'] == JobStatus.RUNNING
    assert other.model.load(job['_id'])['cancelRequested'] is True
    owner.beat()  # what the owner's heartbeat thread does every heartbeat_seconds
    assert owner.wait(job['_id'], WAIT)['status'] == JobStatus.CANCELED


def test_settings_from_server_settings():
    class Settings(dict):
        def get(self, key, default=None):
            return super().get(key, default)
    settings = JobSettings.from_settings(Settings({'jobs.pool_size': 3}))
    assert settings.pool_size == 3 and settings.max_restarts == 1
    with pytest.raises(ValueError):
        JobSettings.from_settings(Settings({'jobs.pool_size': 0}))


def test_the_job_model_is_registered_with_the_app(server):
    jobs = server.app.jobs
    assert server.app.models.job is jobs.model and server.app.models['job'] is jobs.model
    indexes = {tuple(spec['key'].items()) for spec in jobs.model.collection.list_indexes()}
    assert (('status', 1),) in indexes and (('userId', 1), ('created', -1)) in indexes
