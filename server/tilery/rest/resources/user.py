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
    """The Set-Cookie value that signs a browser in: HttpOnly, so no script (an uploaded
    page included) can read it; Strict, so no other site's page sends it."""
    expires = token['expires'].strftime('%a, %d %b %Y %H:%M:%S GMT')
    return 'girderToken=%s; Path=/; Expires=%s; HttpOnly; SameSite=Strict%s' % (
        token['_id'], expires, '; Secure' if secure else '')


CLEAR_COOKIE = 'girderToken=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; ' \
    'SameSite=Strict'


def sign_in_answer(req, user, token):
    """Girder's sign-in answer, with the cookie for <img> tiles and download links."""
    req.headers_out['Set-Cookie'] = token_cookie(token, req.secure)
    return {'user': req.app.models.user.filter(user, user),
            'authToken': req.app.models.token.answer(token)}


class UserResource(Resource):
    prefix = 'user'

    def __init__(self, app):
        self.app = app
        self.users = app.models.user

    @route('GET', '', access=PUBLIC, response='User[]',
           paging='lastName', summary='List or search users.',
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

    @route('POST', '', response='NewUser',
           access=PUBLIC, summary='Create a user (register).', params=[
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
            raise AccessError('Registration on this server is closed: ask an administrator '
                              'to create your account.')
        if admin and not is_admin:
            admin = False  # the first account becomes admin in the model, atomically
        pending = policy == 'approve' and not is_admin and not first
        # an administrator enables a pending account (PUT /user/:id?status=enabled)
        user = self.users.create(login, email, first_name, last_name, password,
                                 admin=admin, public=public,
                                 status='pending' if pending else 'enabled')
        if is_admin:
            self.app.audit.record('user.create', req.user, userId=user['_id'],
                                  login=user['login'], admin=user['admin'])
        else:
            self.app.audit.record('user.register', user, status=user['status'],
                                  admin=user['admin'], address=req.client_address)
        out = self.users.filter(user, user)
        if req.user is None and user['status'] == 'enabled':
            token = self.app.models.token.create(user)
            self.app.audit.record('login', user, address=req.client_address, registered=True)
            out['authToken'] = sign_in_answer(req, user, token)['authToken']
        return out

    @route('GET', 'me', response='User?', access=PUBLIC, summary='The signed-in user, or null.')
    def me(self, req):
        return self.users.filter(req.user, req.user) if req.user else None

    @route('GET', 'details', response='Details',
           access=ADMIN_ONLY, summary='How many users there are.')
    def details_all(self, req):
        return {'nUsers': self.users.count()}

    @route('GET', 'authentication', response='Session', access=PUBLIC,
           summary='Sign in with HTTP Basic credentials; answers a token.',
           responses={429: 'Too many failed sign-ins (login throttling)'})
    def login(self, req):
        header = req.headers.get('Girder-Authorization') or req.headers.get('Authorization')
        if not header or not header.startswith('Basic '):
            if req.user is not None:
                # a page reload with the token from localStorage gets the cookie back
                return sign_in_answer(req, req.user, req.token)
            raise anonymous_error('Use HTTP Basic authentication (login:password).')
        try:
            login, _, password = base64.b64decode(header[6:]).decode('utf8').partition(':')
        except (binascii.Error, UnicodeDecodeError):
            raise RestError('Invalid HTTP Authorization header.', 401)
        user, token = self.app.logins.sign_in(login, password, req.client_address)
        return dict(sign_in_answer(req, user, token), message='Login succeeded.')

    @route('DELETE', 'authentication', response='Message',
           access=PUBLIC, summary='Sign out (revokes the token).')
    def logout(self, req):
        if req.token is not None:
            self.app.models.token.remove(req.token)
            self.app.auth.forget(req.token['_id'])
            self.app.audit.record('logout', req.user)
        req.headers_out['Set-Cookie'] = CLEAR_COOKIE
        return {'message': 'Logged out.'}

    @route('PUT', 'password', response='Message',
           access=USER, summary='Change your password.', params=[
        Param('old', 'Your current password.', required=True),
        Param('new', 'The new password.', required=True)])
    def change_password(self, req, old, new):
        try:
            self.users.authenticate(req.user['login'], old)
        except AccessError:  # the caller is signed in: a 403, not a 401 (as in Girder)
            raise AccessError('Old password is incorrect.')
        self.users.set_password(req.user, new)
        return {'message': 'Password changed.'}

    @route('GET', ':id', access=PUBLIC, response='User', params=[USER_ID], summary='Get a user.')
    def get(self, req, user):
        return self.users.filter(user, req.user)

    @route('GET', ':id/details', response='Details', access=PUBLIC, params=[USER_ID],
           summary='How many folders a user has.')
    def details(self, req, user):
        return {'nFolders': self.app.models.folder.count(
            {'parentId': user['_id'], 'parentCollection': 'user'})}

    @route('PUT', ':id', response='User', access=USER, summary='Update a user.', params=[
        ModelParam('id', model=User, level=WRITE, dest='user'),
        Param('firstName', dest='first_name'), Param('lastName', dest='last_name'),
        Param('email'), Param('admin', type='boolean'),
        Param('status', enum=('pending', 'enabled', 'disabled'))])
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
            changed = {k: v for k, v in (('admin', admin), ('status', status))
                       if v is not None and user.get(k) != v}
            user.update(changed)
            if changed:
                self.app.audit.record('user.admin_change', req.user, userId=user['_id'],
                                      login=user['login'], **changed)
        self.users.save(user)
        self.app.auth.forget(user_id=user['_id'])
        return self.users.filter(user, req.user)

    @route('PUT', ':id/password', response='Message',
           access=ADMIN_ONLY, summary="Set a user's password.",
           params=[ModelParam('id', model=User, level=ADMIN, dest='user'),
                   Param('password', required=True)])
    def set_password(self, req, user, password):
        self.users.set_password(user, password)
        self.app.audit.record('user.password', req.user, userId=user['_id'],
                              login=user['login'])
        return {'message': 'Password changed.'}

    @route('DELETE', ':id', response='Message',
           access=USER, summary='Delete a user and all their data.',
           params=[ModelParam('id', model=User, level=ADMIN, dest='user')])
    def delete(self, req, user):
        self.users.require_not_last_admin(user)
        self.users.remove(user)
        self.app.auth.forget(user_id=user['_id'])
        self.app.audit.record('user.delete', req.user, userId=user['_id'],
                              login=user['login'])
        return {'message': 'Deleted user %s.' % user['login']}
