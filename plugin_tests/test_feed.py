"""The change feed: events cross processes in order, gaps are waited for, caches forget
in every process."""
import queue
import time

import pytest

from tilery import feed as feed_module
from tilery.feed import Feed
from tilery.testing import TestServer, make_app


def _collector(feed):
    got = queue.Queue()
    feed.subscribe(got.put)
    return got


def _next(got, timeout=2.0):
    try:
        return got.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError('no event within %s s' % timeout)


@pytest.fixture
def two_feeds(server):
    """Two feeds on one database, as two server processes have."""
    model = server.app.models.notification
    feeds = [Feed(model, poll_interval=0.05), Feed(model, poll_interval=0.05)]
    for f in feeds:
        f.start()
    yield feeds
    for f in feeds:
        f.stop()


def test_an_event_reaches_every_process_in_order(two_feeds):
    a, b = two_feeds
    seen_a, seen_b = _collector(a), _collector(b)
    began = time.monotonic()
    for i in range(5):
        a.publish('test.thing', {'i': i}, scope={'type': 'item', 'id': 'x'})
    events = [_next(seen_b) for _ in range(5)]
    assert time.monotonic() - began < 1.0
    assert [e['data']['i'] for e in events] == list(range(5))
    assert {e['origin'] for e in events} == {a.origin} != {b.origin}
    # the publishing process hears of its own events too
    assert [_next(seen_a)['data']['i'] for _ in range(5)] == list(range(5))


def test_a_batch_is_numbered_in_order_with_two_writes(two_feeds):
    a, b = two_feeds
    seen = _collector(b)
    stored = a.publish_many([('test.batch', {'i': i}, None, None) for i in range(3)])
    assert [e['seq'] for e in stored] == [stored[0]['seq'] + i for i in range(3)]
    assert [_next(seen)['data']['i'] for _ in range(3)] == [0, 1, 2]


def test_a_number_taken_before_a_later_one_is_stored_still_arrives(two_feeds, monkeypatch):
    a, b = two_feeds
    seen = _collector(b)
    model = a.model
    # a writer that took number n and has not stored its event yet
    counter = model.counter.find_one_and_update(
        {'_id': 'seq'}, {'$inc': {'value': 1}}, return_document=True)
    late = a.publish('test.later')
    assert _next(seen)['_id'] == late['_id']
    early = {'time': late['time'], 'type': 'test.earlier', 'data': {}, 'userId': None,
             'scope': None, 'origin': 'elsewhere', 'expires': late['expires'],
             'seq': counter['value']}
    model.collection.insert_one(early)
    assert _next(seen)['type'] == 'test.earlier'


def test_a_number_never_stored_is_given_up(two_feeds, monkeypatch):
    monkeypatch.setattr(feed_module, 'GAP_SECONDS', 0.3)
    a, b = two_feeds
    seen = _collector(b)
    a.model.counter.update_one({'_id': 'seq'}, {'$inc': {'value': 1}})  # its writer died
    a.publish('test.one')
    assert _next(seen)['type'] == 'test.one'
    time.sleep(0.5)
    a.publish('test.two')
    assert _next(seen)['type'] == 'test.two'
    assert not b._seen, 'the gap is passed, nothing is held back'


def test_replay_after_an_event_and_since_a_time(two_feeds):
    a, _ = two_feeds
    first = a.publish('test.replay', {'n': 1})
    a.publish('test.replay', {'n': 2})
    a.publish('test.replay', {'n': 3})
    assert [e['data']['n'] for e in a.replay(after_id=first['_id'])] == [2, 3]
    assert [e['data']['n'] for e in a.replay(since=first['time'])][-2:] == [2, 3]
    assert a.replay(after_id=b'\x00' * 12) is None  # gone: the caller starts afresh


def test_a_logout_in_one_process_counts_in_the_other_at_once(server, mongo_client, db,
                                                             tmp_path, user):
    """Two apps on one database, token cache on: a token revoked through one is
    refused by the other within the feed's poll interval (not the cache's TTL)."""
    apps = [make_app(mongo_client, db, tmp_path / 'data', auth_cache_seconds=300,
                     feed_poll_interval=0.05) for _ in range(2)]
    for app in apps:
        app.feed.start()
    try:
        one, two = (TestServer(app) for app in apps)
        token = one.request('/user/authentication', basic=('user1', 'password1')
                            ).json['authToken']['token']
        assert two.request('/user/me', token=token).json['login'] == 'user1'
        assert one.request('/token/session', method='DELETE', token=token).status == 200
        began = time.monotonic()
        while two.request('/user/me', token=token).json is not None:
            assert time.monotonic() - began < 1.0, 'the other process still knows the token'
            time.sleep(0.02)
    finally:
        for app in apps:
            app.stop()


def test_an_access_change_reaches_the_other_process_item_cache(mongo_client, db, tmp_path,
                                                              server, user, other):
    """The tile routes' item cache (folder ACL included) in another process forgets a
    folder made private within the feed's poll interval, not the cache's TTL."""
    from tilery.errors import AccessError
    apps = [make_app(mongo_client, db, tmp_path / 'data', auth_cache_seconds=300,
                     feed_poll_interval=0.05) for _ in range(2)]
    for app in apps:
        app.feed.start()
    try:
        folder = apps[0].models.folder.find_one({'name': 'Public', 'parentId': user['_id']})
        item = apps[0].models.item.create('slide', folder, user)
        cache = apps[1].large_image.item_cache
        assert cache.get(item['_id'], other)['_id'] == item['_id']  # public: cached
        answer = TestServer(apps[0]).request('/folder/%s/access' % folder['_id'], method='PUT',
                                             user=user, params={'access': folder['access'],
                                                                'public': False})
        assert answer.status == 200, answer.json
        began = time.monotonic()
        while True:
            try:
                cache.get(item['_id'], other)
            except AccessError:
                break
            assert time.monotonic() - began < 1.0, 'the other process still lets them read'
            time.sleep(0.02)
    finally:
        for app in apps:
            app.stop()


def test_a_change_stream_wakes_the_feed_before_its_next_poll(tmp_path):
    """On a replica set (``tilery db``, real MongoDB) the feed is woken by a change
    stream: with a 5 s poll interval an event still arrives well within a second."""
    from tilery import database
    from tilery.models import Notification
    with database.EmbeddedDatabase(str(tmp_path / 'rs'), replica_set=True) as server:
        client = database.connect(server.uri)
        try:
            app = type('App', (), {'db': client.feedtest})()
            model = Notification(app)
            model.ensure_indexes()
            writer, reader = Feed(model, poll_interval=5.0), Feed(model, poll_interval=5.0)
            reader.start()
            try:
                began = time.monotonic()
                while not reader.watching:
                    assert time.monotonic() - began < 10, 'the change stream never opened'
                    time.sleep(0.05)
                seen = _collector(reader)
                time.sleep(0.2)  # the poller is asleep in its 5 s wait
                began = time.monotonic()
                writer.publish('test.woken')
                assert _next(seen, timeout=5.0)['type'] == 'test.woken'
                assert time.monotonic() - began < 1.0
            finally:
                reader.stop()
        finally:
            client.close()
