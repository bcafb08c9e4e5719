"""/folder: folders, their contents, ACLs, copies and zip downloads."""
from ...database import icase_contains
from ...errors import RestError
from ...models.base import ADMIN, READ, WRITE, check_meta_keys, check_name
from ...models.folder import Folder
from ...services.downloads import content_disposition, zip_stream
from ..params import ModelParam, Param
from ..request import Raw
from ..routing import DATA_SCOPES, PUBLIC, USER, Resource, route
from .common import access_answer, access_params, metadata_param

PARENT_TYPES = ('folder', 'user', 'collection')


def _folder(level):
    return ModelParam('id', model=Folder, level=level, dest='folder')


class FolderResource(Resource):
    prefix = 'folder'
    default_scopes = DATA_SCOPES

    def __init__(self, app):
        self.app = app
        self.folders = app.models.folder

    def _parent(self, req, parent_type, parent_id, level):
        model = self.app.models[parent_type]
        parent = model.load(parent_id)
        model.require_access(parent, req.user, level)
        return parent

    @route('GET', '', access=PUBLIC, response='Folder[]',
           paging='lowerName', summary='List or search folders.',
           params=[Param('parentType', enum=PARENT_TYPES, dest='parent_type'),
                   Param('parentId', type='objectid', dest='parent_id'),
                   Param('text', 'Case-insensitive name search.'),
                   Param('name', 'Exact name.')])
    def find(self, req, parent_type, parent_id, text, name, paging):
        clauses = []
        if parent_id is not None:
            if parent_type is None:
                raise RestError('parentType is required with parentId.')
            parent = self._parent(req, parent_type, parent_id, READ)
            query = {'parentId': parent_id, 'parentCollection': parent_type}
            page = None if text or name is not None else self.app.listings.page(
                self.folders, parent, query, paging, fields=('public', 'access'),
                visible=lambda row: self.folders.has_access(row, req.user, READ))
            if page is not None:
                req.set_total_count(page[1])
                return [self.folders.filter(d, req.user) for d in page[0]]
            clauses.append(query)
        elif text is None:
            raise RestError('Give parentType and parentId, or text.')
        if text:
            clauses.append({'name': icase_contains(text)})
        if name is not None:
            clauses.append({'name': name})
        clauses.append(self.folders.access_query(req.user))
        docs, total = self.folders.find_page({'$and': clauses}, paging)
        req.set_total_count(total)
        return [self.folders.filter(d, req.user) for d in docs]

    @route('POST', '', access=USER, response='Folder', summary='Create a folder.', params=[
        Param('parentType', enum=PARENT_TYPES, default='folder', dest='parent_type'),
        Param('parentId', type='objectid', required=True, dest='parent_id'),
        Param('name', required=True), Param('description', default=''),
        Param('reuseExisting', type='boolean', default=False, dest='reuse'),
        Param('public', type='boolean'), metadata_param()])
    def create(self, req, parent_type, parent_id, name, description, reuse, public, metadata):
        level = ADMIN if parent_type == 'user' else WRITE
        parent = self._parent(req, parent_type, parent_id, level)
        if metadata:
            check_meta_keys(metadata)
        doc = self.folders.create(name, parent, parent_type, req.user, description, public,
                                  reuse, metadata)
        return self.folders.filter(doc, req.user)

    @route('GET', ':id', access=PUBLIC, response='Folder',
           params=[_folder(READ)], summary='Get a folder.')
    def get(self, req, folder):
        return self.folders.filter(folder, req.user)

    @route('GET', ':id/details', response='Details', access=PUBLIC, params=[_folder(READ)],
           summary='How many items and subfolders a folder has.')
    def details(self, req, folder):
        return {'nItems': self.app.models.item.count({'folderId': folder['_id']}),
                'nFolders': self.folders.count({'parentId': folder['_id'],
                                                'parentCollection': 'folder'})}

    @route('GET', ':id/rootpath', response='RootPathEntry[]',
           access=PUBLIC, params=[_folder(READ)],
           summary='The folders above this one, from the root.')
    def rootpath(self, req, folder):
        chain = self.folders.ancestors(folder)
        return [{'type': t, 'object': self.app.models[t].filter(d, req.user)} for t, d in chain]

    @route('PUT', ':id', access=USER, response='Folder',
           summary='Update or move a folder.', params=[
        _folder(WRITE), Param('name'), Param('description'),
        Param('parentType', enum=PARENT_TYPES, dest='parent_type'),
        Param('parentId', type='objectid', dest='parent_id'), metadata_param()])
    def update(self, req, folder, name, description, parent_type, parent_id, metadata):
        # everything is checked before anything is stored: a refused request changes nothing
        if metadata is not None:
            check_meta_keys(metadata)
        if name is not None:
            folder['name'] = check_name(name, 'folder name')
        if description is not None:
            folder['description'] = description
        if parent_id is not None and parent_id != folder['parentId']:
            parent_type = parent_type or 'folder'
            level = ADMIN if parent_type == 'user' else WRITE
            parent = self._parent(req, parent_type, parent_id, level)
            self.folders.require_access(folder, req.user, ADMIN)
            folder = self.app.tree.move_folder(folder, parent, parent_type, req.user)
        else:
            folder = self.folders.save(folder)
        if metadata is not None:
            self.folders.set_metadata(folder, metadata)
        return self.folders.filter(folder, req.user)

    @route('DELETE', ':id', response='Message',
           access=USER, scope='core.data.own', params=[_folder(ADMIN)],
           summary='Delete a folder and everything in it.')
    def delete(self, req, folder):
        self.folders.remove(folder)
        return {'message': 'Deleted folder %s.' % folder['name']}

    @route('DELETE', ':id/contents', response='Message', access=USER, params=[_folder(WRITE)],
           summary="Delete a folder's contents, keeping the folder.")
    def delete_contents(self, req, folder):
        self.folders.clean(folder)
        return {'message': 'Deleted the contents of folder %s.' % folder['name']}

    @route('GET', ':id/access', response='AccessList', access=USER, params=[_folder(ADMIN)],
           summary="A folder's access list.")
    def get_access(self, req, folder):
        return access_answer(self.app, folder)

    @route('PUT', ':id/access', response='Folder', access=USER, scope='core.data.own',
           params=[_folder(ADMIN)] + access_params(),
           summary="Set a folder's access list (recurse: also every subfolder).")
    def put_access(self, req, folder, access, public, public_flags, recurse):
        doc = self.folders.set_access(folder, access, public, public_flags, recurse,
                                      actor=req.user)
        return self.folders.filter(doc, req.user)

    @route('PUT', ':id/metadata', response='Folder', access=USER, json_body='object',
           params=[_folder(WRITE), Param('allowNull', type='boolean', default=False,
                                         dest='allow_null')],
           summary='Merge keys into the metadata (null removes a key).')
    def put_meta(self, req, folder, body, allow_null):
        return self.folders.filter(self.folders.set_metadata(folder, body, allow_null),
                                   req.user)

    @route('DELETE', ':id/metadata', response='Folder',
           access=USER, summary='Delete metadata keys.', params=[
        _folder(WRITE), Param('fields', 'JSON list of keys.', 'json', required=True,
                              json_types=(list,))])
    def delete_meta(self, req, folder, fields):
        return self.folders.filter(self.folders.delete_metadata(folder, fields), req.user)

    @route('POST', ':id/copy', response='Folder',
           access=USER, summary='Copy a folder with its contents.', params=[
        _folder(READ), Param('parentType', enum=PARENT_TYPES, dest='parent_type'),
        Param('parentId', type='objectid', dest='parent_id'), Param('name'),
        Param('description'), Param('public', type='boolean')])
    def copy(self, req, folder, parent_type, parent_id, name, description, public):
        if parent_id is None:
            parent_type, parent_id = folder['parentCollection'], folder['parentId']
        parent_type = parent_type or 'folder'
        level = ADMIN if parent_type == 'user' else WRITE
        parent = self._parent(req, parent_type, parent_id, level)
        if name is None and parent['_id'] == folder['parentId']:
            name = folder['name'] + ' (copy)'
        doc = self.app.tree.copy_folder(folder, parent, parent_type, req.user, name,
                                        description, public)
        return self.folders.filter(doc, req.user)

    @route('GET', ':id/download', access=PUBLIC, cookie=True, params=[_folder(READ)],
           summary='Download a folder as a zip.')
    def download(self, req, folder):
        entries = self.app.tree.folder_entries(folder, req.user)
        return Raw(zip_stream(entries), 'application/zip', headers={
            'Content-Disposition': content_disposition(folder['name'] + '.zip')})
