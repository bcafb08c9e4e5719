// The overview's box for the current view (viewer/slide.ts), in overview pixels.

type Box = [number, number, number, number]; // left, top, right, bottom

/** The view's extent (map units: x right, y up from the slide's top) on a w x h overview. */
export function overviewBox(extent: number[], scale: number, w: number, h: number): Box {
  const [x0, y0, x1, y1] = extent;
  return [Math.max(0, x0 * scale), Math.max(0, -y1 * scale), Math.min(w, x1 * scale), Math.min(h, -y0 * scale)];
}

/** The box as drawn: at least `min` pixels a side, around the same centre, inside the overview. */
export function visibleBox([left, top, right, bottom]: Box, w: number, h: number, min: number): Box {
  const grow = (lo: number, hi: number, size: number): [number, number] => {
    const side = Math.min(size, Math.max(min, hi - lo));
    const start = Math.min(Math.max(0, (lo + hi) / 2 - side / 2), size - side);
    return [start, start + side];
  };
  const [l, r] = grow(left, right, w);
  const [t, b] = grow(top, bottom, h);
  return [l, t, r, b];
}
