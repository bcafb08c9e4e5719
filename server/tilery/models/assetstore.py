"""Assetstores: where file bytes are kept; one of them is current for new uploads."""
import os

from ..assetstores import ADAPTERS, FILESYSTEM, GRIDFS, adapter_for
from ..errors import RestError, ValidationError
from .base import Model, now


class Assetstore(Model):
    collection_name = 'assetstore'
    model_type = 'assetstore'
    indexes = (([('name', 1)], {'unique': True}),)

    def validate(self, doc):
        if not (doc.get('name') or '').strip():
            raise ValidationError('Assetstore name must not be empty.', 'name')
        if doc.get('type') not in ADAPTERS:
            raise ValidationError('Unsupported assetstore type %r.' % doc.get('type'), 'type')
        if doc['type'] == FILESYSTEM:
            root = doc.get('root') or ''
            if not os.path.isabs(root):
                raise ValidationError('Filesystem assetstore root must be an absolute path.',
                                      'root')
            try:
                os.makedirs(root, exist_ok=True)
            except OSError as exc:
                raise ValidationError('Cannot create root directory: %s' % exc, 'root')
            if not os.access(root, os.W_OK):
                raise ValidationError('Root directory is not writable.', 'root')
        if doc['type'] == GRIDFS and not (doc.get('db') or '').strip():
            raise ValidationError('GridFS assetstores need a database name.', 'db')
        query = {'name': doc['name']}
        if '_id' in doc:
            query['_id'] = {'$ne': doc['_id']}
        if self.find_one(query, {'_id': 1}):
            raise ValidationError('An assetstore with that name already exists.', 'name')
        return doc

    def create(self, name, type, root=None, db=None, current=None, import_roots=None):
        first = self.find_one({}, {'_id': 1}) is None
        doc = {'name': name, 'type': type, 'created': now(), 'current': bool(current or first)}
        if type == FILESYSTEM:
            doc['root'] = root
        elif type == GRIDFS:
            doc['db'] = db
        doc = self.save(doc)
        if doc['current']:
            self.make_current(doc)
        return doc

    def make_current(self, doc):
        self.collection.update_many({'_id': {'$ne': doc['_id']}}, {'$set': {'current': False}})
        self.collection.update_one({'_id': doc['_id']}, {'$set': {'current': True}})
        doc['current'] = True

    def current(self):
        doc = self.find_one({'current': True})
        if doc is None:
            raise RestError('No current assetstore is configured.', 500)
        return doc

    def adapter(self, doc):
        return adapter_for(self.app, doc)

    def remove(self, doc, **kwargs):
        if self.app.models.file.find_one({'assetstoreId': doc['_id']}, {'_id': 1}):
            raise RestError('This assetstore still holds files; it cannot be deleted.')
        super().remove(doc)

    def filter(self, doc, user=None):
        out = super().filter(doc, user)
        out['capacity'] = self.adapter(doc).capacity()
        return out
