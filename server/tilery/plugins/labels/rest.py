"""REST routes of the labels plugin: masks per user and item, classes, superpixels."""
from ...models import Folder, Item
from ...rest import DATA_SCOPES, PUBLIC, USER, ModelParam, Param, Raw, Resource, route
from .. import READ, WRITE, content_disposition, file_download, zip_stream

ITEM = ModelParam('itemId', model=Item, level=READ, dest='item')


class ItemLabelsResource(Resource):
    default_scopes = DATA_SCOPES
    prefix = 'item/:itemId'

    def __init__(self, app, service):
        self.app = app
        self.service = service

    def _may_label(self, req, item):
        folders = self.app.models.folder
        folders.require_annotate(folders.load(item['folderId']), req.user,
                                 'You may not label images in this folder.')

    @route('GET', 'labels', response='LabelMask[]', access=PUBLIC, params=[ITEM],
           summary="The label masks on an item (one per labeller).")
    def masks(self, req, item):
        return self.service.masks(item)

    @route('PUT', 'labels', response='LabelMask', access=USER, raw_body=True, summary=(
        'Save your label mask for this item (body: a PNG of class indices).'), params=[
        ITEM, Param('status', 'checkpoint (work in progress) or done.', enum=(
            'checkpoint', 'done'), default='checkpoint')])
    def save(self, req, item, status):
        self._may_label(req, item)
        data = req.read_body(self.service.max_mask_bytes)
        return self.service.save_mask(item, req.user, data, status)

    @route('GET', 'labels/:userId', access=PUBLIC, cookie=True, params=[
        ITEM, Param('userId', type='objectid', dest='user_id')],
        summary="One labeller's mask as a PNG.")
    def get_mask(self, req, item, user_id):
        file = self.service.mask_file(item, user_id)
        return file_download(self.app.models.file, file, disposition='inline')

    @route('DELETE', 'labels/:userId', response='Message', access=USER, params=[
        ITEM, Param('userId', type='objectid', dest='user_id')],
        summary="Delete a labeller's mask (your own, or any with write access).")
    def delete_mask(self, req, item, user_id):
        if user_id != req.user['_id']:
            self.app.models.item.require_access(item, req.user, WRITE)
        else:
            self._may_label(req, item)
        self.service.delete_mask(item, user_id)
        return {'message': 'Deleted the label mask.'}

    @route('GET', 'superpixels', access=PUBLIC, cookie=True, summary=(
        'Superpixels of a region as a PNG whose pixels encode ids (r + 256g + 65536b).'),
        params=[ITEM, Param('left', type='number', min=0), Param('top', type='number', min=0),
                Param('right', type='number', min=0), Param('bottom', type='number', min=0),
                Param('maxSize', 'Largest side of the answer in pixels.', 'integer',
                      default=1024, min=16, dest='max_size'),
                Param('algorithm', enum=('slic', 'felzenszwalb', 'quickshift', 'watershed'),
                      default='slic'),
                Param('nSegments', type='integer', default=400, min=2, max=100000,
                      dest='n_segments'),
                Param('compactness', type='number', default=10.0, min=0.001, max=1000)])
    def superpixels(self, req, item, left, top, right, bottom, max_size, algorithm,
                    n_segments, compactness):
        png, count, scale = self.service.superpixels(
            item, left, top, right, bottom, max_size, algorithm, n_segments, compactness)
        return Raw(png, 'image/png', headers={'Superpixel-Count': str(count),
                                              'Superpixel-Scale': repr(scale)})


class FolderLabelsResource(Resource):
    default_scopes = DATA_SCOPES
    prefix = 'folder/:id/labels'

    def __init__(self, app, service):
        self.app = app
        self.service = service

    FOLDER = ModelParam('id', model=Folder, level=READ, dest='folder')

    @route('GET', 'classes', response='LabelClass[]', access=PUBLIC, params=[FOLDER],
           summary="A labelling project's classes.")
    def classes(self, req, folder):
        return self.service.classes(folder)

    @route('PUT', 'classes', response='LabelClass[]', access=USER, json_body='list', params=[
        ModelParam('id', model=Folder, level=WRITE, dest='folder')],
        summary="Set a labelling project's classes: [{value, name, color}].")
    def set_classes(self, req, folder, body):
        return self.service.set_classes(folder, body)

    @route('GET', 'progress', response='LabelProgress', access=PUBLIC, params=[FOLDER],
           summary='How far each labeller has got in this folder.')
    def progress(self, req, folder):
        return self.service.progress(folder)

    @route('GET', 'download', access=PUBLIC, cookie=True, params=[FOLDER],
           summary="Every label mask in the folder, as a zip.")
    def download(self, req, folder):
        return Raw(zip_stream(self.service.zip_entries(folder, req.user)), 'application/zip',
                   headers={'Content-Disposition': content_disposition(
                       folder['name'] + '-labels.zip')})
