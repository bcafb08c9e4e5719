"""Element validation: a fast checker for the common element types, jsonschema for the rest.

Calling jsonschema on a million elements takes minutes, so ``check_element`` first runs
hand-written checks that accept a subset of what the schema accepts (tested against
jsonschema on fuzzed elements). When they say no, jsonschema decides and names the
offending field. Beyond the schema, numbers must be finite (JSON cannot carry NaN or
Infinity, and a bounding box of NaN would hide an element from every query) and ids
must be exactly 24 lowercase hex digits (the schema's ``$`` also admits a trailing
newline).
"""
import re

from ...errors import ValidationError
from . import schema

_COLOR_RE = re.compile(schema.COLOR_PATTERN)
_ID_RE = re.compile(r'[0-9a-f]{24}\Z')
_LABEL_KEYS = frozenset(schema.LABEL['properties'])
_VISIBILITY = frozenset(schema.LABEL['properties']['visibility']['enum'])
_ALLOWED = {key: frozenset(value['properties']) for key, value in schema.ELEMENT_SCHEMAS.items()}
_REQUIRED = {key: tuple(value['required']) for key, value in schema.ELEMENT_SCHEMAS.items()}
_valid_colors = set()
_MAX_COLOR_CACHE = 10000
_INT_LIMIT = 2 ** 63


def _number(value):
    kind = type(value)
    if kind is float:
        return value - value == 0.0  # false for NaN and +-inf
    return kind is int and -_INT_LIMIT <= value < _INT_LIMIT


def _coord(value):
    return (type(value) is list and len(value) == 3 and _number(value[0])
            and _number(value[1]) and _number(value[2]))


def _coords(value, minimum):
    if type(value) is not list or len(value) < minimum:
        return False
    for point in value:
        if (type(point) is not list or len(point) != 3 or not _number(point[0])
                or not _number(point[1]) or not _number(point[2])):
            return False
    return True


def _color(value):
    if type(value) is not str:
        return False
    if value in _valid_colors:
        return True
    if not _COLOR_RE.search(value):
        return False
    if len(_valid_colors) < _MAX_COLOR_CACHE:
        _valid_colors.add(value)
    return True


def _label(value):
    if type(value) is not dict or type(value.get('value')) is not str:
        return False
    if not _LABEL_KEYS.issuperset(value):
        return False
    if 'visibility' in value and (type(value['visibility']) is not str or
                                  value['visibility'] not in _VISIBILITY):
        return False
    if 'fontSize' in value and not (_number(value['fontSize']) and value['fontSize'] > 0):
        return False
    return 'color' not in value or _color(value['color'])


def _id(value):
    return type(value) is str and _ID_RE.match(value) is not None


def _user(value):
    return type(value) is dict and finite_tree(value)


def _line_width(value):
    return _number(value) and value >= 0


# the base/shape properties every shape type may carry, with their checks
_COMMON_CHECKS = (('id', _id), ('group', lambda value: type(value) is str), ('user', _user),
                  ('label', _label), ('lineColor', _color), ('lineWidth', _line_width),
                  ('fillColor', _color))


def _common(element, kind):
    """Checks shared by the shape types: allowed keys and the base/shape properties."""
    if not _ALLOWED[kind].issuperset(element):
        return False
    for key, check in _COMMON_CHECKS:
        if key in element and not check(element[key]):
            return False
    return True


def _nonnegative(element, key):
    value = element.get(key)
    return _number(value) and value >= 0


def _rect(element, kind):
    if not (_common(element, kind) and _coord(element.get('center'))
            and _nonnegative(element, 'width') and _nonnegative(element, 'height')):
        return False
    if 'rotation' in element and not _number(element['rotation']):
        return False
    return 'normal' not in element or _coord(element['normal'])


def _polyline(element, kind):
    if not (_common(element, kind) and _coords(element.get('points'), 2)):
        return False
    if 'closed' in element and type(element['closed']) is not bool:
        return False
    if 'holes' in element:
        holes = element['holes']
        if type(holes) is not list:
            return False
        for hole in holes:
            if not _coords(hole, 3):
                return False
    return True


_FAST = {
    'point': lambda el, kind: _common(el, kind) and _coord(el.get('center')),
    'circle': lambda el, kind: (_common(el, kind) and _coord(el.get('center'))
                                and _nonnegative(el, 'radius')),
    'rectangle': _rect,
    'ellipse': _rect,
    'polyline': _polyline,
    'arrow': lambda el, kind: (_common(el, kind) and _coords(el.get('points'), 2)
                               and len(el['points']) == 2),
}


def fast_check(element):
    """True when the fast path can vouch for ``element``; False means 'ask jsonschema'."""
    if type(element) is not dict:
        return False
    kind = element.get('type')
    check = _FAST.get(kind) if type(kind) is str else None
    return check is not None and check(element, kind)


def finite_tree(value):
    """True when every number inside ``value`` (dicts and lists, any depth) is finite."""
    stack = [value]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is dict:
            stack.extend(value.values())
        elif kind is list:
            stack.extend(value)
        elif isinstance(value, float):
            if value - value != 0.0:
                return False
        elif isinstance(value, int) and not isinstance(value, bool):
            if not -_INT_LIMIT <= value < _INT_LIMIT:
                return False
    return True


def _path(parts):
    return '/'.join(str(part) for part in parts)


_TYPE_NAMES = {'number': 'a number', 'integer': 'a whole number', 'string': 'a string',
               'object': 'an object', 'array': 'a list', 'boolean': 'true or false'}


def _noun(parts):
    """What the items of the list at ``parts`` are, for 'must hold at least 2 points'."""
    keys = [p for p in parts if isinstance(p, str)]
    last = keys[-1] if keys else ''
    if last in ('points', 'holes') and isinstance(parts[-1], str):
        return 'hole outlines' if last == 'holes' else 'points'
    if last == 'holes':
        return 'points'
    if last in ('values', 'categories', 'matrix'):
        return last
    return 'items'


def describe(error):
    """A sentence a person understands for a jsonschema error: 'points must hold ...'."""
    parts = list(error.absolute_path)
    field = _path(parts) or 'the object'
    explain = _EXPLAIN.get(error.validator)
    text = explain(error, field, parts) if explain is not None else None
    return text or '%s: %s' % (field, error.message)


def _explain_count(error, field, parts):
    kind, limit = error.validator, error.validator_value
    if error.schema.get('minItems') == error.schema.get('maxItems'):
        if error.schema.get('items') == {'type': 'number'} and limit in (3, 4):
            return '%s must be an [x, y, z%s] coordinate' % (
                field, ', value' if limit == 4 else '')
        return '%s must hold exactly %d %s' % (field, limit, _noun(parts))
    return '%s must hold at %s %d %s' % (
        field, 'least' if kind == 'minItems' else 'most', limit, _noun(parts))


def _explain_required(error, field, parts):
    missing = [_path(parts + [key]) for key in error.validator_value
               if key not in error.instance]
    return '%s %s missing' % (', '.join(missing), 'is' if len(missing) == 1 else 'are')


def _explain_type(error, field, parts):
    limit = error.validator_value
    wanted = [limit] if isinstance(limit, str) else limit
    return '%s must be %s, not %s' % (field, ' or '.join(
        _TYPE_NAMES.get(t, t) for t in wanted), _short(error.instance))


def _explain_pattern(error, field, parts):
    if error.validator_value == schema.COLOR_PATTERN:
        return ('%s %s is not a colour (#rgb, #rgba, #rrggbb, #rrggbbaa, rgb(r, g, b) or '
                'rgba(r, g, b, a))' % (field, _short(error.instance)))
    if error.validator_value == schema.ID_PATTERN:
        return '%s must be 24 lowercase hexadecimal digits, not %s' % (
            field, _short(error.instance))
    return None


def _explain_enum(error, field, parts):
    return '%s must be one of %s, not %s' % (
        field, ', '.join(_short(v) for v in error.validator_value), _short(error.instance))


_BOUND_WORDS = {'minimum': 'at least', 'exclusiveMinimum': 'greater than',
                'maximum': 'at most', 'exclusiveMaximum': 'less than'}


def _explain_bound(error, field, parts):
    return '%s must be %s %s, not %s' % (field, _BOUND_WORDS[error.validator],
                                         error.validator_value, _short(error.instance))


def _explain_min_length(error, field, parts):
    return '%s must not be empty' % field if error.validator_value == 1 else None


def _explain_unknown_fields(error, field, parts):
    if not isinstance(error.instance, dict):
        return None
    allowed = error.schema.get('properties', ())
    unknown = sorted(set(error.instance) - set(allowed))
    return '%s has unknown field%s %s (allowed: %s)' % (
        field, 's' if len(unknown) > 1 else '', ', '.join(unknown), ', '.join(sorted(allowed)))


# jsonschema validator name -> its explanation (None: fall back to jsonschema's message)
_EXPLAIN = {'minItems': _explain_count, 'maxItems': _explain_count,
            'required': _explain_required, 'type': _explain_type,
            'pattern': _explain_pattern, 'enum': _explain_enum,
            'minLength': _explain_min_length, 'additionalProperties': _explain_unknown_fields,
            **dict.fromkeys(_BOUND_WORDS, _explain_bound)}


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + '...'


def element_error(element, index):
    """The ValidationError for an element the fast path refused, or None if it is valid."""
    where = 'elements/%d' % index
    if not isinstance(element, dict):
        return ValidationError('Element %d must be an object, not %s.' % (
            index, _short(element)), where)
    kind = element.get('type')
    validator = schema.element_validators.get(kind) if isinstance(kind, str) else None
    if validator is None:
        return ValidationError('Element %d has an unknown type %s; allowed: %s.' % (
            index, _short(kind), ', '.join(sorted(schema.ELEMENT_SCHEMAS))), where + '/type')
    error = next(iter(sorted(validator.iter_errors(element), key=lambda e: list(e.path))), None)
    if error is not None:
        field = _path(error.absolute_path)
        text = describe(error).replace('the object', 'the element', 1)
        return ValidationError('Element %d (%s): %s.' % (index, kind, text),
                               where + ('/' + field if field else ''))
    if not finite_tree(element):
        return ValidationError(
            'Element %d (%s) holds a number that is NaN, infinite or too large.' % (index, kind),
            where)
    if 'id' in element and not _ID_RE.match(element['id']):
        return ValidationError('Element %d: id must be 24 lowercase hexadecimal digits.' % index,
                               where + '/id')
    return None


def check_element(element, index):
    """Raise ValidationError (naming the element index and field) unless ``element`` is valid."""
    if fast_check(element):
        return
    error = element_error(element, index)
    if error is not None:
        raise error


def check_header(header):
    """Validate the annotation's fields other than its elements."""
    if not isinstance(header, dict):
        raise ValidationError('The annotation must be a JSON object.', 'annotation')
    error = next(iter(schema.header_validator.iter_errors(header)), None)
    if error is not None:
        field = _path(error.absolute_path)
        raise ValidationError('Annotation: %s.' % describe(error).replace(
            'the object', 'the annotation', 1), field or 'annotation')
    if not finite_tree(header):
        raise ValidationError('The annotation holds a number that is NaN or infinite.',
                              'annotation')
