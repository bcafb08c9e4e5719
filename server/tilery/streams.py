"""Plain value types below every layer: a non-JSON answer, and a file over byte chunks.

Services build ``Raw`` answers (downloads) and plugins read streamed files with
``ChunkReader`` without importing REST; ``tilery.rest`` re-exports both.
"""
import dataclasses
from typing import Iterable, Union


@dataclasses.dataclass
class Raw:
    """A non-JSON answer: bytes or an iterable of bytes (streamed)."""

    body: Union[bytes, Iterable[bytes]]
    content_type: str = 'application/octet-stream'
    status: int = 200
    headers: dict = dataclasses.field(default_factory=dict)


class ChunkReader:
    """A read()-able file over an iterator of byte strings (a streamed body or file)."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._buf = b''

    def read(self, size=-1):
        while size < 0 or len(self._buf) < size:
            piece = next(self._chunks, None)
            if piece is None:
                break
            self._buf += piece
        if size < 0:
            data, self._buf = self._buf, b''
        else:
            data, self._buf = self._buf[:size], self._buf[size:]
        return data

    def close(self):
        close = getattr(self._chunks, 'close', None)
        if close is not None:
            close()
