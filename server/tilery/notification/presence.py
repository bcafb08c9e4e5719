"""Presence: who has a slide open, and where they look when they share it.

Stored in the ``presence`` collection (one document per item and user) so that every
server process answers the same list; a heartbeat moves ``expires`` on, and a
presence ``LAPSE_SECONDS`` after its last heartbeat is gone. Each process looks for
lapsed presences about every two seconds (``expire``, run by the stream hub's thread);
the process whose delete removes one publishes the item's new list, so it is sent once.
"""
import datetime
import math
import threading
import time

import pymongo

from ..errors import ValidationError
from ..models.base import Model, now

LAPSE_SECONDS = 30.0
EVENT_INTERVAL = 0.25  # presence events of one item: at most 4 a second from a process
EXPIRE_INTERVAL = 2.0
COLORS = ('#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6',
          '#9a6324', '#800000', '#469990', '#000075', '#808000')


class Presence(Model):
    """One document per (item, user) with the user's shared viewport and its lapse time."""

    collection_name = 'presence'
    model_type = 'presence'
    indexes = (([('itemId', 1), ('userId', 1)], {'unique': True}), [('expires', 1)])

    def beat(self, item_id, user, viewport, lapse=LAPSE_SECONDS):
        """Record that ``user`` has the item open; True when others should hear of it
        (they just arrived, came back after a lapse, or moved their shared viewport)."""
        when = now()
        before = self.collection.find_one_and_update(
            {'itemId': item_id, 'userId': user['_id']},
            {'$set': {'viewport': viewport, 'login': user.get('login'),
                      'name': _full_name(user),
                      'expires': when + datetime.timedelta(seconds=lapse)}},
            upsert=True, projection={'viewport': 1, 'expires': 1})
        return before is None or before['expires'] <= when or before.get('viewport') != viewport

    def leave(self, item_id, user_id):
        """Forget the user on the item; True when they were there."""
        return self.collection.delete_one({'itemId': item_id, 'userId': user_id}).deleted_count > 0

    def present(self, item_id):
        """The live presences of an item, by login."""
        return list(self.collection.find({'itemId': item_id, 'expires': {'$gt': now()}})
                    .sort([('login', pymongo.ASCENDING)]).limit(1000))

    def lapsed(self, limit=1000):
        return list(self.collection.find({'expires': {'$lte': now()}}).limit(limit))

    def remove_lapsed(self, doc):
        """Delete a lapsed presence unless a heartbeat renewed it; True when deleted here."""
        return self.collection.delete_one(
            {'_id': doc['_id'], 'expires': doc['expires']}).deleted_count > 0


def _full_name(user):
    return ' '.join(p for p in (user.get('firstName'), user.get('lastName')) if p) or \
        user.get('login')


def color_of(user_id):
    """A user's colour, the same in every process and session."""
    return COLORS[int(str(user_id), 16) % len(COLORS)]


def check_viewport(value):
    """[x0, y0, x1, y1] of finite numbers, or None (not shared)."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 4 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in value):
        raise ValidationError('viewport must be a JSON list of 4 numbers [x0, y0, x1, y1] '
                              'or null.', 'viewport')
    return [float(v) for v in value]


class PresenceService:
    """Heartbeats, departures and lapses, each published as a ``presence`` event."""

    def __init__(self, model, feed):
        self.model = model
        self.feed = feed
        self._last_sent = {}  # item id -> monotonic time of its last event from here
        self._pending = set()  # items whose event waits for the interval to pass
        self._lock = threading.Lock()
        self._last_expire = 0.0

    def users(self, item_id):
        """The contract's list: everyone present on the item."""
        return [{'userId': d['userId'], 'login': d.get('login'), 'name': d.get('name'),
                 'viewport': d.get('viewport'), 'color': color_of(d['userId'])}
                for d in self.model.present(item_id)]

    def beat(self, item, user, viewport):
        if self.model.beat(item['_id'], user, check_viewport(viewport)):
            self._changed(item['_id'])  # a heartbeat that changes nothing is not an event
        return self.users(item['_id'])

    def leave(self, item, user):
        if self.model.leave(item['_id'], user['_id']):
            self._changed(item['_id'])
        return self.users(item['_id'])

    def _changed(self, item_id):
        """Publish the item's list now, or at the next tick if one went out just now."""
        with self._lock:
            last = self._last_sent.get(item_id, 0.0)
            if time.monotonic() - last < EVENT_INTERVAL:
                self._pending.add(item_id)
                return
            self._last_sent[item_id] = time.monotonic()
        self._publish(item_id)

    def _publish(self, item_id):
        self.feed.publish('presence', {'itemId': item_id, 'users': self.users(item_id)},
                          scope={'type': 'item', 'id': item_id})

    def tick(self):
        """Send the held-back events; about every two seconds, publish lapses."""
        with self._lock:
            pending, self._pending = self._pending, set()
            stamp = time.monotonic()
            for item_id in pending:
                self._last_sent[item_id] = stamp
            if len(self._last_sent) > 10000:
                self._last_sent.clear()
        for item_id in pending:
            self._publish(item_id)
        if stamp - self._last_expire >= EXPIRE_INTERVAL:
            self._last_expire = stamp
            self.expire()

    def expire(self):
        """Remove lapsed presences; publish each item that lost someone (once)."""
        items = {doc['itemId'] for doc in self.model.lapsed() if self.model.remove_lapsed(doc)}
        for item_id in items:
            self._changed(item_id)
        return len(items)
