"""GeoJSON, .iid (checked against the iidfile package) and label masks, both ways."""
import io

import numpy as np
import orjson
import pytest
from bson import ObjectId
from PIL import Image

from tilery.errors import ValidationError
from tilery.plugins.annotation.formats import geojson, iid, importer, mask, raster
from tilery.plugins.annotation.service import AnnotationService

SQUARE_WITH_HOLE = {'type': 'polyline', 'closed': True, 'group': 'tumor',
                    'points': [[10, 10, 0], [30, 10, 0], [30, 30, 0], [10, 30, 0]],
                    'holes': [[[15, 15, 0], [20, 15, 0], [20, 20, 0], [15, 20, 0]]]}
RECT = {'type': 'rectangle', 'center': [50, 20, 0], 'width': 10, 'height': 6,
        'group': 'stroma', 'lineColor': '#00ff00'}


@pytest.fixture
def svc(db):
    service = AnnotationService(db)
    service.ensure_indexes()
    return service


@pytest.fixture
def made(svc):
    owner = {'_id': ObjectId()}
    item = {'_id': ObjectId(), 'folderId': ObjectId()}
    doc = svc.create(item, owner, {'name': 'shapes', 'elements': [
        dict(SQUARE_WITH_HOLE), dict(RECT), {'type': 'point', 'center': [5, 5, 0]}]})
    return svc, owner, item, doc


def test_mask_tracing_round_trip():
    rng = np.random.default_rng(3)
    m = rng.random((40, 50)) > 0.6
    polys = raster.mask_to_polygons(m, 7, 3)
    back = np.zeros_like(m)
    for outer, holes in polys:
        part, x0, y0 = raster.rasterize(outer, holes)
        back[y0 - 3:y0 - 3 + part.shape[0], x0 - 7:x0 - 7 + part.shape[1]] |= part
    assert (back == m).all()


def test_geojson_export_and_reimport_exactly(made):
    svc, owner, item, doc = made
    data = orjson.loads(b''.join(importer.export_geojson(svc, doc)))
    assert data['type'] == 'FeatureCollection' and len(data['features']) == 3
    poly = data['features'][0]
    assert poly['geometry']['type'] == 'Polygon' and len(poly['geometry']['coordinates']) == 2
    assert poly['properties']['classification']['name'] == 'tumor'
    assert data['features'][1]['properties']['classification']['color'] == [0, 255, 0]
    created = importer.import_file(svc, item, owner, io.BytesIO(orjson.dumps(data)), 'x.geojson')
    again = orjson.loads(b''.join(svc.query(created[0]).iter_json()))['annotation']['elements']
    original = orjson.loads(b''.join(svc.query(doc).iter_json()))['annotation']['elements']
    assert again == original


def test_qupath_geojson_import(made):
    svc, owner, item, _ = made
    qupath = {'type': 'FeatureCollection', 'features': [
        {'type': 'Feature', 'id': 'b4a1e0c2-0000-4000-8000-000000000001',
         'geometry': {'type': 'MultiPolygon', 'coordinates': [
             [[[0, 0], [4, 0], [4, 4], [0, 0]]], [[[10, 10], [14, 10], [14, 14], [10, 10]]]]},
         'properties': {'objectType': 'annotation',
                        'classification': {'name': 'Tumor', 'color': [200, 0, 0]}}},
        {'type': 'Feature', 'geometry': {'type': 'Point', 'coordinates': [3, 4]},
         'properties': {'objectType': 'detection', 'name': 'cell'}}]}
    [doc] = importer.import_file(svc, item, owner, io.BytesIO(orjson.dumps(qupath)), 'q.json')
    els = orjson.loads(b''.join(svc.query(doc).iter_json()))['annotation']['elements']
    assert [e['type'] for e in els] == ['polyline', 'polyline', 'point']
    assert els[0]['group'] == 'Tumor' and els[0]['lineColor'] == 'rgb(200,0,0)'
    assert els[0]['points'] == [[0, 0, 0], [4, 0, 0], [4, 4, 0]]
    assert els[0]['user']['part']['count'] == els[1]['user']['part']['count'] == 2
    assert els[2]['label'] == {'value': 'cell'}
    assert els[2]['user']['geojson'] == {'properties': {'objectType': 'detection'}}
    with pytest.raises(ValidationError):
        importer.import_file(svc, item, owner, io.BytesIO(
            b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
            b'{"type": "Polygon", "coordinates": [[[0, 0], [0, 0]]]}}]}'), 'bad.geojson')


def test_iid_written_by_us_reads_in_iidfile_and_back(made, tmp_path):
    iidfile = pytest.importorskip('iidfile.iidfile')
    svc, owner, item, doc = made
    data = importer.export_iid(svc, doc)
    path = tmp_path / 'a.iid'
    path.write_bytes(data)
    theirs = iidfile.IIDFile(fpath=str(path))
    entries = theirs.fetch(everything=True)
    assert len(entries) == 2 and theirs.meta.data['name'] == 'shapes'
    seg = entries[0].seg
    assert seg.bbox == (10, 10, 30, 30) and seg.area == 20 * 20 - 5 * 5
    assert entries[0].iid.address == b'tumor' and theirs.groups.list() == ['stroma', 'tumor']
    header, elements = iid.to_elements(data)
    assert header['name'] == 'shapes' and elements[0]['holes']
    ring, holes = raster.outline(elements[0])
    got, x0, y0 = raster.rasterize(ring, holes)
    want, _, _ = raster.rasterize(*raster.outline(SQUARE_WITH_HOLE))
    assert (got == want).all() and (x0, y0) == (10, 10)


def test_iid_written_by_iidfile_imports(made, tmp_path):
    iidfile = pytest.importorskip('iidfile.iidfile')
    svc, owner, item, _ = made
    theirs = iidfile.IIDFile()
    m = np.zeros((6, 8), dtype=bool)
    m[1:5, 2:7] = True
    m[2:3, 3:4] = False
    theirs.add(address=b'nucleus', domain=b'lab', bbox=(100, 200, 106, 208), mask=m,
               group='cells')
    # iidfile 0.2 sums scikit-image's float areas, which its own struct.pack refuses
    theirs.lut.entries[0].seg.area = int(theirs.lut.entries[0].seg.area)
    theirs.save(str(tmp_path / 'b.iid'))
    with open(tmp_path / 'b.iid', 'rb') as fh:
        [doc] = importer.import_file(svc, item, owner, fh, 'b.iid')
    [el] = orjson.loads(b''.join(svc.query(doc).iter_json()))['annotation']['elements']
    assert el['group'] == 'cells' and el['label'] == {'value': 'nucleus'}
    assert el['user'] == {'iid': {'domain': 'lab'}} and len(el['holes']) == 1
    mask_back, x0, y0 = raster.rasterize(*raster.outline(el))
    assert (x0, y0) == (202, 101) and (mask_back == m[1:5, 2:7]).all()
    with pytest.raises(ValidationError):
        iid.read(b'\x01\x02')


def test_label_mask_export_and_import(made):
    svc, owner, item, doc = made
    png, names = importer.export_mask(svc, doc, 64, 40, scale=0.5, classes=['stroma'])
    assert names == ['stroma', 'tumor']
    label = np.array(Image.open(io.BytesIO(png)))
    assert label.shape == (20, 32) and label.dtype == np.uint8
    assert label[6, 6] == 2 and label[8, 8] == 0 and label[10, 25] == 1 and label[1, 1] == 0
    tiff, _ = importer.export_mask(svc, doc, 64, 40, fmt='tiff')
    assert np.array(Image.open(io.BytesIO(tiff)))[12, 12] == 1  # tumor comes first here
    with pytest.raises(Exception):
        mask.render([], 10 ** 6, 10 ** 6, 1.0, max_pixels=1000)
    new = importer.import_mask(svc, item, owner, png, classes=['stroma', 'tumor'], scale=0.5)
    els = orjson.loads(b''.join(svc.query(new).iter_json()))['annotation']['elements']
    assert sorted(e['group'] for e in els) == ['stroma', 'tumor']
    tumor = next(e for e in els if e['group'] == 'tumor')
    assert tumor['points'][0] == [10.0, 10.0, 0] and len(tumor['holes']) == 1
    assert geojson.color_to_rgb('#0f0') == [0, 255, 0]


def _peak_bytes(fn):
    """(result, peak bytes allocated while ``fn`` ran); numpy reports to tracemalloc."""
    import tracemalloc
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_shape_far_larger_than_the_mask_costs_only_the_mask():
    """Each shape was rasterized whole before being clipped to the mask: one large
    rectangle in a 100x100 mask cost its full area in memory, a huge one a 500."""
    big = dict(RECT, center=[0, 0, 0], width=15000, height=15000)
    (label, names), peak = _peak_bytes(lambda: mask.render([big], 100, 100, 1.0))
    assert names == ['stroma'] and label.shape == (100, 100) and label.all()
    assert peak < 20 << 20, peak
    huge = dict(RECT, center=[0, 0, 0], width=1e12, height=1e12)
    label, _ = mask.render([huge], 100, 100, 1.0)
    assert label.all()


def test_a_polygon_of_many_points_rasterizes_in_bounded_memory():
    n = 100000
    ring = [(i % 2 * 10 + (i * 100.0 / n), i * 300.0 / n) for i in range(n)] + [(0, 300)]
    (shape, _, _), peak = _peak_bytes(lambda: raster.rasterize(ring, [], 1.0))
    assert shape.shape[0] == 300
    assert peak < 100 << 20, peak


def test_iid_export_checks_sizes_before_drawing():
    huge = dict(RECT, center=[0, 0, 0], width=1e12, height=1e12)
    with pytest.raises(ValidationError, match='16-bit'):
        iid.write([huge], scale=1.0)
    with pytest.raises(ValidationError, match='pixel limit'):
        iid.write([RECT, dict(RECT, center=[80, 20, 0])], scale=1.0, max_pixels=100)
    assert iid.write([RECT], scale=1.0, max_pixels=100)
