import { describe, expect, it } from 'vitest';
import {
  arrowHead, elementBounds, ellipsePoints, extentToRegion, fitRectangle, imageExtent, levelResolutions,
  magnificationAt, mapToPixel, newElementId, pixelToMap, polygonArea, rectangleCorners, resolutionForMagnification,
  translateElement,
} from '../src/lib/geometry';

describe('coordinate transforms', () => {
  it('flips y between image pixels and map coordinates', () => {
    expect(pixelToMap(10, 20)).toEqual([10, -20]);
    expect(mapToPixel(10, -20)).toEqual([10, 20]);
    expect(mapToPixel(...pixelToMap(0, 0))).toEqual([0, 0]);
    expect(imageExtent(4000, 3000)).toEqual([0, -3000, 4000, 0]);
  });

  it('turns a map extent into a clamped pixel region for annotation queries', () => {
    expect(extentToRegion([100.2, -800.7, 500.5, -200.1], 4000, 3000)).toEqual({ left: 100, top: 200, right: 501, bottom: 801 });
    expect(extentToRegion([-50, -5000, 9000, 100], 4000, 3000)).toEqual({ left: 0, top: 0, right: 4000, bottom: 3000 });
    // A view entirely off the image gives an empty region, never an inverted one.
    expect(extentToRegion([5000, -100, 6000, 0], 4000, 3000)).toEqual({ left: 4000, top: 0, right: 4000, bottom: 100 });
  });

  it('maps pyramid levels and magnification', () => {
    expect(levelResolutions(4)).toEqual([8, 4, 2, 1]);
    expect(magnificationAt(40, 4)).toBe(10);
    expect(magnificationAt(null, 4)).toBeNull();
    expect(resolutionForMagnification(40, 20)).toBe(2);
  });
});

describe('shapes', () => {
  it('builds and fits rotated rectangles', () => {
    const corners = rectangleCorners(100, 50, 40, 20, Math.PI / 6);
    const fit = fitRectangle(corners, 1e-9)!;
    expect(fit.center[0]).toBeCloseTo(100);
    expect(fit.center[1]).toBeCloseTo(50);
    expect(fit.width).toBeCloseTo(40);
    expect(fit.height).toBeCloseTo(20);
    expect(fit.rotation).toBeCloseTo(Math.PI / 6);
    expect(fitRectangle(rectangleCorners(0, 0, 10, 10))!.rotation).toBe(0);
  });

  it('refuses to fit a shape that is no longer a rectangle', () => {
    const c = rectangleCorners(0, 0, 10, 10);
    c[2] = [c[2][0] + 3, c[2][1]];
    expect(fitRectangle(c)).toBeNull();
    expect(fitRectangle([[0, 0], [1, 0], [1, 1]])).toBeNull();
  });

  it('samples ellipses and measures bounds', () => {
    const pts = ellipsePoints(0, 0, 20, 10, 0, 4);
    expect(pts.map(([x, y]) => [Math.round(x) + 0, Math.round(y) + 0])).toEqual([[10, 0], [0, 5], [-10, 0], [0, -5]]);
    expect(elementBounds({ type: 'rectangle', center: [50, 50, 0], width: 20, height: 10 })).toEqual([40, 45, 60, 55]);
    expect(elementBounds({ type: 'polyline', points: [[1, 2, 0], [5, -3, 0], [0, 9, 0]] })).toEqual([0, -3, 5, 9]);
    expect(elementBounds({ type: 'point', center: [3, 4, 0] })).toEqual([3, 4, 3, 4]);
    expect(elementBounds({ type: 'heatmap', points: [] })).toBeNull();
  });

  it('translates every coordinate of an element without touching the original', () => {
    const el = { type: 'polyline' as const, points: [[0, 0, 0], [10, 0, 0], [10, 10, 0]], holes: [[[1, 1, 0], [2, 1, 0], [2, 2, 0]]] };
    const moved = translateElement(el, 5, -2);
    expect(moved.points).toEqual([[5, -2, 0], [15, -2, 0], [15, 8, 0]]);
    expect(moved.holes).toEqual([[[6, -1, 0], [7, -1, 0], [7, 0, 0]]]);
    expect(el.points[0]).toEqual([0, 0, 0]);
    expect(translateElement({ type: 'circle', center: [1, 1, 0], radius: 3 }, 1, 1).center).toEqual([2, 2, 0]);
    // a heatmap point keeps its value
    expect(translateElement({ type: 'heatmap', points: [[1, 1, 0, 0.5]] }, 1, 1).points).toEqual([[2, 2, 0, 0.5]]);
  });

  it('draws arrow heads behind the tip and measures polygon areas', () => {
    const [w1, w2] = arrowHead([0, 0], [100, 0]);
    expect(w1[0]).toBeLessThan(100);
    expect(w2[0]).toBeLessThan(100);
    expect(Math.sign(w1[1])).toBe(-Math.sign(w2[1]));
    expect(polygonArea([[0, 0], [10, 0], [10, 10], [0, 10]])).toBe(100);
  });

  it('makes unique 24-hex element ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, newElementId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{24}$/);
  });
});
