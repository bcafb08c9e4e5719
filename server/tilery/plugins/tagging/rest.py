"""REST routes of the tagging plugin."""
from ...errors import RestError
from ...models import Folder, Item
from ...rest import DATA_SCOPES, PUBLIC, USER, ModelParam, Raw, Resource, route
from .. import READ, WRITE, content_disposition


class TaggingResource(Resource):
    default_scopes = DATA_SCOPES
    def __init__(self, app, service):
        self.app = app
        self.service = service

    @route('GET', 'folder/:id/tagset', response='Tagset',
           access=PUBLIC, summary="A folder's tag set.", params=[
        ModelParam('id', model=Folder, level=READ, dest='folder')])
    def tagset(self, req, folder):
        return self.service.tagset(folder)

    @route('PUT', 'folder/:id/tagset', response='Tagset',
           access=USER, json_body='object', summary=(
        "Set a folder's tag set: {tags: [{code, alias, key}], multiple}."), params=[
        ModelParam('id', model=Folder, level=WRITE, dest='folder')])
    def set_tagset(self, req, folder, body):
        return self.service.set_tagset(folder, body)

    @route('GET', 'folder/:id/tags/summary', response='TagSummary', access=PUBLIC, params=[
        ModelParam('id', model=Folder, level=READ, dest='folder')],
        summary='How many images carry each tag.')
    def summary(self, req, folder):
        return self.service.summary(folder)

    @route('GET', 'folder/:id/tags/csv', access=PUBLIC, cookie=True, params=[
        ModelParam('id', model=Folder, level=READ, dest='folder')],
        summary="The folder's tags as the tagging tool's CSV.")
    def export(self, req, folder):
        return Raw(self.service.export_csv(folder).encode('utf8'), 'text/csv', headers={
            'Content-Disposition': content_disposition(folder['name'] + '__labelled__.csv')})

    @route('PUT', 'folder/:id/tags/csv', response='Updated', access=USER, raw_body=True, params=[
        ModelParam('id', model=Folder, level=WRITE, dest='folder')],
        summary='Apply a tagging CSV (checked whole before anything changes).')
    def import_(self, req, folder):
        try:
            text = req.read_body(64 << 20).decode('utf-8-sig')
        except UnicodeDecodeError:
            raise RestError('The CSV must be UTF-8 text.')
        return self.service.import_csv(folder, text)

    @route('PUT', 'item/:id/tags', response='Item', access=USER, json_body='list', params=[
        ModelParam('id', model=Item, level=READ, dest='item')],
        summary='Set the tags of an image (a list of tag codes; [] clears them).')
    def set_tags(self, req, item, body):
        folders = self.app.models.folder
        folder = folders.require_annotate(folders.load(item['folderId']), req.user,
                                          'You may not tag images in this folder.')
        return self.app.models.item.filter(self.service.set_tags(item, folder, body), req.user)
