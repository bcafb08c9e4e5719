"""Folders: nested under users, collections or folders; they carry the ACL of their items."""
import copy

from ..errors import RestError, ValidationError
from .base import ADMIN, AccessControlledModel, announce, bump, check_name, now

PARENT_FIELDS = ('parentId', 'parentCollection')  # of folder events (notification streams)


class Folder(AccessControlledModel):
    collection_name = 'folder'
    model_type = 'folder'
    indexes = (([('parentId', 1), ('name', 1)], {'unique': True}),
               [('parentId', 1), ('lowerName', 1)], 'baseParentId', 'lowerName')

    def validate(self, doc):
        doc['name'] = check_name(doc.get('name', ''), 'folder name')
        doc['lowerName'] = doc['name'].lower()
        if doc.get('parentCollection') not in ('folder', 'user', 'collection'):
            raise ValidationError('Invalid parent type.', 'parentCollection')
        query = {'parentId': doc['parentId'], 'name': doc['name']}
        if '_id' in doc:
            query['_id'] = {'$ne': doc['_id']}
        if self.find_one(query, {'_id': 1}):
            raise ValidationError('A folder with that name already exists here.', 'name')
        return doc

    def save(self, doc, validate=True):
        new = '_id' not in doc
        doc = super().save(doc, validate)
        bump(self.app.models, doc['parentCollection'], [doc['parentId']])
        announce(self.app, 'folder.create' if new else 'folder.update', doc,
                 doc['parentCollection'], doc['parentId'], PARENT_FIELDS)
        return doc

    def create(self, name, parent, parent_type, creator, description='', public=None,
               reuse_existing=False, meta=None):
        """A new folder under ``parent``; it copies a folder or collection parent's ACL."""
        name = check_name(name, 'folder name')
        if reuse_existing:
            existing = self.find_one({'parentId': parent['_id'], 'name': name})
            if existing is not None:
                return existing
        if parent_type == 'folder':
            base_type, base_id = parent['baseParentType'], parent['baseParentId']
        else:
            base_type, base_id = parent_type, parent['_id']
        doc = {'name': name, 'description': description or '', 'parentCollection': parent_type,
               'parentId': parent['_id'], 'baseParentType': base_type, 'baseParentId': base_id,
               'creatorId': creator['_id'] if creator else None, 'created': now(),
               'updated': now(), 'size': 0, 'meta': meta or {}}
        if parent_type in ('folder', 'collection'):
            doc['access'] = copy.deepcopy(parent.get('access') or {'users': [], 'groups': []})
            doc['public'] = parent.get('public', False) if public is None else bool(public)
            doc['publicFlags'] = list(parent.get('publicFlags') or [])
        else:
            doc['access'] = {'users': [], 'groups': []}
            doc['public'] = bool(public) if public is not None else False
        if creator is not None:
            self.set_user_access(doc, creator['_id'], ADMIN)
        return self.save(doc)

    def ancestors(self, doc):
        """[(type, document), ...] from the root user/collection down to ``doc``'s parent."""
        chain = []
        current = doc
        seen = set()
        while current['parentCollection'] == 'folder':
            if current['parentId'] in seen:
                raise RestError('Folder hierarchy loop detected.')
            seen.add(current['parentId'])
            current = self.load(current['parentId'])
            chain.append(('folder', current))
        root_model = self.app.models[current['parentCollection']]
        chain.append((current['parentCollection'], root_model.load(current['parentId'])))
        return list(reversed(chain))

    def is_inside(self, doc, ancestor_id):
        """True when ``ancestor_id`` is ``doc`` or one of its ancestors."""
        if doc['_id'] == ancestor_id:
            return True
        return any(d['_id'] == ancestor_id for _, d in self.ancestors(doc))

    def subtree_ids(self, doc):
        """Ids of ``doc`` and every folder below it, level by level (one query a level)."""
        ids, frontier = [doc['_id']], [doc['_id']]
        while frontier:
            children = [f['_id'] for f in self.collection.find(
                {'parentId': {'$in': frontier}, 'parentCollection': 'folder'}, {'_id': 1})]
            ids.extend(children)
            frontier = children
        return ids

    def adjust_size(self, doc_id, delta, parent_type='folder', new_child=False):
        """Add ``delta`` bytes to a folder, its ancestors and its root (``new_child``:
        and bump the folder's listVersion in the same write, for a new item)."""
        if not delta:
            return
        current_id = doc_id
        increment = {'size': delta, 'listVersion': 1} if new_child else {'size': delta}
        while current_id is not None:
            doc = self.update_and_get({'_id': current_id}, {'$inc': increment},
                                      projection={'parentId': 1, 'parentCollection': 1})
            increment = {'size': delta}
            if doc is None:
                return
            if doc['parentCollection'] != 'folder':
                self.app.models[doc['parentCollection']].collection.update_one(
                    {'_id': doc['parentId']}, {'$inc': {'size': delta}})
                return
            current_id = doc['parentId']

    def remove(self, doc, **kwargs):
        """Delete the folder, everything below it, and free the stored bytes."""
        ids = self.subtree_ids(doc)
        items = self.app.models.item
        for start in range(0, len(ids), 500):
            batch = ids[start:start + 500]
            self.app.uploads.cancel_for_parents(batch)
            for item in items.find({'folderId': {'$in': batch}}):
                items.remove(item, adjust_sizes=False)
            self.collection.delete_many({'_id': {'$in': batch}})
            self.app.models.share.forget_folders(batch)
        bump(self.app.models, doc['parentCollection'], [doc['parentId']])
        if doc['parentCollection'] == 'folder':
            self.adjust_size(doc['parentId'], -doc.get('size', 0))
        else:
            self.app.models[doc['parentCollection']].collection.update_one(
                {'_id': doc['parentId']}, {'$inc': {'size': -doc.get('size', 0)}})
        announce(self.app, 'folder.delete', doc, doc['parentCollection'], doc['parentId'],
                 PARENT_FIELDS)
        self.app.events.emit('model.folder.removed', doc)

    def clean(self, doc):
        """Delete the folder's contents but keep the folder."""
        for child in self.find({'parentId': doc['_id'], 'parentCollection': 'folder'}):
            self.remove(child)
        items = self.app.models.item
        for item in items.find({'folderId': doc['_id']}):
            items.remove(item)

    def set_access(self, doc, access, public=None, public_flags=None, recurse=False,
                   actor=None):
        """As for any ACL, and: listings of the parent filter by it, ``recurse`` gives every
        subfolder the same ACL, the share index notes whom it newly names (shared by
        ``actor``, who is audited too), and plugins hear of it (model.folder.access_changed)."""
        old_access = doc.get('access')
        super().set_access(doc, access, public, public_flags, recurse, actor)
        bump(self.app.models, doc['parentCollection'], [doc['parentId']])
        if recurse:
            self.set_access_recursive(doc, doc['access'], doc.get('public', False),
                                      doc.get('publicFlags'))
        self.app.models.share.record(doc, old_access, actor)  # when, for "Shared with me"
        self.app.events.emit('model.folder.access_changed', {'folder': doc, 'recurse': recurse})
        return doc

    def set_access_recursive(self, doc, access, public, public_flags=None):
        """Give every folder under ``doc`` the same ACL (``recurse=true``)."""
        update = {'access': access, 'public': public}
        if public_flags is not None:
            update['publicFlags'] = public_flags
        ids = self.subtree_ids(doc)
        for start in range(0, len(ids), 500):
            self.collection.update_many({'_id': {'$in': ids[start:start + 500]}},
                                        {'$set': update})
        self.app.models.share.keep_only(ids, access)  # shares the new ACL revoked
        # listings filter subfolders by their ACL: every parent in the subtree changed
        bump(self.app.models, 'folder', ids)
        bump(self.app.models, doc['parentCollection'], [doc['parentId']])

    def filter(self, doc, user=None):
        out = super().filter(doc, user)
        out.pop('access', None)
        out.pop('publicFlags', None)
        out.pop('listVersion', None)
        return out
