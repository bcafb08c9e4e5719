"""Core server benchmark: girder-client upload/download against a plain file copy, and CRUD.

Starts nothing: point it at a running server.

Environment:
  BASE_URL        API root (default http://127.0.0.1:8080/api/v1)
  BENCH_USER      login (default admin); created with POST /user when login fails
  BENCH_PASSWORD  password (default adminpass1)
  BENCH_TMP       scratch directory for the generated file (default: the system temp dir)
  UPLOAD_MIB      size of the uploaded file in MiB (default 512)
  CRUD_N          folders and items to create (default 1000)
  LIST_CALLS      paged listings of each kind (default 200)
  LIST_LIMIT      page size (default 50)
  SMALL_CLIENTS   concurrent clients in the small-upload part (default 16)
  SMALL_FILES     small files each client uploads (default 25)
  PARTS           which parts run (default "transfer crud small")
  BENCH_KEEP=1    keep the bench folder afterwards

Prints one JSON line per part ("core_transfer", "core_crud", "core_small_uploads");
progress goes to stderr. The CRUD part measures what ../shared/peer/bench_crud.py
measures, the same way. The small-upload part has SMALL_CLIENTS threads each upload
SMALL_FILES files of 1-10 KB into a folder as girder-client's uploadFile does it
(POST /file to start an upload into a new item, POST /file/chunk with the bytes, which
finishes it), and reports uploads/s and the latency of one whole upload.
"""
import hashlib
import json
import os
import random
import threading
import shutil
import tempfile
import time
import uuid

import girder_client
import requests

from benchlib import log, percentile

MIB = 1024 * 1024
BASE_URL = os.environ.get('BASE_URL', 'http://127.0.0.1:8080/api/v1').rstrip('/')
USER = os.environ.get('BENCH_USER', 'admin')
PASSWORD = os.environ.get('BENCH_PASSWORD', 'adminpass1')
TMP = os.environ.get('BENCH_TMP', tempfile.gettempdir())
UPLOAD_MIB = int(os.environ.get('UPLOAD_MIB', '512'))
CRUD_N = int(os.environ.get('CRUD_N', '1000'))
LIST_CALLS = int(os.environ.get('LIST_CALLS', '200'))
LIST_LIMIT = int(os.environ.get('LIST_LIMIT', '50'))
SMALL_CLIENTS = int(os.environ.get('SMALL_CLIENTS', '16'))
SMALL_FILES = int(os.environ.get('SMALL_FILES', '25'))
PARTS = os.environ.get('PARTS', 'transfer crud small').split()


def emit(record):
    record.update(base_url=BASE_URL, ts=time.strftime('%Y-%m-%dT%H:%M:%S%z'))
    print(json.dumps(record, sort_keys=True), flush=True)


def client():
    """A signed-in GirderClient; the user is registered first if the login fails."""
    gc = girder_client.GirderClient(apiUrl=BASE_URL)
    try:
        gc.authenticate(USER, PASSWORD)
    except (girder_client.AuthenticationError, girder_client.HttpError) as exc:
        if isinstance(exc, girder_client.HttpError) and exc.status not in (400, 401, 403):
            raise
        log('login failed; registering', USER)
        requests.post(BASE_URL + '/user', params={
            'login': USER, 'email': '%s@example.com' % USER, 'firstName': 'Bench',
            'lastName': 'Admin', 'password': PASSWORD, 'admin': 'true'}).raise_for_status()
        gc.authenticate(USER, PASSWORD)
    return gc


def bench_folder(gc):
    """A new folder for this run: in the 'bench' collection for admins, else Private."""
    name = 'core-%s-%s' % (time.strftime('%Y%m%d-%H%M%S'), uuid.uuid4().hex[:6])
    me = gc.get('user/me')
    if me.get('admin'):
        found = gc.get('collection', parameters={'name': 'bench'})
        coll = found[0] if found else gc.createCollection('bench', public=False)
        return gc.createFolder(coll['_id'], name, parentType='collection')
    private = next(gc.listFolder(me['_id'], 'user', name='Private'))
    return gc.createFolder(private['_id'], name)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for block in iter(lambda: fh.read(8 * MIB), b''):
            h.update(block)
    return h.hexdigest()


def transfer(gc, folder):
    """Upload and download one file with girder-client; copy the same bytes locally."""
    src = os.path.join(TMP, 'bench_core_%d_%s.bin' % (UPLOAD_MIB, uuid.uuid4().hex[:6]))
    copy, back = src + '.copy', src + '.down'
    h = hashlib.sha256()
    with open(src, 'wb') as fh:
        for _ in range(UPLOAD_MIB):
            block = os.urandom(MIB)
            h.update(block)
            fh.write(block)
    src_sha = h.hexdigest()
    size = os.path.getsize(src)
    try:
        log('upload %d MiB' % UPLOAD_MIB)
        t0 = time.perf_counter()
        uploaded = gc.uploadFileToFolder(folder['_id'], src)
        t_up = time.perf_counter() - t0
        log('download')
        t0 = time.perf_counter()
        gc.downloadFile(uploaded['_id'], back)
        t_down = time.perf_counter() - t0
        match = sha256_of(back) == src_sha
        os.unlink(back)
        log('local copy')
        t0 = time.perf_counter()
        shutil.copyfile(src, copy)
        t_copy = time.perf_counter() - t0
    finally:
        for path in (src, copy, back):
            if os.path.exists(path):
                os.unlink(path)

    def rate(seconds):
        return round(size / MIB / seconds, 1)
    return {'bench': 'core_transfer', 'bytes': size, 'sha256_match': match,
            'upload_s': round(t_up, 3), 'upload_MiBps': rate(t_up),
            'download_s': round(t_down, 3), 'download_MiBps': rate(t_down),
            'copy_s': round(t_copy, 3), 'copy_MiBps': rate(t_copy),
            'upload_vs_copy': round(t_copy / t_up, 3),
            'download_vs_copy': round(t_copy / t_down, 3)}


def crud(gc, folder):
    """Folder and item creation, paged listings and GET by id, as the peer bench does."""
    session = requests.Session()
    session.headers['Girder-Token'] = gc.token
    root = gc.createFolder(folder['_id'], 'crud')
    out = {'bench': 'core_crud', 'n': CRUD_N, 'list_calls': LIST_CALLS, 'limit': LIST_LIMIT}

    def timed(name, count, calls, rows_of=lambda resp: 0):
        t0 = time.perf_counter()
        rows = 0
        for k in range(count):
            resp = calls(k)
            resp.raise_for_status()
            rows += rows_of(resp)
        seconds = time.perf_counter() - t0
        out[name + '_s'] = round(seconds, 3)
        out[name + '_ops_per_s'] = round(count / seconds, 1)
        return rows

    log('crud: %d folders, %d items' % (CRUD_N, CRUD_N))
    timed('folder_create', CRUD_N, lambda i: session.post(BASE_URL + '/folder', params={
        'parentType': 'folder', 'parentId': root['_id'], 'name': 'f%05d' % i}))
    timed('item_create', CRUD_N, lambda i: session.post(BASE_URL + '/item', params={
        'folderId': root['_id'], 'name': 'i%05d' % i}))
    out['item_list_rows'] = timed('item_list', LIST_CALLS, lambda k: session.get(
        BASE_URL + '/item', params={'folderId': root['_id'], 'limit': LIST_LIMIT,
                                    'offset': (k * LIST_LIMIT) % CRUD_N, 'sort': 'name'}),
        lambda resp: len(resp.json()))
    out['folder_list_rows'] = timed('folder_list', LIST_CALLS, lambda k: session.get(
        BASE_URL + '/folder', params={'parentType': 'folder', 'parentId': root['_id'],
                                      'limit': LIST_LIMIT, 'offset': (k * LIST_LIMIT) % CRUD_N,
                                      'sort': 'name'}), lambda resp: len(resp.json()))
    ids = [i['_id'] for i in session.get(BASE_URL + '/item', params={
        'folderId': root['_id'], 'limit': 200}).json()]
    timed('item_get', len(ids), lambda k: session.get(BASE_URL + '/item/' + ids[k]))
    return out


def small_uploads(gc, folder):
    """SMALL_CLIENTS clients each upload SMALL_FILES 1-10 KB files: start, one chunk, done."""
    root = gc.createFolder(folder['_id'], 'small')
    latencies, errors = [], []
    start = threading.Barrier(SMALL_CLIENTS + 1)

    def one_client(k):
        session = requests.Session()
        session.headers['Girder-Token'] = gc.token
        rng = random.Random(k)
        start.wait()
        for i in range(SMALL_FILES):
            data = rng.randbytes(rng.randint(1024, 10240))
            t0 = time.perf_counter()
            try:
                resp = session.post(BASE_URL + '/file', params={
                    'parentType': 'folder', 'parentId': root['_id'], 'name': 's%02d-%04d.bin' % (
                        k, i), 'size': len(data), 'mimeType': 'application/octet-stream'})
                resp.raise_for_status()
                resp = session.post(BASE_URL + '/file/chunk', params={
                    'uploadId': resp.json()['_id'], 'offset': 0}, data=data)
                resp.raise_for_status()
                if resp.json().get('size') != len(data) or 'itemId' not in resp.json():
                    raise ValueError('not a finished file: %r' % resp.json())
            except Exception as exc:  # counted and reported, not hidden
                errors.append(repr(exc))
                continue
            latencies.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=one_client, args=(k,)) for k in range(SMALL_CLIENTS)]
    for thread in threads:
        thread.start()
    log('small uploads: %d clients x %d files' % (SMALL_CLIENTS, SMALL_FILES))
    start.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - t0
    return {'bench': 'core_small_uploads', 'clients': SMALL_CLIENTS, 'files': len(latencies),
            'errors': len(errors), 'first_error': errors[0] if errors else None,
            'seconds': round(seconds, 3), 'uploads_per_s': round(len(latencies) / seconds, 1),
            'p50_s': round(percentile(latencies, 50), 4) if latencies else None,
            'p95_s': round(percentile(latencies, 95), 4) if latencies else None}


def main():
    gc = client()
    folder = bench_folder(gc)
    try:
        if 'transfer' in PARTS:
            emit(transfer(gc, folder))
        if 'crud' in PARTS:
            emit(crud(gc, folder))
        if 'small' in PARTS:
            emit(small_uploads(gc, folder))
    finally:
        if os.environ.get('BENCH_KEEP', '0') in ('0', '', 'false'):
            t0 = time.perf_counter()
            gc.delete('folder/%s' % folder['_id'])
            log('cleanup %.2f s' % (time.perf_counter() - t0))


if __name__ == '__main__':
    main()
