"""PATCH: ``add``/``replace``/``remove`` operations on header fields and on elements by id.

Paths are ``name`` (or ``attributes/key/...``) for the header and ``elements/id:<id>``
(optionally followed by ``/field/...``) for elements, as in large_image. Only the chunks
holding touched elements are rewritten; the new version shares every other chunk.
"""
import copy

import numpy as np
import orjson

from ...errors import ValidationError
from . import chunks, store
from .validate import check_header

OPS = ('add', 'replace', 'remove')


def _error(message, index):
    return ValidationError('Patch operation %d: %s' % (index, message), 'patch/%d' % index)


def _walk(record, parts, op, value, index):
    """Apply ``op`` at ``parts`` (a path below ``record``), JSON-pointer style."""
    for part in parts[:-1]:
        try:
            record = record[int(part)] if isinstance(record, list) else record[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise _error('path %s does not exist.' % '/'.join(parts), index)
    key = parts[-1]
    if isinstance(record, list):
        try:
            pos = len(record) if key == '-' else int(key)
        except ValueError:
            raise _error('%r is not a list index.' % key, index)
        if op == 'remove' and 0 <= pos < len(record):
            del record[pos]
        elif op == 'add' and 0 <= pos <= len(record):
            record.insert(pos, value)
        elif op == 'replace' and 0 <= pos < len(record):
            record[pos] = value
        else:
            raise _error('cannot %s list index %s.' % (op, key), index)
    elif isinstance(record, dict):
        if op == 'remove':
            record.pop(key, None)
        elif op == 'replace' and key not in record:
            raise _error('cannot replace %s: it does not exist.' % '/'.join(parts), index)
        else:
            record[key] = value
    else:
        raise _error('path %s does not lead to an object or list.' % '/'.join(parts), index)


def _parse(operations):
    if not isinstance(operations, list):
        raise ValidationError('A patch must be a JSON list of operations.', 'patch')
    parsed = []
    for index, op in enumerate(operations):
        if not isinstance(op, dict) or op.get('op') not in OPS or not isinstance(
                op.get('path'), str):
            raise _error('each operation needs "op" (add, replace or remove) and "path".', index)
        if op['op'] != 'remove' and 'value' not in op:
            raise _error('%s needs a "value".' % op['op'], index)
        path = op['path'].strip('/')
        parts = path.split('/') if path else []
        element_id = None
        if parts and parts[0] == 'elements':
            if len(parts) < 2 or not parts[1].startswith('id:'):
                raise _error('element paths are elements/id:<element id>[/field...].', index)
            element_id = parts[1][3:].lower()
            if len(element_id) != 24 or any(c not in '0123456789abcdef' for c in element_id):
                raise _error('%r is not an element id.' % element_id, index)
            parts = parts[2:]
        elif not parts:
            raise _error('the path is empty.', index)
        parsed.append((index, op['op'], parts, element_id, copy.deepcopy(op.get('value'))))
    return parsed


def apply_patch(service, doc, operations):
    """The state of the next version after ``operations``; new chunks are already written."""
    ops = _parse(operations)
    header = copy.deepcopy(doc['annotation'])
    for index, op, parts, element_id, value in ops:
        if element_id is None:
            if op == 'add' and len(parts) == 1 and header.get(parts[0]):
                raise _error('cannot add %s: it already exists.' % parts[0], index)
            _walk(header, parts, op, value, index)
    check_header(header)
    targets = list(dict.fromkeys(e for _, _, _, e, _ in ops if e is not None))
    if not targets:
        state = {k: doc[k] for k in ('_chunks', '_elementCount', '_detailsCount', 'bbox',
                                     'groups', '_maxOrder', '_girderIds') if k in doc}
        state['annotation'] = header
        return state
    table, id_arrays = service.element_ids(doc)
    want = np.array([bytes.fromhex(e) for e in targets], dtype='S12')
    where = {}
    for ci, ids in enumerate(id_arrays):
        for ei in np.nonzero(np.isin(ids, want))[0]:
            where[chunks.hex_id(ids[ei])] = (ci, int(ei))
    affected = sorted({ci for ci, _ in where.values()})
    writer = store.ChunkWriter(service.db, doc['_id'], service.settings,
                               first_order=doc.get('_maxOrder', 0),
                               overlay_size=service.overlay_size)
    try:
        current, meta = _load_targets(service, table, affected, where)
        removed_count = removed_details = 0
        for ci in affected:
            removed_count += meta[ci].n
            removed_details += int(meta[ci].details.sum())
        new_elements = {}
        for index, op, parts, element_id, value in ops:
            if element_id is None:
                continue
            live = current.get(element_id) is not None or element_id in new_elements
            if not parts:
                if op == 'add' and live:
                    raise _error('cannot add element %s: it already exists.' % element_id,
                                 index)
                if op == 'replace' and not live:
                    raise _error('cannot replace element %s: it does not exist.' % element_id,
                                 index)
                if op == 'remove':
                    if element_id in current:
                        current[element_id] = None
                    new_elements.pop(element_id, None)
                    continue
                if not isinstance(value, dict):
                    raise _error('an element must be a JSON object.', index)
                value['id'] = element_id
                (current if element_id in current else new_elements)[element_id] = value
            else:
                if not live:
                    raise _error('element %s does not exist.' % element_id, index)
                target = current if current.get(element_id) is not None else new_elements
                _walk(target[element_id], parts, op, value, index)
        _rewrite(writer, table, affected, meta, current)
        for element in new_elements.values():
            writer.add(element, writer.next_order)
        kept = np.ones(len(table), dtype=bool)
        kept[affected] = False
        untouched = [id_arrays[ci] for ci in range(len(table)) if kept[ci]]
        new_table = writer.finish(
            existing_ids=np.concatenate(untouched) if untouched else None,
            existing_orders=np.full(sum(len(a) for a in untouched), -1, dtype=np.int64)
            if untouched else None)
    except BaseException:
        writer.abort()
        raise
    result = table.select(kept)
    result.extend(new_table)
    return {
        'annotation': header, '_chunks': result.to_doc(),
        '_elementCount': int(doc['_elementCount'] - removed_count + writer.count),
        '_detailsCount': int(doc['_detailsCount'] - removed_details + writer.details),
        'bbox': result.total_box(),
        'groups': sorted(set(doc.get('groups') or ()) | writer.groups, key=str),
        '_maxOrder': int(writer.next_order),
        '_girderIds': sorted(set(doc.get('_girderIds') or ()) | writer.girder_ids),
    }


def _load_targets(service, table, affected, where):
    """Parsed copies of the targeted elements, and the arrays of the affected chunks."""
    current, meta = {}, {}
    by_chunk = {}
    for eid, (ci, ei) in where.items():
        by_chunk.setdefault(ci, []).append((eid, ei))
    ids = [table.ids[ci] for ci in affected]
    for ci, doc in zip(affected, store.iter_chunks(service.db, ids, None, 16)):
        chunk = chunks.Chunk(doc)
        chunk.texts = chunks.ChunkTexts(doc, store.load_parts(service.db, doc))
        meta[ci] = chunk
        for eid, ei in by_chunk[ci]:
            current[eid] = orjson.loads(chunk.texts.text(ei))
    return current, meta


def _rewrite(writer, table, affected, meta, current):
    """Re-buffer every element of the affected chunks: untouched ones as they are."""
    for ci in affected:
        chunk = meta[ci]
        for ei in range(chunk.n):
            eid = chunks.hex_id(chunk.ids[ei])
            order = int(chunk.order[ei])
            if eid in current:
                element = current[eid]
                if element is not None:
                    writer.add(element, order, order=order)
                continue
            writer.add_encoded(eid, tuple(chunk.box[ei]), int(chunk.details[ei]), order,
                               chunk.styles[chunk.style[ei]], chunk.texts.text(ei))
