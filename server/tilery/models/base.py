"""Thin pymongo collection classes: indexes, loading, validation and ACL queries."""
import datetime

from bson import ObjectId
from bson.errors import InvalidId

from ..errors import AccessError, NotFound, RestError, ValidationError
from ..rest.params import ADMIN, NONE, READ, WRITE  # noqa: F401 (re-exported levels)


def now():
    """The current UTC time, as stored in documents (naive UTC, millisecond precision)."""
    t = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def to_object_id(value, what='id'):
    """An ObjectId from a string or ObjectId, or a 400."""
    if isinstance(value, ObjectId):
        return value
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise RestError('Invalid ObjectId for %s: %r.' % (what, value))


def check_name(name, what='name'):
    """Strip a resource name and refuse empty names, '/' and NUL."""
    if not isinstance(name, str):
        raise ValidationError('%s must be a string.' % what.capitalize(), 'name')
    name = name.strip()
    if not name:
        raise ValidationError('%s must not be empty.' % what.capitalize(), 'name')
    if '/' in name or '\\' in name or '\x00' in name:
        raise ValidationError('%s must not contain "/", "\\" or NUL.' % what.capitalize(), 'name')
    if name in ('.', '..'):
        raise ValidationError('%s must not be "." or "..".' % what.capitalize(), 'name')
    return name


class Model:
    """A MongoDB collection and the rules for its documents."""

    collection_name = None
    model_type = None
    indexes = ()  # each: a key spec, or (key spec, options)
    missing_status = 400  # Girder core answers 400 for an unknown id; plugins use 404
    public_fields = None  # None: every field but the ones in private_fields
    private_fields = ()

    def __init__(self, app):
        self.app = app
        self.db = app.db
        self.collection = app.db[self.collection_name]

    def ensure_indexes(self):
        for spec in self.indexes:
            keys, options = spec if isinstance(spec, tuple) and len(spec) == 2 and \
                isinstance(spec[1], dict) else (spec, {})
            self.collection.create_index(keys, **options)

    # -- reading
    def load(self, id, exc=True, fields=None):
        """The document with this id; a 400 (or 404) if there is none and ``exc``."""
        doc = self.collection.find_one({'_id': to_object_id(id, self.model_type)}, fields)
        if doc is None and exc:
            status = self.missing_status
            error = NotFound if status == 404 else RestError
            raise error('Invalid %s id (%s).' % (self.model_type, id))
        return doc

    def find(self, query=None, offset=0, limit=0, sort=None, fields=None):
        cursor = self.collection.find(query or {}, fields)
        if sort:
            cursor = cursor.sort(sort)
        if offset:
            cursor = cursor.skip(offset)
        if limit:
            cursor = cursor.limit(limit)
        return cursor

    def find_one(self, query, fields=None):
        return self.collection.find_one(query, fields)

    def count(self, query=None):
        return self.collection.count_documents(query or {})

    def find_page(self, query, paging, fields=None):
        """(documents, total) for a paged listing."""
        total = self.count(query)
        docs = list(self.find(query, paging.offset, paging.limit, paging.sort, fields)) \
            if total > paging.offset else []
        return docs, total

    # -- writing
    def validate(self, doc):
        return doc

    def save(self, doc, validate=True):
        if validate:
            doc = self.validate(doc)
        if '_id' in doc:
            self.collection.replace_one({'_id': doc['_id']}, doc, upsert=True)
        else:
            doc['_id'] = self.collection.insert_one(doc).inserted_id
        return doc

    def insert(self, doc, validate=True):
        """Write a new document (its ``_id`` may be set already): a plain insert, which
        costs the database less than ``save``'s upsert."""
        if validate:
            doc = self.validate(doc)
        doc['_id'] = self.collection.insert_one(doc).inserted_id
        return doc

    def update(self, query, update, multi=True):
        if multi:
            return self.collection.update_many(query, update)
        return self.collection.update_one(query, update)

    def remove(self, doc, **kwargs):
        self.collection.delete_one({'_id': doc['_id']})

    # -- answering
    def filter(self, doc, user=None):
        """The document as the API shows it to ``user``."""
        if doc is None:
            return None
        if self.public_fields is not None:
            out = {k: doc[k] for k in self.public_fields if k in doc}
        else:
            out = {k: v for k, v in doc.items() if k not in self.private_fields}
        out['_modelType'] = self.model_type
        return out


class AccessControlledModel(Model):
    """Documents with ``access: {users, groups}`` lists and a ``public`` flag."""

    def get_access_level(self, doc, user):
        """The highest level ``user`` has on ``doc`` (NONE when none)."""
        if user is not None and user.get('admin'):
            return ADMIN
        level = READ if doc.get('public') else NONE
        if user is None:
            return level
        access = doc.get('access') or {}
        for entry in access.get('users', ()):
            if entry.get('id') == user['_id']:
                level = max(level, entry.get('level', NONE))
        groups = set(user.get('groups') or ())
        for entry in access.get('groups', ()):
            if entry.get('id') in groups:
                level = max(level, entry.get('level', NONE))
        return level

    def has_flags(self, doc, user, flags):
        if not flags or (user and user.get('admin')):
            return True
        if user is None:
            return False
        granted = set(doc.get('publicFlags') or ())
        access = doc.get('access') or {}
        groups = set(user.get('groups') or ())
        for entry in access.get('users', ()):
            if entry.get('id') == user['_id']:
                granted.update(entry.get('flags') or ())
        for entry in access.get('groups', ()):
            if entry.get('id') in groups:
                granted.update(entry.get('flags') or ())
        return set(flags) <= granted

    def has_access(self, doc, user, level=READ, flags=()):
        return self.get_access_level(doc, user) >= level and self.has_flags(doc, user, flags)

    def require_access(self, doc, user, level=READ, flags=()):
        """Raise 401/403 unless ``user`` has ``level`` (and ``flags``) on ``doc``."""
        if self.has_access(doc, user, level, flags):
            return doc
        from ..rest.dispatch import anonymous_error
        if user is None:
            raise anonymous_error('You must be logged in to do that.')
        names = {READ: 'read', WRITE: 'write', ADMIN: 'admin'}
        raise AccessError('%s access denied for %s %s.' % (
            names.get(level, str(level)).capitalize(), self.model_type, doc['_id']))

    def access_query(self, user, level=READ):
        """A MongoDB filter matching the documents ``user`` may see at ``level``."""
        if user is not None and user.get('admin'):
            return {}
        clauses = []
        if level <= READ:
            clauses.append({'public': True})
        if user is not None:
            clauses.append({'access.users': {'$elemMatch': {
                'id': user['_id'], 'level': {'$gte': level}}}})
            groups = list(user.get('groups') or ())
            if groups:
                clauses.append({'access.groups': {'$elemMatch': {
                    'id': {'$in': groups}, 'level': {'$gte': level}}}})
        return {'$or': clauses} if clauses else {'_id': None}

    @staticmethod
    def set_user_access(doc, user_id, level, flags=None):
        """Give ``user_id`` ``level`` (NONE removes the entry); changes ``doc`` in place."""
        entries = [e for e in doc.setdefault('access', {}).setdefault('users', [])
                   if e['id'] != user_id]
        if level is not None and level > NONE:
            entries.append({'id': user_id, 'level': level, 'flags': list(flags or [])})
        doc['access']['users'] = entries
        doc['access'].setdefault('groups', [])
        return doc

    @staticmethod
    def set_group_access(doc, group_id, level, flags=None):
        entries = [e for e in doc.setdefault('access', {}).setdefault('groups', [])
                   if e['id'] != group_id]
        if level is not None and level > NONE:
            entries.append({'id': group_id, 'level': level, 'flags': list(flags or [])})
        doc['access']['groups'] = entries
        doc['access'].setdefault('users', [])
        return doc

    def filter(self, doc, user=None):
        out = super().filter(doc, user)
        if out is not None:
            out['_accessLevel'] = self.get_access_level(doc, user)
        return out


