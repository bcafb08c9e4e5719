"""Paged listings of a folder's children without rescanning them for every page.

The database reads every child of a folder to count them and to skip to a page (see
database.py), so a 1000-item folder cost two full scans a page. Instead the sorted
child ids are kept in a bounded in-process cache keyed by the parent's
``listVersion``, which every change to the parent's children increments (after the
change, so a reader who sees the new version also sees the change). A page is then
one bounded ``_id`` lookup. Several server processes stay correct: each keys its
cache on the version stored in the parent document.
"""
import collections
import threading

#: sort fields whose order only changes when a child is added, removed or renamed
CACHEABLE_SORTS = ('lowerName', 'name', '_id', 'created')


class ListingCache:
    def __init__(self, size=512):
        self.size = size
        self._entries = collections.OrderedDict()
        self._lock = threading.Lock()

    def page(self, model, parent, query, paging, fields=(), visible=None):
        """(documents, total) of one page, or None when the sort cannot be cached."""
        (field, direction), = paging.sort if len(paging.sort) == 1 else ((None, 1),)
        if field not in CACHEABLE_SORTS:
            return None
        key = (model.model_type, parent['_id'], parent.get('listVersion', 0), field,
               direction, tuple(sorted(query.items())))
        with self._lock:
            rows = self._entries.get(key)
            if rows is not None:
                self._entries.move_to_end(key)
        if rows is None:
            projection = dict.fromkeys(('_id',) + tuple(fields), 1)
            rows = list(model.collection.find(query, projection).sort([(field, direction)]))
            with self._lock:
                self._entries[key] = rows
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        if visible is not None:
            rows = [row for row in rows if visible(row)]
        chosen = rows[paging.offset:paging.offset + paging.limit if paging.limit else None]
        ids = [row['_id'] for row in chosen]
        docs = {d['_id']: d for d in model.collection.find({'_id': {'$in': ids}})} \
            if ids else {}
        return [docs[i] for i in ids if i in docs], len(rows)

    def clear(self):
        with self._lock:
            self._entries.clear()
