// The viewer's tool column: drawing tools, undo / redo / delete, or a
// "View only" badge for readers.
import { describeCombo, type Keymap } from '../lib/keymap';
import { h, icon, replace } from '../ui/dom';
import type { Editor, Tool } from './editor';

export const TOOLS: Array<{ tool: Tool; icon: Parameters<typeof icon>[0]; label: string }> = [
  { tool: 'select', icon: 'pointer', label: 'Select' },
  { tool: 'point', icon: 'point', label: 'Point' },
  { tool: 'rectangle', icon: 'rectangle', label: 'Rectangle' },
  { tool: 'ellipse', icon: 'ellipse', label: 'Ellipse' },
  { tool: 'circle', icon: 'circle', label: 'Circle' },
  { tool: 'polygon', icon: 'polygon', label: 'Polygon' },
  { tool: 'freehand', icon: 'freehand', label: 'Freehand line' },
  { tool: 'arrow', icon: 'arrow', label: 'Arrow' },
  { tool: 'brush', icon: 'brush', label: 'Pixel brush' },
];

/** The tools a user sees: all of them when they may edit, else only Select. */
export function visibleTools(editable: boolean): typeof TOOLS {
  return TOOLS.filter((t) => editable || t.tool === 'select');
}

export function toolbar(editor: Editor, keymap: Keymap, setTool: (tool: Tool) => void): { el: HTMLElement; render(): void } {
  const el = h('div.toolbar', { role: 'toolbar', 'aria-label': 'Annotation tools' });
  const undoBtn = h('button.tool', { title: 'Undo (Ctrl+Z)', onclick: () => editor.doUndo() }, icon('undo', 18));
  const redoBtn = h('button.tool', { title: 'Redo (Ctrl+Shift+Z)', onclick: () => editor.doRedo() }, icon('redo', 18));
  const deleteBtn = h('button.tool', { title: 'Delete selection (Del)', onclick: () => editor.deleteSelection() }, icon('trash', 18));
  const roBadge = h('div.readonly-badge', { title: 'You can view these annotations but not change them' }, icon('lock', 14), 'View only');
  const render = () => {
    const editable = editor.enabled;
    const tool = editor.currentTool;
    replace(el,
      visibleTools(editable).map((t) => {
        const combo = keymap.combosFor(`tool:${t.tool}`)[0];
        return h(`button.tool${tool === t.tool ? '.active' : ''}`, {
          title: `${t.label} (${describeCombo(combo)})`,
          'aria-pressed': String(tool === t.tool),
          dataset: { tool: t.tool },
          onclick: () => setTool(t.tool),
        }, icon(t.icon, 18));
      }),
      editable ? [h('div.tool-sep'), undoBtn, redoBtn, deleteBtn] : [h('div.tool-sep'), roBadge]);
    undoBtn.disabled = !editor.undo.canUndo();
    redoBtn.disabled = !editor.undo.canRedo();
    deleteBtn.disabled = !editor.selection.length;
    undoBtn.title = editor.undo.canUndo() ? `Undo ${editor.undo.peekUndo()} (Ctrl+Z)` : 'Nothing to undo';
    redoBtn.title = editor.undo.canRedo() ? `Redo ${editor.undo.peekRedo()} (Ctrl+Shift+Z)` : 'Nothing to redo';
  };
  return { el, render };
}
