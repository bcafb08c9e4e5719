"""Chunked, resumable uploads: bytes go to the assetstore, a file appears only when complete."""
import collections
import mimetypes
import os
import threading

import cachetools
from bson import ObjectId

from ..errors import AccessError, RestError
from ..models.base import now


class UploadService:
    """Starts, receives, resumes, cancels and finishes uploads."""

    def __init__(self, app):
        self.app = app
        self.models = app.models
        # upload id -> (received, sha512 state): a resumed upload need not re-hash its bytes
        self._hashers = cachetools.LRUCache(max(1, app.settings.upload_hasher_cache_size))
        self._locks = collections.defaultdict(threading.Lock)
        self._lock = threading.Lock()

    def start(self, user, parent, parent_type, name, size, mime_type=None, reference=None,
              replace_file=None, assetstore=None):
        """Record a new upload (into an item, a folder, or replacing a file's contents)."""
        if size < 0:
            raise RestError('Upload size must not be negative.')
        limit = self.app.settings.max_upload_size
        if limit and size > limit:
            raise RestError('The file is too large (%d bytes; this server accepts up to %d).' % (
                size, limit), 413)
        assetstore = assetstore or self.models.assetstore.current()
        upload = {
            'name': name, 'size': size, 'received': 0, 'userId': user['_id'],
            'parentType': parent_type, 'parentId': parent['_id'] if parent else None,
            'mimeType': mime_type or mimetypes.guess_type(name)[0] or
            'application/octet-stream', 'assetstoreId': assetstore['_id'],
            'created': now(), 'updated': now(), 'reference': reference,
        }
        if replace_file is not None:
            upload['fileId'] = replace_file['_id']
        # the id comes first so the record is written once, with the adapter's fields
        # (each journaled write is a disk flush on the database server)
        upload['_id'] = ObjectId()
        self.models.assetstore.adapter(assetstore).init_upload(upload)
        return self.models.upload.insert(upload)

    def load_own(self, upload_id, user):
        """The upload with this id, if it belongs to ``user`` (admins may touch any)."""
        upload = self.models.upload.load(upload_id)
        if upload['userId'] != user['_id'] and not user.get('admin'):
            raise AccessError('You did not start this upload.')
        return upload

    def _hasher(self, upload, adapter):
        key = upload['_id']
        with self._lock:
            cached = self._hashers.pop(key, None)
        if cached is not None and cached[0] == upload['received']:
            return cached[1]
        hasher = adapter.new_hasher()  # resumed in another process or after a restart
        for data in adapter.read_upload(upload, upload['received']):
            hasher.update(data)
        return hasher

    def receive(self, upload, chunks, offset):
        """Append one chunk at ``offset``; return the finished file or the updated upload."""
        with self._locks[upload['_id']]:
            upload = self.models.upload.load(upload['_id'])
            if offset != upload['received']:
                raise RestError(
                    'Server has received %d bytes, but client sent offset %d.' % (
                        upload['received'], offset))
            adapter = self.models.assetstore.adapter(
                self.models.assetstore.load(upload['assetstoreId']))
            hasher = self._hasher(upload, adapter)
            snapshot = hasher.copy()
            try:
                written = adapter.write_chunk(upload, chunks, hasher)
            except BaseException:
                self._remember(upload['_id'], upload['received'], snapshot)
                raise
            # the record must still be at this chunk's offset: a cancel (which does not
            # wait for chunks under way) may have removed it, or another server process
            # stored a chunk at the same offset
            still = {'_id': upload['_id'], 'received': upload['received']}
            upload['received'] += written
            upload['updated'] = now()
            records = self.models.upload.collection
            if upload['received'] >= upload['size']:
                # the last chunk claims the upload by deleting its record, the write
                # finishing did anyway; a cancel from now on finds nothing to cancel
                if not records.delete_one(still).deleted_count:
                    self._refuse_moved(upload, adapter)
                try:
                    return self.finish(upload, hasher, adapter, claimed=True)
                except BaseException:
                    adapter.cancel_upload(upload)  # no record is left to clean it up
                    raise
            if not records.update_one(still, {'$set': {
                    'received': upload['received'], 'updated': upload['updated']}}).matched_count:
                self._refuse_moved(upload, adapter)
            self._remember(upload['_id'], upload['received'], hasher)
            return upload

    def _refuse_moved(self, upload, adapter):
        """The chunk just written no longer belongs to the upload: say why."""
        self._forget(upload['_id'])
        if self.models.upload.find_one({'_id': upload['_id']}, {'_id': 1}) is None:
            adapter.cancel_upload(upload)  # the bytes may have re-made the temporary file
            raise RestError('The upload was canceled while this chunk was being sent.', 400)
        raise RestError('Another chunk of this upload arrived at the same time; ask for the '
                        'offset and resume.', 409)

    def _remember(self, key, received, hasher):
        with self._lock:
            self._hashers[key] = (received, hasher)

    def finish(self, upload, hasher=None, adapter=None, claimed=False):
        """Make (or replace) the file from a complete upload."""
        adapter = adapter or self.models.assetstore.adapter(
            self.models.assetstore.load(upload['assetstoreId']))
        if hasher is None:
            hasher = self._hasher(upload, adapter)
        files, items = self.models.file, self.models.item
        old, item, new_item = self._destination(upload)
        file = {'_id': old['_id'] if old else None, 'name': old['name'] if old else upload['name'],
                'itemId': item['_id'], 'size': upload['size'], 'mimeType': upload['mimeType'],
                'assetstoreId': upload['assetstoreId'], 'creatorId': upload['userId'],
                'created': old['created'] if old else now(), 'updated': now(),
                'sha512': hasher.hexdigest(), 'exts': _extensions(upload['name'])}
        if old is None:
            file['_id'] = ObjectId()
        else:
            adapter_old = files.adapter(old)
        adapter.finalize_upload(upload, file)
        if old is None:
            files.collection.insert_one(file)
        else:
            files.collection.replace_one({'_id': file['_id']}, file, upsert=True)
        if not claimed:
            self.models.upload.collection.delete_one({'_id': upload['_id']})
        self._forget(upload['_id'])
        if old is not None:
            if old.get('path') != file.get('path') or old.get('chunkUuid') != file.get(
                    'chunkUuid') or old['assetstoreId'] != file['assetstoreId']:
                adapter_old.delete_file(old)
            items.adjust_size(item['_id'], file['size'] - old.get('size', 0), touch=True)
        elif not new_item:
            items.adjust_size(item['_id'], file['size'], touch=True)
        self.app.events.emit('model.file.finalized', {
            'file': file, 'item': item, 'upload': upload, 'replaced': old})
        return file

    def _destination(self, upload):
        """(the file it replaces or None, its item, whether that item is new)."""
        items = self.models.item
        if upload.get('fileId'):
            old = self.models.file.load(upload['fileId'])
            return old, items.load(old['itemId']), False
        if upload['parentType'] == 'folder':
            # the new item is written with its size at once (no later size update)
            folder = self.models.folder.load(upload['parentId'])
            return None, items.create(upload['name'], folder, {'_id': upload['userId']},
                                      size=upload['size']), True
        return None, items.load(upload['parentId']), False

    def cancel(self, upload):
        """Drop an upload and its bytes; False when its last chunk already claimed it."""
        # the record first: a chunk under way then sees it gone and stops
        if not self.models.upload.collection.delete_one({'_id': upload['_id']}).deleted_count:
            return False
        adapter = self.models.assetstore.adapter(
            self.models.assetstore.load(upload['assetstoreId']))
        adapter.cancel_upload(upload)
        self._forget(upload['_id'])
        return True

    def _forget(self, upload_id):
        with self._lock:
            self._hashers.pop(upload_id, None)
            self._locks.pop(upload_id, None)

    def add_local_file(self, item, path, name, creator, mime_type=None, move=False):
        """Store the file at ``path`` as a new file of ``item`` (used by conversions)."""
        size = os.path.getsize(path)
        upload = self.start(creator, item, 'item', name, size, mime_type)
        if size == 0:
            return self.finish(upload)
        with open(path, 'rb', buffering=0) as source:  # read with readinto, in large blocks
            result = self.receive(upload, source, 0)
        if move:
            try:
                os.unlink(path)
            except OSError:
                pass
        return result

    def cancel_for_parents(self, parent_ids):
        """Cancel uploads aimed at folders or items that are being deleted."""
        for start in range(0, len(parent_ids), 500):
            for upload in self.models.upload.find(
                    {'parentId': {'$in': list(parent_ids[start:start + 500])}}):
                self.cancel(upload)

    def cleanup_stale(self, older_than):
        """Cancel uploads not touched since ``older_than`` (a datetime)."""
        for upload in self.models.upload.find({'updated': {'$lt': older_than}}):
            self.cancel(upload)


def _extensions(name):
    parts = name.split('.')
    return [p.lower() for p in parts[1:]] if len(parts) > 1 else []
