"""Pixel labelling: per-user class-index masks on items, project classes, progress, and
superpixels (SLIC, Felzenszwalb, quickshift, watershed) to paint with."""
from .. import Plugin
from . import answers
from .rest import FolderLabelsResource, ItemLabelsResource
from .service import LabelService
from .settings import LabelSettings


class LabelsPlugin(Plugin):
    name = 'labels'
    description = 'Pixel labelling with brushes and superpixels; masks per labeller.'
    settings = LabelSettings

    def load(self, app):
        app.labels = LabelService(app)
        app.router.add_schemas(answers.SCHEMAS)
        app.router.add_resource(ItemLabelsResource(app, app.labels))
        app.router.add_resource(FolderLabelsResource(app, app.labels))
        app.events.subscribe('model.file.removed', app.labels.forget_file)


plugin = LabelsPlugin()
