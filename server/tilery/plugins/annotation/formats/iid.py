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
from . import raster

DOMAIN = b'tilery'
MAX_COORD = 65535


def write(elements, meta=None, scale=1.0, max_pixels=None):
    """The bytes of an .iid file with one entry per area element (others are skipped);
    an element whose mask would pass ``max_pixels`` is refused (400)."""
    luts, iids, segs, groups = [], [], [], {}
    iid_off = seg_off = 0
    skipped = 0
    for element in elements:
        shape = raster.outline(element)
        if shape is None:
            skipped += 1
            continue
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
        mask, x0, y0 = raster.rasterize(shape[0], shape[1], scale)
        h, w = mask.shape
        key = len(luts)
        label = element.get('label', {}).get('value') or element.get('group') or ''
        address = label.encode('utf-8')
        iid = struct.pack('<III', key, len(DOMAIN), len(address)) + DOMAIN + address
        bbox = (y0, x0, y0 + h, x0 + w)
        packed = np.packbits(mask.ravel()).tobytes()
        region = struct.pack('<4H', *bbox) + packed
        seg = (struct.pack('<I4HI', key, *bbox, int(mask.sum())) +
               struct.pack('<I', len(region) + 4) + region)
        luts.append(struct.pack('<5I', key, iid_off, len(iid), seg_off, len(seg)))
        iids.append(iid)
        segs.append(seg)
        iid_off += len(iid)
        seg_off += len(seg)
        if element.get('group'):
            groups.setdefault(element['group'], []).append(key)
    meta = dict(meta or {}, scale=scale, skipped=skipped)
    meta_bytes = json.dumps(meta).encode('utf-8')
    group_index, group_data, offset = [], [], 0
    for name, keys in groups.items():
        data = struct.pack('<%dI' % len(keys), *keys)
        group_index.append({'name': name, 'offset': offset, 'length': len(data)})
        group_data.append(data)
        offset += len(data)
    index = json.dumps(group_index).encode('utf-8')
    group_bytes = struct.pack('<I', len(index)) + index + b''.join(group_data)
    sections = [b''.join(luts), b''.join(iids), meta_bytes, group_bytes, b''.join(segs)]
    header, offset = [0, 0], 48
    for section in sections:
        header += [offset, len(section)]
        offset += len(section)
    return struct.pack('<12I', *header) + b''.join(sections)


def read(data):
    """(meta, entries) of an .iid file; each entry {address, domain, bbox, mask, groups}."""
    try:
        header = struct.unpack_from('<12I', data, 0)
        (lut_o, lut_l), (iid_o, _), (meta_o, meta_l), (grp_o, grp_l), (seg_o, _) = [
            header[i:i + 2] for i in range(2, 12, 2)]
        meta = json.loads(data[meta_o:meta_o + meta_l].decode('utf-8')) if meta_l else {}
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
            mask = np.zeros((maxr - minr, maxc - minc), dtype=bool)
            pos = 16
            while pos < len(seg):
                (rlen,) = struct.unpack_from('<I', seg, pos)
                r0, c0, r1, c1 = struct.unpack_from('<4H', seg, pos + 4)
                bits = np.frombuffer(seg[pos + 12:pos + rlen], dtype=np.uint8)
                region = np.unpackbits(bits)[:(r1 - r0) * (c1 - c0)].reshape(r1 - r0, c1 - c0)
                mask[r0 - minr:r1 - minr, c0 - minc:c1 - minc] |= region.astype(bool)
                pos += rlen
            entries.append({'key': key, 'address': address, 'domain': domain,
                            'bbox': (minr, minc, maxr, maxc), 'mask': mask,
                            'groups': member.get(key, [])})
    except (struct.error, ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise ValidationError('Not a readable .iid file: %s' % exc, 'file')
    return meta, entries


def to_elements(data):
    """(header fields, elements): each mask becomes closed polylines (with holes)."""
    meta, entries = read(data)
    scale = meta.get('scale') if isinstance(meta.get('scale'), (int, float)) else 1.0
    elements = []
    for entry in entries:
        minr, minc = entry['bbox'][:2]
        try:
            label = entry['address'].decode('utf-8')
        except UnicodeDecodeError:
            label = entry['address'].hex()
        for outer, holes in raster.mask_to_polygons(entry['mask'], minc, minr, scale or 1.0):
            element = {'type': 'polyline', 'closed': True,
                       'points': [[x, y, 0] for x, y in outer]}
            if holes:
                element['holes'] = [[[x, y, 0] for x, y in hole] for hole in holes]
            if label:
                element['label'] = {'value': label}
            if entry['groups']:
                element['group'] = entry['groups'][0]
            if entry['domain'] and entry['domain'] != DOMAIN:
                element['user'] = {'iidDomain': entry['domain'].decode('utf-8', 'replace')}
            elements.append(element)
    header = {k: meta[k] for k in ('name', 'description') if isinstance(meta.get(k), str)}
    if isinstance(meta.get('attributes'), dict):
        header['attributes'] = meta['attributes']
    return header, elements
