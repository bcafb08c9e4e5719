"""Thin pymongo collection classes: indexes, loading, validation and ACL queries.

Access control has one implementation, here: the levels, access-list parsing and
``AccessControlledModel``'s checks. Core resources and plugins (through the plugin
contract, ``tilery.plugins``) all use it.
"""
import datetime
import logging

from bson import ObjectId
from bson.errors import InvalidId

from ..database import update_one_and_get
from ..errors import AccessError, NotFound, RestError, ValidationError, anonymous_error

NONE, READ, WRITE, ADMIN = -1, 0, 1, 2
LEVEL_NAMES = {READ: 'read', WRITE: 'write', ADMIN: 'admin'}

#: Lets a user who may only read a folder draw annotations, label masks and tags on
#: its items (annotation, labels and tagging plugins).
ANNOTATE_FLAG = 'annotate'


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


def check_meta_keys(meta):
    """Refuse metadata keys MongoDB cannot store (empty, '$...', containing '.' or NUL)."""
    for key in meta:
        if not isinstance(key, str) or not key:
            raise ValidationError('Metadata keys must be non-empty strings.', 'metadata')
        if key.startswith('$') or '.' in key or '\x00' in key:
            raise ValidationError('Invalid key %r: keys must not contain "." or NUL or start '
                                  'with "$".' % key, key)


def _access_level(entry):
    """An access entry's level; None for one that grants nothing (NONE)."""
    level = entry.get('level', NONE)
    if isinstance(level, bool) or level not in (READ, WRITE, ADMIN):
        if level == NONE:
            return None
        raise RestError('Invalid access level %r.' % level)
    return level


def _access_flags(entry):
    flags = entry.get('flags') or []
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise RestError('Access flags must be a list of strings.')
    return flags


def parse_access_list(access, exists=None):
    """Validate an ``access`` JSON object into stored form (a 400 on bad input).

    Entries at level NONE (-1) are dropped, and so is a second entry for the same id.
    ``exists(kind, object_id)``, when given, says whether that user or group exists
    (kind 'user' or 'group'); an unknown one is a 400.
    """
    if not isinstance(access, dict):
        raise RestError('Access must be a JSON object.')
    out = {'users': [], 'groups': []}
    for kind in ('users', 'groups'):
        entries = access.get(kind) or []
        if not isinstance(entries, list):
            raise RestError('access.%s must be a list.' % kind)
        seen = set()
        for entry in entries:
            if not isinstance(entry, dict) or 'id' not in entry:
                raise RestError('Each access.%s entry needs an id.' % kind)
            level = _access_level(entry)
            if level is None:
                continue
            oid = to_object_id(entry['id'], kind[:-1])
            if oid in seen:
                continue
            if exists is not None and not exists(kind[:-1], oid):
                raise RestError('No such %s: %s.' % (kind[:-1], entry['id']))
            flags = _access_flags(entry)
            seen.add(oid)
            out[kind].append({'id': oid, 'level': level, 'flags': flags})
    return out


def _entries_of(doc, user):
    """The ACL entries of ``doc`` that apply to ``user`` (theirs and their groups')."""
    access = doc.get('access') or {}
    groups = set(user.get('groups') or ())
    yield from (e for e in access.get('users', ()) if e.get('id') == user['_id'])
    yield from (e for e in access.get('groups', ()) if e.get('id') in groups)


def bump(models, parent_type, parent_ids):
    """Tell every server process that these parents' children changed (their
    ``listVersion`` keys the listing cache, services/listing.py)."""
    ids = [i for i in parent_ids if i is not None]
    if ids:
        models[parent_type].collection.update_many(
            {'_id': {'$in': ids}}, {'$inc': {'listVersion': 1}})


def publisher(app):
    """Where a change is published: the notifications' background publisher (a hot
    path does not wait for the feed's writes), or the feed itself; None without one."""
    notifications = getattr(app, 'notifications', None)
    if notifications is not None:
        return notifications.publisher
    return getattr(app, 'feed', None)


def announce(app, kind, doc, scope_type, scope_id, fields=('folderId',)):
    """Publish ``kind`` (item.create, folder.delete...) about ``doc`` to the watchers of
    its parent on the app's change feed (notification streams): one insert. A feed that
    fails is logged; the change it reports stands."""
    feed = publisher(app)
    if feed is None or scope_id is None:
        return
    data = {'_id': doc['_id'], 'name': doc.get('name')}
    data.update({f: doc.get(f) for f in fields})
    try:
        feed.publish(kind, data, scope={'type': scope_type, 'id': scope_id})
    except Exception:
        logging.getLogger(__name__).exception('%s of %s could not be announced', kind,
                                              doc['_id'])


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

    def set_metadata(self, doc, meta, allow_null=False):
        """Merge ``meta`` into ``doc['meta']`` and store it; a key set to null is removed."""
        check_meta_keys(meta)
        current = doc.setdefault('meta', {})
        for key, value in meta.items():
            if value is None and not allow_null:
                current.pop(key, None)
            else:
                current[key] = value
        return self._store_meta(doc)

    def delete_metadata(self, doc, fields):
        """Remove ``fields`` from ``doc['meta']`` and store it."""
        check_meta_keys({f: None for f in fields})
        for field in fields:
            doc.setdefault('meta', {}).pop(field, None)
        return self._store_meta(doc)

    def _store_meta(self, doc):
        doc['updated'] = now()
        self.collection.update_one({'_id': doc['_id']}, {'$set': {
            'meta': doc['meta'], 'updated': doc['updated']}})
        return doc

    def update(self, query, update, multi=True):
        if multi:
            return self.collection.update_many(query, update)
        return self.collection.update_one(query, update)

    def update_and_get(self, query, update, projection=None, after=False):
        """Update the document ``query`` names by ``_id``; it as it was before (or
        ``after``), or None (database.update_one_and_get: never findAndModify)."""
        return update_one_and_get(self.collection, query, update, projection, after)

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
        return max([level] + [e.get('level', NONE) for e in _entries_of(doc, user)])

    def has_flags(self, doc, user, flags):
        """Whether ``user`` holds every one of ``flags`` on ``doc`` (admins hold all)."""
        if not flags or (user and user.get('admin')):
            return True
        if user is None:
            return False
        granted = set(doc.get('publicFlags') or ())
        for entry in _entries_of(doc, user):
            granted.update(entry.get('flags') or ())
        return set(flags) <= granted

    def has_access(self, doc, user, level=READ, flags=()):
        return self.get_access_level(doc, user) >= level and self.has_flags(doc, user, flags)

    def require_access(self, doc, user, level=READ, flags=()):
        """Raise 401/403 unless ``user`` has ``level`` (and ``flags``) on ``doc``."""
        if self.has_access(doc, user, level, flags):
            return doc
        if user is None:
            raise anonymous_error('You must be logged in to do that.')
        raise AccessError('%s access denied for %s %s.' % (
            LEVEL_NAMES.get(level, str(level)).capitalize(), self.model_type, doc['_id']))

    def can_annotate(self, doc, user):
        """Write access, or read access with the annotate flag: who may annotate, label
        and tag the items of a folder (one rule for every plugin)."""
        return self.has_access(doc, user, WRITE) or self.has_access(
            doc, user, READ, (ANNOTATE_FLAG,))

    def require_annotate(self, doc, user, message=None):
        """Raise 403 (401 when anonymous) unless ``can_annotate``; returns ``doc``."""
        if self.can_annotate(doc, user):
            return doc
        if user is None:
            raise anonymous_error('You must be logged in to do that.')
        raise AccessError(message or 'Write access or the annotate flag is needed on %s %s.'
                          % (self.model_type, doc['_id']))

    def set_access(self, doc, access, public=None, public_flags=None, recurse=False,
                   actor=None):
        """Validate and store a new ACL (and public flag and flags) on ``doc``; audited as
        ``actor``'s. ``recurse`` is for containers (folders, collections): see their
        overrides."""
        doc['access'] = self.parse_access(access)
        if public is not None:
            doc['public'] = public
        update = {'access': doc['access'], 'public': doc.get('public', False)}
        if public_flags is not None:
            doc['publicFlags'] = update['publicFlags'] = [
                f for f in public_flags if isinstance(f, str)]
        self.collection.update_one({'_id': doc['_id']}, {'$set': update})
        self.app.audit.record('access.change', actor, resourceType=self.model_type,
                              resourceId=doc['_id'], access=doc['access'],
                              public=doc.get('public'), publicFlags=doc.get('publicFlags'),
                              recurse=bool(recurse))
        return doc

    def parse_access(self, access):
        """``access`` validated into stored form; its users and groups must exist."""
        def exists(kind, oid):
            return self.app.models[kind].load(oid, exc=False, fields={'_id': 1}) is not None
        return parse_access_list(access, exists)

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


