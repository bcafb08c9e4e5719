"""Large images: tile serving from pyramidal files, and conversion jobs for the rest.

An uploaded file that a tile source reads as a tiled image (pyramidal TIFF, .svs,
.ndpi, .mrxs, ...) becomes its item's large image at once; another image is
converted into a tiled pyramidal TIFF by a job, stored as a new file of the item.
Routes: ``/item/:itemId/tiles...`` (``rest.py``); conversions run on the core's
``app.jobs``.

Imports stay inside ``load``: the conversion worker process imports this package and
needs none of the server.
"""
import os

from .. import Plugin
from .settings import LargeImageSettings, configure_large_image


class LargeImagePlugin(Plugin):
    name = 'large_image'
    description = 'Tile serving and conversion of large images (girder_large_image API).'
    settings = LargeImageSettings

    def load(self, app):
        from . import answers
        from .rest import CacheResource, TilesResource
        from .service import LargeImageService

        jobs = app.jobs
        settings = LargeImageSettings.from_settings(
            app.settings, work_dir=os.path.join(app.settings.data_dir, 'tmp', 'large_image'),
            item_cache_seconds=app.settings.auth_cache_seconds)
        configure_large_image(settings)
        app.large_image = LargeImageService(app.models, app.uploads, jobs, settings,
                                            app.metrics, app.invalidation)
        app.router.add_schemas(answers.SCHEMAS)
        app.router.add_resource(TilesResource(app))
        app.router.add_resource(CacheResource(app))
        app.events.subscribe('model.file.finalized', app.large_image.on_file_finalized)
        app.events.subscribe('model.item.copied', app.large_image.on_item_copied)
        app.events.subscribe('model.item.moved', app.large_image.on_item_moved)
        app.events.subscribe('model.item.removing', app.large_image.on_item_removing)
        app.events.subscribe('model.file.removed', app.large_image.on_file_removed)
        app.events.subscribe('model.folder.access_changed',
                             lambda event: app.large_image.item_cache.forget())


plugin = LargeImagePlugin()
