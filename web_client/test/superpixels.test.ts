import { describe, expect, it } from 'vitest';
import { createMask, isEmptyRect } from '../src/lib/mask';
import { decodeSegments, paintSegment, segmentAt, segmentBorders, segmentOutlines } from '../src/lib/superpixels';

/** RGBA pixels of an id image, encoded as the server does: id = r + 256 g + 65536 b. */
function encode(ids: number[][]): Uint8ClampedArray {
  const h = ids.length;
  const w = ids[0].length;
  const out = new Uint8ClampedArray(w * h * 4);
  ids.flat().forEach((id, i) => out.set([id & 255, (id >> 8) & 255, (id >> 16) & 255, 255], i * 4));
  return out;
}

// 4x2 segment pixels: id 0 on the left half, id 1 top right, id 300 bottom right.
const GRID = [[0, 0, 1, 1], [0, 0, 300, 300]];

describe('superpixels', () => {
  it('decodes ids across all three bytes and boxes each segment', () => {
    const seg = decodeSegments(encode(GRID), 4, 2, { left: 0, top: 0, scale: 1 });
    expect(seg.count).toBe(301);
    expect(Array.from(seg.ids)).toEqual([0, 0, 1, 1, 0, 0, 300, 300]);
    expect(Array.from(seg.boxes.slice(300 * 4, 301 * 4))).toEqual([2, 1, 4, 2]);
    expect(Array.from(seg.boxes.slice(0, 4))).toEqual([0, 0, 2, 2]);
  });

  it('finds the segment under an image pixel, with region offset and scale', () => {
    // The PNG covers image pixels 100..180 x 50..90 at 20 image pixels per PNG pixel.
    const seg = decodeSegments(encode(GRID), 4, 2, { left: 100, top: 50, scale: 20 });
    expect(segmentAt(seg, 105, 55)).toBe(0);
    expect(segmentAt(seg, 179, 51)).toBe(1);
    expect(segmentAt(seg, 150, 89)).toBe(300);
    expect(segmentAt(seg, 99, 60)).toBe(-1);
    expect(segmentAt(seg, 180, 60)).toBe(-1);
  });

  it('paints exactly the mask pixels whose centres fall in the segment', () => {
    // Mask at 10 image pixels per mask pixel over a 200x100 image: 20x10 mask pixels.
    const mask = createMask(20, 10);
    const seg = decodeSegments(encode(GRID), 4, 2, { left: 100, top: 50, scale: 20 });
    const r = paintSegment(mask, 10, seg, 300, 7);
    // Segment 300 covers image x 140..180, y 70..90: mask x 14..18, y 7..9.
    expect(r).toEqual({ x0: 14, y0: 7, x1: 18, y1: 9 });
    let painted = 0;
    mask.data.forEach((v, i) => {
      if (v) {
        painted += 1;
        const x = i % 20;
        const y = Math.floor(i / 20);
        expect(v).toBe(7);
        expect(x >= 14 && x < 18 && y >= 7 && y < 9).toBe(true);
      }
    });
    expect(painted).toBe(8);
    // Erasing is painting 0; a segment id that does not exist touches nothing.
    paintSegment(mask, 10, seg, 300, 0);
    expect(mask.data.every((v) => v === 0)).toBe(true);
    expect(isEmptyRect(paintSegment(mask, 10, seg, 5, 1))).toBe(true);
  });

  it('outlines segment borders only', () => {
    const seg = decodeSegments(encode(GRID), 4, 2, { left: 0, top: 0, scale: 1 });
    const rgba = segmentOutlines(seg);
    const edge = Array.from({ length: 8 }, (_, i) => rgba[i * 4 + 3] > 0);
    // Pixel (1,0) borders id 1 on its right; (2,0) borders 300 below; (0,0) is inside.
    expect(edge).toEqual([false, true, true, true, false, true, false, false]);
  });

  it('traces borders as merged vector runs for a constant screen width', () => {
    const seg = decodeSegments(encode(GRID), 4, 2, { left: 0, top: 0, scale: 1 });
    // One vertical run at x = 2 down both rows, one horizontal run at y = 1 under id 1.
    expect(Array.from(segmentBorders(seg))).toEqual([2, 0, 2, 2, 2, 1, 4, 1]);
    // A single segment has no borders; a checkerboard has one unit edge per differing pair.
    expect(segmentBorders({ ids: new Uint32Array(9), width: 3, height: 3 }).length).toBe(0);
    const checker = segmentBorders({ ids: Uint32Array.from([0, 1, 1, 0]), width: 2, height: 2 });
    expect(Array.from(checker)).toEqual([1, 0, 1, 2, 0, 1, 2, 1]);
  });
});
