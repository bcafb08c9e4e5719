"""Pieces several resources share: metadata edits, ACL answers, paging answers."""
from ..params import Param


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


def access_params():
    return [Param('access', 'The access control list as JSON.', 'json', required=True,
                  json_types=(dict,)),
            Param('public', 'Whether the resource should be publicly visible.', 'boolean'),
            Param('publicFlags', 'JSON list of access flags granted to the public.', 'json',
                  dest='public_flags', json_types=(list,)),
            Param('recurse', 'Apply the same ACL to all subfolders.', 'boolean',
                  default=False)]


