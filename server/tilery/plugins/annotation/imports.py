"""Importing annotation files uploaded into items, and label masks, as jobs.

An upload only queues the job, so a 1 GB file does not hold the upload request and a
file that is not a valid annotation still stays stored as a file. The job reports the
elements read as its progress and ends in ERROR with the reason (which element, which
field) when the file cannot be imported; then no annotation of it is left.

A label mask (``POST /annotation/item/:id/mask``) is checked at once (its classes, its
header: size, channels) and traced by an ``annotation_mask_import`` job, since decoding
and tracing a 400 Mpx mask takes minutes. A mask sent as the request body waits for
its job in ``<data dir>/tmp/annotation``.
"""
import logging
import os
import uuid

from bson import ObjectId

from ...errors import RestError, ValidationError
from ...jobs.context import JobError, JobInterrupted
from ...rest import ChunkReader
from .formats import importer, mask

log = logging.getLogger(__name__)

JOB_TYPE = 'annotation_import'
MASK_JOB_TYPE = 'annotation_mask_import'
PROGRESS_EVERY = 10000  # elements between progress reports (and cancellation checks)
COPY_SIZE = 1 << 20


def schedule_import(app, file, item):
    """Queue the import of an uploaded file into its item; returns the job."""
    user = {'_id': file['creatorId']} if file.get('creatorId') else None
    return app.jobs.create(
        'Import annotations from %s' % file['name'], JOB_TYPE, user,
        kwargs={'fileId': str(file['_id']), 'itemId': str(item['_id'])},
        meta={'fileId': file['_id'], 'itemId': item['_id']})


class ImportJob:
    """Handler of ``annotation_import`` jobs (kwargs: fileId, itemId)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, ctx):
        models, service = self.app.models, self.app.annotations
        item = models.item.load(ctx.kwargs['itemId'], exc=False)
        if item is None:
            raise JobError('The item was deleted before its annotations were imported.')
        file = models.file.load(ctx.kwargs['fileId'], exc=False)
        if file is None:
            raise JobError('The file %s was deleted before it was imported.' % (
                ctx.kwargs['fileId']))
        creator = {'_id': file.get('creatorId') or item.get('creatorId')}
        folder = models.folder.load(item['folderId'])
        # a run cut short by a server crash may have made some of the annotations
        left = service.purge_import(item['_id'], ctx.id)
        if left:
            ctx.log('Removed %d annotation(s) made by an interrupted run.' % left)

        def progress(count):
            ctx.progress(count, None, '%d elements imported' % count)
            ctx.check_canceled()
        ctx.progress(0, None, 'Reading %s' % file['name'])
        stream = self._open(file)
        try:
            docs = importer.import_file(service, item, creator, stream, file['name'], folder,
                                        progress=progress, import_job=ctx.id,
                                        every=PROGRESS_EVERY)
        except (RestError, ValidationError) as exc:  # bad contents, said plainly
            raise JobError('%s was not imported: %s' % (file['name'], exc.message))
        finally:
            stream.close()
        count = sum(doc['_elementCount'] for doc in docs)
        ctx.progress(count, count, 'Imported %d elements into %d annotation(s)' % (
            count, len(docs)))
        ctx.set_meta(annotationIds=[doc['_id'] for doc in docs])
        ctx.log('Imported %d elements into %d annotation(s) from %s.' % (
            count, len(docs), file['name']))

    def _open(self, file):
        """A seekable local file when the assetstore has one (no copy), else a stream."""
        files = self.app.models.file
        path = files.local_path(file)
        if path:
            return open(path, 'rb')
        return ChunkReader(files.open_range(file))




def mask_dir(app):
    """Where masks sent as request bodies wait for their import jobs."""
    return os.path.join(app.settings.data_dir, 'tmp', 'annotation')


def queue_mask_import(app, item, user, body=None, file=None, classes=None, scale=1.0,
                      name='Label mask'):
    """Check a label mask (a request ``body`` stream or a stored ``file``) and queue the
    job that traces it into an annotation of ``item``; returns the job.

    Bad classes, an unreadable image, more than one channel or too many pixels answer
    400 here; what needs the decoded pixels (no pixels of the classes asked for) fails
    the job.
    """
    service = app.annotations
    mask.parse_classes(classes)
    limit = service.settings['max_upload_bytes']
    max_pixels = service.settings.get('max_mask_pixels')
    kwargs = {'itemId': str(item['_id']), 'classes': classes, 'scale': scale, 'name': name}
    if file is not None:
        if file.get('size', 0) > limit:
            raise RestError('The mask file is larger than the %d byte limit.' % limit, 413)
        path = app.models.file.local_path(file)
        mask.open_label(path if path else b''.join(app.models.file.open_range(file)),
                        max_pixels)
        kwargs['fileId'] = str(file['_id'])
    else:
        path = _spool(app, body, limit)
        try:
            mask.open_label(path, max_pixels)
        except BaseException:
            os.remove(path)
            raise
        kwargs['spool'] = os.path.basename(path)
    return app.jobs.create('Import label mask %s' % name, MASK_JOB_TYPE, user, kwargs=kwargs,
                           meta={'itemId': item['_id']})


def _spool(app, body, limit):
    """Copy a request body into the mask directory (refused past ``limit`` bytes)."""
    os.makedirs(mask_dir(app), exist_ok=True)
    path = os.path.join(mask_dir(app), 'mask-%s' % uuid.uuid4().hex)
    total = 0
    try:
        with open(path, 'wb') as out:
            while True:
                data = body.read(COPY_SIZE)
                if not data:
                    break
                total += len(data)
                if total > limit:
                    raise RestError('The mask is larger than the %d byte limit.' % limit, 413)
                out.write(data)
        if not total:
            raise RestError('Send the mask image as the request body, or give fileId.')
    except BaseException:
        os.remove(path)
        raise
    return path


class MaskImportJob:
    """Handler of ``annotation_mask_import`` jobs (kwargs: itemId, fileId or spool,
    classes, scale, name), and the cleanup of those that never ran."""

    def __init__(self, app):
        self.app = app

    def __call__(self, ctx):
        try:
            self._run(ctx)
        except JobInterrupted:
            raise  # it runs again when a server starts: the mask stays
        except BaseException:
            self.cleanup(ctx.job)
            raise
        self.cleanup(ctx.job)

    def _run(self, ctx):
        kwargs, service = ctx.kwargs, self.app.annotations
        item = self.app.models.item.load(kwargs['itemId'], exc=False)
        if item is None:
            raise JobError('The item was deleted before its mask was imported.')
        folder = self.app.models.folder.load(item['folderId'])
        left = service.purge_import(item['_id'], ctx.id)
        if left:
            ctx.log('Removed %d annotation(s) made by an interrupted run.' % left)

        def progress(done, total):
            ctx.progress(done, total, 'Traced %d of %d mask values' % (done, total))
            ctx.check_canceled()
        ctx.progress(0, None, 'Reading the mask')
        try:
            doc = importer.import_mask(
                service, item, {'_id': ObjectId(ctx.job['userId'])}, self._source(kwargs),
                kwargs.get('classes'), kwargs.get('scale', 1.0), kwargs.get('name'), folder,
                progress=progress, import_job=ctx.id)
        except (RestError, ValidationError) as exc:
            raise JobError('The mask was not imported: %s' % exc.message)
        count = doc['_elementCount']
        ctx.progress(count, count, 'Imported %d polygons' % count)
        ctx.set_meta(annotationIds=[doc['_id']])
        ctx.log('Imported %d polygons into annotation %s.' % (count, doc['_id']))

    def _source(self, kwargs):
        """A path (or the bytes) of the mask image."""
        if kwargs.get('spool'):
            path = os.path.join(mask_dir(self.app), os.path.basename(kwargs['spool']))
            if not os.path.exists(path):
                raise JobError('The mask sent with the request is gone (was it queued on '
                               'another server?).')
            return path
        files = self.app.models.file
        file = files.load(kwargs['fileId'], exc=False)
        if file is None:
            raise JobError('The mask file %s was deleted before it was imported.' % (
                kwargs['fileId']))
        return files.local_path(file) or b''.join(files.open_range(file))

    def cleanup(self, job):
        """Remove the spooled mask of a job that is over (or will never run)."""
        spool = (job.get('kwargs') or {}).get('spool')
        if spool:
            try:
                os.remove(os.path.join(mask_dir(self.app), os.path.basename(spool)))
            except FileNotFoundError:
                pass
