"""Site settings that admins change at run time (``/system/setting``)."""
from ..errors import ValidationError
from .base import Model

#: key -> (default, validator or None, description)
CORE_SETTINGS = {
    'core.registration_policy': ('open', lambda v: v in ('open', 'closed', 'approve'),
                                 'Who may register: open, closed or approve'),
    'core.brand_name': ('Tilery', lambda v: isinstance(v, str) and v.strip() != '',
                        'Name shown in the web client'),
    'core.cookie_lifetime': (30, lambda v: isinstance(v, (int, float)) and v > 0,
                             'Days a sign-in lasts'),
}


class Setting(Model):
    collection_name = 'setting'
    model_type = 'setting'
    indexes = (([('key', 1)], {'unique': True}),)

    def __init__(self, app):
        super().__init__(app)
        self.known = dict(CORE_SETTINGS)

    def declare(self, key, default, validator=None, description=''):
        """Plugins declare their run-time settings here."""
        self.known[key] = (default, validator, description)

    def claim_once(self, key, value):
        """Store ``value`` under an internal ``key`` unless already there; True if stored.

        The unique index on ``key`` makes this atomic across threads and processes.
        """
        import pymongo.errors
        try:
            self.collection.insert_one({'key': key, 'value': value})
        except pymongo.errors.DuplicateKeyError:
            return False
        return True

    def get(self, key):
        if key not in self.known:
            raise ValidationError('Unknown setting: %s.' % key, 'key')
        doc = self.find_one({'key': key})
        return doc['value'] if doc else self.known[key][0]

    def set(self, key, value):
        if key not in self.known:
            raise ValidationError('Unknown setting: %s.' % key, 'key')
        if value is None:
            self.collection.delete_one({'key': key})
            return self.known[key][0]
        validator = self.known[key][1]
        if validator is not None and not validator(value):
            raise ValidationError('Invalid value for %s: %r.' % (key, value), 'value')
        self.collection.update_one({'key': key}, {'$set': {'value': value}}, upsert=True)
        return value
