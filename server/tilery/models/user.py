"""Users: logins, hashed passwords, admin flag, group membership."""
import re

import bcrypt

from ..errors import AccessError, RestError, ValidationError
from .base import ADMIN, READ, AccessControlledModel, now

LOGIN_RE = re.compile(r'^[a-z][\da-z\-\.]{3,}$')
EMAIL_RE = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')
MAX_PASSWORD_BYTES = 72  # bcrypt refuses longer passwords (ValueError, not a truncation)


class User(AccessControlledModel):
    collection_name = 'user'
    model_type = 'user'
    indexes = (([('login', 1)], {'unique': True}), ([('email', 1)], {'unique': True}),
               'lastName', 'firstName', 'created')
    private_fields = ('salt', 'access', 'otp', 'groupInvites')

    def validate(self, doc):
        doc['login'] = (doc.get('login') or '').lower().strip()
        doc['email'] = (doc.get('email') or '').lower().strip()
        if not LOGIN_RE.match(doc['login']):
            raise ValidationError(
                'Login must be at least 4 characters, start with a letter, and contain '
                'only letters, digits, "-" and ".".', 'login')
        if '@' in doc['login']:
            raise ValidationError('Login may not contain "@".', 'login')
        if not EMAIL_RE.match(doc['email']):
            raise ValidationError('Invalid email address.', 'email')
        for field in ('firstName', 'lastName'):
            doc[field] = (doc.get(field) or '').strip()
            if not doc[field]:
                raise ValidationError('%s must not be empty.' % field, field)
        query = {'login': doc['login']}
        if '_id' in doc:
            query['_id'] = {'$ne': doc['_id']}
        if self.find_one(query, {'_id': 1}):
            raise ValidationError('That login is already registered.', 'login')
        query.pop('login')
        query['email'] = doc['email']
        if self.find_one(query, {'_id': 1}):
            raise ValidationError('That email is already registered.', 'email')
        return doc

    def check_password_rules(self, password):
        if not isinstance(password, str) or len(password) < self.app.settings.min_password_length:
            raise ValidationError('Password must be at least %d characters.' %
                                  self.app.settings.min_password_length, 'password')
        if len(password.encode('utf8')) > MAX_PASSWORD_BYTES:
            raise ValidationError('Password must be at most %d bytes.' % MAX_PASSWORD_BYTES,
                                  'password')

    def create(self, login, email, first_name, last_name, password, admin=False, public=True):
        """Make a user with Public and Private folders; the first user is a site admin."""
        self.check_password_rules(password)
        first = self.collection.estimated_document_count() == 0 and \
            self.find_one({}, {'_id': 1}) is None
        doc = {'login': login, 'email': email, 'firstName': first_name, 'lastName': last_name,
               'created': now(), 'admin': bool(admin or first), 'emailVerified': False,
               'status': 'enabled', 'groups': [], 'groupInvites': [], 'size': 0,
               'public': bool(public), 'access': {'users': [], 'groups': []},
               'salt': self.hash_password(password)}
        self.validate(doc)
        doc['_id'] = self.collection.insert_one(doc).inserted_id
        self.set_user_access(doc, doc['_id'], ADMIN)
        self.collection.update_one({'_id': doc['_id']}, {'$set': {'access': doc['access']}})
        folders = self.app.models.folder
        folders.create('Public', doc, 'user', creator=doc, public=True)
        folders.create('Private', doc, 'user', creator=doc, public=False)
        self.app.events.emit('model.user.created', doc)
        return doc

    @staticmethod
    def hash_password(password):
        return bcrypt.hashpw(password.encode('utf8'), bcrypt.gensalt(10)).decode('ascii')

    def authenticate(self, login, password):
        """The user whose login (or email) and password match, else a 401."""
        login = (login or '').lower().strip()
        field = 'email' if '@' in login else 'login'
        doc = self.find_one({field: login})
        if doc is None or not doc.get('salt') or \
                len(password.encode('utf8')) > MAX_PASSWORD_BYTES or not bcrypt.checkpw(
                password.encode('utf8'), doc['salt'].encode('ascii')):
            raise AccessError('Login failed.', 401)
        if doc.get('status') == 'pending':
            raise AccessError('This account is awaiting approval by an administrator.', 401)
        if doc.get('status', 'enabled') != 'enabled':
            raise AccessError('This account is disabled.', 401)
        return doc

    def set_password(self, doc, password):
        self.check_password_rules(password)
        doc['salt'] = self.hash_password(password)
        self.collection.update_one({'_id': doc['_id']}, {'$set': {'salt': doc['salt']}})

    def filter(self, doc, user=None):
        out = super().filter(doc, user)
        level = out['_accessLevel']
        if level < ADMIN:
            for key in ('email', 'groups', 'emailVerified', 'size'):
                if level < READ or key != 'size':
                    out.pop(key, None)
        return out

    def remove(self, doc, progress=None):
        """Delete a user, their folders and everything in them."""
        folders = self.app.models.folder
        for folder in folders.find({'parentId': doc['_id'], 'parentCollection': 'user'}):
            folders.remove(folder)
        self.app.models.token.collection.delete_many({'userId': doc['_id']})
        self.app.models.api_key.collection.delete_many({'userId': doc['_id']})
        for upload in self.app.models.upload.find({'userId': doc['_id']}):
            self.app.uploads.cancel(upload)
        for model in (self.app.models.group, self.app.models.folder,
                      self.app.models.collection):
            model.collection.update_many({'access.users.id': doc['_id']},
                                         {'$pull': {'access.users': {'id': doc['_id']}}})
        super().remove(doc)
        self.app.events.emit('model.user.removed', doc)

    def require_not_last_admin(self, doc):
        if doc.get('admin') and self.count({'admin': True}) <= 1:
            raise RestError('The last site administrator cannot be removed or demoted.')
