"""Files other tools write (large_image and QuPath GeoJSON, iidfile's .iid) import and
export without loss. The sample files in samples/ are written the way those tools
write them."""
import io
import pathlib
import struct

import numpy as np
import orjson
import pytest
from bson import ObjectId

import test_annotation_formats
from tilery.plugins.annotation.formats import geojson, iid, importer

SAMPLES = pathlib.Path(__file__).parent / 'samples'
svc = test_annotation_formats.svc  # an AnnotationService on the test's database


@pytest.fixture
def place():
    return {'_id': ObjectId()}, {'_id': ObjectId(), 'folderId': ObjectId()}


def import_sample(svc, place, name, data=None):
    owner, item = place
    data = data if data is not None else (SAMPLES / name).read_bytes()
    [doc] = importer.import_file(svc, item, owner, io.BytesIO(data), name)
    return doc


def elements_of(svc, doc):
    return orjson.loads(b''.join(svc.query(doc).iter_json()))['annotation']['elements']


def export(svc, doc):
    return orjson.loads(b''.join(importer.export_geojson(svc, doc)))


def test_large_image_geojson_imports_as_large_image_reads_it(svc, place):
    doc = import_sample(svc, place, 'large_image.geojson')
    assert doc['annotation'] == {
        'name': 'Glands', 'description': 'Drawn in HistomicsUI',
        'attributes': {'reviewed': True, 'stain': 'H&E'}, 'display': {'visible': True}}
    gland, line, point, rect, circle, ellipse = elements_of(svc, doc)
    # polygons come back closed, with their holes; the fields the schema knows stay
    assert gland == {
        'id': '65a0c1d2e3f4a5b6c7d8e9f0', 'type': 'polyline', 'closed': True,
        'label': {'value': 'gland'}, 'group': 'epithelium', 'user': {'score': 0.93},
        'lineColor': '#00ff00', 'lineWidth': 2, 'fillColor': 'rgba(0,255,0,0.25)',
        'points': [[100, 100, 0], [300, 100, 0], [300, 250, 0], [100, 250, 0]],
        'holes': [[[150, 150, 0], [200, 150, 0], [200, 200, 0]]]}
    assert line['closed'] is False and line['points'][1] == [450, 420, 0]
    assert point == {'id': '65a0c1d2e3f4a5b6c7d8e9f2', 'type': 'point', 'center': [600, 610, 0],
                     'label': {'value': 'mitosis'}, 'lineColor': '#ff0000',
                     'fillColor': '#ff000080'}
    assert rect['type'] == 'rectangle' and rect['center'] == [730, 120, 0]
    assert (rect['width'], rect['height'], rect['rotation']) == (60, 40, 0)
    assert rect['group'] == 'roi' and 'user' not in rect
    assert circle['type'] == 'circle' and circle['center'] == [800, 100, 0]
    assert circle['radius'] == 20
    assert ellipse['type'] == 'ellipse' and ellipse['center'] == [950, 125, 0]
    assert (ellipse['width'], ellipse['height']) == (100, 50)
    # and our export of it, read back, gives the same annotation
    again = import_sample(svc, place, 'again.geojson', orjson.dumps(export(svc, doc)))
    assert again['annotation'] == doc['annotation']
    assert elements_of(svc, again) == elements_of(svc, doc)


def test_exports_put_the_header_where_large_image_reads_it(svc, place):
    owner, item = place
    doc = svc.create(item, owner, {'name': 'n', 'description': 'd', 'attributes': {'a': 1},
                                   'elements': [{'type': 'point', 'center': [1, 2, 0]},
                                                {'type': 'heatmap', 'points': [[1, 2, 0, 5]]}]})
    data = export(svc, doc)
    first, heat = data['features']
    assert first['properties']['annotation'] == doc['annotation']
    assert first['properties']['type'] == 'point' and first['geometry'] == {
        'type': 'Point', 'coordinates': [1, 2, 0]}
    assert 'annotation' not in heat['properties'] and heat['geometry'] is None
    again = import_sample(svc, place, 'x.geojson', orjson.dumps(data))
    assert elements_of(svc, again) == elements_of(svc, doc)


def features_by_id(data):
    return {f['id']: f for f in data['features']}


def plane(geometry):
    """Coordinates in x, y (QuPath writes 2-D positions; exports add z = 0)."""
    def strip(value):
        if value and isinstance(value[0], (int, float)):
            return value[:2]
        return [strip(v) for v in value]
    return dict(geometry, coordinates=strip(geometry['coordinates']))


def test_qupath_export_round_trips(svc, place):
    original = orjson.loads((SAMPLES / 'qupath-0.5.geojson').read_bytes())
    doc = import_sample(svc, place, 'qupath-0.5.geojson')
    els = elements_of(svc, doc)
    # multi-geometries are one object: their parts are drawn as elements of their own
    assert doc['_elementCount'] == 1 + 2 + 3 + 2 + 1 + 1 + 2 + 1
    region = els[0]
    assert region['group'] == 'Tumor' and region['label'] == {'value': 'Tumor region 1'}
    assert region['lineColor'] == 'rgb(200,0,0)' and region['closed'] and region['holes']
    mitoses = [e for e in els if e.get('group') == 'Mitosis']
    assert [e['type'] for e in mitoses] == ['point'] * 3
    assert mitoses[0]['lineColor'] == 'rgb(255,0,255)'  # the object's colour wins
    assert els[-4]['group'] == 'Tumor: Positive'
    # a cell's nucleus is drawn too, with its cell's class
    cell, nucleus = els[-3:-1]
    assert nucleus['user']['part'] == dict(cell['user']['part'], index=1, role='nucleus')
    assert nucleus['group'] == cell['group'] == 'Immune cells'
    assert nucleus['points'][0] == [1255, 1255, 0] and 'nucleusGeometry' not in str(cell)
    back = features_by_id(export(svc, doc))
    assert len(back) == len(original['features'])
    for feat in original['features']:
        out = back[feat['id']]
        assert plane(out['geometry']) == feat['geometry'], feat['id']
        for key, value in feat['properties'].items():
            assert out['properties'][key] == value, (feat['id'], key)
        assert out['id'] == feat['id'] and set(out) == set(feat)
        if 'nucleusGeometry' in feat:
            assert plane(out['nucleusGeometry']) == feat['nucleusGeometry']
    # the export imports again to the same elements (new part keys aside)
    again = import_sample(svc, place, 'again.geojson',
                          orjson.dumps(export(svc, doc)))
    assert features_by_id(export(svc, again)) == back


def test_qupath_objects_edited_in_tilery_export_their_edits(svc, place):
    doc = import_sample(svc, place, 'qupath-0.5.geojson')
    els = elements_of(svc, doc)
    region = dict(els[0], group='Necrosis', label={'value': 'renamed'}, lineColor='#000000')
    doc = svc.patch(doc['_id'], [{'op': 'replace', 'path': 'elements/id:%s' % region['id'],
                                  'value': region}], place[0])
    out = features_by_id(export(svc, doc))['3f6f1f8a-8a7e-4f3c-9a55-2c7d1b0e4a11']
    assert out['properties']['classification'] == {'name': 'Necrosis', 'color': [0, 0, 0]}
    assert out['properties']['name'] == 'renamed'
    assert out['properties']['measurements'] == {'Area µm^2': 29097.5, 'Perimeter µm': 724.0}
    assert out['properties']['isLocked'] is True


def test_other_tools_geojson_keeps_what_has_no_element_field(svc, place):
    data = {'type': 'FeatureCollection', 'features': [
        {'type': 'Feature', 'id': 7, 'bbox': [0, 0, 4, 4],
         'geometry': {'type': 'Polygon', 'coordinates': [[[0, 0], [4, 0], [4, 4], [0, 0]]]},
         'properties': {'id': 12, 'score': 0.5, 'label': {'value': 'x'}}},
        {'type': 'Feature', 'geometry': {'type': 'GeometryCollection', 'geometries': [
            {'type': 'Point', 'coordinates': [1, 1]},
            {'type': 'LineString', 'coordinates': [[0, 0], [2, 2]]}]}, 'properties': None}]}
    doc = import_sample(svc, place, 'other.geojson', orjson.dumps(data))
    poly, point, line = elements_of(svc, doc)
    assert poly['user'] == {'geojson': {'properties': {'id': 12, 'score': 0.5},
                                        'feature': {'id': 7, 'bbox': [0, 0, 4, 4]}}}
    assert point['user']['part']['count'] == 2 and line['type'] == 'polyline'
    first, collection = export(svc, doc)['features']
    assert first['id'] == 7 and first['bbox'] == [0, 0, 4, 4]
    assert first['properties']['id'] == 12 and first['properties']['score'] == 0.5
    assert collection['geometry'] == {'type': 'GeometryCollection', 'geometries': [
        {'type': 'Point', 'coordinates': [1, 1, 0]},
        {'type': 'LineString', 'coordinates': [[0, 0, 0], [2, 2, 0]]}]}


@pytest.mark.parametrize('feature, words', [
    ({'type': 'Feature', 'geometry': {'type': 'Circle', 'coordinates': [1, 2]}}, 'Circle'),
    ({'type': 'Feature', 'geometry': None, 'properties': {}}, 'needs properties.type'),
    ({'type': 'Feature', 'geometry': {'type': 'Point', 'coordinates': ['a', 1]}}, 'numbers'),
    ({'type': 'Feature', 'geometry': {'type': 'Polygon', 'coordinates': []}}, 'one ring'),
    ({'type': 'Feature', 'geometry': {'type': 'Polygon', 'coordinates': [[[0, 0], [1, 1]]]},
      'properties': {'type': 'rectangle'}}, '4 corners'),
    ({'type': 'Feature', 'geometry': {'type': 'Point', 'coordinates': [1, 2]},
      'properties': {'user': 5, 'foo': 1}}, 'user'),
    ({'type': 'Feature', 'geometry': {'type': 'Polygon', 'coordinates': [[[0, 0], [0, 0]]]}},
     'points'),
])
def test_bad_features_are_refused_with_the_reason(svc, place, feature, words):
    data = orjson.dumps({'type': 'FeatureCollection', 'features': [feature]})
    with pytest.raises(Exception) as info:
        import_sample(svc, place, 'bad.geojson', data)
    assert words in info.value.message
    assert svc.annotations.count_documents({}) == 0


def two_blob_file(path):
    """An .iid file written by iidfile: an entry of two blobs, one of one blob, metadata."""
    iidfile = pytest.importorskip('iidfile.iidfile')
    theirs = iidfile.IIDFile()
    two = np.zeros((10, 30), dtype=bool)
    two[1:6, 2:8] = True
    two[3:9, 20:27] = True
    two[4, 22] = False
    one = np.zeros((4, 5), dtype=bool)
    one[1:3, 1:4] = True
    theirs.add(address=b'tree', domain=b'wikidata', bbox=(100, 200, 110, 230), mask=two,
               group='plants')
    theirs.add(address=b'cell', domain=b'tilery', bbox=(0, 0, 4, 5), mask=one)
    theirs.groups.add(name='nature', keys=[0])
    theirs.meta.data = {'camera': {'model': 'X100', 'exposure': 0.01}, 'image': 'slide.svs'}
    for entry in theirs.lut.entries:
        # iidfile 0.2 sums scikit-image's float areas, which its own struct.pack refuses
        entry.seg.area = int(entry.seg.area)
    theirs.save(str(path))
    return iidfile, {0: two, 1: one}


def test_iid_round_trip_keeps_domains_groups_meta_and_multi_blob_entries(svc, place, tmp_path):
    iidfile, masks = two_blob_file(tmp_path / 'in.iid')
    doc = import_sample(svc, place, 'in.iid', (tmp_path / 'in.iid').read_bytes())
    assert doc['annotation']['attributes'] == {'iid': {'meta': {
        'camera': {'model': 'X100', 'exposure': 0.01}, 'image': 'slide.svs'}}}
    els = elements_of(svc, doc)
    tree = [e for e in els if e['label'] == {'value': 'tree'}]
    # one entry of two blobs: two drawn parts of one object
    assert len(tree) == 2 and tree[0]['user']['part']['count'] == 2
    assert tree[0]['user']['iid'] == {'domain': 'wikidata', 'groups': ['plants', 'nature']}
    assert tree[0]['group'] == 'plants'
    (tmp_path / 'out.iid').write_bytes(importer.export_iid(svc, doc))
    back = iidfile.IIDFile(fpath=str(tmp_path / 'out.iid'))
    entries = back.fetch(everything=True)
    assert len(entries) == 2
    assert [(e.iid.domain, e.iid.address) for e in entries] == [
        (b'wikidata', b'tree'), (b'tilery', b'cell')]
    # bounding boxes are the blobs' own (iidfile's were given a margin)
    assert entries[0].seg.bbox == (101, 202, 109, 227) and entries[1].seg.bbox == (1, 1, 3, 4)
    assert (entries[0].seg.mask() == masks[0][1:9, 2:27]).all()
    assert entries[0].seg.area == masks[0].sum()
    assert sorted(back.groups.list()) == ['nature', 'plants']
    assert back.meta.data['camera'] == {'model': 'X100', 'exposure': 0.01}
    assert back.meta.data['image'] == 'slide.svs' and back.meta.data['name'] == 'in'
    # and our file imports again to the same elements
    again = import_sample(svc, place, 'out.iid', (tmp_path / 'out.iid').read_bytes())
    strip = [dict(e, user={k: v for k, v in (e.get('user') or {}).items() if k != 'part'})
             for e in els]
    for e in strip:
        e.pop('id')
    back_els = [dict(e, user={k: v for k, v in (e.get('user') or {}).items() if k != 'part'})
                for e in elements_of(svc, again)]
    for e in back_els:
        e.pop('id')
    assert back_els == strip


def test_iid_files_that_claim_more_than_they_hold_are_refused():
    # one entry whose region claims a 60000 x 60000 mask from 4 bytes
    region = struct.pack('<4H', 0, 0, 60000, 60000) + b'\xff' * 4
    seg = struct.pack('<I4HI', 0, 0, 0, 60000, 60000, 1) + struct.pack(
        '<I', len(region) + 4) + region
    sections = [struct.pack('<5I', 0, 0, 12, 0, len(seg)), struct.pack('<3I', 0, 0, 0),
                b'{}', struct.pack('<I', 2) + b'[]', seg]
    header, offset = [0, 0], 48
    for section in sections:
        header += [offset, len(section)]
        offset += len(section)
    data = struct.pack('<12I', *header) + b''.join(sections)
    assert iid.looks_like_iid(data)
    with pytest.raises(Exception) as info:
        iid.read(data)
    assert 'shorter than its box' in info.value.message


def test_multi_part_objects_come_back_whole_after_a_region_query(svc, place):
    doc = import_sample(svc, place, 'qupath-0.5.geojson')
    # the element order of a query is the document's, so parts stay together
    data = orjson.loads(b''.join(importer.export_geojson(
        svc, doc, {'left': 1990, 'top': 1990, 'right': 2500, 'bottom': 2200})))
    [feat] = data['features']
    assert feat['geometry']['type'] == 'MultiPolygon'
    assert len(feat['geometry']['coordinates']) == 2
    assert geojson.color_to_rgb('#0f0') == [0, 255, 0]


def test_uploaded_qupath_and_iid_files_round_trip_over_rest(server, user, tmp_path):
    folder = server.app.models.folder.create('slides', user, 'user', user, public=False)
    item = server.app.models.item.create('slide.svs', folder, user)
    _, masks = two_blob_file(tmp_path / 'blobs.iid')
    docs = {}
    for name, path in (('qupath-0.5.geojson', SAMPLES / 'qupath-0.5.geojson'),
                       ('blobs.iid', tmp_path / 'blobs.iid')):
        file = server.app.uploads.add_local_file(item, str(path), name, user)
        [job] = [j for j in server.app.jobs.model.find(types=['annotation_import'])[0]
                 if j['kwargs']['fileId'] == str(file['_id'])]
        job = server.app.jobs.wait(job['_id'], 60)
        assert job['status'] == 3, job['log']
        [docs[name]] = job['meta']['annotationIds']
    r = server.request('annotation/%s/geojson' % docs['qupath-0.5.geojson'], user=user)
    assert r.status == 200
    back = features_by_id(orjson.loads(r.body))
    original = orjson.loads((SAMPLES / 'qupath-0.5.geojson').read_bytes())
    for feat in original['features']:
        out = back[feat['id']]
        assert plane(out['geometry']) == feat['geometry']
        assert {k: out['properties'][k] for k in feat['properties']} == feat['properties']
    r = server.request('annotation/%s/iid' % docs['blobs.iid'], user=user)
    assert r.status == 200
    meta, entries = iid.read(r.body)
    assert meta['camera'] == {'model': 'X100', 'exposure': 0.01}
    assert [(e['domain'], e['address'], e['groups'], len(e['regions'])) for e in entries] == [
        (b'wikidata', b'tree', ['plants', 'nature'], 2), (b'tilery', b'cell', [], 1)]
