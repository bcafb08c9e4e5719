"""The annotation plugin: large_image-compatible annotations stored in spatial chunks."""
import dataclasses
import logging

from .. import Plugin, publisher
from . import imports, orphans
from .formats import importer
from .model import Annotation
from .service import AnnotationService
from .settings import AnnotationSettings

log = logging.getLogger(__name__)


class AnnotationPlugin(Plugin):
    name = 'annotation'
    description = 'Annotations of large images, Girder/large_image compatible.'
    settings = AnnotationSettings

    def load(self, app):
        from .answers import SCHEMAS
        from .rest import AnnotationAdminResource, AnnotationResource
        options = dataclasses.asdict(AnnotationSettings.read(app.settings))
        options['max_json_depth'] = app.settings.max_json_depth
        model = app.models.add(Annotation(app))
        app.annotations = AnnotationService(
            model, options, overlay_size=lambda item_id: self._overlay_size(app, item_id),
            feed=publisher(app))
        model.ensure_indexes()
        app.jobs.register(imports.JOB_TYPE, imports.ImportJob(app))
        masks = imports.MaskImportJob(app)
        app.jobs.register(imports.MASK_JOB_TYPE, masks, cleanup=masks.cleanup)
        app.router.add_schemas(SCHEMAS)
        app.router.add_resource(AnnotationResource(app))
        app.router.add_resource(AnnotationAdminResource(app))
        app.events.subscribe('model.item.removed',
                             lambda item: app.annotations.delete_for_item(item['_id']))
        app.events.subscribe('model.item.moved', lambda item: app.annotations.item_moved(
            item['_id'], item['folderId']))
        app.events.subscribe('model.item.copied', lambda info: self._copied(app, info))
        app.events.subscribe('model.file.finalized', lambda info: self._uploaded(app, info))

    @staticmethod
    def _overlay_size(app, item_id):
        """(width, height) of the image an image/pixelmap element overlays, for its box."""
        images = getattr(app, 'large_image', None)  # None when that plugin is disabled
        return images.image_size(item_id) if images is not None else None

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
        if not file or not item or info.get('replaced'):
            return

        def read_head(size):
            return b''.join(app.models.file.open_range(file, 0, min(file['size'], size)))
        try:
            if importer.importable(file.get('name'), read_head):
                imports.schedule_import(app, file, item)
        except Exception:
            # the upload stands whatever happens to its import
            log.exception('The import of file %s as annotations could not be queued',
                          file['_id'])

    def start(self, app):
        # chunks of ingests that died with their process; in the background, since a
        # large database takes a while to check and nothing waits for it
        app.annotations.sweeper = orphans.Sweeper(app.models.annotation,
                                                  app.annotations.in_flight, log=log).start()

    def stop(self, app):
        if app.annotations.sweeper is not None:
            app.annotations.sweeper.stop()
        app.annotations.in_flight.stop()


plugin = AnnotationPlugin()
