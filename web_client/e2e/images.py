"""Test images for the e2e tests that Node cannot make alone.

    python images.py OUTDIR

writes into OUTDIR:
  channels.tif  a 1024x768 tiled TIFF with three full-resolution pages, read by
                large_image's tiff source as three frames (channels Red, Green,
                Blue), each a checkerboard in its own colour;
  labelled.tif  a tiled 1024x768 slide plus two small untiled pages whose
                ImageDescription is "label" and "macro": the tiff source lists
                them as associated images;
  strip.tif     a 4800x1200 strip (untiled) TIFF: too wide for the tiff source to
                read untiled, so the server converts it with a job.
"""
import json
import os
import sys

import numpy as np
import pyvips
import tifffile

CHANNELS = [('Red', (220, 40, 40)), ('Green', (40, 200, 60)), ('Blue', (40, 80, 220))]


def checkerboard(height, width, colour, phase=0, cell=64):
    """An RGB checkerboard: `colour` and half of it."""
    yy, xx = np.mgrid[0:height, 0:width]
    out = np.empty((height, width, 3), np.uint8)
    out[...] = colour
    out[((xx // cell + yy // cell + phase) % 2) == 0] //= 2
    return out


def channels(path):
    names = [name for name, _ in CHANNELS]
    with tifffile.TiffWriter(path) as tif:
        for index, (_, colour) in enumerate(CHANNELS):
            # large_image reads per-page JSON descriptions for channel names and axes
            description = json.dumps({'channels': names, 'frame': {'IndexC': index}})
            tif.write(checkerboard(768, 1024, colour, index), tile=(256, 256), photometric='rgb',
                      compression='zlib', description=description, metadata=None)


def labelled(path):
    with tifffile.TiffWriter(path) as tif:
        tif.write(checkerboard(768, 1024, (236, 200, 226)), tile=(256, 256), photometric='rgb',
                  compression='zlib', metadata=None)
        label = np.full((200, 300, 3), (250, 240, 120), np.uint8)
        label[60:140, 40:260] = (30, 30, 30)  # a printed barcode-like block
        tif.write(label, photometric='rgb', description='label', metadata=None)
        macro = checkerboard(300, 800, (120, 200, 240), cell=50)
        tif.write(macro, photometric='rgb', description='macro', metadata=None)


def strip(path):
    ramp = pyvips.Image.xyz(4800, 1200)
    image = (ramp[0] * 255 / 4800).bandjoin([ramp[1] * 255 / 1200, 128]).cast('uchar')
    image.tiffsave(path, tile=False, compression='deflate')


if __name__ == '__main__':
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    channels(os.path.join(out, 'channels.tif'))
    labelled(os.path.join(out, 'labelled.tif'))
    strip(os.path.join(out, 'strip.tif'))
