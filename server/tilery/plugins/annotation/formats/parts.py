"""Objects made of several elements: a QuPath MultiPolygon, an .iid mask of several blobs.

An element draws one shape, so an object of several disjoint shapes is imported as one
element per shape, each drawn, queried and masked like any other. What ties them
together is ``user.part = {of, index, count}`` (``of`` a key shared by the parts), and
the exports write the consecutive parts of one object back as one GeoJSON feature or
one .iid entry. The first part also carries what the format says of the whole object.
A QuPath cell's nucleus is a part with ``role: 'nucleus'``: drawn, but written back as
the feature's ``nucleusGeometry`` (and left out of .iid masks, inside its cell).
"""
import uuid

# an export holds one object's parts in memory: past this many, the rest of an object
# (a hostile annotation claiming a billion parts) starts a new one
MAX_PARTS = 100000


def link(elements):
    """Mark the elements made from one object as its parts (nothing for a single one)."""
    if len(elements) > 1:
        key = uuid.uuid4().hex
        for index, element in enumerate(elements):
            user = element['user'] = dict(element.get('user') or {})
            user['part'] = {'of': key, 'index': index, 'count': len(elements)}
    return elements


def part_of(element):
    """The key of the object an element is a part of, or None."""
    part = (element.get('user') or {}).get('part')
    if isinstance(part, dict) and isinstance(part.get('of'), str):
        return part['of']
    return None


def role(element):
    """What a part is to its object beyond a shape of it: 'nucleus' (a QuPath cell's),
    or None."""
    part = (element.get('user') or {}).get('part')
    return part.get('role') if isinstance(part, dict) else None


def objects(elements):
    """Lists of elements, one list per object: consecutive parts of one object together."""
    run, key = [], None
    for element in elements:
        this = part_of(element)
        if run and (this is None or this != key or len(run) >= MAX_PARTS):
            yield run
            run = []
        run.append(element)
        key = this
    if run:
        yield run


def without_link(user):
    """An element's user data without the part link (for an export), or None if empty."""
    if not isinstance(user, dict):
        return user
    out = {k: v for k, v in user.items() if k != 'part'}
    return out or None
