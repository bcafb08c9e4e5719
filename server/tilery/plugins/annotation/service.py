"""The annotation service: create, read, version, edit, share and delete annotations.

Storage (see store.py and chunks.py): ``annotation`` holds one small document per
annotation (its current header, ACL and chunk table), ``annotation_version`` one per
saved version, ``annotation_chunk`` the immutable element chunks that versions share.
Every save writes its new chunks first and makes them visible last, by inserting the
version document (unique on annotation and version) and then moving the annotation
document from the version it was read at: two concurrent saves cannot both win, and
the loser's chunks are deleted (409).
"""
import copy
import logging

import numpy as np
import pymongo
from bson import ObjectId

from ...errors import Conflict, NotFound, ValidationError
from .. import ADMIN, icase_contains, now, to_object_id as object_id
from . import merge, orphans, query, store, streams
from .settings import options
from .store import INTERNAL_FIELDS, STATE_FIELDS
from .validate import check_header

log = logging.getLogger(__name__)
NO_ELEMENTS = {'added': [], 'changed': [], 'removed': []}  # a change of the header only


class AnnotationService:
    """Annotations of items, stored in chunks through the registered Annotation model."""

    def __init__(self, model, settings=None, overlay_size=None, feed=None):
        self.model = model  # model.Annotation: the collections and the access rules
        self.feed = feed  # app.feed: where changes are announced to live viewers
        self.settings = options(**(settings or {}))
        self.overlay_size = overlay_size  # item id -> (sizeX, sizeY), for image elements
        self.annotations = model.collection
        self.versions = model.versions
        self.sweeper = None  # the orphan sweep started with the server (orphans.Sweeper)
        self.in_flight = orphans.InFlight(model)  # marks ingests running in this process

    # -- reading
    def load(self, annotation_id, active_only=False):
        """The stored annotation document; 404 when missing (or deleted, if ``active_only``)."""
        doc = self.annotations.find_one({'_id': object_id(annotation_id)})
        if doc is None or (active_only and doc.get('_active') is False):
            raise NotFound('Annotation not found: %s.' % annotation_id)
        return doc

    @staticmethod
    def public(doc):
        """The annotation as the API shows it (no chunk table or internal fields)."""
        return {k: v for k, v in doc.items() if k not in INTERNAL_FIELDS}

    def query(self, doc, params=None):
        """An ElementQuery over the annotation's current elements."""
        return query.ElementQuery(self.model, doc, self.public(doc), params)

    def etag(self, doc, params=None):
        """The ETag of an element answer."""
        return query.etag(doc, params)

    def find(self, item_id=None, creator_id=None, text=None, name=None, access_filter=None,
             offset=0, limit=50, sort=None):
        """(documents, total) of active annotations matching the filters."""
        clauses = [{'_active': {'$ne': False}}]
        if item_id is not None:
            clauses.append({'itemId': object_id(item_id, 'item')})
        if creator_id is not None:
            clauses.append({'creatorId': object_id(creator_id, 'user')})
        if text:
            clauses.append({'$or': [{'annotation.name': icase_contains(text)},
                                    {'annotation.description': icase_contains(text)}]})
        if name is not None:
            clauses.append({'annotation.name': name})
        if access_filter:
            clauses.append(access_filter)
        flt = {'$and': clauses} if len(clauses) > 1 else clauses[0]
        projection = {k: 0 for k in INTERNAL_FIELDS}
        total = self.annotations.count_documents(flt)
        cursor = self.annotations.find(flt, projection).sort(sort or [('_id', 1)]).skip(offset)
        if limit:
            cursor = cursor.limit(limit)
        return list(cursor), total

    def counts(self, item_ids, access_filter=None):
        """{item id: number of active annotations}, plus ``referenced`` for overlay targets."""
        result = {}
        for item_id in item_ids:
            oid = object_id(item_id, 'item')
            flt = {'itemId': oid, '_active': {'$ne': False}}
            if access_filter:
                flt = {'$and': [flt, access_filter]}
            result[str(item_id)] = self.annotations.count_documents(flt)
            if self.annotations.find_one({'_girderIds': str(oid), '_active': {'$ne': False}},
                                         {'_id': 1}):
                result.setdefault('referenced', {})[str(item_id)] = True
        return result

    # -- creating
    def create(self, item, creator, document, folder=None, public=None, import_job=None):
        """Create an annotation on ``item`` from a dict or a byte stream; returns the document.

        The annotation takes the folder's ACL and public flag and its creator gets ADMIN.
        ``import_job`` marks it as made by that import job (see ``purge_import``).
        """
        source = self._source(document)
        header = self._header(source.header)
        annotation_id = ObjectId()
        with self.in_flight.track(annotation_id):
            doc = self._create(annotation_id, item, creator, source, header, folder, public,
                               import_job)
        self._announce('create', doc, creator)
        return doc

    def _create(self, annotation_id, item, creator, source, header, folder, public,
                import_job):
        state = self._ingest(annotation_id, source.elements())
        created = now()
        doc = {
            '_id': annotation_id, 'itemId': item['_id'], 'folderId': item.get('folderId'),
            'creatorId': creator['_id'], 'created': created, 'updated': created,
            'updatedId': creator['_id'], '_version': 1, '_active': True,
            'access': copy.deepcopy((folder or {}).get('access') or {'users': [], 'groups': []}),
            'public': bool((folder or {}).get('public', False) if public is None else public),
            'annotation': header,
        }
        doc['access'].setdefault('users', [])
        doc['access'].setdefault('groups', [])
        doc['access']['users'] = [e for e in doc['access']['users']
                                  if e.get('id') != creator['_id']]
        doc['access']['users'].append({'id': creator['_id'], 'level': ADMIN, 'flags': []})
        doc.update(state)
        if import_job is not None:
            doc['_importJob'] = import_job
        try:
            self.versions.insert_one(self._version_doc(doc, created, creator['_id']))
            self.annotations.insert_one(doc)
        except BaseException:
            self.versions.delete_many({'annotationId': annotation_id})
            store.delete_chunks(self.model, store.ChunkTable.from_doc(state['_chunks']).ids)
            raise
        return doc

    def create_many(self, item, creator, stream_or_list, folder=None):
        """Create every annotation of a list (or single object); returns the documents."""
        if isinstance(stream_or_list, list):
            sources = [streams.LoadedAnnotation(entry) for entry in stream_or_list]
        elif isinstance(stream_or_list, dict):
            sources = [streams.LoadedAnnotation(stream_or_list)]
        else:
            sources = streams.open_annotations(stream_or_list, self.settings['max_upload_bytes'],
                                               self.settings['max_json_depth'])
        return [self.create(item, creator, source, folder) for source in sources]

    def _source(self, document):
        if hasattr(document, 'elements') and hasattr(document, 'header'):
            return document  # a parsed source (streams.py, formats/importer.py)
        if isinstance(document, dict):
            return streams.LoadedAnnotation(document)
        if hasattr(document, 'read'):
            sources = streams.open_annotations(document, self.settings['max_upload_bytes'],
                                               self.settings['max_json_depth'])
            source = next(iter(sources))
            if not isinstance(source, streams.StreamedAnnotation):
                raise ValidationError('Expected one annotation object, not a list.', 'body')
            return source
        raise ValidationError('An annotation must be a JSON object.', 'annotation')

    @staticmethod
    def _header(header, default_name=True):
        header = dict(header)
        if default_name and not header.get('name'):
            header['name'] = now().strftime('Annotation %Y-%m-%d %H:%M')
        check_header(header)
        return header

    def _ingest(self, annotation_id, elements, first_order=0):
        """Validate and write elements as chunks; the state fields of a new version."""
        writer = store.ChunkWriter(self.model, annotation_id, self.settings,
                                   first_order=first_order, overlay_size=self.overlay_size)
        try:
            for index, element in enumerate(elements):
                writer.add(element, index)
            table = writer.finish()
        except BaseException:
            writer.abort()
            raise
        return self._state(table, writer.count, writer.details, writer.groups,
                           writer.next_order, writer.girder_ids)

    @staticmethod
    def _state(table, count, details, groups, max_order, girder_ids):
        return {'_chunks': table.to_doc(), '_elementCount': int(count),
                '_detailsCount': int(details), 'bbox': table.total_box(),
                'groups': sorted(groups, key=str), '_maxOrder': int(max_order),
                '_girderIds': sorted(girder_ids)}

    @staticmethod
    def _version_doc(doc, when, user_id):
        version = {k: doc[k] for k in STATE_FIELDS if k in doc}
        version.update({'annotationId': doc['_id'], '_version': doc['_version'],
                        'itemId': doc['itemId'], 'created': doc['created'], 'updated': when,
                        'updatedId': user_id, 'creatorId': doc['creatorId']})
        return version

    # -- saving new versions
    def _save(self, doc, state, user, extra=None):
        """Make ``state`` the next version of ``doc``; 409 if ``doc`` is no longer current."""
        when = now()
        new = dict(doc, **state)
        new.update(extra or {})
        new.update({'_version': doc['_version'] + 1, 'updated': when,
                    'updatedId': user['_id'] if user else doc.get('updatedId')})
        try:
            self.versions.insert_one(self._version_doc(new, when, new['updatedId']))
        except pymongo.errors.DuplicateKeyError:
            raise Conflict('The annotation changed (now past version %d); reload it and try '
                           'again.' % doc['_version'])
        changes = {k: new[k] for k in new if k != '_id'}
        result = self.annotations.update_one(
            {'_id': doc['_id'], '_version': doc['_version']}, {'$set': changes})
        if not result.matched_count:
            self.versions.delete_one({'annotationId': doc['_id'], '_version': new['_version']})
            raise Conflict('The annotation changed while saving; reload it and try again.')
        self._prune(new)
        return new

    def _check_version(self, doc, expected_version):
        if expected_version is not None and int(expected_version) != doc['_version']:
            raise Conflict('Version %s is stale: the annotation is at version %d.' % (
                expected_version, doc['_version']))

    def _save_with_chunks(self, doc, state, user, extra=None):
        try:
            return self._save(doc, state, user, extra)
        except BaseException:
            old = set(store.ChunkTable.from_doc(doc.get('_chunks')).ids)
            new = store.ChunkTable.from_doc(state['_chunks']).ids
            store.delete_chunks(self.model, [cid for cid in new if cid not in old])
            raise

    def update(self, annotation_id, document, user, expected_version=None, item=None):
        """Replace the annotation (PUT). Without ``elements`` the elements are kept."""
        doc = self.load(annotation_id)
        self._check_version(doc, expected_version)
        with self.in_flight.track(doc['_id']):
            new, replaced = self._update(doc, document, user, item)
        # new elements replace the old ones wholesale: viewers reload (no element ids)
        self._announce('update', new, user, None if replaced else NO_ELEMENTS)
        return new

    def _update(self, doc, document, user, item):
        source = self._source(document)
        header = self._header(source.header)
        extra = {}
        if item is not None:
            extra = {'itemId': item['_id'], 'folderId': item.get('folderId')}
        if source.has_elements:
            state = self._ingest(doc['_id'], source.elements())
        else:
            state = {k: doc[k] for k in STATE_FIELDS if k in doc}
            state['_chunks'] = doc['_chunks']
        state['annotation'] = header
        if source.has_elements:
            return self._save_with_chunks(doc, state, user, extra), True
        return self._save(doc, state, user, extra), False

    def patch(self, annotation_id, operations, user, expected_version=None):
        """Apply a JSON-patch-like list (see patch.py), retried on a race.

        With ``expected_version`` older than the current version, the operations are
        merged into the current one when nothing they touch changed since (merge.py);
        otherwise a MergeConflict (409) says what did, and nothing is written.
        """
        from .patch import apply_patch, touched_elements
        for attempt in range(3):
            doc = self.load(annotation_id)
            if expected_version is not None and int(expected_version) != doc['_version']:
                base = merge.base_state(self, doc, int(expected_version))
                merge.check_mergeable(self, doc, base, operations)
            try:
                with self.in_flight.track(doc['_id']):
                    state = apply_patch(self, doc, operations)
                    new = self._save_with_chunks(doc, state, user)
                break
            except Conflict:  # saved by someone else meanwhile: merge onto theirs
                if attempt == 2:
                    raise
        self._announce('update', new, user, touched_elements(operations))
        return new

    def set_metadata(self, annotation_id, metadata, user, allow_null=False):
        """Merge keys into ``annotation.attributes`` (a null value deletes the key)."""
        if not isinstance(metadata, dict):
            raise ValidationError('Metadata must be a JSON object.', 'metadata')
        for key in metadata:
            if not isinstance(key, str) or not key or key.startswith('$') or '.' in key:
                raise ValidationError('Invalid metadata key %r: keys may not be empty, start '
                                      'with "$" or contain ".".' % key, 'metadata')
        doc = self.load(annotation_id, active_only=True)
        header = dict(doc['annotation'])
        attributes = dict(header.get('attributes') or {})
        for key, value in metadata.items():
            if value is None and not allow_null:
                attributes.pop(key, None)
            else:
                attributes[key] = value
        header['attributes'] = attributes
        check_header(header)
        new = self._save(doc, {'annotation': header}, user)
        self._announce('update', new, user, NO_ELEMENTS)
        return new

    def delete_metadata(self, annotation_id, fields, user):
        """Remove keys from ``annotation.attributes``."""
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise ValidationError('Fields must be a JSON list of strings.', 'fields')
        return self.set_metadata(annotation_id, {f: None for f in fields}, user)

    def set_access(self, annotation_id, access, public=None, public_flags=None):
        """Replace the ACL (and public flag); not versioned, like Girder's."""
        clean = self.model.parse_access(access)
        changes = {'access': clean}
        if public is not None:
            changes['public'] = bool(public)
        if public_flags is not None:
            changes['publicFlags'] = list(public_flags)
        doc = self.model.update_and_get({'_id': object_id(annotation_id)}, {'$set': changes},
                                        after=True)
        if doc is None:
            raise NotFound('Annotation not found: %s.' % annotation_id)
        return doc

    # -- deleting and history
    def delete(self, annotation_id, user=None):
        """Deactivate the annotation (undo with ``undelete`` or ``revert``)."""
        doc = self.load(annotation_id)
        self.annotations.update_one({'_id': doc['_id']}, {'$set': {'_active': False}})
        doc = dict(doc, _active=False)
        self._announce('delete', doc, user)
        return doc

    def undelete(self, annotation_id, user=None):
        """Reactivate a deleted annotation."""
        doc = self.load(annotation_id)
        self.annotations.update_one({'_id': doc['_id']}, {'$set': {'_active': True}})
        doc = dict(doc, _active=True)
        self._announce('revert', doc, user)
        return doc

    def delete_for_item(self, item_id):
        """Deactivate every annotation of an item (called when the item is deleted)."""
        result = self.annotations.update_many(
            {'itemId': object_id(item_id, 'item'), '_active': {'$ne': False}},
            {'$set': {'_active': False}})
        return result.modified_count

    def item_moved(self, item_id, folder_id):
        """Keep the folder of an item's annotations current after the item moves."""
        self.annotations.update_many({'itemId': object_id(item_id, 'item')},
                                     {'$set': {'folderId': folder_id}})

    def purge(self, annotation_id):
        """Remove an annotation for good: its document, versions and chunks."""
        oid = object_id(annotation_id)
        ids = [c['_id'] for c in self.model.chunks.find({'annotationId': oid}, {'_id': 1})]
        store.delete_chunks(self.model, ids)
        self.versions.delete_many({'annotationId': oid})
        self.annotations.delete_one({'_id': oid})

    def purge_import(self, item_id, job_id):
        """Remove what an import job made on an item before it was interrupted; the count."""
        found = list(self.annotations.find(
            {'itemId': object_id(item_id, 'item'), '_importJob': job_id}, {'_id': 1}))
        for doc in found:
            self.purge(doc['_id'])
        return len(found)

    def remove_orphans(self, min_age=orphans.DEFAULT_MIN_AGE):
        """Delete chunks no version refers to and no live ingest may claim; the counts."""
        return orphans.remove_orphans(self.model, self.in_flight, min_age)

    def history(self, annotation_id, offset=0, limit=0, sortdir=-1):
        """The saved versions, newest first: header fields and counts, no elements."""
        doc = self.load(annotation_id)
        cursor = self.versions.find({'annotationId': doc['_id']}, {k: 0 for k in INTERNAL_FIELDS})
        cursor = cursor.sort('_version', sortdir).skip(offset)
        if limit:
            cursor = cursor.limit(limit)
        return [self.public_version(v, doc) for v in cursor]

    @staticmethod
    def public_version(version, doc):
        out = {k: v for k, v in version.items() if k not in INTERNAL_FIELDS}
        out['_id'] = version['annotationId']
        out['_versionId'] = version['_id']
        out['_active'] = doc.get('_active', True) if version['_version'] == doc['_version'] \
            else True
        out.pop('annotationId', None)
        for key in ('access', 'public'):
            if key in doc:
                out[key] = doc[key]
        return out

    def version(self, annotation_id, version):
        """(state, public document) of one saved version, for an element query."""
        doc = self.load(annotation_id)
        saved = self.versions.find_one({'annotationId': doc['_id'], '_version': int(version)})
        if saved is None:
            raise NotFound('Annotation %s has no version %s.' % (annotation_id, version))
        state = dict(saved, _id=doc['_id'])
        return state, self.public_version(saved, doc)

    def query_version(self, annotation_id, version, params=None):
        """An ElementQuery over one saved version."""
        state, public = self.version(annotation_id, version)
        return query.ElementQuery(self.model, state, public, params)

    def revert(self, annotation_id, version=None, user=None):
        """Make an old version current again (a new version); undelete when none is given."""
        doc = self.load(annotation_id)
        if version is None:
            if doc.get('_active') is False:
                return self.undelete(annotation_id, user)
            version = doc['_version'] - 1
        state, _ = self.version(annotation_id, version)
        state = {k: state[k] for k in STATE_FIELDS if k in state}
        new = self._save(doc, state, user, {'_active': True})
        self._announce('revert', new, user)
        return new

    def _announce(self, kind, doc, user=None, elements=None):
        """Publish ``annotation.<kind>`` to the viewers of the annotation's item (one
        event a change, however many elements it wrote); a failure never undoes it."""
        if self.feed is None:
            return
        data = {'annotationId': doc['_id'], 'itemId': doc['itemId'],
                'version': doc['_version'],
                'userId': user['_id'] if user else doc.get('updatedId'),
                'name': (doc.get('annotation') or {}).get('name')}
        if elements is not None:
            data['elements'] = elements
        try:
            self.feed.publish('annotation.' + kind, data,
                              scope={'type': 'item', 'id': doc['itemId']})
        except Exception:
            log.exception('The change of annotation %s could not be announced', doc['_id'])

    def _prune(self, doc):
        keep = self.settings.get('history_keep')
        if not keep:
            return
        cutoff = doc['_version'] - int(keep)
        old = list(self.versions.find({'annotationId': doc['_id'], '_version': {'$lte': cutoff}},
                                      {'_chunks': 1}))
        if not old:
            return
        kept = set()
        for version in self.versions.find({'annotationId': doc['_id'],
                                           '_version': {'$gt': cutoff}}, {'_chunks': 1}):
            kept.update(store.ChunkTable.from_doc(version.get('_chunks')).ids)
        drop = set()
        for version in old:
            drop.update(store.ChunkTable.from_doc(version.get('_chunks')).ids)
        self.versions.delete_many({'_id': {'$in': [v['_id'] for v in old]}})
        store.delete_chunks(self.model, drop - kept)

    # -- copies and folders
    def copy(self, annotation_id, item, user, folder=None):
        """A new annotation on ``item`` with the same header and elements (chunks copied)."""
        doc = self.load(annotation_id, active_only=True)
        new_id = ObjectId()
        with self.in_flight.track(new_id):
            return self._copy(doc, new_id, item, user, folder)

    def _copy(self, doc, new_id, item, user, folder):
        table = store.ChunkTable.from_doc(doc['_chunks'])
        new_ids = []
        try:
            for chunk in store.iter_chunks(self.model, table.ids, None, 16):
                parts = store.load_parts(self.model, chunk)
                chunk = dict(chunk, _id=ObjectId(), annotationId=new_id)
                if parts is not None:
                    part_docs = [{'_id': ObjectId(), 'chunkId': chunk['_id'], 'data': data}
                                 for data in parts]
                    chunk['parts'] = [p['_id'] for p in part_docs]
                    self.model.parts.insert_many(part_docs)
                new_ids.append(chunk['_id'])
                self.model.chunks.insert_one(chunk)
            table.ids = new_ids
            state = {k: doc[k] for k in STATE_FIELDS if k in doc}
            state['_chunks'] = table.to_doc()
            return self._create_from_state(new_id, item, user, folder, state)
        except BaseException:
            store.delete_chunks(self.model, new_ids)
            raise

    def _create_from_state(self, annotation_id, item, user, folder, state):
        created = now()
        doc = {'_id': annotation_id, 'itemId': item['_id'], 'folderId': item.get('folderId'),
               'creatorId': user['_id'], 'created': created, 'updated': created,
               'updatedId': user['_id'], '_version': 1, '_active': True,
               'access': copy.deepcopy((folder or {}).get('access') or {'users': [], 'groups': []}),
               'public': bool((folder or {}).get('public', False))}
        doc['access'].setdefault('groups', [])
        doc['access']['users'] = [e for e in doc['access'].get('users', [])
                                  if e.get('id') != user['_id']]
        doc['access']['users'].append({'id': user['_id'], 'level': ADMIN, 'flags': []})
        doc.update(state)
        self.versions.insert_one(self._version_doc(doc, created, user['_id']))
        self.annotations.insert_one(doc)
        self._announce('create', doc, user)
        return doc

    def in_folders(self, folder_ids, access_filter=None, offset=0, limit=0, sort=None):
        """(documents, total) of active annotations on items in any of the folders."""
        flt = {'folderId': {'$in': [object_id(f, 'folder') for f in folder_ids]},
               '_active': {'$ne': False}}
        if access_filter:
            flt = {'$and': [flt, access_filter]}
        total = self.annotations.count_documents(flt)
        cursor = self.annotations.find(flt, {k: 0 for k in INTERNAL_FIELDS})
        cursor = cursor.sort(sort or [('created', -1)]).skip(offset)
        if limit:
            cursor = cursor.limit(limit)
        return list(cursor), total

    def element_ids(self, doc):
        """(chunk table, per-chunk S12 id arrays) of the current version."""
        table = store.ChunkTable.from_doc(doc['_chunks'])
        ids = [np.frombuffer(c['ids'], dtype='S12')
               for c in store.iter_chunks(self.model, table.ids, {'ids': 1, 'order': 1})]
        return table, ids
