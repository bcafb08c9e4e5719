"""The fast element checker agrees with jsonschema (Draft 6) on fuzzed elements."""
import copy
import random

import pytest

from tilery.errors import ValidationError
from tilery.plugins.annotation import schema, validate

VALID = [
    {'type': 'point', 'center': [1, 2.5, 0], 'fillColor': '#abc', 'label': {'value': 'x'}},
    {'type': 'rectangle', 'center': [1, 2, 0], 'width': 3, 'height': 0, 'rotation': 0.5,
     'lineColor': 'rgba(1, 2, 3, 0.5)', 'lineWidth': 2, 'group': 'tumor',
     'id': '0123456789abcdef01234567', 'user': {'score': 0.9, 'tags': [1, 'a']}},
    {'type': 'ellipse', 'center': [1, 2, 0], 'width': 3, 'height': 4, 'normal': [0, 0, 1],
     'fillColor': '#aabbccdd'},
    {'type': 'circle', 'center': [1, 2, 0], 'radius': 3, 'fillColor': 'rgb(1,2,3)'},
    {'type': 'polyline', 'points': [[0, 0, 0], [1, 1, 0], [2, 0, 0]], 'closed': True,
     'holes': [[[0.2, 0.1, 0], [0.5, 0.2, 0], [0.4, 0.1, 0]]],
     'label': {'value': 'a', 'visibility': 'always', 'fontSize': 3, 'color': '#fff'}},
    {'type': 'arrow', 'points': [[0, 0, 0], [1, 1, 0]], 'lineWidth': 0},
]
RARE = [
    {'type': 'heatmap', 'points': [[1, 2, 0, 0.5]], 'radius': 3, 'colorRange': ['#fff'],
     'rangeValues': [0], 'normalizeRange': True},
    {'type': 'griddata', 'values': [1, 2, 3, 4], 'gridWidth': 2, 'interpretation': 'contour'},
    {'type': 'image', 'girderId': 'a' * 24, 'opacity': 0.5,
     'transform': {'xoffset': 1, 'matrix': [[1, 0], [0, 1]]}},
    {'type': 'pixelmap', 'girderId': 'a' * 24, 'values': [0, 1], 'boundaries': False,
     'categories': [{'fillColor': '#f00', 'label': 'a'}]},
    {'type': 'rectanglegrid', 'center': [1, 2, 0], 'width': 3, 'height': 4,
     'widthSubdivisions': 2, 'heightSubdivisions': 2},
]
MUTANTS = [None, True, False, -1, 0, 2, 1.5, 1e300, '', 'x', '#ggg', '#abcde', '#fff\n',
           'rgb(1,2)', [], [1], [1, 2], [1, 2, 3], [1, '2', 3], [1, 2, 3, 4], {}, {'value': 1},
           {'value': 'v', 'x': 1}, [[0, 0, 0]], [[0, 0, 0], [1, 1, 0]], 'A' * 24, 'a' * 24]


def mutate(element, rng):
    element = copy.deepcopy(element)
    keys = list(element) + ['extra', 'points', 'center', 'holes', 'label', 'radius']
    for _ in range(rng.randint(1, 3)):
        key = rng.choice(keys)
        roll = rng.random()
        if roll < 0.15:
            element.pop(key, None)
        elif roll < 0.3 and isinstance(element.get(key), list) and element[key]:
            inner = element[key]
            pos = rng.randrange(len(inner))
            if isinstance(inner[pos], list) and inner[pos]:
                inner[pos][rng.randrange(len(inner[pos]))] = copy.deepcopy(rng.choice(MUTANTS))
            else:
                inner[pos] = copy.deepcopy(rng.choice(MUTANTS))
        elif roll < 0.4 and isinstance(element.get(key), dict):
            element[key][rng.choice(['value', 'visibility', 'fontSize', 'color', 'q'])] = \
                copy.deepcopy(rng.choice(MUTANTS))
        else:
            element[key] = copy.deepcopy(rng.choice(MUTANTS))
    return element


def schema_valid(element):
    return schema.any_element_validator.is_valid(element) and validate.finite_tree(element)


def test_valid_elements_take_the_fast_path():
    for element in VALID:
        assert validate.fast_check(element), element
        assert schema.any_element_validator.is_valid(element)
    for element in RARE:
        assert schema.any_element_validator.is_valid(element), element
        validate.check_element(element, 0)


def test_fast_path_never_accepts_what_the_schema_refuses():
    rng = random.Random(1234)
    agree = 0
    for n in range(3000):
        element = mutate(rng.choice(VALID + RARE), rng)
        fast = validate.fast_check(element)
        reference = schema_valid(element) and (
            'id' not in element or validate._ID_RE.match(element['id']))
        if fast:
            assert reference, element
        try:
            validate.check_element(element, n)
            checked = True
        except ValidationError as exc:
            checked = False
            assert exc.field.startswith('elements/%d' % n)
        assert checked == bool(reference), element
        agree += fast == bool(reference)
    # the fast path decides nearly everything by itself
    assert agree > 2700


@pytest.mark.parametrize('value', [float('nan'), float('inf'), -float('inf'), 10 ** 400])
def test_non_finite_numbers_are_refused(value):
    for element in ({'type': 'point', 'center': [value, 0, 0]},
                    {'type': 'point', 'center': [0, 0, 0], 'user': {'a': [value]}}):
        with pytest.raises(ValidationError, match='NaN|infinite|too large'):
            validate.check_element(element, 3)


def test_header_checks():
    validate.check_header({'name': 'a', 'display': {'visible': 'new'}, 'attributes': {}})
    with pytest.raises(ValidationError):
        validate.check_header({'name': ''})
    with pytest.raises(ValidationError):
        validate.check_header({'name': 'a', 'other': 1})
