"""Request parameters of the tile routes, declared once and shared (as titiler does).

Each dataclass lists its REST parameters (``params()``: the framework converts and
documents them) and builds itself from the converted values (``from_args``), so the
services receive checked, typed values and never see the query string.
"""
import dataclasses
import json
import math

from large_image.constants import TileInputUnits

from ...errors import RestError
from ...rest import Param

ENCODINGS = ('JPEG', 'PNG', 'TIFF', 'WEBP', 'JFIF')
MIME_TYPES = {'JPEG': 'image/jpeg', 'JFIF': 'image/jpeg', 'PNG': 'image/png',
              'TIFF': 'image/tiff', 'WEBP': 'image/webp'}
TIFF_COMPRESSIONS = ('raw', 'none', 'lzw', 'deflate', 'jpeg', 'packbits')
UNITS = tuple(sorted(k for k, v in TileInputUnits.items()
                     if k and v != 'projection' and not v.startswith('proj4')))


def _pick(cls, args, **extra):
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in args.items() if k in names}, **extra)


@dataclasses.dataclass(frozen=True)
class Encoding:
    """How images are encoded (tiles: when the source is opened; others: per call)."""

    encoding: str = 'JPEG'
    jpeg_quality: int = 95
    jpeg_subsampling: int = 0
    tiff_compression: str = 'raw'

    @staticmethod
    def params(default='JPEG'):
        return [
            Param('encoding', 'Image encoding.', enum=ENCODINGS, default=default),
            Param('jpegQuality', 'JPEG or WEBP quality (1-100).', 'integer', default=95,
                  min=1, max=100, dest='jpeg_quality'),
            Param('jpegSubsampling', 'JPEG chroma subsampling: 0 full, 1 half, 2 quarter.',
                  'integer', default=0, enum=(0, 1, 2), dest='jpeg_subsampling'),
            Param('tiffCompression', 'TIFF compression.', enum=TIFF_COMPRESSIONS,
                  default='raw', dest='tiff_compression'),
        ]

    @classmethod
    def from_args(cls, args):
        return _pick(cls, {k: v for k, v in args.items() if v is not None})

    @property
    def mime_type(self):
        return MIME_TYPES[self.encoding]

    def large_image_kwargs(self):
        """Keyword arguments for large_image (which has no WEBP: Tilery encodes that)."""
        return {'encoding': 'PNG' if self.encoding == 'WEBP' else self.encoding,
                'jpegQuality': self.jpeg_quality, 'jpegSubsampling': self.jpeg_subsampling,
                'tiffCompression': self.tiff_compression}


def style_param():
    return Param('style', 'A JSON style object (bands, min, max, palette, ...), as '
                 'large_image takes it.', 'json', json_types=(dict,))


def canonical_style(style):
    """A style as a stable JSON string (part of cache keys and ETags), or None."""
    if not style:
        return None
    return json.dumps(style, sort_keys=True, separators=(',', ':'))


def frame_param():
    return Param('frame', 'Frame number (multi-frame images).', 'integer', min=0)


def _positive(name, value):
    if value is not None and not value > 0:
        raise RestError('Parameter %s must be greater than 0.' % name)
    return value


@dataclasses.dataclass(frozen=True)
class RegionParams:
    """A region of the image, the output size and scale."""

    left: float = None
    top: float = None
    right: float = None
    bottom: float = None
    region_width: float = None
    region_height: float = None
    units: str = 'base_pixels'
    units_wh: str = None
    width: int = None
    height: int = None
    magnification: float = None
    mm_x: float = None
    mm_y: float = None
    exact: bool = False
    frame: int = None
    fill: str = None
    resample: bool = True
    content_disposition: str = None

    @staticmethod
    def params():
        number = 'number'
        return [
            Param('left', 'Left edge (negative: from the right).', number),
            Param('top', 'Top edge (negative: from the bottom).', number),
            Param('right', 'Right edge (exclusive).', number),
            Param('bottom', 'Bottom edge (exclusive).', number),
            Param('regionWidth', 'Region width, when right is not given.', number, min=0,
                  dest='region_width'),
            Param('regionHeight', 'Region height, when bottom is not given.', number, min=0,
                  dest='region_height'),
            Param('units', 'Units of the region.', enum=UNITS, default='base_pixels'),
            Param('unitsWH', 'Units of regionWidth/regionHeight.', enum=UNITS,
                  dest='units_wh'),
            Param('width', 'Largest output width.', 'integer', min=1),
            Param('height', 'Largest output height.', 'integer', min=1),
            Param('magnification', 'Output magnification.', number),
            Param('mm_x', 'Output mm per pixel horizontally.', number),
            Param('mm_y', 'Output mm per pixel vertically.', number),
            Param('exact', 'Only answer at exactly the asked scale.', 'boolean', default=False),
            frame_param(),
            Param('fill', 'Letterbox to width x height with this colour.'),
            Param('resample', 'Resample (false: nearest pixel).', 'boolean', default=True),
            Param('contentDisposition', 'Send as a download.', enum=('inline', 'attachment'),
                  dest='content_disposition'),
        ]

    @classmethod
    def from_args(cls, args):
        for name in ('magnification', 'mm_x', 'mm_y'):
            _positive(name, args.get(name))
        return _pick(cls, args)

    def large_image_kwargs(self):
        region = {k: v for k, v in (
            ('left', self.left), ('top', self.top), ('right', self.right),
            ('bottom', self.bottom), ('width', self.region_width),
            ('height', self.region_height), ('units', self.units),
            ('unitsWH', self.units_wh)) if v is not None}
        kwargs = {'region': region, 'resample': self.resample}
        output = {k: v for k, v in (('maxWidth', self.width), ('maxHeight', self.height))
                  if v is not None}
        if output:
            kwargs['output'] = output
        scale = {k: v for k, v in (('magnification', self.magnification),
                                   ('mm_x', self.mm_x), ('mm_y', self.mm_y)) if v is not None}
        if scale:
            scale['exact'] = self.exact
            kwargs['scale'] = scale
        if self.fill and self.width and self.height:
            kwargs['fill'] = self.fill
        if self.frame is not None:
            kwargs['frame'] = self.frame
        return kwargs


@dataclasses.dataclass(frozen=True)
class ThumbnailParams:
    """A whole-image thumbnail no larger than width x height."""

    width: int = None
    height: int = None
    fill: str = None
    frame: int = None

    @staticmethod
    def params():
        return [Param('width', 'Largest width (default 256).', 'integer', min=2),
                Param('height', 'Largest height (default 256).', 'integer', min=2),
                Param('fill', 'Letterbox to width x height with this colour.'),
                frame_param()]

    @classmethod
    def from_args(cls, args):
        return _pick(cls, args)

    def large_image_kwargs(self):
        width, height = self.width, self.height
        if width is None and height is None:
            width = height = 256
        kwargs = {'output': {'maxWidth': width, 'maxHeight': height}}
        if self.fill and width and height:
            kwargs['fill'] = self.fill
        if self.frame is not None:
            kwargs['frame'] = self.frame
        return kwargs


@dataclasses.dataclass(frozen=True)
class PixelParams:
    """One pixel's value."""

    left: float
    top: float
    units: str = 'base_pixels'
    frame: int = None

    @staticmethod
    def params():
        return [Param('left', 'x coordinate.', 'number', required=True),
                Param('top', 'y coordinate.', 'number', required=True),
                Param('units', 'Units of left and top.', enum=UNITS, default='base_pixels'),
                frame_param()]

    @classmethod
    def from_args(cls, args):
        return _pick(cls, args)


@dataclasses.dataclass(frozen=True)
class HistogramParams:
    """A per-band histogram computed on a downsampled copy of the image."""

    width: int = 2048
    height: int = 2048
    resample: bool = False
    frame: int = None
    bins: int = 256
    range_min: float = None
    range_max: float = None
    round_range: bool = False
    density: bool = False

    @staticmethod
    def params():
        return [Param('width', 'Largest width of the sampled image.', 'integer', default=2048,
                      min=1),
                Param('height', 'Largest height of the sampled image.', 'integer',
                      default=2048, min=1),
                Param('resample', 'Resample the sampled image.', 'boolean', default=False),
                frame_param(),
                Param('bins', 'Number of bins.', 'integer', default=256, min=1, max=65536),
                Param('rangeMin', 'Lowest value counted.', 'number', dest='range_min'),
                Param('rangeMax', 'Highest value counted.', 'number', dest='range_max'),
                Param('roundRange', 'Round the range to integers.', 'boolean', default=False,
                      dest='round_range'),
                Param('density', 'Normalise to a probability density.', 'boolean',
                      default=False)]

    @classmethod
    def from_args(cls, args):
        return _pick(cls, args)

    def large_image_kwargs(self):
        kwargs = {'output': {'maxWidth': self.width, 'maxHeight': self.height},
                  'resample': self.resample, 'bins': self.bins, 'density': self.density}
        if self.frame is not None:
            kwargs['frame'] = self.frame
        if self.range_min is not None or self.range_max is not None:
            low = self.range_min if self.range_min is not None else 0
            high = self.range_max if self.range_max is not None else 255
            if self.round_range:
                low, high = math.floor(low), math.ceil(high)
            if high <= low:
                raise RestError('rangeMax must be greater than rangeMin.')
            kwargs['range'] = [low, high]
        elif self.round_range:
            kwargs['range'] = 'round'  # integer bins over the data's own range
        return kwargs


@dataclasses.dataclass(frozen=True)
class TileFramesParams:
    """Several frames side by side in one image."""

    frame_list: tuple = None
    frames_across: int = None
    width: int = None  # of each frame
    height: int = None
    fill: str = None

    @staticmethod
    def params():
        return [Param('frameList', 'Frames to include: a JSON list or comma-separated '
                      'numbers (default: all).', dest='frame_list'),
                Param('framesAcross', 'Frames per row.', 'integer', min=1,
                      dest='frames_across'),
                Param('width', 'Largest width of each frame.', 'integer', min=1),
                Param('height', 'Largest height of each frame.', 'integer', min=1),
                Param('fill', 'Letterbox each frame to width x height with this colour.')]

    @classmethod
    def from_args(cls, args):
        raw = args.get('frame_list')
        frames = None
        if raw not in (None, ''):
            try:
                value = json.loads(raw) if raw.strip().startswith('[') else raw.split(',')
                frames = tuple(int(v) for v in value)
            except (ValueError, TypeError):
                raise RestError('frameList must be a JSON list or comma-separated list of '
                                'frame numbers.')
            if any(f < 0 for f in frames):
                raise RestError('frameList entries must not be negative.')
        return _pick(cls, dict(args, frame_list=frames))

    def large_image_kwargs(self):
        kwargs = {}
        output = {k: v for k, v in (('maxWidth', self.width), ('maxHeight', self.height)) if v}
        if output:
            kwargs['output'] = output
        if self.frame_list is not None:
            kwargs['frameList'] = list(self.frame_list)
        if self.frames_across is not None:
            kwargs['framesAcross'] = self.frames_across
        if self.fill and self.width and self.height:
            kwargs['fill'] = self.fill
        return kwargs


@dataclasses.dataclass(frozen=True)
class DziParams:
    """Deep Zoom tiling: tile size (a power of two), overlap and encoding."""

    tilesize: int = 256
    overlap: int = 0
    encoding: str = 'JPEG'

    @staticmethod
    def params():
        return [Param('tilesize', 'Tile size, a power of two.', 'integer', default=256,
                      min=1, max=4096),
                Param('overlap', 'Pixels of overlap between tiles.', 'integer', default=0,
                      min=0, max=1024),
                Param('encoding', 'Tile encoding.', enum=('JPEG', 'PNG'), default='JPEG')]

    @classmethod
    def from_args(cls, args):
        params = _pick(cls, {k: v for k, v in args.items() if v is not None})
        if params.tilesize & (params.tilesize - 1):
            raise RestError('tilesize must be a power of two.')
        if params.overlap * 2 > params.tilesize:
            raise RestError('overlap must be at most half of tilesize.')
        return params

    @property
    def extension(self):
        return 'png' if self.encoding == 'PNG' else 'jpg'
