"""image and pixelmap elements get the bounding box of the image they overlay."""
from bson import ObjectId

import test_large_image_samples as sample_files
from tilery.plugins.annotation import store

samples = sample_files.samples  # the session fixture of sample images


def image_item(server, user, path):
    """A new item of the user's Public folder holding ``path`` as its large image."""
    data = path.read_bytes()
    folder = server.app.models.folder.find_one({'parentId': user['_id'], 'name': 'Public'})
    r = server.request('file', method='POST', user=user, body=data, params={
        'parentType': 'folder', 'parentId': folder['_id'], 'name': path.name,
        'size': len(data)})
    assert r.status == 200, r
    return server.app.models.item.load(r.json['itemId'])


def ids_in(server, user, aid, left, top, right, bottom):
    r = server.request('annotation/' + aid, user=user, params={
        'left': left, 'top': top, 'right': right, 'bottom': bottom})
    assert r.status == 200, r
    return [e['type'] for e in r.json['annotation']['elements']]


def test_region_queries_return_overlays(server, user, samples):
    overlay = image_item(server, user, samples.pyramid)  # 1000 x 700
    slide = image_item(server, user, samples.pyramid)
    gid = str(overlay['_id'])
    body = {'name': 'overlays', 'elements': [
        # half size, placed at (5000, 3000): covers 5000..5500 x 3000..3350
        {'type': 'image', 'girderId': gid, 'opacity': 0.5,
         'transform': {'xoffset': 5000, 'yoffset': 3000, 'matrix': [[0.5, 0], [0, 0.5]]}},
        {'type': 'pixelmap', 'girderId': gid, 'values': [0, 1], 'boundaries': False,
         'categories': [{'fillColor': '#f00'}, {'fillColor': '#0f0'}]},
        # an item without a large image: its size is unknown
        {'type': 'image', 'girderId': str(slide['folderId'])}]}
    r = server.request('annotation', 'POST', user, {'itemId': slide['_id']}, body)
    assert r.status == 200, r
    aid = r.json['_id']
    assert r.json['bbox']['highx'] == 5500 and r.json['bbox']['highy'] == 3350
    assert ids_in(server, user, aid, 5100, 3100, 5200, 3200) == ['image']
    assert ids_in(server, user, aid, 5490, 3340, 9000, 9000) == ['image']
    assert ids_in(server, user, aid, 5501, 3351, 9000, 9000) == []
    assert ids_in(server, user, aid, 900, 600, 1200, 1000) == ['pixelmap']
    assert ids_in(server, user, aid, 2000, 2000, 3000, 3000) == []
    # the whole annotation still has all three
    r = server.request('annotation/' + aid, user=user)
    assert [e['type'] for e in r.json['annotation']['elements']] == [
        'image', 'pixelmap', 'image']


def test_overlay_sizes_are_looked_up_once_per_item_and_within_a_budget(db):
    asked = []
    writer = store.ChunkWriter(db, ObjectId(), store.DEFAULT_SETTINGS,
                               overlay_size=lambda gid: asked.append(gid) or (10, 10))
    try:
        for n in range(store.MAX_OVERLAY_LOOKUPS + 50):
            for _ in range(3):
                writer.add({'type': 'image', 'girderId': '%024x' % n}, n)
    finally:
        writer.abort()
    assert len(asked) == store.MAX_OVERLAY_LOOKUPS == len(set(asked))
