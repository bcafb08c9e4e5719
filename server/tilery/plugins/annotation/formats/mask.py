"""Label masks: one PNG or TIFF whose pixel values are class indices, and back."""
import io
import math
import re

import numpy as np
from PIL import Image

from ....errors import RestError, ValidationError
from ..schema import COLOR_PATTERN
from . import raster

_COLOR = re.compile(COLOR_PATTERN)


def class_of(element):
    """An element's class name: its group, else its label, else None."""
    return element.get('group') or (element.get('label') or {}).get('value')


def render(elements, width, height, scale, classes=None, max_pixels=None):
    """(label array, class names): elements drawn in order, later ones on top.

    ``width``/``height`` are the full-resolution slide size; the mask is ``scale`` times
    that. Class 0 is background; ``classes`` fixes the order of names (others follow).
    """
    # sizes checked as floats first: a huge scale makes them infinite, not integers
    if not math.isfinite(width * scale * height * scale) or (
            max_pixels and width * scale * height * scale > max_pixels):
        raise RestError('A %gx%g mask is larger than the %d pixel limit; use a smaller '
                        'scale.' % (width * scale, height * scale, max_pixels or 0))
    out_w, out_h = max(1, int(math.ceil(width * scale))), max(1, int(math.ceil(height * scale)))
    names = list(classes or [])
    index = {name: i + 1 for i, name in enumerate(names)}
    label = np.zeros((out_h, out_w), dtype=np.uint16)
    for element in elements:
        shape = raster.outline(element)
        name = class_of(element)
        if shape is None or name is None:
            continue
        if name not in index:
            names.append(name)
            index[name] = len(names)
            if len(names) > 65535:
                raise RestError('A label mask holds at most 65535 classes.')
        mask, x0, y0 = raster.rasterize(shape[0], shape[1], scale, (out_w, out_h))
        # clip to the image
        sx0, sy0 = max(x0, 0), max(y0, 0)
        sx1, sy1 = min(x0 + mask.shape[1], out_w), min(y0 + mask.shape[0], out_h)
        if sx0 >= sx1 or sy0 >= sy1:
            continue
        part = mask[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0]
        label[sy0:sy1, sx0:sx1][part] = index[name]
    return label, names


def encode(label, fmt='png'):
    """PNG (8-bit when it fits, else 16-bit) or TIFF bytes of a label array."""
    fmt = fmt.lower()
    if fmt not in ('png', 'tiff', 'tif'):
        raise RestError('Mask format must be png or tiff.')
    data = label.astype(np.uint8) if label.max(initial=0) < 256 else label
    image = Image.fromarray(data)
    out = io.BytesIO()
    image.save(out, 'PNG' if fmt == 'png' else 'TIFF', **({} if fmt == 'png' else
                                                        {'compression': 'tiff_deflate'}))
    return out.getvalue()


def _mask_value(key):
    """The mask value a class key names (a whole number >= 0, as written)."""
    try:
        value = int(key)
    except (TypeError, ValueError):
        value = -1
    if value < 0 or str(value) != str(key).strip():
        raise ValidationError('Class key %r is not a mask value (a whole number >= 0).'
                              % key, 'classes')
    return value


def _class_entry(key, entry):
    """{name, fillColor, lineColor} (each optional) of a class given as a name or object."""
    if isinstance(entry, str):
        entry = {'name': entry}
    if not isinstance(entry, dict) or not set(entry) <= {'name', 'fillColor', 'lineColor'}:
        raise ValidationError('Class %s must be a name or an object with name, fillColor '
                              'and lineColor.' % key, 'classes')
    name = entry.get('name')
    if name is not None and (not isinstance(name, str) or not name):
        raise ValidationError('Class %s: name must be a non-empty string.' % key, 'classes')
    for color in ('fillColor', 'lineColor'):
        if color in entry and not (isinstance(entry[color], str) and
                                   _COLOR.search(entry[color])):
            raise ValidationError('Class %s: %s %r is not a colour (#rrggbb, rgb(...) or '
                                  'rgba(...)).' % (key, color, entry[color]), 'classes')
    return dict(entry)


def parse_classes(classes):
    """{mask value: {'name', 'fillColor', 'lineColor'}} and whether unlisted values count.

    ``classes`` is None (every non-zero value, named 'class N'), a list of names in
    value order (value 1 first, as ``render`` numbers them), or an object mapping
    values to a name or to {name, fillColor, lineColor}; then only those values count.
    """
    if classes is None:
        return {}, True
    if isinstance(classes, list):
        for name in classes:
            if not isinstance(name, str) or not name:
                raise ValidationError('Class names must be non-empty strings.', 'classes')
        return {i + 1: {'name': name} for i, name in enumerate(classes)}, True
    if not isinstance(classes, dict):
        raise ValidationError('classes must be a list of names or an object mapping mask '
                              'values to classes.', 'classes')
    mapping = {}
    for key, entry in classes.items():
        mapping[_mask_value(key)] = _class_entry(key, entry)
    return mapping, False


def open_label(source, max_pixels=None):
    """The opened (not yet decoded) PIL image of a label mask, its size and mode checked.

    ``source`` is bytes, a path or a file. Only the header is read, so a request can
    refuse a bad mask at once and leave the decoding to a job.
    """
    try:
        image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        width, height = image.size
    except Exception as exc:
        raise ValidationError('Not a readable mask image: %s' % exc, 'file')
    if max_pixels and width * height > max_pixels:
        raise ValidationError('A %dx%d mask is larger than the %d pixel limit.' % (
            width, height, max_pixels), 'file')
    if len(image.getbands()) != 1:
        raise ValidationError('A label mask must have a single channel (its mode is %s).'
                              % image.mode, 'file')
    if image.mode == 'F':
        raise ValidationError('A label mask must hold whole numbers (its mode is %s).'
                              % image.mode, 'file')
    return image


def read_label(source, max_pixels=None):
    """The 2-D integer array of a PNG/TIFF label mask (checked before it is decoded)."""
    image = open_label(source, max_pixels)
    try:
        label = np.array(image)
    except Exception as exc:
        raise ValidationError('Not a readable mask image: %s' % exc, 'file')
    if label.ndim != 2:
        raise ValidationError('A label mask must have a single channel (its mode is %s).'
                              % image.mode, 'file')
    if label.dtype == bool:
        label = label.astype(np.uint8)
    if label.dtype.kind not in 'iu':
        raise ValidationError('A label mask must hold whole numbers (its mode is %s).'
                              % image.mode, 'file')
    return label


def to_elements(data, classes=None, scale=1.0, min_pixels=1, max_pixels=None,
                progress=None):
    """Closed polylines (with holes) tracing each class value of a mask image.

    ``scale`` is the mask's size over the slide's (0.25: a quarter-size mask); points
    come out in slide pixels. ``classes`` as in ``parse_classes``. ``progress(done,
    total)`` is called before each mask value is traced (it may raise to stop).
    """
    mapping, all_values = parse_classes(classes)
    label = read_label(data, max_pixels)
    elements = []
    values = np.unique(label).tolist()
    for done, value in enumerate(values):
        if progress is not None:
            progress(done, len(values))
        entry = mapping.get(value)
        if entry is None and (value == 0 or not all_values):
            continue
        mask = label == value
        if mask.sum() < min_pixels:
            continue
        elements.extend(_class_polylines(mask, scale, value, entry or {}))
    return elements


def _class_polylines(mask, scale, value, entry):
    """Closed polylines tracing one class's pixels, with its name and colours."""
    name = entry.get('name') or 'class %d' % value
    style = {k: entry[k] for k in ('fillColor', 'lineColor') if k in entry}
    elements = []
    for outer, holes in raster.mask_to_polygons(mask, 0, 0, scale):
        element = {'type': 'polyline', 'closed': True, 'group': name,
                   'label': {'value': name}, 'points': [[x, y, 0] for x, y in outer]}
        if holes:
            element['holes'] = [[[x, y, 0] for x, y in hole] for hole in holes]
        element.update(style)
        elements.append(element)
    return elements
