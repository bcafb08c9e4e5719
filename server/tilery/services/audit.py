"""One audit service for every part that records sign-ins, access and admin changes."""
import datetime
import logging
import threading

import orjson

from ..models.base import now

log = logging.getLogger(__name__)


class AuditLog:
    """Records events in the audit collection and, when set, a file of JSON lines."""

    def __init__(self, app):
        self.model = app.models.audit
        self.days = app.settings.audit_days
        self.path = app.settings.audit_file
        self._lock = threading.Lock()

    def record(self, event, actor=None, /, **details):
        """Store one event: its type such as 'login.failure', who did it, and details."""
        when = now()
        doc = {'type': event, 'when': when,
               'userId': actor['_id'] if actor else None,
               'login': actor.get('login') if actor else None,
               'details': details}
        if self.days and self.days > 0:
            doc['expires'] = when + datetime.timedelta(days=self.days)
        self.model.add(doc)
        if self.path:
            line = orjson.dumps({k: v for k, v in doc.items() if k not in ('_id', 'expires')},
                                default=str, option=orjson.OPT_NAIVE_UTC)
            try:
                # one write of one line in append mode: processes sharing the file
                # never interleave within a line
                with self._lock, open(self.path, 'ab') as fh:
                    fh.write(line + b'\n')
            except OSError:
                log.exception('Cannot append to the audit file %s', self.path)
        return doc
