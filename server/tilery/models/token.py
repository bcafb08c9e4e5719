"""Authentication tokens and API keys."""
import datetime
import secrets

from ..errors import AccessError, ValidationError
from .base import Model, now

USER_AUTH = 'core.user_auth'
SCOPES = {
    'core.data.read': 'Read data',
    'core.data.write': 'Write data',
    'core.data.own': 'Own data',
    'core.user_info.read': 'Read your user information',
    'core.user_auth': 'Full access as the user (user authentication)',
    'core.setting.read': 'Read settings',
    'core.plugins.read': 'See installed plugins',
}


class Token(Model):
    collection_name = 'token'
    model_type = 'token'
    indexes = ('userId', ([('expires', 1)], {'expireAfterSeconds': 0}))

    def create(self, user, days=None, scope=None, api_key=None):
        """A new token string for ``user``, valid ``days`` (the site default if None)."""
        if days is None:  # the run-time setting when an admin has set it, else the server's
            stored = self.app.models.setting.find_one({'key': 'core.cookie_lifetime'})
            days = stored['value'] if stored else self.app.settings.token_days
        doc = {'_id': secrets.token_urlsafe(48), 'userId': user['_id'] if user else None,
               'created': now(), 'expires': now() + datetime.timedelta(days=float(days)),
               'scope': list(scope or [USER_AUTH])}
        if api_key is not None:
            doc['apiKeyId'] = api_key['_id']
        self.collection.insert_one(doc)
        return doc

    def lookup(self, value):
        """The live token document for ``value``, or None."""
        doc = self.collection.find_one({'_id': value})
        if doc is None or doc['expires'] < now():
            return None
        return doc

    def remove_for_api_key(self, key):
        """Revoke every token made from the API key ``key``."""
        self.collection.delete_many({'apiKeyId': key['_id']})

    def answer(self, doc):
        return {'token': doc['_id'], 'expires': doc['expires'], 'scope': doc['scope']}


class ApiKey(Model):
    collection_name = 'api_key'
    model_type = 'api_key'
    indexes = ('userId', ([('key', 1)], {'unique': True}))

    @staticmethod
    def check_scope(scope):
        """Refuse scopes this server does not know (None means full access)."""
        if scope is not None:
            unknown = {str(s) for s in scope} - set(SCOPES)
            if unknown:
                raise ValidationError('Invalid scopes: %s.' % ', '.join(sorted(unknown)), 'scope')

    def create(self, user, name='', scope=None, days=None, active=True):
        self.check_scope(scope)
        doc = {'userId': user['_id'], 'name': name or '', 'scope': scope, 'tokenDuration': days,
               'active': bool(active), 'key': secrets.token_urlsafe(30), 'created': now(),
               'lastUse': None}
        doc = self.save(doc)
        self.app.audit.record('api_key.create', user, apiKeyId=doc['_id'], name=doc['name'],
                              scope=scope)
        return doc

    def token_for(self, key, days=None):
        """Exchange an API key for a token, as ``POST /api_key/token`` does."""
        doc = self.find_one({'key': key})
        if doc is None or not doc.get('active', True):
            raise AccessError('Invalid API key.', 401)
        user = self.app.models.user.load(doc['userId'], exc=False)
        if user is None or user.get('status', 'enabled') != 'enabled':
            raise AccessError('Invalid API key.', 401)
        limits = [d for d in (days, doc.get('tokenDuration')) if d]
        duration = min(float(d) for d in limits) if limits else None
        self.collection.update_one({'_id': doc['_id']}, {'$set': {'lastUse': now()}})
        token = self.app.models.token.create(user, duration, doc.get('scope'), api_key=doc)
        self.app.audit.record('token.create', user, apiKeyId=doc['_id'], scope=token['scope'])
        return user, token

    def update_key(self, doc, actor, **changes):
        """Rename, rescope or (de)activate a key; deactivating revokes its tokens. A
        change of None is no change, except ``scope``: None there is full access (as in
        Girder), and a caller leaves ``scope`` out to keep it."""
        changes = {k: v for k, v in changes.items() if v is not None or k == 'scope'}
        if 'scope' in changes:
            self.check_scope(changes['scope'])
        doc.update(changes)
        if changes.get('active') is False:
            self.app.models.token.remove_for_api_key(doc)
        self.save(doc)
        self.app.audit.record('api_key.update', actor, apiKeyId=doc['_id'],
                              ownerId=doc['userId'],
                              **changes)
        return doc

    def remove(self, doc, actor=None, **kwargs):
        self.app.models.token.remove_for_api_key(doc)
        super().remove(doc)
        self.app.audit.record('api_key.delete', actor, apiKeyId=doc['_id'],
                              ownerId=doc['userId'], name=doc.get('name'))
