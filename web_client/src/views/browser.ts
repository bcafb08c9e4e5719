// The data browser: collections, a user's folders, and folder contents with
// paging and sorting; create, rename, move, delete, share, metadata, upload.
import { collections, folders, getCurrentUser, users } from '../api';
import { folderPermissions, type Permissions } from '../lib/access';
import { accessText, afterDelete, changesListing, containerActions, type ContainerKind } from '../lib/browser-logic';
import type { NotificationStream } from '../stream';
import { parseListQuery } from '../lib/url-state';
import type { View } from '../router';
import type { Collection, Folder, RootPathEntry, User } from '../types';
import { debounce, formatSize, h, icon, replace } from '../ui/dom';
import { confirmDialog, formDialog } from '../ui/modal';
import { showError } from '../ui/notify';
import { firstVisitCard } from './auth';
import { labellingCard } from './labelling';
import { metadataCard } from './metadata';
import { shareDialog } from './share';
import { sharedWithMeCard } from './shared';
import { entryList } from './entry-list';
import { chooseAndUpload, makeDropZone, uploads, type Destination } from './upload';

type Go = (path: string) => void;

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
export function crumbsFromRootpath(path: RootPathEntry[]): Crumb[] {
  return path.map((p) => ({
    name: p.type === 'user' ? p.object.login : p.object.name,
    href: `/${p.type}/${p.object._id}`,
  }));
}

/** Call `changed` when the stream says this container's listing changed; stop with the returned function. */
function followListing(stream: NotificationStream | null, kind: ContainerKind, id: string, changed: () => void): () => void {
  if (!stream) return () => undefined;
  // Only folders can be watched; a collection or user root hears its own events (uploads) only.
  const unwatch = kind === 'folder' ? stream.watch(`folder:${id}`) : () => undefined;
  const listen = (pattern: string) => stream.on(pattern, (ev) => {
    if (changesListing(ev, kind, id)) changed();
  });
  const offs = [listen('item.'), listen('folder.'), listen('upload_done')];
  return () => {
    unwatch();
    offs.forEach((f) => f());
  };
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
  kind: ContainerKind;
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

/** A container's own actions: new folder, upload, share, rename, delete. */
function containerActionBar(c: () => Container, perms: Permissions, go: Go, on: { reload: () => Promise<void>; renamed: () => Promise<void>; shared: () => Promise<void> }): HTMLElement {
  const { kind, id } = c();
  const show = containerActions(kind, perms);
  const dest = (): Destination => ({ type: kind, id, name: c().name });
  const upload = (folders: boolean) => chooseAndUpload(dest(), folders, (err) => showError(err, 'Upload'));
  const newFolder = () => formDialog('New folder', [
    { name: 'name', label: 'Name', required: true },
    { name: 'description', label: 'Description', type: 'textarea' },
  ], 'Create', async (v) => {
    await folders.create(kind, id, v.name.trim(), v.description);
    await on.reload();
  });
  const renameSelf = () => formDialog(`Rename ${kind}`, [
    { name: 'name', label: 'Name', value: c().name, required: true },
    { name: 'description', label: 'Description', type: 'textarea', value: c().description ?? '' },
  ], 'Save', async (v) => {
    if (kind === 'folder') await folders.update(id, { name: v.name.trim(), description: v.description });
    else await collections.update(id, { name: v.name.trim(), description: v.description });
    await on.renamed();
  });
  const deleteSelf = async () => {
    if (!(await confirmDialog(`Delete ${kind}`, `Delete "${c().name}" and everything in it? This cannot be undone.`))) return;
    try {
      if (kind === 'folder') await folders.remove(id);
      else await collections.remove(id);
      go(afterDelete(kind, c().crumbs));
    } catch (err) {
      showError(err, 'Delete failed');
    }
  };
  const share = async () => {
    try {
      const doc = c().doc as Folder;
      if (await shareDialog({ type: kind as 'folder' | 'collection', id, name: c().name, public: doc.public })) await on.shared();
    } catch (err) {
      showError(err, 'Sharing');
    }
  };
  return h('div.page-actions', null,
    show.tag ? h('a.button', { href: `/tag/${id}`, title: 'Tag the images of this folder from the keyboard' }, icon('tag'), 'Tag images') : null,
    show.newFolder ? h('button.button', { onclick: newFolder }, icon('plus'), 'New folder') : null,
    show.uploadFiles ? h('button.button', { onclick: () => upload(false) }, icon('upload'), 'Upload files') : null,
    show.uploadFolder ? h('button.button', { onclick: () => upload(true) }, icon('upload'), 'Upload folder') : null,
    show.share ? h('button.button', { onclick: share }, icon('share'), 'Share') : null,
    show.rename ? h('button.icon-button', { title: `Rename ${kind}`, onclick: renameSelf }, icon('edit')) : null,
    show.delete ? h('button.icon-button.danger', { title: `Delete ${kind}`, onclick: deleteSelf }, icon('trash')) : null,
  );
}

/** The "About" properties of a container. */
function renderAbout(about: HTMLElement, c: Container, perms: Permissions): void {
  const doc = c.doc as Folder;
  replace(about,
    h('dt', null, 'Access'), h('dd', null, accessText(perms), c.level < 1 ? [' ', icon('lock', 12)] : null),
    c.kind !== 'user' ? [h('dt', null, 'Visibility'), h('dd', null, doc.public ? 'Public' : 'Private')] : null,
    c.description ? [h('dt', null, 'Description'), h('dd', null, c.description)] : null,
    doc.size !== undefined ? [h('dt', null, 'Size'), h('dd', null, formatSize(doc.size))] : null);
}

/** A collection, a user's home or a folder, with its contents. */
export async function containerView(kind: Container['kind'], id: string, search: string, go: Go, stream: NotificationStream | null = null): Promise<View> {
  let c = await loadContainer(kind, id);
  const perms = folderPermissions(c.level);
  const dest = (): Destination | null => (perms.canEdit ? { type: kind, id, name: c.name } : null);
  const about = h('dl.props');
  // Uploads change the size, sharing the visibility: read the container again.
  const refreshSelf = async () => {
    try {
      c = await loadContainer(kind, id);
      renderAbout(about, c, perms);
    } catch (err) {
      showError(err, 'Reloading');
    }
  };
  // Many files may land at once: refresh once they pause.
  const refreshAfterUpload = debounce(() => void Promise.all([list.reload(), refreshSelf()]), 300);
  const list = entryList({ kind, id, perms, go, name: () => c.name, state: parseListQuery(search), feed: stream ?? undefined }, refreshAfterUpload);
  const titleEl = h('h1', null, c.name);
  const crumbsEl = h('div', null, breadcrumbs(c.crumbs));
  const actions = containerActionBar(() => c, perms, go, {
    reload: list.reload,
    shared: refreshSelf,
    renamed: async () => {
      c = await loadContainer(kind, id);
      replace(titleEl, c.name);
      replace(crumbsEl, breadcrumbs(c.crumbs));
    },
  });
  renderAbout(about, c, perms);
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
      h('div.main-col', null, list.bulk, h('div.card.list-card', null, list.table, list.footer), shared?.el),
      side));
  makeDropZone(el, dest, (err) => showError(err, 'Upload'));
  const off = uploads.onFileDone((d) => {
    if (d.type === kind && d.id === id) refreshAfterUpload();
  });
  // A colleague's upload, new folder or rename shows without a reload.
  const offStream = followListing(stream, kind, id, refreshAfterUpload);
  await Promise.all([list.reload(), labelling?.refresh(), shared?.refresh()]);
  return {
    el,
    destroy: () => {
      off();
      offStream();
      refreshAfterUpload.cancel();
      list.stop();
    },
    update: (newSearch: string) => list.update(parseListQuery(newSearch)),
  };
}
