// The viewer's logic that needs no page: texts, sizes, choices. The viewer's
// components (src/viewer/) import it; the unit tests check it in Node.
import { describeCombo } from './keymap';
import type { TileMetadata } from '../types';

/** Keys the dialog lists besides the keymap's (handled outside it). */
const EXTRA_KEYS: Array<[string, string]> = [
  ['Enter', 'Finish the polygon or line'],
  ['1 – 9', 'Pick a pixel label category (brush tool)'],
  ['+ / −, arrows', 'Zoom and pan'],
];

/** [keys, meaning] for every shortcut, in the keymap's order. */
export function shortcutRows(bindings: Array<{ combo: string; description: string }>): Array<[string, string]> {
  return [...bindings.map((b): [string, string] => [describeCombo(b.combo), b.description]), ...EXTRA_KEYS];
}

/** The brush radius after [ or ]: a fifth smaller or a quarter larger, 2 to 80 pixels. */
export function brushRadius(radius: number, larger: boolean): number {
  return Math.max(2, Math.min(80, Math.round(radius * (larger ? 1.25 : 0.8))));
}

/** The tooltip text of an annotation element: "label (group)", or '' when it has none to show. */
export function labelText(el: { label?: { value?: string; visibility?: string }; group?: string } | undefined): string {
  if (!el || !(el.label?.value || el.group) || el.label?.visibility === 'hidden') return '';
  return [el.label?.value, el.group ? `(${el.group})` : ''].filter(Boolean).join(' ');
}

/** Which panel a tool shows: the brush has its own, other tools style new shapes (editors only). */
export function panelFor(tool: string, editable: boolean): 'pixels' | 'style' | 'none' {
  if (tool === 'brush') return 'pixels';
  return editable ? 'style' : 'none';
}

/** "3,000 × 2,000 px · 20×" */
export function sizeText(meta: Pick<TileMetadata, 'sizeX' | 'sizeY' | 'magnification'>): string {
  return `${meta.sizeX.toLocaleString()} × ${meta.sizeY.toLocaleString()} px${meta.magnification ? ` · ${meta.magnification}×` : ''}`;
}

/** What the URL says about the annotations: nothing when it matches their own display settings. */
export function shownInUrl(layers: Array<{ id: string; visible: boolean; defaultVisible: boolean }>): string[] | undefined {
  const shown = layers.filter((l) => l.visible).map((l) => l.id);
  return shown.length === layers.length && layers.every((l) => l.defaultVisible) ? undefined : shown;
}

/** The text of the save indicator for the annotation being edited. */
export function saveText(state: string | undefined, error?: string): string {
  if (state === undefined) return '';
  return state === 'error' ? `Save failed: ${error}` : state === 'saved' ? 'All changes saved' : 'Saving…';
}

/** The next large image of the folder after `itemId` ("Done, next image"), or null at the end. */
export function nextImageAfter<T extends { _id: string; largeImage?: { expected?: boolean } }>(siblings: T[], itemId: string): T | null {
  const i = siblings.findIndex((s) => s._id === itemId);
  return siblings.slice(i + 1).find((s) => s.largeImage && !s.largeImage.expected) ?? null;
}

/** "Annotation 2026-11-29 21:05:07": seconds keep two made in the same minute apart. */
export function defaultName(d = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `Annotation ${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The JSON patch that renames an annotation and sets its description (add when it had none). */
export function headerPatch(name: string, description: string, hadDescription: boolean) {
  return [
    { op: 'replace' as const, path: 'name', value: name },
    { op: hadDescription ? 'replace' as const : 'add' as const, path: 'description', value: description },
  ];
}

/** The groups used by any element, sorted (the style panel offers them). */
export function groupsIn(layers: Array<{ elements: { values(): Iterable<{ group?: string }> } }>): string[] {
  const set = new Set<string>();
  for (const l of layers) for (const el of l.elements.values()) if (el.group) set.add(el.group);
  return [...set].sort();
}
