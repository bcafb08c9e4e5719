"""Failed sign-ins counted per login and per client address, shared by every server
process through the database (a TTL index drops quiet entries)."""
import pymongo
import pymongo.errors

from .base import Model


class LoginThrottle(Model):
    collection_name = 'login_throttle'
    model_type = 'login_throttle'
    indexes = (([('expires', 1)], {'expireAfterSeconds': 0}),)

    def live(self, keys, when):
        """The entries of ``keys`` that have not expired (the TTL monitor runs late)."""
        return list(self.collection.find({'_id': {'$in': list(keys)}, 'expires': {'$gt': when}}))

    def begin_try(self, key, when, expires):
        """Count one sign-in under way for ``key`` (before its slow hash); the entry."""
        return self._bump(key, when, {'$inc': {'trying': 1}, '$max': {'expires': expires},
                                      '$setOnInsert': {'since': when, 'lockouts': 0,
                                                       'failures': 0}})

    def end_try(self, keys):
        """The sign-ins counted by ``begin_try`` are over (answered either way)."""
        self.collection.update_many({'_id': {'$in': list(keys)}, 'trying': {'$gt': 0}},
                                    {'$inc': {'trying': -1}})

    def add_failure(self, key, when, expires):
        """Count one failure for ``key`` (a fresh entry when the old one expired)."""
        return self._bump(key, when, {'$inc': {'failures': 1}, '$max': {'expires': expires},
                                      '$setOnInsert': {'since': when, 'lockouts': 0}})

    def _bump(self, key, when, update):
        """Apply ``update`` to ``key``'s entry, made when missing; the entry after it.

        Two requests upserting the same new key at once: one inserts, the other gets a
        duplicate key error (or, on SecantusDB, no document); it then updates the entry
        the first made."""
        self.collection.delete_one({'_id': key, 'expires': {'$lte': when}})
        for _ in range(3):
            try:
                doc = self.collection.find_one_and_update(
                    {'_id': key}, update, upsert=True,
                    return_document=pymongo.ReturnDocument.AFTER)
            except pymongo.errors.DuplicateKeyError:
                doc = None
            if doc is not None:
                return doc
        raise RuntimeError('Cannot update the sign-in counter %r.' % key)

    def lock(self, key, lockouts, until, seconds, expires):
        self.collection.update_one({'_id': key}, {'$set': {
            'lockouts': lockouts, 'lockedUntil': until, 'lockSeconds': seconds,
            'expires': expires}})

    def clear(self, keys):
        """Forget failures and lockouts of ``keys``; the number of entries removed."""
        return self.collection.delete_many({'_id': {'$in': list(keys)}}).deleted_count
