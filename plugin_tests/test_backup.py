"""tilery backup / tilery restore while the server takes uploads, with real processes."""
import hashlib
import json
import os
import subprocess
import threading

import requests

from tilery.database import free_port

from test_cli import TILERY
from test_recovery import first_admin, started, stop, upload


def tilery(*args):
    return subprocess.run([TILERY, *args], capture_output=True, text=True, timeout=300)


def uploads_during(api, token, work):
    """Upload files in a loop while ``work()`` runs: {name: sha256} and {name: file id}
    of those stored, and what ``work()`` returned."""
    stored, ids, done = {}, {}, threading.Event()

    def loop():
        i = 0
        while not done.is_set():
            data = os.urandom(1000 + 997 * i)
            name = 'f%03d.bin' % i
            ids[name] = upload(api, token, name, data)['_id']
            stored[name] = hashlib.sha256(data).hexdigest()
            i += 1
    thread = threading.Thread(target=loop)
    thread.start()
    try:
        while len(stored) < 5:  # some before the backup starts
            thread.join(0.05)
        result = work()
    finally:
        done.set()
        thread.join(60)
    return stored, ids, result


def every_file(api, token):
    """{name: sha256} of every file the server lists, downloaded."""
    headers = {'Girder-Token': token}
    me = requests.get(api + '/user/me', headers=headers).json()
    folder = requests.get(api + '/folder', headers=headers, params={
        'parentType': 'user', 'parentId': me['_id'], 'name': 'Private'}).json()[0]
    found = {}
    for item in requests.get(api + '/item', headers=headers, params={
            'folderId': folder['_id'], 'limit': 0}).json():
        for file in requests.get(api + '/item/%s/files' % item['_id'], headers=headers).json():
            r = requests.get(api + '/file/%s/download' % file['_id'], headers=headers)
            assert r.status_code == 200, r.text
            found[file['name']] = hashlib.sha256(r.content).hexdigest()
    return found


def test_backup_while_uploading_then_restore_into_a_new_data_dir(tmp_path):
    data_dir, backup_dir, new_dir = tmp_path / 'data', tmp_path / 'backup', tmp_path / 'new'
    proc, api = started(data_dir)
    try:
        token = first_admin(api)
        stored, ids, done = uploads_during(
            api, token, lambda: tilery('backup', str(backup_dir), '--data-dir', str(data_dir)))
        assert done.returncode == 0, done.stderr
        assert 'Backed up the database (archive' in done.stdout
        assert every_file(api, token) == stored
        # a file deleted after the backup is still in it (its bytes were linked first)
        headers = {'Girder-Token': token}
        file_id = ids['f000.bin']
        r = requests.delete(api + '/file/%s' % file_id, headers=headers)
        assert r.status_code == 200, r.text
        assert requests.get(api + '/file/%s/download' % file_id,
                            headers=headers).status_code == 400
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    manifest = json.loads((backup_dir / 'manifest.json').read_text())
    assert manifest['pointInTime'] and manifest['files'] >= 5
    done = tilery('restore', str(backup_dir), '--data-dir', str(new_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    # restoring over existing data is refused, and says why
    again = tilery('restore', str(backup_dir), '--data-dir', str(new_dir))
    assert again.returncode == 1 and 'restore into a new data directory' in again.stderr
    proc, api = started(new_dir)
    try:
        r = requests.get(api + '/user/authentication', auth=('first', 'password1'))
        token = r.json()['authToken']['token']
        restored = every_file(api, token)
        # what the backup saw: a prefix of the uploads, every one whole
        assert len(restored) >= 5 and all(stored[n] == h for n, h in restored.items())
        assert 'f000.bin' in restored
        assert manifest['files'] >= len(restored)
        assert str(new_dir) in requests.get(api + '/assetstore', headers={
            'Girder-Token': token}).json()[0]['root']
        # the new data directory takes new uploads
        upload(api, token, 'after.bin', b'after restore')
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out


def test_backup_and_restore_of_a_mongodb_database(tmp_path, mongo_uri, mongo_client):
    name = 'backup_%d' % free_port()
    uri = mongo_uri.replace('/?', '/%s?' % name)
    data_dir, backup_dir, new_dir = tmp_path / 'data', tmp_path / 'backup', tmp_path / 'new'
    restored_name = name + '_restored'
    proc, api = started(data_dir, '--mongo-uri', uri)
    try:
        token = first_admin(api)
        stored, ids, done = uploads_during(
            api, token, lambda: tilery('backup', str(backup_dir), '--mongo-uri', uri))
        assert done.returncode == 0, done.stderr
        stop(proc)
        restored_uri = mongo_uri.replace('/?', '/%s?' % restored_name)
        done = tilery('restore', str(backup_dir), '--data-dir', str(new_dir), '--mongo-uri',
                      restored_uri)
        assert done.returncode == 0, done.stdout + done.stderr
        # indexes came back too (a unique one refuses a second user of the same login)
        indexes = mongo_client[restored_name].user.index_information()
        assert any(ix.get('unique') for ix in indexes.values())
        proc, api = started(new_dir, '--mongo-uri', restored_uri)
        r = requests.get(api + '/user/authentication', auth=('first', 'password1'))
        restored = every_file(api, r.json()['authToken']['token'])
        assert len(restored) >= 5 and all(stored[n] == h for n, h in restored.items())
    finally:
        stop(proc)
        mongo_client.drop_database(name)
        mongo_client.drop_database(restored_name)


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    done = tilery('restore', str(tmp_path), '--data-dir', str(tmp_path / 'new'))
    assert done.returncode == 1 and 'is not a Tilery backup' in done.stderr
    assert 'Traceback' not in done.stderr
