"""Label masks: one PNG or TIFF whose pixel values are class indices, and back."""
import io
import math

import numpy as np
from PIL import Image

from ....errors import RestError, ValidationError
from . import raster


def class_of(element):
    """An element's class name: its group, else its label, else None."""
    return element.get('group') or (element.get('label') or {}).get('value')


def render(elements, width, height, scale, classes=None, max_pixels=None):
    """(label array, class names): elements drawn in order, later ones on top.

    ``width``/``height`` are the full-resolution slide size; the mask is ``scale`` times
    that. Class 0 is background; ``classes`` fixes the order of names (others follow).
    """
    out_w, out_h = max(1, int(math.ceil(width * scale))), max(1, int(math.ceil(height * scale)))
    if max_pixels and out_w * out_h > max_pixels:
        raise RestError('A %dx%d mask is larger than the %d pixel limit; use a smaller '
                        'scale.' % (out_w, out_h, max_pixels))
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
        mask, x0, y0 = raster.rasterize(shape[0], shape[1], scale)
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


def to_elements(data, classes=None, scale=1.0, min_pixels=1):
    """Closed polylines (with holes) tracing each class value of a mask image."""
    try:
        image = Image.open(io.BytesIO(data))
        label = np.array(image)
    except Exception as exc:
        raise ValidationError('Not a readable mask image: %s' % exc, 'file')
    if label.ndim != 2:
        raise ValidationError('A label mask must have a single channel.', 'file')
    elements = []
    for value in np.unique(label):
        if value == 0:
            continue
        name = classes[value - 1] if classes and value - 1 < len(classes) else 'class %d' % value
        mask = label == value
        if mask.sum() < min_pixels:
            continue
        for outer, holes in raster.mask_to_polygons(mask, 0, 0, scale):
            element = {'type': 'polyline', 'closed': True, 'group': name,
                       'points': [[x, y, 0] for x, y in outer]}
            if holes:
                element['holes'] = [[[x, y, 0] for x, y in hole] for hole in holes]
            elements.append(element)
    return elements
