import { describe, expect, it } from 'vitest';
import {
  brushRadius, defaultName, groupsIn, headerPatch, labelText, nextImageAfter, panelFor, saveText, shortcutRows, shownInUrl, sizeText,
} from '../src/lib/viewer-logic';

describe('viewer keyboard', () => {
  it('lists the keymap, then the keys handled outside it', () => {
    const rows = shortcutRows([{ combo: 'ctrl+z', description: 'Undo' }]);
    expect(rows[0][1]).toBe('Undo');
    expect(rows[0][0]).toMatch(/Ctrl\+Z/i);
    expect(rows.map((r) => r[0])).toContain('Enter');
    expect(rows).toHaveLength(4);
  });

  it('steps the brush size and keeps it between 2 and 80 pixels', () => {
    expect(brushRadius(20, true)).toBe(25);
    expect(brushRadius(20, false)).toBe(16);
    expect(brushRadius(2, false)).toBe(2);
    expect(brushRadius(80, true)).toBe(80);
  });
});

describe('viewer panels and texts', () => {
  it('shows the pixel panel for the brush, the style panel to editors', () => {
    expect(panelFor('brush', true)).toBe('pixels');
    expect(panelFor('polygon', true)).toBe('style');
    expect(panelFor('select', false)).toBe('none');
  });

  it('writes a tooltip from label and group, unless the label is hidden', () => {
    expect(labelText({ label: { value: 'tumour' }, group: 'A' })).toBe('tumour (A)');
    expect(labelText({ group: 'A' })).toBe('(A)');
    expect(labelText({ label: { value: 'x', visibility: 'hidden' } })).toBe('');
    expect(labelText(undefined)).toBe('');
  });

  it('describes the slide size and the save state', () => {
    expect(sizeText({ sizeX: 3000, sizeY: 2000, magnification: 20 })).toBe(`${(3000).toLocaleString()} × ${(2000).toLocaleString()} px · 20×`);
    expect(sizeText({ sizeX: 10, sizeY: 5 })).toBe('10 × 5 px');
    expect(saveText(undefined)).toBe('');
    expect(saveText('saved')).toBe('All changes saved');
    expect(saveText('pending')).toBe('Saving…');
    expect(saveText('error', 'disk full')).toBe('Save failed: disk full');
  });
});

describe('viewer annotations', () => {
  it('names a new annotation to the second', () => {
    expect(defaultName(new Date(2026, 10, 29, 21, 5, 7))).toBe('Annotation 2026-11-29 21:05:07');
  });

  it('patches the header, adding a description the annotation did not have', () => {
    expect(headerPatch('a', 'd', false)[1]).toEqual({ op: 'add', path: 'description', value: 'd' });
    expect(headerPatch('a', 'd', true)).toEqual([{ op: 'replace', path: 'name', value: 'a' }, { op: 'replace', path: 'description', value: 'd' }]);
  });

  it('collects the groups in use, sorted and once each', () => {
    const layer = (groups: Array<string | undefined>) => ({ elements: new Map(groups.map((group, i) => [String(i), { group }])) });
    expect(groupsIn([layer(['b', undefined, 'a']), layer(['b'])])).toEqual(['a', 'b']);
  });

  it('leaves the annotation list out of the URL when it matches their defaults', () => {
    expect(shownInUrl([{ id: 'a', visible: true, defaultVisible: true }])).toBeUndefined();
    expect(shownInUrl([{ id: 'a', visible: true, defaultVisible: true }, { id: 'b', visible: false, defaultVisible: true }])).toEqual(['a']);
    expect(shownInUrl([{ id: 'a', visible: true, defaultVisible: false }])).toEqual(['a']);
  });

  it('finds the next large image of the folder', () => {
    const items = [{ _id: '1', largeImage: {} }, { _id: '2' }, { _id: '3', largeImage: { expected: true } }, { _id: '4', largeImage: {} }];
    expect(nextImageAfter(items, '1')?._id).toBe('4');
    expect(nextImageAfter(items, '4')).toBeNull();
  });
});
