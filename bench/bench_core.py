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
  BENCH_KEEP=1    keep the bench folder afterwards

Prints one JSON line per part ("core_transfer", "core_crud"); progress goes to stderr.
The CRUD part measures what ../shared/peer/bench_crud.py measures, the same way.
"""
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid

import girder_client
import requests

from benchlib import log

MIB = 1024 * 1024
BASE_URL = os.environ.get('BASE_URL', 'http://127.0.0.1:8080/api/v1').rstrip('/')
USER = os.environ.get('BENCH_USER', 'admin')
PASSWORD = os.environ.get('BENCH_PASSWORD', 'adminpass1')
TMP = os.environ.get('BENCH_TMP', tempfile.gettempdir())
UPLOAD_MIB = int(os.environ.get('UPLOAD_MIB', '512'))
CRUD_N = int(os.environ.get('CRUD_N', '1000'))
LIST_CALLS = int(os.environ.get('LIST_CALLS', '200'))
LIST_LIMIT = int(os.environ.get('LIST_LIMIT', '50'))


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


def main():
    gc = client()
    folder = bench_folder(gc)
    try:
        emit(transfer(gc, folder))
        emit(crud(gc, folder))
    finally:
        if os.environ.get('BENCH_KEEP', '0') in ('0', '', 'false'):
            t0 = time.perf_counter()
            gc.delete('folder/%s' % folder['_id'])
            log('cleanup %.2f s' % (time.perf_counter() - t0))


if __name__ == '__main__':
    main()
