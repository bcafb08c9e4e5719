"""Files: chunked uploads (offsets, resume, cancel), downloads with Range, edits, zips."""
import hashlib
import io
import json
import os
import zipfile

import pytest
import requests
from bson import ObjectId

from test_core_support import (assert_error, home_folder, make_folder, make_item, ok,
                               raw_request, size_of, store_root, stored_files, temp_files,
                               upload)
from tilery import testing
from tilery.services import downloads

KIB = 1024


@pytest.fixture
def item(server, user):
    return make_item(server, user, home_folder(server, user), 'slide')


def start(server, user, parent, size, name='data.bin', parent_type='item'):
    return ok(server.request('file', 'POST', user=user, params={
        'parentType': parent_type, 'parentId': parent['_id'], 'name': name, 'size': size}))


def chunk(server, user, upload_doc, offset, data):
    return server.request('file/chunk', 'POST', user=user, body=data, params={
        'uploadId': upload_doc['_id'], 'offset': offset})


def received(server, upload_doc):
    return server.app.models.upload.load(upload_doc['_id'])['received']


def test_chunked_upload_checks_every_offset_and_resumes(server, user, other, item,
                                                        mongo_client, db, tmp_path):
    data = os.urandom(300 * KIB)
    up = start(server, user, item, len(data))
    assert up['_modelType'] == 'upload' and up['received'] == 0 and 'tempFile' not in up
    assert ok(chunk(server, user, up, 0, data[:100 * KIB]))['received'] == 100 * KIB
    root = store_root(server)
    for offset, body, status, message in (
            (0, data[:100 * KIB], 400, 'server has received 102400 bytes'),  # a repeat
            (50 * KIB, data[50 * KIB:], 400, 'client sent offset 51200'),
            (200 * KIB, data[200 * KIB:], 400, 'client sent offset'),
            (100 * KIB, data[100 * KIB:] + b'extra', 400, 'past the declared size')):
        assert_error(chunk(server, user, up, offset, body), status, 'rest', contains=message)
        assert received(server, up) == 100 * KIB
        assert os.path.getsize(os.path.join(root, 'temp', up['_id'])) == 100 * KIB
    # someone else's upload id, and ids that are not upload ids
    assert_error(chunk(server, other, up, 100 * KIB, data[100 * KIB:]), 403,
                 contains='did not start this upload')
    assert_error(server.request('file/offset', user=other, params={'uploadId': up['_id']}),
                 403)
    assert_error(server.request('file/chunk', 'POST', user=user, body=b'x', params={
        'uploadId': 'nope', 'offset': 0}), 400, contains='objectid')
    assert_error(server.request('file/chunk', 'POST', user=user, body=b'x', params={
        'uploadId': str(ObjectId()), 'offset': 0}), 400, contains='invalid upload id')
    # the connection drops in the middle of a chunk: only whole chunks are kept
    dropped = raw_request(server, 'POST', 'file/chunk', 'uploadId=%s&offset=%d' % (
        up['_id'], 100 * KIB), user=user, body=data[100 * KIB:150 * KIB],
        declared=200 * KIB)
    assert_error(dropped, 400, contains='ended early')
    assert ok(server.request('file/offset', user=user, params={
        'uploadId': up['_id']})) == {'offset': 100 * KIB}
    assert os.path.getsize(os.path.join(root, 'temp', up['_id'])) == 100 * KIB
    # nothing is visible as a file until the last byte arrives
    assert ok(server.request('item/%s/files' % item['_id'], user=user)) == []
    assert server.app.models.file.count({}) == 0 and stored_files(root) == set()
    # the server restarts: another process resumes the upload (and its checksum) from disk
    restarted = testing.TestServer(testing.make_app(mongo_client, db, tmp_path / 'data'))
    done = ok(chunk(restarted, user, up, 100 * KIB, data[100 * KIB:]))
    restarted.app.stop()
    assert done['_modelType'] == 'file' and done['size'] == len(data)
    assert done['sha512'] == hashlib.sha512(data).hexdigest()
    assert 'path' not in done
    assert temp_files(root) == [] and len(stored_files(root)) == 1
    assert server.app.models.upload.count({}) == 0
    got = server.request('file/%s/download' % done['_id'], user=user)
    assert got.status == 200 and got.body == data
    assert size_of(server, 'item', item) == len(data)
    assert size_of(server, 'user', user) == len(data)


def test_cancel_and_admin_cleanup_of_uploads(server, admin, user, other, item):
    root = store_root(server)
    up = start(server, user, item, 10 * KIB)
    ok(chunk(server, user, up, 0, b'a' * KIB))
    assert temp_files(root) == [up['_id']]
    assert_error(server.request('file/upload/%s' % up['_id'], 'DELETE', user=other), 403)
    ok(server.request('file/upload/%s' % up['_id'], 'DELETE', user=user))
    assert temp_files(root) == [] and server.app.models.upload.count({}) == 0
    assert_error(chunk(server, user, up, KIB, b'b'), 400, contains='invalid upload id')
    second = start(server, user, item, 10)
    listed = server.request('system/uploads', user=admin)
    assert [u['_id'] for u in ok(listed)] == [second['_id']]
    assert listed.headers['Girder-Total-Count'] == '1'
    assert_error(server.request('system/uploads', user=user), 403)
    ok(server.request('system/uploads', 'DELETE', user=admin))
    assert temp_files(root) == [] and server.app.models.upload.count({}) == 0
    assert server.app.models.file.count({}) == 0


def test_one_request_uploads_empty_files_and_folder_parents(server, user, other, item):
    empty = ok(server.request('file', 'POST', user=user, params={
        'parentType': 'item', 'parentId': item['_id'], 'name': 'empty.txt', 'size': 0}))
    assert empty['_modelType'] == 'file' and empty['size'] == 0
    assert server.request('file/%s/download' % empty['_id'], user=user).body == b''
    folder = home_folder(server, user)
    whole = upload(server, user, folder, b'hello world', 'hello.txt', parent_type='folder')
    assert whole['mimeType'] == 'text/plain'
    made = server.app.models.item.find_one({'folderId': folder['_id'], 'name': 'hello.txt'})
    assert made['_id'] == ObjectId(whole['itemId']) and made['size'] == 11
    # a body that does not match the declared size leaves nothing behind
    assert_error(server.request('file', 'POST', user=user, body=b'12345', params={
        'parentType': 'item', 'parentId': item['_id'], 'name': 'short', 'size': 10}), 400,
        contains='declared size is 10')
    for params, status in (({'name': 'a/b', 'size': 1}, 400), ({'name': '', 'size': 1}, 400),
                           ({'name': 'x', 'size': -1}, 400), ({'name': 'x', 'size': 10 ** 30}, 400),
                           ({'name': 'x', 'size': 1, 'parentType': 'collection'}, 400)):
        query = dict({'parentType': 'item', 'parentId': item['_id']}, **params)
        assert_error(server.request('file', 'POST', user=user, params=query), status)
    assert_error(server.request('file', 'POST', user=other, params={
        'parentType': 'item', 'parentId': item['_id'], 'name': 'x', 'size': 1}), 403)
    assert_error(server.request('file', 'POST', user=user, params={
        'parentType': 'item', 'parentId': item['_id'], 'name': 'x', 'size': 1,
        'assetstoreId': str(ObjectId())}), 403, contains='administrators')
    assert server.app.models.upload.count({}) == 0
    assert temp_files(store_root(server)) == []
    assert [f['name'] for f in ok(server.request('item/%s/files' % item['_id'],
                                                 user=user))] == ['empty.txt']


def test_range_downloads(server, user, item):
    data = bytes(range(256)) * 40
    f = upload(server, user, item, data, 'bytes.bin')
    path = 'file/%s/download' % f['_id']

    def get(range_header=None, **params):
        headers = {'Range': range_header} if range_header else None
        return server.request(path, user=user, headers=headers, params=params)
    whole = get()
    assert whole.status == 200 and whole.body == data
    assert whole.headers['Content-Length'] == str(len(data))
    assert whole.headers['Accept-Ranges'] == 'bytes'
    assert whole.headers['Content-Disposition'].startswith('attachment; filename="bytes.bin"')
    for header, start, end in (('bytes=0-99', 0, 100), ('bytes=100-', 100, len(data)),
                               ('bytes=-10', len(data) - 10, len(data)),
                               ('bytes=10000-20000', 10000, len(data)),
                               ('bytes=-99999', 0, len(data))):
        part = get(header)
        assert part.status == 206, header
        assert part.body == data[start:end], header
        assert part.headers['Content-Range'] == 'bytes %d-%d/%d' % (start, end - 1, len(data))
        assert part.headers['Content-Length'] == str(end - start)
    too_far = get('bytes=%d-' % len(data))
    assert too_far.status == 416 and too_far.headers['Content-Range'] == 'bytes */%d' % len(data)
    assert_error(get('bytes=abc'), 400, contains='invalid range')
    assert get(offset=5, endByte=9).body == data[5:9]
    assert get('bytes=0-1', offset=5).body == data[:2]  # Range wins over offset
    assert_error(get(offset=len(data) + 1), 400, contains='invalid byte range')
    inline = get(contentDisposition='inline')
    assert inline.headers['Content-Disposition'].startswith('inline;')
    named = server.request('file/%s/download/anything.bin' % f['_id'], user=user)
    assert named.body == data
    head = server.request(path, 'HEAD', user=user)
    assert head.status == 200 and head.body == b''
    assert head.headers['Content-Length'] == str(len(data))
    # an item with one file downloads that file, Range included
    one = server.request('item/%s/download' % item['_id'], user=user,
                         headers={'Range': 'bytes=1-2'})
    assert one.status == 206 and one.body == data[1:3]


def test_range_and_cookie_over_http(bound_server, server, user, item):
    data = os.urandom(3 * 1024 * 1024 + 7)
    f = upload(server, user, item, data, 'big.bin')
    url = '%s/file/%s/download' % (bound_server.api_url, f['_id'])
    session = requests.Session()
    login = session.get(bound_server.api_url + '/user/authentication',
                        auth=('user1', 'password1'))
    assert login.status_code == 200 and 'girderToken' in session.cookies
    # the cookie authenticates downloads, not other routes (CSRF)
    assert session.get(bound_server.api_url + '/user/me').json() is None
    part = session.get(url, headers={'Range': 'bytes=1048576-'})
    assert part.status_code == 206 and part.content == data[1048576:]
    assert part.headers['Content-Range'] == 'bytes 1048576-%d/%d' % (len(data) - 1, len(data))
    assert part.headers['Girder-Request-Uid']
    head = session.head(url)
    assert head.status_code == 200 and head.headers['Content-Length'] == str(len(data))
    assert requests.get(url).status_code == 401
    assert session.get(url).content == data
    # a chunked body has no length to check offsets against: refused, connection still usable
    up = start(server, user, item, 10)

    def body():
        yield b'12345'
        yield b'67890'
    refused = session.post(bound_server.api_url + '/file/chunk', data=body(), params={
        'uploadId': up['_id'], 'offset': 0})
    assert refused.status_code == 411 and 'content-length' in refused.json()['message'].lower()
    assert received(server, up) == 0
    assert session.get(bound_server.api_url + '/system/version').status_code == 200


def test_file_edits_moves_copies_and_new_contents(server, user, other, item):
    home = home_folder(server, user)
    other_item = make_item(server, user, home, 'second')
    f = upload(server, user, item, b'a' * 1000, 'a.txt')
    path = 'file/%s' % f['_id']
    assert ok(server.request(path, user=user))['_modelType'] == 'file'
    assert_error(server.request(path, 'PUT', user=user, params={'name': 'x/y'}), 400,
                 'validation', field='name')
    assert_error(server.request(path, 'PUT', user=other, params={'name': 'mine'}), 403)
    edited = ok(server.request(path, 'PUT', user=user, params={
        'name': 'b.txt', 'mimeType': 'text/csv'}))
    assert (edited['name'], edited['mimeType']) == ('b.txt', 'text/csv')
    moved = ok(server.request(path + '/move', 'PUT', user=user, params={
        'itemId': other_item['_id']}))
    assert moved['itemId'] == other_item['_id']
    assert size_of(server, 'item', item) == 0 and size_of(server, 'item', other_item) == 1000
    copy = ok(server.request(path + '/copy', 'POST', user=user, params={
        'itemId': item['_id']}))
    assert copy['_id'] != f['_id'] and copy['sha512'] == f['sha512']
    assert size_of(server, 'folder', home) == 2000
    root = store_root(server)
    before = stored_files(root)
    # new contents: a new upload replaces the bytes when it completes
    up = ok(server.request(path + '/contents', 'PUT', user=user, params={'size': 5}))
    assert server.request(path + '/download', user=user).body == b'a' * 1000
    done = ok(chunk(server, user, up, 0, b'fresh'))
    assert done['_id'] == f['_id'] and done['size'] == 5
    assert server.request(path + '/download', user=user).body == b'fresh'
    assert size_of(server, 'item', other_item) == 5 and size_of(server, 'folder', home) == 1005
    assert len(stored_files(root)) == len(before)
    assert_error(server.request(path, 'DELETE', user=other), 403)
    ok(server.request(path, 'DELETE', user=user))
    assert len(stored_files(root)) == len(before) - 1
    assert size_of(server, 'item', other_item) == 0


def test_a_file_moved_across_folders_moves_its_size(server, user, other, item):
    home = home_folder(server, user)
    elsewhere = make_folder(server, user, home, 'elsewhere')
    target = make_item(server, user, elsewhere, 'target')
    f = upload(server, user, item, b'z' * 300, 'z.bin')
    path = 'file/%s/move' % f['_id']
    # no write access on the file: refused, nothing moves
    assert_error(server.request(path, 'PUT', user=other, params={'itemId': target['_id']}), 403)
    assert size_of(server, 'item', item) == 300 and size_of(server, 'folder', elsewhere) == 0
    moved = ok(server.request(path, 'PUT', user=user, params={'itemId': target['_id']}))
    assert moved['itemId'] == target['_id']
    assert size_of(server, 'item', item) == 0 and size_of(server, 'item', target) == 300
    assert size_of(server, 'folder', elsewhere) == 300 and size_of(server, 'folder', home) == 300
    # moving it to the item it is in changes nothing
    ok(server.request(path, 'PUT', user=user, params={'itemId': target['_id']}))
    assert size_of(server, 'item', target) == 300 and size_of(server, 'folder', elsewhere) == 300


def unzip(resp):
    assert resp.status == 200 and resp.headers['Content-Type'] == 'application/zip'
    with zipfile.ZipFile(io.BytesIO(resp.body)) as archive:
        assert archive.testzip() is None
        return {n: archive.read(n) for n in archive.namelist() if not n.endswith('/')}


def test_zip_downloads_of_folders_items_and_resource_sets(server, user, other):
    top = make_folder(server, user, home_folder(server, user), 'case')
    sub = make_folder(server, user, top, 'sub')
    make_folder(server, user, top, 'empty')
    one = make_item(server, user, top, 'single.bin')
    single = os.urandom(5000)
    upload(server, user, one, single, 'single.bin')
    many = make_item(server, user, sub, 'pair')
    a, b = os.urandom(3000), os.urandom(70000)
    upload(server, user, many, a, 'a.bin')
    upload(server, user, many, b, 'b.bin')
    expected = {'case/single.bin': single, 'case/sub/pair/a.bin': a, 'case/sub/pair/b.bin': b}
    resp = server.request('folder/%s/download' % top['_id'], user=user)
    assert resp.headers['Content-Disposition'].startswith('attachment; filename="case.zip"')
    assert unzip(resp) == expected
    with zipfile.ZipFile(io.BytesIO(resp.body)) as archive:
        assert 'case/empty/' in archive.namelist()
    assert unzip(server.request('item/%s/download' % many['_id'], user=user)) == {
        'pair/a.bin': a, 'pair/b.bin': b}
    assert unzip(server.request('item/%s/download' % one['_id'], user=user,
                                params={'format': 'zip'})) == {'single.bin/single.bin': single}
    mixed = {'item': [many['_id']], 'folder': [sub['_id']]}
    assert unzip(server.request('resource/download', user=user, params={
        'resources': mixed})) == {'pair/a.bin': a, 'pair/b.bin': b, 'sub/pair/a.bin': a,
                                  'sub/pair/b.bin': b}
    assert unzip(server.request('resource/download', 'POST', user=user, params={
        'resources': {'item': [one['_id']]}})) == {'single.bin': single}
    assert_error(server.request('resource/download', user=other, params={
        'resources': mixed}), 403)
    assert_error(server.request('resource/download', user=user, params={
        'resources': {'file': [one['_id']]}}), 400, contains='invalid resource type')
    assert_error(server.request('folder/%s/download' % top['_id']), 401)
    cookie = server.token_for(user)
    assert unzip(server.request('folder/%s/download' % top['_id'], cookie=cookie)) == expected
    # includeMetadata adds Girder's metadata files (and gives an item its own folder)
    server.request('folder/%s/metadata' % sub['_id'], 'PUT', user, body={'stain': 'HE'})
    server.request('item/%s/metadata' % one['_id'], 'PUT', user, body={'score': 3})
    got = unzip(server.request('resource/download', user=user, params={
        'resources': {'folder': [top['_id']]}, 'includeMetadata': True}))
    assert json.loads(got.pop('case/sub/girder-folder-metadata.json')) == {'stain': 'HE'}
    assert json.loads(got.pop('case/single.bin/girder-item-metadata.json')) == {'score': 3}
    assert got == {'case/single.bin/single.bin': single, 'case/sub/pair/a.bin': a,
                   'case/sub/pair/b.bin': b}


def test_duplicate_zip_paths_get_numbered():
    entries = [('a/x.txt', 1, lambda: iter([b'1'])), ('a/x.txt', 1, lambda: iter([b'2'])),
               ('a/x.txt', 1, lambda: iter([b'3'])), ('noext', 1, lambda: iter([b'4'])),
               ('noext', 1, lambda: iter([b'5']))]
    data = b''.join(downloads.zip_stream(iter(entries)))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.namelist() == ['a/x.txt', 'a/x (1).txt', 'a/x (2).txt', 'noext', 'noext (1)']
        assert z.read('a/x (2).txt') == b'3' and z.read('noext (1)') == b'5'
