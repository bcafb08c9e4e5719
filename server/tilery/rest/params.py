"""Parameter declarations: each route says once what it takes, and the same
declaration converts the request's values, checks access and feeds the API
description (``rest/describe.py``)."""
import dataclasses
import math
from typing import Any

import orjson
from bson import ObjectId
from bson.errors import InvalidId

from ..errors import RestError
from ..models.base import ADMIN, NONE, READ, WRITE  # noqa: F401 (levels, re-exported)

INT64_MAX = 2 ** 63 - 1  # the largest integer MongoDB stores
OBJECT_ID_PATTERN = '^[0-9a-fA-F]{24}$'
_MISSING = object()


@dataclasses.dataclass
class Param:
    """A query-string (or path) parameter converted to ``type``."""

    name: str
    description: str = ''
    type: str = 'string'  # string, integer, number, boolean, json, objectid
    required: bool = False
    default: Any = None
    enum: tuple = None
    dest: str = None
    location: str = 'query'  # query or path
    json_types: tuple = (dict, list)
    min: float = None
    max: float = None

    @property
    def target(self):
        return self.dest or self.name

    def convert(self, raw):
        """Turn the raw string into the declared type or raise a 400."""
        try:
            value = _CONVERTERS[self.type](raw, self)
        except RestError:
            raise
        except (ValueError, TypeError, InvalidId, orjson.JSONDecodeError):
            raise RestError('Invalid value for %s parameter "%s": %r.' % (
                self.type, self.name, raw[:200] if isinstance(raw, str) else raw))
        if self.enum is not None and value not in self.enum:
            raise RestError('Invalid value for %s: "%s". Allowed values: %s.' % (
                self.name, value, ', '.join(str(v) for v in self.enum)))
        if self.min is not None and value < self.min:
            raise RestError('Parameter %s must be at least %s.' % (self.name, self.min))
        if self.max is not None and value > self.max:
            raise RestError('Parameter %s must be at most %s.' % (self.name, self.max))
        return value

    def openapi(self):
        schema = {'type': _OPENAPI_TYPES[self.type]}
        if self.type == 'objectid':
            schema['pattern'] = OBJECT_ID_PATTERN
        if self.enum is not None:
            schema['enum'] = list(self.enum)
        if self.default is not None and not callable(self.default):
            schema['default'] = self.default
        if self.type in ('integer', 'number'):
            for key, bound in (('minimum', self.min), ('maximum', self.max)):
                if bound is not None:
                    schema[key] = bound
        return {'name': self.name, 'in': self.location, 'required': self.required or
                self.location == 'path', 'description': self.description, 'schema': schema}


@dataclasses.dataclass
class ModelParam(Param):
    """An id parameter that loads a document and checks the caller's access level."""

    model: type = None
    level: int = READ
    required: bool = True
    force: bool = False  # load without an access check (the handler checks)
    flags: tuple = ()

    def openapi(self):
        out = super().openapi()
        out['schema'] = {'type': 'string', 'pattern': OBJECT_ID_PATTERN}
        return out


@dataclasses.dataclass
class Paging:
    """limit/offset/sort/sortdir, Girder's paging parameters."""

    limit: int
    offset: int
    sort: list

    def to_find(self):
        return {'limit': self.limit, 'offset': self.offset, 'sort': self.sort}


def paging_params(default_sort='lowerName', default_sortdir=1, default_limit=50):
    """The four paging parameters, gathered by the dispatcher into one ``paging``."""
    return [
        Param('limit', 'Result set size limit (0 for no limit).', 'integer',
              default=default_limit, min=0),
        Param('offset', 'Offset into result set.', 'integer', default=0, min=0),
        Param('sort', 'Field to sort the result set by.', default=default_sort),
        Param('sortdir', 'Sort order: 1 for ascending, -1 for descending.', 'integer',
              default=default_sortdir, enum=(1, -1)),
    ]


def _boolean(raw, param):
    lowered = raw.strip().lower()
    if lowered in ('true', '1', 'yes', 'on'):
        return True
    if lowered in ('false', '0', 'no', 'off', ''):
        return False
    raise ValueError(raw)


def _integer(raw, param):
    """An integer MongoDB can hold (64 bits): a larger one is a bad value, not a 500."""
    value = int(raw)
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise ValueError(raw)
    return value


def _number(raw, param):
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def _json(raw, param):
    value = orjson.loads(raw)
    if not isinstance(value, param.json_types):
        raise RestError('Parameter %s must be a JSON %s.' % (
            param.name, ' or '.join(_JSON_NAMES[t] for t in param.json_types)))
    return value


def _objectid(raw, param):
    return ObjectId(raw)


_JSON_NAMES = {dict: 'object', list: 'list', str: 'string', int: 'integer', float: 'number',
               bool: 'boolean', type(None): 'null'}
_CONVERTERS = {
    'string': lambda raw, param: raw,
    'integer': _integer,
    'number': _number,
    'boolean': _boolean,
    'json': _json,
    'objectid': _objectid,
}
_OPENAPI_TYPES = {'string': 'string', 'integer': 'integer', 'number': 'number',
                  'boolean': 'boolean', 'json': 'string', 'objectid': 'string'}
