import { describe, expect, it } from 'vitest';
import { frameAxes, frameFor, indicesFor } from '../src/lib/frames';
import { formatLength, formatMagnification, scaleBar } from '../src/lib/scale';
import { canEditAnnotation, folderPermissions } from '../src/lib/access';
import type { TileMetadata } from '../src/types';

const base = { levels: 5, sizeX: 4000, sizeY: 3000, tileWidth: 256, tileHeight: 256 };

describe('frames', () => {
  const meta: TileMetadata = {
    ...base,
    channels: ['DAPI', 'CY5', 'A594'],
    IndexRange: { IndexC: 3, IndexZ: 2 },
    IndexStride: { IndexC: 1, IndexZ: 3 },
    frames: Array.from({ length: 6 }, (_, i) => ({ Frame: i, Index: i, IndexC: i % 3, IndexZ: Math.floor(i / 3) })),
  };

  it('lists axes with channel names', () => {
    const axes = frameAxes(meta);
    expect(axes.map((a) => [a.name, a.size, a.stride])).toEqual([['c', 3, 1], ['z', 2, 3]]);
    expect(axes[0].labels).toEqual(['DAPI', 'CY5', 'A594']);
  });

  it('converts between axis indices and frame numbers', () => {
    expect(frameFor(meta, { IndexC: 2, IndexZ: 1 })).toBe(5);
    expect(indicesFor(meta, 4)).toEqual({ IndexC: 1, IndexZ: 1 });
    for (let f = 0; f < 6; f += 1) expect(frameFor(meta, indicesFor(meta, f))).toBe(f);
  });

  it('treats plain frame lists and single images', () => {
    const plain: TileMetadata = { ...base, frames: [{ Frame: 0 }, { Frame: 1 }, { Frame: 2 }] };
    expect(frameAxes(plain)).toEqual([{ key: 'Index', name: 'frame', size: 3, stride: 1 }]);
    expect(frameFor(plain, { Index: 2 })).toBe(2);
    expect(frameAxes(base)).toEqual([]);
    expect(frameFor(base, {})).toBe(0);
  });
});

describe('scale bar and magnification', () => {
  it('picks round lengths near the target width', () => {
    // 0.25 µm pixels at full resolution: 120 px is 30 µm; nearest round length 20 or 50 -> 20 µm is closer below 1.25x.
    const bar = scaleBar(1, 0.00025, 120)!;
    expect(['20 µm', '50 µm']).toContain(bar.label);
    expect(bar.pixels).toBeGreaterThan(60);
    expect(bar.pixels).toBeLessThan(220);
    const far = scaleBar(256, 0.00025, 120)!;
    expect(far.label).toMatch(/mm$/);
    expect(scaleBar(1, 0)).toBeNull();
  });

  it('formats lengths and magnifications', () => {
    expect(formatLength(0.0005)).toBe('0.5 µm');
    expect(formatLength(2)).toBe('2 mm');
    expect(formatLength(1500)).toBe('1.5 m');
    expect(formatMagnification(40)).toBe('40×');
    expect(formatMagnification(2.5)).toBe('2.5×');
    expect(formatMagnification(0.3125)).toBe('0.31×');
    expect(formatMagnification(null)).toBe('');
  });
});

describe('access', () => {
  it('derives what a collaborator may do', () => {
    expect(folderPermissions(0)).toEqual({ canEdit: false, canShare: false, canAnnotate: false });
    expect(folderPermissions(0, true)).toEqual({ canEdit: false, canShare: false, canAnnotate: true });
    expect(folderPermissions(1)).toEqual({ canEdit: true, canShare: false, canAnnotate: true });
    expect(folderPermissions(2)).toEqual({ canEdit: true, canShare: true, canAnnotate: true });
    expect(folderPermissions(undefined).canEdit).toBe(false);
    expect(canEditAnnotation(0)).toBe(false);
    expect(canEditAnnotation(2)).toBe(true);
  });
});
