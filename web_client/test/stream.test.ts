import { describe, expect, it } from 'vitest';
import {
  FAILURES_BEFORE_POLLING, MAX_WATCH, ResumeState, WatchSet, objectIdSeconds, reopenDelay, statusAfterFailure, streamUrl, typeMatches,
} from '../src/lib/stream';

const id = (secs: number, n: number) => secs.toString(16).padStart(8, '0') + n.toString(16).padStart(16, '0');

describe('WatchSet', () => {
  it('changes only when the first watcher comes and the last one goes', () => {
    const w = new WatchSet();
    expect(w.add('folder:a')).toBe(true);
    expect(w.add('folder:a')).toBe(false);
    expect(w.add('item:b')).toBe(true);
    expect(w.keys()).toEqual(['folder:a', 'item:b']);
    expect(w.remove('folder:a')).toBe(false);
    expect(w.keys()).toEqual(['folder:a', 'item:b']);
    expect(w.remove('folder:a')).toBe(true);
    expect(w.keys()).toEqual(['item:b']);
    expect(w.remove('folder:never')).toBe(false);
  });

  it('sends at most the server\'s limit, the oldest watches first', () => {
    const w = new WatchSet();
    for (let i = 0; i < MAX_WATCH + 5; i += 1) w.add(`item:${String(i).padStart(3, '0')}`);
    const keys = w.keys();
    expect(keys).toHaveLength(MAX_WATCH);
    expect(keys).not.toContain(`item:${MAX_WATCH + 4}`);
  });
});

describe('ResumeState', () => {
  it('delivers each event once, however often a replay repeats it', () => {
    const r = new ResumeState();
    expect(r.accept({ _id: id(1000, 1) })).toBe(true);
    expect(r.accept({ _id: id(1000, 2) })).toBe(true);
    expect(r.accept({ _id: id(1000, 1) })).toBe(false);
    expect(r.lastId).toBe(id(1000, 2));
  });

  it('resumes a new connection from a second before the last event', () => {
    const r = new ResumeState();
    expect(r.since()).toBeNull();
    // Nothing arrived yet: a re-open replays from just before the first connection opened.
    r.openedAt = 1699999990;
    expect(r.since()).toBe(1699999988);
    r.accept({ _id: id(1700000000, 7) });
    expect(r.since()).toBe(1700000000 - 1);
    expect(objectIdSeconds('nope')).toBeNull();
  });

  it('forgets old ids beyond its memory, keeping the recent ones', () => {
    const r = new ResumeState(3);
    for (let n = 1; n <= 4; n += 1) r.accept({ _id: id(5, n) });
    expect(r.accept({ _id: id(5, 4) })).toBe(false);
    expect(r.accept({ _id: id(5, 1) })).toBe(true);
  });
});

describe('stream URL and reconnects', () => {
  it('names the watches, the timeout and where to resume', () => {
    expect(streamUrl('/api/v1', [], null)).toBe('/api/v1/notification/stream?timeout=300');
    const url = new URL(streamUrl('/api/v1', ['folder:a', 'item:b'], 1234, 60), 'http://x');
    expect(url.searchParams.get('watch')).toBe('folder:a,item:b');
    expect(url.searchParams.get('since')).toBe('1234');
    expect(url.searchParams.get('timeout')).toBe('60');
  });

  it('backs off to 30 s and falls back to polling only if it was never live', () => {
    expect([1, 2, 3, 4, 10].map(reopenDelay)).toEqual([1000, 2000, 4000, 8000, 30000]);
    expect(statusAfterFailure(1, false)).toBe('connecting');
    expect(statusAfterFailure(FAILURES_BEFORE_POLLING, false)).toBe('polling');
    expect(statusAfterFailure(FAILURES_BEFORE_POLLING + 5, true)).toBe('connecting');
  });

  it('matches listener patterns by type or prefix', () => {
    expect(typeMatches('annotation.', 'annotation.update')).toBe(true);
    expect(typeMatches('annotation.', 'annotations')).toBe(false);
    expect(typeMatches('presence', 'presence')).toBe(true);
    expect(typeMatches('item.', 'upload_done')).toBe(false);
  });
});
