"""Groups: members hold the group id in their ``groups`` list."""
from ..errors import RestError, ValidationError
from .base import ADMIN, READ, WRITE, AccessControlledModel, check_name, now


class Group(AccessControlledModel):
    collection_name = 'group'
    model_type = 'group'
    indexes = ('lowerName',)

    def validate(self, doc):
        doc['name'] = check_name(doc.get('name', ''), 'group name')
        doc['lowerName'] = doc['name'].lower()
        query = {'lowerName': doc['lowerName']}
        if '_id' in doc:
            query['_id'] = {'$ne': doc['_id']}
        if self.find_one(query, {'_id': 1}):
            raise ValidationError('A group with that name already exists.', 'name')
        return doc

    def create(self, name, creator, description='', public=True):
        doc = {'name': name, 'description': description or '', 'public': bool(public),
               'created': now(), 'updated': now(), 'creatorId': creator['_id'],
               'access': {'users': [], 'groups': []}, 'requests': []}
        self.set_user_access(doc, creator['_id'], ADMIN)
        doc = self.save(doc)
        self.add_member(doc, creator, ADMIN)
        return doc

    def add_member(self, group, user, level=READ, actor=None):
        """Make ``user`` a member with ``level`` on the group; clears invitations."""
        users = self.app.models.user
        users.collection.update_one({'_id': user['_id']}, {
            '$addToSet': {'groups': group['_id']},
            '$pull': {'groupInvites': {'groupId': group['_id']}}})
        self.set_user_access(group, user['_id'], level)
        group['requests'] = [r for r in group.get('requests', []) if r != user['_id']]
        self.collection.update_one({'_id': group['_id']}, {'$set': {
            'access': group['access'], 'requests': group['requests']}})
        self.app.audit.record('group.member.add', actor, groupId=group['_id'],
                              memberId=user['_id'], level=level)
        return group

    def remove_member(self, group, user, actor=None):
        self.app.models.user.collection.update_one({'_id': user['_id']}, {
            '$pull': {'groups': group['_id'], 'groupInvites': {'groupId': group['_id']}}})
        self.set_user_access(group, user['_id'], None)
        group['requests'] = [r for r in group.get('requests', []) if r != user['_id']]
        self.collection.update_one({'_id': group['_id']}, {'$set': {
            'access': group['access'], 'requests': group['requests']}})
        self.app.audit.record('group.member.remove', actor, groupId=group['_id'],
                              memberId=user['_id'])
        return group

    def request_join(self, group, user):
        """Record that ``user`` asks to join ``group`` (group admins see the request)."""
        self.collection.update_one({'_id': group['_id']},
                                   {'$addToSet': {'requests': user['_id']}})

    def set_member_level(self, group, user, level, actor=None):
        """Give the member ``user`` ``level`` on the group (promotions)."""
        if group['_id'] not in (user.get('groups') or ()):
            raise RestError('That user is not a member of this group.')
        self.set_user_access(group, user['_id'], level)
        self.collection.update_one({'_id': group['_id']}, {'$set': {'access': group['access']}})
        self.app.audit.record('group.member.level', actor, groupId=group['_id'],
                              memberId=user['_id'], level=level)
        return group

    def invite(self, group, user, level=READ):
        if group['_id'] in (user.get('groups') or ()):
            raise RestError('That user is already a member of this group.')
        users = self.app.models.user
        users.collection.update_one({'_id': user['_id']}, {
            '$pull': {'groupInvites': {'groupId': group['_id']}}})
        users.collection.update_one({'_id': user['_id']}, {
            '$push': {'groupInvites': {'groupId': group['_id'], 'level': level}}})
        return group

    def members(self, group, offset=0, limit=0):
        query = {'groups': group['_id']}
        users = self.app.models.user
        return list(users.find(query, offset, limit, [('lastName', 1), ('firstName', 1)])), \
            users.count(query)

    def remove(self, doc, **kwargs):
        self.app.models.user.collection.update_many(
            {'groups': doc['_id']}, {'$pull': {'groups': doc['_id']}})
        self.app.models.user.collection.update_many(
            {'groupInvites.groupId': doc['_id']},
            {'$pull': {'groupInvites': {'groupId': doc['_id']}}})
        for model in (self.app.models.folder, self.app.models.collection):
            model.collection.update_many({'access.groups.id': doc['_id']},
                                         {'$pull': {'access.groups': {'id': doc['_id']}}})
        super().remove(doc)

    def get_access_level(self, doc, user):
        """As in Girder, members and invited users may read a private group."""
        level = super().get_access_level(doc, user)
        if level < READ and user is not None and (
                doc['_id'] in (user.get('groups') or ()) or
                any(i.get('groupId') == doc['_id'] for i in user.get('groupInvites') or ())):
            return READ
        return level

    def filter(self, doc, user=None):
        out = super().filter(doc, user)
        if out['_accessLevel'] < WRITE:
            out.pop('requests', None)
        return out
