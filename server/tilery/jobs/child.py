"""The worker side of ``JobContext.run_child``: JSON lines to the parent on stdout.

A worker process reports with ``report.progress``/``report.log`` and ends with a
result or a failure message meant for a person. Anything a library prints goes to
stderr, so it cannot corrupt the protocol.
"""
import json
import os
import sys
import time
import traceback


class WorkerFailure(Exception):
    """A failure whose message is shown to the user as it is."""


class Report:
    """Writes protocol lines on a private copy of stdout."""

    def __init__(self, min_interval=0.25):
        fd = os.dup(1)
        os.dup2(2, 1)  # stray prints from C libraries and Python go to stderr
        sys.stdout = sys.stderr
        self._out = os.fdopen(fd, 'w', buffering=1)
        self._min_interval = min_interval
        self._last_progress = 0.0

    def _send(self, **message):
        self._out.write(json.dumps(message, default=str) + '\n')

    def progress(self, current, total=None, message=None, force=False):
        """Report progress, at most every ``min_interval`` seconds unless ``force``."""
        now = time.monotonic()
        if force or now - self._last_progress >= self._min_interval:
            self._last_progress = now
            self._send(progress={'current': current, 'total': total, 'message': message})

    def log(self, message):
        self._send(log=str(message))

    def result(self, value):
        self._send(result=value)

    def fail(self, message):
        self._send(error=str(message))


def run(main):
    """Run ``main(report)`` as a worker; return the process exit code."""
    report = Report()
    try:
        report.result(main(report))
        return 0
    except WorkerFailure as exc:
        report.fail(str(exc))
    except MemoryError:
        report.fail('The worker ran out of memory.')
    except Exception as exc:
        traceback.print_exc()
        report.fail('Unexpected %s: %s' % (type(exc).__name__, exc))
    return 1
