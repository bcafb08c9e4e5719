"""/item: items, their files, metadata, copies and downloads."""
from ...database import icase_contains
from ...errors import RestError
from ...models.base import READ, WRITE, check_meta_keys
from ...models.folder import Folder
from ...models.item import Item
from ...services.downloads import (content_disposition, file_download, on_download_origin,
                                   zip_stream)
from ..params import ModelParam, Param
from ..request import Raw
from ..routing import DATA_SCOPES, PUBLIC, USER, Resource, route
from .common import metadata_param


def _item(level):
    return ModelParam('id', model=Item, level=level, dest='item')


class ItemResource(Resource):
    prefix = 'item'
    default_scopes = DATA_SCOPES

    def __init__(self, app):
        self.app = app
        self.items = app.models.item
        self.files = app.models.file

    @route('GET', '', access=PUBLIC, response='Item[]',
           paging='lowerName', summary='List or search items.',
           params=[ModelParam('folderId', model=Folder, level=READ, required=False,
                              dest='folder'),
                   Param('text', 'Case-insensitive name search.'),
                   Param('name', 'Exact name.')])
    def find(self, req, folder, text, name, paging):
        if folder is not None:
            query = {'folderId': folder['_id']}
            if text:
                query['name'] = icase_contains(text)
            if name is not None:
                query['name'] = name
            page = None if len(query) > 1 else self.app.listings.page(
                self.items, folder, query, paging)
            docs, total = page or self.items.find_page(query, paging)
            req.set_total_count(total)
            return [self.items.filter(d, req.user) for d in docs]
        if not text:
            raise RestError('Give folderId or text.')
        found = self.app.tree.search(text, ['item'], req.user, paging.limit, paging.offset)
        return found['item']

    @route('POST', '', access=USER, response='Item', summary='Create an item.', params=[
        ModelParam('folderId', model=Folder, level=WRITE, dest='folder'),
        Param('name', required=True), Param('description', default=''),
        Param('reuseExisting', type='boolean', default=False, dest='reuse'), metadata_param()])
    def create(self, req, folder, name, description, reuse, metadata):
        if metadata:
            check_meta_keys(metadata)
        doc = self.items.create(name, folder, req.user, description, reuse, metadata)
        return self.items.filter(doc, req.user)

    @route('GET', ':id', access=PUBLIC, response='Item',
           params=[_item(READ)], summary='Get an item.')
    def get(self, req, item):
        return self.items.filter(item, req.user)

    @route('PUT', ':id', access=USER, response='Item', summary='Update or move an item.', params=[
        _item(WRITE), Param('name'), Param('description'),
        ModelParam('folderId', model=Folder, level=WRITE, required=False, dest='folder'),
        metadata_param()])
    def update(self, req, item, name, description, folder, metadata):
        if metadata is not None:  # checked before anything is stored
            check_meta_keys(metadata)
        if name is not None:
            item['name'] = name
        if description is not None:
            item['description'] = description
        item = self.items.save(item)
        if metadata is not None:
            self.items.set_metadata(item, metadata)
        if folder is not None:
            item = self.app.tree.move_item(item, folder)
        return self.items.filter(item, req.user)

    @route('DELETE', ':id', response='Message', access=USER, params=[_item(WRITE)],
           summary='Delete an item and its files.')
    def delete(self, req, item):
        self.items.remove(item)
        return {'message': 'Deleted item %s.' % item['name']}

    @route('GET', ':id/files', access=PUBLIC, response='File[]',
           paging='name', params=[_item(READ)],
           summary="An item's files.")
    def files_of(self, req, item, paging):
        docs, total = self.files.find_page({'itemId': item['_id']}, paging)
        req.set_total_count(total)
        return [self.files.filter(d, req.user) for d in docs]

    @route('GET', ':id/rootpath', response='RootPathEntry[]', access=PUBLIC, params=[_item(READ)],
           summary='The folders above this item, from the root.')
    def rootpath(self, req, item):
        return self.app.tree.root_path(item, 'item', req.user)

    @route('PUT', ':id/metadata', response='Item', access=USER, json_body='object',
           params=[_item(WRITE), Param('allowNull', type='boolean', default=False,
                                       dest='allow_null')],
           summary='Merge keys into the metadata (null removes a key).')
    def put_meta(self, req, item, body, allow_null):
        return self.items.filter(self.items.set_metadata(item, body, allow_null), req.user)

    @route('DELETE', ':id/metadata', response='Item',
           access=USER, summary='Delete metadata keys.', params=[
        _item(WRITE), Param('fields', 'JSON list of keys.', 'json', required=True,
                            json_types=(list,))])
    def delete_meta(self, req, item, fields):
        return self.items.filter(self.items.delete_metadata(item, fields), req.user)

    @route('POST', ':id/copy', response='Item',
           access=USER, summary='Copy an item with its files.', params=[
        _item(READ), ModelParam('folderId', model=Folder, level=WRITE, required=False,
                                dest='folder'),
        Param('name'), Param('description')])
    def copy(self, req, item, folder, name, description):
        if folder is None:
            folder = self.app.models.folder.load(item['folderId'])
            self.app.models.folder.require_access(folder, req.user, WRITE)
        doc = self.app.tree.copy_item(item, folder, req.user, name, description)
        return self.items.filter(doc, req.user)

    @route('GET', ':id/download', access=PUBLIC, cookie=True, params=[
        _item(READ), Param('format', 'zip: always a zip archive.'),
        Param('contentDisposition', enum=('inline', 'attachment'), default='attachment',
              dest='disposition')],
        summary="Download an item's file (or a zip of its files).")
    def download(self, req, item, format, disposition):
        files = list(self.files.find({'itemId': item['_id']}, limit=2))
        if len(files) == 1 and format != 'zip':
            return file_download(self.files, files[0], range_header=req.headers.get('Range'),
                                 disposition=disposition, inline_active=on_download_origin(
                                     self.app.settings.download_origin, req.headers.get('Host')))
        entries = self.app.tree.item_entries(item, item['name'] + '/', own_folder=False)
        return Raw(zip_stream(entries),
                   'application/zip', headers={
                       'Content-Disposition': content_disposition(item['name'] + '.zip')})
