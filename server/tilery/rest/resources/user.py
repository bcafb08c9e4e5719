"""/user: accounts, sign-in and sign-out."""
import base64
import binascii

from ...database import icase_contains
from ...errors import AccessError, RestError
from ...models.base import ADMIN, READ, WRITE
from ...models.user import User
from ..dispatch import anonymous_error
from ..params import ModelParam, Param
from ..routing import ADMIN_ONLY, PUBLIC, USER, Resource, route

USER_ID = ModelParam('id', 'The user id.', model=User, level=READ, dest='user')


def token_cookie(token, secure=False):
    """The Set-Cookie value that signs a browser in."""
    expires = token['expires'].strftime('%a, %d %b %Y %H:%M:%S GMT')
    return 'girderToken=%s; Path=/; Expires=%s; HttpOnly; SameSite=Lax%s' % (
        token['_id'], expires, '; Secure' if secure else '')


CLEAR_COOKIE = 'girderToken=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly'


class UserResource(Resource):
    prefix = 'user'

    def __init__(self, app):
        self.app = app
        self.users = app.models.user

    @route('GET', '', access=PUBLIC, paging='lastName', summary='List or search users.',
           params=[Param('text', 'Filter by login or name (case-insensitive).')])
    def find(self, req, text, paging):
        query = {}
        if text:
            pattern = icase_contains(text)
            query = {'$or': [{'login': pattern}, {'firstName': pattern},
                             {'lastName': pattern}]}
        query = {'$and': [query, self.users.access_query(req.user)]} if query else \
            self.users.access_query(req.user)
        docs, total = self.users.find_page(query, paging)
        req.set_total_count(total)
        return [self.users.filter(d, req.user) for d in docs]

    @route('POST', '', access=PUBLIC, summary='Create a user (register).', params=[
        Param('login', required=True), Param('email', required=True),
        Param('firstName', required=True, dest='first_name'),
        Param('lastName', required=True, dest='last_name'),
        Param('password', required=True),
        Param('admin', 'Make the user a site admin (admins only).', 'boolean', default=False),
        Param('public', 'Whether the user is visible to others.', 'boolean', default=True)])
    def create(self, req, login, email, first_name, last_name, password, admin, public):
        is_admin = req.user is not None and req.user.get('admin')
        first = self.users.find_one({}, {'_id': 1}) is None
        policy = self.app.models.setting.get('core.registration_policy')
        if not is_admin and not first and policy == 'closed':
            raise AccessError('Registration on this server is closed.')
        if admin and not is_admin and not first:
            admin = False
        user = self.users.create(login, email, first_name, last_name, password,
                                 admin=admin, public=public)
        pending = policy == 'approve' and not is_admin and not first
        if pending:  # an administrator enables the account (PUT /user/:id?status=enabled)
            user['status'] = 'pending'
            self.users.collection.update_one({'_id': user['_id']},
                                             {'$set': {'status': 'pending'}})
        out = self.users.filter(user, user)
        if req.user is None and not pending:
            token = self.app.models.token.create(user)
            out['authToken'] = self.app.models.token.answer(token)
            req.headers_out['Set-Cookie'] = token_cookie(token)
        return out

    @route('GET', 'me', access=PUBLIC, summary='The signed-in user, or null.')
    def me(self, req):
        return self.users.filter(req.user, req.user) if req.user else None

    @route('GET', 'details', access=ADMIN_ONLY, summary='How many users there are.')
    def details_all(self, req):
        return {'nUsers': self.users.count()}

    @route('GET', 'authentication', access=PUBLIC,
           summary='Sign in with HTTP Basic credentials; answers a token.',
           responses={429: 'Too many failed sign-ins (login throttling)'})
    def login(self, req):
        header = req.headers.get('Girder-Authorization') or req.headers.get('Authorization')
        if not header or not header.startswith('Basic '):
            if req.user is not None:
                token = req.token
                return {'user': self.users.filter(req.user, req.user),
                        'authToken': self.app.models.token.answer(token)}
            raise anonymous_error('Use HTTP Basic authentication (login:password).')
        try:
            login, _, password = base64.b64decode(header[6:]).decode('utf8').partition(':')
        except (binascii.Error, UnicodeDecodeError):
            raise RestError('Invalid HTTP Authorization header.', 401)
        user = self.users.authenticate(login, password)
        token = self.app.models.token.create(user)
        req.headers_out['Set-Cookie'] = token_cookie(token)
        return {'user': self.users.filter(user, user),
                'authToken': self.app.models.token.answer(token),
                'message': 'Login succeeded.'}

    @route('DELETE', 'authentication', access=PUBLIC, summary='Sign out (revokes the token).')
    def logout(self, req):
        if req.token is not None:
            self.app.models.token.collection.delete_one({'_id': req.token['_id']})
            self.app.auth.forget(req.token['_id'])
        req.headers_out['Set-Cookie'] = CLEAR_COOKIE
        return {'message': 'Logged out.'}

    @route('PUT', 'password', access=USER, summary='Change your password.', params=[
        Param('old', 'Your current password.', required=True),
        Param('new', 'The new password.', required=True)])
    def change_password(self, req, old, new):
        try:
            self.users.authenticate(req.user['login'], old)
        except AccessError:  # the caller is signed in: a 403, not a 401 (as in Girder)
            raise AccessError('Old password is incorrect.')
        self.users.set_password(req.user, new)
        return {'message': 'Password changed.'}

    @route('GET', ':id', access=PUBLIC, params=[USER_ID], summary='Get a user.')
    def get(self, req, user):
        return self.users.filter(user, req.user)

    @route('GET', ':id/details', access=PUBLIC, params=[USER_ID],
           summary='How many folders a user has.')
    def details(self, req, user):
        return {'nFolders': self.app.models.folder.count(
            {'parentId': user['_id'], 'parentCollection': 'user'})}

    @route('PUT', ':id', access=USER, summary='Update a user.', params=[
        ModelParam('id', model=User, level=WRITE, dest='user'),
        Param('firstName', dest='first_name'), Param('lastName', dest='last_name'),
        Param('email'), Param('admin', type='boolean'),
        Param('status', enum=('enabled', 'disabled'))])
    def update(self, req, user, first_name, last_name, email, admin, status):
        for field, value in (('firstName', first_name), ('lastName', last_name),
                             ('email', email)):
            if value is not None:
                user[field] = value
        if admin is not None or status is not None:
            if not req.user.get('admin'):
                raise AccessError('Only administrators may change admin status or status.')
            if (admin is False or status == 'disabled') and user.get('admin'):
                self.users.require_not_last_admin(user)
            if admin is not None:
                user['admin'] = admin
            if status is not None:
                user['status'] = status
        self.users.save(user)
        self.app.auth.forget(user_id=user['_id'])
        return self.users.filter(user, req.user)

    @route('PUT', ':id/password', access=ADMIN_ONLY, summary="Set a user's password.",
           params=[ModelParam('id', model=User, level=ADMIN, dest='user'),
                   Param('password', required=True)])
    def set_password(self, req, user, password):
        self.users.set_password(user, password)
        return {'message': 'Password changed.'}

    @route('DELETE', ':id', access=USER, summary='Delete a user and all their data.',
           params=[ModelParam('id', model=User, level=ADMIN, dest='user')])
    def delete(self, req, user):
        self.users.require_not_last_admin(user)
        self.users.remove(user)
        self.app.auth.forget(user_id=user['_id'])
        return {'message': 'Deleted user %s.' % user['login']}
