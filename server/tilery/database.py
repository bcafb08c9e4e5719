"""Connecting to MongoDB, and running the embedded SecantusDB server.

SecantusDB speaks MongoDB's wire protocol but departs from MongoDB in a few
places. Every workaround for those departures lives in this module, so the
rest of Tilery only uses what real MongoDB does:

- no text indexes: name search uses ``icase_contains`` (a regex), never ``$text``;
- ``re.compile(..., re.I)`` / ``Regex(..., 'i')`` silently match nothing there,
  so case-insensitive regexes are always written as ``{'$regex', '$options'}``;
- without ``--sync-on-commit`` a ``kill -9`` loses acknowledged writes: the
  embedded server is started with it and every client writes with ``j=True``;
- a query reads every index entry it matches before applying ``limit``, so
  hot queries are written as bounded ranges on indexed fields;
- ``findAndModify`` reads every document of the collection, even for an ``_id``
  match (about 5 µs a document: 30 ms in a collection of 6,000), so updates that
  return a document go through ``update_one_and_get``, never ``find_one_and_update``
  on a collection that grows (a one-document counter collection may use it).
"""
import collections
import ctypes
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pymongo

log = logging.getLogger(__name__)

SECANTUS_VERSION = '0.7.0b3'


def icase_contains(text):
    """A case-insensitive substring match usable on MongoDB and SecantusDB alike."""
    return {'$regex': re.escape(text), '$options': 'i'}


def icase_equals(text):
    """A case-insensitive whole-string match usable on MongoDB and SecantusDB alike."""
    return {'$regex': '^%s$' % re.escape(text), '$options': 'i'}


def connect(uri, **kwargs):
    """Return a MongoClient that acknowledges writes only once journaled."""
    # a short server selection: while the database is down a request fails (503) within
    # 2 s instead of hanging 30 s (1.5 s leaves room for the request's own work); it
    # bounds only finding a server, not a long operation on one (socketTimeoutMS), so
    # big uploads and queries are not cut short
    options = {'journal': True, 'socketTimeoutMS': 900000, 'tz_aware': False,
               'serverSelectionTimeoutMS': 1500}
    options.update(kwargs)
    return pymongo.MongoClient(uri, **options)


#: What pymongo raises when the database cannot be reached (ServerSelectionTimeoutError,
#: AutoReconnect and NetworkTimeout are ConnectionFailures): the REST layer answers 503.
UNAVAILABLE_ERRORS = (pymongo.errors.ConnectionFailure,)


def update_one_and_get(collection, query, update, projection=None, after=False):
    """``find_one_and_update`` for a ``query`` naming one document by ``_id``, built on
    ``update_one`` (which uses the index; see the module's list of departures).

    The update is as atomic as findAndModify's (``query`` may hold conditions, such as
    an expected status). The document returned is read in a separate step, just before
    (default) or after the update, so it may show a change another writer made in
    between: callers read fields that only they change, or that they only report.
    None when nothing matched.
    """
    if after:
        if collection.update_one(query, update).matched_count == 0:
            return None
        return collection.find_one({'_id': query['_id']}, projection)
    before = collection.find_one(query, projection)
    if before is None or collection.update_one(query, update).matched_count == 0:
        return None
    return before


def ping(client, timeout=2.0):
    """True when the database answers a ping within ``timeout`` seconds."""
    try:
        # pymongo.timeout bounds server selection and the socket read alike, so a
        # database that accepts connections but never answers cannot hold the caller
        with pymongo.timeout(timeout):
            client.admin.command('ping')
        return True
    except pymongo.errors.PyMongoError:
        return False


def database_from_uri(client, uri, default='tilery'):
    """The database named in the URI's path, else ``default``."""
    name = pymongo.uri_parser.parse_uri(uri).get('database')
    return client[name or default]


def free_port(host='127.0.0.1'):
    """An unused TCP port on ``host``."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _secantus_command():
    exe = shutil.which('secantusd-py', path=os.path.dirname(sys.executable))
    if exe is None:
        exe = shutil.which('secantusd-py')
    if exe is None:
        raise RuntimeError(
            'The embedded database needs SecantusDB==%s (pip install -e .), or give '
            '--mongo-uri to use a MongoDB server.' % SECANTUS_VERSION)
    return exe


PID_FILE = 'secantus.pid'
RESTART_FIRST_DELAY = 0.5  # seconds before restarting a database child that died ...
RESTART_MAX_DELAY = 30.0   # ... doubling each time it dies again, up to this
RESTART_STABLE = 60.0      # a child that ran this long resets the back-off


def die_with_parent(parent_pid, death_signal=signal.SIGKILL):
    """A preexec_fn: the child gets ``death_signal`` when the thread that forked it dies,
    by any death (kill -9 included). SIGKILL is safe for the database: it syncs every
    commit."""
    def set_death_signal():
        if sys.platform.startswith('linux'):
            ctypes.CDLL(None, use_errno=True).prctl(1, death_signal)  # PR_SET_PDEATHSIG
            if os.getppid() != parent_pid:  # the parent died before prctl took effect
                os._exit(1)
    return set_death_signal


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as fh:
            return [arg.decode('utf-8', 'replace') for arg in fh.read().split(b'\0') if arg]
    except OSError:
        return None


def read_pid_file(path):
    """What a running embedded database under ``path`` wrote about itself, or None."""
    try:
        with open(os.path.join(os.path.abspath(path), PID_FILE)) as fh:
            info = json.load(fh)
        return info if isinstance(info, dict) and isinstance(info.get('pid'), int) else None
    except (OSError, ValueError):
        return None


def running_database(path):
    """The pid file's contents when its process is a SecantusDB on ``path``'s storage."""
    info = read_pid_file(path)
    if info is None:
        return None
    cmd = _cmdline(info['pid'])
    storage = os.path.join(os.path.abspath(path), 'db')
    if not cmd or not any('secantusd' in arg for arg in cmd[:2]) or storage not in cmd:
        return None  # gone, or the pid now belongs to something else
    return info


def supervised_database(path):
    """The pid file's contents when a SecantusDB runs on ``path``'s storage and the
    process that started it (and restarts it) still runs: not an orphan to stop."""
    info = running_database(path)
    if info is None or not isinstance(info.get('parent'), int) or info['parent'] == os.getpid():
        return None
    parent = _cmdline(info['parent'])
    return info if parent and not _is_zombie(info['parent']) else None


class EmbeddedDatabase:
    """A SecantusDB child process holding its data under ``path``, supervised: it dies
    with its parent, an orphan of an earlier run is stopped first, and a child that
    dies is restarted on the same port (with back-off) so clients reconnect.

    ``replica_set``: advertise a one-node replica set (``tilery db``) so that change
    streams work for every process reaching it; a child of ``tilery serve`` stays a
    standalone server, as its clients need nothing more."""

    def __init__(self, path, host='127.0.0.1', port=None, log_path=None, replica_set=False):
        self.path = os.path.abspath(path)
        self.host = host
        self.port = port or free_port(host)
        self.replica_set = replica_set
        self.log_path = log_path or os.path.join(self.path, 'secantus.log')
        self.process = None
        self.restarts = 0
        self._log_file = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # a restart and a stop never interleave
        self._watcher = None

    @property
    def uri(self):
        return self.uri_for(self.host)

    def uri_for(self, host):
        """The URI clients use to reach this server by ``host``."""
        # directConnection: pymongo talks to this one node as given, instead of following
        # the member list of the replica set it advertises (which names the --host it was
        # started with); change streams work either way, as it says it is a primary
        return 'mongodb://%s:%d/?directConnection=true' % (
            '[%s]' % host if ':' in host else host, self.port)

    @property
    def pid_file(self):
        return os.path.join(self.path, PID_FILE)

    def start(self, timeout=600):
        """Start the server, wait until it answers a ping, then watch over it.

        Call it from the main thread: the child's death signal fires when the thread
        that forked it ends (restarts fork from the watcher, which lives as long).
        """
        if os.environ.get('SECANTUS_TEST_FAST_STORAGE') == '1':
            raise RuntimeError(
                'SECANTUS_TEST_FAST_STORAGE=1 turns off durable storage; unset it to '
                'run the embedded database.')
        os.makedirs(self.path, exist_ok=True)
        self.stop_orphan()
        self._stopping.clear()
        self._spawn()
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        self._watcher = threading.Thread(target=self._watch, name='tilery-db-supervisor',
                                         daemon=True)
        self._watcher.start()
        return self

    def stop_orphan(self, timeout=10.0):
        """Stop a database left running on this data by an earlier Tilery that died."""
        info = running_database(self.path)
        if info is None:
            return False
        pid = info['pid']
        log.warning('Stopping the database (pid %d) left running on %s by an earlier run',
                    pid, self.path)
        _terminate(pid, timeout)
        return True

    def _spawn(self):
        storage = os.path.join(self.path, 'db')
        cmd = [_secantus_command(), '--host', self.host, '--port', str(self.port),
               '--storage-path', storage, '--sync-on-commit', '--log-level', 'WARNING']
        # a change stream left quiet keeps a resume token inside the oplog's window only
        # if the oplog moves: a no-op entry every 10 s, as mongod writes
        cmd += (['--noop-heartbeat-seconds', '10'] if self.replica_set else ['--standalone'])
        if self._log_file is None:
            self._log_file = open(self.log_path, 'ab')
        # its own process group, so a Ctrl-C in the terminal reaches us first and
        # we stop it cleanly after the web server has drained
        self.process = subprocess.Popen(
            cmd, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent(os.getpid()))
        tmp = self.pid_file + '.tmp'
        with open(tmp, 'w') as fh:
            json.dump({'pid': self.process.pid, 'host': self.host, 'port': self.port,
                       'parent': os.getpid(), 'storage': storage}, fh)
        os.replace(tmp, self.pid_file)
        self.started_at = time.monotonic()

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        client = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=1000)
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError('SecantusDB exited with code %s; see %s' % (
                        self.process.returncode, self.log_path))
                try:
                    client.admin.command('ping')
                    return
                except pymongo.errors.PyMongoError:
                    if time.monotonic() > deadline:
                        self.process.kill()
                        raise RuntimeError('SecantusDB did not answer within %d s' % timeout)
                    time.sleep(0.2)
        finally:
            client.close()

    def _watch(self):
        """Restart the child whenever it dies, until ``stop``; log why it died."""
        delay = RESTART_FIRST_DELAY
        while not self._stopping.is_set():
            proc = self.process
            if proc is None:
                return
            code = proc.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - self.started_at > RESTART_STABLE:
                delay = RESTART_FIRST_DELAY
            log.error('The database (pid %d) exited with code %s; restarting it in %.1f s. '
                      'The end of its log (%s):\n%s', proc.pid, code, delay, self.log_path,
                      self.log_tail())
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, RESTART_MAX_DELAY)
            try:
                with self._lock:
                    if self._stopping.is_set():
                        return
                    self._spawn()
                self.restarts += 1
                self._wait_ready(600)
                log.info('The database is back (pid %d, port %d)', self.process.pid,
                         self.port)
            except Exception as exc:  # the next turn sees it exited and tries again
                log.error('Restarting the database failed: %s', exc)

    def log_tail(self, lines=20):
        """The last lines of the database's log (why it stopped, usually)."""
        try:
            with open(self.log_path, 'rb') as fh:
                fh.seek(max(0, os.path.getsize(self.log_path) - 16384))
                tail = collections.deque(fh.read().decode('utf-8', 'replace').splitlines(),
                                         lines)
            return '\n'.join(tail)
        except OSError:
            return ''

    def stop(self, timeout=60):
        """Ask the server to stop (SIGTERM) and wait; kill it if it hangs."""
        with self._lock:
            self._stopping.set()
            proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning('SecantusDB did not stop within %s s; killing it', timeout)
                proc.kill()
                proc.wait()
        if proc is not None:
            info = read_pid_file(self.path)
            if info is not None and info['pid'] == proc.pid:
                os.unlink(self.pid_file)
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _terminate(pid, timeout):
    """SIGTERM ``pid``, then SIGKILL it if it is still there after ``timeout`` seconds."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if _cmdline(pid) is None or _is_zombie(pid):
                return
            time.sleep(0.1)


def _is_zombie(pid):
    try:
        with open('/proc/%d/stat' % pid) as fh:
            return fh.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except (OSError, IndexError):
        return True
