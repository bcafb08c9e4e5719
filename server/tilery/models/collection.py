"""Collections: top-level containers with their own ACL."""
from ..errors import ValidationError
from .base import ADMIN, AccessControlledModel, check_name, now


class Collection(AccessControlledModel):
    collection_name = 'collection'
    model_type = 'collection'
    indexes = (([('name', 1)], {'unique': True}), 'lowerName')

    def validate(self, doc):
        doc['name'] = check_name(doc.get('name', ''), 'collection name')
        doc['lowerName'] = doc['name'].lower()
        query = {'name': doc['name']}
        if '_id' in doc:
            query['_id'] = {'$ne': doc['_id']}
        if self.find_one(query, {'_id': 1}):
            raise ValidationError('A collection with that name already exists.', 'name')
        return doc

    def create(self, name, creator, description='', public=True, meta=None):
        doc = {'name': name, 'description': description or '', 'public': bool(public),
               'creatorId': creator['_id'], 'created': now(), 'updated': now(), 'size': 0,
               'meta': meta or {}, 'access': {'users': [], 'groups': []}}
        self.set_user_access(doc, creator['_id'], ADMIN)
        return self.save(doc)

    def set_access(self, doc, access, public=None, public_flags=None, recurse=False,
                   actor=None):
        """As for any ACL; ``recurse`` gives every folder in the collection the same."""
        super().set_access(doc, access, public, public_flags, recurse, actor)
        if recurse:
            folders = self.app.models.folder
            for child in folders.find({'parentId': doc['_id']}):
                folders.set_access_recursive(child, doc['access'], doc.get('public', False),
                                             doc.get('publicFlags'))
        return doc

    def remove(self, doc, **kwargs):
        folders = self.app.models.folder
        for folder in folders.find({'parentId': doc['_id'], 'parentCollection': 'collection'}):
            folders.remove(folder)
        super().remove(doc)
