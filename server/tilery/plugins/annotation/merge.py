"""Element-level merge of a PATCH written against an older version (issue 13).

A client that patched version V while a colleague saved V+1 does not have to reload:
its operations are applied to the current version when none of the elements (or header
fields) they touch changed between V and now. Otherwise nothing is written and the
409 names each element both sides touched, as it was at V (``base``), as it is now
(``theirs``) and as the caller's operations would leave it (``mine``), so the client
can keep theirs, keep mine or keep both.
"""
import copy

import orjson

from ...errors import Conflict
from . import chunks, store
from .patch import _apply_element_ops, _locate, _parse, _walk


class MergeConflict(Conflict):
    """409: the operations touch elements or header fields changed since ``version``."""

    type = 'conflict'

    def __init__(self, message, version, conflicts):
        super().__init__(message)
        self.version = version
        self.conflicts = conflicts

    def to_json(self):
        return dict(super().to_json(), field='version', version=self.version,
                    conflicts=self.conflicts)


def base_state(service, doc, version):
    """The stored state of ``version`` of the annotation; 409 when it cannot serve as a
    base (newer than the current one, or pruned from the history)."""
    if version > doc['_version'] or version < 1:
        raise MergeConflict('Version %d does not exist: the annotation is at version %d.'
                            % (version, doc['_version']), doc['_version'], [])
    saved = service.versions.find_one({'annotationId': doc['_id'], '_version': version})
    if saved is None:
        raise MergeConflict('Version %d is no longer in the history; reload the '
                            'annotation.' % version, doc['_version'], [])
    return saved


def check_mergeable(service, doc, base, operations):
    """Raise MergeConflict unless no target of ``operations`` changed from ``base`` to
    ``doc`` (the current version)."""
    ops = _parse(operations)
    element_ids = list(dict.fromkeys(o.element_id for o in ops if o.element_id))
    fields = list(dict.fromkeys(o.parts[0] for o in ops if o.element_id is None))
    then = elements_by_id(service, base, element_ids)
    now = elements_by_id(service, doc, element_ids)
    conflicts = [_element_conflict(eid, then[eid], now[eid], ops)
                 for eid in element_ids if then[eid] != now[eid]]
    conflicts += [_field_conflict(key, base['annotation'], doc['annotation'], ops)
                  for key in fields
                  if base['annotation'].get(key) != doc['annotation'].get(key)]
    if conflicts:
        raise MergeConflict(
            'Since version %d, %d of the elements or fields this patch touches changed '
            '(the annotation is at version %d): nothing was saved.' % (
                base['_version'], len(conflicts), doc['_version']),
            doc['_version'], conflicts)


def _element_conflict(eid, base, theirs, ops):
    mine_ops = [o for o in ops if o.element_id == eid]
    current = {eid: copy.deepcopy(base)} if base is not None else {}
    added = _apply_element_ops(copy.deepcopy(mine_ops), current)
    return {'id': eid, 'base': base, 'theirs': theirs,
            'mine': current.get(eid) if eid in current else added.get(eid)}


def _field_conflict(key, base, theirs, ops):
    """A header field both sides changed (``field`` instead of an element ``id``)."""
    mine = copy.deepcopy(base)
    for o in ops:
        if o.element_id is None and o.parts[0] == key:
            _walk(mine, o.parts, o.op, copy.deepcopy(o.value), o.index)
    return {'field': key, 'base': base.get(key), 'theirs': theirs.get(key),
            'mine': mine.get(key)}


def elements_by_id(service, state, element_ids):
    """{element id: the element in ``state`` (a version or annotation), None if absent}."""
    found = dict.fromkeys(element_ids)
    if not element_ids:
        return found
    table, id_arrays = service.element_ids(state)
    where = _locate(id_arrays, element_ids)
    by_chunk = {}
    for eid, (ci, ei) in where.items():
        by_chunk.setdefault(ci, []).append((eid, ei))
    wanted = sorted(by_chunk)
    for ci, doc in zip(wanted, store.iter_chunks(service.model, [table.ids[c] for c in wanted],
                                                 None, 16)):
        texts = chunks.ChunkTexts(doc, store.load_parts(service.model, doc))
        for eid, ei in by_chunk[ci]:
            found[eid] = orjson.loads(texts.text(ei))
    return found
