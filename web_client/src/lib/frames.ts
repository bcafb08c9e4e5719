// Multi-frame images: large_image lists `frames` with per-axis indices
// (IndexC, IndexZ, IndexT, IndexXY, ...) and `IndexStride` per axis, so the
// frame number for a choice of axis values is the sum of index * stride.
import type { TileMetadata } from '../types';

export interface FrameAxis {
  /** Metadata key, e.g. "IndexC". */
  key: string;
  /** Short name for the UI: "c", "z", "t", "xy". */
  name: string;
  size: number;
  stride: number;
  /** Names of the values (channel names for IndexC), when known. */
  labels?: string[];
}

/** The axes a multi-frame image varies along; empty for single-frame images. */
export function frameAxes(meta: TileMetadata): FrameAxis[] {
  const frames = meta.frames ?? [];
  if (frames.length <= 1) return [];
  const range = meta.IndexRange ?? {};
  const stride = meta.IndexStride ?? {};
  const keys = Object.keys(range).filter((k) => k !== 'Index' && range[k] > 1);
  if (!keys.length) {
    return [{ key: 'Index', name: 'frame', size: frames.length, stride: 1 }];
  }
  const order = ['IndexC', 'IndexZ', 'IndexT', 'IndexXY'];
  keys.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
  return keys.map((key) => ({
    key,
    name: key.replace(/^Index/, '').toLowerCase(),
    size: range[key],
    stride: stride[key] ?? 1,
    labels: key === 'IndexC' && meta.channels?.length === range[key] ? meta.channels : undefined,
  }));
}

/** Frame number for axis indices; falls back to searching the frame list. */
export function frameFor(meta: TileMetadata, indices: Record<string, number>): number {
  const axes = frameAxes(meta);
  if (!axes.length) return 0;
  if (axes.length === 1 && axes[0].key === 'Index') return indices.Index ?? 0;
  const frames = meta.frames ?? [];
  const match = frames.find((f) => axes.every((a) => (f[a.key] ?? 0) === (indices[a.key] ?? 0)));
  if (match) return match.Frame;
  const byStride = axes.reduce((sum, a) => sum + (indices[a.key] ?? 0) * a.stride, 0);
  return Math.min(Math.max(0, byStride), frames.length - 1);
}

/** Axis indices of a frame number. */
export function indicesFor(meta: TileMetadata, frame: number): Record<string, number> {
  const axes = frameAxes(meta);
  const f = (meta.frames ?? []).find((fr) => fr.Frame === frame);
  const out: Record<string, number> = {};
  for (const a of axes) {
    if (a.key === 'Index') out.Index = frame;
    else out[a.key] = f?.[a.key] ?? Math.floor(frame / a.stride) % a.size;
  }
  return out;
}
