// Viewer side panels: the annotation list, element style and labels,
// annotation history, and the pixel-labelling controls.
import { annotations as api } from '../api';
import { isShape } from '../lib/geometry';
import { middleEllipsis } from '../lib/text';
import { ALGORITHMS, type Algorithm } from '../lib/superpixels';
import type { Annotation } from '../types';
import { formatDate, h, icon, replace } from '../ui/dom';
import { confirmDialog, formDialog, openDialog } from '../ui/modal';
import { showError, toast } from '../ui/notify';
import type { AnnotationLayer, SaveState } from './annotation-layer';
import type { Editor } from './editor';
import type { PixelLabeller } from './pixels';

export interface AnnotationListHooks {
  layers(): AnnotationLayer[];
  active(): AnnotationLayer | null;
  canCreate(): boolean;
  setVisible(layer: AnnotationLayer, on: boolean): void;
  activate(layer: AnnotationLayer | null): void;
  create(): Promise<void>;
  rename(layer: AnnotationLayer): Promise<void>;
  remove(layer: AnnotationLayer): Promise<void>;
  reload(layer: AnnotationLayer): Promise<void>;
}

const SAVE_TEXT: Record<SaveState, string> = { saved: 'All changes saved', saving: 'Saving…', pending: 'Unsaved changes', error: 'Save failed' };

/** The list of an item's annotations with visibility and edit toggles. */
export function annotationList(hooks: AnnotationListHooks): { el: HTMLElement; render(): void } {
  const list = h('div.ann-list');
  const newBtn = h('button.button.small', { onclick: () => void hooks.create().catch((e) => showError(e, 'Creating the annotation')) }, icon('plus', 14), 'New');
  const el = h('section.panel', null, h('div.panel-head', null, h('h3.panel-title', null, 'Annotations'), newBtn), list);
  const render = () => {
    newBtn.hidden = !hooks.canCreate();
    const layers = hooks.layers();
    if (!layers.length) {
      replace(list, h('p.muted.small-pad', null, hooks.canCreate() ? 'No annotations yet. Pick a tool and draw to start one.' : 'No annotations.'));
      return;
    }
    replace(list, layers.map((layer) => {
      const active = hooks.active() === layer;
      const a = layer.doc;
      const vis = h('button.icon-button', {
        title: layer.visible ? 'Hide' : 'Show',
        'aria-pressed': String(layer.visible),
        onclick: () => hooks.setVisible(layer, !layer.visible),
      }, icon(layer.visible ? 'eye' : 'eyeOff', 15));
      const status = layer.saveState === 'saved' ? null
        : h(`span.save-chip.save-${layer.saveState}`, { title: layer.saveError || SAVE_TEXT[layer.saveState] }, SAVE_TEXT[layer.saveState]);
      return h(`div.ann-row${active ? '.active' : ''}`, { dataset: { id: a._id } },
        vis,
        h('button.ann-name', {
          title: layer.canEdit ? 'Edit this annotation' : 'View only',
          onclick: () => hooks.activate(active ? null : layer),
        }, h('span.name', { title: a.annotation.name }, middleEllipsis(a.annotation.name)),
        h('span.muted.small', null, `${layer.count.toLocaleString()} element${layer.count === 1 ? '' : 's'}${layer.mode === 'region' ? ' · by region' : ''}${layer.canEdit ? '' : ' · view only'}`),
        status),
        h('div.ann-actions', null,
          h('button.icon-button', { title: 'History', onclick: () => historyDialog(layer, () => hooks.reload(layer)) }, icon('history', 15)),
          layer.canEdit ? h('button.icon-button', { title: 'Rename', onclick: () => void hooks.rename(layer) }, icon('edit', 15)) : null,
          layer.canEdit ? h('button.icon-button.danger', { title: 'Delete', onclick: () => void hooks.remove(layer) }, icon('trash', 15)) : null));
    }));
  };
  render();
  return { el, render };
}

/** Versions of an annotation, with revert. */
export async function historyDialog(layer: AnnotationLayer, reload: () => Promise<void>): Promise<void> {
  const d = openDialog(`History of "${layer.doc.annotation.name}"`, { wide: true });
  d.body.append(h('p.muted', null, 'Every save is a version. Reverting makes the chosen version current again (it is recorded as a new version).'));
  const table = h('tbody');
  d.body.append(h('table.table', null, h('thead', null, h('tr', null, h('th', null, 'Version'), h('th', null, 'Saved'), h('th', null, 'Name'), h('th', null, 'Elements'), h('th', null, ''))), table));
  try {
    await layer.flush();
    const versions: Annotation[] = await api.history(layer.id);
    const latest = Math.max(...versions.map((v) => v._version ?? 0));
    replace(table, versions.map((v) => h('tr', null,
      h('td', null, String(v._version ?? '')),
      h('td.muted', null, formatDate(v.updated ?? v.created)),
      h('td', null, v.annotation?.name ?? ''),
      h('td.muted', null, v._elementCount !== undefined ? v._elementCount.toLocaleString() : v.annotation?.elements ? String(v.annotation.elements.length) : ''),
      h('td.actions', null, v._version === latest && v._active !== false ? h('span.badge', null, 'Current') : layer.canEdit ? h('button.button.small', {
        onclick: async () => {
          if (!(await confirmDialog('Revert annotation', `Revert to version ${v._version}? Later changes stay in the history.`, 'Revert', false))) return;
          try {
            await api.revert(layer.id, v._version);
            d.close();
            await reload();
            toast(`Reverted to version ${v._version}`, 'success');
          } catch (err) {
            d.setError(err);
          }
        },
      }, 'Revert') : null))));
  } catch (err) {
    d.setError(err);
  }
}

/** Style and label of new or selected elements. */
export function stylePanel(editor: Editor, groups: () => string[]): { el: HTMLElement; render(): void } {
  const lineColor = h('input', { type: 'color', 'aria-label': 'Line colour', title: 'Line colour' });
  const fillColor = h('input', { type: 'color', 'aria-label': 'Fill colour', title: 'Fill colour' });
  const fillAlpha = h('input', { type: 'range', min: '0', max: '1', step: '0.05', 'aria-label': 'Fill opacity', title: 'Fill opacity' });
  const width = h('input', { type: 'number', min: '0', max: '20', step: '0.5', 'aria-label': 'Line width' });
  const groupInput = h('input', { list: 'ann-groups', placeholder: 'none', 'aria-label': 'Group' });
  const datalist = h('datalist#ann-groups');
  const label = h('input', { placeholder: 'none', 'aria-label': 'Label' });
  const heading = h('h3.panel-title', null, 'Style');
  const hint = h('p.muted.small', null);
  const el = h('section.panel.style-panel', null, heading, hint,
    h('div.style-grid', null,
      h('label', null, h('span', null, 'Line'), lineColor),
      h('label', null, h('span', null, 'Width'), width),
      h('label', null, h('span', null, 'Fill'), fillColor),
      h('label', null, h('span', null, 'Opacity'), fillAlpha)),
    h('label.field', null, h('span.field-label', null, 'Group'), groupInput, datalist),
    h('label.field', null, h('span.field-label', null, 'Label'), label));

  const toHex = (c: string) => {
    const m = /^#([0-9a-f]{6})/i.exec(c);
    if (m) return `#${m[1]}`;
    const rgb = /rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)/i.exec(c);
    return rgb ? `#${[rgb[1], rgb[2], rgb[3]].map((v) => Number(v).toString(16).padStart(2, '0')).join('')}` : '#00d4ff';
  };
  const alphaOf = (c: string) => Number(/rgba\([^)]*,\s*([\d.]+)\s*\)$/i.exec(c)?.[1] ?? 1);
  const fill = () => {
    const hex = fillColor.value;
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${Number(fillAlpha.value)})`;
  };
  lineColor.onchange = () => editor.applyStyle({ lineColor: lineColor.value });
  width.onchange = () => {
    const v = Number(width.value);
    if (v >= 0) editor.applyStyle({ lineWidth: v });
  };
  fillColor.onchange = () => editor.applyStyle({ fillColor: fill() });
  fillAlpha.onchange = () => editor.applyStyle({ fillColor: fill() });
  groupInput.onchange = () => editor.applyStyle({ group: groupInput.value.trim() });
  label.onchange = () => editor.applyStyle({ label: label.value.trim() });

  const render = () => {
    const sel = editor.selection;
    const src = sel[0];
    const s = editor.style;
    heading.textContent = sel.length ? `Selected: ${sel.length} element${sel.length > 1 ? 's' : ''}` : 'Style for new shapes';
    hint.textContent = sel.length ? 'Changes apply to the selection (Ctrl+Z undoes them).' : 'Applies to the next shapes you draw.';
    const shape = src && isShape(src) ? src : undefined;
    lineColor.value = toHex(shape?.lineColor ?? s.lineColor);
    fillColor.value = toHex(shape?.fillColor ?? s.fillColor);
    fillAlpha.value = String(alphaOf(shape?.fillColor ?? s.fillColor));
    width.value = String(shape?.lineWidth ?? s.lineWidth);
    if (document.activeElement !== groupInput) groupInput.value = src ? src.group ?? '' : s.group;
    if (document.activeElement !== label) label.value = src ? src.label?.value ?? '' : s.label;
    replace(datalist, groups().map((g) => h('option', { value: g })));
  };
  render();
  return { el, render };
}

/** Controls for pixel labelling: classes, brush size, checkpoint and done. */
export function pixelPanel(labeller: PixelLabeller, canSave: boolean, next: (() => Promise<void>) | null): { el: HTMLElement; render(): void } {
  const cats = h('div.cat-list');
  const radius = h('input', { type: 'range', min: '2', max: '80', value: String(labeller.radius), 'aria-label': 'Brush size' });
  const radiusOut = h('span.mono', null, `${labeller.radius}px`);
  const state = h('span.muted.small');
  const run = async (btn: HTMLButtonElement, status: 'checkpoint' | 'done') => {
    btn.disabled = true;
    try {
      await labeller.save(status);
      toast(status === 'done' ? 'Labels saved as done' : 'Checkpoint saved', 'success');
      if (status === 'done' && next) await next();
    } catch (err) {
      showError(err, 'Saving labels');
    } finally {
      btn.disabled = !canSave;
    }
  };
  const checkpoint: HTMLButtonElement = h('button.button.small', { disabled: !canSave, onclick: () => run(checkpoint, 'checkpoint') }, icon('save', 14), 'Save checkpoint');
  const done: HTMLButtonElement = h('button.button.primary.small', { disabled: !canSave, onclick: () => run(done, 'done') }, icon('check', 14), next ? 'Done, next image' : 'Done');
  radius.oninput = () => {
    labeller.radius = Number(radius.value);
    radiusOut.textContent = `${labeller.radius}px`;
  };
  const addClass = h('button.link.small', {
    onclick: () => formDialog('New class', [{ name: 'name', label: 'Name', required: true }], 'Add', async (v) => labeller.addClass(v.name.trim())),
  }, '+ Add class');

  // Brush or superpixels (seed 001: four algorithms, then "Calculate segments").
  const sp = labeller.superpixels;
  const modeButtons = (['brush', 'superpixel'] as const).map((m) => h('button.seg-button', {
    dataset: { mode: m },
    onclick: () => labeller.setMode(m),
  }, m === 'brush' ? 'Brush' : 'Superpixels'));
  const algorithm = h('select', { 'aria-label': 'Superpixel algorithm' }, ALGORITHMS.map((a) => h('option', { value: a.value }, a.label)));
  algorithm.value = sp.params.algorithm;
  const segments = h('input', { type: 'number', min: '2', max: '100000', step: '1', value: String(sp.params.nSegments), 'aria-label': 'Number of segments' });
  const compactness = h('input', { type: 'number', min: '0.001', max: '1000', step: 'any', value: String(sp.params.compactness), 'aria-label': 'Compactness' });
  const spStatus = h('p.muted.small.sp-status', null);
  const readParams = () => {
    sp.params = {
      algorithm: algorithm.value as Algorithm,
      nSegments: Math.max(2, Math.min(100000, Math.round(Number(segments.value) || 400))),
      compactness: Math.max(0.001, Math.min(1000, Number(compactness.value) || 10)),
    };
    // Only SLIC and watershed weigh shape against colour.
    compactness.disabled = !['slic', 'watershed'].includes(sp.params.algorithm);
  };
  algorithm.onchange = readParams;
  segments.onchange = readParams;
  compactness.onchange = readParams;
  readParams();
  const calculate: HTMLButtonElement = h('button.button.small.primary', {
    onclick: async () => {
      readParams();
      calculate.disabled = true;
      spStatus.textContent = 'Calculating…';
      try {
        const n = await labeller.calculateSegments();
        spStatus.textContent = `${n.toLocaleString()} segments in view. Click one to paint it, right click to erase.`;
      } catch (err) {
        spStatus.textContent = '';
        showError(err, 'Calculating segments');
      } finally {
        calculate.disabled = false;
      }
    },
  }, 'Calculate segments');
  const spBox = h('div.sp-controls', null,
    h('label.inline-field', null, h('span', null, 'Method'), algorithm),
    h('div.sp-grid', null,
      h('label', null, h('span', null, 'Segments'), segments),
      h('label', null, h('span', null, 'Compactness'), compactness)),
    calculate, spStatus);
  const brushRow = h('label.inline-field', null, h('span', null, 'Brush'), radius, radiusOut);
  const hint = h('p.muted.small', null);

  const el = h('section.panel.pixel-panel', null,
    h('div.panel-head', null, h('h3.panel-title', null, 'Pixel labels'), state),
    h('div.seg-control', { role: 'group', 'aria-label': 'Labelling tool' }, modeButtons),
    hint,
    cats, addClass,
    brushRow, spBox,
    h('div.row-actions', null, h('button.button.small', { onclick: () => labeller.clear() }, 'Clear'), h('span.spacer'), checkpoint),
    done,
    canSave ? null : h('p.muted.small', null, 'You can look at labels here, but saving needs edit or annotate access to the folder.'));
  const render = () => {
    const superpixels = labeller.mode === 'superpixel';
    modeButtons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.mode === labeller.mode)));
    brushRow.hidden = superpixels;
    spBox.hidden = !superpixels;
    hint.textContent = superpixels
      ? (sp.segments ? 'Click a segment to paint it with the class, right click to erase. Keys 1–9 pick a class.' : 'Choose a method, then calculate the segments of the part in view.')
      : 'Paint with the left button, erase with the right. Keys 1–9 pick a class, [ and ] size the brush.';
    if (superpixels && !sp.busy && !sp.segments) spStatus.textContent = '';
    radius.value = String(labeller.radius);
    radiusOut.textContent = `${labeller.radius}px`;
    state.textContent = labeller.dirty ? 'Unsaved' : labeller.status === 'done' ? 'Done' : labeller.status === 'checkpoint' ? 'Checkpoint' : '';
    const share = labeller.fractions();
    replace(cats, labeller.classes.map((c, i) => {
      const color = h('input', { type: 'color', value: /^#[0-9a-f]{6}$/i.test(c.color) ? c.color : '#e6194b', 'aria-label': `Colour of ${c.name}` });
      color.onchange = () => void labeller.setClassColor(c.value, color.value).catch((err) => showError(err, 'Saving classes'));
      return h(`div.cat-row${labeller.current === c.value ? '.active' : ''}`, {
        dataset: { value: String(c.value) },
        onclick: (e: Event) => {
          if (e.target === color) return;
          labeller.current = c.value;
          render();
        },
      }, h('kbd', null, i < 9 ? String(i + 1) : ''), color, h('span.grow', null, c.name), h('span.muted.small', null, `${((share.get(c.value) ?? 0) * 100).toFixed(1)}%`));
    }));
  };
  render();
  return { el, render };
}

export { confirmDialog };
