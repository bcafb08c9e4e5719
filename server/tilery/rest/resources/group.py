"""/group: groups, members and invitations."""
from ...database import icase_contains, icase_equals
from ...errors import AccessError
from ...models.base import ADMIN, READ, WRITE
from ...models.group import Group
from ...models.user import User
from ..params import ModelParam, Param
from ..routing import PUBLIC, USER, Resource, route
from .common import access_answer

GROUP = ModelParam('id', model=Group, level=READ, dest='group')


class GroupResource(Resource):
    prefix = 'group'

    def __init__(self, app):
        self.app = app
        self.groups = app.models.group
        self.users = app.models.user

    @route('GET', '', access=PUBLIC, response='Group[]',
           paging='lowerName', summary='List or search groups.',
           params=[Param('text'), Param('exact', type='boolean', default=False)])
    def find(self, req, text, exact, paging):
        query = self.groups.access_query(req.user)
        if text:
            query = {'$and': [query, {'name': icase_equals(text) if exact
                                      else icase_contains(text)}]}
        docs, total = self.groups.find_page(query, paging)
        req.set_total_count(total)
        return [self.groups.filter(d, req.user) for d in docs]

    @route('POST', '', access=USER, response='Group', summary='Create a group.', params=[
        Param('name', required=True), Param('description', default=''),
        Param('public', type='boolean', default=False)])
    def create(self, req, name, description, public):
        return self.groups.filter(self.groups.create(name, req.user, description, public),
                                  req.user)

    @route('GET', ':id', access=PUBLIC, response='Group', params=[GROUP], summary='Get a group.')
    def get(self, req, group):
        return self.groups.filter(group, req.user)

    @route('PUT', ':id', response='Group', access=USER, summary='Update a group.', params=[
        ModelParam('id', model=Group, level=WRITE, dest='group'), Param('name'),
        Param('description'), Param('public', type='boolean')])
    def update(self, req, group, name, description, public):
        if name is not None:
            group['name'] = name
        if description is not None:
            group['description'] = description
        if public is not None:
            self.groups.require_access(group, req.user, ADMIN)
            group['public'] = public
        return self.groups.filter(self.groups.save(group), req.user)

    @route('DELETE', ':id', response='Message', access=USER, summary='Delete a group.', params=[
        ModelParam('id', model=Group, level=ADMIN, dest='group')])
    def delete(self, req, group):
        self.groups.remove(group)
        self.app.auth.forget_all()
        return {'message': 'Deleted the group %s.' % group['name']}

    @route('GET', ':id/access', response='AccessList',
           access=USER, summary="A group's access list.", params=[
        ModelParam('id', model=Group, level=ADMIN, dest='group')])
    def access(self, req, group):
        return access_answer(self.app, group)

    @route('GET', ':id/member', response='User[]',
           access=PUBLIC, paging='lastName', params=[GROUP],
           summary="A group's members.")
    def members(self, req, group, paging):
        docs, total = self.groups.members(group, paging.offset, paging.limit)
        req.set_total_count(total)
        return [self.users.filter(d, req.user) for d in docs]

    @route('GET', ':id/invitation', response='User[]',
           access=USER, paging='lastName', params=[GROUP],
           summary='Users invited to a group.')
    def invitations(self, req, group, paging):
        query = {'groupInvites.groupId': group['_id']}
        docs, total = self.users.find_page(query, paging)
        req.set_total_count(total)
        return [self.users.filter(d, req.user) for d in docs]

    @route('POST', ':id/invitation', response='Group',
           access=USER, summary='Invite a user (or add them).',
           params=[ModelParam('id', model=Group, level=WRITE, dest='group'),
                   ModelParam('userId', model=User, level=READ, dest='user'),
                   Param('level', type='integer', default=READ, enum=(READ, WRITE, ADMIN)),
                   Param('quiet', type='boolean', default=False),
                   Param('force', 'Add the user at once (site admins only).', 'boolean',
                         default=False)])
    def invite(self, req, group, user, level, quiet, force):
        if level > READ:
            self.groups.require_access(group, req.user, ADMIN)
        if force:
            if not req.user.get('admin'):
                raise AccessError('Only administrators may add members directly.')
            self.groups.add_member(group, user, level, actor=req.user)
        else:
            self.groups.invite(group, user, level)
        self.app.auth.forget(user_id=user['_id'])
        return self.groups.filter(self.groups.load(group['_id']), req.user)

    def _join(self, req, group):
        user = self.users.load(req.user['_id'])
        invite = next((i for i in user.get('groupInvites', [])
                       if i['groupId'] == group['_id']), None)
        if invite is None:
            if group['_id'] in (user.get('groups') or ()):
                return self.groups.filter(group, req.user)
            if not req.user.get('admin'):
                self.groups.request_join(group, user)
                return self.groups.filter(self.groups.load(group['_id']), req.user)
            invite = {'level': ADMIN}
        self.groups.add_member(group, user, invite['level'], actor=req.user)
        self.app.auth.forget(user_id=user['_id'])
        return self.groups.filter(self.groups.load(group['_id']), req.user)

    @route('POST', ':id/member', response='Group', access=USER, params=[GROUP],
           summary='Join a group (accept an invitation, or ask to join).')
    def join(self, req, group):
        return self._join(req, group)

    @route('PUT', ':id/member', response='Group', access=USER, params=[GROUP],
           summary='Join a group (accept an invitation, or ask to join).')
    def join_put(self, req, group):
        return self._join(req, group)

    @route('DELETE', ':id/member', response='Group',
           access=USER, summary='Remove a member (or leave).', params=[
        ModelParam('id', model=Group, level=READ, dest='group'),
        ModelParam('userId', 'Whom to remove (default: yourself).', model=User,
                   level=READ, required=False, dest='user')])
    def remove_member(self, req, group, user):
        user = user or req.user
        if user['_id'] != req.user['_id']:
            self.groups.require_access(group, req.user, WRITE)
            if self.groups.get_access_level(group, user) >= ADMIN:
                self.groups.require_access(group, req.user, ADMIN)
        self.groups.remove_member(group, self.users.load(user['_id']), actor=req.user)
        self.app.auth.forget(user_id=user['_id'])
        return self.groups.filter(self.groups.load(group['_id']), req.user)

    @route('POST', ':id/moderator', response='Group',
           access=USER, summary='Make a member a moderator.', params=[
        ModelParam('id', model=Group, level=ADMIN, dest='group'),
        ModelParam('userId', model=User, level=READ, dest='user')])
    def moderator(self, req, group, user):
        return self._promote(req, group, user, WRITE)

    @route('POST', ':id/admin', response='Group',
           access=USER, summary='Make a member a group admin.', params=[
        ModelParam('id', model=Group, level=ADMIN, dest='group'),
        ModelParam('userId', model=User, level=READ, dest='user')])
    def admin(self, req, group, user):
        return self._promote(req, group, user, ADMIN)

    def _promote(self, req, group, user, level):
        return self.groups.filter(self.groups.set_member_level(group, user, level,
                                                               actor=req.user), req.user)
