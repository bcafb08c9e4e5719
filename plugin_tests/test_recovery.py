"""Recovery with real processes and real signals: kill -9 of the server or of its
database, SIGTERM with requests stuck, leftovers of an earlier run."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import psutil
import pymongo
import requests
from bson import ObjectId

from tilery.database import free_port

from test_cli import TILERY, serve, wait_for


def api_of(port):
    return 'http://127.0.0.1:%d/api/v1' % port


def database_pid(proc, timeout=30):
    """The pid of the server's database child (waiting for one while it restarts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(proc.pid).children(recursive=True):
            try:
                if any('secantusd' in arg for arg in child.cmdline()[:2]) and \
                        child.status() != psutil.STATUS_ZOMBIE:
                    return child.pid
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.05)
    raise AssertionError('no database child')


def gone(pid, timeout):
    """Wait until ``pid`` has exited (or is a zombie); whether it did within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def stop(proc, timeout=30):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            return proc.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:  # a process it left behind holds its output
            return 'no output: something %d started still runs' % proc.pid


def started(data_dir, *extra, port=None):
    """``tilery serve`` (on ``port`` or a free one) once it answers: (process, API url)."""
    port = port or free_port()
    proc = serve(data_dir, port, *extra)
    try:
        wait_for(api_of(port) + '/system/version', proc)
    except BaseException:
        stop(proc)
        raise
    return proc, api_of(port)


def port_of(api):
    return urllib.parse.urlsplit(api).port


def first_admin(api):
    r = requests.post(api + '/user', params={
        'login': 'first', 'email': 'f@example.com', 'firstName': 'F', 'lastName': 'L',
        'password': 'password1'})
    assert r.status_code == 200, r.text
    return r.json()['authToken']['token']


def upload(api, token, name, data):
    """Upload ``data`` into the admin's Private folder; the file document."""
    headers = {'Girder-Token': token}
    me = requests.get(api + '/user/me', headers=headers).json()
    folder = requests.get(api + '/folder', headers=headers, params={
        'parentType': 'user', 'parentId': me['_id'], 'name': 'Private'}).json()[0]
    r = requests.post(api + '/file', headers=headers, params={
        'parentType': 'folder', 'parentId': folder['_id'], 'name': name, 'size': len(data)},
        data=data)
    assert r.status_code == 200, r.text
    return r.json()


def test_kill_9_of_the_server_takes_the_database_along_and_a_restart_has_everything(
        tmp_path):
    proc, api = started(tmp_path)
    try:
        token = first_admin(api)
        stored = upload(api, token, 'kept.bin', os.urandom(100000))
        db_pid = database_pid(proc)
        proc.kill()
        proc.wait()
        # the database child dies with it (its parent-death signal), freeing the data
        assert gone(db_pid, 10)
    finally:
        stop(proc)
    proc, api = started(tmp_path, port=port_of(api))
    try:
        r = requests.get(api + '/user/authentication', auth=('first', 'password1'))
        assert r.status_code == 200
        token = r.json()['authToken']['token']
        r = requests.get(api + '/file/%s/download' % stored['_id'],
                         headers={'Girder-Token': token})
        assert r.status_code == 200 and len(r.content) == 100000
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out


def test_an_orphaned_database_of_an_earlier_run_is_stopped_first(tmp_path):
    # what a Tilery killed without a parent-death signal left: a database still running
    # on the data directory (holding its lock), and its pid file
    storage = tmp_path / 'db' / 'db'
    storage.mkdir(parents=True)
    exe = os.path.join(os.path.dirname(TILERY), 'secantusd-py')
    orphan_port = free_port()
    orphan = subprocess.Popen([exe, '--port', str(orphan_port), '--storage-path',
                               str(storage), '--sync-on-commit', '--standalone'],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    with pymongo.MongoClient('mongodb://127.0.0.1:%d/?directConnection=true' % orphan_port,
                             serverSelectionTimeoutMS=60000) as client:
        client.admin.command('ping')  # it holds the data's lock from here on
    # a pid file naming a process that is not a database on this data is left alone
    bystander = subprocess.Popen(['sleep', '120'])
    try:
        (tmp_path / 'db' / 'secantus.pid').write_text(json.dumps({'pid': bystander.pid}))
        proc = serve(tmp_path, free_port())
        try:  # the orphan is not recognised without its pid file: its lock stops us
            out = proc.communicate(timeout=120)[0]
        finally:
            stop(proc)
        assert proc.returncode != 0 and 'SecantusDB exited with code' in out, out
        assert bystander.poll() is None and orphan.poll() is None
        (tmp_path / 'db' / 'secantus.pid').write_text(json.dumps({'pid': orphan.pid}))
        proc, api = started(tmp_path)
        try:
            assert orphan.wait(15) is not None
            assert first_admin(api)
        finally:
            out = stop(proc)
        assert proc.returncode == 0, out
        assert 'left running on' in out
        assert bystander.poll() is None
    finally:
        for child in (orphan, bystander):
            if child.poll() is None:
                child.kill()
            child.wait()


def test_kill_9_of_the_database_is_503_for_seconds_then_recovers(tmp_path):
    proc, api = started(tmp_path)
    try:
        token = first_admin(api)
        headers = {'Girder-Token': token}
        assert requests.get(api + '/system/health/ready').status_code == 200
        # killed as soon as it is back, four times: the back-off grows (0.5, 1, 2, 4 s)
        # and the last outage is longer than a request waits for the database
        killed = []
        while len(killed) < 4:
            db_pid = database_pid(proc)
            if db_pid not in killed:
                os.kill(db_pid, signal.SIGKILL)
                killed.append(db_pid)
                assert gone(db_pid, 5)
        outage, readiness = [], []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            began = time.monotonic()
            r = requests.get(api + '/user', headers=headers, timeout=10)  # reads users
            took = time.monotonic() - began
            if r.status_code == 200:
                break
            outage.append((r.status_code, took, r.headers.get('Retry-After'), r.json()))
            # the process itself is fine: liveness says so, readiness does not
            assert requests.get(api + '/system/health/live', timeout=5).status_code == 200
            ready = requests.get(api + '/system/health/ready', timeout=5)
            assert ready.status_code in (200, 503)
            if ready.status_code == 503:
                readiness.append(ready)
        else:
            raise AssertionError('not back within 30 s: %s' % outage[-3:])
        assert [u['login'] for u in r.json()] == ['first']
        assert outage, 'the outage went unnoticed'
        for status, took, retry_after, body in outage:
            assert status == 503 and took < 3.0 and retry_after
            assert body['type'] == 'unavailable' and 'database' in body['message']
        assert readiness and all(r.headers['Retry-After'] and r.json()['type'] ==
                                 'unavailable' for r in readiness)
        assert requests.get(api + '/system/health/ready').status_code == 200
        assert database_pid(proc) not in killed
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    assert 'exited with code -9' in out and 'The database is back' in out


def test_sigterm_exits_within_10_s_even_with_requests_stuck_on_the_database(tmp_path):
    proc, api = started(tmp_path)
    try:
        token = first_admin(api)
        db_pid = database_pid(proc)
        # a frozen database (accepts nothing, answers nothing) is worse than a dead one
        os.kill(db_pid, signal.SIGSTOP)
        stuck = []

        def call():
            try:
                stuck.append(requests.get(api + '/user/me', timeout=60,
                                          headers={'Girder-Token': token}).status_code)
            except requests.RequestException as exc:
                stuck.append(type(exc).__name__)
        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        assert time.monotonic() - began < 10
        for thread in threads:
            thread.join(60)
        assert len(stuck) == 4
        assert gone(db_pid, 5)  # and the frozen database went with it
    finally:
        stop(proc)


def test_sigterm_lets_a_request_in_flight_finish_and_stops_workers_within_10_s(tmp_path):
    proc, api = started(tmp_path, '--workers', '2')
    try:
        token = first_admin(api)
        data = os.urandom(200000)
        answer = {}

        def send():
            headers = {'Girder-Token': token}
            me = requests.get(api + '/user/me', headers=headers).json()
            folder = requests.get(api + '/folder', headers=headers, params={
                'parentType': 'user', 'parentId': me['_id'], 'name': 'Public'}).json()[0]
            conn = http.client.HTTPConnection('127.0.0.1', port_of(api), timeout=30)
            conn.putrequest('POST', '/api/v1/file?' + urllib.parse.urlencode({
                'parentType': 'folder', 'parentId': folder['_id'], 'name': 'slow.bin',
                'size': len(data)}))
            conn.putheader('Girder-Token', token)
            conn.putheader('Content-Length', str(len(data)))
            conn.putheader('Expect', '100-continue')
            conn.endheaders()
            # a server process has taken the request once it says to go on (a connection
            # still waiting to be accepted is no request in flight)
            said = b''
            while not said.endswith(b'\r\n\r\n'):
                said += conn.sock.recv(1)
            assert said.startswith(b'HTTP/1.1 100'), said
            conn.send(data[:1000])
            taken.set()
            assert signalled.wait(60)  # the signal comes while this upload is being sent
            conn.send(data[1000:])
            response = conn.getresponse()
            answer['r'] = (response.status, json.loads(response.read()))
        taken, signalled = threading.Event(), threading.Event()
        sender = threading.Thread(target=send)
        sender.start()
        assert taken.wait(60)
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        # the rest of the upload goes once the server processes stopped taking connections
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(('127.0.0.1', port_of(api)), timeout=1).close()
            except OSError:
                break
            time.sleep(0.05)
        signalled.set()
        out = proc.communicate(timeout=30)[0]
        took = time.monotonic() - began
        sender.join(30)
        assert took < 10, out
        assert proc.returncode == 0, out
        assert answer['r'][0] == 200, out
        assert answer['r'][1]['size'] == len(data)
    finally:
        stop(proc)


LIVE_INGEST = '''
import sys
from bson import ObjectId
from tilery.app import create_app
from tilery.plugins.annotation import store
from tilery.settings import Settings
app = create_app(Settings(mongo_uri=sys.argv[1], data_dir=sys.argv[2]))
svc = app.annotations
annotation_id = ObjectId()
with svc.in_flight.track(annotation_id):
    writer = store.ChunkWriter(svc.model, annotation_id, svc.settings)
    for i in range(3000):
        writer.add({'type': 'point', 'center': [i, i, 0]}, i)
    writer.flush()
    writer._wait()
    print(annotation_id, flush=True)
    sys.stdin.read()  # an ingest still running: until the test closes our stdin
'''


def test_kill_9_mid_ingest_leaves_no_chunks_after_the_next_start(tmp_path, mongo_uri,
                                                                    mongo_client):
    name = 'recovery_%s' % free_port()
    uri = mongo_uri.replace('/?', '/%s?' % name)
    db = mongo_client[name]
    live = None
    proc, api = started(tmp_path, '--mongo-uri', uri)
    try:
        token = first_admin(api)
        headers = {'Girder-Token': token}
        me = requests.get(api + '/user/me', headers=headers).json()
        folder = requests.get(api + '/folder', headers=headers, params={
            'parentType': 'user', 'parentId': me['_id'], 'name': 'Private'}).json()[0]
        item = requests.post(api + '/item', headers=headers, params={
            'folderId': folder['_id'], 'name': 'slide'}).json()
        # an ingest in another process that is alive: what it wrote must stay
        live = subprocess.Popen([sys.executable, '-c', LIVE_INGEST, uri, str(tmp_path)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        live_id = ObjectId(live.stdout.readline().strip())
        live_chunks = db.annotation_chunk.count_documents({'annotationId': live_id})
        assert live_chunks > 0
        elements = [{'type': 'rectangle', 'center': [i % 5000, i // 5000, 0], 'width': 2,
                     'height': 2} for i in range(200000)]
        body = json.dumps({'name': 'big', 'elements': elements}).encode()

        def post():
            try:
                requests.post(api + '/annotation', params={'itemId': item['_id']},
                              headers=headers, data=body, timeout=120)
            except requests.RequestException:
                pass  # the server is killed under it
        sender = threading.Thread(target=post)
        sender.start()
        deadline = time.monotonic() + 120
        while db.annotation_chunk.count_documents({'annotationId': {'$ne': live_id}}) < 3:
            assert time.monotonic() < deadline, 'the ingest wrote nothing'
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        sender.join(60)
        assert db.annotation.count_documents({}) == 0  # killed mid-ingest: nothing saved
        left = db.annotation_chunk.count_documents({'annotationId': {'$ne': live_id}})
        assert left >= 3
        proc, api = started(tmp_path, '--mongo-uri', uri, port=port_of(api))
        deadline = time.monotonic() + 120  # the sweeps settle over ~95 s
        while db.annotation_chunk.count_documents({'annotationId': {'$ne': live_id}}):
            assert time.monotonic() < deadline, 'the leftovers are still there: %s' % (
                stop(proc)[-3000:])
            time.sleep(0.2)
        assert db.annotation_chunk.count_documents({'annotationId': live_id}) == live_chunks
        assert db.annotation_ingest.count_documents({}) == 1  # the live one's marker
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0]
        assert 'orphaned annotation chunks' in out
    finally:
        if live is not None:
            live.communicate('', timeout=60)
        out = stop(proc)
        mongo_client.drop_database(name)
    assert live.returncode == 0


def test_kill_9_of_the_parent_of_workers_takes_workers_and_database_along(tmp_path):
    proc, api = started(tmp_path, '--workers', '2')
    try:
        children = psutil.Process(proc.pid).children()
        assert len(children) == 3  # two workers and the database
        proc.kill()
        proc.wait()
        for child in children:
            assert gone(child.pid, 10), child.cmdline()
        # the port and the data are free for the next start
        proc, api = started(tmp_path, '--workers', '2', port=port_of(api))
        assert requests.get(api + '/system/health/ready').status_code == 200
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out


def test_health_routes_and_system_check_say_only_what_each_caller_may_know(
        server, admin, user):
    for caller in (None, user, admin):
        assert server.request('system/health/live', user=caller).json == {'status': 'ok'}
        r = server.request('system/health/ready', user=caller)
        assert r.status == 200 and r.json == {'status': 'ok', 'database': 'ok'}
    # as in Girder: everyone gets the times, only administrators the rest
    for caller in (None, user):
        r = server.request('system/check', user=caller, params={'mode': 'slow'})
        assert r.status == 200
        assert set(r.json) == {'bootTime', 'currentTime', 'processStartTime'}
    r = server.request('system/check', user=admin, params={'mode': 'quick'})
    assert r.status == 200 and 'version' in r.json['mongoBuildInfo']
    assert r.json['databaseAnswers'] is True and 'mongoDbStats' not in r.json
    r = server.request('system/check', user=admin, params={'mode': 'slow'})
    assert 'mongoDbStats' in r.json
    r = server.request('system/check', user=admin, params={'mode': 'everything'})
    assert r.status == 400 and r.json['type'] == 'rest'
