"""Deep Zoom (DZI), as OpenSeadragon reads it: the descriptor and its tiles.

DZI level L of an image W x H pixels is the image scaled by 2^(max_level - L), with
max_level = ceil(log2(max(W, H))): level 0 is one pixel. Its tiles are ``tilesize``
square plus ``overlap`` pixels on each side that has a neighbour, and are cropped at
the right and bottom edges.
"""
import math
from xml.sax.saxutils import quoteattr

from ...errors import NotFound
from .params import Encoding, RegionParams

DZI_NS = 'http://schemas.microsoft.com/deepzoom/2008'


def max_level(width, height):
    """The DZI level at full resolution."""
    return max(0, math.ceil(math.log2(max(width, height))))


def descriptor(image, params):
    """The .dzi XML document."""
    md = image.metadata
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Image TileSize=%s Overlap=%s Format=%s xmlns=%s>'
            '<Size Width="%d" Height="%d"/></Image>\n') % (
        quoteattr(str(params.tilesize)), quoteattr(str(params.overlap)),
        quoteattr(params.extension), quoteattr(DZI_NS), md['sizeX'], md['sizeY'])


def tile(tiles, image, level, x, y, params):
    """(bytes, mime type) of DZI tile (level, x, y); 404 outside the image."""
    md = image.metadata
    width, height = md['sizeX'], md['sizeY']
    top_level = max_level(width, height)
    if level > top_level:
        raise NotFound('DZI level %d does not exist; this image has levels 0 to %d.' % (
            level, top_level))
    scale = 2 ** (top_level - level)
    level_w, level_h = math.ceil(width / scale), math.ceil(height / scale)
    size, overlap = params.tilesize, params.overlap
    columns, rows = math.ceil(level_w / size), math.ceil(level_h / size)
    if x >= columns or y >= rows:
        raise NotFound('DZI tile %d_%d is outside level %d, which has %d x %d tiles.' % (
            x, y, level, columns, rows))
    encoding = Encoding(params.encoding)
    z = md['levels'] - 1 - (top_level - level)
    inside = (x + 1) * size <= level_w and (y + 1) * size <= level_h
    if (overlap == 0 and inside and z >= 0 and size == md['tileWidth'] == md['tileHeight'] and
            image.key.encoding == encoding and image.key.style is None):
        # the same pixels as a stored tile of the pyramid: pass it through
        return tiles.tile(image, z, x, y), encoding.mime_type
    left, top = max(0, x * size - overlap), max(0, y * size - overlap)
    right, bottom = min(level_w, (x + 1) * size + overlap), min(level_h, (y + 1) * size + overlap)
    region = RegionParams(
        left=left * scale, top=top * scale, right=min(width, right * scale),
        bottom=min(height, bottom * scale), width=right - left, height=bottom - top)
    return tiles.region(image, region, encoding)
