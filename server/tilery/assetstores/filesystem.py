"""Files stored under a directory, at <root>/<id[0:2]>/<id[2:4]>/<id>."""
import os
import shutil

from ..errors import AccessError, NotFound, RestError
from .base import AssetstoreAdapter, check_fits


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
        with open(path, 'r+b' if os.path.exists(path) else 'w+b') as fh:
            fh.seek(start)
            try:
                for data in chunks:
                    check_fits(upload, written + len(data))
                    fh.write(data)
                    hasher.update(data)
                    written += len(data)
            except BaseException:
                fh.truncate(start)  # never keep a half chunk
                raise
            fh.truncate(start + written)
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
        fh.seek(start)
        return _read(fh, end - start)

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


def _read(fh, remaining, piece=1 << 20):
    """Yield up to ``remaining`` bytes of an open file in pieces, then close it."""
    with fh:
        while remaining > 0:
            data = fh.read(min(remaining, piece))
            if not data:
                break
            remaining -= len(data)
            yield data
