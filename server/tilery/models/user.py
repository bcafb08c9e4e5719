"""Users: logins, hashed passwords, admin flag, group membership."""
import re

import bcrypt

from ..errors import AccessError, RestError, ValidationError
from .base import ADMIN, READ, AccessControlledModel, now

LOGIN_RE = re.compile(r'^[a-z][\da-z\-\.]{3,}$')
EMAIL_RE = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')
MAX_PASSWORD_BYTES = 72  # bcrypt refuses longer passwords (ValueError, not a truncation)
BCRYPT_ROUNDS = 10
_DUMMY = []


def _dummy_hash():
    """A hash of a random password at the same cost as real ones (made once a process)."""
    if not _DUMMY:
        import secrets
        _DUMMY.append(bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(
            BCRYPT_ROUNDS)).decode('ascii'))
    return _DUMMY[0]


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

    def create(self, login, email, first_name, last_name, password, admin=False, public=True,
               status='enabled'):
        """Make a user with Public and Private folders; the first user is a site admin."""
        self.check_password_rules(password)
        maybe_first = self.find_one({}, {'_id': 1}) is None
        doc = {'login': login, 'email': email, 'firstName': first_name, 'lastName': last_name,
               'created': now(), 'admin': bool(admin), 'emailVerified': False,
               'status': status, 'groups': [], 'groupInvites': [], 'size': 0,
               'public': bool(public), 'access': {'users': [], 'groups': []},
               'salt': self.hash_password(password)}
        self.validate(doc)
        doc['_id'] = self.collection.insert_one(doc).inserted_id
        # Concurrent first registrations all see an empty collection; only the one that
        # claims the once-only marker (a unique key) becomes the site admin.
        if maybe_first and self.app.models.setting.claim_once('core.first_admin', doc['_id']):
            doc['admin'], doc['status'] = True, 'enabled'
            self.collection.update_one({'_id': doc['_id']},
                                       {'$set': {'admin': True, 'status': 'enabled'}})
        self.set_user_access(doc, doc['_id'], ADMIN)
        self.collection.update_one({'_id': doc['_id']}, {'$set': {'access': doc['access']}})
        folders = self.app.models.folder
        folders.create('Public', doc, 'user', creator=doc, public=True)
        folders.create('Private', doc, 'user', creator=doc, public=False)
        self.app.events.emit('model.user.created', doc)
        return doc

    @staticmethod
    def hash_password(password):
        return bcrypt.hashpw(password.encode('utf8'), bcrypt.gensalt(BCRYPT_ROUNDS)).decode(
            'ascii')

    def find_login(self, login):
        """The user whose login (or email, when it has an @) is ``login``, or None."""
        login = (login or '').lower().strip()
        return self.find_one({'email' if '@' in login else 'login': login})

    def password_matches(self, doc, password):
        """Check ``password``; with no user, check a dummy hash of the same cost, so an
        unknown login takes as long as a known one (no login enumeration by timing)."""
        salt = (doc or {}).get('salt') or _dummy_hash()
        data = (password or '').encode('utf8')
        if len(data) > MAX_PASSWORD_BYTES:
            data = data[:MAX_PASSWORD_BYTES]  # hashed anyway, for the same time; then refused
            bcrypt.checkpw(data, salt.encode('ascii'))
            return False
        return bcrypt.checkpw(data, salt.encode('ascii')) and doc is not None and \
            bool(doc.get('salt'))

    def check_status(self, doc):
        """Refuse a correct sign-in to an account that is pending or disabled."""
        if doc.get('status') == 'pending':
            raise AccessError('This account is awaiting approval by an administrator.', 401)
        if doc.get('status', 'enabled') != 'enabled':
            raise AccessError('This account is disabled.', 401)

    def authenticate(self, login, password):
        """The user whose login (or email) and password match, else a 401."""
        doc = self.find_login(login)
        if not self.password_matches(doc, password):
            raise AccessError('Login failed.', 401)
        self.check_status(doc)
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
