import { describe, expect, it } from 'vitest';
import { EDITOR_BINDINGS, Keymap, describeCombo, eventCombo, isTypingTarget, normalizeCombo } from '../src/lib/keymap';

describe('keymap', () => {
  const km = new Keymap(EDITOR_BINDINGS);

  it('maps every drawing tool to a single-key shortcut', () => {
    const tools = ['point', 'rectangle', 'ellipse', 'circle', 'polygon', 'freehand', 'arrow', 'select', 'brush'];
    for (const t of tools) {
      const combos = km.combosFor(`tool:${t}`);
      expect(combos.length, t).toBeGreaterThan(0);
      expect(km.match({ key: combos[0] })).toBe(`tool:${t}`);
    }
  });

  it('handles modifiers, Cmd as Ctrl, shifted letters and shifted symbols', () => {
    expect(km.match({ key: 'z', ctrlKey: true })).toBe('undo');
    expect(km.match({ key: 'z', metaKey: true })).toBe('undo');
    expect(km.match({ key: 'Z', ctrlKey: true, shiftKey: true })).toBe('redo');
    expect(km.match({ key: 'y', ctrlKey: true })).toBe('redo');
    expect(km.match({ key: 'F', shiftKey: true })).toBe('fullscreen');
    expect(km.match({ key: 'f' })).toBe('tool:freehand');
    expect(km.match({ key: '?', shiftKey: true })).toBe('help');
    expect(km.match({ key: 'Delete' })).toBe('delete');
    expect(km.match({ key: 'q' })).toBeUndefined();
    expect(km.match({ key: 'z' })).toBeUndefined();
  });

  it('ignores keys typed in text fields, except Escape', () => {
    const input = { tagName: 'INPUT', type: 'text' };
    expect(km.match({ key: 'r', target: input })).toBeUndefined();
    expect(km.match({ key: 'Escape', target: input })).toBe('cancel');
    expect(km.match({ key: 'r', target: { tagName: 'INPUT', type: 'checkbox' } })).toBe('tool:rectangle');
    expect(isTypingTarget({ tagName: 'DIV', isContentEditable: true })).toBe(true);
    expect(isTypingTarget({ tagName: 'TEXTAREA' })).toBe(true);
    expect(isTypingTarget(null)).toBe(false);
  });

  it('normalises combos and refuses conflicting bindings', () => {
    expect(normalizeCombo('Shift+Ctrl+Z')).toBe('mod+shift+z');
    expect(normalizeCombo('cmd+s')).toBe('mod+s');
    expect(eventCombo({ key: 'Esc' })).toBe('escape');
    expect(() => km.bind('r', 'something-else', '')).toThrow(/already bound/);
    expect(describeCombo('mod+shift+z')).toBe('Ctrl+Shift+Z');
    expect(describeCombo('mod+z', true)).toBe('⌘+Z');
    expect(describeCombo('delete')).toBe('Del');
  });
});
