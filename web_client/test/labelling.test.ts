import { describe, expect, it } from 'vitest';
import {
  colorize, createMask, decodeGray, extractPatch, histogram, maskScale, parseColor, resizeMask, restorePatch,
  stampDisc, strokeLine,
} from '../src/lib/mask';
import { crc32, encodeGrayPng } from '../src/lib/png';
import { inflateSync } from 'node:zlib';
import { NONE_KEY, itemTags, nextIndex, parseTagLines, parseTagset, tagForKey, tagLines, tagSetupFromMeta, pressTag } from '../src/lib/tags';

describe('label masks', () => {
  it('chooses a power-of-two scale that bounds the mask', () => {
    expect(maskScale(2000, 1000)).toBe(1);
    expect(maskScale(100000, 80000)).toBe(32);
    expect(Math.ceil(100000 / maskScale(100000, 80000))).toBeLessThanOrEqual(4096);
  });

  it('stamps discs and strokes, reporting the dirty rectangle', () => {
    const m = createMask(50, 40);
    const r = stampDisc(m, 10, 10, 3, 2);
    expect(r).toEqual({ x0: 7, y0: 7, x1: 13, y1: 13 });
    expect(m.data[10 * 50 + 10]).toBe(2);
    expect(m.data[10 * 50 + 14]).toBe(0);
    const s = strokeLine(m, 5, 30, 45, 30, 2, 1);
    for (let x = 5; x < 45; x += 1) expect(m.data[30 * 50 + x], `x=${x}`).toBe(1);
    expect(s.x0).toBe(3);
    expect(s.x1).toBe(47);
    // Clipped at the edges.
    expect(stampDisc(m, 0, 0, 5, 3)).toEqual({ x0: 0, y0: 0, x1: 5, y1: 5 });
  });

  it('restores patches for undo', () => {
    const m = createMask(20, 20);
    const rect = { x0: 1, y0: 1, x1: 12, y1: 12 };
    const before = extractPatch(m, rect);
    stampDisc(m, 6, 6, 4, 5);
    expect(histogram(m)[5]).toBeGreaterThan(0);
    restorePatch(m, rect, before);
    expect(histogram(m)[5]).toBe(0);
  });

  it('reads masks back from decoded pixels and resizes them', () => {
    const rgba = new Uint8ClampedArray([0, 0, 0, 255, 1, 1, 1, 255, 2, 2, 2, 255, 7, 7, 7, 255]);
    expect(Array.from(decodeGray(rgba, 2, 2, new Set([0, 1, 2])).data)).toEqual([0, 1, 2, 0]);
    const m = createMask(2, 2);
    m.data.set([1, 2, 3, 4]);
    expect(Array.from(resizeMask(m, 4, 4).data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('writes valid 8-bit grayscale PNGs of class indices', async () => {
    const px = new Uint8Array([0, 1, 2, 3, 250, 251, 252, 253]);
    const png = new Uint8Array(await (await encodeGrayPng(px, 4, 2)).arrayBuffer());
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const view = new DataView(png.buffer);
    // IHDR: 4 x 2, bit depth 8, colour type 0 (grayscale), with a correct CRC.
    expect(new TextDecoder().decode(png.subarray(12, 16))).toBe('IHDR');
    expect([view.getUint32(16), view.getUint32(20), png[24], png[25]]).toEqual([4, 2, 8, 0]);
    expect(view.getUint32(29)).toBe((crc32(png.subarray(12, 29)) ^ 0xffffffff) >>> 0);
    const idatLen = view.getUint32(33);
    expect(new TextDecoder().decode(png.subarray(37, 41))).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    expect(Array.from(raw)).toEqual([0, 0, 1, 2, 3, 0, 250, 251, 252, 253]);
    expect(new TextDecoder().decode(png.subarray(png.length - 8, png.length - 4))).toBe('IEND');
    await expect(encodeGrayPng(px, 3, 3)).rejects.toThrow(/Expected 9/);
  });

  it('colours the display and parses colours', () => {
    const m = createMask(2, 1);
    m.data.set([0, 1]);
    const rgba = new Uint8ClampedArray(8);
    colorize(m, rgba, [[0, 0, 0, 0], [255, 0, 0, 1]], { x0: 0, y0: 0, x1: 2, y1: 1 }, 0.5);
    expect(Array.from(rgba)).toEqual([0, 0, 0, 0, 255, 0, 0, 128]);
    expect(parseColor('#0f08')).toEqual([0, 255, 0, 136 / 255]);
    expect(parseColor('#336699')).toEqual([51, 102, 153, 1]);
    expect(parseColor('rgba(1, 2, 3, 0.5)')).toEqual([1, 2, 3, 0.5]);
    expect(parseColor('nonsense', [9, 9, 9, 1])).toEqual([9, 9, 9, 1]);
  });

});

describe('fast tagging', () => {
  const setup = parseTagset({ tags: [{ code: '100', alias: 'Clear weather' }, { code: '200', alias: 'Rainy', key: 'R' }, { code: '300' }], multiple: false });

  it('reads tag sets with aliases and keys', () => {
    expect(setup.tags).toEqual([
      { code: '100', alias: 'Clear weather', key: '1' },
      { code: '200', alias: 'Rainy', key: 'r' },
      { code: '300', alias: '300', key: '3' },
    ]);
    expect(setup.multiple).toBe(false);
    // Duplicates, empty codes and the reserved "f" key are dropped.
    expect(parseTagset({ tags: [{ code: 'a', key: 'f' }, { code: 'a' }, { code: '' }] }).tags).toEqual([{ code: 'a', alias: 'a', key: null }]);
    expect(parseTagset(null)).toEqual({ tags: [], multiple: false });
  });

  it('falls back to tags in folder metadata', () => {
    expect(tagSetupFromMeta({ tags: 'Tumour, Normal ,Tumour' })).toEqual({
      tags: [{ code: 'Tumour', alias: 'Tumour', key: '1' }, { code: 'Normal', alias: 'Normal', key: '2' }], multiple: true,
    });
    expect(tagSetupFromMeta({ tags: ['x'], tagMode: 'single' }).multiple).toBe(false);
    expect(tagSetupFromMeta(undefined).tags).toEqual([]);
  });

  it('maps keys to tags', () => {
    expect(tagForKey('1', setup)?.code).toBe('100');
    expect(tagForKey('R', setup)?.code).toBe('200');
    expect(tagForKey('2', setup)).toBeUndefined();
    expect(tagForKey(NONE_KEY, setup)).toBeUndefined();
  });

  it('toggles tags with several per image, sets the one tag otherwise', () => {
    const multi = { ...setup, multiple: true };
    expect(pressTag([], '200', multi)).toEqual(['200']);
    expect(pressTag(['300'], '100', multi)).toEqual(['100', '300']);
    expect(pressTag(['100', '300'], '100', multi)).toEqual(['300']);
    expect(pressTag(['100'], '200', setup)).toEqual(['200']);
    expect(pressTag(['200'], '200', setup)).toEqual(['200']);
    expect(itemTags({ tags: 'x' })).toEqual(['x']);
    expect(itemTags({})).toEqual([]);
  });

  it('moves to the next or previous item, optionally skipping tagged ones', () => {
    const t = [['a'], [], ['b'], [], ['c']];
    expect(nextIndex(t, 0, 1)).toBe(1);
    expect(nextIndex(t, 1, 1, true)).toBe(3);
    expect(nextIndex(t, 3, 1, true)).toBe(3);
    expect(nextIndex(t, 3, -1, true)).toBe(1);
    expect(nextIndex(t, 0, -1)).toBe(0);
  });

  it('edits tag sets as text', () => {
    expect(parseTagLines('100 = Clear weather [c]\n200\n 300 = Foggy')).toEqual([
      { code: '100', alias: 'Clear weather', key: 'c' }, { code: '200', alias: '200' }, { code: '300', alias: 'Foggy' },
    ]);
    expect(tagLines(setup)).toBe('100 = Clear weather [1]\n200 = Rainy [r]\n300 [3]');
  });
});
