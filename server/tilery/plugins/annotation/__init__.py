"""The annotation plugin: large_image-compatible annotations stored in spatial chunks."""
import logging

from ...models.base import AccessControlledModel
from .. import Plugin
from .formats import importer
from .service import AnnotationService

log = logging.getLogger(__name__)


class Annotation(AccessControlledModel):
    """Annotation documents: their own ACL; the service does everything else."""

    collection_name = 'annotation'
    model_type = 'annotation'
    missing_status = 404
    private_fields = ('_chunks', '_maxOrder', '_girderIds')


class IterReader:
    """A read()-able view of an iterator of byte strings."""

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


class AnnotationPlugin(Plugin):
    name = 'annotation'
    description = 'Annotations of large images, Girder/large_image compatible.'
    settings = {
        'annotation.chunk_size': (1000, 'elements per stored chunk'),
        'annotation.batch_size': (200000, 'elements spatially sorted together on ingest'),
        'annotation.history_keep': (None, 'keep only the newest N versions (None: all)'),
        'annotation.max_upload_bytes': (1536 << 20, 'largest annotation body or file'),
        'annotation.max_mask_pixels': (400 << 20, 'largest label mask rendered'),
    }

    def load(self, app):
        from .rest import AnnotationResource
        options = {key.split('.', 1)[1]: app.settings.get(key, default)
                   for key, (default, _) in self.settings.items()}
        app.models.add(Annotation(app))
        app.annotations = AnnotationService(app.db, options)
        app.annotations.ensure_indexes()
        app.router.add_resource(AnnotationResource(app))
        app.events.subscribe('model.item.removed',
                             lambda item: app.annotations.delete_for_item(item['_id']))
        app.events.subscribe('model.item.moved', lambda item: app.annotations.item_moved(
            item['_id'], item['folderId']))
        app.events.subscribe('model.item.copied', lambda info: self._copied(app, info))
        app.events.subscribe('model.file.finalized', lambda info: self._uploaded(app, info))

    @staticmethod
    def _copied(app, info):
        source, new, user = info['source'], info['copy'], info.get('user')
        docs, _ = app.annotations.find(item_id=source['_id'], limit=0)
        folder = app.models.folder.load(new['folderId'])
        for doc in docs:
            app.annotations.copy(doc['_id'], new, user or {'_id': doc['creatorId']}, folder)

    @staticmethod
    def _uploaded(app, info):
        file, item = info.get('file'), info.get('item')
        if not file or not item or not importer.importable(file.get('name')):
            return
        if info.get('replaced'):
            return
        creator = {'_id': file.get('creatorId') or item.get('creatorId')}
        folder = app.models.folder.load(item['folderId'])
        try:
            importer.import_file(app.annotations, item, creator,
                                 IterReader(app.models.file.open_range(file)),
                                 file['name'], folder)
        except Exception:
            # an upload stays an upload even when its contents are not an annotation
            log.warning('File %s was not imported as annotations', file['_id'], exc_info=True)


plugin = AnnotationPlugin()
