"""Files (finished, stored bytes) and uploads (bytes still arriving)."""
from ..errors import RestError
from .base import READ, Model, check_name, now


class File(Model):
    collection_name = 'file'
    model_type = 'file'
    indexes = ('itemId', 'assetstoreId', 'sha512')
    private_fields = ('path', 'chunkUuid', 'tempFile')

    def item_of(self, doc):
        if not doc.get('itemId'):
            raise RestError('File %s is not attached to an item.' % doc['_id'])
        return self.app.models.item.load(doc['itemId'])

    def get_access_level(self, doc, user):
        return self.app.models.item.get_access_level(self.item_of(doc), user)

    def has_access(self, doc, user, level=READ, flags=()):
        return self.app.models.item.has_access(self.item_of(doc), user, level, flags)

    def require_access(self, doc, user, level=READ, flags=()):
        self.app.models.item.require_access(self.item_of(doc), user, level, flags)
        return doc

    def adapter(self, doc):
        assetstores = self.app.models.assetstore
        return assetstores.adapter(assetstores.load(doc['assetstoreId']))

    def local_path(self, doc):
        """A filesystem path with the file's bytes, for readers such as large_image."""
        return self.adapter(doc).local_path(doc)

    def open_range(self, doc, start=0, end=None):
        end = doc['size'] if end is None else end
        return self.adapter(doc).open_range(doc, start, end)

    def remove(self, doc, adjust_sizes=True, **kwargs):
        """Delete the file document and its bytes."""
        self.collection.delete_one({'_id': doc['_id']})
        try:
            self.adapter(doc).delete_file(doc)
        except RestError:
            pass  # its assetstore is gone; nothing left to free
        if adjust_sizes and doc.get('itemId'):
            self.app.models.item.adjust_size(doc['itemId'], -doc.get('size', 0))
        self.app.events.emit('model.file.removed', doc)

    def rename(self, doc, name):
        doc['name'] = check_name(name, 'file name')
        doc['updated'] = now()
        self.collection.update_one({'_id': doc['_id']}, {'$set': {
            'name': doc['name'], 'updated': doc['updated']}})
        return doc

    def set_mime_type(self, doc, mime_type):
        """Change the file's MIME type (its bytes and dates stay as they are)."""
        doc['mimeType'] = mime_type
        self.collection.update_one({'_id': doc['_id']}, {'$set': {'mimeType': mime_type}})
        return doc

    def move(self, doc, item):
        """Attach the file to ``item``; its size leaves the old item's (and folders')
        totals and joins the new one's."""
        if doc['itemId'] == item['_id']:
            return doc
        items = self.app.models.item
        items.adjust_size(doc['itemId'], -doc['size'])
        doc['itemId'] = item['_id']
        self.collection.update_one({'_id': doc['_id']}, {'$set': {'itemId': item['_id']}})
        items.adjust_size(item['_id'], doc['size'])
        return doc


class Upload(Model):
    collection_name = 'upload'
    model_type = 'upload'
    indexes = ('userId', 'updated')
    private_fields = ('tempFile', 'chunkUuid')
