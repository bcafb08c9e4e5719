"""Who is calling: tokens to users, with a short in-process cache for the hot paths."""
import threading

import cachetools


class Auth:
    """Resolves token strings to (user, token) documents.

    Lookups are kept ``auth_cache_seconds`` in a TTL cache of at most
    ``auth_cache_size`` tokens (the least recently used go first when it is full).
    """

    def __init__(self, app, stats):
        self.app = app
        self.ttl = app.settings.auth_cache_seconds
        self.stats = stats
        self._cache = cachetools.TTLCache(max(1, app.settings.auth_cache_size),
                                          max(self.ttl, 1e-9))
        self._lock = threading.Lock()

    def authenticate(self, value):
        """(user, token) for a token string; (None, None) for none, unknown or expired."""
        if not value:
            return None, None
        if self.ttl > 0:
            with self._lock:
                hit = self._cache.get(value)
            if hit is not None:
                self.stats.hit()
                return hit
            self.stats.miss()
        models = self.app.models
        token = models.token.lookup(value)
        user = None
        if token is not None and token.get('userId') is not None:
            user = models.user.load(token['userId'], exc=False)
            if user is not None and user.get('status', 'enabled') != 'enabled':
                user = None
        if user is None:
            token = None
        if self.ttl > 0:
            with self._lock:
                self._cache[value] = (user, token)
        return user, token

    def forget(self, value=None, user_id=None):
        """Drop cached lookups after a logout, a deletion or a password change."""
        with self._lock:
            if value is not None:
                self._cache.pop(value, None)
            if user_id is not None:
                for key in [k for k, v in self._cache.items()
                            if v[0] is not None and v[0]['_id'] == user_id]:
                    self._cache.pop(key, None)

    def forget_all(self):
        with self._lock:
            self._cache.clear()
