// Metadata editor for collections, folders and items: key/value rows, values
// either text or JSON; a removed key is sent as null, which deletes it.
import { metadata } from '../api';
import { h, icon, replace } from '../ui/dom';
import { showError, toast } from '../ui/notify';

type Owner = 'collection' | 'folder' | 'item';

const KEY_RULE = /^[^$.][^.]*$/;

/** A metadata card; `onSaved` gets the updated document. */
export function metadataCard(type: Owner, id: string, meta: Record<string, unknown> | undefined, canEdit: boolean, onSaved?: (doc: { meta?: Record<string, unknown> }) => void): HTMLElement {
  let current: Record<string, unknown> = { ...(meta ?? {}) };
  const body = h('div.meta-body');
  const editBtn = canEdit ? h('button.button.small', { onclick: () => edit() }, icon('edit'), 'Edit') : null;
  const card = h('section.card.meta-card', null, h('div.card-header', null, h('h3', null, 'Metadata'), editBtn), body);

  const show = () => {
    if (editBtn) editBtn.hidden = false;
    const keys = Object.keys(current).sort();
    if (!keys.length) {
      replace(body, h('p.muted.small-pad', null, canEdit ? 'No metadata. Use Edit to add key/value pairs.' : 'No metadata.'));
      return;
    }
    replace(body, h('table.table.meta-table', null, h('tbody', null, keys.map((k) => h('tr', null,
      h('th', null, k),
      h('td', null, typeof current[k] === 'string' ? String(current[k]) : h('code', null, JSON.stringify(current[k]))))))));
  };

  const edit = () => {
    if (editBtn) editBtn.hidden = true;
    const rows: Array<{ key: HTMLInputElement; value: HTMLTextAreaElement; json: HTMLSelectElement; original?: string; row: HTMLElement }> = [];
    const list = h('div.meta-edit');
    const addRow = (key = '', value: unknown = '', original?: string) => {
      const isText = typeof value === 'string';
      const r = {
        key: h('input', { value: key, placeholder: 'key', 'aria-label': 'Key' }),
        value: h('textarea', { rows: 1, placeholder: 'value', 'aria-label': 'Value' }),
        json: h('select', { 'aria-label': 'Type' }, h('option', { value: 'text' }, 'Text'), h('option', { value: 'json' }, 'JSON')),
        original,
        row: h('div.meta-row'),
      };
      r.value.value = isText ? (value as string) : JSON.stringify(value);
      r.json.value = isText ? 'text' : 'json';
      r.row.append(r.key, r.value, r.json, h('button.icon-button', {
        title: 'Remove key',
        onclick: () => {
          r.row.remove();
          rows.splice(rows.indexOf(r), 1);
        },
      }, icon('trash')));
      rows.push(r);
      list.append(r.row);
    };
    Object.keys(current).sort().forEach((k) => addRow(k, current[k], k));
    if (!rows.length) addRow();
    const error = h('div.form-error', { hidden: true });
    const save = async () => {
      error.hidden = true;
      const next: Record<string, unknown> = {};
      try {
        for (const r of rows) {
          const k = r.key.value.trim();
          if (!k && !r.value.value.trim()) continue;
          if (!KEY_RULE.test(k)) throw new Error(`Invalid key "${k}": keys may not be empty, start with $ or contain a dot`);
          if (k in next) throw new Error(`The key "${k}" appears twice`);
          if (r.json.value === 'json') {
            try {
              next[k] = JSON.parse(r.value.value);
            } catch {
              throw new Error(`The value of "${k}" is not valid JSON`);
            }
          } else next[k] = r.value.value;
        }
        const patch: Record<string, unknown> = { ...next };
        for (const k of Object.keys(current)) if (!(k in next)) patch[k] = null;
        const doc = await metadata.set(type, id, patch);
        current = { ...((doc as { meta?: Record<string, unknown> }).meta ?? next) };
        toast('Metadata saved', 'success');
        onSaved?.(doc);
        show();
      } catch (err) {
        error.textContent = (err as Error).message;
        error.hidden = false;
        if ((err as { status?: number }).status) showError(err, 'Saving metadata failed');
      }
    };
    replace(body, error, list, h('div.row-actions', null,
      h('button.button.small', { onclick: () => addRow() }, icon('plus'), 'Add key'),
      h('span.spacer'),
      h('button.button.small', { onclick: show }, 'Cancel'),
      h('button.button.small.primary', { onclick: save }, 'Save')));
  };
  show();
  return card;
}
