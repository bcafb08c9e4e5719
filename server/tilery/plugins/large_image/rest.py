"""/item/:itemId/tiles: girder_large_image's routes. They parse, check access and shape
answers; the work is in ``LargeImageService`` and ``TileService``.

The read routes take the item id as a plain parameter and check access through the
service's item cache instead of ``ModelParam``: that saves two database round trips
per tile, which is most of a tile's cost (Girder skips its decorators for the same
reason).
"""
import os
import re

from ...errors import RestError
from ...models import Item
from ...rest import DATA_SCOPES, PUBLIC, USER, ModelParam, Param, Raw, Resource, route
from .. import WRITE, content_disposition
from . import dzi
from .params import (MIME_TYPES, DziParams, Encoding, HistogramParams, PixelParams,
                     RegionParams, ThumbnailParams, TileFramesParams, canonical_style,
                     frame_param, style_param)
from .service import COMPRESSIONS

ITEM = Param('itemId', 'The item id.', 'objectid', dest='item_id')
EXTENSIONS = {'image/jpeg': 'jpg', 'image/png': 'png', 'image/tiff': 'tiff',
              'image/webp': 'webp'}
DZI_TILE = re.compile(r'^(\d+)_(\d+)\.(jpg|jpeg|png)$')


def reader(path, summary, params=(), cookie=True, response=None):
    """A public read route on the tiles of an item (token, cookie or anonymous)."""
    return route('GET', path, access=PUBLIC, cookie=cookie, summary=summary,
                 params=[ITEM] + list(params), response=response)


class TilesResource(Resource):
    prefix = 'item/:itemId/tiles'
    default_scopes = DATA_SCOPES

    def __init__(self, app):
        self.app = app
        self.service = app.large_image
        self.tiles = app.large_image.tiles
        self.cache_control = app.large_image.settings.tile_cache_control

    def _image(self, req, item_id, style=None, encoding=Encoding()):
        item = self.service.item_cache.get(item_id, req.user)
        return item, self.service.open(item, canonical_style(style), encoding)

    def _send(self, req, data, mime, etag=None, item=None, disposition=None, suffix=''):
        headers = {'Cache-Control': self.cache_control}
        if etag is not None:
            headers['ETag'] = etag
        if disposition and item is not None:
            name = '%s%s.%s' % (os.path.splitext(item['name'])[0], suffix,
                                EXTENSIONS.get(mime, 'bin'))
            headers['Content-Disposition'] = content_disposition(name, disposition)
        return Raw(data, mime, headers=headers)  # large_image's ImageBytes is bytes

    def _unchanged(self, req, etag, mime):
        """A 304 answer when the client already holds this ETag, else None."""
        if etag in (req.headers.get('If-None-Match') or ''):
            return Raw(b'', mime, 304, {'ETag': etag, 'Cache-Control': self.cache_control})
        return None

    # -- making and undoing
    @route('POST', '', response='Job?',
           access=USER, summary='Make the item a large image: at once when a '
           'tile source reads the file, else by a conversion job (returned).', params=[
               ModelParam('itemId', model=Item, level=WRITE, dest='item'),
               Param('fileId', 'The image file (needed when the item has several).',
                     'objectid', dest='file_id'),
               Param('force', 'Convert even a file that could be read as it is.', 'boolean',
                     default=False),
               Param('notify', 'Accepted for Girder compatibility.', 'boolean', default=True),
               Param('localJob', 'Accepted for Girder compatibility: jobs always run on the '
                     "server's own pool.", 'boolean', default=True, dest='local_job'),
               Param('tileSize', 'Tile size of a converted image (a multiple of 16).',
                     'integer', min=16, max=4096, dest='tile_size'),
               Param('compression', 'Compression of a converted image.', enum=COMPRESSIONS),
               Param('quality', 'JPEG quality of a converted image.', 'integer', min=1,
                     max=100)])
    def create(self, req, item, file_id, force, notify, local_job, tile_size, compression,
               quality):
        if tile_size is not None and tile_size % 16:
            raise RestError('tileSize must be a multiple of 16.')
        files = self.app.models.file
        if file_id is None:
            found = list(self.app.models.item.files(item, limit=2))
            if len(found) != 1:
                raise RestError('Missing "fileId" parameter (the item has %s files).' % (
                    'several' if found else 'no'))
            file_doc = found[0]
        else:
            file_doc = files.load(file_id)
        job = self.service.create(item, file_doc, req.user, force, compression, quality,
                                  tile_size)
        return self.app.jobs.model.filter(job) if job is not None else None

    @route('DELETE', '', response='TilesDeleted',
           access=USER, summary='Remove the large image (and a converted file).',
           params=[ModelParam('itemId', model=Item, level=WRITE, dest='item')])
    def delete(self, req, item):
        return {'deleted': self.service.delete(item)}

    # -- metadata
    @reader('', 'Large image metadata: levels, sizes, tile size, scale, frames.', cookie=False,
            response='TileMetadata')
    def metadata(self, req, item_id):
        return self._image(req, item_id)[1].metadata

    @reader('internal_metadata', "The file's own tags and metadata.", cookie=False,
            response='InternalMetadata')
    def internal_metadata(self, req, item_id):
        return self.tiles.internal_metadata(self._image(req, item_id)[1])

    # -- tiles: the hot path
    def _tile(self, req, item_id, z, x, y, frame, style, encoding):
        encoding = Encoding.from_args(encoding)
        _, image = self._image(req, item_id, style, encoding)
        etag = '"%s-%s-%d-%d-%d"' % (image.etag, '' if frame is None else frame, z, x, y)
        unchanged = self._unchanged(req, etag, encoding.mime_type)
        if unchanged is not None:
            return unchanged
        data = self.tiles.tile(image, z, x, y, frame)
        return self._send(req, data, encoding.mime_type, etag)

    _zxy = [Param('z', 'Level (0: the whole image in one tile).', 'integer', min=0),
            Param('x', 'Column.', 'integer', min=0), Param('y', 'Row.', 'integer', min=0)]

    @reader('zxy/:z/:x/:y', 'One tile.', _zxy + [frame_param(), style_param()] +
            Encoding.params())
    def tile(self, req, item_id, z, x, y, frame, style, **encoding):
        return self._tile(req, item_id, z, x, y, frame, style, encoding)

    @reader('fzxy/:frame/:z/:x/:y', 'One tile of a frame.',
            [Param('frame', 'Frame number.', 'integer', min=0)] + _zxy + [style_param()] +
            Encoding.params())
    def frame_tile(self, req, item_id, frame, z, x, y, style, **encoding):
        return self._tile(req, item_id, z, x, y, frame, style, encoding)

    # -- images made on request
    @reader('region', 'A region, scaled and encoded as asked.',
            RegionParams.params() + [style_param()] + Encoding.params())
    def region(self, req, item_id, style, **args):
        params, encoding = RegionParams.from_args(args), Encoding.from_args(args)
        item, image = self._image(req, item_id, style)
        data, mime = self.tiles.region(image, params, encoding)
        return self._send(req, data, mime, item=item, disposition=params.content_disposition,
                          suffix='-region')

    @reader('thumbnail', 'The whole image, no larger than width x height (256 by default).',
            ThumbnailParams.params() + [style_param()] + Encoding.params())
    def thumbnail(self, req, item_id, style, **args):
        _, image = self._image(req, item_id, style)
        data, mime = self.tiles.thumbnail(image, ThumbnailParams.from_args(args),
                                          Encoding.from_args(args))
        return self._send(req, data, mime)

    @reader('tile_frames', 'Several frames side by side in one image.',
            TileFramesParams.params() + [style_param()] + Encoding.params())
    def tile_frames(self, req, item_id, style, **args):
        _, image = self._image(req, item_id, style)
        data, mime = self.tiles.tile_frames(image, TileFramesParams.from_args(args),
                                            Encoding.from_args(args))
        return self._send(req, data, mime)

    @reader('pixel', 'The value of one pixel by band.', PixelParams.params() + [style_param()],
            cookie=False, response='Pixel')
    def pixel(self, req, item_id, style, **args):
        return self.tiles.pixel(self._image(req, item_id, style)[1],
                                PixelParams.from_args(args))

    @reader('histogram', 'Histograms of each band.', HistogramParams.params(), cookie=False,
            response='Histogram')
    def histogram(self, req, item_id, **args):
        return self.tiles.histogram(self._image(req, item_id)[1],
                                    HistogramParams.from_args(args))

    @reader('images', 'Names of the associated images (label, macro, ...).', cookie=False,
            response='string[]')
    def images(self, req, item_id):
        return self.tiles.associated_images(self._image(req, item_id)[1])

    @reader('images/:image', 'One associated image.', [
        Param('image', 'Its name.'), Param('width', 'Largest width.', 'integer', min=1),
        Param('height', 'Largest height.', 'integer', min=1)] + Encoding.params())
    def image(self, req, item_id, image, width, height, **encoding):
        _, opened = self._image(req, item_id)
        data, mime = self.tiles.associated_image(opened, image, Encoding.from_args(encoding),
                                                 width, height)
        return self._send(req, data, mime)

    # -- Deep Zoom
    @reader('dzi.dzi', 'A Deep Zoom descriptor (OpenSeadragon); its tiles are at '
            'dzi_files/:level/:x_:y.:ext with the same query parameters.', DziParams.params())
    def dzi(self, req, item_id, **args):
        xml = dzi.descriptor(self._image(req, item_id)[1], DziParams.from_args(args))
        return Raw(xml.encode(), 'application/xml', headers={
            'Cache-Control': self.cache_control})

    @reader('dzi_files/:level/:tile', 'One Deep Zoom tile.', [
        Param('level', 'DZI level (0 is one pixel).', 'integer', min=0),
        Param('tile', 'x_y.jpg or x_y.png')] + DziParams.params())
    def dzi_tile(self, req, item_id, level, tile, **args):
        match = DZI_TILE.match(tile)
        if match is None:
            raise RestError('A DZI tile is named <x>_<y>.jpg or <x>_<y>.png, not %r.' % tile)
        if req.params.get('encoding') is None:  # OpenSeadragon asks by file extension
            args['encoding'] = 'PNG' if match.group(3) == 'png' else 'JPEG'
        params = DziParams.from_args(args)
        _, image = self._image(req, item_id)
        x, y = int(match.group(1)), int(match.group(2))
        etag = '"%s-dzi-%d-%d-%d-%d-%d-%s"' % (image.etag, params.tilesize, params.overlap,
                                                level, x, y, params.encoding)
        unchanged = self._unchanged(req, etag, MIME_TYPES[params.encoding])
        if unchanged is not None:
            return unchanged
        data, mime = dzi.tile(self.tiles, image, level, x, y, params)
        return self._send(req, data, mime, etag)


class CacheResource(Resource):
    """/large_image/cache: what the caches hold, and emptying them (administrators)."""

    prefix = 'large_image/cache'

    def __init__(self, app):
        self.service = app.large_image

    @route('GET', '', response='CacheInfo', summary='Sizes and use of the tile and source caches.')
    def info(self, req):
        return self.service.cache_info()

    @route('PUT', 'clear', response='CacheInfo', summary='Empty the tile and source caches.')
    def clear(self, req):
        self.service.clear_caches()
        return self.service.cache_info()
