"""girder-client from PyPI, unmodified, against a running Tilery."""
import hashlib
import os
import subprocess
import sys

import girder_client
import pytest
import requests

MIB = 1024 * 1024


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for block in iter(lambda: fh.read(4 * MIB), b''):
            h.update(block)
    return h.hexdigest()


def tree_hashes(root):
    out = {}
    for base, _, files in os.walk(root):
        for name in files:
            path = os.path.join(base, name)
            out[os.path.relpath(path, root)] = sha256(path)
    return out


@pytest.fixture
def private_folder(gc):
    me = gc.get('user/me')
    return next(gc.listFolder(me['_id'], 'user', name='Private'))


def test_version_login_and_bad_password(bound_server, admin, gc):
    assert int(gc.getServerVersion()[0]) >= 3
    assert gc.get('user/me')['login'] == 'admin'
    bad = girder_client.GirderClient(apiUrl=bound_server.api_url)
    with pytest.raises(girder_client.AuthenticationError):
        bad.authenticate('admin', 'wrong-password')


def test_api_key_login(bound_server, gc):
    key = gc.post('api_key', parameters={'name': 'script'})
    client = girder_client.GirderClient(apiUrl=bound_server.api_url)
    client.authenticate(apiKey=key['key'])
    assert client.get('user/me')['login'] == 'admin'
    gc.delete('api_key/%s' % key['_id'])
    with pytest.raises(girder_client.HttpError) as err:
        girder_client.GirderClient(apiUrl=bound_server.api_url).authenticate(apiKey=key['key'])
    assert err.value.status == 401


def test_folders_items_metadata_lookup_and_paging(gc, private_folder):
    parent = gc.createFolder(private_folder['_id'], 'project', description='d')
    again = gc.createFolder(private_folder['_id'], 'project', reuseExisting=True)
    assert again['_id'] == parent['_id']
    with pytest.raises(girder_client.HttpError) as err:
        gc.createFolder(private_folder['_id'], 'project')
    assert err.value.status == 400 and 'already exists' in err.value.responseText
    for i in range(125):
        gc.createItem(parent['_id'], 'item-%03d' % i)
    for i in range(123):
        gc.createFolder(parent['_id'], 'sub-%03d' % i, parentType='folder')
    items = list(gc.listItem(parent['_id']))
    assert [i['name'] for i in items] == ['item-%03d' % i for i in range(125)]
    folders = list(gc.listFolder(parent['_id']))
    assert len(folders) == 123 and len({f['_id'] for f in folders}) == 123
    item = gc.addMetadataToItem(items[3]['_id'], {'stain': 'H&E', 'score': 3})
    assert item['meta'] == {'stain': 'H&E', 'score': 3}
    item = gc.addMetadataToItem(items[3]['_id'], {'score': None})
    assert item['meta'] == {'stain': 'H&E'}
    found = gc.resourceLookup('/user/admin/Private/project/item-003')
    assert found['_id'] == items[3]['_id'] and found['_modelType'] == 'item'
    with pytest.raises(girder_client.HttpError) as err:
        gc.resourceLookup('/user/admin/Private/project/nope')
    assert err.value.status == 400


def test_upload_tree_and_download_recursive(gc, private_folder, tmp_path):
    src = tmp_path / 'src'
    (src / 'nested' / 'deeper').mkdir(parents=True)
    with open(src / 'big.bin', 'wb') as fh:
        for _ in range(205):
            fh.write(os.urandom(MIB))
    for i in range(40):
        (src / 'nested' / ('small-%02d.txt' % i)).write_bytes(os.urandom(i * 37))
    (src / 'nested' / 'deeper' / 'empty.dat').write_bytes(b'')
    dest = gc.createFolder(private_folder['_id'], 'uploaded')
    gc.upload(str(src / '*'), dest['_id'])
    out = tmp_path / 'out'
    gc.downloadFolderRecursive(dest['_id'], str(out))
    assert tree_hashes(out) == tree_hashes(src)


def test_interrupted_upload_resumes(bound_server, gc, private_folder, tmp_path):
    data = os.urandom(12 * MIB + 12345)
    item = gc.createItem(private_folder['_id'], 'resumable')
    upload = gc.post('file', parameters={'parentType': 'item', 'parentId': item['_id'],
                                         'name': 'data.bin', 'size': len(data)})
    gc.post('file/chunk', parameters={'uploadId': upload['_id'], 'offset': 0},
            data=data[:6 * MIB])
    # a wrong offset is refused and changes nothing
    with pytest.raises(girder_client.HttpError) as err:
        gc.post('file/chunk', parameters={'uploadId': upload['_id'], 'offset': 5},
                data=data[5:6 * MIB])
    assert err.value.status == 400
    # the connection drops mid-chunk: the server keeps only whole chunks
    with pytest.raises(requests.RequestException):
        def broken():
            yield data[6 * MIB:7 * MIB]
            raise IOError('network went away')
        requests.post(bound_server.api_url + '/file/chunk', params={
            'uploadId': upload['_id'], 'offset': 6 * MIB}, data=broken(),
            headers={'Girder-Token': gc.token, 'Content-Length': str(6 * MIB)}, timeout=30)
    offset = gc.get('file/offset', parameters={'uploadId': upload['_id']})['offset']
    assert offset == 6 * MIB
    assert gc.get('item/%s/files' % item['_id']) == []
    done = gc.post('file/chunk', parameters={'uploadId': upload['_id'], 'offset': offset},
                   data=data[offset:])
    assert done['size'] == len(data)
    assert done['sha512'] == hashlib.sha512(data).hexdigest()
    path = tmp_path / 'back.bin'
    gc.downloadFile(done['_id'], str(path))
    assert path.read_bytes() == data


def test_cli_upload_with_api_key(bound_server, gc, private_folder, tmp_path):
    key = gc.post('api_key', parameters={'name': 'cli'})
    src = tmp_path / 'cli'
    src.mkdir()
    for i in range(5):
        (src / ('f%d.txt' % i)).write_text('hello %d' % i)
    dest = gc.createFolder(private_folder['_id'], 'cli-dest')
    exe = os.path.join(os.path.dirname(sys.executable), 'girder-client')
    proc = subprocess.run([exe, '--api-url', bound_server.api_url, '--api-key', key['key'],
                           'upload', dest['_id'], str(src)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    sub = next(gc.listFolder(dest['_id'], name='cli'))
    names = sorted(i['name'] for i in gc.listItem(sub['_id']))
    assert names == ['f%d.txt' % i for i in range(5)]
