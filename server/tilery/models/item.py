"""Items: named groups of files inside a folder; access comes from the folder."""
from .base import READ, Model, announce, bump, check_name, now


class Item(Model):
    collection_name = 'item'
    model_type = 'item'
    indexes = (([('folderId', 1), ('name', 1)], {'unique': True}),
               [('folderId', 1), ('lowerName', 1)], 'baseParentId', 'lowerName')

    def validate(self, doc):
        doc['name'] = check_name(doc.get('name', ''), 'item name')
        doc['lowerName'] = doc['name'].lower()
        # as in Girder, a clashing item name gets " (1)", " (2)", ... appended
        base, n = doc['name'], 0
        while True:
            query = {'folderId': doc['folderId'], 'name': doc['name']}
            if '_id' in doc:
                query['_id'] = {'$ne': doc['_id']}
            if self.find_one(query, {'_id': 1}) is None:
                break
            n += 1
            doc['name'] = '%s (%d)' % (base, n)
        doc['lowerName'] = doc['name'].lower()
        return doc

    def save(self, doc, validate=True, bump_folder=True):
        new = '_id' not in doc
        doc = super().save(doc, validate)
        if bump_folder:
            bump(self.app.models, 'folder', [doc['folderId']])  # a new or renamed child
        announce(self.app, 'item.create' if new else 'item.update', doc, 'folder',
                 doc['folderId'])
        return doc

    def create(self, name, folder, creator, description='', reuse_existing=False, meta=None,
               size=0):
        """A new item in ``folder``; ``size`` is that of the file it is made for, if any."""
        name = check_name(name, 'item name')
        if reuse_existing:
            existing = self.find_one({'folderId': folder['_id'], 'name': name})
            if existing is not None:
                return existing
        doc = {'name': name, 'description': description or '', 'folderId': folder['_id'],
               'baseParentType': folder['baseParentType'],
               'baseParentId': folder['baseParentId'],
               'creatorId': creator['_id'] if creator else None, 'created': now(),
               'updated': now(), 'size': size, 'meta': meta or {}}
        doc = self.save(doc, bump_folder=not size)
        if size:  # the folder learns of its new child and its bytes in one write
            self.app.models.folder.adjust_size(doc['folderId'], size, new_child=True)
        self.app.events.emit('model.item.created', doc)
        return doc

    # access is the folder's
    def folder_of(self, doc):
        return self.app.models.folder.load(doc['folderId'])

    def get_access_level(self, doc, user):
        return self.app.models.folder.get_access_level(self.folder_of(doc), user)

    def has_access(self, doc, user, level=READ, flags=()):
        return self.app.models.folder.has_access(self.folder_of(doc), user, level, flags)

    def require_access(self, doc, user, level=READ, flags=()):
        self.app.models.folder.require_access(self.folder_of(doc), user, level, flags)
        return doc

    def adjust_size(self, item_id, delta, touch=False):
        """Add ``delta`` bytes to the item and every folder above it (``touch``: and
        set the item's ``updated`` in the same write)."""
        if not delta:
            if touch:
                self.touch({'_id': item_id})
            return
        update = {'$inc': {'size': delta}}
        if touch:
            update['$set'] = {'updated': now()}
        doc = self.update_and_get({'_id': item_id}, update, projection={'folderId': 1})
        if doc is not None:
            self.app.models.folder.adjust_size(doc['folderId'], delta)

    def files(self, doc, offset=0, limit=0, sort=None):
        return self.app.models.file.find({'itemId': doc['_id']}, offset, limit,
                                         sort or [('name', 1)])

    def remove(self, doc, adjust_sizes=True, **kwargs):
        """Delete the item and its files (their bytes too)."""
        self.app.events.emit('model.item.removing', doc)
        self.app.uploads.cancel_for_parents([doc['_id']])
        files = self.app.models.file
        for f in files.find({'itemId': doc['_id']}):
            files.remove(f, adjust_sizes=False)
        self.collection.delete_one({'_id': doc['_id']})
        bump(self.app.models, 'folder', [doc['folderId']])
        if adjust_sizes:  # not inside a folder's removal, whose own event says it all
            self.app.models.folder.adjust_size(doc['folderId'], -doc.get('size', 0))
            announce(self.app, 'item.delete', doc, 'folder', doc['folderId'])
        self.app.events.emit('model.item.removed', doc)

    def filter(self, doc, user=None):
        out = super().filter(doc, user)
        return out

    def touch(self, doc):
        self.collection.update_one({'_id': doc['_id']}, {'$set': {'updated': now()}})
