"""Shapes <-> pixels: element outlines as polygons, polygons into masks, masks into polygons."""
import math

import numpy as np

from ....errors import ValidationError

ELLIPSE_SIDES = 32


def _rotated_rect(element, ellipse=False):
    cx, cy = element['center'][:2]
    w, h = element['width'] / 2.0, element['height'] / 2.0
    angle = element.get('rotation') or 0
    c, s = math.cos(angle), math.sin(angle)
    if ellipse:
        local = [(w * math.cos(2 * math.pi * k / ELLIPSE_SIDES),
                  h * math.sin(2 * math.pi * k / ELLIPSE_SIDES)) for k in range(ELLIPSE_SIDES)]
    else:
        local = [(-w, -h), (w, -h), (w, h), (-w, h)]
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in local]


def outline(element):
    """(outer ring, holes) of an area element as lists of (x, y); None for other elements."""
    kind = element.get('type')
    if kind == 'polyline':
        if not element.get('closed'):
            return None
        ring = [(p[0], p[1]) for p in element['points']]
        holes = [[(p[0], p[1]) for p in hole] for hole in element.get('holes') or ()]
        return ring, holes
    if kind in ('rectangle', 'rectanglegrid'):
        return _rotated_rect(element), []
    if kind == 'ellipse':
        return _rotated_rect(element, ellipse=True), []
    if kind == 'circle':
        cx, cy = element['center'][:2]
        r = element['radius']
        return [(cx + r * math.cos(2 * math.pi * k / ELLIPSE_SIDES),
                 cy + r * math.sin(2 * math.pi * k / ELLIPSE_SIDES))
                for k in range(ELLIPSE_SIDES)], []
    return None


def bounds(ring, scale=1.0):
    """(x0, y0, x1, y1): the pixel box of a ring at ``scale``, before any pixel is drawn."""
    outer = np.asarray(ring, dtype=float)[:, :2] * scale
    if not np.isfinite(outer).all():
        raise ValidationError('Shape coordinates must be finite numbers.')
    x0, y0 = int(math.floor(outer[:, 0].min())), int(math.floor(outer[:, 1].min()))
    x1, y1 = int(math.ceil(outer[:, 0].max())), int(math.ceil(outer[:, 1].max()))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def rasterize(ring, holes, scale=1.0, window=None):
    """(mask, x0, y0): pixels whose centres lie inside the polygon (even-odd), at ``scale``.

    ``window`` (width, height) keeps only the pixels inside that image: the mask of a
    shape far larger than the image would otherwise be allocated whole.
    """
    rings = [np.asarray(r, dtype=float)[:, :2] * scale for r in [ring] + list(holes)]
    x0, y0, x1, y1 = bounds(ring, scale)
    if window is not None:
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = max(min(x1, window[0]), x0 + 1), max(min(y1, window[1]), y0 + 1)
    width, height = x1 - x0, y1 - y0
    a = np.concatenate(rings)
    b = np.concatenate([np.roll(r, -1, axis=0) for r in rings])
    keep = a[:, 1] != b[:, 1]  # horizontal edges never cross a row centre
    ax, ay, bx, by = a[keep, 0], a[keep, 1], b[keep, 0], b[keep, 1]
    mask = np.zeros((height, width), dtype=bool)
    # rows per block x edges bounds the temporaries (a polygon may have millions of edges)
    rows = max(1, min(256, (1 << 20) // max(len(ax), 1)))
    for start in range(0, height, rows):
        cy = y0 + np.arange(start, min(start + rows, height)) + 0.5
        cross = (ay[None, :] <= cy[:, None]) != (by[None, :] <= cy[:, None])
        with np.errstate(invalid='ignore', divide='ignore'):
            xs = ax + (cy[:, None] - ay) * (bx - ax) / (by - ay)
        for row, (hits, xrow) in enumerate(zip(cross, xs)):
            cuts = np.sort(xrow[hits])
            first = np.ceil(cuts - x0 - 0.5).astype(np.int64).clip(0, width)
            for i0, i1 in zip(first[0::2], first[1::2]):
                mask[start + row, i0:i1] = True
    return mask, x0, y0


def _right_turn(dx, dy):
    return -dy, dx


def _pixel_sides(m):
    """((ys, xs) where a padded mask has a pixel side, the offset of the corner it starts
    at, its direction) for the top, bottom, left and right sides of inside pixels."""
    # directed edges with the inside on the right (y grows downward): outer rings run
    # clockwise on screen, holes counter-clockwise. One side at a time, so a large
    # mask's side arrays are not all held at once.
    yield np.nonzero(m[1:, :] & ~m[:-1, :]), (-1, 0), (1, 0)
    yield np.nonzero(m[:-1, :] & ~m[1:, :]), (0, 0), (-1, 0)
    yield np.nonzero(m[:, 1:] & ~m[:, :-1]), (0, 0), (0, -1)
    yield np.nonzero(m[:, :-1] & ~m[:, 1:]), (0, -1), (0, 1)


def _edges(m):
    """{corner: [directions of the edges leaving it]} of a padded mask's pixel sides."""
    edges = {}
    for (ys, xs), (dx, dy), direction in _pixel_sides(m):
        for x, y in zip(xs.tolist(), ys.tolist()):
            edges.setdefault((x + dx, y + dy), []).append(direction)
    return edges


def _trace(edges, start):
    """The corners of the ring through ``start``, its edges taken out of ``edges``.

    Where two edges leave a corner (pixels touching at it), the right turn keeps the
    ring to its own pixels.
    """
    pos, ring, direction = start, [], None
    while True:
        outs = edges.get(pos)
        if not outs:
            return ring
        if len(outs) > 1 and direction is not None:
            turn = _right_turn(*direction)
            step = turn if turn in outs else outs[0]
        else:
            step = outs[0]
        outs.remove(step)
        if not outs:
            del edges[pos]
        if step != direction:
            ring.append(pos)
        direction = step
        pos = (pos[0] + step[0], pos[1] + step[1])


def _nest(rings):
    """[(outer ring, [holes])]: each hole goes to the smallest outer ring around it."""
    outers, holes = [], []
    for ring in rings:
        (outers if _area(ring) > 0 else holes).append(ring)
    result = [(ring, []) for ring in outers]
    for hole in holes:
        best = None
        for i, (outer, _) in enumerate(result):
            if _inside(hole[0], outer) and (best is None or
                                            _area(outer) < _area(result[best][0])):
                best = i
        if best is not None:
            result[best][1].append(hole)
    return result


def mask_to_polygons(mask, x0=0, y0=0, scale=1.0):
    """Polygons [(outer ring, [holes])] tracing the pixel edges of a boolean mask.

    Pixels that touch only at a corner become separate polygons (4-connectivity), so
    every ring is simple. Coordinates are pixel corners, offset and divided by ``scale``.
    """
    edges = _edges(np.pad(np.asarray(mask, dtype=bool), 1))
    rings = []
    while edges:
        rings.append(_trace(edges, next(iter(edges))))

    def convert(ring):
        return [[(x + x0) / scale, (y + y0) / scale] for x, y in ring]
    return [(convert(outer), [convert(h) for h in hs]) for outer, hs in _nest(rings)]


def _area(ring):
    """Signed area, positive for clockwise rings on screen (y down)."""
    pts = np.array(ring, dtype=float)
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _inside(point, ring):
    """Whether ``point`` (a hole vertex, never on an outer edge's interior) is inside."""
    px, py = point[0] + 0.5, point[1] + 0.25  # nudge off the lattice: no ties
    inside = False
    n = len(ring)
    for i in range(n):
        (x1, y1), (x2, y2) = ring[i], ring[(i + 1) % n]
        if (y1 > py) != (y2 > py) and px < x1 + (py - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside
