"""The job runner: a bounded pool, handlers by job type, cancellation and recovery.

Every server process has its own runner id. It stamps the jobs it queues or runs
and refreshes their ``heartbeat`` every ``heartbeat_seconds`` (one write for all of
them). A QUEUED or RUNNING job whose runner stopped beating, or whose runner was a
process of this host that no longer exists, belongs to a dead server: the next
runner to notice puts it back in the queue once (``max_restarts``) and after that
marks it failed with the reason. A clean shutdown hands its jobs back without
counting a restart.

With ``jobs.broker_url`` set, jobs go through Celery instead of this process's pool
(see ``broker``): a server sends them, ``tilery worker`` processes run them with
``run_task``, and the same heartbeat and recovery cover jobs whose worker died.
"""
import datetime
import logging
import os
import socket
import threading
import time
import uuid
import concurrent.futures
from concurrent.futures import ThreadPoolExecutor

import psutil

from ..metrics import Metrics
from .context import JobCanceled, JobContext, JobError, JobInterrupted
from .model import ACTIVE, FINISHED, JobStatus, to_job_id, utcnow
from .settings import JobSettings

log = logging.getLogger(__name__)


class JobService:
    """Creates, runs, cancels and recovers jobs stored through ``model`` (a JobModel)."""

    def __init__(self, model, settings=None, metrics=None):
        self.settings = settings or JobSettings()
        self.broker = None  # a CeleryBroker when jobs.broker_url is set
        if self.settings.broker_url:
            from .broker import CeleryBroker  # Celery is imported only when used
            self.broker = CeleryBroker(self.settings.broker_url)
        self.metrics = metrics or Metrics()  # queue depth and run times by job type
        self.model = model
        self.runner = {'id': uuid.uuid4().hex, 'host': socket.gethostname(),
                       'pid': os.getpid()}
        self._handlers = {}
        self._cleanups = {}
        self._input_bytes = {}
        self._active = {}  # job id -> JobContext, jobs running in this process
        self._done = {}  # job id -> Event, jobs queued by this process
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._pool = None
        self._runs = set()  # futures of _run submitted to the pool and not yet done
        self._beater = None

    def register(self, job_type, handler, cleanup=None, input_bytes=None):
        """Run ``handler(context)`` for jobs of ``job_type``.

        ``cleanup(job)`` is called for a job that ends without its handler having run
        to its end (canceled while queued, failed when its server died), so that what
        the job was to do is not left half-promised. ``input_bytes(job)``, the size of
        what a job reads, sends big ones to the broker's ``large`` queue.
        """
        if job_type in self._handlers:
            raise ValueError('A handler for job type %r is already registered' % job_type)
        self._handlers[job_type] = handler
        if cleanup is not None:
            self._cleanups[job_type] = cleanup
        if input_bytes is not None:
            self._input_bytes[job_type] = input_bytes

    def _cleanup(self, job):
        cleanup = self._cleanups.get(job['type'])
        if cleanup is not None:
            try:
                cleanup(job)
            except Exception:
                log.exception('Cleanup of job %s (%s) failed', job['_id'], job['type'])

    # -- life cycle
    def start(self):
        """Start the pool and heartbeat, and take over jobs left by dead servers."""
        self._ensure_started()
        self.recover()

    def _ensure_started(self):
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError('The job service is stopped.')
            if self._beater is None:
                if self.broker is None:  # with a broker, workers run the jobs
                    self._pool = ThreadPoolExecutor(self.settings.pool_size, 'tilery-job')
                self._beater = threading.Thread(target=self._beat_loop, name='tilery-jobs-beat',
                                                daemon=True)
                self._beater.start()

    def stop(self, timeout=30.0):
        """Stop running jobs and hand them, and queued ones, back for the next server."""
        self.interrupt()
        with self._lock:  # canceled runs left _runs (and would never count as done)
            runs = [future for future in self._runs if not future.cancelled()]
        # every run taken by a pool thread, also one not yet in _active (it sees
        # _stopping), has handed its job back when this returns
        concurrent.futures.wait(runs, timeout)
        self.model.collection.update_many(
            {'status': int(JobStatus.QUEUED), 'runner.id': self.runner['id']},
            {'$set': {'runner': None, 'heartbeat': None}})
        if self._beater is not None:
            self._beater.join(timeout)

    def interrupt(self):
        """Take no more jobs, and make the running ones hand themselves back."""
        self._stopping.set()
        with self._lock:
            active, pool = list(self._active.values()), self._pool
        if pool is not None:
            # before interrupting the running jobs: a pool thread they free would else
            # start a queued job (RUNNING, then handed back) while we stop
            pool.shutdown(wait=False, cancel_futures=True)
        for ctx in active:
            ctx.request_stop(JobInterrupted)

    # -- jobs
    def create(self, title, job_type, user=None, kwargs=None, public=False, meta=None,
               schedule=True):
        """Create a job (and queue it unless ``schedule`` is False)."""
        job = self.model.create(title, job_type, user['_id'] if user else None, kwargs,
                                public, meta)
        return self.schedule(job) if schedule else job

    def schedule(self, job):
        """Queue an INACTIVE job on this server's pool."""
        self._ensure_started()
        if job['type'] not in self._handlers:
            raise JobError('No handler for job type %r on this server.' % job['type'])
        job_id = job['_id']
        if self.broker is not None:
            doc = self._send(job, [JobStatus.INACTIVE])
            if doc is None:
                raise JobError('Job %s is not inactive; it cannot be queued.' % job_id)
            return doc
        self._done[job_id] = threading.Event()
        doc = self.model.transition(job_id, JobStatus.QUEUED, expect=[JobStatus.INACTIVE],
                                    set_fields={'runner': self.runner, 'heartbeat': utcnow()})
        if doc is None:
            self._done.pop(job_id).set()
            raise JobError('Job %s is not inactive; it cannot be queued.' % job_id)
        self._submit(job_id, job['type'])
        return doc

    def cancel(self, job_id):
        """Cancel a job; a running one is stopped (its worker killed). Returns the job."""
        job_id = to_job_id(job_id)
        doc = self.model.transition(job_id, JobStatus.CANCELED,
                                    expect=[JobStatus.INACTIVE, JobStatus.QUEUED])
        if doc is not None:
            self._finished(job_id)
            self._revoke(doc)
            self._cleanup(doc)
            return doc
        with self._lock:
            ctx = self._active.get(job_id)
        if ctx is not None:
            ctx.request_stop(JobCanceled)
            self.wait(job_id, self.settings.cancel_wait_seconds)
        else:
            # running in another process: its runner sees the flag within flush_seconds
            self.model.collection.update_one(
                {'_id': job_id, 'status': {'$in': [int(s) for s in ACTIVE]}},
                {'$set': {'cancelRequested': True}})
        job = self.model.load(job_id)
        self._revoke(job)
        return job

    def delete(self, job_id):
        """Cancel the job if it is active, then remove it."""
        job_id = to_job_id(job_id)
        job = self.model.load(job_id)
        if job is not None and job['status'] not in FINISHED:
            self.cancel(job_id)
        self.model.delete(job_id)

    def wait(self, job_id, timeout=None):
        """Wait until the job finishes (or ``timeout`` seconds pass); return it."""
        job_id = to_job_id(job_id)
        event = self._done.get(job_id)
        if event is not None:
            event.wait(timeout)
            return self.model.load(job_id)
        # not queued here: poll the database
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.model.load(job_id)
            if job is None or job['status'] in FINISHED or job['status'] == JobStatus.INACTIVE:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                return job
            time.sleep(0.2)

    def _finished(self, job_id):
        event = self._done.pop(job_id, None)
        if event is not None:
            event.set()

    def _submit(self, job_id, job_type):
        self.metrics.job_queued(job_type)
        with self._lock:
            future = self._pool.submit(self._run_queued, job_id, job_type)
            self._runs.add(future)
        future.add_done_callback(self._run_done)

    def _run_done(self, future):
        with self._lock:
            self._runs.discard(future)

    def _run_queued(self, job_id, job_type):
        self.metrics.job_queued(job_type, -1)
        self._run(job_id, {'runner.id': self.runner['id']})

    # -- through the broker
    def _send(self, job, expect, match=None, set_fields=None):
        """Queue a job for the workers (from a status in ``expect``); the job, or None
        when it did not qualify. A job the broker did not take stays QUEUED without a
        task: every runner's recovery sends it again until the broker answers."""
        task_id = uuid.uuid4().hex
        fields = dict(set_fields or {}, runner=None, heartbeat=None, celeryTaskId=task_id,
                      celeryQueue=self._queue_for(job))
        doc = self.model.transition(job['_id'], JobStatus.QUEUED, expect=expect, match=match,
                                    set_fields=fields)
        if doc is None:
            return None
        from .broker import BrokerError
        try:
            self.broker.send(job['_id'], task_id, fields['celeryQueue'])
        except BrokerError as exc:
            self.model.collection.update_one({'_id': job['_id'], 'celeryTaskId': task_id},
                                             {'$set': {'celeryTaskId': None}})
            line = 'Not sent yet (%s); it is sent again within %g s.' % (
                exc, self.settings.heartbeat_seconds)
            self.model.record(job['_id'], [line], max_lines=self.settings.log_max_lines)
            log.warning('Job %s: %s', job['_id'], line)
        return doc

    def _queue_for(self, job):
        """``large`` for heavy job types and jobs reading over large_input_bytes."""
        if job['type'] in self.settings.heavy_types:
            return 'large'
        size = self._input_bytes.get(job['type'])
        try:
            big = size is not None and size(job) > self.settings.large_input_bytes
        except Exception:  # a size that cannot be told: the job is not held back for it
            log.exception('Size of job %s (%s) unknown', job['_id'], job['type'])
            big = False
        return 'large' if big else 'default'

    def _revoke(self, job):
        if self.broker is not None and job is not None and job.get('celeryTaskId'):
            self.broker.revoke(job['celeryTaskId'])

    def run_task(self, job_id, task_id):
        """Run a job the broker delivered as task ``task_id`` (in ``tilery worker``).

        Only the task the job names may start it: a redelivered, revoked or superseded
        message finds the job finished, canceled or under another task id, and returns.
        """
        self._run(to_job_id(job_id), {'celeryTaskId': task_id})

    def _run(self, job_id, claim):
        started = time.perf_counter()
        job = self.model.transition(
            job_id, JobStatus.RUNNING, expect=[JobStatus.QUEUED], match=claim,
            set_fields={'heartbeat': utcnow(), 'runner': self.runner,
                        'worker': {'host': self.runner['host'], 'pid': self.runner['pid']}})
        if job is None:  # canceled, deleted or taken over before it started
            self._finished(job_id)
            return
        ctx = JobContext(self.model, job, self.settings.flush_seconds,
                         self.settings.log_max_lines)
        with self._lock:
            self._active[job_id] = ctx
        status, fields = JobStatus.SUCCESS, {}
        try:
            if self._stopping.is_set():
                raise JobInterrupted()
            if job.get('cancelRequested'):  # asked while it was being claimed
                raise JobCanceled()
            if job['type'] not in self._handlers:
                raise JobError('No handler for job type %r on %s.' % (
                    job['type'], self.runner['host']))
            self._handlers[job['type']](ctx)
        except JobCanceled:
            status = JobStatus.CANCELED
            ctx.log('Canceled.')
        except JobInterrupted:
            status, fields = JobStatus.QUEUED, {'runner': None, 'heartbeat': None}
            ctx.log('Interrupted by a worker shutdown; back in the queue for another worker.'
                    if self.broker is not None else
                    'Interrupted by a server shutdown; it runs again when a server starts.')
        except JobError as exc:
            status = JobStatus.ERROR
            ctx.log('Error: %s' % exc)
        except Exception as exc:
            log.exception('Job %s (%s) failed', job_id, job['type'])
            status = JobStatus.ERROR
            ctx.log('Unexpected error: %s: %s' % (type(exc).__name__, exc))
        finally:
            try:
                ctx.flush()
                # only while the job is still ours: a runner that took it over (this
                # process's heartbeat stalled past stale_seconds) runs it now
                mine = {'runner.id': self.runner['id']}
                if status == JobStatus.QUEUED and self.broker is not None:
                    self._send(job, [JobStatus.RUNNING], match=mine, set_fields=fields)
                else:
                    self.model.transition(job_id, status, expect=[JobStatus.RUNNING],
                                          match=mine, set_fields=fields)
            finally:
                with self._lock:
                    self._active.pop(job_id, None)
                self._finished(job_id)
                self.metrics.job_ended(job['type'], status.name.lower(),
                                       time.perf_counter() - started)

    # -- heartbeat and recovery
    def _beat_loop(self):
        # cancels asked from another process are looked for every flush_seconds while
        # jobs run here (one indexed query), the full heartbeat every heartbeat_seconds
        tick = min(self.settings.heartbeat_seconds, self.settings.flush_seconds)
        next_beat = time.monotonic() + self.settings.heartbeat_seconds
        while not self._stopping.wait(tick):
            try:
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.settings.heartbeat_seconds
                    self.beat()
                else:
                    self._watch_cancels()
            except Exception:
                log.exception('Job heartbeat failed')

    def _watch_cancels(self):
        with self._lock:
            running = list(self._active)
        if running:
            for job in self.model.collection.find(
                    {'_id': {'$in': running}, 'cancelRequested': True}, {'_id': 1}):
                self.cancel(job['_id'])

    def beat(self):
        """Refresh this runner's heartbeat, honour remote cancels, recover stale jobs."""
        mine = {'status': {'$in': [int(s) for s in ACTIVE]}, 'runner.id': self.runner['id']}
        self.model.collection.update_many(mine, {'$set': {'heartbeat': utcnow()}})
        for job in self.model.collection.find(dict(mine, cancelRequested=True), {'_id': 1}):
            self.cancel(job['_id'])
        self.recover()

    def recover(self):
        """Take over QUEUED/RUNNING jobs whose server is gone; return their ids."""
        stale_before = utcnow() - datetime.timedelta(seconds=self.settings.stale_seconds)
        taken = []
        for job in self.model.collection.find(
                {'status': {'$in': [int(s) for s in ACTIVE]}}, {'log': 0}):
            runner = job.get('runner')
            if runner is not None and (runner.get('id') == self.runner['id'] or
                                       not self._is_dead(runner, job, stale_before)):
                continue
            if runner is None and job.get('celeryTaskId') and self.broker is not None:
                continue  # waiting in the broker's queue for a worker
            if self._take_over(job):
                taken.append(job['_id'])
        return taken

    def _is_dead(self, runner, job, stale_before):
        if job.get('heartbeat') is None or job['heartbeat'] < stale_before:
            return True
        return (runner.get('host') == self.runner['host'] and
                runner.get('pid') != self.runner['pid'] and not _pid_alive(runner.get('pid')))

    def _take_over(self, job):
        job_id, runner = job['_id'], job.get('runner')
        # the task id too: runners that all see a job the broker did not take send it once
        match = {'runner': runner, 'heartbeat': job.get('heartbeat'),
                 'celeryTaskId': job.get('celeryTaskId')}
        where = 'the server running it (%s, pid %s) stopped' % (
            runner.get('host'), runner.get('pid')) if runner else (
            'the broker did not take it' if self.broker is not None else 'a server shut down')
        # only a job that was running counts a restart: it may be what brought its server down
        crashed = runner is not None and job['status'] == JobStatus.RUNNING
        restarts = job.get('restarts', 0) + (1 if crashed else 0)
        if job.get('cancelRequested'):
            status, fields, line = JobStatus.CANCELED, {}, 'Canceled (%s).' % where
        elif job['type'] not in self._handlers:
            status, fields = JobStatus.ERROR, {}
            line = 'Failed: %s, and this server has no handler for job type %r.' % (
                where, job['type'])
        elif restarts > self.settings.max_restarts:
            status, fields = JobStatus.ERROR, {}
            line = ('Failed: %s, and the job had already been restarted %d time(s); it is '
                    'not retried again.' % (where, restarts - 1))
        else:
            self._ensure_started()
            status = JobStatus.QUEUED
            fields = {'runner': self.runner, 'heartbeat': utcnow(), 'restarts': restarts,
                      'celeryTaskId': None}
            line = 'Re-queued: %s.' % where
        if status == JobStatus.QUEUED and self.broker is not None:
            fields.pop('runner'), fields.pop('heartbeat'), fields.pop('celeryTaskId')
            doc = self._send(job, ACTIVE, match=match, set_fields=fields)
            if doc is not None:
                self.model.record(job_id, [line], max_lines=self.settings.log_max_lines)
                log.info('Job %s: %s', job_id, line)
            return doc is not None
        self._done[job_id] = threading.Event()
        doc = self.model.transition(job_id, status, expect=ACTIVE, match=match,
                                    set_fields=fields)
        if doc is None:  # another runner took it first
            self._done.pop(job_id, None)
            return False
        self.model.record(job_id, [line], max_lines=self.settings.log_max_lines)
        log.info('Job %s: %s', job_id, line)
        if status == JobStatus.QUEUED:
            self._submit(job_id, job['type'])
        else:
            self._finished(job_id)
            self._cleanup(doc)
        return True


def _pid_alive(pid):
    """Whether process ``pid`` of this host runs (a zombie, killed and not yet reaped by
    its parent, does not: its jobs are taken over at once)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
