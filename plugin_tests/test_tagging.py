"""The tagging plugin: tag sets, tags from the keyboard, CSV in and out."""
import pytest


@pytest.fixture
def tagged_folder(server, admin, user):
    folders = server.app.models.folder
    private = folders.find_one({'parentId': admin['_id'], 'name': 'Private'})
    folder = folders.create('clips', private, 'folder', admin)
    for name in ('img_001.jpg', 'img_002.jpg', 'img_003.jpg'):
        server.app.models.item.create(name, folder, admin)
    r = server.request('folder/%s/access' % folder['_id'], 'PUT', admin, params={
        'access': {'users': [{'id': str(admin['_id']), 'level': 2},
                             {'id': str(user['_id']), 'level': 0}], 'groups': []}})
    assert r.status == 200
    tagset = {'tags': [{'code': 100, 'alias': 'Clear Weather'}, {'code': 200, 'alias': 'Rainy'},
                       {'code': 300, 'alias': 'Foggy'}], 'multiple': False}
    r = server.request('folder/%s/tagset' % folder['_id'], 'PUT', admin, body=tagset)
    assert r.status == 200, r.json
    return folder


def items_by_name(server, folder, user):
    return {i['name']: i for i in server.request('item', user=user, params={
        'folderId': folder['_id']}).json}


def test_tagset_defaults_keys_and_validation(server, admin, tagged_folder):
    url = 'folder/%s/tagset' % tagged_folder['_id']
    tags = server.request(url, user=admin).json['tags']
    assert [(t['code'], t['key']) for t in tags] == [('100', '1'), ('200', '2'), ('300', '3')]
    for bad in ({'tags': []}, {'tags': [{'code': 1}, {'code': 1}]},
                {'tags': [{'code': 'a b'}]}, {'tags': [{'code': 1, 'key': 'f'}]}):
        r = server.request(url, 'PUT', admin, body=bad)
        assert r.status == 400 and r.json['type'] == 'validation', bad
    assert server.request(url, user=admin).json['tags'] == tags


def test_tag_items_and_summary(server, admin, user, tagged_folder):
    items = items_by_name(server, tagged_folder, admin)
    url = 'item/%s/tags' % items['img_001.jpg']['_id']
    r = server.request(url, 'PUT', admin, body=['200'])
    assert r.status == 200 and r.json['meta']['tags'] == ['200']
    r = server.request(url, 'PUT', admin, body=['100', '200'])
    assert r.status == 400 and 'one tag' in r.json['message']
    r = server.request(url, 'PUT', admin, body=['999'])
    assert r.status == 400
    assert server.request(url, 'PUT', user, body=['100']).status == 403
    summary = server.request('folder/%s/tags/summary' % tagged_folder['_id'], user=user).json
    assert summary == {'items': 3, 'untagged': 2, 'counts': {'100': 0, '200': 1, '300': 0}}


def test_csv_round_trip_is_all_or_nothing(server, admin, tagged_folder):
    items = items_by_name(server, tagged_folder, admin)
    server.request('item/%s/tags' % items['img_002.jpg']['_id'], 'PUT', admin, body=['300'])
    url = 'folder/%s/tags/csv' % tagged_folder['_id']
    csv_text = server.request(url, user=admin).body.decode()
    assert csv_text.splitlines() == [
        'clip_id,modality,file_path,tag_code_100,tag_code_200,tag_code_300',
        ',,img_001.jpg,False,False,False',
        ',,img_002.jpg,False,False,True',
        ',,img_003.jpg,False,False,False']
    bad = ('clip_id,modality,file_path,tag_code_100,tag_code_200\n'
           '1,camera_front,images/img_001.jpg,True,False\n'
           '1,camera_rear,images/missing.jpg,False,True\n')
    r = server.request(url, 'PUT', admin, body=bad.encode())
    assert r.status == 400 and 'missing.jpg' in r.json['message']
    assert items_by_name(server, tagged_folder, admin)['img_001.jpg']['meta'] == {}
    good = ('clip_id,modality,file_path,tag_code_100,tag_code_200\n'
            '1,camera_front,images/img_001.jpg,True,False\n'
            '2,camera_rear,images/img_003.jpg,False,True\n')
    r = server.request(url, 'PUT', admin, body=good.encode())
    assert r.status == 200 and r.json == {'updated': 2}
    now = items_by_name(server, tagged_folder, admin)
    assert now['img_001.jpg']['meta']['tags'] == ['100']
    assert now['img_001.jpg']['meta']['modality'] == 'camera_front'
    assert now['img_003.jpg']['meta']['tags'] == ['200']
    assert now['img_002.jpg']['meta']['tags'] == ['300']


def test_a_read_only_api_key_cannot_tag(server, admin, tagged_folder):
    key = server.app.models.api_key.create(admin, 'reader', scope=['core.data.read'])
    _, token = server.app.models.api_key.token_for(key['key'])
    items = items_by_name(server, tagged_folder, admin)
    url = 'item/%s/tags' % items['img_001.jpg']['_id']
    r = server.request(url, 'PUT', token=token['_id'], body=['100'])
    assert r.status == 403 and 'core.data.write' in r.json['message']
    summary = server.request('folder/%s/tags/summary' % tagged_folder['_id'],
                             token=token['_id'])
    assert summary.status == 200 and summary.json['untagged'] == 3
