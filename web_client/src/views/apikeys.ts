// API keys page: create, rename, activate/deactivate, delete.
import { apiKeys, getCurrentUser } from '../api';
import type { View } from '../router';
import type { ApiKey } from '../types';
import { formatDate, h, icon, replace } from '../ui/dom';
import { confirmDialog, formDialog, openDialog } from '../ui/modal';
import { showError, toast } from '../ui/notify';

export async function apiKeysView(): Promise<View> {
  const user = getCurrentUser();
  if (!user) throw new Error('Sign in to manage API keys.');
  const tbody = h('tbody');
  const empty = h('div.empty', { hidden: true }, 'No API keys yet. Create one to use girder-client or scripts.');

  const load = async () => {
    const keys = await apiKeys.list(user._id);
    empty.hidden = keys.length > 0;
    replace(tbody, keys.map(row));
  };

  const row = (k: ApiKey) => h('tr', null,
    h('td', null, h('strong', null, k.name || '(unnamed)')),
    h('td', null, h('span', { class: k.active ? 'badge badge-ok' : 'badge' }, k.active ? 'Active' : 'Inactive')),
    h('td.muted', null, k.scope?.length ? k.scope.join(', ') : 'Full access'),
    h('td.muted', null, k.lastUse ? formatDate(k.lastUse) : 'Never'),
    h('td.muted', null, formatDate(k.created)),
    h('td.actions', null,
      h('button.button.small', { onclick: () => showKey(k) }, 'Show key'),
      h('button.button.small', {
        onclick: async () => {
          try {
            await apiKeys.update(k._id, { active: !k.active });
            await load();
          } catch (err) {
            showError(err);
          }
        },
      }, k.active ? 'Deactivate' : 'Activate'),
      h('button.icon-button', { title: 'Rename', onclick: () => rename(k) }, icon('edit')),
      h('button.icon-button.danger', {
        title: 'Delete',
        onclick: async () => {
          if (!(await confirmDialog('Delete API key', `Delete the key "${k.name}"? Scripts using it will stop working.`))) return;
          try {
            await apiKeys.remove(k._id);
            await load();
          } catch (err) {
            showError(err);
          }
        },
      }, icon('trash'))));

  const showKey = (k: ApiKey) => {
    const d = openDialog(`API key "${k.name}"`);
    const input = h('input.mono', { readOnly: true, value: k.key ?? '' });
    d.body.append(h('p', null, 'Use it with girder-client:'), input,
      h('pre.code', null, `girder-client --api-url ${location.origin}/api/v1 --api-key ${k.key ?? 'KEY'} list …`));
    d.footer.append(h('button.button.primary', {
      onclick: async () => {
        await navigator.clipboard?.writeText(k.key ?? '').catch(() => undefined);
        toast('Key copied', 'success');
      },
    }, 'Copy'));
    input.select();
  };

  const rename = (k: ApiKey) => formDialog('Rename API key', [{ name: 'name', label: 'Name', value: k.name, required: true }], 'Save',
    async (v) => {
      await apiKeys.update(k._id, { name: v.name });
      await load();
    });

  const create = () => formDialog('New API key', [
    { name: 'name', label: 'Name', required: true, placeholder: 'e.g. analysis scripts' },
    { name: 'scope', label: 'Access', type: 'select', options: [['full', 'Full access (same as your account)'], ['read', 'Read only (core.data.read)']] },
    { name: 'tokenDuration', label: 'Token lifetime in days (empty: site default)', placeholder: '30' },
  ], 'Create', async (v) => {
    const days = v.tokenDuration.trim() ? Number(v.tokenDuration) : undefined;
    if (days !== undefined && !(days > 0)) throw new Error('Token lifetime must be a positive number of days');
    const key = await apiKeys.create(v.name.trim(), v.scope === 'read' ? ['core.data.read', 'core.user_info.read'] : null, days);
    await load();
    showKey(key);
  });

  const el = h('div.page', null,
    h('div.page-header', null,
      h('div', null, h('h1', null, 'API keys'), h('p.muted', null, 'Keys let scripts and girder-client act as you. Keep them secret.')),
      h('button.button.primary', { onclick: create }, icon('plus'), 'New key')),
    h('div.card', null,
      h('table.table', null, h('thead', null, h('tr', null,
        h('th', null, 'Name'), h('th', null, 'Status'), h('th', null, 'Scope'), h('th', null, 'Last used'), h('th', null, 'Created'), h('th', null, ''))), tbody),
      empty));
  await load();
  return { el };
}
