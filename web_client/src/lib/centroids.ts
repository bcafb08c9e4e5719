// Decoder for `GET /annotation/:id?centroids=true`: the annotation JSON up to
// `"elements": [`, a NUL byte, 28 bytes per element, a NUL byte, then the rest
// of the JSON (whose `_elementQuery.props` holds the style table).
import type { Annotation } from '../types';

export const CENTROID_RECORD_BYTES = 28;

export interface CentroidStyle {
  type: string;
  fillColor: string | null;
  lineColor: string | null;
  lineWidth: number | null;
  closed: boolean | null;
}

export interface Centroids {
  annotation: Annotation;
  count: number;
  /** Element ids as 24-hex strings, in record order. */
  ids: string[];
  /** Interleaved x, y of each element's bounding-box centre (base pixels). */
  xy: Float32Array;
  /** Bounding-box size per element; 0 for points. */
  size: Float32Array;
  /** Index into `styles` per element. */
  styleIndex: Int32Array;
  styles: CentroidStyle[];
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Decode a centroids answer into typed arrays and the annotation document. */
export function decodeCentroids(buffer: ArrayBuffer): Centroids {
  const bytes = new Uint8Array(buffer);
  const first = bytes.indexOf(0);
  // JSON text never holds a raw NUL, so the last NUL ends the binary block
  // even when record bytes themselves contain zeros.
  const last = bytes.lastIndexOf(0);
  if (first < 0 || last <= first) {
    throw new Error('Not a centroids answer: the binary markers are missing');
  }
  const binaryLength = last - first - 1;
  if (binaryLength % CENTROID_RECORD_BYTES !== 0) {
    throw new Error(`Centroids block of ${binaryLength} bytes is not a multiple of ${CENTROID_RECORD_BYTES}`);
  }
  const decoder = new TextDecoder();
  const head = decoder.decode(bytes.subarray(0, first));
  const tail = decoder.decode(bytes.subarray(last + 1));
  const annotation = JSON.parse(head + tail) as Annotation;
  const count = binaryLength / CENTROID_RECORD_BYTES;
  const view = new DataView(buffer, first + 1, binaryLength);
  const ids = new Array<string>(count);
  const xy = new Float32Array(count * 2);
  const size = new Float32Array(count);
  const styleIndex = new Int32Array(count);
  for (let i = 0, o = 0; i < count; i += 1, o += CENTROID_RECORD_BYTES) {
    let id = '';
    for (let b = 0; b < 12; b += 1) id += HEX[view.getUint8(o + b)];
    ids[i] = id;
    xy[i * 2] = view.getFloat32(o + 12, true);
    xy[i * 2 + 1] = view.getFloat32(o + 16, true);
    size[i] = view.getFloat32(o + 20, true);
    styleIndex[i] = view.getInt32(o + 24, true);
  }
  const props = (annotation._elementQuery?.props ?? []) as unknown[][];
  const styles = props.map((p) => ({
    type: String(p[0] ?? 'point'),
    fillColor: (p[1] as string | null) ?? null,
    lineColor: (p[2] as string | null) ?? null,
    lineWidth: (p[3] as number | null) ?? null,
    closed: (p[4] as boolean | null) ?? null,
  }));
  return { annotation, count, ids, xy, size, styleIndex, styles };
}
