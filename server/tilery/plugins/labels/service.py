"""Per-user label masks (class-index images) on items, and superpixels to paint with."""
import io
import math

import numpy as np
from PIL import Image

from ...errors import RestError, ValidationError
from .. import now

MASK_MODES = ('L', 'P', 'I;16', 'I')
ALGORITHMS = ('slic', 'felzenszwalb', 'quickshift', 'watershed')
STATUSES = ('checkpoint', 'done')


def encode_ids(labels):
    """Superpixel ids as an RGB PNG: id = r + 256 g + 65536 b (the pixelmap convention)."""
    ids = labels.astype(np.uint32)
    rgb = np.stack([ids & 255, (ids >> 8) & 255, (ids >> 16) & 255], axis=-1).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb, 'RGB').save(out, 'PNG', compress_level=1)
    return out.getvalue()


def decode_ids(png_bytes):
    rgb = np.asarray(Image.open(io.BytesIO(png_bytes)).convert('RGB')).astype(np.uint32)
    return rgb[..., 0] + (rgb[..., 1] << 8) + (rgb[..., 2] << 16)


class LabelService:
    """Stores label masks as files of the item; one mask per user per item."""

    def __init__(self, app):
        self.app = app
        self.max_mask_bytes = int(app.settings.get('labels.max_mask_bytes', 512 << 20))
        self.max_superpixel_size = int(app.settings.get('labels.max_superpixel_size', 2048))

    # -- classes (a project's label set lives on its folder)
    def classes(self, folder):
        return folder.get('labelClasses') or []

    def set_classes(self, folder, classes):
        seen = set()
        clean = []
        for i, entry in enumerate(classes):
            if not isinstance(entry, dict):
                raise ValidationError('Class %d must be an object.' % i, 'classes')
            value = entry.get('value')
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
                raise ValidationError('Class %d: value must be an integer 0-65535.' % i,
                                      'classes[%d].value' % i)
            if value in seen:
                raise ValidationError('Class value %d is listed twice.' % value,
                                      'classes[%d].value' % i)
            name = entry.get('name')
            if not isinstance(name, str) or not name.strip():
                raise ValidationError('Class %d needs a name.' % i, 'classes[%d].name' % i)
            seen.add(value)
            clean.append({'value': value, 'name': name.strip(),
                          'color': str(entry.get('color') or '#ff0000')})
        self.app.models.folder.collection.update_one(
            {'_id': folder['_id']}, {'$set': {'labelClasses': clean}})
        folder['labelClasses'] = clean
        return clean

    # -- masks
    def masks(self, item):
        """[{userId, login, status, ...}] for every mask on the item."""
        return [dict(entry, userId=key) for key, entry in
                sorted((item.get('labelMasks') or {}).items())]

    def image_size(self, item):
        """(width, height) of the item's large image, or None."""
        info = item.get('largeImage') or {}
        if info.get('sizeX') and info.get('sizeY'):
            return info['sizeX'], info['sizeY']
        source = self._open_source(item, required=False)
        if source is None:
            return None
        meta = source.getMetadata()
        return meta['sizeX'], meta['sizeY']

    def check_mask(self, data, item):
        """Decode and check a mask PNG/TIFF; returns (width, height, mode, values)."""
        if len(data) > self.max_mask_bytes:
            raise RestError('The mask is too large (%d bytes; limit %d).' % (
                len(data), self.max_mask_bytes), 413)
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except Exception as exc:
            raise RestError('The mask is not a readable PNG or TIFF image (%s).' % exc)
        if image.mode not in MASK_MODES:
            raise RestError('A mask must be a single-channel image of class indices (8 or 16 '
                            'bit); this one is %s.' % image.mode)
        size = self.image_size(item)
        if size is not None:
            ratio_image = size[0] / size[1]
            ratio_mask = image.width / image.height
            if abs(ratio_image - ratio_mask) > max(2.0 / image.height, 0.01) * ratio_image:
                raise RestError('The mask is %dx%d but the image is %dx%d: the shapes differ.'
                                % (image.width, image.height, size[0], size[1]))
        values = np.unique(np.asarray(image)).tolist()
        return image.width, image.height, image.mode, values

    def save_mask(self, item, user, data, status, classes=None):
        """Store (or replace) ``user``'s mask on ``item``."""
        if status not in STATUSES:
            raise RestError('status must be one of %s.' % ', '.join(STATUSES))
        width, height, mode, values = self.check_mask(data, item)
        key = str(user['_id'])
        entry = (item.get('labelMasks') or {}).get(key)
        files = self.app.models.file
        uploads = self.app.uploads
        name = 'labels-%s.png' % user['login']
        existing = files.load(entry['fileId'], exc=False) if entry else None
        upload = uploads.start(user, item, 'item', name, len(data), 'image/png',
                               replace_file=existing)
        stored = uploads.receive(upload, iter([data]), 0)
        size = self.image_size(item)
        entry = {'fileId': stored['_id'], 'login': user['login'], 'status': status,
                 'updated': now(), 'width': width, 'height': height, 'mode': mode,
                 'values': values[:256],
                 'scale': (size[0] / width) if size else 1.0}
        self.app.models.item.collection.update_one(
            {'_id': item['_id']}, {'$set': {'labelMasks.%s' % key: entry}})
        return dict(entry, userId=key)

    def mask_file(self, item, user_id):
        entry = (item.get('labelMasks') or {}).get(str(user_id))
        if entry is None:
            raise RestError('That user has no label mask on this item.', 404)
        return self.app.models.file.load(entry['fileId'])

    def delete_mask(self, item, user_id):
        key = str(user_id)
        entry = (item.get('labelMasks') or {}).get(key)
        if entry is None:
            raise RestError('That user has no label mask on this item.', 404)
        file = self.app.models.file.load(entry['fileId'], exc=False)
        if file is not None:
            self.app.models.file.remove(file)
        self.app.models.item.collection.update_one(
            {'_id': item['_id']}, {'$unset': {'labelMasks.%s' % key: ''}})

    def forget_file(self, file):
        """A mask file was deleted some other way: drop its entry."""
        if file.get('itemId'):
            item = self.app.models.item.load(file['itemId'], exc=False)
            for key, entry in ((item or {}).get('labelMasks') or {}).items():
                if entry.get('fileId') == file['_id']:
                    self.app.models.item.collection.update_one(
                        {'_id': item['_id']}, {'$unset': {'labelMasks.%s' % key: ''}})

    def progress(self, folder):
        """Per labeller: how many of the folder's items are done or checkpointed."""
        items = self.app.models.item
        total = items.count({'folderId': folder['_id']})
        people = {}
        for item in items.find({'folderId': folder['_id'], 'labelMasks': {'$exists': True}},
                               fields={'labelMasks': 1}):
            for key, entry in (item.get('labelMasks') or {}).items():
                row = people.setdefault(key, {'userId': key, 'login': entry.get('login'),
                                              'done': 0, 'checkpoint': 0})
                row[entry.get('status', 'checkpoint')] += 1
        return {'items': total, 'labellers': sorted(people.values(),
                                                    key=lambda r: r['login'] or '')}

    def zip_entries(self, folder, user):
        """(path, size, chunks) of every mask in the folder, for a zip download."""
        files = self.app.models.file
        for item in self.app.models.item.find({'folderId': folder['_id'],
                                               'labelMasks': {'$exists': True}},
                                              sort=[('name', 1)]):
            for key, entry in sorted((item.get('labelMasks') or {}).items()):
                file = files.load(entry['fileId'], exc=False)
                if file is not None:
                    yield ('%s/%s/%s-%s.png' % (folder['name'], item['name'], entry['login'],
                                                entry['status']), file['size'],
                           lambda f=file: files.open_range(f))

    # -- superpixels
    def _open_source(self, item, required=True):
        import large_image
        info = item.get('largeImage') or {}
        files = self.app.models.file
        file = files.load(info['fileId'], exc=False) if info.get('fileId') else None
        if file is None:
            file = next(iter(files.find({'itemId': item['_id']}, limit=1)), None)
        path = files.local_path(file) if file else None
        if path is None:
            if required:
                raise RestError('This item has no image to compute superpixels on.')
            return None
        try:
            return large_image.open(path)
        except Exception:
            if required:
                raise RestError('The image of this item cannot be read.')
            return None

    def superpixels(self, item, left, top, right, bottom, max_size, algorithm, n_segments,
                    compactness):
        """Superpixel ids over a region, as an encoded PNG, and the region's scale."""
        if algorithm not in ALGORITHMS:
            raise RestError('algorithm must be one of %s.' % ', '.join(ALGORITHMS))
        max_size = min(max_size, self.max_superpixel_size)
        source = self._open_source(item)
        meta = source.getMetadata()
        right = meta['sizeX'] if right is None else right
        bottom = meta['sizeY'] if bottom is None else bottom
        left, top = left or 0, top or 0
        if not (0 <= left < right <= meta['sizeX'] and 0 <= top < bottom <= meta['sizeY']):
            raise RestError('The region must lie inside the %dx%d image.' % (
                meta['sizeX'], meta['sizeY']))
        import large_image
        region, _ = source.getRegion(
            region={'left': left, 'top': top, 'right': right, 'bottom': bottom},
            output={'maxWidth': max_size, 'maxHeight': max_size},
            format=large_image.constants.TILE_FORMAT_NUMPY)
        labels = _segment(_as_rgb(region), algorithm, max(2, min(int(n_segments), 100000)),
                          compactness)
        scale = (right - left) / labels.shape[1]
        return encode_ids(labels), int(labels.max()) + 1, scale


def _as_rgb(region):
    """A region read with large_image as float RGB in [0, 1] (grey repeated thrice)."""
    rgb = region[..., :3] if region.ndim == 3 and region.shape[2] >= 3 else \
        np.repeat(region[..., :1] if region.ndim == 3 else region[..., None], 3, axis=2)
    return rgb.astype(np.float64) / (255.0 if rgb.max() > 1 else 1.0)


def _segment(rgb, algorithm, n_segments, compactness):
    """Superpixel labels (0-based) of ``rgb`` with one of ALGORITHMS."""
    from skimage import filters, segmentation
    if algorithm == 'slic':
        return segmentation.slic(rgb, n_segments=n_segments, compactness=compactness,
                                 start_label=0)
    if algorithm == 'felzenszwalb':
        scale = max(1.0, rgb.shape[0] * rgb.shape[1] / n_segments / 4)
        return segmentation.felzenszwalb(rgb, scale=scale, sigma=0.8, min_size=20)
    if algorithm == 'quickshift':
        return segmentation.quickshift(rgb, kernel_size=3, max_dist=max(
            2.0, math.sqrt(rgb.shape[0] * rgb.shape[1] / n_segments) / 2), ratio=0.5)
    gradient = sum(filters.sobel(rgb[..., c]) for c in range(3))  # colour edges
    return segmentation.watershed(gradient, markers=n_segments,
                                  compactness=compactness / 10000.0) - 1
