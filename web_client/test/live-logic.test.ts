import { describe, expect, it } from 'vitest';
import { OwnVersions, allTouched, batchesByBase, planRemoteChange, touchedOf } from '../src/lib/live-logic';
import { UndoStack, type Command } from '../src/lib/undo';
import type { AnnotationElement } from '../src/types';

/** The x of an element's center (the shapes that have one). */
const centerX = (e: AnnotationElement | undefined): number | undefined =>
  e && 'center' in e ? e.center?.[0] : undefined;


const rect = (id: string, x: number): AnnotationElement => ({ id, type: 'rectangle', center: [x, 10, 0], width: 4, height: 4, rotation: 0 });

/** A viewer's annotation in miniature: elements, unsaved ids, a selection and an undo stack. */
function localAnnotation(elements: AnnotationElement[]) {
  const shown = new Map(elements.map((e) => [e.id!, e]));
  const pending = new Set<string>();
  const selected = new Set<string>();
  const undo = new UndoStack();
  const put = (el: AnnotationElement) => {
    shown.set(el.id!, el);
    pending.add(el.id!);
  };
  const change = (before: AnnotationElement, after: AnnotationElement): Command => ({ label: 'change', apply: () => put(after), revert: () => put(before) });
  return { shown, pending, selected, undo, change };
}

describe('applying a colleague\'s changes', () => {
  it('draws added and changed elements, drops removed ones, and keeps the selection following them', () => {
    const local = localAnnotation([rect('a', 0), rect('b', 10), rect('c', 20)]);
    local.selected.add('b');
    local.selected.add('c');
    const server = new Map([['a', rect('a', 0)], ['b', rect('b', 99)], ['d', rect('d', 40)]]);
    const plan = planRemoteChange({ added: ['d'], changed: ['b'], removed: ['c'] }, server, local);
    expect(plan.put.map((e) => e.id)).toEqual(['d', 'b']);
    expect(plan.drop).toEqual(['c']);
    expect(plan.reselect.map((e) => [e.id, centerX(e)])).toEqual([['b', 99]]);
    expect(plan.deselect).toEqual(['c']);
    expect(plan.kept).toEqual([]);
  });

  it('leaves an element with an unsaved local edit, an unsaved drawing and the undo stack alone', () => {
    const local = localAnnotation([rect('a', 0), rect('b', 10)]);
    // My edit of "a", not saved yet, and a shape I just drew ("new").
    local.undo.execute(local.change(rect('a', 0), rect('a', 5)));
    local.shown.set('new', rect('new', 70));
    local.pending.add('new');
    const server = new Map([['a', rect('a', 50)], ['b', rect('b', 60)]]);
    const plan = planRemoteChange({ added: [], changed: ['a', 'b'], removed: [] }, server, local);
    for (const el of plan.put) local.shown.set(el.id!, el);
    for (const id of plan.drop) local.shown.delete(id);
    expect(plan.kept).toEqual(['a']);
    expect(centerX(local.shown.get('a'))).toBe(5);
    expect(centerX(local.shown.get('b'))).toBe(60);
    expect(local.shown.has('new')).toBe(true);
    // Undo still reverts my own change.
    expect(local.undo.canUndo()).toBe(true);
    local.undo.undo();
    expect(centerX(local.shown.get('a'))).toBe(0);
  });

  it('keeps elements outside a partial (region) answer unless the event removed them', () => {
    const local = localAnnotation([rect('far', 900), rect('gone', 1)]);
    const plan = planRemoteChange({ added: [], changed: ['far'], removed: ['gone'] }, new Map(), local, false);
    expect(plan.drop).toEqual(['gone']);
    const whole = planRemoteChange({ added: [], changed: ['far'], removed: [] }, new Map(), local, true);
    expect(whole.drop).toEqual(['far']);
  });

  it('reads the touched ids of an event, and of a whole reload', () => {
    expect(touchedOf({ elements: { added: ['x', 3 as unknown as string], changed: undefined } })).toEqual({ added: ['x'], changed: [], removed: [] });
    expect(touchedOf({})).toBeNull();
    expect(allTouched(['a', 'b'], ['b', 'c'])).toEqual({ added: [], changed: ['b', 'c'], removed: ['a'] });
  });

  it('knows its own saves, and groups unsaved changes by their base version, oldest first', () => {
    const own = new OwnVersions();
    own.add(4);
    expect(own.has(4)).toBe(true);
    expect(own.has(5)).toBe(false);
    expect(own.has(undefined)).toBe(false);
    const batches = batchesByBase([{ op: 'x@7', base: 7 }, { op: 'y@5', base: 5 }, { op: 'z@7', base: 7 }]);
    expect(batches).toEqual([{ base: 5, ops: ['y@5'] }, { base: 7, ops: ['x@7', 'z@7'] }]);
  });
});
