"""The conversion worker process: any readable image in, a tiled pyramidal TIFF out.

Run by the conversion job as ``python -m tilery.plugins.large_image.convert_worker
'<json options>'``, it speaks ``tilery.jobs.child``'s protocol. A process of its own
can be killed on cancel and gives its memory back to the system when it ends.

Single-frame 8/16-bit images go straight through libvips with sequential access:
the same work as ``vips tiffsave --tile --pyramid``, with about 130 MB peak memory.
large_image_converter's own path opens inputs for random access, which with
pyvips-binary peaks near 1.3 GB and takes 1.3-1.7x as long; it still converts
everything else (multi-frame files, floats, inputs only a large_image source reads).
"""
import json
import logging
import os
import sys
import time

from tilery.jobs import child
from tilery.jobs.child import WorkerFailure

COMPRESSIONS = ('auto', 'jpeg', 'deflate', 'lzw', 'none')
TOO_BIG = ('The image claims to be %d x %d pixels, more than the %d megapixels this server '
           'converts; the file is probably corrupt.')
VIPS_FORMATS = ('uchar', 'char', 'ushort', 'short')


def _vips_message(exc, src=None, name=None):
    """The informative line of a libvips error, naming the file as the user knows it."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith('unable to')]
    message = (useful or lines or ['unknown error'])[0]
    message = message.split(': ', 1)[1] if message.startswith('VipsForeignLoad') else message
    if src:
        message = message.replace("b'%s'" % src, src).replace(src, name or 'the file')
    return message


def inspect(src, name, max_pixels):
    """(libvips header or None, frames, why libvips cannot read it); fails on absurd sizes.

    A file whose second page has the size of the first holds several frames; other
    pages are reduced levels or associated images.
    """
    import pyvips
    try:
        header = pyvips.Image.new_from_file(src)  # reads the header only
    except pyvips.Error as exc:
        return None, 0, _vips_message(exc, src, name)
    frames = 1
    if header.get_n_pages() > 1:
        second = pyvips.Image.new_from_file(src, page=1)
        if (second.width, second.height) == (header.width, header.height):
            frames = header.get_n_pages()
    if header.width * header.height > max_pixels:
        raise WorkerFailure(TOO_BIG % (header.width, header.height, max_pixels // 10 ** 6))
    return header, frames, None


def choose_compression(requested, image, lossy_input=False):
    """JPEG for 8-bit RGB pictures (slides, photos) and JPEG inputs; lossless otherwise."""
    if requested != 'auto':
        return requested
    fields = image.get_fields()
    palette = 'palette' in fields or 'palette-bit-depth' in fields
    if image.format == 'uchar' and ((image.bands == 3 and not palette) or lossy_input):
        return 'jpeg'
    return 'deflate'  # masks, label maps, alpha, greyscale data: keep every value


def write_pyramid(report, image, dst, compression, quality, tile_size):
    """Write a pyvips image as a tiled pyramidal TIFF, reporting progress."""
    if compression == 'jpeg' and image.bands in (2, 4):
        image = image.flatten(background=[255] * (image.bands - 1))
    options = {'tile': True, 'pyramid': True, 'tile_width': tile_size,
               'tile_height': tile_size, 'compression': compression}
    if compression == 'jpeg':
        options['Q'] = quality
    elif compression in ('deflate', 'lzw'):
        options['predictor'] = 'horizontal'
        if compression == 'deflate':
            options['level'] = 1  # about 2x faster than the default 6, a little larger
    raw_bytes = image.width * image.height * image.bands * (2 if 'short' in image.format else 1)
    options['bigtiff'] = raw_bytes * 4 // 3 > 3 << 30
    image.set_progress(True)
    image.signal_connect('eval', lambda _, progress: report.progress(
        progress.percent, 100, 'Writing the tiled pyramid'))
    image.tiffsave(dst, **options)


def vips_image(src, header):
    """``src`` opened for one sequential pass (random access only to undo a rotation)."""
    import pyvips
    fields = header.get_fields()
    if 'orientation' in fields and header.get('orientation') not in (0, 1):
        return pyvips.Image.new_from_file(src, fail_on='error').autorot()
    return pyvips.Image.new_from_file(src, access='sequential', fail_on='error')


def pil_image(src, max_pixels):
    """A pyvips image of a file only PIL reads (BMP, ...), or None. It is decoded
    whole, so it costs about twice its size in memory (in this process only)."""
    import numpy as np
    import PIL.Image
    import pyvips
    PIL.Image.MAX_IMAGE_PIXELS = None  # our own limit applies
    try:
        picture = PIL.Image.open(src)
    except (OSError, ValueError, SyntaxError):
        return None
    with picture:
        if picture.width * picture.height > max_pixels:
            raise WorkerFailure(TOO_BIG % (picture.width, picture.height, max_pixels // 10 ** 6))
        if picture.mode not in ('L', 'LA', 'RGB', 'RGBA', 'I;16'):
            picture = picture.convert('RGBA' if 'transparency' in picture.info or
                                      'A' in picture.getbands() else 'RGB')
        array = np.asarray(picture)
    return pyvips.Image.new_from_array(array)

def converter_pyramid(report, src, dst, compression, quality, tile_size):
    """Write ``dst`` with large_image_converter (multi-frame and unusual inputs)."""
    import large_image_converter

    class Forward(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.INFO:
                report.log(record.getMessage())
    logger = logging.getLogger('large-image-converter')
    logger.addHandler(Forward())
    logger.setLevel(logging.INFO)
    report.progress(0, None, 'Converting with large_image_converter', force=True)
    options = {'tileSize': tile_size, 'quality': quality, 'geospatial': False,
               'overwrite': True}
    if compression != 'auto':
        options['compression'] = compression
    large_image_converter.convert(src, dst, **options)


def verify(dst):
    """Open the output as large_image will serve it; return its metadata."""
    import large_image_source_tiff
    source = large_image_source_tiff.open(dst, noCache=True)
    source.getTile(0, 0, 0)
    return source.getMetadata()


def _check_not_empty(src):
    try:
        size = os.path.getsize(src)
    except OSError:
        raise WorkerFailure('The original file is missing from the assetstore.')
    if size == 0:
        raise WorkerFailure('The file is empty (0 bytes): there is no image to convert.')


def _pick_reader(src, header, frames, problem, compression, max_pixels):
    """(image to write with vips or None for large_image_converter, method, lossy input)."""
    if header is None:
        image = pil_image(src, max_pixels)
        if image is not None:
            return image, 'pil+vips', False
        import large_image
        if not large_image.canRead(src, noCache=True):
            raise WorkerFailure('This file is not an image the server can read (%s).' %
                                problem)
        return None, 'large_image_converter', False
    if frames == 1 and header.format in VIPS_FORMATS and header.bands <= 4 and not (
            compression == 'jpeg' and header.format != 'uchar'):
        image = vips_image(src, header)
        fields = header.get_fields()
        lossy = 'vips-loader' in fields and header.get('vips-loader').startswith('jpeg')
        return image, 'vips', lossy
    return None, 'large_image_converter', False


def convert(report, src, dst, name=None, compression='auto', quality=90, tile_size=256,
            max_pixels=10 ** 11):
    """Convert ``src`` into the pyramidal TIFF ``dst``; return a summary."""
    started = time.monotonic()
    if compression not in COMPRESSIONS:
        raise WorkerFailure('Unknown compression %r; use one of %s.' % (
            compression, ', '.join(COMPRESSIONS)))
    _check_not_empty(src)
    header, frames, problem = inspect(src, name, max_pixels)
    image, method, lossy = _pick_reader(src, header, frames, problem, compression, max_pixels)
    described = image if image is not None else header
    if described is not None:
        chosen = choose_compression(compression, described, lossy)
    else:
        chosen = 'deflate' if compression == 'auto' else compression
    report.log('Converting %s (%s) with %s, %s compression.' % (
        name or 'the file', 'size unknown' if header is None else '%d x %d, %d band(s), %s' % (
            header.width, header.height, header.bands, header.format), method, chosen))
    try:
        if image is not None:
            write_pyramid(report, image, dst, chosen, quality, tile_size)
        else:
            converter_pyramid(report, src, dst, chosen, quality, tile_size)
        metadata = verify(dst)
    except WorkerFailure:
        raise
    except Exception as exc:
        raise WorkerFailure('The image could not be converted; the file may be truncated or '
                            'corrupt (%s).' % _vips_message(exc, src, name))
    return {'sizeX': metadata['sizeX'], 'sizeY': metadata['sizeY'],
            'levels': metadata['levels'], 'tileWidth': metadata['tileWidth'],
            'frames': len(metadata.get('frames') or ()) or 1, 'method': method,
            'compression': chosen, 'bytes': os.path.getsize(dst),
            'seconds': round(time.monotonic() - started, 3)}


if __name__ == '__main__':
    arguments = json.loads(sys.argv[1])
    sys.exit(child.run(lambda report: convert(report, **arguments)))
