"""What a job handler is given: its job, progress and log reporting, cancellation."""
import json
import logging
import os
import signal
import subprocess
import tempfile
import threading
import time

log = logging.getLogger(__name__)


class JobError(Exception):
    """A job failure with a message meant for a person (it ends up in the job log)."""


class JobCanceled(Exception):
    """The job was canceled; the runner marks it CANCELED."""


class JobInterrupted(Exception):
    """The server is stopping; the runner puts the job back in the queue."""


class JobContext:
    """One running job as its handler sees it.

    Log lines and progress are kept in memory and written at most every
    ``flush_seconds`` (one database write, not one per line).
    """

    def __init__(self, model, job, flush_seconds=1.0, max_lines=1000):
        self.job = job
        self.id = job['_id']
        self.kwargs = job.get('kwargs') or {}
        self._model = model
        self._flush_seconds = flush_seconds
        self._max_lines = max_lines
        self._lines = []
        self._progress = None
        self._meta = {}
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        self._child = None
        self._stop_reason = None  # JobCanceled or JobInterrupted once asked to stop

    # -- reporting
    def log(self, message):
        """Add a line to the job log."""
        with self._lock:
            self._lines.append(str(message))
        self._maybe_flush()

    def progress(self, current=None, total=None, message=None):
        """Set the job's progress {current, total, message}."""
        with self._lock:
            self._progress = {'current': current, 'total': total, 'message': message}
        self._maybe_flush()

    def set_meta(self, **values):
        """Record values under the job's ``meta`` (written with the next flush)."""
        with self._lock:
            self._meta.update(values)

    def _maybe_flush(self):
        if time.monotonic() - self._last_flush >= self._flush_seconds:
            self.flush()

    def flush(self):
        """Write pending log lines, progress and meta now."""
        with self._lock:
            lines, progress, meta = self._lines, self._progress, self._meta
            self._lines, self._progress, self._meta = [], None, {}
            self._last_flush = time.monotonic()
        if lines or progress is not None or meta:
            self._model.record(self.id, lines, progress, meta, self._max_lines)

    # -- stopping
    def check_canceled(self):
        """Raise if the job was canceled or the server is stopping."""
        if self._stop_reason is not None:
            raise self._stop_reason()

    @property
    def canceled(self):
        return self._stop_reason is JobCanceled

    def request_stop(self, reason=JobCanceled):
        """Ask the job to stop: kill its worker process now, flag the handler."""
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason
            child = self._child
        if child is not None:
            _kill_group(child)

    # -- worker processes
    def run_child(self, argv, env=None):
        """Run a worker (see ``tilery.jobs.child``) and return its result.

        The worker runs in its own process group, so a cancel kills it and all it
        started, and its memory goes back to the system when it ends. It dies with this
        process, ``kill -9`` included: the job then runs again elsewhere, and a leftover
        worker would go on writing the same output file.
        """
        from ..database import die_with_parent
        with tempfile.TemporaryFile() as stderr:
            with self._lock:
                self.check_canceled()
                self._child = subprocess.Popen(
                    argv, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True,
                    env=dict(os.environ, **(env or {})),
                    preexec_fn=die_with_parent(os.getpid()))
            proc = self._child
            result, error = None, None
            try:
                for raw in proc.stdout:
                    try:
                        message = json.loads(raw)
                    except ValueError:
                        self.log(raw.decode('utf8', 'replace').rstrip())
                        continue
                    if 'progress' in message:
                        self.progress(**message['progress'])
                    elif 'log' in message:
                        self.log(message['log'])
                    elif 'result' in message:
                        result = message['result']
                    elif 'error' in message:
                        error = message['error']
                code = proc.wait()
            finally:
                if proc.poll() is None:
                    _kill_group(proc)
                proc.stdout.close()
                with self._lock:
                    self._child = None
            self.check_canceled()
            if code == 0:
                return result
            if error:
                raise JobError(error)
            raise JobError(_exit_reason(code, _tail(stderr)))


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        log.warning('Worker process %d did not exit after SIGKILL', proc.pid)


def _tail(fh, size=2000):
    fh.seek(0, os.SEEK_END)
    fh.seek(max(0, fh.tell() - size))
    return fh.read().decode('utf8', 'replace').strip()


def _exit_reason(code, stderr_tail):
    if code < 0:
        name = signal.Signals(-code).name
        why = ' (the system may have run out of memory)' if code == -signal.SIGKILL else ''
        return 'The worker process was killed by %s%s.' % (name, why)
    last = stderr_tail.splitlines()[-1] if stderr_tail else 'no message'
    return 'The worker process failed (exit code %d): %s' % (code, last)
