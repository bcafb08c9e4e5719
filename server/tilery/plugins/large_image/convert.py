"""The conversion job: run the worker process, then store its output in the item."""
import json
import os
import sys

from ...errors import TileryError
from ...jobs.context import JobError, JobInterrupted
from .errors import ImageDataError
from .sources import file_path

JOB_TYPE = 'large_image_conversion'
WORKER = 'tilery.plugins.large_image.convert_worker'


def output_name(original):
    """The converted file's name: the original's with a .tiff extension."""
    base = os.path.splitext(original)[0] or original
    name = base + '.tiff'
    return base + '.tiled.tiff' if name == original else name


class ConversionJob:
    """Handler of ``large_image_conversion`` jobs (kwargs: itemId, fileId, options)."""

    def __init__(self, service):
        self.service = service

    def __call__(self, ctx):
        service, kwargs = self.service, ctx.kwargs
        item = service.items.load(kwargs['itemId'], exc=False)
        if item is None:
            raise JobError('The item was deleted before its conversion finished.')
        large_image = item.get('largeImage') or {}
        if large_image.get('jobId') != ctx.id:
            raise JobError('The item no longer waits for this conversion (its large image '
                           'was removed or replaced).')
        if large_image.get('fileId'):
            ctx.log('The converted file was already stored (before a server restart).')
            return
        try:
            self._convert(ctx, item, kwargs)
        except JobInterrupted:
            raise  # it runs again after the restart; the item keeps waiting for it
        except BaseException:
            service.forget_conversion(item['_id'], ctx.id)
            raise

    def _convert(self, ctx, item, kwargs):
        service = self.service
        original = service.files.load(kwargs['fileId'], exc=False)
        if original is None:
            raise JobError('The file to convert was deleted.')
        try:
            path = file_path(service.files, original)
        except ImageDataError as exc:
            raise JobError(exc.message)
        work_dir = service.settings.work_dir
        os.makedirs(work_dir, exist_ok=True)
        out = os.path.join(work_dir, '%s.tiff' % ctx.id)
        options = {'src': path, 'dst': out, 'name': original['name'],
                   'compression': kwargs.get('compression') or 'auto',
                   'quality': kwargs.get('quality') or 90,
                   'tile_size': kwargs.get('tileSize') or 256,
                   'max_pixels': service.settings.image_max_pixels}
        threads = service.settings.convert_threads
        ctx.progress(0, 100, 'Starting the conversion')
        ctx.flush()  # written now, not a flush interval later: tile 409s show it at once
        try:
            result = ctx.run_child([sys.executable, '-m', WORKER, json.dumps(options)],
                                   env={'VIPS_CONCURRENCY': str(threads)} if threads else None)
            ctx.set_meta(conversion=result)
            ctx.log('Converted in %.1f s: %d x %d pixels, %d levels, %s, %d bytes.' % (
                result['seconds'], result['sizeX'], result['sizeY'], result['levels'],
                result['compression'], result['bytes']))
            ctx.progress(100, 100, 'Storing the converted file')
            ctx.check_canceled()
            creator = service.users.load(ctx.job['userId'], exc=False) if ctx.job.get(
                'userId') else None
            try:
                stored = service.uploads.add_local_file(
                    item, out, output_name(original['name']), creator or {'_id': None},
                    'image/tiff', move=True)
            except TileryError as exc:  # e.g. over the upload size limit, no assetstore
                raise JobError('The converted file could not be stored: %s' % exc.message)
        finally:
            if os.path.exists(out):
                os.unlink(out)
        if not service.finish_conversion(item['_id'], ctx.id, stored, original):
            service.files.remove(stored)
            raise JobError('The item no longer waits for this conversion; its output was '
                           'discarded.')
        ctx.set_meta(fileId=stored['_id'])
