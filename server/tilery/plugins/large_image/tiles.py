"""Reading open images: tiles, regions, thumbnails, pixels, histograms, frames."""
import io
import math

import numpy as np
import PIL.Image
from large_image.constants import TILE_FORMAT_IMAGE, TILE_FORMAT_NUMPY, TILE_FORMAT_PIL
from large_image.exceptions import TileGeneralError, TileSourceXYZRangeError

from ...errors import NotFound, RestError
from .errors import ImageDataError

# what readers raise on damaged data (libtiff, PIL, openslide, numpy)
READ_ERRORS = (TileGeneralError, OSError, ValueError, IndexError, KeyError, SyntaxError,
               EOFError, RuntimeError)


class TileService:
    """Everything served from an open image; sizes are capped by ``region_max_pixels``."""

    def __init__(self, region_max_pixels):
        self.region_max_pixels = int(region_max_pixels)

    # -- the hot path
    def tile(self, image, z, x, y, frame=None):
        """The bytes of tile (z, x, y): 404 outside the image, ImageDataError if unreadable."""
        md = image.metadata
        levels = md['levels']
        if z >= levels:
            raise NotFound('Level z=%d does not exist; this image has levels 0 to %d.' % (
                z, levels - 1))
        scale = 2 ** (levels - 1 - z)
        across = math.ceil(md['sizeX'] / (md['tileWidth'] * scale))
        down = math.ceil(md['sizeY'] / (md['tileHeight'] * scale))
        if x >= across or y >= down:
            raise NotFound('Tile x=%d, y=%d is outside level %d, which has x 0 to %d and y 0 '
                           'to %d.' % (x, y, z, across - 1, down - 1))
        self._check_frame(image, frame)
        source = image.source
        try:
            if image.key.encoding.encoding == 'WEBP':
                return _encode_webp(source.getTile(x, y, z, frame=frame, numpyAllowed='always'),
                                    image.key.encoding.jpeg_quality)
            return source.getTile(x, y, z, frame=frame)
        except TileSourceXYZRangeError as exc:
            raise NotFound('Tile %d/%d/%d does not exist: %s.' % (z, x, y, exc))
        except READ_ERRORS as exc:
            raise ImageDataError('Tile %d/%d/%d could not be read; the file is truncated or '
                                 'corrupt (%s).' % (z, x, y, exc))

    @staticmethod
    def _check_frame(image, frame):
        if frame is not None and frame >= image.frame_count:
            raise NotFound('Frame %d does not exist; this image has frames 0 to %d.' % (
                frame, image.frame_count - 1))

    # -- images made on request
    def _check_size(self, image, kwargs, count=1):
        """Refuse a request whose pixels (read or written, for ``count`` frames) exceed the
        cap, before anything is read."""
        probe = {k: v for k, v in kwargs.items() if k in (
            'region', 'output', 'scale', 'frame', 'resample')}
        try:
            info = image.source.tileIterator(format=TILE_FORMAT_NUMPY, **probe).info
        except (ValueError, TypeError, TileGeneralError) as exc:
            raise RestError('Invalid region: %s.' % exc)
        if info is None:
            raise RestError('The region is empty or entirely outside the image.')
        read = info['region']['width'] * info['region']['height']
        out = info['output']
        written = math.ceil(out['width']) * math.ceil(out['height'])
        output = kwargs.get('output') or {}
        if kwargs.get('fill') and output.get('maxWidth') and output.get('maxHeight'):
            written = max(written, output['maxWidth'] * output['maxHeight'])
        if max(read, written) * count > self.region_max_pixels:
            raise RestError(
                'This request needs %d x %d pixels read and %d x %d written%s; the limit is %d '
                'pixels. Ask for a smaller region, a smaller width/height or a lower '
                'magnification.' % (info['region']['width'], info['region']['height'],
                                    math.ceil(out['width']), math.ceil(out['height']),
                                    ' for each of %d frames' % count if count > 1 else '',
                                    self.region_max_pixels))

    def region(self, image, params, encoding):
        """(bytes, mime type) of a region; RegionParams and Encoding say what and how."""
        kwargs = params.large_image_kwargs()
        self._check_frame(image, params.frame)
        self._check_size(image, kwargs)
        return self._render(image.source.getRegion, kwargs, encoding)

    def thumbnail(self, image, params, encoding):
        """(bytes, mime type) of the whole image no larger than the asked size."""
        kwargs = params.large_image_kwargs()
        self._check_frame(image, params.frame)
        self._check_size(image, kwargs)
        output = kwargs.pop('output')
        return self._render(image.source.getThumbnail, dict(
            kwargs, width=output['maxWidth'], height=output['maxHeight']), encoding)

    def tile_frames(self, image, params, encoding):
        """(bytes, mime type) of several frames composited side by side."""
        kwargs = params.large_image_kwargs()
        frames = list(params.frame_list or range(image.frame_count))
        for frame in frames:
            self._check_frame(image, frame)
        self._check_size(image, dict(kwargs, frame=frames[0]), count=len(frames))
        return self._render(image.source.tileFrames, kwargs, encoding)

    def _render(self, method, kwargs, encoding):
        webp = encoding.encoding == 'WEBP'
        try:
            data, mime = method(format=TILE_FORMAT_PIL if webp else TILE_FORMAT_IMAGE,
                                **kwargs, **encoding.large_image_kwargs())
        except READ_ERRORS as exc:
            raise ImageDataError('The image could not be read; the file is truncated or '
                                 'corrupt (%s).' % exc)
        if webp:
            return _encode_webp(data, encoding.jpeg_quality), 'image/webp'
        return data, mime

    # -- values
    def pixel(self, image, params):
        """The value of one pixel by band; {} outside the image."""
        self._check_frame(image, params.frame)
        kwargs = {'region': {'left': params.left, 'top': params.top, 'units': params.units}}
        if params.frame is not None:
            kwargs['frame'] = params.frame
        try:
            return jsonable(image.source.getPixel(**kwargs))
        except ValueError as exc:
            raise RestError('Invalid pixel request: %s.' % exc)
        except READ_ERRORS as exc:
            raise ImageDataError('The pixel could not be read (%s).' % exc)

    def histogram(self, image, params):
        """Per-band histograms of a downsampled copy of the image."""
        kwargs = params.large_image_kwargs()
        self._check_frame(image, params.frame)
        self._check_size(image, kwargs)
        try:
            result = image.source.histogram(**kwargs)
        except READ_ERRORS as exc:
            raise ImageDataError('The histogram could not be computed (%s).' % exc)
        return jsonable(result.get('histogram', []))

    def associated_images(self, image):
        return list(image.source.getAssociatedImagesList())

    def associated_image(self, image, name, encoding, width=None, height=None):
        """(bytes, mime type) of an associated image such as 'label' or 'macro'."""
        if name not in image.source.getAssociatedImagesList():
            raise NotFound('This image has no associated image "%s".' % name)
        if (width or 0) * (height or width or 0) > self.region_max_pixels:
            raise RestError('width x height may be at most %d pixels.' % self.region_max_pixels)
        kwargs = dict(encoding.large_image_kwargs(), width=width, height=height)
        webp = encoding.encoding == 'WEBP'
        if webp:
            kwargs['format'] = TILE_FORMAT_PIL
        found = image.source.getAssociatedImage(name, **kwargs)
        if not found:
            raise NotFound('This image has no associated image "%s".' % name)
        if webp:
            return _encode_webp(found[0], encoding.jpeg_quality), 'image/webp'
        return found

    def internal_metadata(self, image):
        try:
            return jsonable(image.source.getInternalMetadata() or {})
        except READ_ERRORS as exc:
            raise ImageDataError('The file metadata could not be read (%s).' % exc)


def _encode_webp(image, quality):
    if isinstance(image, np.ndarray):
        if image.dtype == np.uint16:
            image = (image >> 8).astype(np.uint8)
        elif image.dtype != np.uint8:
            image = np.clip(image, 0, 255).astype(np.uint8)
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        image = PIL.Image.fromarray(image)
    if image.mode not in ('RGB', 'RGBA', 'L', 'LA'):
        image = image.convert('RGBA' if 'A' in image.getbands() else 'RGB')
    out = io.BytesIO()
    image.save(out, 'WEBP', quality=quality)
    return out.getvalue()


def jsonable(value, depth=0):
    """Plain JSON values from what large_image returns (numpy, bytes, tuples, ...)."""
    if depth > 20:
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist(), depth + 1)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode('utf8', 'replace')
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
