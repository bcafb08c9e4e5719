import { describe, expect, it } from 'vitest';
import { CENTROID_RECORD_BYTES, decodeCentroids } from '../src/lib/centroids';

/** Build a centroids answer the way girder_large_image_annotation streams it. */
function encode(head: string, records: Array<[string, number, number, number, number]>, tail: string): ArrayBuffer {
  const enc = new TextEncoder();
  const h = enc.encode(head);
  const t = enc.encode(tail);
  const buf = new ArrayBuffer(h.length + 1 + records.length * CENTROID_RECORD_BYTES + 1 + t.length);
  const bytes = new Uint8Array(buf);
  bytes.set(h, 0);
  let o = h.length + 1;
  const view = new DataView(buf);
  for (const [id, x, y, size, style] of records) {
    for (let b = 0; b < 12; b += 1) view.setUint8(o + b, parseInt(id.slice(b * 2, b * 2 + 2), 16));
    view.setFloat32(o + 12, x, true);
    view.setFloat32(o + 16, y, true);
    view.setFloat32(o + 20, size, true);
    view.setInt32(o + 24, style, true);
    o += CENTROID_RECORD_BYTES;
  }
  bytes.set(t, o + 1);
  return buf;
}

const HEAD = '{"_id": "5f0000000000000000000001", "annotation": {"name": "nuclei", "elements": [';
const TAIL = '], "description": ""}, "itemId": "5f0000000000000000000002", "_elementQuery": {"count": 3, "returned": 3, "props": [["point", "#f00", "#000", 2, null], ["polyline", "rgba(0,0,255,0.5)", "#00f", 1, true]]}}';

describe('decodeCentroids', () => {
  it('decodes ids, positions, sizes, styles and the JSON around the records', () => {
    const recs: Array<[string, number, number, number, number]> = [
      ['0123456789abcdef01234567', 10.5, 20.25, 0, 0],
      ['ffeeddccbbaa998877665544', 1000, 2000, 37.5, 1],
      // Zero bytes and a 0x00,0x5d ("\0]") pair inside a record must not end the block early.
      ['000000000000000000005d00', 0, 0, 0, 1],
    ];
    const c = decodeCentroids(encode(HEAD, recs, TAIL));
    expect(c.count).toBe(3);
    expect(c.ids).toEqual(recs.map((r) => r[0]));
    expect(Array.from(c.xy)).toEqual([10.5, 20.25, 1000, 2000, 0, 0]);
    expect(Array.from(c.size)).toEqual([0, 37.5, 0]);
    expect(Array.from(c.styleIndex)).toEqual([0, 1, 1]);
    expect(c.styles[1]).toEqual({ type: 'polyline', fillColor: 'rgba(0,0,255,0.5)', lineColor: '#00f', lineWidth: 1, closed: true });
    expect(c.annotation.annotation.name).toBe('nuclei');
    expect(c.annotation.annotation.elements).toEqual([]);
    expect(c.annotation._elementQuery?.count).toBe(3);
  });

  it('accepts compact JSON and an empty element list', () => {
    const c = decodeCentroids(encode('{"annotation":{"elements":[', [], ']},"_elementQuery":{"count":0,"returned":0,"props":[]}}'));
    expect(c.count).toBe(0);
    expect(c.styles).toEqual([]);
  });

  it('rejects answers without the binary markers or with a torn record', () => {
    expect(() => decodeCentroids(new TextEncoder().encode('{"annotation": {}}').buffer as ArrayBuffer)).toThrow(/markers/);
    const good = new Uint8Array(encode(HEAD, [['0123456789abcdef01234567', 1, 2, 3, 0]], TAIL));
    const torn = new Uint8Array(good.length - 5);
    torn.set(good.subarray(0, HEAD.length + 1 + 20));
    torn.set(good.subarray(HEAD.length + 1 + 25), HEAD.length + 1 + 20);
    expect(() => decodeCentroids(torn.buffer)).toThrow(/multiple of 28/);
  });
});
