import { describe, expect, it } from 'vitest';
import { accessListOf, grantableFlags } from '../src/lib/access';
import { TagWalk, hintText, keyAction, startIndex, taggerPath, thumbnailSize } from '../src/lib/tagger-logic';
import { parseTagset } from '../src/lib/tags';

const single = parseTagset({ tags: ['cat', 'dog'] });
const multiple = parseTagset({ tags: ['cat', 'dog'], multiple: true });

describe('tagger URL and sizes', () => {
  it('starts at ?i= only when it names an image', () => {
    expect(startIndex('?i=2', 3)).toBe(2);
    expect(startIndex('?i=3', 3)).toBe(0);
    expect(startIndex('?i=-1', 3)).toBe(0);
    expect(startIndex('?i=1.5', 3)).toBe(0);
    expect(startIndex('', 3)).toBe(0);
    expect(taggerPath('f', 0)).toBe('/tag/f');
    expect(taggerPath('f', 4)).toBe('/tag/f?i=4');
  });

  it('never asks for a thumbnail larger than the image', () => {
    expect(thumbnailSize({ w: 300, h: 200 })).toEqual({ width: 300, height: 200 });
    expect(thumbnailSize({ w: 90000, h: 50000 })).toEqual({ width: 1400, height: 1000 });
    expect(thumbnailSize(null)).toEqual({ width: 1400, height: 1000 });
  });

  it('explains the mode', () => {
    expect(hintText(single)).toMatch(/^One tag per image/);
    expect(hintText(multiple)).toMatch(/^Several tags per image/);
  });
});

describe('tagger keys', () => {
  it('maps tag keys, the no-tag key and the arrows', () => {
    expect(keyAction('1', single)).toEqual({ type: 'tag', code: 'cat' });
    expect(keyAction('F', single)).toEqual({ type: 'none' });
    expect(keyAction(' ', single)).toEqual({ type: 'move', step: 1 });
    expect(keyAction('ArrowRight', single)).toEqual({ type: 'move', step: 1 });
    expect(keyAction('ArrowLeft', single)).toEqual({ type: 'move', step: -1 });
    expect(keyAction('z', single)).toBeNull();
  });
});

describe('tag walk', () => {
  it('with one tag per image, sets the tag, asks to save it and moves on', () => {
    const walk = new TagWalk([[], [], []], single, true);
    expect(walk.press('dog')).toEqual({ index: 0, value: ['dog'], before: [] });
    expect(walk.index).toBe(1);
    expect(walk.progress().percent).toBeCloseTo(100 / 3);
    expect(walk.progress().text).toBe('Image 2 of 3 · 1 tagged');
  });

  it('with several tags per image, toggles and stays; pressing what is there saves nothing', () => {
    const walk = new TagWalk([['cat'], []], multiple, true);
    expect(walk.press('dog')).toEqual({ index: 0, value: ['cat', 'dog'], before: ['cat'] });
    expect(walk.index).toBe(0);
    expect(walk.press('dog')).toEqual({ index: 0, value: ['cat'], before: ['cat', 'dog'] });
    const once = new TagWalk([['cat']], single, true);
    expect(once.press('cat')).toBeNull();
  });

  it('changes nothing for a reader who may not tag, but still moves', () => {
    const walk = new TagWalk([['cat'], []], single, false);
    expect(walk.press('dog')).toBeNull();
    expect(walk.tags[0]).toEqual(['cat']);
    expect(walk.clearAndNext()).toBeNull();
    expect(walk.tags[0]).toEqual(['cat']);
    expect(walk.index).toBe(1);
  });

  it('clears and moves on, skips tagged images when asked, and undoes a failed save', () => {
    const walk = new TagWalk([['cat'], ['dog'], []], single, true);
    const change = walk.clearAndNext()!;
    expect(change).toEqual({ index: 0, value: [], before: ['cat'] });
    expect(walk.index).toBe(1);
    walk.untaggedOnly = true;
    walk.move(1);
    expect(walk.index).toBe(2);
    walk.undo(change);
    expect(walk.tags[0]).toEqual(['cat']);
    expect(new TagWalk([], single, true).progress()).toEqual({ percent: 0, text: '' });
  });
});

describe('sharing rows', () => {
  it('splits rows into the users and groups of an access list', () => {
    expect(accessListOf([
      { kind: 'user', id: 'u', level: 1 }, { kind: 'group', id: 'g', level: 0, flags: ['annotate'] },
    ])).toEqual({ users: [{ id: 'u', level: 1, flags: [] }], groups: [{ id: 'g', level: 0, flags: ['annotate'] }] });
  });

  it('offers no flags to owners and never admin-only flags', () => {
    const flags = { annotate: {}, secret: { admin: true } };
    expect(grantableFlags(flags, 1)).toEqual(['annotate']);
    expect(grantableFlags(flags, 2)).toEqual([]);
  });
});
