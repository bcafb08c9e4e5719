"""Paths, lookups, copies, moves and name search across the data hierarchy."""
import orjson

from ..database import icase_contains
from ..errors import RestError, ValidationError
from ..models.base import READ, announce, bump, now

RESOURCE_TYPES = ('collection', 'user', 'folder', 'item', 'file')


class TreeService:
    def __init__(self, app):
        self.app = app
        self.models = app.models

    # -- paths
    def path_of(self, doc, kind, user=None):
        """The '/collection/...' or '/user/...' path of a resource."""
        m = self.models
        if kind == 'user':
            return '/user/%s' % doc['login']
        if kind == 'collection':
            return '/collection/%s' % doc['name']
        names = []
        if kind == 'file':
            names.append(doc['name'])
            doc, kind = m.item.load(doc['itemId']), 'item'
        if kind == 'item':
            names.append(doc['name'])
            doc = m.folder.load(doc['folderId'])
        names.append(doc['name'])
        for root_kind, ancestor in reversed(m.folder.ancestors(doc)):
            if root_kind == 'folder':
                names.append(ancestor['name'])
            else:
                names.append(ancestor['login'] if root_kind == 'user' else ancestor['name'])
                names.append(root_kind)
        return '/' + '/'.join(reversed(names))

    def root_path(self, doc, kind, user):
        """Girder's rootpath: [{type, object}, ...] from the root down to the parent."""
        m = self.models
        folder = doc if kind == 'folder' else m.folder.load(doc['folderId'])
        chain = m.folder.ancestors(folder)
        if kind == 'item':
            chain.append(('folder', folder))
        return [{'type': t, 'object': m[t].filter(d, user)} for t, d in chain]

    def lookup(self, path, user, test=False):
        """The resource at a '/collection/...' or '/user/...' path (READ access needed)."""
        parts = [p for p in path.strip('/').split('/') if p != '']
        if len(parts) < 2 or parts[0] not in ('collection', 'user'):
            if test:
                return None, None
            raise RestError('Invalid path format: %s. It must start with /collection/<name> '
                            'or /user/<login>.' % path)
        m = self.models
        if parts[0] == 'user':
            doc, kind = m.user.find_one({'login': parts[1].lower()}), 'user'
        else:
            doc, kind = m.collection.find_one({'name': parts[1]}), 'collection'
        for name in parts[2:]:
            if doc is None:
                break
            doc, kind = self._child(doc, kind, name)
        if doc is None or not m[kind].has_access(doc, user, READ):
            if test:
                return None, None
            raise RestError('Path not found: %s' % path)
        return doc, kind

    def _child(self, doc, kind, name):
        """(document, kind) of the child named ``name`` of ``doc``; (None, kind) if none."""
        m = self.models
        if kind in ('user', 'collection', 'folder'):
            child = m.folder.find_one({'parentId': doc['_id'], 'name': name})
            if child is not None:
                return child, 'folder'
            if kind == 'folder':
                return m.item.find_one({'folderId': doc['_id'], 'name': name}), 'item'
            return None, kind
        if kind == 'item':
            return m.file.find_one({'itemId': doc['_id'], 'name': name}), 'file'
        return None, kind

    # -- search
    def search(self, q, types, user, limit=10, offset=0, mode='text'):
        """Name search without text indexes: case-insensitive substring (or prefix)."""
        m = self.models
        results = {}
        pattern = icase_contains(q) if mode != 'prefix' else {
            '$regex': '^' + icase_contains(q)['$regex'], '$options': 'i'}
        for kind in types:
            if kind not in ('collection', 'folder', 'item', 'user', 'group'):
                raise RestError('Invalid resource type for search: %s.' % kind)
            field = 'login' if kind == 'user' else 'name'
            query = {field: pattern}
            if kind == 'user':
                query = {'$or': [{'login': pattern}, {'firstName': pattern},
                                 {'lastName': pattern}]}
            model = m[kind]
            found = []
            folder_levels = {}
            cursor = model.find(query, sort=[('lowerName' if kind != 'user' else 'login', 1)])
            skipped = 0
            for doc in cursor:
                if kind == 'item':
                    fid = doc['folderId']
                    if fid not in folder_levels:
                        folder = m.folder.load(fid, exc=False)
                        folder_levels[fid] = folder is not None and m.folder.has_access(
                            folder, user, READ)
                    allowed = folder_levels[fid]
                else:
                    allowed = model.has_access(doc, user, READ)
                if not allowed:
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                found.append(model.filter(doc, user))
                if limit and len(found) >= limit:
                    break
            results[kind] = found
        return results

    # -- shared with me
    def shared_with(self, user, offset=0, limit=50):
        """(folders, total): the folders others shared with ``user`` or their groups,
        newest share first, each with ``_shared`` {at, by, via}.

        Only folders the user may read now through their own or their groups' entries:
        an administrator sees what was shared with them, not everything.
        """
        m = self.models
        rows, total = m.share.shared_with(user, offset, limit)
        folders = {f['_id']: f for f in m.folder.find({'_id': {'$in': [r['_id'] for r in rows]}})}
        as_member = dict(user, admin=False)  # the ACL's answer, without the admin bypass
        people = {u['_id']: u for u in m.user.find(
            {'_id': {'$in': list({r['sharedBy'] for r in rows if r.get('sharedBy')})}},
            fields={'login': 1, 'firstName': 1, 'lastName': 1})}
        groups = {g['_id']: g for g in m.group.find(
            {'_id': {'$in': [r['principalId'] for r in rows if r['kind'] == 'group']}},
            fields={'name': 1})}
        out = []
        for row in rows:
            folder = folders.get(row['_id'])
            if folder is None or m.folder.get_access_level(folder, as_member) < READ:
                continue  # deleted, or reached through an ACL a later change replaced
            doc = m.folder.filter(folder, user)
            by = people.get(row.get('sharedBy'))
            via = {'type': 'user'}
            if row['kind'] == 'group':
                group = groups.get(row['principalId'])
                via = {'type': 'group', 'id': row['principalId'],
                       'name': group['name'] if group else None}
            doc['_shared'] = {'at': row['since'], 'via': via, 'by': by and {
                '_id': by['_id'], 'login': by['login'],
                'name': '%s %s' % (by['firstName'], by['lastName'])}}
            out.append(doc)
        return out, total

    # -- moves and copies
    def move_folder(self, folder, parent, parent_type, user):
        m = self.models
        if parent_type == 'folder' and m.folder.is_inside(parent, folder['_id']):
            raise RestError('A folder cannot be moved into itself or one of its subfolders.')
        if m.folder.find_one({'parentId': parent['_id'], 'name': folder['name'],
                              '_id': {'$ne': folder['_id']}}):
            raise ValidationError('A folder with that name already exists here.', 'name')
        size = folder.get('size', 0)
        self._adjust_container(folder['parentId'], folder['parentCollection'], -size)
        bump(m, folder['parentCollection'], [folder['parentId']])
        if parent_type == 'folder':
            base_type, base_id = parent['baseParentType'], parent['baseParentId']
        else:
            base_type, base_id = parent_type, parent['_id']
        folder.update({'parentId': parent['_id'], 'parentCollection': parent_type,
                       'baseParentType': base_type, 'baseParentId': base_id, 'updated': now()})
        m.folder.save(folder)
        ids = m.folder.subtree_ids(folder)
        for start in range(0, len(ids), 500):
            batch = ids[start:start + 500]
            m.folder.collection.update_many({'_id': {'$in': batch}}, {'$set': {
                'baseParentType': base_type, 'baseParentId': base_id}})
            m.item.collection.update_many({'folderId': {'$in': batch}}, {'$set': {
                'baseParentType': base_type, 'baseParentId': base_id}})
        m.share.moved(ids, base_id if base_type == 'user' else None)
        self._adjust_container(parent['_id'], parent_type, size)
        return folder

    def move_item(self, item, folder):
        m = self.models
        if item['folderId'] == folder['_id']:
            return item
        m.folder.adjust_size(item['folderId'], -item.get('size', 0))
        old_folder = item['folderId']
        item.update({'folderId': folder['_id'], 'baseParentType': folder['baseParentType'],
                     'baseParentId': folder['baseParentId'], 'updated': now()})
        m.item.save(item)
        bump(m, 'folder', [old_folder])
        # watchers of the old folder see the item go (the save told the new folder's)
        announce(self.app, 'item.delete', dict(item, folderId=old_folder), 'folder', old_folder)
        m.folder.adjust_size(folder['_id'], item.get('size', 0))
        self.app.events.emit('model.item.moved', item)
        return item

    def _adjust_container(self, parent_id, parent_type, delta):
        if parent_type == 'folder':
            self.models.folder.adjust_size(parent_id, delta)
        else:
            self.models[parent_type].collection.update_one(
                {'_id': parent_id}, {'$inc': {'size': delta}})

    def copy_file(self, file, item, user):
        """A new file in ``item`` with a copy of ``file``'s bytes."""
        uploads = self.app.uploads
        # as in Girder, the copy stays in the source file's assetstore
        store = self.models.assetstore.load(file['assetstoreId'], exc=False)
        upload = uploads.start(user, item, 'item', file['name'], file['size'], file['mimeType'],
                               assetstore=store)
        if file['size'] == 0:
            return uploads.finish(upload)
        return uploads.receive(upload, self.models.file.open_range(file), 0)

    def copy_item(self, item, folder, user, name=None, description=None):
        m = self.models
        new = m.item.create(name or item['name'], folder, user,
                            item.get('description', '') if description is None else description,
                            meta=dict(item.get('meta') or {}))
        for f in m.file.find({'itemId': item['_id']}):
            self.copy_file(f, new, user)
        new = m.item.load(new['_id'])
        # plugins copy their own state (large image, annotations) on this event
        self.app.events.emit('model.item.copied', {'source': item, 'copy': new, 'user': user})
        return m.item.load(new['_id'])

    def copy_folder(self, folder, parent, parent_type, user, name=None, description=None,
                    public=None, progress=None):
        """Copy a folder with its subfolders, items and files (READ on source needed)."""
        m = self.models
        # a copy inside its own source would be copied again, and again, without end
        if parent_type == 'folder' and m.folder.is_inside(parent, folder['_id']):
            raise RestError('A folder cannot be copied into itself or one of its subfolders.')
        new = m.folder.create(name or folder['name'], parent, parent_type, user,
                              folder.get('description', '') if description is None
                              else description,
                              public=folder.get('public') if public is None else public,
                              meta=dict(folder.get('meta') or {}))
        for item in m.item.find({'folderId': folder['_id']}):
            self.copy_item(item, new, user)
        for child in m.folder.find({'parentId': folder['_id'], 'parentCollection': 'folder'}):
            if m.folder.has_access(child, user, READ):
                self.copy_folder(child, new, 'folder', user)
        return m.folder.load(new['_id'])

    # -- listing for zips
    def folder_entries(self, folder, user, prefix='', include_metadata=False):
        """(path, size, chunk iterator) for every file under ``folder`` the user may read;
        with ``include_metadata``, Girder's girder-*-metadata.json files too."""
        m = self.models
        base = prefix + folder['name'] + '/'
        any_entry = False
        if include_metadata and folder.get('meta'):
            any_entry = True
            yield _json_entry(base + 'girder-folder-metadata.json', folder['meta'])
        for item in m.item.find({'folderId': folder['_id']}, sort=[('name', 1)]):
            for entry in self.item_entries(item, base, include_metadata=include_metadata):
                any_entry = True
                yield entry
        for child in m.folder.find({'parentId': folder['_id'], 'parentCollection': 'folder'},
                                   sort=[('name', 1)]):
            if m.folder.has_access(child, user, READ):
                any_entry = True
                yield from self.folder_entries(child, user, base, include_metadata)
        if not any_entry:
            yield base, 0, lambda: iter(())

    def item_entries(self, item, prefix='', own_folder=None, include_metadata=False):
        """Zip entries of an item's files; in a folder named after the item unless it
        holds one file of its own name (``own_folder`` forces the choice)."""
        files = list(self.models.file.find({'itemId': item['_id']}, sort=[('name', 1)]))
        with_meta = include_metadata and bool(item.get('meta'))
        if own_folder is None:
            own_folder = with_meta or not (len(files) == 1 and files[0]['name'] == item['name'])
        base = prefix + item['name'] + '/' if own_folder else prefix
        for f in files:
            yield base + f['name'], f['size'], (lambda f=f: self.models.file.open_range(f))
        if with_meta:
            yield _json_entry(base + 'girder-item-metadata.json', item['meta'])


def _json_entry(path, value):
    """A zip entry holding ``value`` as JSON."""
    data = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    return path, len(data), lambda: iter([data])
