"""Serving open images, compared with large_image reading the same files directly."""
import json
import math
import threading
import xml.etree.ElementTree as ET

import large_image
import numpy as np
import orjson
import pytest
from large_image.constants import TILE_FORMAT_NUMPY

import test_large_image_samples as sample_files
from tilery.errors import NotFound, RestError
from tilery.metrics import Metrics
from tilery.plugins.large_image import dzi
from tilery.plugins.large_image.errors import ImageDataError
from tilery.plugins.large_image.params import (DziParams, Encoding, HistogramParams,
                                               PixelParams, RegionParams, ThumbnailParams,
                                               TileFramesParams)
from tilery.plugins.large_image.sources import SourceCache, SourceKey, open_image
from tilery.plugins.large_image.tiles import TileService

samples = sample_files.samples  # the session fixture of sample images
decode = sample_files.decode


def image_of(path, style=None, encoding=Encoding(), file_id=None):
    file_doc = {'_id': file_id or path.name, 'size': path.stat().st_size, 'sha512': 'x'}
    return open_image(SourceKey(str(file_doc['_id']), style, encoding), str(path), file_doc)


@pytest.fixture
def tiles():
    return TileService(region_max_pixels=2000 * 2000)


def all_tiles(metadata):
    for z in range(metadata['levels']):
        scale = 2 ** (metadata['levels'] - 1 - z)
        for y in range(math.ceil(metadata['sizeY'] / (metadata['tileHeight'] * scale))):
            for x in range(math.ceil(metadata['sizeX'] / (metadata['tileWidth'] * scale))):
                yield z, x, y


def test_tiles_match_large_image_pixel_for_pixel(samples, tiles):
    image = image_of(samples.pyramid)
    reference = large_image.open(str(samples.pyramid), noCache=True)
    passthrough = large_image.open(str(samples.pyramid), style={'icc': False}, noCache=True)
    count = 0
    for z, x, y in all_tiles(image.metadata):
        data = tiles.tile(image, z, x, y)
        assert data[:2] == b'\xff\xd8'
        # the stored JPEG bytes, not a re-encoded copy
        assert data == passthrough.getTile(x, y, z)
        expected = reference.getTile(x, y, z, numpyAllowed='always')
        assert np.array_equal(decode(data), expected[..., :3])
        count += 1
    assert count == 1 + 4 + 12


def test_files_with_an_icc_profile_keep_colour_correction(samples, tiles):
    image = image_of(samples.icc)
    corrected = large_image.open(str(samples.icc), noCache=True)
    raw = large_image.open(str(samples.icc), style={'icc': False}, noCache=True)
    top = image.levels - 1
    assert tiles.tile(image, top, 1, 1) == corrected.getTile(1, 1, top)
    assert tiles.tile(image, top, 1, 1) != raw.getTile(1, 1, top)


def test_tiles_outside_the_image_are_404(samples, tiles):
    image = image_of(samples.pyramid)
    with pytest.raises(NotFound, match='levels 0 to 2'):
        tiles.tile(image, 3, 0, 0)
    with pytest.raises(NotFound, match='x 0 to 3 and y 0 to 2'):
        tiles.tile(image, 2, 4, 0)
    with pytest.raises(NotFound):
        tiles.tile(image, 0, 0, 10 ** 12)
    with pytest.raises(NotFound, match='Frame 1 does not exist'):
        tiles.tile(image, 0, 0, 0, frame=1)


def test_damaged_tiles_give_a_clear_error_and_others_still_serve(samples, tiles):
    image = image_of(samples.truncated)
    with pytest.raises(ImageDataError, match='truncated or corrupt') as caught:
        tiles.tile(image, 0, 0, 0)
    assert caught.value.status == 500
    assert tiles.tile(image, 2, 0, 0)[:2] == b'\xff\xd8'  # stored before the cut


def test_frames_styles_and_webp(samples, tiles):
    image = image_of(samples.multiframe, encoding=Encoding('PNG'))
    frame2 = decode(tiles.tile(image, 1, 0, 0, frame=2))
    reference = large_image.open(str(samples.multiframe), encoding='PNG', noCache=True)
    assert np.array_equal(frame2, decode(reference.getTile(0, 0, 1, frame=2)))
    values = reference.getTile(0, 0, 1, frame=2, numpyAllowed='always')[..., 0]
    assert np.array_equal(frame2, values >> 8)  # 16-bit data, shown as 8-bit PNG
    style = json.dumps({'bands': [
        {'frame': 0, 'palette': '#f00', 'min': 'min', 'max': 'max'},
        {'frame': 1, 'palette': '#0f0', 'min': 'min', 'max': 'max'}]}, sort_keys=True)
    styled = image_of(samples.multiframe, style=style, encoding=Encoding('PNG'))
    pixels = decode(tiles.tile(styled, 1, 0, 0))
    assert pixels.shape[2] in (3, 4) and pixels[..., 2].max() == 0 and pixels[..., 0].max() > 0
    webp = image_of(samples.pyramid, encoding=Encoding('WEBP'))
    data = tiles.tile(webp, 0, 0, 0)
    assert data[:4] == b'RIFF' and data[8:12] == b'WEBP'


def test_region_matches_large_image(samples, tiles):
    image = image_of(samples.pyramid)
    params = RegionParams(left=100, top=50, right=612, bottom=306)
    data, mime = tiles.region(image, params, Encoding('PNG'))
    assert mime == 'image/png'
    expected, _ = large_image.open(str(samples.pyramid), noCache=True).getRegion(
        region={'left': 100, 'top': 50, 'right': 612, 'bottom': 306}, format=TILE_FORMAT_NUMPY)
    assert np.array_equal(decode(data)[..., :3], expected[..., :3])
    scaled, _ = tiles.region(image, RegionParams(left=0.5, top=0, right=1, bottom=0.5,
                                                 units='fraction', width=100), Encoding('PNG'))
    assert decode(scaled).shape[1] == 100
    webp, mime = tiles.region(image, params, Encoding('WEBP'))
    assert mime == 'image/webp' and webp[8:12] == b'WEBP'


def test_region_requests_are_checked_and_capped(samples, tiles):
    image = image_of(samples.pyramid)
    small = TileService(region_max_pixels=250 * 250)
    with pytest.raises(RestError, match="the limit is 62500 pixels"):
        small.region(image, RegionParams(), Encoding())
    # asking for a small output of a big area is fine: it reads a reduced level
    data, _ = small.region(image, RegionParams(width=150), Encoding('PNG'))
    assert decode(data).shape[1] == 150
    with pytest.raises(RestError, match='the limit'):
        small.thumbnail(image, ThumbnailParams(width=300, height=300), Encoding())
    with pytest.raises(RestError, match='mm'):
        tiles.region(image, RegionParams(left=0, right=1, units='mm'), Encoding())
    with pytest.raises(RestError, match='empty or entirely outside'):
        tiles.region(image, RegionParams(left=5000, right=6000), Encoding())


def test_thumbnail_pixel_histogram(samples, tiles):
    image = image_of(samples.pyramid)
    data, mime = tiles.thumbnail(image, ThumbnailParams(), Encoding())
    assert mime == 'image/jpeg' and max(decode(data).shape[:2]) == 256
    data, _ = tiles.thumbnail(image, ThumbnailParams(width=100, height=100, fill='#ff0000'),
                              Encoding('PNG'))
    assert decode(data).shape[:2] == (100, 100)
    pixel = tiles.pixel(image, PixelParams(left=500, top=300))
    reference = large_image.open(str(samples.pyramid), noCache=True).getRegion(
        region={'left': 500, 'top': 300, 'width': 1, 'height': 1}, format=TILE_FORMAT_NUMPY)[0]
    assert [pixel['r'], pixel['g'], pixel['b']] == reference[0, 0, :3].tolist()
    assert tiles.pixel(image, PixelParams(left=5000, top=5000)) == {}
    bands = tiles.histogram(image, HistogramParams(width=256, height=256, bins=16))
    assert len(bands) == 3 and all(len(b['hist']) == 16 for b in bands)
    assert sum(bands[0]['hist']) == bands[0]['samples']
    orjson.dumps(bands)


def test_tile_frames_associated_images_and_internal_metadata(samples, tiles):
    image = image_of(samples.multiframe)
    data, _ = tiles.tile_frames(image, TileFramesParams(frame_list=(0, 2), width=200),
                                Encoding('PNG'))
    assert decode(data).shape[:2] == (150, 400)  # two 200 x 150 frames side by side
    data, _ = tiles.tile_frames(image, TileFramesParams(frames_across=1), Encoding('PNG'))
    assert decode(data).shape[:2] == (900, 400)  # all three full size, one above another
    with pytest.raises(NotFound):
        tiles.tile_frames(image, TileFramesParams(frame_list=(7,)), Encoding())
    with pytest.raises(RestError, match='for each of 3 frames'):
        TileService(300 * 400 * 2).tile_frames(image, TileFramesParams(), Encoding())
    assert tiles.associated_images(image) == []
    with pytest.raises(NotFound):
        tiles.associated_image(image, 'label', Encoding())
    orjson.dumps(tiles.internal_metadata(image))


def test_dzi_descriptor_and_tiles(samples, tiles):
    image = image_of(samples.pyramid)
    xml = ET.fromstring(dzi.descriptor(image, DziParams(tilesize=256, overlap=1)))
    assert xml.tag == '{%s}Image' % dzi.DZI_NS
    assert (xml.get('TileSize'), xml.get('Overlap'), xml.get('Format')) == ('256', '1', 'jpg')
    size = xml.find('{%s}Size' % dzi.DZI_NS)
    assert (size.get('Width'), size.get('Height')) == ('1000', '700')
    top = dzi.max_level(1000, 700)
    assert top == 10
    # level 0 is one pixel; the top level's tiles cover the image with overlap
    one, _ = dzi.tile(tiles, image, 0, 0, 0, DziParams())
    assert decode(one).shape[:2] == (1, 1)
    params = DziParams(tilesize=256, overlap=2, encoding='PNG')
    widths = [decode(dzi.tile(tiles, image, top, x, 0, params)[0]).shape[1] for x in range(4)]
    assert widths == [258, 260, 260, 1000 - 768 + 2]
    heights = [decode(dzi.tile(tiles, image, top, 0, y, params)[0]).shape[0] for y in range(3)]
    assert heights == [258, 260, 700 - 512 + 2]
    with pytest.raises(NotFound):
        dzi.tile(tiles, image, top, 4, 0, params)
    with pytest.raises(NotFound):
        dzi.tile(tiles, image, top + 1, 0, 0, params)
    # without overlap an inner tile is the stored pyramid tile itself
    inner, mime = dzi.tile(tiles, image, top, 1, 1, DziParams())
    assert inner == tiles.tile(image, 2, 1, 1) and mime == 'image/jpeg'
    # one level down, the tiles stitch into the image at half size
    half = [[decode(dzi.tile(tiles, image, top - 1, x, y, DziParams(encoding='PNG'))[0])
             for x in range(2)] for y in range(2)]
    stitched = np.vstack([np.hstack(row) for row in half])[..., :3]
    assert stitched.shape[:2] == (350, 500)
    expected, _ = tiles.region(image, RegionParams(width=500, height=350), Encoding('PNG'))
    assert np.abs(stitched.astype(int) - decode(expected)[..., :3]).mean() < 2


def test_dzi_parameters_are_checked():
    with pytest.raises(RestError, match='power of two'):
        DziParams.from_args({'tilesize': 300})
    with pytest.raises(RestError, match='half'):
        DziParams.from_args({'tilesize': 64, 'overlap': 40})


def test_source_cache_is_bounded_and_opens_once(samples):
    cache = SourceCache(2, Metrics().cache('test'))
    opened = []

    def opener(name):
        def open_():
            opened.append(name)
            return image_of(samples.pyramid, file_id=name)
        return open_
    threads = [threading.Thread(target=cache.get, args=(SourceKey('a'), opener('a')))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert opened == ['a']
    cache.get(SourceKey('b'), opener('b'))
    cache.get(SourceKey('a'), opener('a'))  # a is now the most recent
    cache.get(SourceKey('c'), opener('c'))  # evicts b
    assert cache.info()['used'] == 2
    cache.get(SourceKey('b'), opener('b'))
    assert opened == ['a', 'b', 'c', 'b']
    cache.evict_file('b')
    assert cache.info()['used'] == 1
