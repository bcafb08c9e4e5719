"""Where file bytes live: a filesystem directory or GridFS-style chunks in MongoDB."""
from .filesystem import FilesystemAdapter
from .gridfs import GridFsAdapter

FILESYSTEM, GRIDFS, S3 = 0, 1, 2
ADAPTERS = {FILESYSTEM: FilesystemAdapter, GRIDFS: GridFsAdapter}


def adapter_for(app, assetstore):
    """The adapter object that reads and writes bytes in ``assetstore``."""
    cls = ADAPTERS.get(assetstore.get('type'))
    if cls is None:
        from ..errors import RestError
        raise RestError('Assetstores of type %r are not supported.' % assetstore.get('type'))
    return cls(app, assetstore)
