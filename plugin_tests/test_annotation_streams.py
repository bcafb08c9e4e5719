"""Reading annotation JSON: the quick header scan agrees with a full ijson parse."""
import io
import json

import orjson
import pytest

from tilery.errors import ValidationError
from tilery.plugins.annotation import scan, streams

POINT = {'type': 'point', 'center': [1, 2.5, 0]}
TRICKY = {'type': 'point', 'center': [3, 4, 0],
          'user': {'s': 'a \\"] } [ {', 'elements': ['[', ']'], 'back': '\\\\'},
          'label': {'value': 'élément ] "elements": ['}}

DOCS = [
    {'name': 'plain', 'elements': [POINT, TRICKY]},
    {'elements': [TRICKY, POINT], 'name': 'elements first', 'description': '"elements": ['},
    {'name': 'a [\"elements\": [', 'description': 'back\\\\',
     'attributes': {'elements': [1, [2]], 'x': ']]}}', 'y': {'annotation': {'elements': 1}}},
     'elements': [POINT] * 5, 'display': {'visible': 'new'}},
    {'_id': 'ab' * 12, 'itemId': 'cd' * 12, 'public': False,
     'annotation': {'name': 'wrapped', 'attributes': {'a': [1]}, 'elements': [TRICKY] * 3},
     '_version': 3, 'groups': ['x']},
    {'name': 'no elements'},
    {'name': 'empty', 'elements': []},
]


def spooled(raw):
    return streams.spool(io.BytesIO(raw))


@pytest.mark.parametrize('doc', DOCS)
@pytest.mark.parametrize('indent', [None, 2])
def test_quick_header_matches_a_full_parse(doc, indent):
    raw = json.dumps(doc, indent=indent, ensure_ascii=False).encode()
    fileobj = spooled(raw)
    bounds = scan.find_elements(fileobj)
    assert fileobj.tell() == 0
    for block in (1, 2, 3, 7, 64):
        assert scan.find_elements(fileobj, block) == bounds
    source = streams.StreamedAnnotation(fileobj)
    body = doc.get('annotation', doc)
    quick = source._quick_top()
    # the quick way is taken whenever there is an elements array, and agrees
    assert (quick is None) == ('elements' not in body)
    assert source.top == source._parsed_top() == (quick or source.top)
    assert source.header == {k: v for k, v in body.items() if k != 'elements'}
    assert list(source.elements()) == body.get('elements', [])
    if bounds is not None:
        first, last = bounds
        assert raw[first:first + 1] == b'[' and raw[last:last + 1] == b']'
        assert orjson.loads(raw[first:last + 1]) == body['elements']


@pytest.mark.parametrize('raw, words', [
    (b'{"name": "x", "elements": [{"type": "point"}', 'Invalid JSON'),
    (b'{"name": "x" "elements": []}', 'Invalid JSON'),
    (b'{"name": "x", "elements": 5}', 'must be a list'),
    (b'{"name": "x", "elements": [], "description": }', 'Invalid JSON'),
])
def test_malformed_files_are_refused_the_slow_way(raw, words):
    with pytest.raises(ValidationError, match=words):
        list(streams.StreamedAnnotation(spooled(raw)).elements())
