"""Collections, the chunk table of a version, and the streaming chunk writer."""
import array
import concurrent.futures

import numpy as np
import orjson
from bson import Binary, ObjectId

from ...errors import ValidationError
from ...settings import Settings
from . import chunks
from .validate import check_element

ANNOTATION = 'annotation'
VERSION = 'annotation_version'
CHUNK = 'annotation_chunk'
PART = 'annotation_chunk_part'
INGEST = 'annotation_ingest'  # in-flight markers of running ingests (see orphans.py)

# The fields of an annotation document that one saved version holds (its header and
# its elements' chunk table with their totals); versions copy exactly these.
STATE_FIELDS = ('annotation', '_chunks', '_elementCount', '_detailsCount', 'bbox', 'groups',
                '_maxOrder', '_girderIds')
# Stored fields the API never shows.
INTERNAL_FIELDS = ('_chunks', '_maxOrder', '_girderIds', '_importJob')

DEFAULT_SETTINGS = {
    # measured on 1M rectangles (bench/bench_annotations_engine.py): 1000-element chunks
    # made ~1% region queries 3x faster than 2000 (p95 43 ms against 187 ms)
    'chunk_size': 1000,          # elements per chunk document
    'batch_size': 200000,        # elements buffered and spatially sorted together
    'history_keep': None,        # keep only the newest N versions (None: keep all)
    'max_upload_bytes': 1536 << 20,  # largest annotation body or file accepted
    'max_mask_pixels': 400 << 20,    # largest label mask rendered
    'max_json_depth': Settings.max_json_depth,  # the app passes its own setting
}


def state_of(doc):
    """The version state (``STATE_FIELDS``) of an annotation or version document."""
    return {k: doc[k] for k in STATE_FIELDS if k in doc}


def ensure_indexes(db):
    """Create the indexes the annotation collections rely on."""
    db[ANNOTATION].create_index([('itemId', 1), ('_active', 1)])
    db[ANNOTATION].create_index([('creatorId', 1)])
    db[ANNOTATION].create_index([('folderId', 1)])
    db[VERSION].create_index([('annotationId', 1), ('_version', 1)], unique=True)
    db[CHUNK].create_index([('annotationId', 1)])
    db[PART].create_index([('chunkId', 1)])
    db[INGEST].create_index([('annotationId', 1)])


class ChunkTable:
    """The chunks of one version: ids, bounding boxes, element counts and batches."""

    def __init__(self, ids=(), box=None, count=None, batch=None):
        self.ids = list(ids)
        self.box = np.zeros((0, 6)) if box is None else np.asarray(box, dtype='<f8').reshape(-1, 6)
        self.count = np.zeros(0, dtype='<i4') if count is None else np.asarray(count, '<i4')
        self.batch = np.zeros(0, dtype='<i4') if batch is None else np.asarray(batch, '<i4')

    @classmethod
    def from_doc(cls, doc):
        """Decode the binary table stored in an annotation or version document."""
        if not doc:
            return cls()
        raw = bytes(doc['ids'])
        ids = [ObjectId(raw[i:i + 12]) for i in range(0, len(raw), 12)]
        return cls(ids, np.frombuffer(doc['box'], dtype='<f8'),
                   np.frombuffer(doc['count'], dtype='<i4'),
                   np.frombuffer(doc['batch'], dtype='<i4'))

    def to_doc(self):
        return {'ids': Binary(b''.join(oid.binary for oid in self.ids)),
                'box': Binary(self.box.astype('<f8').tobytes()),
                'count': Binary(self.count.astype('<i4').tobytes()),
                'batch': Binary(self.batch.astype('<i4').tobytes())}

    def append(self, doc, box):
        self.ids.append(doc['_id'])
        self.box = np.vstack([self.box, box[None, :]])
        self.count = np.append(self.count, np.int32(doc['n']))
        self.batch = np.append(self.batch, np.int32(doc['batch']))

    def extend(self, other):
        self.ids.extend(other.ids)
        self.box = np.vstack([self.box, other.box])
        self.count = np.concatenate([self.count, other.count])
        self.batch = np.concatenate([self.batch, other.batch])

    def select(self, keep):
        """A table of the chunks where the boolean array ``keep`` is true."""
        keep = np.asarray(keep, dtype=bool)
        return ChunkTable([i for i, k in zip(self.ids, keep) if k], self.box[keep],
                          self.count[keep], self.batch[keep])

    def __len__(self):
        return len(self.ids)

    def total_box(self):
        """{lowx, lowy, lowz, highx, highy, highz} over all chunks, or None."""
        if not len(self.ids):
            return None
        low, high = self.box[:, :3].min(axis=0), self.box[:, 3:].max(axis=0)
        return dict(zip(chunks.BOX_FIELDS, [float(v) for v in list(low) + list(high)]))


class PackedBuffer:
    """Elements waiting to be sorted and written, packed into flat arrays.

    About 100 bytes an element plus its JSON (arrays grow ahead). Lists of per-element
    Python objects cost ~4.6 KB an element (orjson's bytes keep a 4 KB allocation each,
    a tuple of six floats ~250 B): a 200,000-element batch took ~0.9 GB.
    """

    __slots__ = ('ids', 'box', 'details', 'order', 'style', 'text', 'ends')

    def __init__(self):
        self.ids = bytearray()      # 12 bytes an element
        self.box = array.array('d')  # 6 doubles an element
        self.details = array.array('q')
        self.order = array.array('q')
        self.style = array.array('q')  # index into the writer's style table
        self.text = bytearray()      # the compact JSON texts, end to end
        self.ends = array.array('Q')  # where each element's text ends

    def __len__(self):
        return len(self.order)

    def append(self, raw_id, box, details, order, style, text):
        self.ids += raw_id
        self.box.extend(box)
        self.details.append(details)
        self.order.append(order)
        self.style.append(style)
        self.text += text
        self.ends.append(len(self.text))

    def arrays(self):
        """(ids S12, box (n, 6), details, order, style, ends) as numpy arrays."""
        return (np.frombuffer(self.ids, dtype='S12'),
                np.frombuffer(self.box, dtype=np.float64).reshape(-1, 6),
                np.frombuffer(self.details, dtype=np.int64),
                np.frombuffer(self.order, dtype=np.int64),
                np.frombuffer(self.style, dtype=np.int64),
                np.frombuffer(self.ends, dtype=np.uint64))


MAX_OVERLAY_LOOKUPS = 256  # distinct overlay items sized per ingest (a lookup each)


def _bounded_lookup(overlay_size):
    """``overlay_size`` asked once per item id, and for at most MAX_OVERLAY_LOOKUPS ids.

    An overlay's size costs a database read and an image open; an upload of many
    overlays of one image asks once, and a hostile one naming a million items gets
    zero boxes past the budget instead of a million reads.
    """
    known = {}

    def size(item_id):
        if item_id not in known:
            if len(known) >= MAX_OVERLAY_LOOKUPS:
                return None
            known[item_id] = overlay_size(item_id)
        return known[item_id]
    return size


class ChunkWriter:
    """Validates elements one by one and writes them as spatially grouped chunks.

    Nothing written is visible until a version document lists the chunks; ``abort``
    deletes what was written, so a failure half-way leaves no trace.
    """

    def __init__(self, db, annotation_id, settings, first_order=0, first_batch=0,
                 overlay_size=None):
        self.db = db
        self.annotation_id = annotation_id
        self.chunk_size = int(settings['chunk_size'])
        self.batch_size = int(settings['batch_size'])
        self.overlay_size = _bounded_lookup(overlay_size) if overlay_size else None
        self.next_order = first_order
        self.batch = first_batch
        self.table = ChunkTable()
        self.count = self.details = 0
        self.groups = set()
        self.girder_ids = set()
        self.written = []
        self._ids = []      # per chunk: S12 arrays, for the duplicate check at the end
        self._orders = []
        self._ids_maker = chunks.IdMaker()
        self._pending = None
        self._pool = concurrent.futures.ThreadPoolExecutor(1)
        self._styles = []  # distinct style tuples; the buffer keeps an index into this
        self._style_index = {}
        self._reset()

    def _reset(self):
        self._buf = PackedBuffer()

    def add(self, element, index, order=None):
        """Validate one element (``index`` is its position, for error messages) and buffer it."""
        check_element(element, index)
        eid = element.get('id')
        if eid is None:
            eid = element['id'] = self._ids_maker.next()
        box = chunks.element_box(element, self.overlay_size)
        if order is None:
            order = self.next_order
            self.next_order += 1
        group = element.get('group')
        if group is not None:
            self.groups.add(group)
        if 'girderId' in element:
            self.girder_ids.add(element['girderId'])
        self._append(bytes.fromhex(eid), box[:6], box[6], order, chunks.style_key(element),
                     orjson.dumps(element))

    def add_encoded(self, eid, box, details, order, style, text):
        """Buffer an element that is already validated and encoded (chunk rewrites)."""
        self._append(bytes.fromhex(eid), box, details, order, style, text)

    def _append(self, raw_id, box, details, order, style, text):
        style_index = self._style_index.get(style)
        if style_index is None:
            style_index = self._style_index[style] = len(self._styles)
            self._styles.append(style)
        self._buf.append(raw_id, box, details, order, style_index, text)
        self.count += 1
        self.details += details
        if len(self._buf) >= self.batch_size:
            self.flush()

    def flush(self):
        """Sort the buffered elements along a Hilbert curve and write them as chunks."""
        buf = self._buf
        if not len(buf):
            return
        self._reset()
        self._wait()
        self._pending = self._pool.submit(self._write, buf, self.batch)
        self.batch += 1

    def _write(self, buf, batch):
        ids, box, details, order, style, ends = buf.arrays()
        starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
        lengths = ends.astype(np.int64) - starts
        text = memoryview(buf.text)
        curve = chunks.hilbert_order((box[:, 0] + box[:, 3]) * 0.5, (box[:, 1] + box[:, 4]) * 0.5)
        docs, parts, boxes = [], [], []
        start, total = 0, len(curve)
        while start < total:
            # cut by count, and also by JSON bytes so one chunk stays far below 16 MB
            end = min(start + self.chunk_size, total)
            size = np.cumsum(lengths[curve[start:end]])
            end = start + max(1, int(np.searchsorted(size, chunks.MAX_INLINE_JSON * 2)))
            end = min(end, total)
            sel = np.sort(curve[start:end])  # buffer (document) order inside a chunk
            doc, doc_parts = chunks.encode(
                self.annotation_id, batch, ids[sel], box[sel], details[sel], order[sel],
                [self._styles[s] for s in style[sel].tolist()],
                [text[a:b] for a, b in zip(starts[sel].tolist(), ends[sel].tolist())])
            docs.append(doc)
            parts.extend(doc_parts)
            boxes.append(np.concatenate([box[sel, :3].min(axis=0), box[sel, 3:].max(axis=0)]))
            start = end
        text.release()
        self.written.extend(doc['_id'] for doc in docs)
        self.written.extend(part['_id'] for part in parts)
        if parts:
            self.db[PART].insert_many(parts, ordered=False)
        self.db[CHUNK].insert_many(docs, ordered=False)
        for doc, chunk_box in zip(docs, boxes):
            self.table.append(doc, chunk_box)
            self._ids.append(np.frombuffer(doc['ids'], dtype='S12'))
            self._orders.append(np.frombuffer(doc['order'], dtype='<i8'))

    def _wait(self):
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def finish(self, existing_ids=None, existing_orders=None):
        """Write what is buffered, check ids are unique, and return the chunk table."""
        self.flush()
        self._wait()
        self._pool.shutdown()
        ids = self._ids + ([existing_ids] if existing_ids is not None else [])
        orders = self._orders + ([existing_orders] if existing_orders is not None else [])
        if ids:
            check_unique_ids(np.concatenate(ids), np.concatenate(orders))
        return self.table

    def abort(self):
        """Delete every chunk written so far."""
        try:
            self._wait()
        except Exception:
            pass
        self._pool.shutdown()
        delete_chunks(self.db, self.written)
        self.written = []


def check_unique_ids(ids, orders):
    """Raise ValidationError naming two elements that share an id."""
    if len(ids) < 2:
        return
    sort = np.argsort(ids, kind='stable')
    sorted_ids = ids[sort]
    dup = np.nonzero(sorted_ids[1:] == sorted_ids[:-1])[0]
    if len(dup):
        a, b = sorted((int(orders[sort[dup[0]]]), int(orders[sort[dup[0] + 1]])))
        raise ValidationError(
            'Duplicate element id %s (elements %d and %d); ids must be unique in an '
            'annotation.' % (chunks.hex_id(sorted_ids[dup[0]]), a, b), 'elements/%d/id' % b)


def delete_chunks(db, ids):
    """Remove chunk documents (and their JSON parts) by id."""
    ids = list(ids)
    for start in range(0, len(ids), 1000):
        batch = ids[start:start + 1000]
        db[PART].delete_many({'chunkId': {'$in': batch}})
        db[CHUNK].delete_many({'_id': {'$in': batch}})


def iter_chunks(db, ids, projection, batch=64):
    """Chunk documents by id, in the order asked, fetched ``batch`` at a time."""
    ids = list(ids)
    for start in range(0, len(ids), batch):
        part = ids[start:start + batch]
        docs = {doc['_id']: doc for doc in db[CHUNK].find({'_id': {'$in': part}}, projection)}
        for cid in part:
            yield docs[cid]


def load_parts(db, doc):
    """The JSON part documents of a chunk stored in parts, in order."""
    if 'parts' not in doc:
        return None
    parts = {p['_id']: p['data'] for p in db[PART].find({'_id': {'$in': doc['parts']}})}
    return [parts[pid] for pid in doc['parts']]
