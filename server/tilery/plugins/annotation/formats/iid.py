"""``.iid`` files (iidfile 0.2): labelled binary masks with bounding boxes, groups, metadata.

Layout (little-endian uint32 unless said): a 48-byte header (version, rformat, then
offset/length of the lookup table, iids, metadata, groups and segments); the lookup
table, 20 bytes per entry (key, iid offset/length, segment offset/length, offsets
relative to their section); iids (key, domain length, address length, domain,
address); metadata JSON; groups (length-prefixed JSON list of {name, offset, length},
then uint32 key lists); segments (key, uint16 bbox minr/minc/maxr/maxc, uint32 area,
then regions: uint32 length, uint16 bbox, np.packbits mask bytes).
Coordinates are 16-bit, so exports take a ``scale`` that keeps the slide below 65536 px.
"""
import json
import struct

import numpy as np

from ....errors import ValidationError
from . import parts, raster

DOMAIN = b'tilery'
MAX_COORD = 65535


class _PixelBudget:
    """The pixels all masks of one export may take: they are held until it is written,
    so a limit per element alone let many large elements add up without bound."""

    def __init__(self, limit):
        self.left = limit

    def take(self, pixels):
        if self.left is None:
            return
        self.left -= pixels
        if self.left < 0:
            raise ValidationError('The element masks exceed the pixel limit of an export; '
                                  'use a smaller scale.', 'scale')


def _region(shape, scale, element, max_pixels=None, budget=None):
    """(bbox, area, region bytes) of one shape rasterized at ``scale``; a shape past the
    16-bit range or ``max_pixels`` is refused (400)."""
    # checked before rasterizing: a huge scale would otherwise allocate the mask first
    with np.errstate(over='ignore', invalid='ignore'):  # inf and NaN are refused below
        ring = np.asarray(shape[0], dtype=float)[:, :2] * scale
    low, high = np.floor(ring.min(axis=0)), np.ceil(ring.max(axis=0))
    if not (low.min() >= 0 and high.max() <= MAX_COORD):
        raise ValidationError(
            'Element %s lies outside the 16-bit range of .iid files at scale %g; '
            'export with a smaller scale.' % (element.get('id'), scale), 'scale')
    if max_pixels and float(np.prod(np.maximum(high - low, 1))) > max_pixels:
        raise ValidationError(
            'Element %s covers more than %d pixels at scale %g; export with a smaller '
            'scale.' % (element.get('id'), max_pixels, scale), 'scale')
    if budget is not None:
        budget.take(float(np.prod(np.maximum(high - low, 1))))
    mask, x0, y0 = raster.rasterize(shape[0], shape[1], scale)
    h, w = mask.shape
    bbox = (y0, x0, y0 + h, x0 + w)
    region = struct.pack('<4H', *bbox) + np.packbits(mask.ravel()).tobytes()
    return bbox, int(mask.sum()), struct.pack('<I', len(region) + 4) + region


def _identity(element):
    """(domain, address, groups) of the entry an element (or object) is written as."""
    kept = (element.get('user') or {}).get('iid')
    kept = kept if isinstance(kept, dict) else {}
    domain = kept.get('domain') if isinstance(kept.get('domain'), str) else None
    label = (element.get('label') or {}).get('value') or element.get('group') or ''
    if isinstance(kept.get('addressHex'), str) and kept.get('label') == label:
        address = bytes.fromhex(kept['addressHex'])
    else:
        address = label.encode('utf-8')
    group = element.get('group')
    groups = kept.get('groups')
    if not (isinstance(groups, list) and group in groups and
            all(isinstance(g, str) for g in groups)):
        groups = [group] if group else []
    return (domain.encode('utf-8') if domain is not None else DOMAIN), address, groups


def _segment_regions(obj, scale, max_pixels=None, budget=None):
    """(regions, bbox, area, skipped) of an object's area parts rasterized at ``scale``;
    ``skipped`` counts the parts with no area (bbox is None when none has one)."""
    regions, boxes, area, skipped = [], [], 0, 0
    for element in obj:
        if parts.role(element) == 'nucleus':
            continue  # inside its cell, whose mask it is part of
        shape = raster.outline(element)
        if shape is None:
            skipped += 1
            continue
        bbox, count, region = _region(shape, scale, element, max_pixels, budget)
        regions.append(region)
        boxes.append(bbox)
        area += count
    if not regions:
        return regions, None, 0, skipped
    bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))
    return regions, bbox, area, skipped


def _lookup_table(iids, segs):
    """The lookup table section: each entry's key and its iid and segment spans."""
    table, iid_off, seg_off = [], 0, 0
    for key, (iid, seg) in enumerate(zip(iids, segs)):
        table.append(struct.pack('<5I', key, iid_off, len(iid), seg_off, len(seg)))
        iid_off += len(iid)
        seg_off += len(seg)
    return b''.join(table)


def _meta_section(meta, scale, skipped):
    meta = dict(meta or {})
    if scale != 1.0 or 'scale' in meta:
        meta['scale'] = scale
    if skipped:
        meta['skipped'] = skipped
    return json.dumps(meta).encode('utf-8')


def _group_section(groups):
    """The groups section from {group name: [entry keys]}."""
    group_index, group_data, offset = [], [], 0
    for name, keys in groups.items():
        data = struct.pack('<%dI' % len(keys), *keys)
        group_index.append({'name': name, 'offset': offset, 'length': len(data)})
        group_data.append(data)
        offset += len(data)
    index = json.dumps(group_index).encode('utf-8')
    return struct.pack('<I', len(index)) + index + b''.join(group_data)


def _with_header(sections):
    """The file: the header giving each section's offset and length, then the sections."""
    header, offset = [0, 0], 48
    for section in sections:
        header += [offset, len(section)]
        offset += len(section)
    return struct.pack('<12I', *header) + b''.join(sections)


def write(elements, meta=None, scale=1.0, max_pixels=None):
    """The bytes of an .iid file with one entry per area object (others are skipped);
    a part whose mask would pass ``max_pixels`` is refused (400).

    An object of several parts (see parts.py) is one entry whose segment has one
    region per part, as iidfile stores a mask of several blobs.
    """
    iids, segs, groups = [], [], {}
    skipped = 0
    budget = _PixelBudget(max_pixels or None)
    for obj in parts.objects(elements):
        regions, bbox, area, missed = _segment_regions(obj, scale, max_pixels, budget)
        skipped += missed
        if not regions:
            continue
        key = len(segs)
        domain, address, names = _identity(obj[0])
        iids.append(struct.pack('<III', key, len(domain), len(address)) + domain + address)
        segs.append(struct.pack('<I4HI', key, *bbox, area) + b''.join(regions))
        for name in names:
            groups.setdefault(name, []).append(key)
    return _with_header([_lookup_table(iids, segs), b''.join(iids),
                         _meta_section(meta, scale, skipped), _group_section(groups),
                         b''.join(segs)])


def looks_like_iid(head):
    """Whether bytes start like an .iid file: its sections follow the header in order."""
    if len(head) < 48:
        return False
    header = struct.unpack_from('<12I', head, 0)
    offset = 48
    for start, length in zip(header[2::2], header[3::2]):
        if start != offset:
            return False
        offset += length
    return True


def read(data):
    """(meta, entries) of an .iid file; each entry {address, domain, bbox, regions, groups}.

    ``regions`` are (row, column, boolean mask) of the segment's blobs, each decoded on
    its own: a file cannot make us allocate more than its own bits.
    """
    try:
        header = struct.unpack_from('<12I', data, 0)
        (lut_o, lut_l), (iid_o, _), (meta_o, meta_l), (grp_o, grp_l), (seg_o, _) = [
            header[i:i + 2] for i in range(2, 12, 2)]
        meta = json.loads(data[meta_o:meta_o + meta_l].decode('utf-8')) if meta_l else {}
        if not isinstance(meta, dict):
            raise ValueError('its metadata is not a JSON object')
        member = {}
        if grp_l:
            (length,) = struct.unpack_from('<I', data, grp_o)
            base = grp_o + 4 + length
            for group in json.loads(data[grp_o + 4:base].decode('utf-8')):
                count = group['length'] // 4
                for key in struct.unpack_from('<%dI' % count, data, base + group['offset']):
                    member.setdefault(key, []).append(group['name'])
        entries = []
        for n in range(lut_l // 20):
            key, io, il, so, sl = struct.unpack_from('<5I', data, lut_o + 20 * n)
            _, dl, al = struct.unpack_from('<III', data, iid_o + io)
            start = iid_o + io + 12
            domain, address = data[start:start + dl], data[start + dl:start + dl + al]
            seg = data[seg_o + so:seg_o + so + sl]
            _, minr, minc, maxr, maxc, _ = struct.unpack_from('<I4HI', seg, 0)
            regions = []
            pos = 16
            while pos < len(seg):
                (rlen,) = struct.unpack_from('<I', seg, pos)
                if rlen < 12:
                    raise ValueError('a region of %d bytes' % rlen)
                r0, c0, r1, c1 = struct.unpack_from('<4H', seg, pos + 4)
                bits = np.frombuffer(seg[pos + 12:pos + rlen], dtype=np.uint8)
                size = (r1 - r0) * (c1 - c0)
                if r1 < r0 or c1 < c0 or size > 8 * len(bits):
                    raise ValueError('a region whose mask is shorter than its box')
                mask = np.unpackbits(bits)[:size].reshape(r1 - r0, c1 - c0).astype(bool)
                regions.append((r0, c0, mask))
                pos += rlen
            entries.append({'key': key, 'address': address, 'domain': domain,
                            'bbox': (minr, minc, maxr, maxc), 'regions': regions,
                            'groups': member.get(key, [])})
    except (struct.error, ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise ValidationError('Not a readable .iid file: %s' % exc, 'file')
    return meta, entries


def _decoded(raw):
    try:
        return raw.decode('utf-8'), False
    except UnicodeDecodeError:
        return raw.hex(), True


def _kept_of(entry):
    """(label, what ``user.iid`` keeps) of an entry: its domain when not ours, its
    groups when more than one, its address (as hex) when not UTF-8."""
    label, label_is_hex = _decoded(entry['address'])
    kept = {}
    if entry['domain'] != DOMAIN:
        kept['domain'], domain_is_hex = _decoded(entry['domain'])
        if domain_is_hex:
            raise ValidationError('Entry %d: its domain is not UTF-8 text.' % entry['key'],
                                  'file')
    if label_is_hex:
        kept.update(addressHex=label, label=label)
    if len(entry['groups']) > 1:
        kept['groups'] = entry['groups']
    return label, kept


def _entry_elements(entry, scale):
    """The closed polylines of one entry's blobs, linked as parts of one object."""
    label, kept = _kept_of(entry)
    shapes = []
    for r0, c0, mask in entry['regions']:
        shapes.extend(raster.mask_to_polygons(mask, c0, r0, scale))
    obj = []
    for outer, holes in shapes:
        element = {'type': 'polyline', 'closed': True,
                   'points': [[x, y, 0] for x, y in outer]}
        if holes:
            element['holes'] = [[[x, y, 0] for x, y in hole] for hole in holes]
        if label:
            element['label'] = {'value': label}
        if entry['groups']:
            element['group'] = entry['groups'][0]
        if kept and not obj:
            element['user'] = {'iid': kept}
        obj.append(element)
    return parts.link(obj)


def to_elements(data):
    """(header fields, elements): each entry becomes one object of closed polylines.

    An entry of several blobs becomes linked parts (parts.py); its domain, other groups
    and an address that is not UTF-8 are kept in ``user.iid``, the file's metadata in
    the header (name, description, attributes) and ``attributes.iid.meta`` (the rest).
    """
    meta, entries = read(data)
    scale = meta.get('scale') if isinstance(meta.get('scale'), (int, float)) else 1.0
    elements = []
    for entry in entries:
        elements.extend(_entry_elements(entry, scale or 1.0))
    return header_fields(meta), elements


# metadata keys the export writes itself, from the annotation
OWN_META = ('name', 'description', 'attributes', 'annotationId', 'scale', 'skipped')


def header_fields(meta):
    """Annotation header fields from an .iid file's metadata."""
    header = {k: meta[k] for k in ('name', 'description') if isinstance(meta.get(k), str)}
    attributes = dict(meta['attributes']) if isinstance(meta.get('attributes'), dict) else {}
    rest = {k: v for k, v in meta.items() if k not in OWN_META or (
        k == 'attributes' and not isinstance(v, dict)) or (
        k in ('name', 'description') and not isinstance(v, str))}
    if rest:
        attributes['iid'] = {'meta': rest}
    if attributes:
        header['attributes'] = attributes
    return header


def file_meta(header, annotation_id):
    """The metadata an export writes: the imported file's, then the annotation's own."""
    attributes = dict(header.get('attributes') or {})
    kept = attributes.pop('iid', None)
    meta = dict(kept['meta']) if isinstance(kept, dict) and isinstance(
        kept.get('meta'), dict) else {}
    meta.setdefault('name', header.get('name'))
    meta.setdefault('description', header.get('description', ''))
    meta.setdefault('attributes', attributes)
    meta['annotationId'] = str(annotation_id)
    return meta
