"""/token and /api_key: sessions, scopes and API keys."""
from ...errors import AccessError
from ...models.base import READ
from ...models.token import SCOPES, ApiKey
from ...models.user import User
from ..params import ModelParam, Param
from ..routing import PUBLIC, USER, Resource, route
from .user import CLEAR_COOKIE, token_cookie


class TokenResource(Resource):
    prefix = 'token'

    def __init__(self, app):
        self.app = app
        self.tokens = app.models.token

    @route('GET', 'current', response='Token?',
           access=PUBLIC, summary='The token used for this request, or null.')
    def current(self, req):
        return self.tokens.answer(req.token) if req.token else None

    @route('GET', 'session', response='Token', access=PUBLIC,
           summary='The current token, or a new anonymous session token.')
    def session(self, req):
        if req.token is not None:
            return self.tokens.answer(req.token)
        token = self.tokens.create(None, days=1, scope=['core.anonymous_session'])
        return self.tokens.answer(token)

    @route('DELETE', 'session', response='Message',
           access=USER, summary='Revoke the current token.')
    def delete_session(self, req):
        if req.token is not None:
            self.tokens.remove(req.token)
            self.app.auth.forget(req.token['_id'])
        req.headers_out['Set-Cookie'] = CLEAR_COOKIE
        return {'message': 'Token revoked.'}

    @route('GET', 'scopes', response='TokenScopes',
           access=PUBLIC, summary='The token scopes this server knows.')
    def scopes(self, req):
        return {'custom': [{'id': k, 'name': v, 'description': v} for k, v in SCOPES.items()],
                'adminCustom': []}


class ApiKeyResource(Resource):
    prefix = 'api_key'

    def __init__(self, app):
        self.app = app
        self.keys = app.models.api_key

    def _own(self, req, key):
        if key['userId'] != req.user['_id'] and not req.user.get('admin'):
            raise AccessError('That API key belongs to another user.')
        return key

    @route('GET', '', access=USER, response='ApiKey[]',
           paging='name', summary='List API keys.', params=[
        ModelParam('userId', 'Whose keys (default: yours).', model=User, level=READ,
                   required=False, dest='user')])
    def find(self, req, user, paging):
        user = user or req.user
        if user['_id'] != req.user['_id'] and not req.user.get('admin'):
            raise AccessError("Only administrators may list other users' API keys.")
        docs, total = self.keys.find_page({'userId': user['_id']}, paging)
        req.set_total_count(total)
        return [self.keys.filter(d, req.user) for d in docs]

    @route('POST', '', access=USER, response='ApiKey', summary='Create an API key.', params=[
        Param('name', default=''),
        Param('scope', 'JSON list of scopes; null means full access.', 'json',
              json_types=(list, type(None))),
        Param('tokenDuration', 'Days a token made from this key lasts.', 'number', min=0,
              dest='days'),
        Param('active', type='boolean', default=True)])
    def create(self, req, name, scope, days, active):
        return self.keys.filter(self.keys.create(req.user, name, scope, days, active))

    @route('PUT', ':id', access=USER, response='ApiKey', summary='Update an API key.', params=[
        ModelParam('id', model=ApiKey, force=True, dest='key'), Param('name'),
        Param('scope', 'JSON list of scopes; null means full access.', 'json',
              json_types=(list, type(None))),
        Param('tokenDuration', type='number', min=0, dest='days'),
        Param('active', type='boolean')])
    def update(self, req, key, name, scope, days, active):
        self._own(req, key)
        changes = {'name': name, 'tokenDuration': days, 'active': active}
        if 'scope' in req.params:  # given: null means full access, as in Girder
            changes['scope'] = scope
        return self.keys.filter(self.keys.update_key(key, req.user, **changes))

    @route('DELETE', ':id', response='Message',
           access=USER, summary='Delete an API key and its tokens.', params=[
        ModelParam('id', model=ApiKey, force=True, dest='key')])
    def delete(self, req, key):
        self.keys.remove(self._own(req, key), actor=req.user)
        return {'message': 'Deleted API key %s.' % key['name']}

    @route('POST', 'token', response='Session',
           access=PUBLIC, summary='Exchange an API key for a token.', params=[
        Param('key', required=True),
        Param('duration', 'Days the token lasts (at most the key allows).', 'number', min=0)])
    def token(self, req, key, duration):
        user, token = self.keys.token_for(key, duration)
        req.headers_out['Set-Cookie'] = token_cookie(token, req.secure)
        return {'authToken': self.app.models.token.answer(token),
                'user': self.app.models.user.filter(user, user)}
