// The viewer's keyboard: shortcut actions, the pixel-label digits, and the
// shortcuts dialog.
import { brushRadius, shortcutRows } from '../lib/viewer-logic';
import type { Keymap } from '../lib/keymap';
import { h } from '../ui/dom';
import { openDialog } from '../ui/modal';
import type { Editor, Tool } from './editor';
import type { PixelLabeller } from './pixels';


export function showShortcuts(keymap: Keymap): void {
  const d = openDialog('Keyboard shortcuts', { wide: true });
  // Two columns: one long column was taller than a 900 px window.
  d.body.append(h('div.shortcuts', null, shortcutRows(keymap.list()).map(([keys, what]) =>
    h('div.shortcut', null, h('kbd', null, keys), h('span', null, what)))));
}

export interface KeyboardTargets {
  editor: Editor;
  labeller: PixelLabeller;
  keymap: Keymap;
  setTool(tool: Tool): void;
  /** Redraw the pixel panel (label or brush size changed). */
  pixelsChanged(): void;
  focusLabel(): void;
  toggleFullscreen(): void;
  toggleAnnotations(): void;
}

/** The document keydown handler of the viewer. */
export function keyHandler(t: KeyboardTargets): (e: KeyboardEvent) => void {
  const { editor, labeller, keymap } = t;
  const actions: Record<string, () => void> = {
    cancel: () => {
      if (!editor.finishDrawing(true)) editor.clearSelection();
    },
    delete: () => editor.deleteSelection(),
    undo: () => editor.doUndo(),
    redo: () => editor.doRedo(),
    'select-all': () => editor.selectAllInView(),
    label: () => {
      if (editor.selection.length) t.focusLabel();
    },
    'brush-smaller': () => {
      labeller.radius = brushRadius(labeller.radius, false);
      t.pixelsChanged();
    },
    'brush-larger': () => {
      labeller.radius = brushRadius(labeller.radius, true);
      t.pixelsChanged();
    },
    fullscreen: () => t.toggleFullscreen(),
    'toggle-annotations': () => t.toggleAnnotations(),
    help: () => showShortcuts(keymap),
  };
  return (e: KeyboardEvent) => {
    if (document.querySelector('.backdrop')) return;
    if (e.key === 'Enter' && editor.finishDrawing()) {
      e.preventDefault();
      return;
    }
    if (editor.currentTool === 'brush' && /^[1-9]$/.test(e.key) && !e.ctrlKey && !e.metaKey) {
      const cls = labeller.classes[Number(e.key) - 1];
      if (cls) {
        labeller.current = cls.value;
        t.pixelsChanged();
        e.preventDefault();
      }
      return;
    }
    const action = keymap.match(e);
    if (!action) return;
    e.preventDefault();
    if (action.startsWith('tool:')) t.setTool(action.slice(5) as Tool);
    else actions[action]?.();
  };
}
