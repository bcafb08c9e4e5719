// Superpixels to paint with (seed 001): the server answers a region of the
// image as a PNG whose pixels are segment ids (r + 256 g + 65536 b), at
// `scale` image pixels per PNG pixel. Clicking a segment paints every mask
// pixel whose centre falls in it.
import { emptyRect, type Mask, type Rect } from './mask';

export const ALGORITHMS = [
  { value: 'slic', label: 'SLIC' },
  { value: 'felzenszwalb', label: 'Felzenszwalb' },
  { value: 'quickshift', label: 'Quickshift' },
  { value: 'watershed', label: 'Watershed' },
] as const;
export type Algorithm = (typeof ALGORITHMS)[number]['value'];

export interface Segments {
  ids: Uint32Array;
  width: number;
  height: number;
  /** Image pixel of the PNG's top left corner. */
  left: number;
  top: number;
  /** Image pixels per PNG pixel. */
  scale: number;
  count: number;
  /** Per id, its bounding box in PNG pixels: x0, y0, x1, y1 (exclusive). */
  boxes: Int32Array;
}

/** Read the ids of a decoded RGBA image and index each segment's bounding box. */
export function decodeSegments(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number, region: { left: number; top: number; scale: number }): Segments {
  const ids = new Uint32Array(width * height);
  let count = 0;
  for (let i = 0, p = 0; i < ids.length; i += 1, p += 4) {
    const id = rgba[p] + (rgba[p + 1] << 8) + (rgba[p + 2] << 16);
    ids[i] = id;
    if (id >= count) count = id + 1;
  }
  const boxes = new Int32Array(count * 4);
  for (let k = 0; k < count; k += 1) boxes.set([width, height, 0, 0], k * 4);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const b = ids[y * width + x] * 4;
      if (x < boxes[b]) boxes[b] = x;
      if (y < boxes[b + 1]) boxes[b + 1] = y;
      if (x + 1 > boxes[b + 2]) boxes[b + 2] = x + 1;
      if (y + 1 > boxes[b + 3]) boxes[b + 3] = y + 1;
    }
  }
  return { ids, width, height, left: region.left, top: region.top, scale: region.scale, count, boxes };
}

/** The segment under an image pixel, or -1 outside the computed region. */
export function segmentAt(seg: Segments, x: number, y: number): number {
  const sx = Math.floor((x - seg.left) / seg.scale);
  const sy = Math.floor((y - seg.top) / seg.scale);
  if (sx < 0 || sy < 0 || sx >= seg.width || sy >= seg.height) return -1;
  return seg.ids[sy * seg.width + sx];
}

/** Set every mask pixel whose centre lies in segment `id` to `value`; returns the touched rectangle. */
export function paintSegment(mask: Mask, maskScale: number, seg: Segments, id: number, value: number): Rect {
  if (id < 0 || id >= seg.count) return emptyRect();
  const b = id * 4;
  const k = seg.scale / maskScale; // mask pixels per segment pixel
  const ox = seg.left / maskScale;
  const oy = seg.top / maskScale;
  const x0 = Math.max(0, Math.floor(ox + seg.boxes[b] * k));
  const y0 = Math.max(0, Math.floor(oy + seg.boxes[b + 1] * k));
  const x1 = Math.min(mask.width, Math.ceil(ox + seg.boxes[b + 2] * k));
  const y1 = Math.min(mask.height, Math.ceil(oy + seg.boxes[b + 3] * k));
  const out = emptyRect();
  for (let my = y0; my < y1; my += 1) {
    const sy = Math.floor((my + 0.5 - oy) / k);
    if (sy < 0 || sy >= seg.height) continue;
    const srow = sy * seg.width;
    const mrow = my * mask.width;
    for (let mx = x0; mx < x1; mx += 1) {
      const sx = Math.floor((mx + 0.5 - ox) / k);
      if (sx < 0 || sx >= seg.width || seg.ids[srow + sx] !== id) continue;
      mask.data[mrow + mx] = value;
      if (mx < out.x0) out.x0 = mx;
      if (my < out.y0) out.y0 = my;
      if (mx + 1 > out.x1) out.x1 = mx + 1;
      if (my + 1 > out.y1) out.y1 = my + 1;
    }
  }
  return out;
}

/** RGBA of the segment outlines (pixels whose right or lower neighbour differs), for display. */
export function segmentOutlines(seg: Segments, color: [number, number, number, number] = [255, 255, 0, 200]): Uint8ClampedArray<ArrayBuffer> {
  const { ids, width, height } = seg;
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = y * width + x;
      const edge = (x + 1 < width && ids[i + 1] !== ids[i]) || (y + 1 < height && ids[i + width] !== ids[i]);
      if (edge) out.set(color, i * 4);
    }
  }
  return out;
}

/**
 * The borders between segments as line segments `x0, y0, x1, y1` in PNG pixel
 * coordinates (pixel (x, y) covers x..x+1, y..y+1), each straight run merged
 * into one. Stroked as vectors they keep one screen width at any zoom, where
 * an outline raster would grow thick as the view zooms past the PNG's pixels.
 */
export function segmentBorders(seg: Pick<Segments, 'ids' | 'width' | 'height'>): Float32Array {
  const { ids, width, height } = seg;
  const out: number[] = [];
  // Vertical borders: between columns x and x + 1, at X = x + 1.
  for (let x = 0; x + 1 < width; x += 1) {
    let start = -1;
    for (let y = 0; y <= height; y += 1) {
      const differs = y < height && ids[y * width + x] !== ids[y * width + x + 1];
      if (differs && start < 0) start = y;
      else if (!differs && start >= 0) {
        out.push(x + 1, start, x + 1, y);
        start = -1;
      }
    }
  }
  // Horizontal borders: between rows y and y + 1, at Y = y + 1.
  for (let y = 0; y + 1 < height; y += 1) {
    const row = y * width;
    let start = -1;
    for (let x = 0; x <= width; x += 1) {
      const differs = x < width && ids[row + x] !== ids[row + width + x];
      if (differs && start < 0) start = x;
      else if (!differs && start >= 0) {
        out.push(start, y + 1, x, y + 1);
        start = -1;
      }
    }
  }
  return Float32Array.from(out);
}
