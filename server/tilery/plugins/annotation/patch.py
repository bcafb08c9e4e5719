"""PATCH: ``add``/``replace``/``remove`` operations on header fields and on elements by id.

Paths are ``name`` (or ``attributes/key/...``) for the header and ``elements/id:<id>``
(optionally followed by ``/field/...``) for elements, as in large_image. Only the chunks
holding touched elements are rewritten; the new version shares every other chunk.
"""
import copy
from typing import Any, NamedTuple, Optional

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
    record = _descend(record, parts, index)
    if isinstance(record, list):
        _edit_list(record, parts[-1], op, value, index)
    elif isinstance(record, dict):
        _edit_dict(record, parts, op, value, index)
    else:
        raise _error('path %s does not lead to an object or list.' % '/'.join(parts), index)


def _descend(record, parts, index):
    """The object or list holding the last part of ``parts``."""
    for part in parts[:-1]:
        try:
            record = record[int(part)] if isinstance(record, list) else record[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise _error('path %s does not exist.' % '/'.join(parts), index)
    return record


def _edit_list(record, key, op, value, index):
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


def _edit_dict(record, parts, op, value, index):
    key = parts[-1]
    if op == 'remove':
        record.pop(key, None)
    elif op == 'replace' and key not in record:
        raise _error('cannot replace %s: it does not exist.' % '/'.join(parts), index)
    else:
        record[key] = value


class Operation(NamedTuple):
    """One parsed operation; ``element_id`` is None for a header path."""

    index: int
    op: str
    parts: list
    element_id: Optional[str]
    value: Any


def _parse(operations):
    if not isinstance(operations, list):
        raise ValidationError('A patch must be a JSON list of operations.', 'patch')
    return [_parse_one(op, index) for index, op in enumerate(operations)]


def _parse_one(op, index):
    if not isinstance(op, dict) or op.get('op') not in OPS or not isinstance(
            op.get('path'), str):
        raise _error('each operation needs "op" (add, replace or remove) and "path".', index)
    if op['op'] != 'remove' and 'value' not in op:
        raise _error('%s needs a "value".' % op['op'], index)
    path = op['path'].strip('/')
    parts = path.split('/') if path else []
    element_id = None
    if parts and parts[0] == 'elements':
        element_id, parts = _element_path(parts, index)
    elif not parts:
        raise _error('the path is empty.', index)
    return Operation(index, op['op'], parts, element_id, copy.deepcopy(op.get('value')))


def _element_path(parts, index):
    """(element id, the path below the element) of ``elements/id:<id>/...``."""
    if len(parts) < 2 or not parts[1].startswith('id:'):
        raise _error('element paths are elements/id:<element id>[/field...].', index)
    element_id = parts[1][3:].lower()
    if len(element_id) != 24 or any(c not in '0123456789abcdef' for c in element_id):
        raise _error('%r is not an element id.' % element_id, index)
    return element_id, parts[2:]


def apply_patch(service, doc, operations):
    """The state of the next version after ``operations``; new chunks are already written."""
    ops = _parse(operations)
    header = _patched_header(doc['annotation'], ops)
    element_ops = [o for o in ops if o.element_id is not None]
    if not element_ops:
        state = store.state_of(doc)
    else:
        state = _patch_elements(service, doc, element_ops)
    state['annotation'] = header
    return state


def _patched_header(header, ops):
    """A copy of the header with the header operations applied, checked."""
    header = copy.deepcopy(header)
    for o in ops:
        if o.element_id is not None:
            continue
        if o.op == 'add' and len(o.parts) == 1 and header.get(o.parts[0]):
            raise _error('cannot add %s: it already exists.' % o.parts[0], o.index)
        _walk(header, o.parts, o.op, o.value, o.index)
    check_header(header)
    return header


def _patch_elements(service, doc, ops):
    """The state fields after the element operations: only touched chunks are rewritten."""
    table, id_arrays = service.element_ids(doc)
    where = _locate(id_arrays, dict.fromkeys(o.element_id for o in ops))
    affected = sorted({ci for ci, _ in where.values()})
    kept = np.ones(len(table), dtype=bool)
    kept[affected] = False
    writer = store.ChunkWriter(service.model, doc['_id'], service.settings,
                               first_order=doc.get('_maxOrder', 0),
                               overlay_size=service.overlay_size)
    try:
        current, meta = _load_targets(service, table, affected, where)
        new_elements = _apply_element_ops(ops, current)
        _rewrite(writer, table, affected, meta, current)
        for element in new_elements.values():
            writer.add(element, writer.next_order)
        new_table = _finish(writer, [id_arrays[ci] for ci in range(len(table)) if kept[ci]])
    except BaseException:
        writer.abort()
        raise
    result = table.select(kept)
    result.extend(new_table)
    removed_count = sum(meta[ci].n for ci in affected)
    removed_details = sum(int(meta[ci].details.sum()) for ci in affected)
    return {
        '_chunks': result.to_doc(),
        '_elementCount': int(doc['_elementCount'] - removed_count + writer.count),
        '_detailsCount': int(doc['_detailsCount'] - removed_details + writer.details),
        'bbox': result.total_box(),
        'groups': sorted(set(doc.get('groups') or ()) | writer.groups, key=str),
        '_maxOrder': int(writer.next_order),
        '_girderIds': sorted(set(doc.get('_girderIds') or ()) | writer.girder_ids),
    }


def _locate(id_arrays, targets):
    """Element id (hex) -> (chunk index, index in the chunk) of the targets that exist."""
    want = np.array([bytes.fromhex(e) for e in targets], dtype='S12')
    where = {}
    for ci, ids in enumerate(id_arrays):
        for ei in np.nonzero(np.isin(ids, want))[0]:
            where[chunks.hex_id(ids[ei])] = (ci, int(ei))
    return where


def _finish(writer, untouched):
    """Write the buffered chunks; ``untouched`` are the id arrays of the chunks kept."""
    if not untouched:
        return writer.finish(existing_ids=None, existing_orders=None)
    return writer.finish(
        existing_ids=np.concatenate(untouched),
        existing_orders=np.full(sum(len(a) for a in untouched), -1, dtype=np.int64))


def _apply_element_ops(ops, current):
    """Apply element operations to ``current`` (id -> element, None once removed);
    the elements that did not exist before, by id."""
    new_elements = {}
    for o in ops:
        if o.parts:
            _edit_element(o, current, new_elements)
        else:
            _set_element(o, current, new_elements)
    return new_elements


def _exists(element_id, current, new_elements):
    return current.get(element_id) is not None or element_id in new_elements


def _set_element(o, current, new_elements):
    """add, replace or remove a whole element."""
    live = _exists(o.element_id, current, new_elements)
    if o.op == 'add' and live:
        raise _error('cannot add element %s: it already exists.' % o.element_id, o.index)
    if o.op == 'replace' and not live:
        raise _error('cannot replace element %s: it does not exist.' % o.element_id, o.index)
    if o.op == 'remove':
        if o.element_id in current:
            current[o.element_id] = None
        new_elements.pop(o.element_id, None)
        return
    if not isinstance(o.value, dict):
        raise _error('an element must be a JSON object.', o.index)
    o.value['id'] = o.element_id
    (current if o.element_id in current else new_elements)[o.element_id] = o.value


def _edit_element(o, current, new_elements):
    """An operation on a field inside an element."""
    if not _exists(o.element_id, current, new_elements):
        raise _error('element %s does not exist.' % o.element_id, o.index)
    target = current if current.get(o.element_id) is not None else new_elements
    _walk(target[o.element_id], o.parts, o.op, o.value, o.index)


def _load_targets(service, table, affected, where):
    """Parsed copies of the targeted elements, and the arrays of the affected chunks."""
    current, meta = {}, {}
    by_chunk = {}
    for eid, (ci, ei) in where.items():
        by_chunk.setdefault(ci, []).append((eid, ei))
    ids = [table.ids[ci] for ci in affected]
    for ci, doc in zip(affected, store.iter_chunks(service.model, ids, None, 16)):
        chunk = chunks.Chunk(doc)
        chunk.texts = chunks.ChunkTexts(doc, store.load_parts(service.model, doc))
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


def touched_elements(operations):
    """{'added', 'changed', 'removed'}: the element ids a (valid) patch touched, for
    the ``annotation.update`` event (an element added and removed again is in none)."""
    state = {}
    for o in _parse(operations):
        if o.element_id is None:
            continue
        before = state.get(o.element_id)
        if o.parts or o.op == 'replace':
            state[o.element_id] = before or 'changed'
        elif o.op == 'add':
            state[o.element_id] = 'changed' if before == 'removed' else 'added'
        elif before == 'added':
            del state[o.element_id]
        else:
            state[o.element_id] = 'removed'
    out = {'added': [], 'changed': [], 'removed': []}
    for element_id, kind in state.items():
        out[kind].append(element_id)
    return out
