// Keyboard shortcuts: combos like "mod+shift+z" mapped to named actions.
// "mod" is Ctrl, or Cmd on a Mac; a binding is matched on the key's value.

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  shiftKey?: boolean;
  target?: unknown;
}

export interface Binding {
  combo: string;
  action: string;
  description: string;
}

const MODIFIERS = ['mod', 'alt', 'shift'] as const;

/** Normalise a combo string: lower case, modifiers in a fixed order. */
export function normalizeCombo(combo: string): string {
  const parts = combo.toLowerCase().split('+').map((p) => p.trim()).filter(Boolean);
  let key = parts.pop() ?? '';
  if (key === 'space') key = ' ';
  const mods = MODIFIERS.filter((m) => parts.includes(m) || (m === 'mod' && (parts.includes('ctrl') || parts.includes('cmd') || parts.includes('meta'))));
  return [...mods, key].join('+');
}

/** The combo an event represents. Shift is kept only for keys whose value it does not already change. */
export function eventCombo(ev: KeyLike): string {
  let key = ev.key.toLowerCase();
  if (key === 'esc') key = 'escape';
  if (key === 'del') key = 'delete';
  const mods: string[] = [];
  if (ev.ctrlKey || ev.metaKey) mods.push('mod');
  if (ev.altKey) mods.push('alt');
  // "?" already implies shift on most layouts; letters and named keys keep it.
  const shiftMatters = ev.key.length > 1 || /[a-z]/i.test(ev.key);
  if (ev.shiftKey && shiftMatters) mods.push('shift');
  return [...mods, key].join('+');
}

/** True when the event comes from a text field, where typing must not trigger tools. */
export function isTypingTarget(target: unknown): boolean {
  const el = target as { tagName?: string; isContentEditable?: boolean; type?: string } | null;
  if (!el || typeof el.tagName !== 'string') return false;
  const tag = el.tagName.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable) return true;
  if (tag === 'INPUT') {
    const type = (el.type || 'text').toLowerCase();
    return !['checkbox', 'radio', 'button', 'range', 'color', 'submit'].includes(type);
  }
  return false;
}

export class Keymap {
  private byCombo = new Map<string, Binding>();

  constructor(bindings: Array<[string, string, string]> = []) {
    for (const [combo, action, description] of bindings) this.bind(combo, action, description);
  }

  bind(combo: string, action: string, description: string): void {
    const norm = normalizeCombo(combo);
    const existing = this.byCombo.get(norm);
    if (existing && existing.action !== action) {
      throw new Error(`Shortcut ${combo} is already bound to ${existing.action}`);
    }
    this.byCombo.set(norm, { combo: norm, action, description });
  }

  /** The action for an event, or undefined (also when typing in a field). */
  match(ev: KeyLike): string | undefined {
    const combo = eventCombo(ev);
    const binding = this.byCombo.get(combo);
    if (!binding) return undefined;
    // Escape still works from fields so a dialog or a drawing can be cancelled.
    if (isTypingTarget(ev.target) && combo !== 'escape') return undefined;
    return binding.action;
  }

  /** Every combo bound to an action, for menus and tooltips. */
  combosFor(action: string): string[] {
    return [...this.byCombo.values()].filter((b) => b.action === action).map((b) => b.combo);
  }

  list(): Binding[] {
    return [...this.byCombo.values()];
  }
}

/** How a combo is shown to people: "Ctrl+Shift+Z", "Del". */
export function describeCombo(combo: string, mac = false): string {
  return combo
    .split('+')
    .map((p) => {
      if (p === 'mod') return mac ? '⌘' : 'Ctrl';
      if (p === ' ') return 'Space';
      if (p === 'delete') return 'Del';
      if (p === 'escape') return 'Esc';
      if (p === 'arrowleft') return '←';
      if (p === 'arrowright') return '→';
      if (p === 'arrowup') return '↑';
      if (p === 'arrowdown') return '↓';
      return p.length === 1 ? p.toUpperCase() : p[0].toUpperCase() + p.slice(1);
    })
    .join('+');
}

/** The annotation editor's shortcuts: one per tool plus editing commands. */
export const EDITOR_BINDINGS: Array<[string, string, string]> = [
  ['v', 'tool:select', 'Select, move and edit vertices'],
  ['escape', 'cancel', 'Cancel drawing / clear selection'],
  ['o', 'tool:point', 'Point'],
  ['r', 'tool:rectangle', 'Rectangle'],
  ['e', 'tool:ellipse', 'Ellipse'],
  ['c', 'tool:circle', 'Circle'],
  ['p', 'tool:polygon', 'Polygon'],
  ['f', 'tool:freehand', 'Freehand line'],
  ['a', 'tool:arrow', 'Arrow'],
  ['b', 'tool:brush', 'Pixel brush'],
  ['delete', 'delete', 'Delete selected elements'],
  ['backspace', 'delete', 'Delete selected elements'],
  ['mod+z', 'undo', 'Undo'],
  ['mod+shift+z', 'redo', 'Redo'],
  ['mod+y', 'redo', 'Redo'],
  ['mod+a', 'select-all', 'Select all elements in view'],
  ['l', 'label', 'Edit the label of the selection'],
  ['[', 'brush-smaller', 'Smaller brush'],
  [']', 'brush-larger', 'Larger brush'],
  ['shift+f', 'fullscreen', 'Full screen'],
  ['h', 'toggle-annotations', 'Hide / show all annotations'],
  ['?', 'help', 'Show keyboard shortcuts'],
];
