// Sharing dialog: users and groups with levels and flags, public or private,
// optionally applied to every subfolder.
import { annotations, collections, folders, groups, isMissingRoute, system, users } from '../api';
import type { AccessEntry } from '../types';
import { LEVEL_NAMES, accessListOf, grantableFlags } from '../lib/access';
import { debounce, h, icon, replace } from '../ui/dom';
import { openDialog } from '../ui/modal';
import { toast } from '../ui/notify';

type Target = { type: 'folder' | 'collection'; id: string; name: string; public?: boolean };

interface Row extends AccessEntry {
  kind: 'user' | 'group';
}

type Flags = Awaited<ReturnType<typeof system.accessFlags>>;

/** One person or group of the list: level, flags and a remove button. */
function shareRow(r: Row, flags: Flags, changed: () => void, remove: () => void): HTMLElement {
  const level = h('select', { 'aria-label': `Access of ${r.name ?? r.login}` },
    [0, 1, 2].map((l) => h('option', { value: String(l) }, LEVEL_NAMES[l])));
  level.value = String(r.level);
  level.onchange = () => {
    r.level = Number(level.value);
    changed();
  };
  const flagBoxes = grantableFlags(flags, r.level).map((f) => {
    const box = h('input', { type: 'checkbox', checked: (r.flags ?? []).includes(f) });
    box.onchange = () => {
      const set = new Set(r.flags ?? []);
      if (box.checked) set.add(f);
      else set.delete(f);
      r.flags = [...set];
    };
    return h('label.check.small', { title: flags[f].description ?? '' }, box, flags[f].name);
  });
  return h('div.share-row', null,
    h('span.share-icon', { title: r.kind === 'user' ? 'User' : 'Group' }, icon(r.kind)),
    h('div.share-name', null, h('strong', null, r.name ?? r.login ?? r.id), r.login && r.name !== r.login ? h('span.muted', null, ` ${r.login}`) : null,
      r.kind === 'group' ? h('span.muted', null, ' · group') : null,
      flagBoxes.length ? h('div.share-flags', null, flagBoxes) : null),
    level,
    h('button.icon-button', { title: 'Remove', onclick: remove }, icon('close')));
}

/** Open the sharing dialog; resolves true when access was saved. */
export async function shareDialog(target: Target): Promise<boolean> {
  const api = target.type === 'folder' ? folders : collections;
  const [access, flags] = await Promise.all([
    api.access(target.id),
    system.accessFlags().catch(() => ({} as Flags)),
  ]);
  const rows: Row[] = [
    ...access.users.map((u) => ({ ...u, kind: 'user' as const })),
    ...access.groups.map((g) => ({ ...g, kind: 'group' as const })),
  ];
  return new Promise((resolve) => {
    let saved = false;
    const d = openDialog(`Share "${target.name}"`, { wide: true, onClose: () => resolve(saved) });
    const publicSel = h('select', { 'aria-label': 'Visibility' },
      h('option', { value: 'false' }, 'Private — only the people below'),
      h('option', { value: 'true' }, 'Public — anyone can view, even without signing in'));
    publicSel.value = String(Boolean(target.public));
    const list = h('div.share-list');
    const recurse = h('input', { type: 'checkbox', checked: target.type === 'collection' });
    // Annotations keep the ACL they were created with, so sharing a folder
    // shares its existing annotations only when asked (Girder's behaviour).
    const withAnnotations = h('input', { type: 'checkbox', checked: true });

    const render = () => {
      if (!rows.length) {
        replace(list, h('p.muted', null, 'Nobody else has access yet.'));
        return;
      }
      replace(list, rows.map((r, i) => shareRow(r, flags, render, () => {
        rows.splice(i, 1);
        render();
      })));
    };

    const results = h('div.search-results', { hidden: true });
    const search = h('input', { type: 'search', placeholder: 'Add a user or group by name or login…', 'aria-label': 'Add people' });
    const runSearch = debounce(async () => {
      const text = search.value.trim();
      if (!text) {
        results.hidden = true;
        return;
      }
      try {
        const [us, gs] = await Promise.all([users.search(text, 8), groups.search(text, 5).catch(() => [])]);
        const known = new Set(rows.map((r) => r.id));
        const entries = [
          ...us.filter((u) => !known.has(u._id)).map((u) => ({ kind: 'user' as const, id: u._id, name: `${u.firstName} ${u.lastName}`, login: u.login })),
          ...gs.filter((g) => !known.has(g._id)).map((g) => ({ kind: 'group' as const, id: g._id, name: g.name, login: undefined })),
        ];
        replace(results, entries.length ? entries.map((e) => h('button.search-result', {
          onclick: () => {
            rows.push({ ...e, level: 0, flags: [] });
            search.value = '';
            results.hidden = true;
            render();
          },
        }, icon(e.kind), h('span', null, e.name), h('span.muted', null, e.login ?? 'group')))
          : h('div.muted.small-pad', null, 'No matches'));
        results.hidden = false;
      } catch (err) {
        d.setError(err);
      }
    }, 250);
    search.oninput = runSearch;

    d.body.append(
      h('label.field', null, h('span.field-label', null, 'Visibility'), publicSel),
      h('div.field', null, h('span.field-label', null, 'People and groups'), h('div.search-wrap', null, search, results), list),
      h('label.check', null, recurse, 'Also apply to all subfolders'),
      target.type === 'folder' ? h('label.check', null, withAnnotations, 'Also share the annotations already in this folder') : '',
    );
    const saveBtn = h('button.button.primary', {
      onclick: async () => {
        saveBtn.disabled = true;
        d.setError(null);
        const acl = accessListOf(rows);
        try {
          await api.setAccess(target.id, acl, publicSel.value === 'true', recurse.checked);
          if (target.type === 'folder' && withAnnotations.checked) {
            await annotations.setFolderAccess(target.id, acl, publicSel.value === 'true', recurse.checked).catch((err) => {
              if (!isMissingRoute(err)) throw err;
            });
          }
          saved = true;
          toast('Sharing saved', 'success');
          d.close();
        } catch (err) {
          d.setError(err);
        } finally {
          saveBtn.disabled = false;
        }
      },
    }, 'Save');
    d.footer.append(h('button.button', { onclick: () => d.close() }, 'Cancel'), saveBtn);
    render();
    search.focus();
  });
}
