"""Element-level merges of concurrent PATCHes, presence, and the events of jobs and
uploads on the notification stream (issue 13)."""
import datetime
import io
import threading
import time

import girder_client

import test_notification as live

Sse = live.Sse
shared, bound = live.shared, live.bound  # the fixtures: a shared slide, a bound server


def eid(n):
    return '%024x' % n


def patch(server, who, aid, ops, version):
    return server.request('annotation/%s' % aid, 'PATCH', who, {'version': version}, ops)


def elements(server, who, aid):
    r = server.request('annotation/%s' % aid, user=who)
    return {e['id']: e for e in r.json['annotation']['elements']}, r.json['_version']


def test_concurrent_patches_of_different_elements_both_land(server, shared, user, other):
    folder, item, aid = shared
    answers = {}

    def edit(who, n, width):
        answers[n] = patch(server, who, aid, [
            {'op': 'replace', 'path': 'elements/id:%s/width' % eid(n), 'value': width}], 1)
    threads = [threading.Thread(target=edit, args=(user, 1, 11)),
               threading.Thread(target=edit, args=(other, 2, 22))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [answers[n].status for n in (1, 2)] == [204, 204], answers
    assert sorted(int(answers[n].headers['Tilery-Annotation-Version']) for n in (1, 2)) == [2, 3]
    found, version = elements(server, user, aid)
    assert version == 3 and found[eid(1)]['width'] == 11 and found[eid(2)]['width'] == 22
    history = server.request('annotation/%s/history' % aid, user=user).json
    assert [h['_version'] for h in history] == [3, 2, 1]
    assert {str(h['updatedId']) for h in history[:2]} == {str(user['_id']), str(other['_id'])}


def test_the_same_element_conflicts_with_base_theirs_and_mine(server, shared, user, other):
    folder, item, aid = shared
    assert patch(server, user, aid, [
        {'op': 'replace', 'path': 'elements/id:%s/width' % eid(1), 'value': 9},
        {'op': 'remove', 'path': 'elements/id:%s' % eid(3)},
        {'op': 'replace', 'path': 'name', 'value': 'theirs'}], 1).status == 204
    r = patch(server, other, aid, [
        {'op': 'replace', 'path': 'elements/id:%s/width' % eid(1), 'value': 7},
        {'op': 'replace', 'path': 'elements/id:%s/height' % eid(3), 'value': 5},
        {'op': 'replace', 'path': 'elements/id:%s/width' % eid(4), 'value': 6},
        {'op': 'replace', 'path': 'name', 'value': 'mine'}], 1)
    assert r.status == 409, r.body
    body = r.json
    assert body['type'] == 'conflict' and body['field'] == 'version' and body['version'] == 2
    by_id = {c.get('id') or c.get('field'): c for c in body['conflicts']}
    assert set(by_id) == {eid(1), eid(3), 'name'}  # element 4 did not change: no conflict
    one = by_id[eid(1)]
    assert (one['base']['width'], one['theirs']['width'], one['mine']['width']) == (4, 9, 7)
    three = by_id[eid(3)]
    assert three['theirs'] is None and three['mine']['height'] == 5
    assert by_id['name'] == {'field': 'name', 'base': 'a', 'theirs': 'theirs', 'mine': 'mine'}
    # nothing was written
    found, version = elements(server, user, aid)
    assert version == 2 and found[eid(1)]['width'] == 9 and found[eid(4)]['width'] == 4
    assert len(server.request('annotation/%s/history' % aid, user=user).json) == 2
    # "keep mine": the same operations at the current version land
    r = patch(server, other, aid, [
        {'op': 'replace', 'path': 'elements/id:%s/width' % eid(1), 'value': 7}], 2)
    assert r.status == 204 and r.headers['Tilery-Annotation-Version'] == '3'
    # a version that does not exist cannot be a base
    r = patch(server, other, aid, [{'op': 'replace', 'path': 'name', 'value': 'x'}], 99)
    assert r.status == 409 and r.json['conflicts'] == []
    # without a version, the last writer wins as before
    assert server.request('annotation/%s' % aid, 'PATCH', other, body=[
        {'op': 'replace', 'path': 'name', 'value': 'last'}]).status == 204


def test_presence_appears_moves_and_lapses(server, bound, shared, user, other, make_user):
    folder, item, aid = shared
    watcher = Sse(bound.api_url, server.token_for(other), {'watch': 'item:%s' % item['_id']})
    time.sleep(0.2)
    r = server.request('notification/presence', 'PUT', user,
                       {'itemId': item['_id'], 'viewport': [0, 0, 100, 50]})
    assert r.status == 200, r.body
    me = r.json['users'][0]
    assert me['userId'] == str(user['_id']) and me['login'] == 'user1'
    assert me['viewport'] == [0, 0, 100, 50] and me['color'].startswith('#')
    event = watcher.next(1.5, 'presence')
    assert event['data']['itemId'] == str(item['_id'])
    assert [u['login'] for u in event['data']['users']] == ['user1']
    # a heartbeat that changes nothing sends nothing; a moved viewport does
    time.sleep(0.3)
    server.request('notification/presence', 'PUT', user,
                   {'itemId': item['_id'], 'viewport': [0, 0, 100, 50]})
    assert watcher.next(0.8, 'presence') is None
    server.request('notification/presence', 'PUT', user,
                   {'itemId': item['_id'], 'viewport': [10, 0, 110, 50]})
    assert watcher.next(1.0, 'presence')['data']['users'][0]['viewport'] == [10, 0, 110, 50]
    r = server.request('notification/presence', 'PUT', other, {'itemId': item['_id']})
    assert [u['login'] for u in r.json['users']] == ['other1', 'user1']
    assert r.json['users'][0]['viewport'] is None
    r = server.request('notification/presence', 'DELETE', other, {'itemId': item['_id']})
    assert [u['login'] for u in r.json['users']] == ['user1']
    # 30 s after the last heartbeat the presence lapses, and watchers hear of it
    presence = server.app.models.presence
    presence.collection.update_many({}, {'$set': {
        'expires': datetime.datetime.utcnow() - datetime.timedelta(seconds=1)}})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        event = watcher.next(1.0, 'presence')
        if event is not None and event['data']['users'] == []:
            break
    assert event is not None and event['data']['users'] == []
    assert server.request('notification/presence', user=other,
                          params={'itemId': item['_id']}).json == {'users': []}
    watcher.close()


def test_who_may_use_presence(server, shared, user, make_user):
    folder, item, aid = shared
    outsider = make_user('outsider')
    for method in ('GET', 'PUT', 'DELETE'):
        r = server.request('notification/presence', method, None, {'itemId': item['_id']})
        assert r.status == 401, (method, r.body)
        r = server.request('notification/presence', method, outsider, {'itemId': item['_id']})
        assert r.status == 403 and r.json['type'] == 'access', (method, r.body)
        r = server.request('notification/presence', method, user)
        assert r.status == 400 and 'itemId' in r.json['message']
    for bad in ([1, 2, 3], ['a', 0, 1, 1], {'x': 1}, [1, 2, 3, 1e400]):
        r = server.request('notification/presence', 'PUT', user,
                           {'itemId': item['_id'], 'viewport': bad})
        assert r.status == 400, (bad, r.body)


def test_jobs_and_uploads_reach_their_owner(server, bound, user, other):
    server.app.jobs.register('notify-demo', lambda ctx: ctx.progress(1, 2, 'half'))
    mine = Sse(bound.api_url, server.token_for(user))
    theirs = Sse(bound.api_url, server.token_for(other))
    folder = server.app.models.folder.find_one({'creatorId': user['_id'], 'name': 'Public'})
    watcher = Sse(bound.api_url, server.token_for(user), {'watch': 'folder:%s' % folder['_id']})
    time.sleep(0.2)
    job = server.app.jobs.create('demo', 'notify-demo', user=user)
    statuses = []
    while True:
        event = mine.next(3.0, 'job_status')
        assert event is not None, statuses
        assert event['data']['_id'] == str(job['_id']) and 'log' not in event['data']
        statuses.append(event['data']['status'])
        if event['data']['status'] == 3:
            break
    assert statuses[0] == 1 and 2 in statuses
    client = girder_client.GirderClient(apiUrl=bound.api_url)
    client.setToken(server.token_for(user))
    uploaded = client.uploadFile(folder['_id'], io.BytesIO(b'abc'), 'notes.txt', 3,
                                 parentType='folder')
    event = mine.next(2.0, 'upload_done')
    assert event['data']['fileId'] == uploaded['_id'] and event['data']['size'] == 3
    assert event['data']['folderId'] == str(folder['_id']) and event['data']['name'] == 'notes.txt'
    created = watcher.next(2.0, 'item.create')
    assert created['data']['_id'] == event['data']['itemId']
    assert theirs.next(0.3) is None  # nothing of user's reaches other
    for stream in (mine, theirs, watcher):
        stream.close()
