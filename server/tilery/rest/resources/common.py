"""Pieces several resources share: metadata edits, ACL answers, paging answers."""
from ...errors import RestError, ValidationError
from ...models.base import NONE, now, to_object_id
from ...services.listing import bump
from ..params import Param


def check_meta_keys(meta):
    for key in meta:
        if not isinstance(key, str) or not key:
            raise ValidationError('Metadata keys must be non-empty strings.', 'metadata')
        if key.startswith('$') or '.' in key or '\x00' in key:
            raise ValidationError('Invalid key %r: keys must not contain "." or NUL or start '
                                  'with "$".' % key, key)


def set_metadata(model, doc, meta, allow_null=False):
    """Merge ``meta`` into ``doc['meta']``; a key set to null is removed."""
    check_meta_keys(meta)
    current = doc.setdefault('meta', {})
    for key, value in meta.items():
        if value is None and not allow_null:
            current.pop(key, None)
        else:
            current[key] = value
    doc['updated'] = now()
    model.collection.update_one({'_id': doc['_id']}, {'$set': {
        'meta': current, 'updated': doc['updated']}})
    return doc


def delete_metadata(model, doc, fields):
    check_meta_keys({f: None for f in fields})
    for field in fields:
        doc.setdefault('meta', {}).pop(field, None)
    doc['updated'] = now()
    model.collection.update_one({'_id': doc['_id']}, {'$set': {
        'meta': doc['meta'], 'updated': doc['updated']}})
    return doc


def metadata_param(name='metadata'):
    return Param(name, 'A JSON object of metadata.', 'json', json_types=(dict,))


def access_answer(app, doc):
    """The ACL with names, as Girder's GET .../access answers it."""
    users, groups = [], []
    access = doc.get('access') or {}
    for entry in access.get('users', ()):
        user = app.models.user.load(entry['id'], exc=False, fields={
            'login': 1, 'firstName': 1, 'lastName': 1})
        if user is not None:
            users.append({'id': entry['id'], 'level': entry['level'],
                          'login': user['login'], 'flags': entry.get('flags', []),
                          'name': '%s %s' % (user['firstName'], user['lastName'])})
    for entry in access.get('groups', ()):
        group = app.models.group.load(entry['id'], exc=False, fields={'name': 1})
        if group is not None:
            groups.append({'id': entry['id'], 'level': entry['level'], 'name': group['name'],
                           'flags': entry.get('flags', [])})
    return {'users': users, 'groups': groups}


def parse_access(app, access):
    """Validate an ``access`` JSON object into stored form."""
    out = {'users': [], 'groups': []}
    for kind, model in (('users', app.models.user), ('groups', app.models.group)):
        entries = access.get(kind) or []
        if not isinstance(entries, list):
            raise RestError('access.%s must be a list.' % kind)
        seen = set()
        for entry in entries:
            if not isinstance(entry, dict) or 'id' not in entry:
                raise RestError('Each access.%s entry needs an id.' % kind)
            level = entry.get('level', NONE)
            if isinstance(level, bool) or level not in (0, 1, 2):
                if level == NONE:
                    continue
                raise RestError('Invalid access level %r.' % level)
            oid = to_object_id(entry['id'], kind[:-1])
            if oid in seen:
                continue
            if model.load(oid, exc=False, fields={'_id': 1}) is None:
                raise RestError('No such %s: %s.' % (kind[:-1], entry['id']))
            flags = entry.get('flags') or []
            if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
                raise RestError('Access flags must be a list of strings.')
            seen.add(oid)
            out[kind].append({'id': oid, 'level': level, 'flags': flags})
    return out


def set_access(app, model, doc, access, public, public_flags=None, recurse=False):
    """Store a new ACL (and public flag) on a folder/collection, optionally recursively."""
    doc['access'] = parse_access(app, access)
    if public is not None:
        doc['public'] = public
    if public_flags is not None:
        doc['publicFlags'] = [f for f in public_flags if isinstance(f, str)]
    update = {'access': doc['access'], 'public': doc.get('public', False)}
    if public_flags is not None:
        update['publicFlags'] = doc['publicFlags']
    model.collection.update_one({'_id': doc['_id']}, {'$set': update})
    if model.model_type == 'folder':  # folder listings filter children by their ACL
        bump(app.models, doc['parentCollection'], [doc['parentId']])
    if recurse:
        folders = app.models.folder
        if model.model_type == 'folder':
            folders.set_access_recursive(doc, doc['access'], doc.get('public', False),
                                         doc.get('publicFlags'))
        else:
            for child in folders.find({'parentId': doc['_id']}):
                folders.set_access_recursive(child, doc['access'], doc.get('public', False),
                                             doc.get('publicFlags'))
    if model.model_type == 'folder':
        app.events.emit('model.folder.access_changed', {'folder': doc, 'recurse': recurse})
    return doc


def access_params():
    return [Param('access', 'The access control list as JSON.', 'json', required=True,
                  json_types=(dict,)),
            Param('public', 'Whether the resource should be publicly visible.', 'boolean'),
            Param('publicFlags', 'JSON list of access flags granted to the public.', 'json',
                  dest='public_flags', json_types=(list,)),
            Param('recurse', 'Apply the same ACL to all subfolders.', 'boolean',
                  default=False)]


