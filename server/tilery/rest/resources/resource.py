"""/resource: paths, lookups, search, and actions on mixed sets of resources."""
from ...errors import RestError, ValidationError
from ...models.base import ADMIN, READ, WRITE, to_object_id
from ...services.downloads import zip_stream
from ...services.tree import RESOURCE_TYPES
from ..params import Param
from ..request import Raw
from ..routing import DATA_SCOPES, PUBLIC, USER, Resource, route

RESOURCES = Param('resources', 'JSON object: {"item": [ids], "folder": [ids], ...}', 'json',
                  required=True, json_types=(dict,))


class ResourceResource(Resource):
    prefix = 'resource'
    default_scopes = DATA_SCOPES

    def __init__(self, app):
        self.app = app

    def _each(self, req, resources, level, allowed=('folder', 'item', 'file', 'collection',
                                                     'user')):
        """Load every listed resource, checking access, before anything is changed."""
        out = []
        for kind, ids in resources.items():
            if kind not in allowed:
                raise RestError('Invalid resource type: %s.' % kind)
            if not isinstance(ids, list):
                raise RestError('resources.%s must be a list of ids.' % kind)
            model = self.app.models[kind]
            for rid in ids:
                doc = model.load(to_object_id(rid, kind))
                model.require_access(doc, req.user, level)
                out.append((kind, doc))
        return out

    @route('GET', 'lookup', response='AnyResource?',
           access=PUBLIC, summary='The resource at a path.', params=[
        Param('path', '/collection/<name>/... or /user/<login>/...', required=True),
        Param('test', 'Answer null instead of an error when nothing is there.', 'boolean',
              default=False)])
    def lookup(self, req, path, test):
        doc, kind = self.app.tree.lookup(path, req.user, test)
        return None if doc is None else self.app.models[kind].filter(doc, req.user)

    @route('GET', 'search', response='SearchResult',
           access=PUBLIC, summary='Search resources by name.', params=[
        Param('q', 'Text to look for (case-insensitive).', required=True),
        Param('mode', enum=('text', 'prefix'), default='text'),
        Param('types', 'JSON list of types.', 'json', required=True, json_types=(list,)),
        Param('level', type='integer', default=READ),
        Param('limit', type='integer', default=10, min=0),
        Param('offset', type='integer', default=0, min=0)])
    def search(self, req, q, mode, types, level, limit, offset):
        return self.app.tree.search(q, types, req.user, limit, offset, mode)

    @route('GET', 'shared', response='SharedFolder[]',
           access=USER, summary='Folders other users shared with me or my '
           'groups, newest share first (_shared: at, by, via); not those in my own tree.',
           params=[Param('limit', 'Result set size limit.', 'integer', default=50, min=1,
                         max=1000),
                   Param('offset', 'Offset into result set.', 'integer', default=0, min=0)])
    def shared(self, req, limit, offset):
        folders, total = self.app.tree.shared_with(req.user, offset, limit)
        req.set_total_count(total)
        return folders

    @route('GET', ':id/path', response='string',
           access=PUBLIC, summary='The path of a resource.', params=[
        Param('id', type='objectid'), Param('type', enum=RESOURCE_TYPES, required=True)])
    def path(self, req, id, type):
        model = self.app.models[type]
        doc = model.load(id)
        model.require_access(doc, req.user, READ)
        return self.app.tree.path_of(doc, type, req.user)

    @route('GET', ':id', response='AnyResource',
           access=PUBLIC, summary='A resource of any type.', params=[
        Param('id', type='objectid'), Param('type', enum=RESOURCE_TYPES, required=True)])
    def get(self, req, id, type):
        model = self.app.models[type]
        doc = model.load(id)
        model.require_access(doc, req.user, READ)
        return model.filter(doc, req.user)

    def _zip(self, req, resources, include_metadata):
        docs = self._each(req, resources, READ, ('folder', 'item', 'collection', 'user'))
        tree, folders = self.app.tree, self.app.models.folder

        def entries():
            for kind, doc in docs:
                if kind == 'item':
                    yield from tree.item_entries(doc, include_metadata=include_metadata)
                elif kind == 'folder':
                    yield from tree.folder_entries(doc, req.user, '', include_metadata)
                else:
                    prefix = (doc.get('login') or doc['name']) + '/'
                    for folder in folders.find({'parentId': doc['_id']}, sort=[('name', 1)]):
                        if folders.has_access(folder, req.user, READ):
                            yield from tree.folder_entries(folder, req.user, prefix,
                                                           include_metadata)
        return Raw(zip_stream(entries()), 'application/zip', headers={
            'Content-Disposition': 'attachment; filename="Resources.zip"'})

    DOWNLOAD = [RESOURCES, Param('includeMetadata', 'Add girder-*-metadata.json files.',
                                 'boolean', default=False, dest='include_metadata')]

    @route('GET', 'download', access=PUBLIC, cookie=True, params=DOWNLOAD,
           summary='Download a set of resources as one zip.')
    def download(self, req, resources, include_metadata):
        return self._zip(req, resources, include_metadata)

    @route('POST', 'download', access=PUBLIC, cookie=True, scope='core.data.read',
           params=DOWNLOAD, summary='Download a set of resources as one zip.')
    def download_post(self, req, resources, include_metadata):
        return self._zip(req, resources, include_metadata)

    @route('DELETE', '', response='Message',
           access=USER, scope='core.data.own', params=[RESOURCES],
           summary='Delete a set of resources (all access is checked first).')
    def delete(self, req, resources):
        docs = self._each(req, resources, WRITE, ('folder', 'item', 'file', 'collection'))
        for kind, doc in docs:
            if kind in ('folder', 'collection'):
                self.app.models[kind].require_access(doc, req.user, ADMIN)
        for kind, doc in docs:
            model = self.app.models[kind]
            if model.load(doc['_id'], exc=False) is not None:
                model.remove(doc)
        return {'message': 'Deleted %d resources.' % len(docs)}

    def _target(self, req, parent_type, parent_id):
        model = self.app.models[parent_type]
        parent = model.load(parent_id)
        model.require_access(parent, req.user, ADMIN if parent_type == 'user' else WRITE)
        return parent

    TARGET = [Param('parentType', enum=('folder', 'user', 'collection'), required=True,
                    dest='parent_type'),
              Param('parentId', type='objectid', required=True, dest='parent_id')]

    def _check_targets(self, req, docs, parent, parent_type, verb, folder_level):
        """Refuse the whole set before anything moves if any part of it would fail."""
        folders = self.app.models.folder
        for kind, doc in docs:
            if kind == 'item' and parent_type != 'folder':
                raise RestError('Items can only be %s into folders.' % verb)
            if kind == 'folder':
                folders.require_access(doc, req.user, folder_level)
                if parent_type == 'folder' and folders.is_inside(parent, doc['_id']):
                    raise RestError('A folder cannot be %s into itself or one of its '
                                    'subfolders.' % verb)
                if verb == 'moved' and doc['parentId'] != parent['_id'] and folders.find_one(
                        {'parentId': parent['_id'], 'name': doc['name']}, {'_id': 1}):
                    raise ValidationError('A folder named %s already exists there.' %
                                          doc['name'], 'name')

    @route('PUT', 'move', response='Message', access=USER, params=[RESOURCES] + TARGET,
           summary='Move folders and items into a new parent.')
    def move(self, req, resources, parent_type, parent_id):
        parent = self._target(req, parent_type, parent_id)
        docs = self._each(req, resources, WRITE, ('folder', 'item'))
        self._check_targets(req, docs, parent, parent_type, 'moved', ADMIN)
        for kind, doc in docs:
            if kind == 'item':
                self.app.tree.move_item(doc, parent)
            else:
                self.app.tree.move_folder(doc, parent, parent_type, req.user)
        return {'message': 'Moved %d resources.' % len(docs)}

    @route('POST', 'copy', response='Message', access=USER, params=[RESOURCES] + TARGET,
           summary='Copy folders and items into a new parent.')
    def copy(self, req, resources, parent_type, parent_id):
        parent = self._target(req, parent_type, parent_id)
        docs = self._each(req, resources, READ, ('folder', 'item'))
        self._check_targets(req, docs, parent, parent_type, 'copied', READ)
        for kind, doc in docs:
            if kind == 'item':
                self.app.tree.copy_item(doc, parent, req.user)
            else:
                self.app.tree.copy_folder(doc, parent, parent_type, req.user)
        return {'message': 'Copied %d resources.' % len(docs)}
