"""Items' large images: making them (at once or by conversion), opening and removing them.

An item's ``largeImage`` field says where it stands, as in girder_large_image:
``{fileId, sourceName}`` when a file is read directly; ``{expected: True, jobId,
originalId}`` while a conversion runs; ``{fileId, originalId, sourceName, jobId}``
once the converted file is stored. The original file is never written to.
"""
import logging
import threading

import cachetools
import large_image
from bson import ObjectId

from ...errors import RestError
from ...jobs.model import FINISHED
from .. import READ
from .convert import JOB_TYPE, ConversionJob
from .convert_worker import COMPRESSIONS
from .errors import ImageDataError, NoLargeImage, NotReady
from .params import Encoding
from .sources import SourceCache, SourceKey, file_path, find_tile_source, open_image
from .tiles import TileService

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = {'tif', 'tiff', 'png', 'jpg', 'jpeg', 'bmp', 'gif', 'webp', 'jp2', 'svs',
                    'ndpi', 'mrxs', 'scn', 'vms', 'vmu', 'bif', 'czi', 'dcm', 'ome', 'pgm',
                    'ppm', 'pnm'}


class LargeImageService:
    """The plugin's work, given the core models, the upload service and the jobs."""

    def __init__(self, models, uploads, jobs, settings, metrics, invalidation):
        self.items, self.files, self.users = models.item, models.file, models.user
        self.uploads = uploads
        self.jobs = jobs
        self.settings = settings
        self.sources = SourceCache(settings.source_cache_size,
                                   metrics.cache('large_image_sources'))
        # a replaced or removed file's open sources close in every process
        self._evict_everywhere = invalidation.register(
            'large_image.sources', lambda file_id: self.sources.evict_file(file_id)
            if file_id is not None else self.sources.clear())
        self.tiles = TileService(settings.region_max_pixels)
        self.item_cache = ItemCache(models, settings.item_cache_seconds,
                                    settings.item_cache_size, metrics.cache('large_image_items'),
                                    invalidation)
        self._extensions = IMAGE_EXTENSIONS | set(large_image.listExtensions())
        self._mime_types = set(large_image.listMimeTypes())
        jobs.register(JOB_TYPE, ConversionJob(self), cleanup=self._conversion_ended,
                      input_bytes=self._conversion_input_bytes)

    # -- reading
    def open(self, item, style=None, encoding=Encoding()):
        """The open image of an item (cached); 404 without one, 409 while it is made."""
        info = item.get('largeImage') or {}
        if not info.get('fileId'):
            if info.get('expected'):
                job = self.jobs.model.load(info['jobId']) if info.get('jobId') else None
                if job is not None and job['status'] not in FINISHED:
                    raise NotReady('The large image of this item is still being made.', job)
                # its job is gone or over without storing a file: the promise is void
                self.forget_conversion(item['_id'], info.get('jobId'))
                raise NoLargeImage('This item has no large image; its conversion job %s did '
                                   'not make one.' % info.get('jobId'))
            raise NoLargeImage('This item has no large image.')
        key = SourceKey(str(info['fileId']), style, encoding)
        return self.sources.get(key, lambda: self._open(key, info))

    def image_size(self, item_id):
        """(sizeX, sizeY) of an item's large image; None without a readable one (yet)."""
        item = self.items.load(item_id, exc=False)
        if item is None:
            return None
        try:
            metadata = self.open(item).metadata
        except (NoLargeImage, NotReady, ImageDataError, RestError):
            return None
        return metadata['sizeX'], metadata['sizeY']

    def _open(self, key, info):
        file_doc = self.files.load(info['fileId'], exc=False)
        if file_doc is None:
            raise ImageDataError('The large image file of this item no longer exists.')
        return open_image(key, file_path(self.files, file_doc), file_doc,
                          info.get('sourceName'), self.settings.image_max_pixels)

    def cache_info(self):
        """Sizes and use of the open-source, item and large_image caches."""
        info = {'sources': self.sources.info(), 'items': self.item_cache.info()}
        info.update(large_image.cache_util.cachesInfo())
        return info

    def clear_caches(self):
        """Empty every cache of open sources, items and tiles (memcached included)."""
        self._evict_everywhere(None)
        self.item_cache.forget()
        large_image.cache_util.cachesClear()

    def readable_source(self, file_doc):
        """The tile source that serves this file as it is, or None (then it needs converting)."""
        try:
            path = file_path(self.files, file_doc)
        except ImageDataError:
            return None
        name = find_tile_source(path, file_doc.get('mimeType'))
        if name is None:
            return None
        try:  # a truncated or absurd file is not served directly; converting tells why
            image = open_image(SourceKey(str(file_doc['_id'])), path, file_doc, name,
                               self.settings.image_max_pixels)
            self.tiles.tile(image, 0, 0, 0)
        except (ImageDataError, RestError):
            return None
        return name

    # -- making and removing
    def create(self, item, file_doc, user, force=False, compression=None, quality=None,
               tile_size=None):
        """Make ``file_doc`` the item's large image; return the conversion job, or None."""
        info = item.get('largeImage')
        if info and force and info.get('expected'):
            # force restarts a conversion still under way (e.g. the automatic one
            # started at upload) with the options of this request
            self.delete(item)
            item = dict(item)
            item.pop('largeImage')
        elif info:
            raise RestError('This item already has a large image; DELETE its tiles first.')
        if file_doc.get('itemId') != item['_id']:
            raise RestError('File %s is not in this item.' % file_doc['_id'])
        if not file_doc.get('size'):
            raise RestError('The file is empty (0 bytes): there is no image to read.')
        if compression is not None and compression not in COMPRESSIONS:
            raise RestError('compression must be one of %s.' % ', '.join(COMPRESSIONS))
        if not force:
            name = self.readable_source(file_doc)
            if name is not None:
                if not self._set(item['_id'], {'fileId': file_doc['_id'], 'sourceName': name}):
                    raise RestError('This item already has a large image.')
                return None
        return self.convert(item, file_doc, user, compression, quality, tile_size)

    def convert(self, item, file_doc, user, compression=None, quality=None, tile_size=None):
        """Start a conversion job; the item records it as expected meanwhile."""
        settings = self.settings
        kwargs = {'itemId': str(item['_id']), 'fileId': str(file_doc['_id']),
                  'compression': compression or settings.convert_compression,
                  'quality': quality or settings.convert_quality,
                  'tileSize': tile_size or settings.convert_tile_size}
        job = self.jobs.create('Make a large image of %s' % file_doc['name'], JOB_TYPE,
                               user=user, kwargs=kwargs, schedule=False)
        if not self._set(item['_id'], {'expected': True, 'jobId': job['_id'],
                                       'originalId': file_doc['_id']}):
            self.jobs.model.delete(job['_id'])
            raise RestError('This item already has a large image.')
        return self.jobs.schedule(job)

    def _update(self, item_id, condition, update):
        """Change an item's ``largeImage`` if it matches ``condition``; True if it did."""
        done = self.items.collection.update_one(
            dict(condition, _id=item_id), update).modified_count == 1
        self.item_cache.forget(item_id, everywhere=done)
        return done

    def _set(self, item_id, info):
        return self._update(item_id, {'largeImage': {'$exists': False}},
                            {'$set': {'largeImage': info}})

    def finish_conversion(self, item_id, job_id, stored, original):
        """Point the item at its converted file; False if it stopped waiting for it."""
        info = {'fileId': stored['_id'], 'originalId': original['_id'], 'sourceName': 'tiff',
                'jobId': job_id}
        if self.settings.remove_original:
            info.pop('originalId')
        done = self._update(item_id, {'largeImage.jobId': job_id, 'largeImage.expected': True},
                            {'$set': {'largeImage': info}})
        if done and self.settings.remove_original:
            self.files.remove(original)
        return done

    def _conversion_input_bytes(self, job):
        """The size of the file a conversion reads (big ones go to the large queue)."""
        original = self.files.load(job['kwargs']['fileId'], exc=False)
        return (original or {}).get('size') or 0

    def _conversion_ended(self, job):
        self.forget_conversion(ObjectId(job['kwargs']['itemId']), job['_id'])

    def forget_conversion(self, item_id, job_id):
        """After a failed or canceled conversion, the item has no large image again."""
        self._update(item_id, {'largeImage.jobId': job_id, 'largeImage.expected': True},
                     {'$unset': {'largeImage': ''}})

    def delete(self, item):
        """Undo: stop a running conversion, drop a converted file; True if there was one."""
        info = item.get('largeImage')
        if not info:
            return False
        self._update(item['_id'], {}, {'$unset': {'largeImage': ''}})
        if info.get('expected') and info.get('jobId'):
            self.jobs.cancel(info['jobId'])
        if info.get('fileId'):
            self._evict_everywhere(info['fileId'])
            # a converted file goes, unless the original was removed and it is the only copy
            if info.get('jobId') and info.get('originalId') not in (None, info['fileId']):
                converted = self.files.load(info['fileId'], exc=False)
                if converted is not None:
                    self.files.remove(converted)
        return True

    # -- events
    def looks_like_image(self, file_doc):
        exts = file_doc.get('exts') or []
        mime = file_doc.get('mimeType') or ''
        return bool(set(exts[-2:]) & self._extensions) or mime.startswith('image/') or (
            mime in self._mime_types)

    def on_file_finalized(self, event):
        """An upload finished: make the item a large image when the file is an image."""
        file_doc, replaced = event['file'], event.get('replaced')
        if replaced is not None:
            self._evict_everywhere(file_doc['_id'])
        if not self.settings.auto_set or not file_doc.get('size') or \
                not self.looks_like_image(file_doc):
            return  # decided without a database read: most uploads are not images
        item = self.items.load(file_doc['itemId'], exc=False)
        if item is None or item.get('largeImage'):
            return
        user_id = (event.get('upload') or {}).get('userId') or file_doc.get('creatorId')
        user = self.users.load(user_id, exc=False) if user_id else None
        try:
            self.create(item, file_doc, user)
        except RestError as exc:  # another file of the item won the race
            log.info('File %s not made a large image: %s', file_doc['_id'], exc.message)

    def on_item_copied(self, event):
        """A copied item is the same large image, on its own copies of the files."""
        source, copy = event['source'], event['copy']
        info = source.get('largeImage') or {}
        if not info.get('fileId'):
            return  # nothing made yet: the copy's own upload events decide
        copies = {(f['name'], f.get('sha512')): f['_id']
                  for f in self.files.find({'itemId': copy['_id']})}
        twins = {f['_id']: copies.get((f['name'], f.get('sha512')))
                 for f in self.files.find({'itemId': source['_id']})}
        if twins.get(info['fileId']) is None:
            return
        # the copied files' upload events may have started a conversion: not needed
        started = (self.items.load(copy['_id'], exc=False) or {}).get('largeImage') or {}
        if started.get('expected') and started.get('jobId'):
            self.jobs.cancel(started['jobId'])
        mirrored = dict(info, fileId=twins[info['fileId']])
        if info.get('originalId') is not None:
            mirrored['originalId'] = twins.get(info['originalId'])
        self._update(copy['_id'], {}, {'$set': {'largeImage': mirrored}})

    def on_item_moved(self, item):
        self.item_cache.forget(item['_id'])

    def on_item_removing(self, item):
        info = item.get('largeImage') or {}
        # only large images are worth a feed event: deleting a big folder stays quick
        self.item_cache.forget(item['_id'], everywhere=bool(info))
        if info.get('expected') and info.get('jobId'):
            self.jobs.cancel(info['jobId'])
        if info.get('fileId'):
            self._evict_everywhere(info['fileId'])

    def on_file_removed(self, file_doc):
        """A large image's file went away: the item no longer is one."""
        if self.looks_like_image(file_doc):  # sources are only opened on images
            self._evict_everywhere(file_doc['_id'])
        if file_doc.get('itemId'):
            self._update(file_doc['itemId'], {'largeImage.fileId': file_doc['_id']},
                         {'$unset': {'largeImage': ''}})


class ItemCache:
    """item id -> (item, folder) for the tile routes, reused for ``ttl`` seconds.

    The hot path: without it every tile costs two database round trips (the item and
    its folder's ACL). Changes (access, large image, moves, deletions) are seen at once
    in this process and, through ``app.invalidation``, in every other within about
    ``feed_poll_interval``; ``ttl`` (the token cache's ``auth_cache_seconds``) bounds
    the rest.
    At most ``large_image.item_cache_size`` items are kept.
    """

    def __init__(self, models, ttl, size, stats, invalidation):
        self.items, self.folders = models.item, models.folder
        self.ttl, self.size = ttl, max(1, size)
        self.stats = stats
        self._entries = cachetools.TTLCache(self.size, max(ttl, 1e-9))
        self._lock = threading.Lock()
        self._everywhere = invalidation.register('large_image.items', self._forget_here)

    def get(self, item_id, user, level=READ):
        """The item, after checking that ``user`` has ``level`` on it."""
        with self._lock:
            hit = self._entries.get(item_id)
        if hit is not None:
            self.stats.hit()
            item, folder = hit
        else:
            self.stats.miss()
            item = self.items.load(item_id)
            folder = self.folders.load(item['folderId'])
            if self.ttl > 0:
                with self._lock:
                    self._entries[item_id] = (item, folder)
        self.folders.require_access(folder, user, level)
        return item

    def info(self):
        with self._lock:
            return {'maxsize': self.size, 'used': len(self._entries), 'seconds': self.ttl}

    def forget(self, item_id=None, everywhere=True):
        """Forget ``item_id`` (None: every item) in every server process, or only here."""
        (self._everywhere if everywhere else self._forget_here)(item_id)

    def _forget_here(self, item_id):
        with self._lock:
            if item_id is None:
                self._entries.clear()
            else:
                self._entries.pop(item_id, None)
