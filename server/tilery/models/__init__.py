"""The core models and the registry the app keeps them in."""
from .assetstore import Assetstore
from .audit import AuditEvent
from .collection import Collection
from .file import File, Upload
from .folder import Folder
from .group import Group
from .item import Item
from .login_throttle import LoginThrottle
from .notification import Notification
from .setting import Setting
from .share import Share
from .token import ApiKey, Token
from .user import User

CORE_MODELS = (User, Group, Token, ApiKey, Collection, Folder, Item, File, Upload,
               Assetstore, Setting, AuditEvent, LoginThrottle, Share, Notification)


class ModelRegistry:
    """Model instances by class (for route declarations) and by model type (for data)."""

    def __init__(self):
        self._by_class = {}
        self._by_type = {}

    def add(self, instance):
        self._by_class[type(instance)] = instance
        self._by_type[instance.model_type] = instance
        return instance

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                return self._by_type[key]
            except KeyError:
                from ..errors import RestError
                raise RestError('Invalid resource type: %s.' % key)
        return self._by_class[key]

    def __getattr__(self, name):
        try:
            return self._by_type[name]
        except KeyError:
            raise AttributeError(name)

    def __iter__(self):
        return iter(self._by_type.values())
