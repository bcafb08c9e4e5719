"""The core REST resources."""
from .collection import CollectionResource
from .file import FileResource, UploadAdminResource
from .folder import FolderResource
from .group import GroupResource
from .item import ItemResource
from .resource import ResourceResource
from .system import AssetstoreResource, SystemResource
from .token import ApiKeyResource, TokenResource
from .user import UserResource

CORE_RESOURCES = (UserResource, TokenResource, ApiKeyResource, GroupResource,
                  CollectionResource, FolderResource, ItemResource, FileResource,
                  UploadAdminResource, ResourceResource, SystemResource, AssetstoreResource)


def core_resources(app):
    return [cls(app) for cls in CORE_RESOURCES]
