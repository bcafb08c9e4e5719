"""`tilery serve` as users run it: embedded database, clean stop, several processes."""
import os
import signal
import subprocess
import sys
import time

import psutil
import requests

from tilery.database import free_port

TILERY = os.path.join(os.path.dirname(sys.executable), 'tilery')


def wait_for(url, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            return requests.get(url, timeout=2).json()
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError('%s did not answer' % url)


def serve(tmp_path, port, *extra):
    """``tilery serve`` in a child process, its output captured."""
    return subprocess.Popen([TILERY, 'serve', '--port', str(port), '--data-dir', str(tmp_path),
                             '--no-build', *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_serve_with_embedded_database_and_clean_stop(tmp_path):
    port = free_port()
    proc = serve(tmp_path, port)
    try:
        api = 'http://127.0.0.1:%d/api/v1' % port
        assert wait_for(api + '/system/version', proc)['release'].startswith('3.')
        r = requests.post(api + '/user', params={
            'login': 'first', 'email': 'f@example.com', 'firstName': 'F', 'lastName': 'L',
            'password': 'password1'})
        assert r.status_code == 200 and r.json()['admin'] is True
        database = [p for p in psutil.Process(proc.pid).children(recursive=True)
                    if 'secantusd' in ' '.join(p.cmdline())]
        assert len(database) == 1
        assert (tmp_path / 'assetstore').is_dir() and (tmp_path / 'db').is_dir()
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 0, out
    assert 'Open http://127.0.0.1:%d/' % port in out
    assert not database[0].is_running() or database[0].status() == psutil.STATUS_ZOMBIE
    # the data survives a restart: the same user signs in
    port = free_port()
    proc = serve(tmp_path, port)
    try:
        api = 'http://127.0.0.1:%d/api/v1' % port
        wait_for(api + '/system/version', proc)
        r = requests.get(api + '/user/authentication', auth=('first', 'password1'))
        assert r.status_code == 200 and r.json()['user']['login'] == 'first'
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=120)


def test_several_server_processes_share_the_port(tmp_path, mongo_uri, mongo_client):
    port = free_port()
    name = 'cli_workers_%d' % port
    uri = mongo_uri.replace('/?', '/%s?' % name)
    proc = serve(tmp_path, port, '--workers', '2', '--mongo-uri', uri)
    try:
        api = 'http://127.0.0.1:%d/api/v1' % port
        wait_for(api + '/system/version', proc)
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2
        # every answer is right whichever process takes it (fresh connections spread);
        # each process counts its requests in its own metrics file (prometheus_client's
        # multiprocess mode): the route's label is in a process's file once it served it.
        # The second process may start listening a little after the first answered.
        metrics = tmp_path / 'tmp' / 'metrics'

        def served():
            return [w.pid for w in workers if any(
                b'system/version' in path.read_bytes()
                for path in metrics.glob('counter_%d.db' % w.pid))]
        deadline = time.monotonic() + 60
        while len(served()) < 2:
            assert time.monotonic() < deadline, sorted(p.name for p in metrics.iterdir())
            for i in range(20):
                assert requests.get(api + '/system/version').status_code == 200
        # both processes started on an empty database: one default assetstore, not two
        assert mongo_client[name].assetstore.count_documents({}) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=120)[0]
    mongo_client.drop_database(name)
    assert proc.returncode == 0, out
    assert all(not w.is_running() or w.status() == psutil.STATUS_ZOMBIE for w in workers)


def test_a_taken_port_is_a_clear_error_before_anything_starts(tmp_path):
    import socket
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([TILERY, 'serve', '--port', str(port), '--data-dir',
                               str(tmp_path), '--no-build'], capture_output=True, text=True,
                              timeout=60)
    assert proc.returncode == 1
    assert 'cannot listen on 127.0.0.1:%d' % port in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert not (tmp_path / 'db').exists()  # the database was never started


def test_serve_does_not_build_and_says_when_there_is_no_web_client(tmp_path):
    import socket
    env = dict(os.environ, TILERY_WEB_CLIENT_DIR=str(tmp_path / 'no-dist'))
    with socket.socket() as taken:  # a taken port ends serve right after its checks
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        proc = subprocess.run([TILERY, 'serve', '--port', str(taken.getsockname()[1]),
                               '--data-dir', str(tmp_path)], capture_output=True, text=True,
                              timeout=60, env=env)
    assert 'No web client in %s' % (tmp_path / 'no-dist') in proc.stdout
    assert 'npm' not in proc.stdout.replace('when npm is there', '')  # nothing was built


BUILD_WEB = os.path.join(os.path.dirname(__file__), '..', 'scripts', 'build_web.sh')


def test_setup_builds_the_web_client_only_when_its_sources_are_newer(tmp_path):
    import json
    import shutil
    import pytest
    if shutil.which('npm') is None:
        pytest.skip('npm is not installed')
    web = tmp_path / 'web'
    (web / 'src').mkdir(parents=True)
    (web / 'node_modules').mkdir()
    (web / 'src' / 'main.ts').write_text('1')
    # a real npm build script: appends to a log and writes dist/index.html
    build = ("require('fs').mkdirSync('dist',{recursive:true});"
             "require('fs').writeFileSync('dist/index.html','built');"
             "require('fs').appendFileSync('builds.log','x')")
    (web / 'package.json').write_text(json.dumps({
        'name': 'w', 'version': '1.0.0', 'scripts': {'build': 'node -e "%s"' % build}}))

    def run():
        subprocess.run(['bash', BUILD_WEB, str(web)], check=True, capture_output=True,
                       timeout=120)
        return (web / 'builds.log').read_text() if (web / 'builds.log').exists() else ''
    assert run() == 'x'            # no dist: built
    assert run() == 'x'            # up to date: not built again
    later = time.time() + 5
    os.utime(web / 'src' / 'main.ts', (later, later))
    assert run() == 'xx'           # a newer source: rebuilt
