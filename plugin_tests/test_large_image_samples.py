"""Sample images for the large-image tests, made once per session with pyvips, numpy
and PIL (good and bad ones), and checks that the bad ones are bad as intended.

Other test modules import the ``samples`` fixture from here.
"""
import io
import struct
import types

import large_image
import numpy as np
import PIL.Image
import PIL.ImageCms
import pytest
import pyvips
import tifftools


def picture(width, height, seed=0):
    """An RGB uint8 array with structure (gradients, stripes) and a little noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    r = (x * 255 // max(1, width - 1))
    g = (y * 255 // max(1, height - 1))
    b = ((x // 16 + y // 16) % 2) * 200 + 20
    noise = rng.integers(0, 12, (height, width))
    return np.clip(np.dstack([r + noise, g + noise, b + noise]), 0, 255).astype(np.uint8)


def _vips(array):
    return pyvips.Image.new_from_array(array, interpretation='srgb' if array.ndim == 3 and
                                       array.shape[2] >= 3 else 'b-w')


def pyramid(path, array, **extra):
    _vips(array).tiffsave(str(path), tile=True, pyramid=True, tile_width=256, tile_height=256,
                          compression='jpeg', Q=90, **extra)


def huge_claim_tiff(path, width=10 ** 6, height=10 ** 6):
    """A strip TIFF whose header claims width x height 8-bit grey pixels, with 64 bytes."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 0), (277, 3, 1, 1), (278, 4, 1, height),
               (279, 4, 1, 64)]
    data_offset = 8 + 2 + 12 * len(entries) + 4
    out = bytearray(b'II*\x00' + struct.pack('<I', 8) + struct.pack('<H', len(entries)))
    for tag, kind, count, value in entries:
        value = data_offset if tag == 273 else value
        packed = struct.pack('<H', value) + b'\0\0' if kind == 3 else struct.pack('<I', value)
        out += struct.pack('<HHI', tag, kind, count) + packed
    out += struct.pack('<I', 0) + bytes(64)
    path.write_bytes(bytes(out))


@pytest.fixture(scope='session')
def samples(tmp_path_factory):
    """Paths (and source arrays) of every sample image."""
    root = tmp_path_factory.mktemp('large_image_samples')
    s = types.SimpleNamespace(root=root)
    s.array = picture(1000, 700)
    s.pyramid = root / 'pyramid.tiff'
    pyramid(s.pyramid, s.array)

    s.wide_array = picture(4200, 200, seed=1)  # wider than the tiff reader's 4096 untiled
    s.strip = root / 'wide_strip.tiff'
    _vips(s.wide_array).tiffsave(str(s.strip), tile=False, compression='none')

    s.png = root / 'photo.png'
    PIL.Image.fromarray(s.array[:300, :400]).save(s.png)
    s.jpeg = root / 'photo.jpg'
    PIL.Image.fromarray(s.array[:300, :400]).save(s.jpeg, quality=95)
    s.bmp = root / 'photo.bmp'
    PIL.Image.fromarray(s.array[:300, :400]).save(s.bmp)
    s.mask_array = (np.arange(300 * 400).reshape(300, 400) // 997 % 7).astype(np.uint8)
    s.mask = root / 'labels.png'
    PIL.Image.fromarray(s.mask_array).save(s.mask)

    rng = np.random.default_rng(5)
    s.frames = [(rng.random((300, 400)) * 60000).astype(np.uint16) for _ in range(3)]
    stack = pyvips.Image.arrayjoin([pyvips.Image.new_from_array(f) for f in s.frames],
                                   across=1).copy()
    stack.set_type(pyvips.GValue.gint_type, 'page-height', 300)
    s.multiframe = root / 'frames.tiff'
    stack.tiffsave(str(s.multiframe), tile=True, pyramid=True, subifd=True, tile_width=256,
                   tile_height=256, compression='deflate')

    s.icc = root / 'with_profile.tiff'
    profile = PIL.ImageCms.ImageCmsProfile(PIL.ImageCms.createProfile('sRGB')).tobytes()
    image = _vips(s.array[:512, :512]).copy()
    image.set_type(pyvips.GValue.blob_type, 'icc-profile-data', profile)
    image.tiffsave(str(s.icc), tile=True, pyramid=True, tile_width=256, tile_height=256,
                   compression='jpeg', Q=90)

    # bad input
    s.text = root / 'notes.tif'
    s.text.write_text('This is a text file, not an image.\n')
    s.empty = root / 'empty.tif'
    s.empty.write_bytes(b'')
    s.huge = root / 'huge_claim.tif'
    huge_claim_tiff(s.huge)
    # a pyramid with its directories first, cut short: the header reads, the data does not
    info = tifftools.read_tiff(str(s.pyramid))
    whole = root / 'ifds_first.tiff'
    tifftools.write_tiff(info, str(whole), ifdsFirst=True)
    data = whole.read_bytes()
    s.truncated = root / 'truncated.tiff'
    s.truncated.write_bytes(data[:len(data) * 6 // 10])
    return s


def decode(data):
    """Pixels of encoded image bytes."""
    return np.asarray(PIL.Image.open(io.BytesIO(data)))


def test_good_samples_read_as_intended(samples):
    assert large_image.canReadList(str(samples.pyramid))[0] == ('tiff', True)
    assert dict(large_image.canReadList(str(samples.strip)))['tiff'] is False
    metadata = large_image.open(str(samples.multiframe)).getMetadata()
    assert len(metadata['frames']) == 3 and metadata['dtype'] == 'uint16'
    assert large_image.open(str(samples.icc)).getICCProfiles()[0] is not None


def test_bad_samples_are_bad(samples):
    for path in (samples.text, samples.empty):
        assert not any(ok for _, ok in large_image.canReadList(str(path)))
    header = pyvips.Image.new_from_file(str(samples.huge))
    assert (header.width, header.height) == (10 ** 6, 10 ** 6)
    truncated = large_image.open(str(samples.truncated), noCache=True)
    assert truncated.getMetadata()['sizeX'] == 1000
    with pytest.raises(Exception):
        truncated.getTile(0, 0, 0)
