"""`tilery worker`: a Celery worker that runs every job type on the server's own app.

The worker builds the same app a server does (``create_app`` with the plugins, without
HTTP) from the database URI and the settings, so the handlers, the assetstores (paths
recorded in the database, or GridFS) and the job documents are exactly the server's.
"""
import os
import socket
import threading

from .broker import QUEUES, BrokerError, redact


class WorkerError(Exception):
    """Why the worker cannot start, for a person."""


def load_settings(config, mongo_uri, broker_url, data_dir):
    """Server settings for a worker; WorkerError when something needed is missing."""
    from ..app import check_settings
    from ..settings import Settings, SettingsError
    from .settings import JobSettings
    try:
        settings = Settings.load(config, mongo_uri=mongo_uri, data_dir=data_dir)
        check_settings(settings)
    except SettingsError as exc:
        raise WorkerError(str(exc))
    if broker_url:  # the flag wins over the TOML file and TILERY_JOBS_BROKER_URL
        settings.extra['jobs.broker_url'] = broker_url
    if not settings.mongo_uri:
        raise WorkerError('a worker needs the database: give --mongo-uri (or mongo_uri in '
                          'the settings), the URI the servers use.')
    try:
        jobs = JobSettings.from_settings(settings)
    except ValueError as exc:
        raise WorkerError(str(exc))
    if not jobs.broker_url:
        raise WorkerError('a worker needs the broker: give --broker-url (or '
                          '[plugins.jobs] broker_url), the one the servers send jobs to.')
    return settings, jobs


def parse_queues(text):
    """The queues to consume from 'default,large' (None: both)."""
    queues = tuple(q.strip() for q in (text or ','.join(QUEUES)).split(',') if q.strip())
    unknown = sorted(set(queues) - set(QUEUES))
    if unknown or not queues:
        raise WorkerError('--queues takes %s (comma-separated), not %r.' % (
            ' and '.join(QUEUES), text))
    return queues


def run_worker(settings, queues, concurrency):
    """Consume ``queues`` with ``concurrency`` jobs at once until SIGTERM; the exit code.

    SIGTERM (or Ctrl-C) is Celery's warm shutdown: the running jobs are interrupted at
    once and go back to the queue for another worker, then the process ends.
    """
    import pymongo.errors

    from ..app import create_app
    try:
        app = create_app(settings)
    except pymongo.errors.ConnectionFailure as exc:
        raise WorkerError('cannot reach the database at %s: %s' % (
            redact(settings.mongo_uri), exc))
    try:
        jobs = app.jobs
        try:
            jobs.broker.check()
        except BrokerError as exc:
            raise WorkerError(str(exc))
        host, pid = socket.gethostname(), os.getpid()

        def ready():
            print('Tilery worker ready on %s, pid %d: queues %s, %d job%s at once, broker %s'
                  % (host, pid, ','.join(queues), concurrency, 's' if concurrency > 1 else '',
                     jobs.broker.safe_url), flush=True)

        def stopping():  # in Celery's signal handler: the interruption waits for children
            threading.Thread(target=jobs.interrupt, name='tilery-worker-stop',
                             daemon=True).start()
        app.start()
        return jobs.broker.consume(jobs.run_task, queues, concurrency,
                                   'tilery-%d@%s' % (pid, host), ready, stopping) or 0
    finally:
        app.stop()
        app.mongo_client.close()

