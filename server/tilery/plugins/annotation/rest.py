"""REST routes of the annotation plugin (Girder / large_image compatible)."""
import urllib.parse

from ...errors import RestError
from ...models import File, Folder, Item
from ...rest import DATA_SCOPES, PUBLIC, USER, ModelParam, Param, Raw, Resource, route
from .. import ADMIN, READ, WRITE
from . import imports, schema
from .formats import importer

QUERY_PARAMS = [
    Param('left', 'Left edge of the region (pixels).', type='number'),
    Param('right', 'Right edge (exclusive).', type='number'),
    Param('top', 'Top edge.', type='number'),
    Param('bottom', 'Bottom edge (exclusive).', type='number'),
    Param('low', 'Lowest z.', type='number'),
    Param('high', 'Highest z (exclusive).', type='number'),
    Param('minimumSize', 'Smallest bounding-box diagonal kept.', type='number'),
    Param('maxDetails', 'Cap on the total of element details (vertices).', type='integer',
          min=0),
    Param('sort', 'size, details or _id (default: document order).', enum=(
        'size', 'details', '_id', 'id')),
    Param('sortdir', '1 or -1.', type='integer', enum=(1, -1)),
    Param('limit', 'Most elements returned (0: all).', type='integer', min=0),
    Param('offset', 'Elements skipped.', type='integer', min=0),
    Param('centroids', 'Answer the packed binary centroids.', type='boolean'),
]
QUERY_KEYS = [p.name for p in QUERY_PARAMS]
ANNOTATION = ModelParam('id', 'The annotation id.', model='annotation', level=READ,
                        dest='annotation', location='path')


def mask_classes_header(names):
    """The class names for the Tilery-Mask-Classes header, each percent-encoded: names
    are user text, and a comma, CR/LF or non-Latin-1 letter would split the list, add
    headers, or fail the answer."""
    return ','.join(urllib.parse.quote(name, safe=' ') for name in names)


def _ann(level):
    return ModelParam('id', 'The annotation id.', model='annotation', level=level,
                      dest='annotation', location='path')


class AnnotationResource(Resource):
    prefix = 'annotation'
    # token scopes by verb as for Girder's data; ACL routes declare core.data.own
    default_scopes = DATA_SCOPES

    def __init__(self, app):
        self.app = app
        self.service = app.annotations
        self.model = app.models.annotation

    # -- helpers
    def _out(self, doc, user):
        return self.model.filter(doc, user)

    def _access_filter(self, user):
        return self.model.access_query(user, READ)

    def _require_annotate(self, item, user):
        folders = self.app.models.folder
        return folders.require_annotate(
            folders.load(item['folderId']), user,
            'Write access or the annotate flag is needed on the folder of item %s.'
            % item['_id'])

    def _element_answer(self, req, state_query, etag):
        if etag and req.headers.get('If-None-Match') == etag:
            return Raw(b'', 'application/json', 304, {'ETag': etag})
        query = state_query()
        headers = {'ETag': etag} if etag else {}
        return Raw(query.iter_answer(), query.content_type, 200, headers)

    @staticmethod
    def _query_params(kwargs):
        return {k: kwargs[k] for k in QUERY_KEYS if kwargs.get(k) is not None}

    # -- listing and creating
    @route('GET', '', response='Annotation[]',
           access=PUBLIC, paging='_id', summary='Search annotations.',
           params=[Param('itemId', type='objectid'), Param('userId', type='objectid'),
                   Param('text', 'Case-insensitive substring of name or description.'),
                   Param('name', 'Exact name.')])
    def find(self, req, paging, itemId=None, userId=None, text=None, name=None):
        if itemId is not None:
            item = self.app.models.item.load(itemId)
            self.app.models.item.require_access(item, req.user, READ)
        docs, total = self.service.find(itemId, userId, text, name, self._access_filter(req.user),
                                        paging.offset, paging.limit, paging.sort)
        req.set_total_count(total)
        return [self._out(d, req.user) for d in docs]

    @route('POST', '', response='Annotation',
           access=USER, raw_body=True, summary='Create an annotation (JSON body).',
           params=[ModelParam('itemId', model=Item, level=READ, dest='item')])
    def create(self, req, item):
        folder = self._require_annotate(item, req.user)
        body = req.body_file(limit=self.service.settings['max_upload_bytes'])
        doc = self.service.create(item, req.user, body, folder)
        return self._out(doc, req.user)

    @route('GET', 'schema', response='AnnotationJsonSchema',
           access=PUBLIC, summary='The annotation JSON schema (Draft 6).')
    def get_schema(self, req):
        return schema.schema()

    @route('GET', 'counts', response='AnnotationCounts',
           access=PUBLIC, summary='Annotation counts of items.',
           params=[Param('items', 'Comma-separated item ids.', required=True)])
    def counts(self, req, items):
        ids = [i for i in items.split(',') if i]
        for item_id in ids:
            self.app.models.item.require_access(self.app.models.item.load(item_id), req.user,
                                                READ)
        return self.service.counts(ids, self._access_filter(req.user))

    # -- one annotation
    @route('GET', ':id', access=PUBLIC, response='Annotation', cookie=True,
           params=[ANNOTATION] + QUERY_PARAMS,
           summary='An annotation with its elements (region, size, paging, centroids).',
           responses={304: 'Not modified (If-None-Match)'})
    def get(self, req, annotation, **kwargs):
        params = self._query_params(kwargs)
        return self._element_answer(
            req, lambda: self.service.query(self._visible(annotation, req.user), params),
            self.service.etag(annotation, params))

    def _visible(self, doc, user):
        out = self.model.filter(doc, user)
        out['_chunks'] = doc['_chunks']
        return out

    @route('PUT', ':id', response='Annotation', access=USER, raw_body=True, params=[
        _ann(WRITE), ModelParam('itemId', 'Move the annotation to this item.', model=Item,
                                level=READ, required=False, dest='item'),
        Param('version', 'Refuse (409) unless the annotation is at this version.',
              type='integer')], summary='Replace an annotation (elements kept if absent).')
    def update(self, req, annotation, item=None, version=None):
        if item is not None:
            self._require_annotate(item, req.user)
        # no body: keep header and elements (a move to another item, say)
        body = req.body_file(limit=self.service.settings['max_upload_bytes']) \
            if req.content_length else dict(annotation['annotation'])
        doc = self.service.update(annotation['_id'], body, req.user, version, item)
        return self._out(doc, req.user)

    @route('PATCH', ':id', access=USER, json_body='list', params=[
        _ann(WRITE), Param('version', 'The version the operations were made against: when '
                           'older, they are merged into the current one unless what they '
                           'touch changed since (409 naming each conflict).', type='integer')],
        summary='Patch header fields and elements by id (204; the new version in a header).',
        responses={204: 'Patched; the new version in Tilery-Annotation-Version'})
    def patch(self, req, annotation, body, version=None):
        doc = self.service.patch(annotation['_id'], body, req.user, version)
        # large_image answers 204 without a body; the version lets a client chain edits
        return Raw(b'', 'application/json', 204,
                   {'Tilery-Annotation-Version': str(doc['_version'])})

    @route('DELETE', ':id', response='Message', access=USER, params=[_ann(WRITE)],
           summary='Delete an annotation (it can be undone by a revert).')
    def delete(self, req, annotation):
        self.service.delete(annotation['_id'], req.user)
        return {'message': 'Deleted annotation %s.' % annotation['_id']}

    @route('GET', ':id/access', response='AnnotationAccess',
           access=USER, scope='core.data.own', params=[_ann(ADMIN)],
           summary='The ACL.')
    def get_access(self, req, annotation):
        return {'access': annotation.get('access'), 'public': annotation.get('public', False)}

    @route('PUT', ':id/access', response='Annotation', access=USER, scope='core.data.own', params=[
        _ann(ADMIN), Param('access', type='json', json_types=(dict,), required=True),
        Param('public', type='boolean')], summary='Set the ACL.')
    def set_access(self, req, annotation, access, public=None):
        return self._out(self.service.set_access(annotation['_id'], access, public), req.user)

    @route('POST', ':id/copy', response='Annotation', access=USER, params=[
        _ann(READ), ModelParam('itemId', model=Item, level=READ, dest='item', required=True)],
        summary='Copy an annotation to an item.')
    def copy(self, req, annotation, item):
        folder = self._require_annotate(item, req.user)
        return self._out(self.service.copy(annotation['_id'], item, req.user, folder), req.user)

    @route('GET', ':id/history', response='AnnotationVersion[]', access=PUBLIC, params=[
        _ann(READ), Param('limit', type='integer', min=0, default=0),
        Param('offset', type='integer', min=0, default=0)], summary='Saved versions.')
    def history(self, req, annotation, limit=0, offset=0):
        return self.service.history(annotation['_id'], offset, limit)

    @route('GET', ':id/history/:version', response='AnnotationVersion',
           access=PUBLIC, cookie=True, params=[
        _ann(READ), Param('version', type='integer', location='path')] + QUERY_PARAMS,
        summary='One saved version with its elements.')
    def history_version(self, req, annotation, version, **kwargs):
        params = self._query_params(kwargs)
        return self._element_answer(
            req, lambda: self.service.query_version(annotation['_id'], version, params), None)

    @route('PUT', ':id/history/revert', response='Annotation', access=USER, params=[
        _ann(WRITE), Param('version', type='integer')],
        summary='Revert to a version (a new version); without one, undelete.')
    def revert(self, req, annotation, version=None):
        return self._out(self.service.revert(annotation['_id'], version, req.user), req.user)

    @route('PUT', ':id/metadata', response='Annotation', access=USER, json_body='object', params=[
        _ann(WRITE), Param('allowNull', type='boolean', default=False)],
        summary='Merge keys into annotation.attributes (null deletes).')
    def set_metadata(self, req, annotation, body, allowNull=False):
        return self._out(self.service.set_metadata(annotation['_id'], body, req.user, allowNull),
                         req.user)

    @route('DELETE', ':id/metadata', response='Annotation',
           access=USER, json_body='list', params=[_ann(WRITE)],
           summary='Remove keys from annotation.attributes.')
    def delete_metadata(self, req, annotation, body):
        return self._out(self.service.delete_metadata(annotation['_id'], body, req.user),
                         req.user)

    # -- exports
    @route('GET', ':id/geojson', access=PUBLIC, cookie=True, params=[ANNOTATION] + QUERY_PARAMS,
           summary='The elements as a GeoJSON FeatureCollection.')
    def geojson(self, req, annotation, **kwargs):
        body = importer.export_geojson(self.service, annotation, self._query_params(kwargs))
        return Raw(body, 'application/geo+json', 200, {
            'Content-Disposition': 'attachment; filename="%s.geojson"' % annotation['_id']})

    @route('GET', ':id/iid', access=PUBLIC, cookie=True, params=[
        ANNOTATION, Param('scale', type='number', default=1.0, min=1e-6)],
        summary='The area elements as an .iid file of masks.')
    def iid(self, req, annotation, scale=1.0):
        data = importer.export_iid(self.service, annotation, scale)
        return Raw(data, 'application/octet-stream', 200, {
            'Content-Disposition': 'attachment; filename="%s.iid"' % annotation['_id']})

    @route('GET', ':id/mask', access=PUBLIC, cookie=True, params=[
        ANNOTATION, Param('width', type='integer', min=1, required=True),
        Param('height', type='integer', min=1, required=True),
        Param('scale', type='number', default=1.0, min=1e-6),
        Param('format', enum=('png', 'tiff'), default='png'),
        Param('classes', 'JSON list of class names, in index order.', type='json',
              json_types=(list,))], summary='A label mask (pixel value = class index); '
        'Tilery-Mask-Classes lists the class names, percent-encoded, in index order.')
    def mask(self, req, annotation, width, height, scale=1.0, format='png', classes=None):
        data, names = importer.export_mask(self.service, annotation, width, height, scale,
                                           format, classes)
        return Raw(data, 'image/png' if format == 'png' else 'image/tiff', 200,
                   {'Tilery-Mask-Classes': mask_classes_header(names)})

    # -- per item and per folder
    @route('GET', 'item/:id', response='Annotation[]', access=PUBLIC, cookie=True, params=[
        ModelParam('id', model=Item, level=READ, dest='item', location='path')],
        summary="All of an item's annotations with their elements.")
    def item_annotations(self, req, item):
        docs, _ = self.service.find(item['_id'], access_filter=self._access_filter(req.user),
                                    limit=0)
        loaded = [self.model.load(d['_id']) for d in docs]

        def body():
            yield b'['
            for n, doc in enumerate(loaded):
                if n:
                    yield b',\n'
                yield from self.service.query(self._visible(doc, req.user), {}).iter_json()
            yield b']'
        return Raw(body(), 'application/json')

    @route('POST', 'item/:id', response='integer', access=USER, raw_body=True, params=[
        ModelParam('id', model=Item, level=READ, dest='item', location='path')],
        summary='Create several annotations on an item (a JSON list).')
    def item_create(self, req, item):
        folder = self._require_annotate(item, req.user)
        body = req.body_file(limit=self.service.settings['max_upload_bytes'])
        docs = self.service.create_many(item, req.user, body, folder)
        return len(docs)

    @route('POST', 'item/:id/mask', response='Job', access=USER, raw_body=True, params=[
        ModelParam('id', model=Item, level=READ, dest='item', location='path'),
        ModelParam('fileId', 'A stored mask file to read (without it, the body is the image).',
                   model=File, level=READ, dest='file', required=False),
        Param('scale', 'The mask size over the slide size (0.25: a quarter-size mask).',
              type='number', default=1.0, min=1e-6),
        Param('classes', 'JSON: a list of class names for values 1, 2, ...; or an object '
              'mapping mask values to a name or {name, fillColor, lineColor}, and then only '
              'those values are imported. Default: every non-zero value, as "class N".',
              type='json', json_types=(list, dict)),
        Param('name', 'The name of the new annotation.', default='Label mask')],
        summary='Import a label mask (PNG/TIFF of class values) as polygons, by a job; '
        'answers the job (GET /job/:id: progress, then meta.annotationIds).')
    def item_mask(self, req, item, file=None, scale=1.0, classes=None, name='Label mask'):
        self._require_annotate(item, req.user)
        if file is None:
            limit = self.service.settings['max_upload_bytes']
            if req.content_length > limit:
                raise RestError('The mask is larger than the %d byte limit.' % limit, 413)
        job = imports.queue_mask_import(
            self.app, item, req.user, body=req.body_file() if file is None else None,
            file=file, classes=classes, scale=scale, name=name)
        return self.app.jobs.model.filter(job)

    @route('DELETE', 'item/:id', response='integer', access=USER, params=[
        ModelParam('id', model=Item, level=READ, dest='item', location='path')],
        summary="Delete the item's annotations the caller may write.")
    def item_delete(self, req, item):
        docs, _ = self.service.find(item['_id'], access_filter=self.model.access_query(
            req.user, WRITE), limit=0)
        for doc in docs:
            self.service.delete(doc['_id'], req.user)
        return len(docs)

    def _folder_ids(self, folder, recurse):
        folders = self.app.models.folder
        return folders.subtree_ids(folder) if recurse else [folder['_id']]

    @route('GET', 'folder/:id', response='Annotation[]', access=PUBLIC, paging='created', params=[
        ModelParam('id', model=Folder, level=READ, dest='folder', location='path'),
        Param('recurse', type='boolean', default=False)],
        summary='Annotations on the items of a folder.')
    def folder_list(self, req, folder, paging, recurse=False):
        docs, total = self.service.in_folders(self._folder_ids(folder, recurse),
                                              self._access_filter(req.user), paging.offset,
                                              paging.limit, paging.sort)
        req.set_total_count(total)
        return [self._out(d, req.user) for d in docs]

    @route('GET', 'folder/:id/present', response='boolean', access=PUBLIC, params=[
        ModelParam('id', model=Folder, level=READ, dest='folder', location='path'),
        Param('recurse', type='boolean', default=True)],
        summary='Whether the items of a folder have annotations the caller can see.')
    def folder_present(self, req, folder, recurse=True):
        _, total = self.service.in_folders(self._folder_ids(folder, recurse),
                                           self._access_filter(req.user), limit=1)
        return total > 0

    @route('GET', 'folder/:id/create', response='boolean', access=USER, params=[
        ModelParam('id', model=Folder, level=READ, dest='folder', location='path')],
        summary='Whether the caller may create annotations in a folder.')
    def folder_can_create(self, req, folder):
        return self.app.models.folder.can_annotate(folder, req.user)

    @route('PUT', 'folder/:id/access', response='Updated',
           access=USER, scope='core.data.own', params=[
        ModelParam('id', model=Folder, level=READ, dest='folder', location='path'),
        Param('access', type='json', json_types=(dict,), required=True),
        Param('public', type='boolean'), Param('recurse', type='boolean', default=False)],
        summary="Set the ACL of every annotation in a folder the caller administers.")
    def folder_access(self, req, folder, access, public=None, recurse=False):
        docs, _ = self.service.in_folders(self._folder_ids(folder, recurse),
                                          self.model.access_query(req.user, ADMIN))
        for doc in docs:
            self.service.set_access(doc['_id'], access, public)
        return {'updated': len(docs)}

    @route('DELETE', 'folder/:id', response='AnnotationsDeleted', access=USER, params=[
        ModelParam('id', model=Folder, level=READ, dest='folder', location='path'),
        Param('recurse', type='boolean', default=False)],
        summary='Delete the annotations in a folder the caller administers.')
    def folder_delete(self, req, folder, recurse=False):
        docs, _ = self.service.in_folders(self._folder_ids(folder, recurse),
                                          self.model.access_query(req.user, ADMIN))
        for doc in docs:
            self.service.delete(doc['_id'], req.user)
        return {'deleted': len(docs)}


class AnnotationAdminResource(Resource):
    """Maintenance routes: admin-only, and without a token scope (full access needed)."""

    prefix = 'annotation'

    def __init__(self, app):
        self.service = app.annotations

    @route('DELETE', 'orphans', response='OrphansRemoved',
           summary='Remove chunks that no version refers to and no '
           'live ingest owns (left by ingests that died with their process).')
    def remove_orphans(self, req):
        return self.service.remove_orphans()
