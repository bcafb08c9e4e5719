"""Fast image tagging: tag sets on folders, keyboard-friendly tags on items, CSV in/out."""
from .. import Plugin
from . import answers
from .rest import TaggingResource
from .service import TaggingService


class TaggingPlugin(Plugin):
    name = 'tagging'
    description = 'Tag images quickly from the keyboard; import and export tagging CSVs.'

    def load(self, app):
        app.tagging = TaggingService(app)
        app.router.add_schemas(answers.SCHEMAS)
        app.router.add_resource(TaggingResource(app, app.tagging))


plugin = TaggingPlugin()
