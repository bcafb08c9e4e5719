"""Element queries: region, size and detail filters, sorting, paging and the two answers.

The chunk table (kept in the annotation document) picks the chunks whose box overlaps
the region; only their arrays are read to filter elements with numpy, and only the
chunks holding selected elements have their JSON fetched, a few at a time, so even a
million-element answer streams in bounded memory.
"""
import datetime
import hashlib
import json
import math

import numpy as np
import orjson
from bson import ObjectId

from ...errors import RestError
from . import chunks, store

# query key -> (box column, comparison); large_image's semantics: an element is kept
# when its box overlaps [left, right) x [top, bottom) x [low, high)
BOUNDS = {
    'left': (3, 'ge'), 'right': (0, 'lt'),
    'top': (4, 'ge'), 'bottom': (1, 'lt'),
    'low': (5, 'ge'), 'high': (2, 'lt'),
}
SORT_KEYS = {None: 'order', '': 'order', 'order': 'order', '_id': 'id', 'id': 'id',
             'size': 'size', 'details': 'details'}
SORT_NAMES = {'order': 'order', 'id': '_id', 'size': 'bbox.size', 'details': 'bbox.details'}
CENTROID_DTYPE = np.dtype([('id', 'S12'), ('x', '<f4'), ('y', '<f4'), ('size', '<f4'),
                           ('style', '<i4')])
TEXT_BLOCK = 20000   # elements joined per yielded piece
FETCH_BATCH = 32     # chunk JSON documents fetched per round trip


def _number(params, key, kind=float, minimum=None):
    value = params.get(key)
    if value is None or value == '':
        return None
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise RestError('Parameter %s must be a %s.' % (key, 'number' if kind is float else
                                                         'whole number'))
    if kind is float and not math.isfinite(value):
        raise RestError('Parameter %s must be finite.' % key)
    if minimum is not None and value < minimum:
        raise RestError('Parameter %s must be at least %s.' % (key, minimum))
    return value


def _bool(value):
    if isinstance(value, bool) or value is None:
        return bool(value)
    return str(value).lower() in ('true', '1', 'yes')


def parse_params(params):
    """Normalise element-query parameters (strings from a URL, or Python values)."""
    params = params or {}
    out = {key: _number(params, key) for key in BOUNDS}
    out['minimumSize'] = _number(params, 'minimumSize')
    sort = params.get('sort')
    if sort not in SORT_KEYS:
        raise RestError('Parameter sort must be one of size, details or _id.')
    out['sort'] = SORT_KEYS[sort]
    sortdir = _number(params, 'sortdir', int)
    if sortdir not in (None, 1, -1):
        raise RestError('Parameter sortdir must be 1 or -1.')
    out['sortdir'] = sortdir or 1
    out['limit'] = _number(params, 'limit', int, 0) or 0
    out['offset'] = _number(params, 'offset', int, 0) or 0
    out['maxDetails'] = _number(params, 'maxDetails', int, 0) or 0
    out['centroids'] = _bool(params.get('centroids'))
    return out


def etag(state, params):
    """A strong validator: annotation id, version and the normalised query."""
    key = json.dumps([str(state.get('annotationId', state['_id'])), state['_version'],
                      state.get('_active', True), sorted(parse_params(params).items())],
                     default=str)
    return '"%s"' % hashlib.sha256(key.encode()).hexdigest()[:40]


def _default(value):
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.isoformat()
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    raise TypeError('Cannot serialise %r' % type(value))


def dumps(value):
    """JSON the way large_image frames element answers: sorted keys, default separators."""
    return json.dumps(value, sort_keys=True, default=_default, allow_nan=False).encode()


class ElementQuery:
    """The elements of one annotation state matching a query, ready to stream."""

    def __init__(self, db, state, public_doc, params):
        self.db = db
        self.state = state
        self.doc = public_doc
        self.params = parse_params(params)
        self.info = None
        self._select()

    def _filter_info(self):
        p = self.params
        flt = {'annotationId': str(self.state.get('annotationId', self.state['_id'])),
               '_version': self.state['_version']}
        names = {'left': 'bbox.highx', 'right': 'bbox.lowx', 'top': 'bbox.highy',
                 'bottom': 'bbox.lowy', 'low': 'bbox.highz', 'high': 'bbox.lowz'}
        for key, (_, op) in BOUNDS.items():
            if self._active(key):
                flt[names[key]] = {'$gte' if op == 'ge' else '$lt': p[key]}
        if self._active('minimumSize'):
            flt['bbox.size'] = {'$gte': p['minimumSize']}
        return flt

    def _active(self, key):
        value = self.params[key]
        # as in large_image, a lower bound of 0 or less filters nothing
        if value is None:
            return False
        return not ((key in ('left', 'top', 'low', 'minimumSize')) and value <= 0)

    def _in_bounds(self, box):
        """Which rows of ``box`` (n x 6: low x, y, z, high x, y, z) overlap the region."""
        mask = np.ones(len(box), dtype=bool)
        for key, (col, op) in BOUNDS.items():
            if self._active(key):
                value = self.params[key]
                mask &= (box[:, col] >= value) if op == 'ge' else (box[:, col] < value)
        return mask

    def _select(self):
        table = store.ChunkTable.from_doc(self.state.get('_chunks'))
        self.table = table.select(self._in_bounds(table.box))
        parts = {k: [] for k in ('chunk', 'index', 'order', 'size', 'details', 'ids', 'centre',
                                 'style')}
        style_map = {}
        for ci, doc in enumerate(store.iter_chunks(self.db, self.table.ids, chunks.ARRAY_FIELDS)):
            self._gather(ci, chunks.Chunk(doc), parts, style_map)
        self.props = [list(s) for s in style_map]
        self.cat = {k: (np.concatenate(v) if v else None) for k, v in parts.items()}
        count = 0 if self.cat['order'] is None else len(self.cat['order'])
        self.selection, details = self._sorted_page() if count else (
            np.zeros(0, dtype=np.int64), 0)
        self.info = self._answer_info(count, details)

    def _gather(self, ci, chunk, parts, style_map):
        """Append the arrays of chunk ``ci``'s matching elements to ``parts``."""
        p = self.params
        box = chunk.box
        mask = self._in_bounds(box)
        size = chunks.sizes(box)
        if self._active('minimumSize'):
            mask &= size >= p['minimumSize']
        index = np.nonzero(mask)[0]
        if not len(index):
            return
        if not p['centroids']:  # where the JSON texts are
            parts['chunk'].append(np.full(len(index), ci, dtype=np.int32))
            parts['index'].append(index.astype(np.int32))
        parts['order'].append(chunk.order[index])
        parts['size'].append(size[index])
        parts['details'].append(chunk.details[index])
        if p['centroids'] or p['sort'] == 'id':
            parts['ids'].append(chunk.ids[index])
        if p['centroids']:
            # only the float32 centres are sent: keeping whole boxes took 6x the memory
            centre = np.empty((len(index), 2), dtype=np.float32)
            centre[:, 0] = (box[index, 0] + box[index, 3]) * 0.5
            centre[:, 1] = (box[index, 1] + box[index, 4]) * 0.5
            parts['centre'].append(centre)
            # chunk-local style numbers -> one table for the whole answer
            local = np.array([style_map.setdefault(s, len(style_map))
                              for s in chunk.styles], dtype=np.int32)
            parts['style'].append(local[chunk.style[index]])

    def _sorted_page(self):
        """(positions in ``self.cat`` in answer order after paging and maxDetails, details)."""
        p, cat = self.params, self.cat
        key = {'order': cat['order'], 'size': cat['size'], 'details': cat['details'],
               'id': cat['ids']}[p['sort']]
        if p['sort'] in ('order', 'id'):
            sort = np.argsort(key, kind='stable')
            if p['sortdir'] < 0:
                sort = sort[::-1]
        else:
            sort = np.lexsort((cat['order'], key if p['sortdir'] > 0 else -key))
        sort = sort[p['offset']:]
        if p['limit']:
            sort = sort[:p['limit']]
        det = (np.ones(len(sort), dtype=np.int64) if p['centroids']
               else cat['details'][sort].astype(np.int64))
        if p['maxDetails'] and len(sort):
            cum = np.cumsum(det)
            # keep elements until the running total reaches maxDetails (that one included)
            stop = int(np.searchsorted(cum, p['maxDetails'], side='left')) + 1
            sort, det = sort[:stop], det[:stop]
        return sort, int(det.sum())

    def _answer_info(self, count, details):
        """The ``_elementQuery`` object of the answer."""
        p = self.params
        info = {'count': count, 'returned': int(len(self.selection)), 'details': details,
                'offset': p['offset'], 'filter': self._filter_info(),
                'sort': [SORT_NAMES[p['sort']], p['sortdir']]}
        if p['limit']:
            info['limit'] = p['limit']
        if p['maxDetails']:
            info['maxDetails'] = p['maxDetails']
        if p['centroids']:
            info.update({'centroids': True, 'props': self.props,
                         'propskeys': list(chunks.STYLE_KEYS)})
        return info

    def _frame(self):
        doc = dict(self.doc)
        doc['annotation'] = dict(doc.get('annotation') or {}, elements=[])
        text = dumps(doc)
        head, tail = text.split(b'"elements": [', 1)
        tail = tail.rstrip()
        return head + b'"elements": [', tail[:-1]  # drop the closing brace: _elementQuery follows

    def _query_info(self):
        return b', "_elementQuery": ' + dumps(self.info) + b'}'

    def iter_json(self):
        """The answer as JSON bytes pieces: the document with its selected elements."""
        head, tail = self._frame()
        yield head
        first = True
        for piece in self.iter_element_texts():
            yield piece if first else b',' + piece
            first = False
        yield tail
        yield self._query_info()

    def iter_element_texts(self):
        """Comma-joined JSON texts of the selected elements, a block at a time."""
        sel = self.selection
        if not len(sel):
            return
        chunk_of = self.cat['chunk'][sel]
        index_of = self.cat['index'][sel]
        last_use = {}
        for pos, ci in enumerate(chunk_of.tolist()):
            last_use[ci] = pos
        loaded = {}
        for start in range(0, len(sel), TEXT_BLOCK):
            block_chunks = chunk_of[start:start + TEXT_BLOCK]
            block_index = index_of[start:start + TEXT_BLOCK]
            need = [ci for ci in dict.fromkeys(block_chunks.tolist()) if ci not in loaded]
            self._load_texts(need, loaded)
            texts = [loaded[ci].text(i) for ci, i in
                     zip(block_chunks.tolist(), block_index.tolist())]
            yield b','.join(texts)
            end = start + len(block_chunks)
            for ci in [ci for ci in loaded if last_use[ci] < end]:
                del loaded[ci]

    def _load_texts(self, chunk_indexes, loaded):
        for start in range(0, len(chunk_indexes), FETCH_BATCH):
            batch = chunk_indexes[start:start + FETCH_BATCH]
            ids = [self.table.ids[ci] for ci in batch]
            projection = {'json': 1, 'parts': 1, 'offsets': 1}
            for ci, doc in zip(batch, store.iter_chunks(self.db, ids, projection, FETCH_BATCH)):
                loaded[ci] = chunks.ChunkTexts(doc, store.load_parts(self.db, doc))

    def centroid_bytes(self):
        """28 bytes per selected element: id, centre x, centre y, size (0 for points), style."""
        sel = self.selection
        out = np.zeros(len(sel), dtype=CENTROID_DTYPE)
        if len(sel):
            centre = self.cat['centre'][sel]
            out['id'] = self.cat['ids'][sel]
            out['x'] = centre[:, 0]
            out['y'] = centre[:, 1]
            del centre
            size = self.cat['size'][sel]
            styles = self.cat['style'][sel]
            point_styles = np.array([s[0] == 'point' for s in self.props] or [False])
            out['size'] = np.where(point_styles[styles], 0, size)
            out['style'] = styles
        return out.tobytes()

    def iter_centroids(self):
        """The binary centroid answer: JSON head, NUL, records, NUL, JSON tail."""
        head, tail = self._frame()
        yield head + b'\x00'
        yield self.centroid_bytes()
        yield b'\x00' + tail
        yield self._query_info()

    def iter_answer(self):
        """The answer the client asked for (centroids or JSON)."""
        return self.iter_centroids() if self.params['centroids'] else self.iter_json()

    @property
    def content_type(self):
        return 'application/octet-stream' if self.params['centroids'] else 'application/json'

    def elements(self):
        """The selected elements parsed into dicts, one at a time (exports use this)."""
        for piece in self.iter_element_texts():
            yield from orjson.loads(b'[' + piece + b']')
