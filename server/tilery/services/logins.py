"""Password sign-in with throttling per account and per client address, and its audit.

Why two counters, and why neither can lock out everyone:
- per account (any address): stops a botnet guessing one account's password slowly
  from many addresses. It locks only that account's password sign-in, for a bounded,
  doubling time; its tokens and API keys keep working, and an admin can clear it.
- per client address (any account): stops one host spraying many accounts. It never
  locks any account from another address, so an attacker cannot lock out colleagues
  by failing from his own machine.
There is no global counter. A locked sign-in is refused even with the right password
(otherwise guessing would go on during the lock); unknown logins are counted and timed
like known ones, so the answers say nothing about which logins exist.
"""
import datetime
import ipaddress

from ..errors import AccessError, TooManyRequests
from ..models.base import now


def address_key(address):
    """The address counter: the IPv4 address, or the IPv6 /64 (one host usually holds a
    whole /64, so counting single IPv6 addresses would let it rotate freely)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return 'ip:%s' % address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return 'ip:%s' % ip.ipv4_mapped
        return 'ip:%s' % ipaddress.ip_network('%s/64' % ip, strict=False)
    return 'ip:%s' % ip


class LoginService:
    def __init__(self, app):
        self.app = app
        self.settings = app.settings
        self.users = app.models.user
        self.throttle = app.models.login_throttle

    @staticmethod
    def account_key(user, login):
        """The account counter: the user id when the login exists, else what was typed."""
        if user is not None:
            return 'user:%s' % user['_id']
        return 'login:%s' % (login or '').lower().strip()

    def sign_in(self, login, password, address):
        """(user, token) for a correct password; 401 when wrong, 429 while locked."""
        user = self.users.find_login(login)
        keys = {self.account_key(user, login): self.settings.login_max_failures}
        if address:
            keys[address_key(address)] = self.settings.login_address_max_failures
        when = now()
        self._refuse_if_locked(keys, when)
        self._begin_tries(keys, when)
        try:
            if not self.users.password_matches(user, password):
                # counted before the try ends, so no other try sees neither
                locked_for = self._count_failure(keys, when)
                self.app.audit.record('login.failure', user, login=login, address=address,
                                      lockedFor=locked_for)
                raise AccessError('Login failed.', 401)
        finally:
            self.throttle.end_try(keys)
        self.users.check_status(user)
        # a success clears the account's count, not the address's: one valid account
        # must not let a host reset its counter between guesses at other accounts
        self.throttle.clear([self.account_key(user, login)])
        token = self.app.models.token.create(user)
        self.app.audit.record('login', user, address=address)
        return user, token

    def _refuse_if_locked(self, keys, when):
        locked = [e for e in self.throttle.live(keys, when)
                  if e.get('lockedUntil') and e['lockedUntil'] > when]
        if locked:
            until = max(e['lockedUntil'] for e in locked)
            wait = (until - when).total_seconds()
            # not audited one by one: a flood of refused tries must cost nothing to store
            # (the failure that started the lock is in the log, with its length)
            raise TooManyRequests('Too many failed sign-ins. Try again in %d seconds, or '
                                  'ask an administrator to clear the lock.' % (wait + 0.999),
                                  wait)

    def _begin_tries(self, keys, when):
        """Count this try as under way; refuse it when the tries already under way could
        reach the limit. Checking the lock alone let parallel requests all pass it before
        the first failure was counted: one guess per worker thread, not per limit."""
        window = datetime.timedelta(seconds=self.settings.login_failure_window)
        started = []
        for key, limit in keys.items():
            entry = self.throttle.begin_try(key, when, when + window)
            started.append(key)
            # after a lock ends, one try is allowed (a wrong one locks again, longer)
            if limit and entry['trying'] > max(limit - entry.get('failures', 0), 1):
                self.throttle.end_try(started)
                raise TooManyRequests('Too many sign-ins under way for this account or '
                                      'address. Try again in a moment.', 1)

    def _count_failure(self, keys, when):
        """Count a failure under each key; lock those past their limit. Seconds locked."""
        window = datetime.timedelta(seconds=self.settings.login_failure_window)
        longest = 0
        for key, limit in keys.items():
            entry = self.throttle.add_failure(key, when, when + window)
            if limit and entry['failures'] >= limit:
                lockouts = entry.get('lockouts', 0) + 1
                seconds = min(self.settings.login_lockout_seconds * 2 ** min(lockouts - 1, 30),
                              self.settings.login_lockout_max_seconds)
                until = when + datetime.timedelta(seconds=seconds)
                self.throttle.lock(key, lockouts, until, seconds, until + window)
                longest = max(longest, seconds)
        return longest

    def clear(self, actor, login=None, address=None):
        """An admin lifts the lock of an account and/or an address; entries removed."""
        keys = []
        if login:
            keys += [self.account_key(self.users.find_login(login), login),
                     self.account_key(None, login)]
        if address:
            keys.append(address_key(address))
        cleared = self.throttle.clear(keys)
        self.app.audit.record('login.unlock', actor, login=login, address=address,
                              cleared=cleared)
        return cleared
