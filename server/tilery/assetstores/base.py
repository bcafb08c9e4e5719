"""What every assetstore adapter does."""
import hashlib

from ..errors import RestError


class AssetstoreAdapter:
    """Stores upload bytes and serves file bytes for one assetstore document."""

    def __init__(self, app, assetstore):
        self.app = app
        self.assetstore = assetstore

    # uploads
    def init_upload(self, upload):
        """Prepare storage for a new upload (sets fields on ``upload``)."""
        raise NotImplementedError

    def write_chunk(self, upload, chunks, hasher):
        """Append ``chunks`` (an iterable of bytes) at ``upload['received']``; return the count.

        On any failure the stored bytes are rolled back to ``upload['received']``.
        """
        raise NotImplementedError

    def read_upload(self, upload, length):
        """Yield the first ``length`` bytes already received (to rebuild a hash)."""
        raise NotImplementedError

    def finalize_upload(self, upload, file):
        """Turn the upload's bytes into ``file``'s stored bytes (sets fields on ``file``)."""
        raise NotImplementedError

    def cancel_upload(self, upload):
        raise NotImplementedError

    # files
    def open_range(self, file, start, end):
        """Yield the bytes [start, end) of ``file``."""
        raise NotImplementedError

    def delete_file(self, file):
        raise NotImplementedError

    def local_path(self, file):
        """A filesystem path holding the file's bytes, or None."""
        return None

    def capacity(self):
        return {'free': None, 'total': None}

    @staticmethod
    def new_hasher():
        return hashlib.sha512()


def check_fits(upload, extra):
    """Refuse a chunk that would go past the declared size."""
    if upload['received'] + extra > upload['size']:
        raise RestError('Received too many bytes: the chunk goes past the declared size '
                        '(%d + %d > %d).' % (upload['received'], extra, upload['size']))


class FileSlice:
    """Bytes [start, end) of an open local file, for ``open_range``.

    Iterating yields 1 MiB blocks; an HTTP server that sends files itself takes
    ``file`` instead, positioned at ``start``, and sends ``end - start`` bytes from it.
    """

    block_size = 1 << 20

    def __init__(self, fh, start, end):
        self.file = fh
        self.length = max(end - start, 0)
        fh.seek(start)

    def __iter__(self):
        remaining = self.length
        try:
            while remaining > 0:
                data = self.file.read(min(remaining, self.block_size))
                if not data:
                    break
                remaining -= len(data)
                yield data
        finally:
            self.file.close()

    def close(self):
        self.file.close()
