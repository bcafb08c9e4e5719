"""Failed sign-ins counted per login and per client address, shared by every server
process through the database (a TTL index drops quiet entries)."""
import pymongo

from .base import Model


class LoginThrottle(Model):
    collection_name = 'login_throttle'
    model_type = 'login_throttle'
    indexes = (([('expires', 1)], {'expireAfterSeconds': 0}),)

    def live(self, keys, when):
        """The entries of ``keys`` that have not expired (the TTL monitor runs late)."""
        return list(self.collection.find({'_id': {'$in': list(keys)}, 'expires': {'$gt': when}}))

    def add_failure(self, key, when, expires):
        """Count one failure for ``key`` (a fresh entry when the old one expired)."""
        self.collection.delete_one({'_id': key, 'expires': {'$lte': when}})
        return self.collection.find_one_and_update(
            {'_id': key}, {'$inc': {'failures': 1}, '$max': {'expires': expires},
                           '$setOnInsert': {'since': when, 'lockouts': 0}},
            upsert=True, return_document=pymongo.ReturnDocument.AFTER)

    def lock(self, key, lockouts, until, seconds, expires):
        self.collection.update_one({'_id': key}, {'$set': {
            'lockouts': lockouts, 'lockedUntil': until, 'lockSeconds': seconds,
            'expires': expires}})

    def clear(self, keys):
        """Forget failures and lockouts of ``keys``; the number of entries removed."""
        return self.collection.delete_many({'_id': {'$in': list(keys)}}).deleted_count
