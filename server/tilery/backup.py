"""``tilery backup`` and ``tilery restore``: a consistent copy of the database and the
filesystem assetstores, taken while Tilery runs.

Why the copy is consistent:

- The database is copied at one point in time: the embedded SecantusDB checkpoints and
  archives its storage in one command (``secantusAdmin.backupArchive``; it holds the
  database for that moment, under a second for a small lab's metadata); a MongoDB
  replica set is read in a snapshot session. (A standalone mongod has no snapshots: its
  collections are read one after the other, and the backup says so.)
- Stored files never change once complete (an upload writes its bytes, then the file
  document), and they are deleted only after their document. So every file present
  *before* the database copy is linked (or copied) first, which keeps what a later
  delete removes; files that appeared between the two steps are copied after the
  database copy, from the file documents read then.
- ``restore`` keeps the files the restored database refers to, drops the others and the
  unfinished uploads (their partial bytes are not copied), points the assetstores at the
  new data directory, and reports any file whose bytes are missing.
"""
import datetime
import json
import logging
import os
import shutil
import tarfile

import bson
import pymongo.errors
from bson import json_util

from . import database
from .assetstores import FILESYSTEM

log = logging.getLogger(__name__)

MANIFEST = 'manifest.json'
ARCHIVE = 'database.tar.gz'  # the embedded database's own archive
DUMP = 'dump'  # a MongoDB database: one BSON file and one index list per collection
FILES = 'files'  # <assetstore id>/<path inside the assetstore>
BATCH = 1000


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


def _link_or_copy(src, dest):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    try:
        os.link(src, dest)  # same filesystem: instant, and immune to a later delete
    except OSError:
        shutil.copy2(src, dest)


def _inside(root, rel):
    """``root``/``rel``, or None when ``rel`` would lead out of ``root``."""
    path = os.path.normpath(os.path.join(root, rel))
    return path if path.startswith(os.path.normpath(root) + os.sep) else None


def _filesystem_assetstores(db):
    return list(db.assetstore.find({'type': FILESYSTEM}))


def _stored_files(db, assetstores):
    """(assetstore id, relative path) of every complete file kept in ``assetstores``."""
    ids = [a['_id'] for a in assetstores]
    for doc in db.file.find({'assetstoreId': {'$in': ids}, 'imported': {'$ne': True},
                             'path': {'$exists': True}}, {'assetstoreId': 1, 'path': 1}):
        yield doc['assetstoreId'], doc['path']


class Source:
    """The database to back up: the running embedded one of a data directory (found by
    its pid file; started for the backup when Tilery is stopped), or a MongoDB URI."""

    def __init__(self, data_dir=None, mongo_uri=None, database_name='tilery'):
        self.embedded = None
        if mongo_uri:
            self.uri, self.kind = mongo_uri, 'dump'
        else:
            path = os.path.join(os.path.abspath(data_dir), 'db')
            info = database.running_database(path)
            if info is None:
                if not os.path.isdir(os.path.join(path, 'db')):
                    raise BackupError('No database under %s.' % data_dir)
                self.embedded = database.EmbeddedDatabase(path).start()
                self.uri = self.embedded.uri
            else:
                self.uri = 'mongodb://%s:%d/?directConnection=true' % (
                    info['host'], info['port'])
            self.kind = 'archive'
        self.client = database.connect(self.uri)
        self.db = database.database_from_uri(self.client, self.uri, database_name)

    def close(self):
        self.client.close()
        if self.embedded is not None:
            self.embedded.stop()


def backup(target, data_dir=None, mongo_uri=None, database_name='tilery'):
    """Write a backup into the new directory ``target``; its manifest."""
    target = os.path.abspath(target)
    if os.path.exists(target) and os.listdir(target):
        raise BackupError('%s is not empty: back up into a new directory.' % target)
    os.makedirs(target, exist_ok=True)
    source = Source(data_dir, mongo_uri, database_name)
    try:
        assetstores = _filesystem_assetstores(source.db)
        roots = {a['_id']: a['root'] for a in assetstores}
        # 1. every complete file there now (a later delete cannot take it from us)
        staged = set()
        for asid, rel in _stored_files(source.db, assetstores):
            src = os.path.join(roots[asid], rel)
            if os.path.isfile(src):
                _link_or_copy(src, os.path.join(target, FILES, str(asid), rel))
                staged.add((asid, rel))
        # 2. the database, at one point in time
        started = datetime.datetime.now(datetime.timezone.utc)
        if source.kind == 'archive':
            source.client.admin.command('secantusAdmin.backupArchive',
                                        outputPath=os.path.join(target, ARCHIVE))
            point_in_time = True
        else:
            point_in_time = _dump(source.client, source.db, os.path.join(target, DUMP))
        held = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
        # 3. files that appeared meanwhile
        late = 0
        for asid, rel in _stored_files(source.db, assetstores):
            src = os.path.join(roots.get(asid, ''), rel)
            if (asid, rel) not in staged and os.path.isfile(src):
                _link_or_copy(src, os.path.join(target, FILES, str(asid), rel))
                late += 1
        manifest = {
            'format': 1, 'created': started.isoformat(), 'database': source.kind,
            'databaseName': source.db.name, 'pointInTime': point_in_time,
            'databaseSeconds': round(held, 3), 'files': len(staged) + late,
            'assetstores': [{'id': str(a['_id']), 'name': a.get('name'),
                             'root': a['root']} for a in assetstores]}
        with open(os.path.join(target, MANIFEST), 'w') as fh:
            json.dump(manifest, fh, indent=1)
        return manifest
    finally:
        source.close()


def _dump(client, db, path):
    """Every collection as BSON plus its indexes; whether it was one snapshot."""
    os.makedirs(path)
    names = db.list_collection_names()
    session = _snapshot_session(client, db, names)
    try:
        for name in names:
            with open(os.path.join(path, name + '.bson'), 'wb') as fh:
                for doc in db[name].find({}, session=session, batch_size=BATCH):
                    fh.write(bson.encode(doc))
            indexes = [dict(ix) for ix in db[name].list_indexes() if ix['name'] != '_id_']
            with open(os.path.join(path, name + '.indexes.json'), 'w') as fh:
                fh.write(json_util.dumps(indexes))
    finally:
        if session is not None:
            session.end_session()
    return session is not None


def _snapshot_session(client, db, names):
    """A session reading every collection at one point in time, or None without one."""
    session = client.start_session(snapshot=True)
    try:
        db[names[0] if names else 'file'].find_one({}, session=session)
        return session
    except pymongo.errors.OperationFailure:  # a standalone server: no snapshots
        session.end_session()
        log.warning('This MongoDB has no snapshot reads (not a replica set): collections '
                    'are copied one after the other, not at one point in time.')
        return None


def restore(source, data_dir, mongo_uri=None, database_name=None):
    """Bring the backup in ``source`` back into the new data directory ``data_dir`` (and
    its database into ``mongo_uri`` when given); a summary of what was restored."""
    source, data_dir = os.path.abspath(source), os.path.abspath(data_dir)
    try:
        with open(os.path.join(source, MANIFEST)) as fh:
            manifest = json.load(fh)
    except (OSError, ValueError):
        raise BackupError('%s is not a Tilery backup (no readable %s).' % (source, MANIFEST))
    for part in ('db', 'assetstore'):
        if os.path.exists(os.path.join(data_dir, part)):
            raise BackupError('%s already holds a %s: restore into a new data directory.' % (
                data_dir, part))
    if manifest['database'] == 'archive' and mongo_uri:
        raise BackupError('This backup is of the embedded database: restore it without '
                          '--mongo-uri (into a data directory).')
    embedded = None
    if not mongo_uri:
        storage = os.path.join(data_dir, 'db', 'db')
        os.makedirs(storage)
        if manifest['database'] == 'archive':
            with tarfile.open(os.path.join(source, ARCHIVE)) as tar:
                tar.extractall(storage, filter='data')
        embedded = database.EmbeddedDatabase(os.path.join(data_dir, 'db')).start()
        uri = embedded.uri
    else:
        uri = mongo_uri
    client = database.connect(uri)
    try:
        db = database.database_from_uri(client, uri, database_name or
                                        manifest['databaseName'])
        if manifest['database'] == 'dump':
            if db.list_collection_names():
                raise BackupError('Database %s is not empty.' % db.name)
            _load_dump(db, os.path.join(source, DUMP))
        return _restore_files(db, source, data_dir, manifest)
    finally:
        client.close()
        if embedded is not None:
            embedded.stop()


def _load_dump(db, path):
    for entry in sorted(os.listdir(path)):
        if not entry.endswith('.bson'):
            continue
        name = entry[:-len('.bson')]
        with open(os.path.join(path, entry), 'rb') as fh:
            batch = []
            for doc in bson.decode_file_iter(fh):
                batch.append(doc)
                if len(batch) >= BATCH:
                    db[name].insert_many(batch)
                    batch = []
            if batch:
                db[name].insert_many(batch)
        with open(os.path.join(path, name + '.indexes.json')) as fh:
            for index in json_util.loads(fh.read()):
                keys = list(index.pop('key').items())
                index.pop('v', None)
                index.pop('ns', None)
                db[name].create_index(keys, **index)


def _restore_files(db, source, data_dir, manifest):
    """Copy each filesystem assetstore's files under ``data_dir``, point the assetstore
    there, and check that every file the database refers to has its bytes."""
    assetstores = _filesystem_assetstores(db)
    current = [a for a in assetstores if a.get('current')] or assetstores[:1]
    files = missing = 0
    for store in assetstores:
        root = os.path.join(data_dir, 'assetstore' if store in current[:1]
                            else 'assetstore-%s' % store['_id'])
        os.makedirs(root, exist_ok=True)
        db.assetstore.update_one({'_id': store['_id']}, {'$set': {'root': root}})
        for doc in db.file.find({'assetstoreId': store['_id'], 'imported': {'$ne': True},
                                 'path': {'$exists': True}}, {'path': 1, 'size': 1}):
            src = _inside(os.path.join(source, FILES, str(store['_id'])), doc['path'])
            if src and os.path.isfile(src) and os.path.getsize(src) == doc.get('size',
                                                                       os.path.getsize(src)):
                _link_or_copy(src, os.path.join(root, doc['path']))
                files += 1
            else:
                missing += 1
                log.error('File %s (%s) has no bytes in the backup.', doc['_id'], doc['path'])
    # unfinished uploads: their partial bytes were not copied, so they cannot resume
    uploads = db.upload.delete_many({}).deleted_count
    return {'database': db.name, 'files': files, 'missing': missing,
            'uploadsDropped': uploads, 'assetstores': len(assetstores),
            'pointInTime': manifest.get('pointInTime')}
