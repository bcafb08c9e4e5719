"""Change events shared by every server process: the store behind ``tilery.feed``.

Each event has a ``seq`` from one counter document, so that a process can read what
is new with an indexed range (``seq`` above what it has seen) instead of rescanning a
time window; events expire after the feed's window (a TTL index, and reads skip what
the TTL monitor has not removed yet).
"""
import pymongo
import pymongo.errors

from .base import Model

#: the counter document's id (in ``notification_seq``)
COUNTER_ID = 'seq'


class Notification(Model):
    collection_name = 'notification'
    model_type = 'notification'
    indexes = (([('seq', 1)], {}),
               ([('expires', 1)], {'expireAfterSeconds': 0}),
               ([('time', 1)], {}))

    def __init__(self, app):
        super().__init__(app)
        # the counter has a collection of its own: findAndModify reads its whole
        # collection on the embedded database (database.py), here one document
        self.counter = self.db[self.collection_name + '_seq']

    def ensure_indexes(self):
        super().ensure_indexes()
        try:
            self.counter.insert_one({'_id': COUNTER_ID, 'value': 0})
        except pymongo.errors.DuplicateKeyError:
            pass

    def last_seq(self):
        """The highest sequence number handed out so far."""
        doc = self.counter.find_one({'_id': COUNTER_ID})
        return doc['value'] if doc else 0

    def add(self, events):
        """Store ``events`` under the next sequence numbers, in order (two writes however
        many there are); the stored events."""
        counter = self.counter.find_one_and_update(
            {'_id': COUNTER_ID}, {'$inc': {'value': len(events)}}, upsert=True,
            return_document=pymongo.ReturnDocument.AFTER)
        first = counter['value'] - len(events) + 1
        for offset, event in enumerate(events):
            event['seq'] = first + offset
        self.collection.insert_many(events)
        return events

    def from_seq(self, seq, when, limit):
        """Unexpired events numbered ``seq`` or more, in order."""
        # the range on ``seq`` alone: with ``expires`` in the query a database may pick
        # that index and read every unexpired event on each poll
        found = self.collection.find({'seq': {'$gte': seq}}).sort('seq', 1).limit(limit)
        return [event for event in found if event['expires'] > when]

    def after(self, event_id, when, limit):
        """Unexpired events stored after the one with ``event_id`` (None if it is gone)."""
        doc = self.collection.find_one({'_id': event_id}, {'seq': 1})
        if doc is None:
            return None
        return self.from_seq(doc['seq'] + 1, when, limit)

    def since(self, time, when, limit):
        """Unexpired events stored after ``time``, in order."""
        return list(self.collection.find(
            {'time': {'$gt': time}, 'expires': {'$gt': when}}).sort('seq', 1).limit(limit))
