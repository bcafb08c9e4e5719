"""Jobs through Celery: what a server sends to the broker and what `tilery worker` runs.

The job document stays the truth; a Celery message only says "run job J as task T".
The sender records T in the job (``celeryTaskId``) before sending, and a worker may
move the job from QUEUED to RUNNING only while the job still names T (see
``JobService.run_task``). A message delivered twice, one of a job that was canceled,
re-queued under a new task id or already run, therefore does nothing.

Why the job runner's heartbeat, not the broker, brings back the job of a killed worker:
tasks are acknowledged late and rejected when their worker is lost, and a worker takes
one message per free slot (``worker_prefetch_multiplier=1``), so a message is never
lost with its worker. But with redis the message of a worker killed with ``kill -9``
comes back only after the broker's ``visibility_timeout`` (an hour by default), and that
timeout must stay longer than the longest conversion, or a long job would be delivered
again while it still runs. Every runner (servers and workers alike) instead sees, at its
next heartbeat, that a RUNNING job's worker is dead (its pid is gone from this host, or
its heartbeat is older than ``stale_seconds``), puts the job back in QUEUED once
(``max_restarts``) under a new task id and sends that: another worker runs it within
about ``stale_seconds``. When the old message comes back an hour later, its task id no
longer matches and it is dropped.
"""
import logging
import re

import celery
import kombu
from celery import signals

TASK_NAME = 'tilery.run_job'
QUEUES = ('default', 'large')
CONNECT_TIMEOUT = 3.0  # seconds; a send or a worker start fails instead of hanging
# a send retries briefly; a job that still could not be sent stays QUEUED without a task
# and the next recovery pass of any runner sends it again (see JobService._send)
SEND_RETRY = {'max_retries': 2, 'interval_start': 0.2, 'interval_step': 0.5,
              'interval_max': 1.0}

log = logging.getLogger(__name__)


class BrokerError(Exception):
    """The broker could not be reached; the message says which and why."""


def redact(url):
    """A URL (broker or database) without its password, for messages."""
    return re.sub(r'//([^:/@]*):[^@/]*@', r'//\1:***@', url)


class CeleryBroker:
    """One Celery app per job service (never a module-level one): send, revoke, consume."""

    def __init__(self, url):
        self.url = url
        self.celery = celery.Celery('tilery', broker=url, set_as_current=False)
        self.celery.conf.update(
            task_acks_late=True, task_reject_on_worker_lost=True,
            worker_prefetch_multiplier=1,
            task_ignore_result=True,  # the job document holds the outcome
            task_default_queue=QUEUES[0],
            task_queues=[kombu.Queue(name, routing_key=name) for name in QUEUES],
            broker_connection_timeout=CONNECT_TIMEOUT,
            broker_transport_options={'socket_connect_timeout': CONNECT_TIMEOUT},
            broker_connection_retry_on_startup=False,  # `tilery worker` checks it first
            # once started, a worker outlives a broker outage of any length (Celery
            # would give up after 100 tries, about an hour); its running jobs go on
            broker_connection_max_retries=None,
            worker_hijack_root_logger=False, worker_redirect_stdouts=False)

    @property
    def safe_url(self):
        """The broker URL without its password, for messages."""
        return redact(self.url)

    def check(self):
        """Raise BrokerError unless the broker answers within CONNECT_TIMEOUT."""
        try:
            with self.celery.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=CONNECT_TIMEOUT)
        except Exception as exc:  # kombu's errors differ by transport
            raise BrokerError('cannot reach the broker at %s: %s' % (self.safe_url, exc))

    def send(self, job_id, task_id, queue):
        """Send 'run job ``job_id``' as task ``task_id`` to ``queue``."""
        try:
            self.celery.send_task(TASK_NAME, args=[str(job_id)], task_id=task_id,
                                  queue=queue, retry=True, retry_policy=SEND_RETRY)
        except Exception as exc:
            raise BrokerError('cannot reach the broker at %s: %s' % (self.safe_url, exc))

    def revoke(self, task_id):
        """Tell the workers to drop task ``task_id`` (best effort: the job's status is
        what stops it; a worker that restarts forgets revoked ids)."""
        try:
            self.celery.control.revoke(task_id)
        except Exception as exc:
            log.warning('Could not revoke task %s at %s: %s', task_id, self.safe_url, exc)

    def consume(self, run, queues, concurrency, hostname, on_ready, on_stopping):
        """Run a Celery worker in this process until SIGTERM or SIGINT; its exit code.

        ``run(job_id, task_id)`` runs one job. The pool is threads: a conversion runs in
        a process of its own anyway, and the job and its worker field then name this
        process. ``on_stopping`` is called from the signal handler at warm shutdown.
        """
        @self.celery.task(name=TASK_NAME, bind=True, shared=False)
        def run_job(task, job_id):
            run(job_id, task.request.id)

        signals.worker_ready.connect(lambda **kw: on_ready(), weak=False)
        signals.worker_shutting_down.connect(lambda **kw: on_stopping(), weak=False)
        worker = self.celery.Worker(
            hostname=hostname, pool_cls='threads', concurrency=concurrency,
            queues=list(queues), loglevel='INFO', quiet=True, redirect_stdouts=False,
            # a revoked message is harmless (the job's status stops it), so a new worker
            # needs no revoked ids from the others at start: no mingle round, no gossip
            without_gossip=True, without_mingle=True, without_heartbeat=True)
        worker.start()
        return worker.exitcode
