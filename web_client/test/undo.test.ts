import { describe, expect, it } from 'vitest';
import { UndoStack, group, type Command } from '../src/lib/undo';

function counter() {
  const state = { value: 0 };
  const add = (n: number): Command => ({ label: `add ${n}`, apply: () => (state.value += n), revert: () => (state.value -= n) });
  return { state, add };
}

describe('UndoStack', () => {
  it('undoes and redoes in order', () => {
    const { state, add } = counter();
    const stack = new UndoStack();
    stack.execute(add(1));
    stack.execute(add(10));
    expect(state.value).toBe(11);
    expect(stack.peekUndo()).toBe('add 10');
    stack.undo();
    expect(state.value).toBe(1);
    stack.undo();
    expect(state.value).toBe(0);
    expect(stack.undo()).toBeUndefined();
    stack.redo();
    expect(state.value).toBe(1);
    expect(stack.peekRedo()).toBe('add 10');
    stack.redo();
    expect(state.value).toBe(11);
    expect(stack.canRedo()).toBe(false);
  });

  it('drops the redo branch on a new command and records already-applied ones', () => {
    const { state, add } = counter();
    const stack = new UndoStack();
    stack.execute(add(1));
    stack.undo();
    state.value += 5; // e.g. a drag that already moved the shape
    stack.push(add(5));
    expect(stack.canRedo()).toBe(false);
    stack.undo();
    expect(state.value).toBe(0);
  });

  it('keeps at most `limit` steps and notifies listeners', () => {
    const { state, add } = counter();
    const stack = new UndoStack(3);
    let events = 0;
    const off = stack.onChange(() => (events += 1));
    for (let i = 0; i < 5; i += 1) stack.execute(add(1));
    while (stack.undo());
    expect(state.value).toBe(2);
    expect(events).toBe(8);
    off();
    stack.clear();
    expect(events).toBe(8);
    expect(stack.canUndo()).toBe(false);
  });

  it('groups commands into one step reverted in reverse order', () => {
    const log: string[] = [];
    const cmd = (n: string): Command => ({ label: n, apply: () => log.push(`+${n}`), revert: () => log.push(`-${n}`) });
    const stack = new UndoStack();
    stack.execute(group('both', [cmd('a'), cmd('b')]));
    stack.undo();
    expect(log).toEqual(['+a', '+b', '-b', '-a']);
  });
});
