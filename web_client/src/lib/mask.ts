// Label masks for pixel labelling: one byte per mask pixel holding a class
// value (0 = unlabelled), saved as a grayscale PNG of class indices.
import type { LabelClass } from '../types';

/** A labelling class as the server stores it on the folder: mask value, name, colour. */
export type { LabelClass };

export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}


/** Mask pixels per image pixel side: a power of two keeping the mask within maxSide. */
export function maskScale(sizeX: number, sizeY: number, maxSide = 4096): number {
  const longest = Math.max(sizeX, sizeY, 1);
  return 2 ** Math.max(0, Math.ceil(Math.log2(longest / maxSide)));
}

export function createMask(width: number, height: number): Mask {
  return { width, height, data: new Uint8Array(width * height) };
}

export function emptyRect(): Rect {
  return { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
}

export function unionRect(a: Rect, b: Rect): Rect {
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

export function isEmptyRect(r: Rect): boolean {
  return r.x1 <= r.x0 || r.y1 <= r.y0;
}

/** Paint a filled disc of `value`; returns the touched rectangle (x1, y1 exclusive). */
export function stampDisc(mask: Mask, cx: number, cy: number, radius: number, value: number): Rect {
  const r = Math.max(0.5, radius);
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(mask.width, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(mask.height, Math.ceil(cy + r));
  const r2 = r * r;
  for (let y = y0; y < y1; y += 1) {
    const dy = y + 0.5 - cy;
    const row = y * mask.width;
    for (let x = x0; x < x1; x += 1) {
      const dx = x + 0.5 - cx;
      if (dx * dx + dy * dy <= r2) mask.data[row + x] = value;
    }
  }
  return x1 > x0 && y1 > y0 ? { x0, y0, x1, y1 } : emptyRect();
}

/** Paint a stroke from one point to another with discs close enough to leave no gaps. */
export function strokeLine(mask: Mask, ax: number, ay: number, bx: number, by: number, radius: number, value: number): Rect {
  const dist = Math.hypot(bx - ax, by - ay);
  const step = Math.max(0.5, radius / 2);
  const n = Math.max(1, Math.ceil(dist / step));
  let dirty = emptyRect();
  for (let i = 0; i <= n; i += 1) {
    const t = i / n;
    dirty = unionRect(dirty, stampDisc(mask, ax + (bx - ax) * t, ay + (by - ay) * t, radius, value));
  }
  return dirty;
}

/** Copy a rectangle of the mask (for undo). */
export function extractPatch(mask: Mask, r: Rect): Uint8Array {
  const w = r.x1 - r.x0;
  const out = new Uint8Array(Math.max(0, w * (r.y1 - r.y0)));
  for (let y = r.y0; y < r.y1; y += 1) {
    out.set(mask.data.subarray(y * mask.width + r.x0, y * mask.width + r.x1), (y - r.y0) * w);
  }
  return out;
}

/** Write back a rectangle copied by extractPatch. */
export function restorePatch(mask: Mask, r: Rect, patch: Uint8Array): void {
  const w = r.x1 - r.x0;
  for (let y = r.y0; y < r.y1; y += 1) {
    mask.data.set(patch.subarray((y - r.y0) * w, (y - r.y0 + 1) * w), y * mask.width + r.x0);
  }
}

/** Parse "#rgb", "#rrggbb(aa)", "rgb()/rgba()" into [r, g, b, a 0-1]. */
export function parseColor(color: string | undefined | null, fallback: [number, number, number, number] = [0, 0, 0, 1]): [number, number, number, number] {
  if (!color) return fallback;
  const c = color.trim();
  let m = /^#([0-9a-f]{3,4})$/i.exec(c);
  if (m) {
    const h = m[1];
    const v = (i: number) => parseInt(h[i] + h[i], 16);
    return [v(0), v(1), v(2), h.length === 4 ? v(3) / 255 : 1];
  }
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(c);
  if (m) {
    const v = (i: number) => parseInt(m![1].slice(i, i + 2), 16);
    return [v(0), v(2), v(4), m[2] ? parseInt(m[2], 16) / 255 : 1];
  }
  m = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$/i.exec(c);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])];
  return fallback;
}

/** Fill an RGBA buffer (display) for a rectangle from class colours by value; 0 is transparent. */
export function colorize(mask: Mask, rgba: Uint8ClampedArray, palette: Array<[number, number, number, number]>, r: Rect, alpha = 0.5): void {
  for (let y = r.y0; y < r.y1; y += 1) {
    for (let x = r.x0; x < r.x1; x += 1) {
      const i = y * mask.width + x;
      const v = mask.data[i];
      const o = i * 4;
      const col = v ? palette[v] : undefined;
      if (!col) {
        rgba[o + 3] = 0;
        continue;
      }
      rgba[o] = col[0];
      rgba[o + 1] = col[1];
      rgba[o + 2] = col[2];
      rgba[o + 3] = Math.round(col[3] * alpha * 255);
    }
  }
}

/** A mask from decoded image pixels (RGBA, gray in R); values not in `known` read as unlabelled. */
export function decodeGray(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number, known: Set<number>): Mask {
  const mask = createMask(width, height);
  for (let i = 0; i < width * height; i += 1) {
    const v = rgba[i * 4];
    mask.data[i] = known.has(v) ? v : 0;
  }
  return mask;
}

/** Nearest-neighbour resize (a mask saved at another scale). */
export function resizeMask(src: Mask, width: number, height: number): Mask {
  const out = createMask(width, height);
  for (let y = 0; y < height; y += 1) {
    const sy = Math.min(src.height - 1, Math.floor(((y + 0.5) * src.height) / height));
    for (let x = 0; x < width; x += 1) {
      const sx = Math.min(src.width - 1, Math.floor(((x + 0.5) * src.width) / width));
      out.data[y * width + x] = src.data[sy * src.width + sx];
    }
  }
  return out;
}

/** Count of mask pixels per value. */
export function histogram(mask: Mask, size = 256): number[] {
  const counts = new Array<number>(size).fill(0);
  for (const v of mask.data) if (v < size) counts[v] += 1;
  return counts;
}
