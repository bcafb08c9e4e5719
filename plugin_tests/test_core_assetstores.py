"""Assetstores: admin management, GridFS uploads with resume, filesystem import in place."""
import hashlib
import os
import uuid

import pytest
from bson import ObjectId

from test_core_support import (assert_error, home_folder, make_folder, make_item, ok,
                               raw_request, size_of, store_root, stored_files)
from tilery.assetstores.gridfs import CHUNK_SIZE

MIB = 1024 * 1024


def test_assetstore_management(server, admin, user, tmp_path):
    listed = ok(server.request('assetstore', user=admin))
    assert len(listed) == 1 and listed[0]['current'] is True and listed[0]['type'] == 0
    assert listed[0]['capacity']['total'] > 0
    assert_error(server.request('assetstore', user=user), 403)
    for params, field in (({'name': 'rel', 'type': 0, 'root': 'relative/dir'}, 'root'),
                          ({'name': listed[0]['name'], 'type': 0,
                            'root': str(tmp_path / 'x')}, 'name'),
                          ({'name': 'g', 'type': 1}, 'db')):
        assert_error(server.request('assetstore', 'POST', user=admin, params=params), 400,
                     'validation', field=field)
    assert_error(server.request('assetstore', 'POST', user=admin, params={
        'name': 's3', 'type': 2}), 400, contains='allowed values')
    second = ok(server.request('assetstore', 'POST', user=admin, params={
        'name': 'second', 'type': 0, 'root': str(tmp_path / 'second')}))
    assert second['current'] is False and os.path.isdir(tmp_path / 'second')
    path = 'assetstore/%s' % second['_id']
    assert ok(server.request(path, 'PUT', user=admin, params={'current': True}))['current']
    assert server.app.models.assetstore.current()['_id'] == ObjectId(second['_id'])
    assert_error(server.request(path, 'PUT', user=admin, params={'root': 'not/absolute'}),
                 400, 'validation', field='root')
    assert server.app.models.assetstore.load(second['_id'])['root'] == str(tmp_path / 'second')
    item = make_item(server, user, home_folder(server, user), 'x')
    f = ok(server.request('file', 'POST', user=user, body=b'data', params={
        'parentType': 'item', 'parentId': item['_id'], 'name': 'x', 'size': 4}))
    assert f['assetstoreId'] == second['_id']
    assert_error(server.request(path, 'DELETE', user=admin), 400, contains='still holds files')
    ok(server.request('file/%s' % f['_id'], 'DELETE', user=user))
    ok(server.request(listed[0] and 'assetstore/%s' % listed[0]['_id'], 'PUT', user=admin,
                      params={'current': True}))
    ok(server.request(path, 'DELETE', user=admin))
    assert_error(server.request(path, user=admin), 400, contains='invalid assetstore id')


@pytest.fixture
def gridfs_store(server, admin, mongo_client):
    name = 'test_gridfs_%s' % uuid.uuid4().hex[:10]
    store = ok(server.request('assetstore', 'POST', user=admin, params={
        'name': 'grid', 'type': 1, 'db': name}))
    yield store, mongo_client[name]['gridfs_chunk']
    mongo_client.drop_database(name)


def test_gridfs_upload_resume_download_and_delete(server, admin, gridfs_store):
    store, chunks = gridfs_store
    folder = make_folder(server, admin, home_folder(server, admin), 'grid')
    item = make_item(server, admin, folder, 'slide')
    data = os.urandom(2 * CHUNK_SIZE + 12345)
    up = ok(server.request('file', 'POST', user=admin, params={
        'parentType': 'item', 'parentId': item['_id'], 'name': 'slide.bin',
        'size': len(data), 'assetstoreId': store['_id']}))
    first = CHUNK_SIZE + 1000  # ends inside the second stored chunk
    ok(server.request('file/chunk', 'POST', user=admin, body=data[:first], params={
        'uploadId': up['_id'], 'offset': 0}))
    stored_before = sorted((c['n'], bytes(c['data'])) for c in chunks.find({}))
    # the connection drops half-way through the next request
    dropped = raw_request(server, 'POST', 'file/chunk', 'uploadId=%s&offset=%d' % (
        up['_id'], first), user=admin, body=data[first:first + CHUNK_SIZE],
        declared=len(data) - first)
    assert_error(dropped, 400, contains='ended early')
    assert ok(server.request('file/offset', user=admin, params={
        'uploadId': up['_id']})) == {'offset': first}
    assert sorted((c['n'], bytes(c['data'])) for c in chunks.find({})) == stored_before
    assert server.app.models.file.count({}) == 0
    done = ok(server.request('file/chunk', 'POST', user=admin, body=data[first:], params={
        'uploadId': up['_id'], 'offset': first}))
    assert done['assetstoreId'] == store['_id'] and done['size'] == len(data)
    assert done['sha512'] == hashlib.sha512(data).hexdigest()
    assert chunks.count_documents({}) == 3
    assert stored_files(store_root(server)) == set()
    path = 'file/%s/download' % done['_id']
    assert server.request(path, user=admin).body == data
    lo, hi = CHUNK_SIZE - 10, 2 * CHUNK_SIZE + 10
    part = server.request(path, user=admin, headers={'Range': 'bytes=%d-%d' % (lo, hi - 1)})
    assert part.status == 206 and part.body == data[lo:hi]
    copy = ok(server.request('item/%s/copy' % item['_id'], 'POST', user=admin))
    assert chunks.count_documents({}) == 6 and copy['size'] == len(data)
    ok(server.request('folder/%s' % folder['_id'], 'DELETE', user=admin))
    assert chunks.count_documents({}) == 0
    # a cancelled GridFS upload frees its chunks too
    item = make_item(server, admin, home_folder(server, admin), 'again')
    up = ok(server.request('file', 'POST', user=admin, params={
        'parentType': 'item', 'parentId': item['_id'], 'name': 'x', 'size': 10,
        'assetstoreId': store['_id']}))
    ok(server.request('file/chunk', 'POST', user=admin, body=b'12345', params={
        'uploadId': up['_id'], 'offset': 0}))
    assert chunks.count_documents({}) == 1
    ok(server.request('file/upload/%s' % up['_id'], 'DELETE', user=admin))
    assert chunks.count_documents({}) == 0


@pytest.fixture
def import_tree(tmp_path):
    """A server folder with nested files, plus a folder outside the allowed root."""
    allowed = tmp_path / 'slides'
    (allowed / 'case1' / 'scans').mkdir(parents=True)
    (allowed / 'case1' / 'a.svs').write_bytes(b'A' * 1000)
    (allowed / 'case1' / 'scans' / 'b.tif').write_bytes(b'B' * 2000)
    (allowed / 'case1' / 'scans' / 'skip.tmp').write_bytes(b'junk')
    (allowed / 'top.txt').write_bytes(b'top')
    outside = tmp_path / 'secrets'
    outside.mkdir()
    (outside / 'passwd').write_bytes(b'root')
    os.symlink(outside, allowed / 'escape')
    os.symlink(outside / 'passwd', allowed / 'case1' / 'leak.txt')
    return allowed, outside


def test_import_in_place_within_allowed_roots(server, admin, user, import_tree):
    allowed, outside = import_tree
    server.app.settings.import_roots = (str(allowed),)
    store = server.app.models.assetstore.current()
    dest = make_folder(server, admin, home_folder(server, admin), 'imported')
    path = 'assetstore/%s/import' % store['_id']

    def run(import_path, who=admin, **params):
        return server.request(path, 'POST', user=who, params=dict(
            importPath=import_path, destinationId=dest['_id'], **params))
    assert_error(run(str(allowed), who=user), 403)
    for bad, status, message in ((str(outside), 403, 'outside the allowed import roots'),
                                 (str(allowed / 'escape'), 403, 'outside'),
                                 (str(allowed / '..' / 'secrets'), 403, 'outside'),
                                 ('relative/path', 400, 'absolute path'),
                                 (str(allowed / 'missing'), 400, 'does not exist')):
        assert_error(run(bad), status, contains=message)
    assert_error(run(str(allowed), fileExcludeRegex='(['), 400, contains='regular expression')
    models = server.app.models
    assert models.item.count({'folderId': ObjectId(dest['_id'])}) == 0
    assert models.folder.count({'parentId': ObjectId(dest['_id'])}) == 0
    counts = ok(run(str(allowed), fileExcludeRegex=r'\.tmp$'))
    # the symlinks that lead outside the root are not followed
    assert counts == {'folders': 2, 'items': 3, 'files': 3, 'skipped': 1}
    assert models.item.count({'name': 'leak.txt'}) == 0
    assert stored_files(store_root(server)) == set()  # nothing was copied
    found = ok(server.request('resource/lookup', user=admin, params={
        'path': '/user/admin/Private/imported/case1/scans/b.tif'}))
    files = ok(server.request('item/%s/files' % found['_id'], user=admin))
    assert [(f['name'], f['size'], f.get('imported')) for f in files] == [
        ('b.tif', 2000, True)]
    assert 'path' not in files[0]
    assert server.request('file/%s/download' % files[0]['_id'], user=admin).body == b'B' * 2000
    assert size_of(server, 'folder', dest) == 3003
    assert ok(run(str(allowed), fileExcludeRegex=r'\.tmp$'))['files'] == 0  # again: skipped
    ok(server.request('folder/%s' % dest['_id'], 'DELETE', user=admin))
    assert (allowed / 'case1' / 'scans' / 'b.tif').read_bytes() == b'B' * 2000
    assert (allowed / 'case1' / 'a.svs').exists()


def test_import_refuses_gridfs_and_imports_leaf_folders_as_items(server, admin, gridfs_store,
                                                                  import_tree):
    allowed, _ = import_tree
    store, _ = gridfs_store
    dest = make_folder(server, admin, home_folder(server, admin), 'leaves')
    assert_error(server.request('assetstore/%s/import' % store['_id'], 'POST', user=admin,
                                params={'importPath': str(allowed), 'destinationId': dest['_id']}),
                 400, contains='only filesystem assetstores')
    local = server.app.models.assetstore.find_one({'type': 0})
    counts = ok(server.request('assetstore/%s/import' % local['_id'], 'POST', user=admin,
                               params={'importPath': str(allowed / 'case1'),
                                       'destinationId': dest['_id'],
                                       'leafFoldersAsItems': True,
                                       'fileIncludeRegex': r'\.(svs|tif)$'}))
    assert counts['files'] == 2
    scans = server.app.models.item.find_one({'folderId': ObjectId(dest['_id']),
                                             'name': 'scans'})
    assert [f['name'] for f in server.app.models.file.find({'itemId': scans['_id']})] == [
        'b.tif']
    assert server.app.models.folder.count({'parentId': ObjectId(dest['_id'])}) == 0
