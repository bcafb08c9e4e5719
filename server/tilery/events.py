"""A small synchronous event bus owned by the app (no global event table)."""
import logging

log = logging.getLogger(__name__)


class Events:
    """Subscribers by event name; every name must be documented in ``known``."""

    def __init__(self, known):
        self.known = dict(known)
        self._handlers = {}

    def subscribe(self, name, handler):
        if name not in self.known:
            raise ValueError('Unknown event %r: document it in tilery.plugins.EVENTS' % name)
        self._handlers.setdefault(name, []).append(handler)

    def emit(self, name, payload=None):
        """Call every handler; a failing handler is logged and does not stop the others."""
        if name not in self.known:
            raise ValueError('Unknown event %r' % name)
        for handler in self._handlers.get(name, ()):
            try:
                handler(payload)
            except Exception:
                log.exception('Handler %r for event %s failed', handler, name)
