import { describe, expect, it } from 'vitest';
import { cleanViewport, colleagues, extentToViewport, initials, viewportRing, type PresentUser } from '../src/lib/presence-logic';

const user = (userId: string, name: string, viewport: number[] | null = null, color = '#112233'): PresentUser => ({ userId, login: name.toLowerCase(), name, viewport, color });

describe('presence', () => {
  it('lists colleagues without me, once each, by name; the newest list wins', () => {
    const first = colleagues(null, { users: [user('me', 'Me'), user('b', 'Bob'), user('a', 'Alice')], at: 1 }, 'me');
    expect(first.others.map((u) => u.name)).toEqual(['Alice', 'Bob']);
    // An older list arriving late does not undo a newer one.
    const newer = colleagues(first, { users: [user('me', 'Me'), user('a', 'Alice')], at: 2 }, 'me');
    const stale = colleagues(newer, { users: [user('b', 'Bob')], at: 1 }, 'me');
    expect(stale.others.map((u) => u.name)).toEqual(['Alice']);
  });

  it('shows someone with two tabs once, with the tab that shares its view', () => {
    const merged = colleagues(null, { users: [user('b', 'Bob'), user('b', 'Bob', [0, 0, 10, 10])], at: 1 }, null);
    expect(merged.others).toHaveLength(1);
    expect(merged.others[0].viewport).toEqual([0, 0, 10, 10]);
  });

  it('refuses bad viewports and colours from the wire', () => {
    const merged = colleagues(null, { users: [{ ...user('b', 'Bob', [0, 0, 10, Number.NaN]), color: 'red;x' }], at: 1 }, null);
    expect(merged.others[0].viewport).toBeNull();
    expect(merged.others[0].color).toBe('#888888');
    expect(cleanViewport([5, 5, 1, 1])).toBeNull();
    expect(cleanViewport('[0,0,1,1]')).toBeNull();
  });

  it('converts between map extents and image viewports', () => {
    expect(extentToViewport([-100, -300, 500, 50], 400, 200)).toEqual([0, 0, 400, 200]);
    expect(extentToViewport([10, -30, 20, -20], 400, 200)).toEqual([10, 20, 20, 30]);
    expect(viewportRing([10, 20, 30, 40])).toEqual([[10, -20], [30, -20], [30, -40], [10, -40], [10, -20]]);
    expect(initials('Bob Reader')).toBe('BR');
    expect(initials('bobby')).toBe('B');
  });
});
