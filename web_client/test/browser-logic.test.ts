import { describe, expect, it } from 'vitest';
import { folderPermissions } from '../src/lib/access';
import {
  changesListing,
  accessText, afterDelete, containerActions, convertingItems, deleteQuestion, describeSelection, emptyListText, entryDisplay,
  pageRequests, pagerState, sortLink, splitIds, type Entry,
} from '../src/lib/browser-logic';
import type { ListState } from '../src/lib/url-state';

const doc = { created: '2026-01-01', updated: '2026-01-02' };
const folder = (id: string, name = id): Entry => ({ ...doc, _id: id, name, _modelType: 'folder' }) as Entry;
const item = (id: string, largeImage?: { fileId: string; expected?: boolean }): Entry =>
  ({ ...doc, _id: id, name: id, folderId: 'f', size: 1, largeImage, _modelType: 'item' }) as Entry;
const state = (s: Partial<ListState> = {}): ListState => ({ offset: 0, limit: 50, sort: 'lowerName', sortdir: 1, ...s });

describe('browser list paging', () => {
  it('asks for the items after the folders, and only counts them when the page is full', () => {
    const r = pageRequests('folder', state({ offset: 50, limit: 50 }), 10, 60);
    expect(r.folders).toEqual({ limit: 50, offset: 50, sort: 'lowerName', sortdir: 1 });
    expect(r.items).toMatchObject({ limit: 40, offset: 0 });
    const full = pageRequests('folder', state({ limit: 10 }), 10, 60);
    expect(full.room).toBe(0);
    expect(full.items.limit).toBe(1);
    expect(pageRequests('folder', state({ offset: 70 }), 0, 60).items.offset).toBe(10);
  });

  it('sorts folders of collections and users by name when asked for size', () => {
    expect(pageRequests('collection', state({ sort: 'size' }), 0, 0).folders.sort).toBe('lowerName');
    expect(pageRequests('folder', state({ sort: 'size' }), 0, 0).folders.sort).toBe('size');
  });

  it('pages forward and back and says where it is', () => {
    const p = pagerState(state({ offset: 50 }), 120, '/folder/x');
    expect(p.text).toBe('51–100 of 120');
    expect(p.previous).toBe('/folder/x');
    expect(p.next).toBe('/folder/x?offset=100');
    const last = pagerState(state({ offset: 100 }), 120, '/b');
    expect(last.next).toBeNull();
    expect(pagerState(state(), 0, '/b')).toEqual({ text: 'Empty', previous: null, next: null });
  });

  it('flips the direction of the sorted column and starts a new sort ascending', () => {
    expect(sortLink(state({ offset: 50 }), 'lowerName', '/b')).toEqual({ href: '/b?sortdir=-1', active: true });
    expect(sortLink(state({ sortdir: -1 }), 'lowerName', '/b').href).toBe('/b');
    expect(sortLink(state({ sortdir: -1 }), 'size', '/b')).toEqual({ href: '/b?sort=size', active: false });
  });
});

describe('browser rows and actions', () => {
  it('shows images, converting images, plain items and folders apart', () => {
    expect(entryDisplay(folder('a'))).toMatchObject({ href: '/folder/a', icon: 'folder', thumbnail: false, viewable: false });
    expect(entryDisplay(item('b', { fileId: 'x' }))).toMatchObject({ href: '/item/b', thumbnail: true, viewable: true, converting: false });
    expect(entryDisplay(item('c', { fileId: 'x', expected: true }))).toMatchObject({ icon: 'image', thumbnail: false, converting: true });
    expect(entryDisplay(item('d'))).toMatchObject({ icon: 'file', thumbnail: false, converting: false });
  });

  it('splits a selection into items and folders', () => {
    expect(splitIds([folder('a'), item('b'), folder('c')])).toEqual({ item: ['b'], folder: ['a', 'c'] });
  });

  it('warns that folders go with their contents', () => {
    expect(deleteQuestion([folder('a', 'Slides')])).toBe('Delete "Slides"? Folders are deleted with everything inside them. This cannot be undone.');
    expect(deleteQuestion([item('b'), item('c')])).toBe('Delete 2 entries? This cannot be undone.');
    expect(describeSelection([{ name: 'x' }])).toBe('"x"');
  });

  it('offers editing to writers, sharing and deleting to owners, and nothing of a user but folders', () => {
    const read = containerActions('folder', folderPermissions(0));
    expect(Object.entries(read).filter(([, v]) => v).map(([k]) => k)).toEqual(['tag']);
    const write = containerActions('folder', folderPermissions(1));
    expect(write).toMatchObject({ newFolder: true, uploadFiles: true, rename: true, share: false, delete: false });
    expect(containerActions('collection', folderPermissions(2))).toMatchObject({ tag: false, uploadFiles: false, share: true, delete: true });
    expect(containerActions('user', folderPermissions(2))).toMatchObject({ newFolder: true, share: false, rename: false, delete: false });
    expect([0, 1, 2].map((l) => accessText(folderPermissions(l)))).toEqual(['Can view', 'Can edit', 'Owner']);
    expect(emptyListText('folder', folderPermissions(1))).toMatch(/Drop files/);
    expect(emptyListText('folder', folderPermissions(0))).toBe('Nothing here yet.');
  });

  it('watches each converting item once', () => {
    const list = [item('a', { fileId: 'x', expected: true }), item('b', { fileId: 'x' }), folder('c'), item('d', { fileId: 'y', expected: true })];
    expect(convertingItems(list, new Set(['d']))).toEqual(['a']);
  });

  it('goes to the parent folder after deleting a folder, to the collections after a collection', () => {
    const crumbs = [{ href: '/collections' }, { href: '/collection/c' }, { href: '/folder/f' }];
    expect(afterDelete('folder', crumbs)).toBe('/collection/c');
    expect(afterDelete('folder', [{ href: '/folder/f' }])).toBe('/');
    expect(afterDelete('collection', crumbs)).toBe('/collections');
  });
});

describe('live listing', () => {
  const f = 'f'.repeat(24);
  it('reloads a folder when an item or folder changes directly inside it', () => {
    expect(changesListing({ type: 'item.create', data: { _id: 'i', folderId: f, name: 'x' } }, 'folder', f)).toBe(true);
    expect(changesListing({ type: 'upload_done', data: { itemId: 'i', folderId: f } }, 'folder', f)).toBe(true);
    expect(changesListing({ type: 'folder.delete', data: { _id: 'c', parentId: f } }, 'folder', f)).toBe(true);
    expect(changesListing({ type: 'folder.create', data: { _id: 'c', parentId: f } }, 'collection', f)).toBe(true);
  });

  it('ignores other folders, other kinds, and events that are not about listings', () => {
    expect(changesListing({ type: 'item.create', data: { folderId: 'other' } }, 'folder', f)).toBe(false);
    expect(changesListing({ type: 'item.create', data: { folderId: f } }, 'collection', f)).toBe(false);
    expect(changesListing({ type: 'annotation.update', data: { itemId: f } }, 'folder', f)).toBe(false);
    expect(changesListing({ type: 'job_status', data: {} }, 'folder', f)).toBe(false);
  });
});
