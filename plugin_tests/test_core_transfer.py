"""Bytes at speed: database writes per small upload, large bodies and files over real HTTP."""
import hashlib
import os
import socket

import pymongo.monitoring
import pytest
import requests

from tilery import database
from tilery.testing import TestServer, make_app

from test_core_support import make_folder, ok

WRITES = {'insert', 'update', 'delete', 'findAndModify'}


class WriteCounter(pymongo.monitoring.CommandListener):
    """Counts the write commands the app sends (each is a journaled commit)."""

    def __init__(self):
        self.writes = []
        self.feed = []  # the change feed's (notification streams), counted apart

    def started(self, event):
        if event.command_name in WRITES:
            write = (event.command_name, event.command.get(event.command_name))
            (self.feed if write[1] in ('notification', 'notification_seq') else self.writes
             ).append(write)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture
def counted(mongo_uri, db, tmp_path):
    """An app whose database client counts write commands."""
    counter = WriteCounter()
    client = database.connect(mongo_uri, event_listeners=[counter])
    app = make_app(client, client[db.name], tmp_path / 'data')
    yield TestServer(app), counter
    app.stop()
    client.close()


def test_a_small_upload_into_a_folder_costs_few_writes(counted, admin):
    server, counter = counted
    admin = server.app.models.user.load(admin['_id'])
    coll = ok(server.request('collection', 'POST', user=admin, params={'name': 'lab'}))
    top = make_folder(server, admin, coll, 'top', parent_type='collection')
    inner = make_folder(server, admin, top, 'inner')
    version = server.app.models.folder.load(inner['_id']).get('listVersion', 0)
    data = os.urandom(5000)
    server.app.notifications.publisher.flush()  # the folders' events are stored
    del counter.writes[:]
    del counter.feed[:]
    up = ok(server.request('file', 'POST', user=admin, params={
        'parentType': 'folder', 'parentId': inner['_id'], 'name': 'a.bin', 'size': len(data)}))
    assert len(counter.writes) == 1, counter.writes  # the upload record, written once
    done = ok(server.request('file/chunk', 'POST', user=admin, body=data, params={
        'uploadId': up['_id'], 'offset': 0}))
    # item (with its size), inner folder (size and listVersion), top folder, collection,
    # file, upload deleted: six, where there were eleven
    assert len(counter.writes) <= 7, counter.writes
    # two events (item.create to the folder's watchers, upload_done to the uploader),
    # stored off the request path, two writes for each batch of events (feed.py)
    server.app.notifications.publisher.flush()
    assert len(counter.feed) in (2, 4), counter.feed
    assert done['sha512'] == hashlib.sha512(data).hexdigest()
    models = server.app.models
    item = models.item.load(done['itemId'])
    assert item['size'] == len(data) and item['name'] == 'a.bin'
    assert item['creatorId'] == admin['_id']
    assert models.folder.load(inner['_id'])['size'] == len(data)
    assert models.folder.load(inner['_id'])['listVersion'] == version + 1
    assert models.folder.load(top['_id'])['size'] == len(data)
    assert models.collection.load(coll['_id'])['size'] == len(data)
    assert models.upload.count({}) == 0
    listed = ok(server.request('item', user=admin, params={'folderId': inner['_id']}))
    assert [i['name'] for i in listed] == ['a.bin']
    # into an existing item: its size and updated time change in one write
    before = models.item.load(done['itemId'])['updated']
    del counter.writes[:]
    more = ok(server.request('file', 'POST', user=admin, body=data, params={
        'parentType': 'item', 'parentId': done['itemId'], 'name': 'b.bin',
        'size': len(data)}))
    assert more['size'] == len(data)
    item = models.item.load(done['itemId'])
    assert item['size'] == 2 * len(data) and item['updated'] > before
    assert models.collection.load(coll['_id'])['size'] == 2 * len(data)
    assert len(counter.writes) <= 7, counter.writes


def test_large_chunks_downloads_and_ranges_over_http(bound_server, server, user):
    """Chunks of several blocks (hashed in a second thread), downloads sent from the
    file, ranges, HEAD and keep-alive, all on one connection."""
    folder = server.app.models.folder.find_one({'parentId': user['_id'], 'name': 'Private'})
    api = bound_server.api_url
    session = requests.Session()
    session.headers['Girder-Token'] = server.token_for(user)
    data = os.urandom(11 * (1 << 20) + 12345)
    up = session.post(api + '/file', params={
        'parentType': 'folder', 'parentId': folder['_id'], 'name': 'big.bin',
        'size': len(data)}).json()
    half = 6 * (1 << 20) + 7
    first = session.post(api + '/file/chunk', data=data[:half], params={
        'uploadId': up['_id'], 'offset': 0})
    assert first.status_code == 200 and first.json()['received'] == half
    # a wrong offset is refused and leaves the stored bytes alone
    wrong = session.post(api + '/file/chunk', data=data[half:half + 10], params={
        'uploadId': up['_id'], 'offset': half - 1})
    assert wrong.status_code == 400 and 'offset' in wrong.json()['message']
    done = session.post(api + '/file/chunk', data=data[half:], params={
        'uploadId': up['_id'], 'offset': half}).json()
    assert done['size'] == len(data)
    assert done['sha512'] == hashlib.sha512(data).hexdigest()
    url = '%s/file/%s/download' % (api, done['_id'])
    whole = session.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers['Content-Length'] == str(len(data))
    part = session.get(url, headers={'Range': 'bytes=5000000-5000099'})
    assert part.status_code == 206 and part.content == data[5000000:5000100]
    assert part.headers['Content-Range'] == 'bytes 5000000-5000099/%d' % len(data)
    tail = session.get(url, headers={'Range': 'bytes=-7'})
    assert tail.status_code == 206 and tail.content == data[-7:]
    offset = session.get(url, params={'offset': len(data) - 100})
    assert offset.content == data[-100:]
    head = session.head(url)
    assert head.status_code == 200 and head.content == b''
    assert head.headers['Content-Length'] == str(len(data))
    past = session.get(url, headers={'Range': 'bytes=%d-' % len(data)})
    assert past.status_code == 416
    assert session.get(api + '/system/version').status_code == 200


def test_a_file_shorter_than_its_record_closes_the_connection(bound_server, server, user):
    """Bytes lost on disk: the client gets what there is and the connection ends,
    instead of waiting for bytes that will never come."""
    folder = server.app.models.folder.find_one({'parentId': user['_id'], 'name': 'Private'})
    data = os.urandom(300000)
    done = ok(server.request('file', 'POST', user=user, body=data, params={
        'parentType': 'folder', 'parentId': folder['_id'], 'name': 'cut.bin',
        'size': len(data)}))
    path = server.app.models.file.local_path(server.app.models.file.load(done['_id']))
    with open(path, 'r+b') as fh:
        fh.truncate(1000)
    # under the server's own 10 s idle timeout, which would end the connection anyway
    sock = socket.create_connection(('127.0.0.1', bound_server.port), timeout=5)
    with sock:
        sock.sendall(('GET /api/v1/file/%s/download HTTP/1.1\r\nHost: x\r\n'
                      'Girder-Token: %s\r\n\r\n' % (done['_id'], server.token_for(user))).encode())
        received = b''
        while True:
            piece = sock.recv(65536)  # a server that kept the connection open times out here
            if not piece:
                break
            received += piece
    head, _, body = received.partition(b'\r\n\r\n')
    assert head.startswith(b'HTTP/1.1 200') and body == data[:1000]


def test_a_busy_keep_alive_connection_does_not_starve_others(server):
    """Workers serve a keep-alive client's next request at once, but not while another
    connection waits: with one worker, a second client is still answered quickly."""
    import threading
    import time

    from tilery.app import mount
    from tilery.rest.gateway import make_server
    http = make_server(('127.0.0.1', 0), mount(server.app), numthreads=1)
    http.prepare()
    runner = threading.Thread(target=http.serve, daemon=True)
    runner.start()
    url = 'http://127.0.0.1:%d/api/v1/system/version' % http.bind_addr[1]
    stop = threading.Event()
    counts = []

    def busy():
        session = requests.Session()
        n = 0
        while not stop.is_set():
            assert session.get(url).status_code == 200
            n += 1
        counts.append(n)
    hog = threading.Thread(target=busy)
    try:
        hog.start()
        time.sleep(0.5)
        t0 = time.perf_counter()
        for _ in range(5):
            assert requests.get(url, timeout=5).status_code == 200
        waited = time.perf_counter() - t0
    finally:
        stop.set()
        hog.join(10)
        http.stop()
    assert counts and counts[0] > 20
    assert waited < 3, waited
