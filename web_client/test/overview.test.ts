import { describe, expect, it } from 'vitest';
import { overviewBox, visibleBox } from '../src/lib/overview';

describe('overview box', () => {
  // a 1000 x 500 slide on a 200 x 100 overview (scale 0.2); map y grows upwards
  it('maps the view extent onto the overview and clips it', () => {
    expect(overviewBox([100, -300, 600, -50], 0.2, 200, 100)).toEqual([20, 10, 120, 60]);
    expect(overviewBox([-100, -700, 1200, 100], 0.2, 200, 100)).toEqual([0, 0, 200, 100]);
  });

  it('keeps a tiny view findable: at least the minimum size, same centre', () => {
    const box = visibleBox([50, 40, 50.5, 40.3], 200, 100, 8);
    expect(box[2] - box[0]).toBe(8);
    expect(box[3] - box[1]).toBe(8);
    expect((box[0] + box[2]) / 2).toBeCloseTo(50.25);
  });

  it('stays inside the overview at its edges', () => {
    expect(visibleBox([199.5, 99.8, 200, 100], 200, 100, 8)).toEqual([192, 92, 200, 100]);
    expect(visibleBox([0, 0, 1, 1], 200, 100, 8)).toEqual([0, 0, 8, 8]);
    expect(visibleBox([20, 10, 120, 60], 200, 100, 8)).toEqual([20, 10, 120, 60]);
  });
});
