"""One access implementation: annotation, labels and tagging ask the core's models.

Who may annotate, label and tag the items of a folder is one rule (write access, or
read access with the annotate flag), whichever way the flag reaches the user: their
own entry, a group's entry or the folder's public flags. The annotation ACL is parsed
by the same code as folders' (unknown users, bad flags and levels are 400s).
"""
import numpy as np
import pytest

from test_labels import png
from tilery.plugins import ANNOTATE_FLAG


@pytest.fixture
def shared(server, admin, other):
    """A folder with one 64x48 image and a tag set; ``other`` joins group 'readers'."""
    folders = server.app.models.folder
    private = folders.find_one({'parentId': admin['_id'], 'name': 'Private'})
    folder = folders.create('shared', private, 'folder', admin)
    data = png(np.zeros((48, 64, 3), np.uint8))
    item = server.app.models.item.create('slide.png', folder, admin)
    r = server.request('file', 'POST', admin, params={
        'parentType': 'item', 'parentId': item['_id'], 'name': 'slide.png',
        'size': len(data)}, body=data)
    assert r.status == 200, r.json
    r = server.request('folder/%s/tagset' % folder['_id'], 'PUT', admin,
                       body={'tags': [{'code': 1, 'alias': 'one'}]})
    assert r.status == 200, r.json
    group = server.request('group', 'POST', admin, params={'name': 'readers'}).json
    r = server.request('group/%s/invitation' % group['_id'], 'POST', admin, params={
        'userId': other['_id'], 'force': True})
    assert r.status == 200, r.json
    return folder, item, group


def set_folder_access(server, admin, folder, groups=(), public=False, public_flags=()):
    r = server.request('folder/%s/access' % folder['_id'], 'PUT', admin, params={
        'access': {'users': [{'id': str(admin['_id']), 'level': 2}], 'groups': list(groups)},
        'public': public, 'publicFlags': list(public_flags)})
    assert r.status == 200, r.json


def plugin_writes(server, user, item):
    """The status of an annotate-level write in each of the three plugins."""
    return {
        'annotation': server.request('annotation', 'POST', user, {'itemId': item['_id']}, {
            'elements': [{'type': 'point', 'center': [1, 1, 0]}]}).status,
        'labels': server.request('item/%s/labels' % item['_id'], 'PUT', user,
                                 body=png(np.ones((48, 64), np.uint8))).status,
        'tagging': server.request('item/%s/tags' % item['_id'], 'PUT', user,
                                  body=['1']).status,
    }


def test_the_annotate_flag_is_one_rule_in_every_plugin(server, admin, other, shared):
    folder, item, group = shared
    gid = str(group['_id'])
    set_folder_access(server, admin, folder, [{'id': gid, 'level': 0}])
    assert plugin_writes(server, other, item) == dict.fromkeys(
        ('annotation', 'labels', 'tagging'), 403)
    # through the group's entry
    set_folder_access(server, admin, folder, [{'id': gid, 'level': 0,
                                               'flags': [ANNOTATE_FLAG]}])
    assert plugin_writes(server, other, item) == dict.fromkeys(
        ('annotation', 'labels', 'tagging'), 200)
    # through the folder's public flags
    set_folder_access(server, admin, folder, public=True, public_flags=[ANNOTATE_FLAG])
    assert plugin_writes(server, other, item) == dict.fromkeys(
        ('annotation', 'labels', 'tagging'), 200)
    # write access needs no flag; anonymous callers are asked to sign in
    set_folder_access(server, admin, folder, [{'id': gid, 'level': 1}])
    assert plugin_writes(server, other, item) == dict.fromkeys(
        ('annotation', 'labels', 'tagging'), 200)
    assert plugin_writes(server, None, item) == dict.fromkeys(
        ('annotation', 'labels', 'tagging'), 401)


def test_every_plugin_asks_the_folder_model(server):
    folders = server.app.models.folder
    # the rule is the core's, not a copy per plugin
    assert folders.can_annotate({'access': {'users': [], 'groups': []},
                                 'public': True, 'publicFlags': [ANNOTATE_FLAG]},
                                {'_id': 1, 'groups': []})
    assert not folders.can_annotate({'public': True}, {'_id': 1, 'groups': []})
    assert not folders.can_annotate({'public': True, 'publicFlags': [ANNOTATE_FLAG]}, None)


def test_annotation_acl_is_parsed_like_the_core_s(server, admin, other, user, shared):
    folder, item, group = shared
    aid = server.request('annotation', 'POST', admin, {'itemId': item['_id']}, {
        'elements': []}).json['_id']
    url = 'annotation/%s/access' % aid
    before = server.request(url, user=admin).json
    for bad, words in (
            ({'users': [{'id': '0123456789abcdef01234567', 'level': 0}]}, 'no such user'),
            ({'groups': [{'id': '0123456789abcdef01234567', 'level': 0}]}, 'no such group'),
            ({'users': [{'id': str(other['_id']), 'level': 0, 'flags': [1]}]}, 'flags'),
            ({'users': [{'id': str(other['_id']), 'level': True}]}, 'level'),
            ({'users': [{'id': str(other['_id']), 'level': 3}]}, 'level'),
            ({'users': 'everyone'}, 'must be a list')):
        r = server.request(url, 'PUT', admin, params={'access': bad})
        assert r.status == 400, (bad, r.json)
        assert words in r.json['message'].lower(), (bad, r.json)
    assert server.request(url, user=admin).json == before  # nothing changed
    # NONE entries and repeated ids are dropped, as for folders
    r = server.request(url, 'PUT', admin, params={'access': {
        'users': [{'id': str(admin['_id']), 'level': 2}, {'id': str(admin['_id']), 'level': 0},
                  {'id': str(user['_id']), 'level': -1}],
        'groups': [{'id': str(group['_id']), 'level': 0, 'flags': [ANNOTATE_FLAG]}]}})
    assert r.status == 200, r.json
    access = server.request(url, user=admin).json['access']
    assert [(e['id'], e['level']) for e in access['users']] == [(str(admin['_id']), 2)]
    assert access['groups'] == [{'id': str(group['_id']), 'level': 0,
                                 'flags': [ANNOTATE_FLAG]}]
    assert server.request('annotation/' + aid, user=other).status == 200
