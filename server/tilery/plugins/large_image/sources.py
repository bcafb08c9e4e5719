"""Opening tile sources, and a bounded cache of open ones keyed by file.

The per-tile path looks an open source up here by (file id, style, encoding); only a
miss resolves the file's path and opens it. A source opened without a style for a
file that carries no ICC profile is opened with ``{'icc': False}``: large_image then
passes the stored JPEG tiles through instead of decoding and re-encoding each one
(about 15x faster); files with a profile keep the colour correction.
"""
import dataclasses
import hashlib
import json
import logging
import os
import threading

import cachetools
import large_image
from large_image.exceptions import TileGeneralError
from large_image.tilesource import AvailableTileSources, getSortedSourceList

from .errors import ImageDataError
from .params import Encoding

log = logging.getLogger(__name__)

# sources that read any small image whole: a file only they read is converted
WHOLE_IMAGE_SOURCES = ('pil',)
MAX_TILE_PIXELS = 8192 * 8192


@dataclasses.dataclass(frozen=True)
class SourceKey:
    """What identifies an open source: the file and how it is opened."""

    file_id: str
    style: str = None  # canonical JSON
    encoding: Encoding = Encoding()


@dataclasses.dataclass
class OpenImage:
    """An open tile source and what the hot path needs about it."""

    key: SourceKey
    source: object
    source_name: str
    metadata: dict
    etag: str  # changes with the file's bytes and the opening options

    @property
    def levels(self):
        return self.metadata['levels']

    @property
    def frame_count(self):
        return len(self.metadata.get('frames') or ()) or 1


def _loaded_sources():
    if not AvailableTileSources:
        large_image.tilesource.loadTileSources()
    return AvailableTileSources


def find_tile_source(path, mime_type=None):
    """The name of a tile source that reads ``path`` as a tiled image, or None.

    Sources that only read small images whole (PIL) do not count: such files are
    converted into a tiled pyramid.
    """
    sources = _loaded_sources()
    for entry in sorted(getSortedSourceList(sources, path, mime_type)):
        name = entry[-1]
        if name in WHOLE_IMAGE_SOURCES:
            continue
        try:
            if sources[name].canRead(path, noCache=True):
                return name
        except Exception:  # a reader that trips over a bad file simply cannot read it
            log.debug('Source %s failed on %s', name, path, exc_info=True)
    return None


def check_dimensions(metadata, max_pixels):
    """Refuse an image whose header claims an implausible size (a corrupt file)."""
    width, height = metadata.get('sizeX') or 0, metadata.get('sizeY') or 0
    if width < 1 or height < 1:
        raise ImageDataError('The image reports no pixels (%s x %s).' % (width, height))
    if width * height > max_pixels:
        raise ImageDataError(
            'The image claims to be %d x %d pixels, more than the %d megapixels this '
            'server accepts; the file is probably corrupt.' % (
                width, height, max_pixels // 10 ** 6))
    tile_pixels = (metadata.get('tileWidth') or 0) * (metadata.get('tileHeight') or 0)
    if tile_pixels > MAX_TILE_PIXELS:
        raise ImageDataError('The image has %d x %d pixel tiles; tiles that large cannot be '
                             'served.' % (metadata['tileWidth'], metadata['tileHeight']))


def open_image(key, path, file_doc, source_name=None, max_pixels=10 ** 11):
    """Open ``path`` as described by ``key``; ImageDataError when it cannot be read."""
    sources = _loaded_sources()
    kwargs = key.encoding.large_image_kwargs()
    try:
        if source_name not in sources:
            source_name = find_tile_source(path, file_doc.get('mimeType'))
            if source_name is None:
                raise ImageDataError('No tile source can read this file as a tiled image.')
        cls = sources[source_name]
        if key.style is not None:
            source = cls(path, style=json.loads(key.style), **kwargs)
        else:
            source = cls(path, **kwargs)
            if not any(p is not None for p in source.getICCProfiles() or ()):
                source = cls(path, style={'icc': False}, **kwargs)
        metadata = source.getMetadata()
    except ImageDataError:
        raise
    except FileNotFoundError:
        raise ImageDataError('The bytes of file %s are missing from the assetstore.' %
                             file_doc['_id'])
    except (TileGeneralError, OSError, ValueError, KeyError, IndexError) as exc:
        raise ImageDataError('The image file cannot be read: %s' % exc)
    check_dimensions(metadata, max_pixels)
    identity = '%s:%s:%s:%s:%r' % (file_doc['_id'], file_doc.get('sha512') or '',
                                   file_doc.get('size'), key.style, key.encoding)
    etag = hashlib.sha1(identity.encode()).hexdigest()[:20]
    return OpenImage(key, source, source_name, metadata, etag)


class SourceCache:
    """A bounded LRU of open images; its size is ``large_image.source_cache_size``.

    A file that fails to open is remembered for ``failure_seconds`` too: without that,
    every tile request for a broken image would reopen (and re-parse) the file.
    """

    def __init__(self, size, stats, failure_seconds=30.0):
        self.size = max(1, int(size))
        self.stats = stats
        self.failure_seconds = failure_seconds
        self._failures = cachetools.TTLCache(self.size, max(failure_seconds, 1e-9))
        self._entries = cachetools.LRUCache(self.size)
        self._lock = threading.Lock()
        self._opening = {}  # key -> Lock, so one file is not opened twice at once
        self.hits = self.misses = 0

    def get(self, key, opener):
        """The cached entry for ``key``, or ``opener()`` stored under it."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self.hits += 1
                self.stats.hit()
                return entry
            failed = self._failures.get(key)
            if failed is not None:
                raise failed
            key_lock = self._opening.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    return entry
            try:
                entry = opener()
            except ImageDataError as exc:
                with self._lock:
                    self._failures[key] = exc
                raise
            finally:
                with self._lock:
                    self._opening.pop(key, None)
            with self._lock:
                self.misses += 1
                self.stats.miss()
                self._entries[key] = entry
            return entry

    def evict_file(self, file_id):
        """Forget every open source of a file (its bytes changed or it was removed)."""
        file_id = str(file_id)
        with self._lock:
            for cache in (self._entries, self._failures):
                for key in [k for k in cache if k.file_id == file_id]:
                    cache.pop(key, None)

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._failures.clear()

    def info(self):
        with self._lock:
            return {'maxsize': self.size, 'used': len(self._entries), 'hits': self.hits,
                    'misses': self.misses}


def file_path(files, file_doc):
    """A local path to the file's bytes, or ImageDataError."""
    path = files.local_path(file_doc)
    if not path:
        raise ImageDataError('File %s is kept in an assetstore without local paths; tiles '
                             'need a filesystem assetstore.' % file_doc['_id'])
    if not os.path.exists(path):
        raise ImageDataError('The bytes of file %s are missing from the assetstore.' %
                             file_doc['_id'])
    return path
