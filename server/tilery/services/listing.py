"""Paged listings of a folder's children without rescanning them for every page.

The database reads every child of a folder to count them and to skip to a page (see
database.py), so a 1000-item folder cost two full scans a page. Instead the sorted
child ids are kept in an in-process cache with the parent's ``listVersion``, which
every change to the parent's children increments (after the change, so a reader who
sees the new version also sees the change). A page is then one bounded ``_id``
lookup. Several server processes stay correct: each compares its cached version with
the one stored in the parent document.

The cache holds one version per listing: a newer version replaces the older one at
once. (Keyed by version, a folder receiving uploads while someone pages through it
left one stale copy of its whole listing per upload until the LRU reached them:
the server grew by ~80 MB a minute under a mixed load.) Its bound is in rows, all
listings together (``listing_cache_rows``), so a few huge folders cannot hold more
memory than many small ones.
"""
import threading

import cachetools

#: sort fields whose order only changes when a child is added, removed or renamed
CACHEABLE_SORTS = ('lowerName', 'name', '_id', 'created')


class ListingCache:
    """Sorted child rows of recently listed parents, at most ``max_rows`` rows in all."""

    def __init__(self, max_rows, stats):
        self.stats = stats
        self._entries = cachetools.LRUCache(max(1, max_rows),
                                            getsizeof=lambda entry: len(entry[1]) + 1)
        self._lock = threading.Lock()

    def page(self, model, parent, query, paging, fields=(), visible=None):
        """(documents, total) of one page, or None when the sort cannot be cached."""
        (field, direction), = paging.sort if len(paging.sort) == 1 else ((None, 1),)
        if field not in CACHEABLE_SORTS:
            return None
        rows = self._rows(model, parent, query, field, direction, fields)
        if visible is not None:
            rows = [row for row in rows if visible(row)]
        chosen = rows[paging.offset:paging.offset + paging.limit if paging.limit else None]
        ids = [row['_id'] for row in chosen]
        docs = {d['_id']: d for d in model.collection.find({'_id': {'$in': ids}})} \
            if ids else {}
        return [docs[i] for i in ids if i in docs], len(rows)

    def _rows(self, model, parent, query, field, direction, fields):
        """The sorted child rows of ``parent``: cached, or read and cached."""
        key = (model.model_type, parent['_id'], field, direction,
               tuple(sorted(query.items())))
        version = parent.get('listVersion', 0)
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] == version:
            self.stats.hit()
            return entry[1]
        self.stats.miss()
        projection = dict.fromkeys(('_id',) + tuple(fields), 1)
        rows = list(model.collection.find(query, projection).sort([(field, direction)]))
        with self._lock:
            current = self._entries.get(key)
            # two readers may race: the newer version stays
            if current is None or current[0] < version:
                try:
                    self._entries[key] = (version, rows)
                except ValueError:  # one listing larger than the whole cache
                    self._entries.pop(key, None)
        return rows

    def clear(self):
        with self._lock:
            self._entries.clear()

    def info(self):
        """How many listings and rows are held, and the bound on rows."""
        with self._lock:
            return {'listings': len(self._entries), 'rows': self._entries.currsize,
                    'max_rows': self._entries.maxsize}
