// Coordinate transforms and shape maths between annotation elements (image
// pixels, y down, origin top-left) and map coordinates (y up: map y = -pixel y).
// Pure functions, shared by the viewer and the tests.
import type { AnnotationElement, ShapeElement } from '../types';

export type XY = [number, number];

/** Element types drawn with lines and fills; heatmaps, grids and images have no line style. */
export function isShape(el: AnnotationElement): el is ShapeElement {
  return el.type !== 'heatmap' && el.type !== 'griddata' && el.type !== 'image' && el.type !== 'pixelmap';
}

/** Image pixel to map coordinate. */
export function pixelToMap(x: number, y: number): XY {
  return [x, -y];
}

/** Map coordinate to image pixel. */
export function mapToPixel(mx: number, my: number): XY {
  return [mx, my === 0 ? 0 : -my];
}

/** The map extent [minX, minY, maxX, maxY] covering an image of sizeX x sizeY pixels. */
export function imageExtent(sizeX: number, sizeY: number): [number, number, number, number] {
  return [0, -sizeY, sizeX, 0];
}

/** Map extent to a pixel region {left, top, right, bottom}, clamped to the image. */
export function extentToRegion(
  extent: number[],
  sizeX: number,
  sizeY: number,
): { left: number; top: number; right: number; bottom: number } {
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v));
  const left = clamp(Math.floor(extent[0]), sizeX);
  const right = clamp(Math.ceil(extent[2]), sizeX);
  const top = clamp(Math.floor(-extent[3]), sizeY);
  const bottom = clamp(Math.ceil(-extent[1]), sizeY);
  return { left, top, right: Math.max(left, right), bottom: Math.max(top, bottom) };
}

/** Resolutions of a large_image pyramid: z = 0 is the coarsest level. */
export function levelResolutions(levels: number): number[] {
  return Array.from({ length: levels }, (_, z) => 2 ** (levels - 1 - z));
}

/** Magnification shown at a view resolution (image pixels per screen pixel). */
export function magnificationAt(baseMagnification: number | null | undefined, resolution: number): number | null {
  if (!baseMagnification || !(resolution > 0)) return null;
  return baseMagnification / resolution;
}

/** Resolution that displays the image at the given magnification. */
export function resolutionForMagnification(baseMagnification: number, magnification: number): number {
  return baseMagnification / magnification;
}

/** Corners of a (possibly rotated) rectangle, in pixel coordinates, clockwise from top-left. */
export function rectangleCorners(cx: number, cy: number, width: number, height: number, rotation = 0): XY[] {
  const hw = width / 2;
  const hh = height / 2;
  const cos = Math.cos(rotation);
  const sin = Math.sin(rotation);
  return ([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]] as XY[]).map(([dx, dy]) => [
    cx + dx * cos - dy * sin,
    cy + dx * sin + dy * cos,
  ]);
}

/** A polygon approximating an ellipse (pixel coordinates). */
export function ellipsePoints(cx: number, cy: number, width: number, height: number, rotation = 0, segments = 64): XY[] {
  const cos = Math.cos(rotation);
  const sin = Math.sin(rotation);
  const pts: XY[] = [];
  for (let i = 0; i < segments; i += 1) {
    const t = (i / segments) * Math.PI * 2;
    const dx = (Math.cos(t) * width) / 2;
    const dy = (Math.sin(t) * height) / 2;
    pts.push([cx + dx * cos - dy * sin, cy + dx * sin + dy * cos]);
  }
  return pts;
}

/**
 * Fit a rectangle element to four corners, or return null when the corners
 * are not a rectangle (after a vertex edit the shape becomes a polygon).
 */
export function fitRectangle(corners: XY[], tolerance = 1e-6): { center: XY; width: number; height: number; rotation: number } | null {
  let pts = corners;
  if (pts.length === 5 && pts[0][0] === pts[4][0] && pts[0][1] === pts[4][1]) pts = pts.slice(0, 4);
  if (pts.length !== 4) return null;
  const [a, b, c, d] = pts;
  const ab: XY = [b[0] - a[0], b[1] - a[1]];
  const bc: XY = [c[0] - b[0], c[1] - b[1]];
  const cd: XY = [d[0] - c[0], d[1] - c[1]];
  const da: XY = [a[0] - d[0], a[1] - d[1]];
  const len = (v: XY) => Math.hypot(v[0], v[1]);
  const scale = Math.max(len(ab), len(bc), 1);
  const dot = (u: XY, v: XY) => u[0] * v[0] + u[1] * v[1];
  const tol = tolerance * scale * scale + 1e-9;
  // Opposite sides equal and adjacent sides perpendicular.
  if (Math.abs(ab[0] + cd[0]) > tolerance * scale + 1e-9 || Math.abs(ab[1] + cd[1]) > tolerance * scale + 1e-9) return null;
  if (Math.abs(bc[0] + da[0]) > tolerance * scale + 1e-9 || Math.abs(bc[1] + da[1]) > tolerance * scale + 1e-9) return null;
  if (Math.abs(dot(ab, bc)) > tol) return null;
  const center: XY = [(a[0] + c[0]) / 2, (a[1] + c[1]) / 2];
  let rotation = Math.atan2(ab[1], ab[0]);
  if (Math.abs(rotation) < 1e-12) rotation = 0;
  return { center, width: len(ab), height: len(bc), rotation };
}

/** Pixel-space bounding box [minX, minY, maxX, maxY] of an element, or null for types without geometry. */
export function elementBounds(el: AnnotationElement): [number, number, number, number] | null {
  const pts = elementOutline(el);
  if (!pts || !pts.length) return null;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of pts) {
    if (x < minX) minX = x;
    if (y < minY) minY = y;
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
  }
  return [minX, minY, maxX, maxY];
}

/** The outline points of an element in pixel coordinates (circles and ellipses sampled). */
export function elementOutline(el: AnnotationElement): XY[] | null {
  switch (el.type) {
    case 'point':
      return [[el.center[0], el.center[1]]];
    case 'circle':
      return ellipsePoints(el.center[0], el.center[1], el.radius * 2, el.radius * 2, 0, 32);
    case 'rectangle':
    case 'rectanglegrid':
      return rectangleCorners(el.center[0], el.center[1], el.width, el.height, el.rotation ?? 0);
    case 'ellipse':
      return ellipsePoints(el.center[0], el.center[1], el.width, el.height, el.rotation ?? 0);
    case 'polyline':
    case 'arrow':
      return el.points.map((p) => [p[0], p[1]] as XY);
    default:
      return null;
  }
}

/** Move an element by (dx, dy) pixels, returning a new element. */
export function translateElement<E extends AnnotationElement>(el: E, dx: number, dy: number): E {
  // z defaults to 0; a heatmap point keeps its value
  const move = (p: number[]) => [p[0] + dx, p[1] + dy, p[2] ?? 0, ...p.slice(3)];
  const out: E = { ...el };
  if ('center' in out && out.center) out.center = move(out.center);
  if ('points' in out && out.points) out.points = out.points.map(move);
  if ('holes' in out && out.holes) out.holes = out.holes.map((h) => h.map(move));
  return out;
}

/** Arrow-head wing points for an arrow from `from` to `to` (pixel coordinates). */
export function arrowHead(from: XY, to: XY, fraction = 0.15, minLength = 0): [XY, XY] {
  const dx = to[0] - from[0];
  const dy = to[1] - from[1];
  const length = Math.hypot(dx, dy) || 1;
  const head = Math.max(length * fraction, minLength);
  const ux = dx / length;
  const uy = dy / length;
  const spread = Math.PI / 7;
  const wing = (sign: number): XY => {
    const cos = Math.cos(sign * spread);
    const sin = Math.sin(sign * spread);
    return [to[0] - head * (ux * cos - uy * sin), to[1] - head * (ux * sin + uy * cos)];
  };
  return [wing(1), wing(-1)];
}

/** Area of a simple polygon (pixel units, absolute value). */
export function polygonArea(points: XY[]): number {
  let sum = 0;
  for (let i = 0; i < points.length; i += 1) {
    const [x1, y1] = points[i];
    const [x2, y2] = points[(i + 1) % points.length];
    sum += x1 * y2 - x2 * y1;
  }
  return Math.abs(sum) / 2;
}

/** A new 24-hex element id, as the annotation schema requires. */
export function newElementId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  // Leading 4 bytes as seconds, like an ObjectId, so ids sort by creation.
  const secs = Math.floor(Date.now() / 1000);
  bytes[0] = (secs >>> 24) & 0xff;
  bytes[1] = (secs >>> 16) & 0xff;
  bytes[2] = (secs >>> 8) & 0xff;
  bytes[3] = secs & 0xff;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
