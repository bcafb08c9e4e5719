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
  hot queries are written as bounded ranges on indexed fields.
"""
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
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
    options = {'journal': True, 'socketTimeoutMS': 900000, 'tz_aware': False,
               'serverSelectionTimeoutMS': 30000}
    options.update(kwargs)
    return pymongo.MongoClient(uri, **options)


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


class EmbeddedDatabase:
    """A SecantusDB child process holding its data under ``path``."""

    def __init__(self, path, host='127.0.0.1', port=None, log_path=None):
        self.path = os.path.abspath(path)
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path or os.path.join(self.path, 'secantus.log')
        self.process = None

    @property
    def uri(self):
        return 'mongodb://%s:%d/?directConnection=true' % (self.host, self.port)

    def start(self, timeout=600):
        """Start the server and wait until it answers a ping."""
        if os.environ.get('SECANTUS_TEST_FAST_STORAGE') == '1':
            raise RuntimeError(
                'SECANTUS_TEST_FAST_STORAGE=1 turns off durable storage; unset it to '
                'run the embedded database.')
        os.makedirs(self.path, exist_ok=True)
        storage = os.path.join(self.path, 'db')
        cmd = [_secantus_command(), '--host', self.host, '--port', str(self.port),
               '--storage-path', storage, '--sync-on-commit', '--standalone',
               '--log-level', 'WARNING']
        self._log_file = open(self.log_path, 'ab')
        # its own process group, so a Ctrl-C in the terminal reaches us first and
        # we stop it cleanly after the web server has drained
        self.process = subprocess.Popen(
            cmd, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        client = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=1000)
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError('SecantusDB exited with code %s; see %s' % (
                        self.process.returncode, self.log_path))
                try:
                    client.admin.command('ping')
                    return self
                except pymongo.errors.PyMongoError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError('SecantusDB did not answer within %d s' % timeout)
                    time.sleep(0.2)
        finally:
            client.close()

    def stop(self, timeout=60):
        """Ask the server to stop (SIGTERM) and wait; kill it if it hangs."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning('SecantusDB did not stop within %d s; killing it', timeout)
            proc.kill()
            proc.wait()
        self._log_file.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
