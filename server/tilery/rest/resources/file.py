"""/file: uploads in chunks, resumes, downloads with ranges, and file edits."""
from ...errors import AccessError, RestError
from ...models.base import READ, WRITE
from ...models.file import File
from ...models.item import Item
from ...services.downloads import file_download, on_download_origin
from ..params import ModelParam, Param
from ..routing import ADMIN_ONLY, DATA_SCOPES, PUBLIC, USER, Resource, route

UPLOAD_ID = Param('uploadId', 'The upload id.', 'objectid', required=True, dest='upload_id')


def _file(level):
    return ModelParam('id', model=File, level=level, dest='file')


class FileResource(Resource):
    prefix = 'file'
    default_scopes = DATA_SCOPES

    def __init__(self, app):
        self.app = app
        self.files = app.models.file
        self.uploads = app.uploads

    def _answer_upload(self, req, result):
        if result.get('_modelType') == 'file' or 'itemId' in result:
            return self.files.filter(result, req.user)
        return self.app.models.upload.filter(result, req.user)

    @route('POST', '', response='Upload|File', access=USER, raw_body=True, summary=(
        'Start an upload (the whole file may come as the body of this request).'), params=[
        Param('parentType', enum=('folder', 'item'), required=True, dest='parent_type'),
        Param('parentId', type='objectid', required=True, dest='parent_id'),
        Param('name', required=True), Param('size', type='integer', required=True, min=0),
        Param('mimeType', dest='mime_type'), Param('reference'),
        Param('assetstoreId', type='objectid', dest='assetstore_id')])
    def init_upload(self, req, parent_type, parent_id, name, size, mime_type, reference,
                    assetstore_id):
        from ...models.base import check_name
        name = check_name(name, 'file name')
        model = self.app.models[parent_type]
        parent = model.load(parent_id)
        model.require_access(parent, req.user, WRITE)
        assetstore = None
        if assetstore_id is not None:
            if not req.user.get('admin'):
                raise AccessError('Only administrators may choose the assetstore.')
            assetstore = self.app.models.assetstore.load(assetstore_id)
        upload = self.uploads.start(req.user, parent, parent_type, name, size, mime_type,
                                    reference, assetstore=assetstore)
        if size == 0:
            return self.files.filter(self.uploads.finish(upload), req.user)
        if req.content_length:
            if req.content_length != size:
                self.uploads.cancel(upload)
                raise RestError('The body sent with the upload request has %d bytes; the '
                                'declared size is %d.' % (req.content_length, size))
            return self._answer_upload(req, self.uploads.receive(upload, req.body_chunks(), 0))
        return self.app.models.upload.filter(upload, req.user)

    @route('POST', 'chunk', response='Upload|File',
           access=USER, raw_body=True, summary='Send the next chunk.', params=[
        UPLOAD_ID, Param('offset', type='integer', required=True, min=0)])
    def chunk(self, req, upload_id, offset):
        upload = self.uploads.load_own(upload_id, req.user)
        if offset + req.content_length > upload['size']:
            raise RestError('Received too many bytes: the chunk goes past the declared size '
                            '(%d + %d > %d).' % (offset, req.content_length, upload['size']))
        result = self.uploads.receive(upload, req.body_chunks(), offset)
        return self._answer_upload(req, result)

    @route('GET', 'offset', response='UploadOffset', access=USER, params=[UPLOAD_ID],
           summary='How many bytes of an upload the server has (to resume).')
    def offset(self, req, upload_id):
        upload = self.uploads.load_own(upload_id, req.user)
        return {'offset': upload['received']}

    @route('DELETE', 'upload/:id', response='Message',
           access=USER, summary='Cancel an upload.', params=[
        Param('id', type='objectid', dest='upload_id')])
    def cancel(self, req, upload_id):
        if not self.uploads.cancel(self.uploads.load_own(upload_id, req.user)):
            raise RestError('The upload is complete and being stored; it cannot be canceled.',
                            409)
        return {'message': 'Upload canceled.'}

    @route('GET', ':id', access=PUBLIC, response='File',
           params=[_file(READ)], summary='Get a file.')
    def get(self, req, file):
        return self.files.filter(file, req.user)

    @route('PUT', ':id', response='File',
           access=USER, summary='Rename a file or change its type.', params=[
        _file(WRITE), Param('name'), Param('mimeType', dest='mime_type')])
    def update(self, req, file, name, mime_type):
        if name is not None:
            self.files.rename(file, name)
        if mime_type is not None:
            self.files.set_mime_type(file, mime_type)
        return self.files.filter(file, req.user)

    @route('DELETE', ':id', response='Message',
           access=USER, params=[_file(WRITE)], summary='Delete a file.')
    def delete(self, req, file):
        self.files.remove(file)
        return {'message': 'Deleted file %s.' % file['name']}

    def _download(self, req, file, offset, end_byte, disposition, head=False):
        return file_download(self.files, file, offset, end_byte, req.headers.get('Range'),
                             disposition, head=head, inline_active=on_download_origin(
                                 self.app.settings.download_origin, req.headers.get('Host')))

    DOWNLOAD_PARAMS = [
        Param('offset', type='integer', default=0, min=0),
        Param('endByte', 'Exclusive end of the byte range.', 'integer', min=0,
              dest='end_byte'),
        Param('contentDisposition', enum=('inline', 'attachment'), default='attachment',
              dest='disposition')]

    @route('GET', ':id/download', access=PUBLIC, cookie=True,
           params=[_file(READ)] + DOWNLOAD_PARAMS,
           summary='Download a file (HTTP Range supported).')
    def download(self, req, file, offset, end_byte, disposition):
        return self._download(req, file, offset, end_byte, disposition)

    @route('HEAD', ':id/download', access=PUBLIC, cookie=True,
           params=[_file(READ)] + DOWNLOAD_PARAMS, summary='Headers of a file download.')
    def download_head(self, req, file, offset, end_byte, disposition):
        return self._download(req, file, offset, end_byte, disposition, head=True)

    @route('GET', ':id/download/:name', access=PUBLIC, cookie=True,
           params=[_file(READ), Param('name')] + DOWNLOAD_PARAMS,
           summary='Download a file; the name in the path is for the browser.')
    def download_named(self, req, file, name, offset, end_byte, disposition):
        return self._download(req, file, offset, end_byte, disposition)

    @route('PUT', ':id/contents', response='Upload|File',
           access=USER, summary="Replace a file's contents (then send "
           'chunks).', params=[_file(WRITE), Param('size', type='integer', required=True,
                                                   min=0), Param('reference')])
    def contents(self, req, file, size, reference):
        item = self.app.models.item.load(file['itemId'])
        upload = self.uploads.start(req.user, item, 'item', file['name'], size,
                                    file.get('mimeType'), reference, replace_file=file)
        if size == 0:
            return self.files.filter(self.uploads.finish(upload), req.user)
        return self.app.models.upload.filter(upload, req.user)

    @route('PUT', ':id/move', response='File',
           access=USER, summary='Move a file to another item.', params=[
        _file(WRITE), ModelParam('itemId', model=Item, level=WRITE, dest='item')])
    def move(self, req, file, item):
        return self.files.filter(self.files.move(file, item), req.user)

    @route('POST', ':id/copy', response='File',
           access=USER, summary='Copy a file into an item.', params=[
        _file(READ), ModelParam('itemId', model=Item, level=WRITE, dest='item')])
    def copy(self, req, file, item):
        return self.files.filter(self.app.tree.copy_file(file, item, req.user), req.user)


class UploadAdminResource(Resource):
    prefix = 'system/uploads'

    def __init__(self, app):
        self.app = app

    @route('GET', '', response='Upload[]',
           access=ADMIN_ONLY, paging='updated', summary='Unfinished uploads.')
    def find(self, req, paging):
        docs, total = self.app.models.upload.find_page({}, paging)
        req.set_total_count(total)
        return [self.app.models.upload.filter(d) for d in docs]

    @route('DELETE', '', response='Upload[]',
           access=ADMIN_ONLY, summary='Cancel unfinished uploads.', params=[
        Param('uploadId', type='objectid', dest='upload_id')])
    def delete(self, req, upload_id):
        query = {'_id': upload_id} if upload_id else {}
        uploads = list(self.app.models.upload.find(query))
        for upload in uploads:
            self.app.uploads.cancel(upload)
        return [self.app.models.upload.filter(u) for u in uploads]
