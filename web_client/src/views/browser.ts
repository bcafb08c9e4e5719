// The data browser: collections, a user's folders, and folder contents with
// paging and sorting; create, rename, move, delete, share, metadata, upload.
import {
  collections, folders, getCurrentUser, getPage, items, resources, users, type ParentType, type Paging,
} from '../api';
import { folderPermissions } from '../lib/access';
import { listQuery, parseListQuery, type ListState } from '../lib/url-state';
import type { View } from '../router';
import type { Collection, Folder, Item, User } from '../types';
import { debounce, formatDate, formatSize, h, icon, replace } from '../ui/dom';
import { confirmDialog, formDialog } from '../ui/modal';
import { showError, toast } from '../ui/notify';
import { firstVisitCard } from './auth';
import { labellingCard } from './labelling';
import { metadataCard } from './metadata';
import { pickFolder } from './picker';
import { shareDialog } from './share';
import { sharedWithMeCard } from './shared';
import { followConversion } from './conversion';
import { chooseAndUpload, makeDropZone, uploads, type Destination } from './upload';

type Go = (path: string) => void;
type Entry = (Folder & { _modelType: 'folder' }) | (Item & { _modelType: 'item' });

export interface Crumb {
  name: string;
  href: string;
}

export function breadcrumbs(crumbs: Crumb[]): HTMLElement {
  return h('nav.breadcrumbs', { 'aria-label': 'Breadcrumbs' }, crumbs.map((c, i) => [
    i ? h('span.sep', null, icon('chevronRight', 12)) : null,
    i === crumbs.length - 1 ? h('span.current', null, c.name) : h('a', { href: c.href }, c.name),
  ]));
}

/** Breadcrumbs from a folder/item rootpath answer. */
export function crumbsFromRootpath(path: Array<{ type: string; object: { _id: string; name?: string; login?: string } }>): Crumb[] {
  return path.map((p) => ({
    name: p.type === 'user' ? p.object.login ?? 'user' : p.object.name ?? '',
    href: `/${p.type}/${p.object._id}`,
  }));
}

function sortHeader(label: string, key: string, state: ListState, go: Go, base: string): HTMLElement {
  const active = state.sort === key;
  const nextDir = active && state.sortdir === 1 ? -1 : 1;
  return h('th', { class: active ? 'sorted' : '' },
    h('a.sort', { href: base + listQuery({ ...state, sort: key, sortdir: nextDir as 1 | -1, offset: 0 }), onclick: (e: Event) => { e.preventDefault(); go(base + listQuery({ ...state, sort: key, sortdir: nextDir as 1 | -1, offset: 0 })); } },
      label, active ? h('span.sort-dir', null, state.sortdir === 1 ? '▲' : '▼') : null));
}

function pager(state: ListState, total: number, go: Go, base: string): HTMLElement {
  const first = total ? state.offset + 1 : 0;
  const last = Math.min(total, state.offset + state.limit);
  const to = (offset: number) => base + listQuery({ ...state, offset });
  return h('div.pager', null,
    h('span.muted', null, total ? `${first}–${last} of ${total}` : 'Empty'),
    h('button.button.small', { disabled: state.offset <= 0, onclick: () => go(to(Math.max(0, state.offset - state.limit))) }, icon('chevronLeft', 14), 'Previous'),
    h('button.button.small', { disabled: last >= total, onclick: () => go(to(state.offset + state.limit)) }, 'Next', icon('chevronRight', 14)));
}

/** One page of folders followed by items, paged as a single list. */
async function loadEntries(parentType: ParentType, parentId: string, state: ListState): Promise<{ entries: Entry[]; total: number }> {
  const paging: Paging = { limit: state.limit, offset: state.offset, sort: state.sort === 'size' && parentType !== 'folder' ? 'lowerName' : state.sort, sortdir: state.sortdir };
  const fpage = await folders.list(parentType, parentId, paging);
  const folderTotal = fpage.total ?? fpage.items.length;
  let entries: Entry[] = fpage.items.map((f) => ({ ...f, _modelType: 'folder' as const }));
  let itemTotal = 0;
  if (parentType === 'folder') {
    const room = state.limit - fpage.items.length;
    const ipage = await getPage<Item>('item', {
      folderId: parentId,
      // With no room left on this page the request only counts the items.
      limit: Math.max(1, room),
      offset: Math.max(0, state.offset - folderTotal),
      sort: state.sort, sortdir: state.sortdir,
    });
    itemTotal = ipage.total ?? ipage.items.length;
    if (room > 0) entries = entries.concat(ipage.items.map((i) => ({ ...i, _modelType: 'item' as const })));
  }
  return { entries, total: folderTotal + itemTotal };
}

/** Collections page. */
export async function collectionsView(go: Go): Promise<View> {
  const me = getCurrentUser();
  const list = h('div.card-grid');
  const load = async () => {
    const page = await collections.list({ limit: 200, sort: 'lowerName' });
    replace(list, page.items.length ? page.items.map((c: Collection) => h('a.tile', { href: `/collection/${c._id}` },
      h('div.tile-icon', null, icon('collection', 22)),
      h('div.tile-body', null, h('strong', null, c.name), h('span.muted', null, c.description || (c.public ? 'Public' : 'Private')),
        h('span.muted.small', null, formatSize(c.size))),
    )) : h('div.empty', null, 'No collections you can see yet.'));
  };
  const create = () => formDialog('New collection', [
    { name: 'name', label: 'Name', required: true },
    { name: 'description', label: 'Description', type: 'textarea' },
    { name: 'public', label: 'Public (visible to everyone)', type: 'checkbox' },
  ], 'Create', async (v) => {
    const c = await collections.create(v.name.trim(), v.description, v.public === 'true');
    go(`/collection/${c._id}`);
  });
  const [, welcome] = await Promise.all([load(), me ? null : firstVisitCard()]);
  return {
    el: h('div.page', null,
      welcome,
      h('div.page-header', null, h('div', null, h('h1', null, 'Collections'), h('p.muted', null, 'Shared spaces for projects and studies.')),
        me ? h('button.button.primary', { onclick: create }, icon('plus'), 'New collection') : null),
      list),
  };
}

interface Container {
  kind: 'collection' | 'user' | 'folder';
  id: string;
  name: string;
  description?: string;
  crumbs: Crumb[];
  level: number;
  doc: Collection | Folder | User;
}

async function loadContainer(kind: Container['kind'], id: string): Promise<Container> {
  const me = getCurrentUser();
  if (kind === 'collection') {
    const c = await collections.get(id);
    return { kind, id, name: c.name, description: c.description, crumbs: [{ name: 'Collections', href: '/collections' }, { name: c.name, href: `/collection/${id}` }], level: c._accessLevel ?? (me?.admin ? 2 : 0), doc: c };
  }
  if (kind === 'user') {
    const u = await users.get(id);
    const own = me && (me._id === id || me.admin);
    return { kind, id, name: `${u.firstName} ${u.lastName}`, description: u.login, crumbs: [{ name: u.login, href: `/user/${id}` }], level: own ? 2 : 0, doc: u };
  }
  const [f, path] = await Promise.all([folders.get(id), folders.rootpath(id)]);
  const crumbs = crumbsFromRootpath(path);
  if (path[0]?.type === 'collection') crumbs.unshift({ name: 'Collections', href: '/collections' });
  crumbs.push({ name: f.name, href: `/folder/${id}` });
  return { kind, id, name: f.name, description: f.description, crumbs, level: f._accessLevel ?? 0, doc: f };
}

/**
 * Follow the listed items whose large image is still being made, and call
 * `changed` when one is ready or failed: a row must not say "Converting…" after
 * the job ended, whoever uploaded the file (the tray, girder-client, a colleague).
 */
function conversionWatcher(changed: () => void) {
  const controller = new AbortController();
  const watched = new Set<string>();
  return {
    watch(entries: Entry[]) {
      for (const e of entries) {
        if (e._modelType !== 'item' || !(e as Item).largeImage?.expected || watched.has(e._id)) continue;
        watched.add(e._id);
        followConversion(e._id, { signal: controller.signal, report: () => undefined })
          .then(() => changed(), () => undefined)
          .finally(() => watched.delete(e._id));
      }
    },
    stop: () => controller.abort(),
  };
}

/** A collection, a user's home or a folder, with its contents. */
export async function containerView(kind: Container['kind'], id: string, search: string, go: Go): Promise<View> {
  let c = await loadContainer(kind, id);
  const perms = folderPermissions(c.level);
  const base = `/${kind}/${id}`;
  let state = parseListQuery(search);
  const selected = new Set<string>();
  let entries: Entry[] = [];
  const tbody = h('tbody');
  const footer = h('div.list-footer');
  const bulk = h('div.bulk-bar', { hidden: true });
  const dest = (): Destination | null => (perms.canEdit ? { type: kind, id, name: c.name } : null);

  const reload = async () => {
    try {
      const res = await loadEntries(kind, id, state);
      entries = res.entries;
      selected.clear();
      renderRows();
      conversions.watch(entries);
      replace(footer, pager(state, res.total, go, base));
    } catch (err) {
      showError(err, 'Loading the list failed');
    }
  };

  const renderBulk = () => {
    bulk.hidden = selected.size === 0;
    replace(bulk, h('span', null, `${selected.size} selected`), h('span.spacer'),
      perms.canEdit ? h('button.button.small', { onclick: () => moveEntries(entries.filter((e) => selected.has(e._id))) }, icon('move', 14), 'Move') : null,
      perms.canEdit ? h('button.button.small.danger', { onclick: () => deleteEntries(entries.filter((e) => selected.has(e._id))) }, icon('trash', 14), 'Delete') : null,
      h('a.button.small', { href: resources.downloadUrl(splitIds(entries.filter((e) => selected.has(e._id)))), 'data-external': '' }, icon('download', 14), 'Download'));
  };

  const renderRows = () => {
    renderBulk();
    if (!entries.length) {
      replace(tbody, h('tr', null, h('td.empty-cell', { colSpan: 5 },
        perms.canEdit && kind === 'folder' ? 'This folder is empty. Drop files or folders here to upload them.' : 'Nothing here yet.')));
      return;
    }
    replace(tbody, entries.map((e) => {
      const box = h('input', { type: 'checkbox', 'aria-label': `Select ${e.name}`, checked: selected.has(e._id) });
      box.onchange = () => {
        if (box.checked) selected.add(e._id);
        else selected.delete(e._id);
        renderBulk();
      };
      const isImage = e._modelType === 'item' && Boolean((e as Item).largeImage);
      const converting = isImage && (e as Item).largeImage?.expected;
      const href = e._modelType === 'folder' ? `/folder/${e._id}` : `/item/${e._id}`;
      return h('tr', { dataset: { id: e._id, type: e._modelType } },
        h('td.check-cell', null, box),
        h('td.name-cell', null, h('div.name-wrap', null, h('a.entry', { href },
          e._modelType === 'item' && isImage && !converting
            ? h('img.thumb', { src: `/api/v1/item/${e._id}/tiles/thumbnail?width=64&height=64`, alt: '', loading: 'lazy', onerror: (ev: Event) => (ev.target as HTMLElement).replaceWith(icon('image', 18)) })
            : icon(e._modelType === 'folder' ? 'folder' : isImage ? 'image' : 'file', 18),
          h('span', null, e.name)),
        converting ? h('span.badge', null, 'Converting…') : null,
        isImage && !converting ? h('a.badge.badge-link', { href: `/view/${e._id}`, title: 'Open in the viewer' }, 'View') : null)),
        h('td.muted', null, formatSize(e.size)),
        h('td.muted', null, formatDate(e.updated ?? e.created)),
        h('td.actions', null, perms.canEdit ? [
          h('button.icon-button', { title: 'Rename', onclick: () => renameEntry(e) }, icon('edit')),
          h('button.icon-button', { title: 'Move', onclick: () => moveEntries([e]) }, icon('move')),
          h('button.icon-button.danger', { title: 'Delete', onclick: () => deleteEntries([e]) }, icon('trash')),
        ] : null));
    }));
  };

  const splitIds = (list: Entry[]) => ({
    item: list.filter((e) => e._modelType === 'item').map((e) => e._id),
    folder: list.filter((e) => e._modelType === 'folder').map((e) => e._id),
  });

  const renameEntry = (e: Entry) => formDialog(`Rename ${e._modelType}`, [
    { name: 'name', label: 'Name', value: e.name, required: true },
    { name: 'description', label: 'Description', type: 'textarea', value: e.description ?? '' },
  ], 'Save', async (v) => {
    if (e._modelType === 'folder') await folders.update(e._id, { name: v.name.trim(), description: v.description });
    else await items.update(e._id, { name: v.name.trim(), description: v.description });
    await reload();
  });

  const moveEntries = async (list: Entry[]) => {
    if (!list.length) return;
    const target = await pickFolder(`Move ${list.length === 1 ? `"${list[0].name}"` : `${list.length} entries`}`,
      kind === 'folder' ? { type: 'folder', id, name: c.name } : null, new Set(list.map((e) => e._id)));
    if (!target) return;
    try {
      await resources.move(splitIds(list), target.type, target.id);
      toast(`Moved to ${target.name}`, 'success');
      await reload();
    } catch (err) {
      showError(err, 'Move failed');
    }
  };

  const deleteEntries = async (list: Entry[]) => {
    if (!list.length) return;
    const folderCount = list.filter((e) => e._modelType === 'folder').length;
    const what = list.length === 1 ? `"${list[0].name}"` : `${list.length} entries`;
    if (!(await confirmDialog('Delete', `Delete ${what}?${folderCount ? ' Folders are deleted with everything inside them.' : ''} This cannot be undone.`))) return;
    try {
      await resources.remove(splitIds(list));
      toast(`Deleted ${what}`, 'success');
      await reload();
    } catch (err) {
      showError(err, 'Delete failed');
    }
  };

  const newFolder = () => formDialog('New folder', [
    { name: 'name', label: 'Name', required: true },
    { name: 'description', label: 'Description', type: 'textarea' },
  ], 'Create', async (v) => {
    await folders.create(kind, id, v.name.trim(), v.description);
    await reload();
  });

  const renameSelf = () => formDialog(`Rename ${kind}`, [
    { name: 'name', label: 'Name', value: c.name, required: true },
    { name: 'description', label: 'Description', type: 'textarea', value: c.description ?? '' },
  ], 'Save', async (v) => {
    if (kind === 'folder') await folders.update(id, { name: v.name.trim(), description: v.description });
    else await collections.update(id, { name: v.name.trim(), description: v.description });
    c = await loadContainer(kind, id);
    replace(titleEl, c.name);
    replace(crumbsEl, breadcrumbs(c.crumbs));
  });

  const deleteSelf = async () => {
    if (!(await confirmDialog(`Delete ${kind}`, `Delete "${c.name}" and everything in it? This cannot be undone.`))) return;
    try {
      if (kind === 'folder') {
        const parent = c.crumbs[c.crumbs.length - 2];
        await folders.remove(id);
        go(parent?.href ?? '/');
      } else {
        await collections.remove(id);
        go('/collections');
      }
    } catch (err) {
      showError(err, 'Delete failed');
    }
  };

  const share = async () => {
    try {
      if (await shareDialog({ type: kind as 'folder' | 'collection', id, name: c.name, public: (c.doc as Folder).public })) await refreshSelf();
    } catch (err) {
      showError(err, 'Sharing');
    }
  };

  const titleEl = h('h1', null, c.name);
  const crumbsEl = h('div', null, breadcrumbs(c.crumbs));
  const actions = h('div.page-actions', null,
    kind === 'folder' ? h('a.button', { href: `/tag/${id}`, title: 'Tag the images of this folder from the keyboard' }, icon('tag'), 'Tag images') : null,
    perms.canEdit ? h('button.button', { onclick: newFolder }, icon('plus'), 'New folder') : null,
    perms.canEdit && kind === 'folder' ? h('button.button', { onclick: () => chooseAndUpload(dest()!, false, (err) => showError(err, 'Upload')) }, icon('upload'), 'Upload files') : null,
    perms.canEdit ? h('button.button', { onclick: () => chooseAndUpload(dest()!, true, (err) => showError(err, 'Upload')) }, icon('upload'), 'Upload folder') : null,
    perms.canShare && kind !== 'user' ? h('button.button', { onclick: share }, icon('share'), 'Share') : null,
    perms.canEdit && kind !== 'user' ? h('button.icon-button', { title: `Rename ${kind}`, onclick: renameSelf }, icon('edit')) : null,
    perms.canShare && kind !== 'user' ? h('button.icon-button.danger', { title: `Delete ${kind}`, onclick: deleteSelf }, icon('trash')) : null,
  );
  const table = h('table.table.entries', null,
    h('thead', null, h('tr', null,
      h('th.check-cell', null, h('input', {
        type: 'checkbox', 'aria-label': 'Select all',
        onchange: (e: Event) => {
          const on = (e.target as HTMLInputElement).checked;
          entries.forEach((en) => (on ? selected.add(en._id) : selected.delete(en._id)));
          renderRows();
        },
      })),
      sortHeader('Name', 'lowerName', state, go, base),
      kind === 'folder' ? sortHeader('Size', 'size', state, go, base) : h('th', null, 'Size'),
      sortHeader('Updated', 'updated', state, go, base),
      h('th', null, ''))),
    tbody);
  const about = h('dl.props');
  const renderAbout = () => replace(about,
    h('dt', null, 'Access'), h('dd', null, perms.canShare ? 'Owner' : perms.canEdit ? 'Can edit' : 'Can view', c.level < 1 ? [' ', icon('lock', 12)] : null),
    kind !== 'user' ? [h('dt', null, 'Visibility'), h('dd', null, (c.doc as Folder).public ? 'Public' : 'Private')] : null,
    c.description ? [h('dt', null, 'Description'), h('dd', null, c.description)] : null,
    (c.doc as Folder).size !== undefined ? [h('dt', null, 'Size'), h('dd', null, formatSize((c.doc as Folder).size))] : null);
  renderAbout();
  // Uploads change the size, sharing the visibility: read the container again.
  const refreshSelf = async () => {
    try {
      c = await loadContainer(kind, id);
      renderAbout();
    } catch (err) {
      showError(err, 'Reloading');
    }
  };
  const labelling = kind === 'folder' && perms.canEdit ? labellingCard(id) : null;
  const shared = kind === 'user' && getCurrentUser()?._id === id ? sharedWithMeCard() : null;
  const side = h('aside.side', null,
    h('section.card.info-card', null, h('div.card-header', null, h('h3', null, 'About')), about),
    labelling?.el,
    kind !== 'user' ? metadataCard(kind as 'folder' | 'collection', id, (c.doc as Folder).meta, perms.canEdit) : null);
  const el = h('div.page.with-side', null,
    crumbsEl,
    h('div.page-header', null, h('div', null, titleEl, c.description ? h('p.muted', null, c.description) : null), actions),
    h('div.columns', null,
      h('div.main-col', null, bulk, h('div.card.list-card', null, table, footer), shared?.el),
      side));
  makeDropZone(el, dest, (err) => showError(err, 'Upload'));
  // Many files may land at once: refresh once they pause.
  const refreshAfterUpload = debounce(() => void Promise.all([reload(), refreshSelf()]), 300);
  const conversions = conversionWatcher(refreshAfterUpload);
  const off = uploads.onFileDone((d) => {
    if (d.type === kind && d.id === id) refreshAfterUpload();
  });
  await Promise.all([reload(), labelling?.refresh(), shared?.refresh()]);
  return {
    el,
    destroy: () => {
      off();
      refreshAfterUpload.cancel();
      conversions.stop();
    },
    update(newSearch: string) {
      const next = parseListQuery(newSearch);
      const resort = next.sort !== state.sort || next.sortdir !== state.sortdir;
      state = next;
      if (resort) return false;
      void reload();
      return true;
    },
  };
}
