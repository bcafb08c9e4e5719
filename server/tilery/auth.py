"""Who is calling: tokens to users, with a short in-process cache for the hot paths."""
import hashlib
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
        # a logout or a disabled user must count in every server process at once
        self._everywhere = app.invalidation.register('auth', self._forget_here)

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
        """Drop cached lookups after a logout, a deletion or a password change, in every
        server process."""
        # the feed keeps events for a while: it carries a digest, never the token
        digest = hashlib.sha256(value.encode()).hexdigest() if value is not None else None
        self._everywhere({'token': digest, 'user': user_id})

    def forget_all(self):
        self._everywhere(None)

    def _forget_here(self, key):
        with self._lock:
            if key is None:
                self._cache.clear()
                return
            if key.get('token') is not None:
                for cached in [k for k in self._cache
                               if hashlib.sha256(k.encode()).hexdigest() == key['token']]:
                    self._cache.pop(cached, None)
            if key.get('user') is not None:
                for cached in [k for k, v in self._cache.items()
                               if v[0] is not None and v[0]['_id'] == key['user']]:
                    self._cache.pop(cached, None)
