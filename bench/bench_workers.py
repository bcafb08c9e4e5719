"""Conversions on Celery workers: COUNT strip TIFFs converted by 1 and by 2 `tilery worker`
processes, and the ratio.

Starts its own parts: an embedded database (SecantusDB), a redis-server on a free port,
one `tilery serve` whose jobs go to that broker, and the workers. For each run, COUNT new
strip TIFFs (SIZE², made once in BENCH_TMP) are uploaded with girder-client while no
worker runs, so every conversion waits in the queue; the time is from the moment the
workers are ready to the last job's SUCCESS.

Env: COUNT (8), SIZE (5000), BENCH_TMP ($TMPDIR or /tmp), CONVERT_THREADS (0: libvips
uses every core in each conversion; 1: one thread each).
Prints one JSON line: seconds with 1 and with 2 workers, their ratio, the machine's cores.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from benchlib import log, login, synthetic

COUNT = int(os.environ.get('COUNT', '8'))
SIZE = int(os.environ.get('SIZE', '5000'))  # over 4096: a strip TIFF is then converted
TMP = os.environ.get('BENCH_TMP', tempfile.gettempdir())
CONVERT_THREADS = int(os.environ.get('CONVERT_THREADS', '0'))


def strip_tiff():
    path = os.path.join(TMP, 'bench_workers_strip_%d.tiff' % SIZE)
    if not os.path.exists(path):
        log('generating', path)
        synthetic(SIZE).tiffsave(path + '.tmp.tiff', tile=False, compression='none')
        os.rename(path + '.tmp.tiff', path)
    return path


def free_port():
    from tilery.database import free_port as pick
    return pick()


def wait_until(check, what, timeout=300):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit('timed out waiting for %s' % what)
        time.sleep(0.2)


def start_redis(work):
    port = free_port()
    proc = subprocess.Popen(['redis-server', '--port', str(port), '--bind', '127.0.0.1',
                             '--save', '', '--appendonly', 'no', '--dir', work],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis
    client = redis.Redis(port=port)

    def answers():
        try:
            return client.ping()
        except redis.ConnectionError:
            return False
    wait_until(answers, 'redis-server', 20)
    return proc, 'redis://127.0.0.1:%d/0' % port


def start_server(data, mongo_uri, broker_url, env):
    import requests
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, '-m', 'tilery.cli', 'serve', '--no-build', '--port', str(port),
         '--data-dir', data, '--mongo-uri', mongo_uri],
        env=dict(env, TILERY_JOBS_BROKER_URL=broker_url, TILERY_ACCESS_LOG=''),
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(data, 'serve.log'), 'w'))
    url = 'http://127.0.0.1:%d/api/v1' % port

    def answers():
        if proc.poll() is not None:
            raise SystemExit('tilery serve exited; see %s/serve.log' % data)
        try:
            return requests.get(url + '/system/version', timeout=1).ok
        except requests.RequestException:
            return False
    wait_until(answers, 'tilery serve', 120)
    return proc, url


def start_workers(count, data, mongo_uri, broker_url, env):
    procs = [subprocess.Popen(
        [sys.executable, '-m', 'tilery.cli', 'worker', '--mongo-uri', mongo_uri,
         '--broker-url', broker_url, '--concurrency', '1', '--data-dir', data],
        env=env, stdout=subprocess.PIPE, text=True,
        stderr=open(os.path.join(data, 'worker%d.log' % i), 'w')) for i in range(count)]
    for proc in procs:
        line = proc.stdout.readline()
        if not line.startswith('Tilery worker ready'):
            raise SystemExit('a worker did not start: %r (see %s)' % (line, data))
    return procs


def stop(procs):
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(60)


def run(gc, folder, workers, data, mongo_uri, broker_url, env, source):
    """Seconds from `workers` workers ready to COUNT queued conversions done."""
    job_ids = []
    for i in range(COUNT):
        item = gc.createItem(folder['_id'], 'w%d-%d.tiff' % (workers, i))
        gc.uploadFileToItem(item['_id'], source)
        job_ids.append(gc.getItem(item['_id'])['largeImage']['jobId'])
    log('%d conversions queued; starting %d worker(s)' % (COUNT, workers))
    procs = start_workers(workers, data, mongo_uri, broker_url, env)
    started = time.perf_counter()
    try:
        pending = set(job_ids)
        while pending:
            for job_id in list(pending):
                status = gc.get('job/%s' % job_id)['status']
                if status == 3:
                    pending.discard(job_id)
                elif status > 3:
                    raise SystemExit('job %s ended with status %d' % (job_id, status))
            time.sleep(0.2)
        return time.perf_counter() - started
    finally:
        stop(procs)


def main():
    from tilery.database import EmbeddedDatabase
    source = strip_tiff()
    work = tempfile.mkdtemp(prefix='tilery-bench-workers-')
    env = dict(os.environ)
    if CONVERT_THREADS:
        env['TILERY_LARGE_IMAGE_CONVERT_THREADS'] = str(CONVERT_THREADS)
    database = EmbeddedDatabase(os.path.join(work, 'db')).start()
    redis_proc, broker_url = start_redis(work)
    server = None
    try:
        server, url = start_server(work, database.uri, broker_url, env)
        gc = login(url)
        folder = gc.createFolder(gc.get('user/me')['_id'], 'bench', parentType='user')
        seconds = {n: run(gc, folder, n, work, database.uri, broker_url, env, source)
                   for n in (1, 2)}
    finally:
        if server is not None:
            stop([server])
        redis_proc.terminate()
        redis_proc.wait(20)
        database.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({
        'conversions': COUNT, 'size': SIZE, 'input_mb': round(os.path.getsize(source) / 1e6),
        'convert_threads': CONVERT_THREADS or 'all cores', 'cores': os.cpu_count(),
        'one_worker_s': round(seconds[1], 2), 'two_workers_s': round(seconds[2], 2),
        'speedup': round(seconds[1] / seconds[2], 2)}), flush=True)


if __name__ == '__main__':
    main()
