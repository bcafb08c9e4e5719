"""Importing annotation files uploaded into items, as jobs.

An upload only queues the job, so a 1 GB file does not hold the upload request and a
file that is not a valid annotation still stays stored as a file. The job reports the
elements read as its progress and ends in ERROR with the reason (which element, which
field) when the file cannot be imported; then no annotation of it is left.
"""
import logging

from ...errors import RestError, ValidationError
from ...jobs.context import JobError
from ...rest.request import ChunkReader
from .formats import importer

log = logging.getLogger(__name__)

JOB_TYPE = 'annotation_import'
PROGRESS_EVERY = 10000  # elements between progress reports (and cancellation checks)


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


