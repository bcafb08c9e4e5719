import { describe, expect, it } from 'vitest';
import { labellingProgress, taggingProgress, viaText } from '../src/lib/shared';

describe('shared with me: progress', () => {
  const progress = { items: 5, labellers: [{ login: 'ann', done: 2, checkpoint: 1 }, { login: 'bob', done: 4, checkpoint: 0 }] };

  it('shows my own labelling progress, not the others\'', () => {
    expect(labellingProgress(progress, 'ann', true)).toEqual({ label: 'labelled', done: 2, total: 5, started: 1 });
    expect(labellingProgress(progress, 'bob', false)).toEqual({ label: 'labelled', done: 4, total: 5, started: 0 });
  });

  it('counts me at zero in a project I have not started', () => {
    expect(labellingProgress(progress, 'cy', true)).toEqual({ label: 'labelled', done: 0, total: 5, started: 0 });
    expect(labellingProgress({ items: 3, labellers: [] }, 'cy', true)).toEqual({ label: 'labelled', done: 0, total: 3, started: 0 });
  });

  it('is no labelling project without classes or masks', () => {
    expect(labellingProgress({ items: 3, labellers: [] }, 'cy', false)).toBeNull();
  });

  it('counts tagged images from the tag summary', () => {
    expect(taggingProgress({ items: 4, untagged: 1 })).toEqual({ label: 'tagged', done: 3, total: 4 });
  });

  it('names the group a folder came through', () => {
    expect(viaText({ type: 'user' })).toBe('');
    expect(viaText({ type: 'group', id: 'g', name: 'Lab' })).toBe('via the Lab group');
    expect(viaText({ type: 'group', id: 'g', name: null })).toBe('via the deleted group');
  });
});
