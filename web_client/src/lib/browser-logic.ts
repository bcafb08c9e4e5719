// The data browser's decisions, kept apart from the DOM so they can be unit
// tested: how a page of folders then items is fetched, what a row shows, which
// actions a container offers, and what confirmations say.
import type { Permissions } from './access';
import { listQuery, type ListState } from './url-state';
import type { Folder, Item } from '../types';

export type ContainerKind = 'collection' | 'user' | 'folder';
export type Entry = (Folder & { _modelType: 'folder' }) | (Item & { _modelType: 'item' });

/** The ids of a selection, split as the resource routes take them. */
export function splitIds(list: Entry[]): { item: string[]; folder: string[] } {
  return {
    item: list.filter((e) => e._modelType === 'item').map((e) => e._id),
    folder: list.filter((e) => e._modelType === 'folder').map((e) => e._id),
  };
}

/**
 * Folders and items are paged as one list, folders first. The folder request
 * asks for the page as is (sorting by size only where folders have one); the
 * item request starts where the folders end and, with no room left on this
 * page, asks for one item only to learn the total.
 */
export function pageRequests(parentType: ContainerKind, state: ListState, folderCount: number, folderTotal: number) {
  const sort = state.sort === 'size' && parentType !== 'folder' ? 'lowerName' : state.sort;
  const room = state.limit - folderCount;
  return {
    folders: { limit: state.limit, offset: state.offset, sort, sortdir: state.sortdir },
    items: { limit: Math.max(1, room), offset: Math.max(0, state.offset - folderTotal), sort: state.sort, sortdir: state.sortdir },
    room,
  };
}

/** What one row of the list shows. */
export function entryDisplay(e: Entry) {
  const image = e._modelType === 'item' && Boolean(e.largeImage);
  const converting = image && Boolean((e as Item).largeImage?.expected);
  return {
    href: e._modelType === 'folder' ? `/folder/${e._id}` : `/item/${e._id}`,
    icon: e._modelType === 'folder' ? 'folder' as const : image ? 'image' as const : 'file' as const,
    thumbnail: image && !converting,
    converting,
    viewable: image && !converting,
  };
}

/** The "first–last of total" line of the pager, and where its buttons go. */
export function pagerState(state: ListState, total: number, base: string) {
  const first = total ? state.offset + 1 : 0;
  const last = Math.min(total, state.offset + state.limit);
  return {
    text: total ? `${first}–${last} of ${total}` : 'Empty',
    previous: state.offset > 0 ? base + listQuery({ ...state, offset: Math.max(0, state.offset - state.limit) }) : null,
    next: last < total ? base + listQuery({ ...state, offset: state.offset + state.limit }) : null,
  };
}

/** A column header's link: the same key flips the direction, a new key sorts ascending from the start. */
export function sortLink(state: ListState, key: string, base: string): { href: string; active: boolean } {
  const active = state.sort === key;
  const sortdir: 1 | -1 = active && state.sortdir === 1 ? -1 : 1;
  return { href: base + listQuery({ ...state, sort: key, sortdir, offset: 0 }), active };
}

/** How a selection is named in titles and confirmations. */
export function describeSelection(list: Array<{ name: string }>): string {
  return list.length === 1 ? `"${list[0].name}"` : `${list.length} entries`;
}

export function deleteQuestion(list: Entry[]): string {
  const folders = list.some((e) => e._modelType === 'folder');
  return `Delete ${describeSelection(list)}?${folders ? ' Folders are deleted with everything inside them.' : ''} This cannot be undone.`;
}

/** Which page actions a container offers its reader. */
export function containerActions(kind: ContainerKind, perms: Permissions) {
  const own = kind !== 'user';
  return {
    tag: kind === 'folder',
    newFolder: perms.canEdit,
    uploadFiles: perms.canEdit && kind === 'folder',
    uploadFolder: perms.canEdit,
    share: perms.canShare && own,
    rename: perms.canEdit && own,
    delete: perms.canShare && own,
  };
}

export function accessText(perms: Permissions): string {
  return perms.canShare ? 'Owner' : perms.canEdit ? 'Can edit' : 'Can view';
}

export function emptyListText(kind: ContainerKind, perms: Permissions): string {
  return perms.canEdit && kind === 'folder' ? 'This folder is empty. Drop files or folders here to upload them.' : 'Nothing here yet.';
}

/** Items whose large image is still being made, not yet watched. */
export function convertingItems(entries: Entry[], watched: ReadonlySet<string>): string[] {
  return entries.filter((e) => e._modelType === 'item' && e.largeImage?.expected && !watched.has(e._id)).map((e) => e._id);
}

/** Where to go after a container is deleted: a folder's parent, else the collections. */
export function afterDelete(kind: ContainerKind, crumbs: Array<{ href: string }>): string {
  if (kind !== 'folder') return '/collections';
  return crumbs[crumbs.length - 2]?.href ?? '/';
}

/**
 * Does a stream event change the listing of this container? Items and
 * folders created, renamed, moved or deleted directly inside it, and files
 * uploaded into it (by a colleague, or by girder-client).
 */
export function changesListing(ev: { type: string; data: Record<string, unknown> }, kind: ContainerKind, id: string): boolean {
  const d = ev.data ?? {};
  if (ev.type.startsWith('item.') || ev.type === 'upload_done') return kind === 'folder' && d.folderId === id;
  if (ev.type.startsWith('folder.')) return d.parentId === id || (d._id === id && ev.type === 'folder.update');
  return false;
}
