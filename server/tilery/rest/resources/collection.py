"""/collection: top-level containers."""
from ...database import icase_contains
from ...errors import AccessError
from ...models.base import ADMIN, READ, WRITE, check_meta_keys
from ...models.collection import Collection
from ...services.downloads import content_disposition, zip_stream
from ..params import ModelParam, Param
from ..request import Raw
from ..routing import DATA_SCOPES, PUBLIC, USER, Resource, route
from .common import access_answer, access_params, metadata_param


def _coll(level):
    return ModelParam('id', model=Collection, level=level, dest='collection')


class CollectionResource(Resource):
    prefix = 'collection'
    default_scopes = DATA_SCOPES

    def __init__(self, app):
        self.app = app
        self.collections = app.models.collection

    @route('GET', '', access=PUBLIC, response='Collection[]',
           paging='name', summary='List or search collections.',
           params=[Param('text'), Param('name', 'Exact name.')])
    def find(self, req, text, name, paging):
        clauses = [self.collections.access_query(req.user)]
        if text:
            clauses.append({'name': icase_contains(text)})
        if name is not None:
            clauses.append({'name': name})
        docs, total = self.collections.find_page({'$and': clauses}, paging)
        req.set_total_count(total)
        return [self.collections.filter(d, req.user) for d in docs]

    @route('POST', '', access=USER, response='Collection',
           summary='Create a collection (site admins).', params=[
        Param('name', required=True), Param('description', default=''),
        Param('public', type='boolean', default=False), metadata_param()])
    def create(self, req, name, description, public, metadata):
        if not req.user.get('admin'):
            raise AccessError('Only administrators may create collections.')
        if metadata:
            check_meta_keys(metadata)
        doc = self.collections.create(name, req.user, description, public, metadata)
        return self.collections.filter(doc, req.user)

    @route('GET', 'details', response='Details',
           access=PUBLIC, summary='How many collections there are.')
    def details_all(self, req):
        return {'nCollections': self.collections.count(
            self.collections.access_query(req.user))}

    @route('GET', ':id', access=PUBLIC, response='Collection',
           params=[_coll(READ)], summary='Get a collection.')
    def get(self, req, collection):
        return self.collections.filter(collection, req.user)

    @route('GET', ':id/details', response='Details', access=PUBLIC, params=[_coll(READ)],
           summary='How many folders a collection has.')
    def details(self, req, collection):
        return {'nFolders': self.app.models.folder.count(
            {'parentId': collection['_id'], 'parentCollection': 'collection'})}

    @route('PUT', ':id', access=USER, response='Collection',
           summary='Update a collection.', params=[
        _coll(WRITE), Param('name'), Param('description'), metadata_param()])
    def update(self, req, collection, name, description, metadata):
        if name is not None:
            collection['name'] = name
        if description is not None:
            collection['description'] = description
        if metadata is not None:  # checked first; merged as PUT .../metadata does
            check_meta_keys(metadata)
        collection = self.collections.save(collection)
        if metadata is not None:
            self.collections.set_metadata(collection, metadata)
        return self.collections.filter(collection, req.user)

    @route('DELETE', ':id', response='Message',
           access=USER, scope='core.data.own', params=[_coll(ADMIN)],
           summary='Delete a collection and everything in it.')
    def delete(self, req, collection):
        self.collections.remove(collection)
        return {'message': 'Deleted collection %s.' % collection['name']}

    @route('GET', ':id/access', response='AccessList', access=USER, params=[_coll(ADMIN)],
           summary="A collection's access list.")
    def get_access(self, req, collection):
        return access_answer(self.app, collection)

    @route('PUT', ':id/access', response='Collection', access=USER, scope='core.data.own',
           params=[_coll(ADMIN)] + access_params(),
           summary="Set a collection's access list.")
    def put_access(self, req, collection, access, public, public_flags, recurse):
        doc = self.collections.set_access(collection, access, public, public_flags, recurse,
                                          actor=req.user)
        return self.collections.filter(doc, req.user)

    @route('PUT', ':id/metadata', response='Collection', access=USER, json_body='object',
           params=[_coll(WRITE), Param('allowNull', type='boolean', default=False,
                                       dest='allow_null')],
           summary='Merge keys into the metadata (null removes a key).')
    def put_meta(self, req, collection, body, allow_null):
        return self.collections.filter(
            self.collections.set_metadata(collection, body, allow_null), req.user)

    @route('DELETE', ':id/metadata', response='Collection',
           access=USER, summary='Delete metadata keys.', params=[
        _coll(WRITE), Param('fields', 'JSON list of keys.', 'json', required=True,
                            json_types=(list,))])
    def delete_meta(self, req, collection, fields):
        return self.collections.filter(
            self.collections.delete_metadata(collection, fields), req.user)

    @route('GET', ':id/download', access=PUBLIC, cookie=True, params=[_coll(READ)],
           summary='Download a collection as a zip.')
    def download(self, req, collection):
        folders = self.app.models.folder

        def entries():
            for folder in folders.find({'parentId': collection['_id'],
                                        'parentCollection': 'collection'}, sort=[('name', 1)]):
                if folders.has_access(folder, req.user, READ):
                    yield from self.app.tree.folder_entries(folder, req.user,
                                                            collection['name'] + '/')
        return Raw(zip_stream(entries()), 'application/zip', headers={
            'Content-Disposition': content_disposition(collection['name'] + '.zip')})
