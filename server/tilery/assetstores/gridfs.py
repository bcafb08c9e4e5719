"""Files stored as fixed-size chunk documents in MongoDB (Girder's GridFS assetstore)."""
import uuid

from bson.binary import Binary

from .base import AssetstoreAdapter, check_fits

CHUNK_SIZE = 2 * 1024 * 1024


class GridFsAdapter(AssetstoreAdapter):
    def __init__(self, app, assetstore):
        super().__init__(app, assetstore)
        db = app.mongo_client[assetstore['db']] if assetstore.get('db') else app.db
        self.chunks = db['gridfs_chunk']
        self.chunks.create_index([('uuid', 1), ('n', 1)], unique=True)

    def init_upload(self, upload):
        upload['chunkUuid'] = uuid.uuid4().hex
        return upload

    def write_chunk(self, upload, chunks, hasher):
        key = upload['chunkUuid']
        start = upload['received']
        n, offset = divmod(start, CHUNK_SIZE)
        buffer = b''
        if offset:
            doc = self.chunks.find_one({'uuid': key, 'n': n})
            buffer = bytes(doc['data'])[:offset] if doc else b''
        written = 0
        pending = []
        try:
            for data in chunks:
                check_fits(upload, written + len(data))
                hasher.update(data)
                written += len(data)
                buffer += data
                while len(buffer) >= CHUNK_SIZE:
                    pending.append({'uuid': key, 'n': n, 'data': Binary(buffer[:CHUNK_SIZE])})
                    buffer = buffer[CHUNK_SIZE:]
                    n += 1
                    if len(pending) >= 8:
                        self._store(pending)
                        pending = []
            if buffer:
                pending.append({'uuid': key, 'n': n, 'data': Binary(buffer)})
            self._store(pending)
        except BaseException:
            # roll back to what was received before this chunk
            first, keep = divmod(start, CHUNK_SIZE)
            self.chunks.delete_many({'uuid': key, 'n': {'$gt': first}})
            if keep == 0:
                self.chunks.delete_many({'uuid': key, 'n': first})
            elif buffer is not None:
                doc = self.chunks.find_one({'uuid': key, 'n': first})
                if doc is not None:
                    self.chunks.update_one({'_id': doc['_id']}, {
                        '$set': {'data': Binary(bytes(doc['data'])[:keep])}})
            raise
        return written

    def _store(self, docs):
        for doc in docs:
            self.chunks.replace_one({'uuid': doc['uuid'], 'n': doc['n']}, doc, upsert=True)

    def read_upload(self, upload, length):
        yield from self._read(upload['chunkUuid'], 0, length)

    def finalize_upload(self, upload, file):
        file['chunkUuid'] = upload.get('chunkUuid') or uuid.uuid4().hex
        return file

    def cancel_upload(self, upload):
        if upload.get('chunkUuid'):
            self.chunks.delete_many({'uuid': upload['chunkUuid']})

    def _read(self, key, start, end):
        first = start // CHUNK_SIZE
        last = (end - 1) // CHUNK_SIZE if end > 0 else -1
        n = first
        while n <= last:
            batch_end = min(last, n + 15)
            for doc in self.chunks.find({'uuid': key, 'n': {'$gte': n, '$lte': batch_end}}
                                        ).sort('n', 1):
                data = bytes(doc['data'])
                base = doc['n'] * CHUNK_SIZE
                lo = max(start - base, 0)
                hi = min(end - base, len(data))
                if hi > lo:
                    yield data[lo:hi]
            n = batch_end + 1

    def open_range(self, file, start, end):
        yield from self._read(file['chunkUuid'], start, end)

    def delete_file(self, file):
        if file.get('chunkUuid'):
            self.chunks.delete_many({'uuid': file['chunkUuid']})
