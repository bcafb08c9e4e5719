import { describe, expect, it } from 'vitest';
import { conflictAnswer, conflictText, resolveConflicts, type ConflictAnswer } from '../src/lib/merge-logic';
import type { AnnotationElement } from '../src/types';

/** The x of an element's center (the shapes that have one). */
const centerX = (e: AnnotationElement | undefined): number | undefined =>
  e && 'center' in e ? e.center?.[0] : undefined;


const pt = (id: string, x: number): AnnotationElement => ({ id, type: 'point', center: [x, 0, 0] });
const replace = (el: AnnotationElement) => ({ op: 'replace' as const, path: `elements/id:${el.id}`, value: el });

const answer: ConflictAnswer = {
  version: 9,
  conflicts: [
    { id: 'a', base: pt('a', 0), theirs: pt('a', 1), mine: pt('a', 2) },
    { id: 'b', base: pt('b', 0), theirs: null, mine: pt('b', 3) },
  ],
  fields: [],
};
const ops = [replace(pt('a', 2)), replace(pt('b', 3)), replace(pt('c', 4)), { op: 'replace' as const, path: 'name', value: 'N' }];
let n = 0;
const newId = () => `new${(n += 1)}`;

describe('settling a conflicting save', () => {
  it('keep theirs: drops my edits of those elements, shows theirs, still sends the rest', () => {
    const r = resolveConflicts('theirs', ops, answer, newId);
    expect(r.version).toBe(9);
    expect(r.ops.map((o) => o.path)).toEqual(['elements/id:c', 'name']);
    expect(r.put).toEqual([pt('a', 1)]);
    expect(r.drop).toEqual(['b']);
  });

  it('keep mine: sends all my edits again against the current version', () => {
    const r = resolveConflicts('mine', ops, answer, newId);
    expect(r.version).toBe(9);
    expect(r.ops).toEqual(ops);
    expect(r.put).toEqual([]);
    expect(r.drop).toEqual([]);
  });

  it('keep both: theirs stays, mine is added as a new element', () => {
    n = 0;
    const r = resolveConflicts('both', ops, answer, newId);
    expect(r.ops.map((o) => o.path)).toEqual(['elements/id:c', 'name', 'elements/id:new1', 'elements/id:new2']);
    expect(r.ops.slice(2).map((o) => o.op)).toEqual(['add', 'add']);
    expect(r.put.map((e) => [e.id, centerX(e)])).toEqual([['a', 1], ['new1', 2], ['new2', 3]]);
    expect(r.drop).toEqual(['b']);
  });

  it('keep both when I deleted the element: theirs stays and nothing is added', () => {
    const mineGone: ConflictAnswer = { version: 3, conflicts: [{ id: 'a', base: pt('a', 0), theirs: pt('a', 1), mine: null }], fields: [] };
    const r = resolveConflicts('both', [{ op: 'remove', path: 'elements/id:a' }], mineGone, newId);
    expect(r.ops).toEqual([]);
    expect(r.put).toEqual([pt('a', 1)]);
  });

  it('a header field both renamed: theirs is kept unless I keep mine, the elements go on', () => {
    const named = conflictAnswer(409, {
      type: 'conflict', version: 4,
      conflicts: [{ field: 'name', base: 'A', theirs: 'B', mine: 'N' }],
    })!;
    expect(named.fields).toEqual(['name']);
    expect(named.conflicts).toEqual([]);
    expect(resolveConflicts('theirs', ops, named, newId).ops.map((o) => o.path))
      .toEqual(['elements/id:a', 'elements/id:b', 'elements/id:c']);
    expect(resolveConflicts('both', ops, named, newId).ops.map((o) => o.path))
      .toEqual(['elements/id:a', 'elements/id:b', 'elements/id:c']);
    expect(resolveConflicts('mine', ops, named, newId).ops).toEqual(ops);
    expect(conflictText(named)).toMatch(/the annotation's name since you loaded it \(now version 4\)/);
  });

  it('reads a conflict from a 409 body and nothing else', () => {
    expect(conflictAnswer(409, { type: 'conflict', version: 9, conflicts: answer.conflicts })).toEqual(answer);
    expect(conflictAnswer(409, { type: 'validation', version: 9, conflicts: [] })).toBeNull();
    expect(conflictAnswer(409, { message: 'Version 3 is stale', type: 'conflict' })).toBeNull();
    expect(conflictAnswer(400, { type: 'conflict', version: 9, conflicts: [] })).toBeNull();
    expect(conflictAnswer(409, null)).toBeNull();
    expect(conflictText(answer)).toMatch(/2 elements you also changed \(1 deleted by them\).*version 9/);
  });
});
