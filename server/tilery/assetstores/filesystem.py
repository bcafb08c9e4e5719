"""Files stored under a directory, at <root>/<id[0:2]>/<id[2:4]>/<id>."""
import os
import queue
import shutil
import threading

from ..errors import AccessError, NotFound, RestError
from .base import AssetstoreAdapter, FileSlice, check_fits


def checked_import_path(file):
    """The real path of a file imported in place, refused (403) when it now resolves
    outside the folder it was imported from (e.g. it was replaced by a symlink)."""
    real = os.path.realpath(file['path'])
    # files imported before the root was recorded: the path itself must not be a link
    root = os.path.realpath(file.get('importRoot') or file['path'])
    if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
        raise AccessError('The imported file %s now points outside the folder it was '
                          'imported from; it is not served.' % file['name'])
    return real


class FilesystemAdapter(AssetstoreAdapter):
    def __init__(self, app, assetstore):
        super().__init__(app, assetstore)
        self.root = assetstore['root']

    def _temp_path(self, upload):
        return os.path.join(self.root, 'temp', str(upload['_id']))

    def init_upload(self, upload):
        os.makedirs(os.path.join(self.root, 'temp'), exist_ok=True)
        path = self._temp_path(upload)
        open(path, 'wb').close()
        upload['tempFile'] = path
        return upload

    def write_chunk(self, upload, chunks, hasher):
        path = upload.get('tempFile') or self._temp_path(upload)
        start = upload['received']
        written = 0
        with open(path, 'r+b' if os.path.exists(path) else 'w+b', buffering=0) as fh:
            fh.seek(start)
            try:
                if hasattr(chunks, 'readinto'):
                    written = _copy_blocks(upload, chunks, fh, hasher)
                else:
                    for data in chunks:
                        check_fits(upload, written + len(data))
                        _write_all(fh, memoryview(data))
                        hasher.update(data)
                        written += len(data)
            except BaseException:
                fh.truncate(start)  # never keep a half chunk
                raise
            fh.truncate(start + written)
            # the chunk is acknowledged (and its offset stored) only once its bytes are
            # on disk: one flush per chunk, not per block
            os.fdatasync(fh.fileno())
        return written

    def read_upload(self, upload, length):
        return _read(open(upload.get('tempFile') or self._temp_path(upload), 'rb'), length,
                     1 << 22)

    def final_path(self, file_id):
        key = str(file_id)
        return os.path.join(key[:2], key[2:4], key)

    def finalize_upload(self, upload, file):
        rel = self.final_path(file['_id'])
        dest = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        src = upload.get('tempFile') or self._temp_path(upload)
        if upload['size'] == 0 and not os.path.exists(src):
            open(dest, 'wb').close()
        else:
            os.replace(src, dest)
        file['path'] = rel
        return file

    def cancel_upload(self, upload):
        try:
            os.unlink(upload.get('tempFile') or self._temp_path(upload))
        except FileNotFoundError:
            pass

    def full_path(self, file):
        if file.get('imported'):
            return checked_import_path(file)
        return os.path.join(self.root, file['path'])

    def open_range(self, file, start, end):
        """An iterator over bytes [start, end); the file is checked and opened at once,
        so a refusal is an error answer rather than a broken stream."""
        path = self.full_path(file)
        try:
            # O_NOFOLLOW: a symlink put in place after the check above is refused too
            fh = os.fdopen(os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0)), 'rb')
        except OSError:
            if file.get('imported'):
                raise NotFound('The imported file %s is no longer readable on the server.' %
                               file['name'])
            raise RestError('The bytes of file %s are missing from the assetstore.' %
                            file['_id'], 500)
        return FileSlice(fh, start, end)

    def delete_file(self, file):
        if file.get('imported'):
            return  # imported in place: the bytes belong to the server's filesystem
        try:
            os.unlink(self.full_path(file))
        except FileNotFoundError:
            pass

    def local_path(self, file):
        return self.full_path(file)

    def capacity(self):
        try:
            usage = shutil.disk_usage(self.root)
        except OSError:
            return {'free': None, 'total': None}
        return {'free': usage.free, 'total': usage.total}


# bytes read from the socket and written to the file at a time: larger blocks fall out of
# the CPU caches between the read, the write and the hash (4 MiB measured slower)
BLOCK_SIZE = 1 << 20


def _copy_blocks(upload, source, fh, hasher):
    """Copy ``source`` (anything with readinto) into ``fh``; return the count.

    The blocks are hashed in a second thread while the next one is read (sha512 and
    the socket and file calls all release the GIL, so this uses a second core); a
    body smaller than a block is hashed here, as a thread would cost more.
    """
    if getattr(source, 'remaining', BLOCK_SIZE + 1) <= BLOCK_SIZE:
        view = memoryview(bytearray(max(source.remaining, 1)))
        written = 0
        while True:
            count = _fill(source, view)
            if not count:
                return written
            check_fits(upload, written + count)
            _write_all(fh, view[:count])
            hasher.update(view[:count])
            written += count
    free, todo = queue.Queue(), queue.Queue()
    for _ in range(4):
        free.put(bytearray(BLOCK_SIZE))
    failure = []

    def hash_blocks():
        while True:
            job = todo.get()
            if job is None:
                return
            block, count = job
            try:
                if not failure:
                    hasher.update(memoryview(block)[:count])
            except BaseException as exc:  # reported by the reading thread
                failure.append(exc)
            free.put(block)

    thread = threading.Thread(target=hash_blocks, name='upload-hash', daemon=True)
    thread.start()
    written = 0
    try:
        while True:
            block = free.get()
            count = _fill(source, memoryview(block))
            if not count:
                free.put(block)
                break
            check_fits(upload, written + count)
            _write_all(fh, memoryview(block)[:count])
            written += count
            todo.put((block, count))
    finally:
        todo.put(None)
        thread.join()
    if failure:
        raise failure[0]
    return written


def _fill(source, view):
    """Read into ``view`` until it is full or the source ends; return the count."""
    filled = 0
    while filled < len(view):
        count = source.readinto(view[filled:])
        if not count:
            break
        filled += count
    return filled


def _write_all(fh, view):
    """Write all of ``view`` to an unbuffered file (a write may take only part)."""
    while len(view):
        view = view[fh.write(view):]


def _read(fh, remaining, piece=1 << 20):
    """Yield up to ``remaining`` bytes of an open file in pieces, then close it."""
    with fh:
        while remaining > 0:
            data = fh.read(min(remaining, piece))
            if not data:
                break
            remaining -= len(data)
            yield data
