// The list of a container's folders and items: sortable, paged, with a
// selection, a bulk bar and per-row rename / move / delete.
import { folders, getPage, items, resources, type ParentType } from '../api';
import type { Permissions } from '../lib/access';
import {
  convertingItems, deleteQuestion, describeSelection, emptyListText, entryDisplay, pageRequests, pagerState, sortLink, splitIds,
  type ContainerKind, type Entry,
} from '../lib/browser-logic';
import type { ListState } from '../lib/url-state';
import { formatDate, formatSize, h, icon, replace } from '../ui/dom';
import { confirmDialog, formDialog } from '../ui/modal';
import { showError, toast } from '../ui/notify';
import { followConversion, type JobFeed } from './conversion';
import { pickFolder } from './picker';

type Go = (path: string) => void;

export interface EntryListOptions {
  kind: ContainerKind;
  id: string;
  perms: Permissions;
  go: Go;
  /** The container's name now (it may be renamed while the list is shown). */
  name: () => string;
  state: ListState;
  /** Job updates from the notification stream (else conversions are polled). */
  feed?: JobFeed;
}

function sortHeader(label: string, key: string, state: ListState, go: Go, base: string): HTMLElement {
  const link = sortLink(state, key, base);
  return h('th', { class: link.active ? 'sorted' : '' },
    h('a.sort', { href: link.href, onclick: (e: Event) => { e.preventDefault(); go(link.href); } },
      label, link.active ? h('span.sort-dir', null, state.sortdir === 1 ? '▲' : '▼') : null));
}

function pager(state: ListState, total: number, go: Go, base: string): HTMLElement {
  const p = pagerState(state, total, base);
  return h('div.pager', null,
    h('span.muted', null, p.text),
    h('button.button.small', { disabled: !p.previous, onclick: () => p.previous && go(p.previous) }, icon('chevronLeft', 14), 'Previous'),
    h('button.button.small', { disabled: !p.next, onclick: () => p.next && go(p.next) }, 'Next', icon('chevronRight', 14)));
}

/** One page of folders followed by items, paged as a single list. */
async function loadEntries(parentType: ParentType, parentId: string, state: ListState): Promise<{ entries: Entry[]; total: number }> {
  const fpage = await folders.list(parentType, parentId, pageRequests(parentType, state, 0, 0).folders);
  const folderTotal = fpage.total ?? fpage.items.length;
  let entries: Entry[] = fpage.items.map((f) => ({ ...f, _modelType: 'folder' as const }));
  let itemTotal = 0;
  if (parentType === 'folder') {
    const req = pageRequests(parentType, state, fpage.items.length, folderTotal);
    const ipage = await getPage('/item', {}, { folderId: parentId, ...req.items });
    itemTotal = ipage.total ?? ipage.items.length;
    if (req.room > 0) entries = entries.concat(ipage.items.map((i) => ({ ...i, _modelType: 'item' as const })));
  }
  return { entries, total: folderTotal + itemTotal };
}

/**
 * Follow the listed items whose large image is still being made, and call
 * `changed` when one is ready or failed: a row must not say "Converting…" after
 * the job ended, whoever uploaded the file (the tray, girder-client, a colleague).
 */
export function conversionWatcher(changed: () => void, feed?: JobFeed) {
  const controller = new AbortController();
  const watched = new Set<string>();
  return {
    watch(entries: Entry[]) {
      for (const id of convertingItems(entries, watched)) {
        watched.add(id);
        followConversion(id, { signal: controller.signal, feed, report: () => undefined })
          .then(() => changed(), () => undefined)
          .finally(() => watched.delete(id));
      }
    },
    stop: () => controller.abort(),
  };
}

function entryRow(e: Entry, selected: Set<string>, perms: Permissions, onSelect: () => void, act: RowActions): HTMLElement {
  const box = h('input', { type: 'checkbox', 'aria-label': `Select ${e.name}`, checked: selected.has(e._id) });
  box.onchange = () => {
    if (box.checked) selected.add(e._id);
    else selected.delete(e._id);
    onSelect();
  };
  const show = entryDisplay(e);
  return h('tr', { dataset: { id: e._id, type: e._modelType } },
    h('td.check-cell', null, box),
    h('td.name-cell', null, h('div.name-wrap', null, h('a.entry', { href: show.href },
      show.thumbnail
        ? h('img.thumb', { src: `/api/v1/item/${e._id}/tiles/thumbnail?width=64&height=64`, alt: '', loading: 'lazy', onerror: (ev: Event) => (ev.target as HTMLElement).replaceWith(icon('image', 18)) })
        : icon(show.icon, 18),
      h('span', null, e.name)),
    show.converting ? h('span.badge', null, 'Converting…') : null,
    show.viewable ? h('a.badge.badge-link', { href: `/view/${e._id}`, title: 'Open in the viewer' }, 'View') : null)),
    h('td.muted', null, formatSize(e.size)),
    h('td.muted', null, formatDate(e.updated ?? e.created)),
    h('td.actions', null, perms.canEdit ? [
      h('button.icon-button', { title: 'Rename', onclick: () => act.rename(e) }, icon('edit')),
      h('button.icon-button', { title: 'Move', onclick: () => act.move([e]) }, icon('move')),
      h('button.icon-button.danger', { title: 'Delete', onclick: () => act.remove([e]) }, icon('trash')),
    ] : null));
}

interface RowActions {
  rename: (e: Entry) => void;
  move: (list: Entry[]) => void;
  remove: (list: Entry[]) => void;
}

/** Rename, move and delete entries, then reload the list. */
function rowActions(opts: EntryListOptions, reload: () => Promise<void>): RowActions {
  const rename = (e: Entry) => formDialog(`Rename ${e._modelType}`, [
    { name: 'name', label: 'Name', value: e.name, required: true },
    { name: 'description', label: 'Description', type: 'textarea', value: e.description ?? '' },
  ], 'Save', async (v) => {
    if (e._modelType === 'folder') await folders.update(e._id, { name: v.name.trim(), description: v.description });
    else await items.update(e._id, { name: v.name.trim(), description: v.description });
    await reload();
  });
  const move = async (list: Entry[]) => {
    if (!list.length) return;
    const target = await pickFolder(`Move ${describeSelection(list)}`,
      opts.kind === 'folder' ? { type: 'folder', id: opts.id, name: opts.name() } : null, new Set(list.map((e) => e._id)));
    if (!target) return;
    try {
      await resources.move(splitIds(list), target.type, target.id);
      toast(`Moved to ${target.name}`, 'success');
      await reload();
    } catch (err) {
      showError(err, 'Move failed');
    }
  };
  const remove = async (list: Entry[]) => {
    if (!list.length) return;
    if (!(await confirmDialog('Delete', deleteQuestion(list)))) return;
    try {
      await resources.remove(splitIds(list));
      toast(`Deleted ${describeSelection(list)}`, 'success');
      await reload();
    } catch (err) {
      showError(err, 'Delete failed');
    }
  };
  return { rename, move: (l) => void move(l), remove: (l) => void remove(l) };
}

/** The list's table, pager and bulk bar, and how to reload it. */
export function entryList(opts: EntryListOptions, onConversionDone: () => void) {
  const { kind, id, perms, go } = opts;
  const base = `/${kind}/${id}`;
  let state = opts.state;
  const selected = new Set<string>();
  let entries: Entry[] = [];
  const tbody = h('tbody');
  const footer = h('div.list-footer');
  const bulk = h('div.bulk-bar', { hidden: true });
  const conversions = conversionWatcher(onConversionDone, opts.feed);
  const chosen = () => entries.filter((e) => selected.has(e._id));

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
  const act = rowActions(opts, reload);

  const renderBulk = () => {
    bulk.hidden = selected.size === 0;
    replace(bulk, h('span', null, `${selected.size} selected`), h('span.spacer'),
      perms.canEdit ? h('button.button.small', { onclick: () => act.move(chosen()) }, icon('move', 14), 'Move') : null,
      perms.canEdit ? h('button.button.small.danger', { onclick: () => act.remove(chosen()) }, icon('trash', 14), 'Delete') : null,
      h('a.button.small', { href: resources.downloadUrl(splitIds(chosen())), 'data-external': '' }, icon('download', 14), 'Download'));
  };

  const renderRows = () => {
    renderBulk();
    if (!entries.length) {
      replace(tbody, h('tr', null, h('td.empty-cell', { colSpan: 5 }, emptyListText(kind, perms))));
      return;
    }
    replace(tbody, entries.map((e) => entryRow(e, selected, perms, renderBulk, act)));
  };

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

  return {
    table,
    footer,
    bulk,
    reload,
    stop: () => conversions.stop(),
    /** Show another page; false when the sort changed and the view must be built again. */
    update(next: ListState): boolean {
      const resort = next.sort !== state.sort || next.sortdir !== state.sortdir;
      state = next;
      if (resort) return false;
      void reload();
      return true;
    },
  };
}
