// An item's page: files, large-image status and conversion, metadata,
// annotations, and the usual rename / move / delete.
import { annotations as annotationsApi, folders, items, resources, tiles, files as filesApi } from '../api';
import { folderPermissions } from '../lib/access';
import type { View } from '../router';
import type { Folder, GirderFile, Item, TileMetadata } from '../types';
import { formatDate, formatSize, h, icon, replace } from '../ui/dom';
import { confirmDialog, formDialog } from '../ui/modal';
import { showError, toast } from '../ui/notify';
import { fileRole } from '../lib/text';
import { breadcrumbs, crumbsFromRootpath } from './browser';
import { followConversion, looksLikeImage, type JobFeed } from './conversion';
import { metadataCard } from './metadata';
import { pickFolder } from './picker';

/** The properties of a large image: size, levels, tiles, scale, frames. */
function imageProps(meta: TileMetadata): HTMLElement {
  return h('dl.props', null,
    h('dt', null, 'Size'), h('dd', null, `${meta.sizeX.toLocaleString()} × ${meta.sizeY.toLocaleString()} px`),
    h('dt', null, 'Levels'), h('dd', null, String(meta.levels)),
    h('dt', null, 'Tiles'), h('dd', null, `${meta.tileWidth} × ${meta.tileHeight}`),
    meta.magnification ? [h('dt', null, 'Magnification'), h('dd', null, `${meta.magnification}×`)] : null,
    meta.mm_x ? [h('dt', null, 'Pixel size'), h('dd', null, `${(meta.mm_x * 1000).toPrecision(3)} µm`)] : null,
    meta.frames && meta.frames.length > 1 ? [h('dt', null, 'Frames'), h('dd', null, String(meta.frames.length))] : null);
}

function filesCard(item: Item, fileList: GirderFile[]): HTMLElement {
  return h('section.card', null, h('div.card-header', null, h('h3', null, 'Files')),
    h('table.table', null, h('tbody', null, fileList.map((f) => h('tr', { dataset: { role: fileRole(item, f._id) ? 'derived' : 'file' } },
      h('td', null, h('a', { href: filesApi.downloadUrl(f._id), 'data-external': '' }, icon('file', 14), ' ', f.name)),
      // Masks and converted images are files of the item too; say what they are.
      h('td.muted', null, fileRole(item, f._id) ? h('span.badge', null, fileRole(item, f._id)) : f.mimeType ?? ''),
      h('td.muted', null, formatSize(f.size)),
      h('td.muted', null, formatDate(f.created)))))));
}

async function renderAnnotations(annCard: HTMLElement, id: string): Promise<void> {
  try {
    const list = await annotationsApi.list(id);
    replace(annCard, h('div.card-header', null, h('h3', null, 'Annotations')),
      list.length ? h('ul.plain-list', null, list.map((a) => h('li', null,
        h('a', { href: `/view/${id}?ann=${a._id}` }, a.annotation.name),
        h('span.muted', null, ` ${a._elementCount !== undefined ? `${a._elementCount.toLocaleString()} element${a._elementCount === 1 ? '' : 's'} · ` : ''}${formatDate(a.updated)}`))))
        : h('p.small-pad.muted', null, 'No annotations.'));
  } catch (err) {
    replace(annCard, h('div.card-header', null, h('h3', null, 'Annotations')), h('p.small-pad.form-error', null, (err as Error).message));
  }
}

export async function itemView(id: string, go: (p: string) => void, feed?: JobFeed): Promise<View> {
  let item = await items.get(id);
  const [folder, path, fileList] = await Promise.all([
    folders.get(item.folderId).catch(() => null as Folder | null),
    items.rootpath(id),
    items.files(id),
  ]);
  const perms = folderPermissions(folder?._accessLevel);
  const crumbs = crumbsFromRootpath(path);
  if (path[0]?.type === 'collection') crumbs.unshift({ name: 'Collections', href: '/collections' });
  crumbs.push({ name: item.name, href: `/item/${id}` });
  const controller = new AbortController();

  const imageCard = h('section.card');
  const renderImage = async () => {
    if (!item.largeImage) {
      const candidate = fileList.find((f) => looksLikeImage(f.name));
      replace(imageCard, h('div.card-header', null, h('h3', null, 'Image')),
        h('p.small-pad.muted', null, candidate ? 'This item is not a large image yet.' : 'This item has no image file.'),
        candidate && perms.canEdit ? h('div.small-pad', null, h('button.button.primary', {
          onclick: () => convert(candidate._id),
        }, icon('image'), 'Make large image')) : null);
      return;
    }
    if (item.largeImage.expected) {
      void convert();
      return;
    }
    let meta: TileMetadata | null = null;
    try {
      meta = await tiles.metadata(id);
    } catch (err) {
      replace(imageCard, h('div.card-header', null, h('h3', null, 'Image')), h('p.small-pad.form-error', null, (err as Error).message));
      return;
    }
    replace(imageCard,
      h('div.card-header', null, h('h3', null, 'Image'), h('a.button.primary.small', { href: `/view/${id}` }, icon('eye', 14), 'Open viewer')),
      h('div.image-summary', null,
        h('a', { href: `/view/${id}` }, h('img.preview', { src: tiles.thumbnailUrl(id, { width: 320, height: 240 }), alt: `Thumbnail of ${item.name}` })),
        imageProps(meta)));
  };

  const convert = async (fileId?: string) => {
    const bar = h('div.progress-bar.indeterminate', { style: { width: '100%' } });
    const text = h('span', null, 'Starting conversion…');
    replace(imageCard, h('div.card-header', null, h('h3', null, 'Image')), h('div.small-pad', null, text, h('div.progress', null, bar)));
    try {
      const final = await followConversion(id, {
        fileId, start: Boolean(fileId), signal: controller.signal, feed,
        report: (s) => {
          if (s.phase === 'converting') {
            text.textContent = s.fraction === null ? `${s.message}…` : `${s.message} ${Math.round(s.fraction * 100)}%`;
            bar.classList.toggle('indeterminate', s.fraction === null);
            bar.style.width = s.fraction === null ? '100%' : `${s.fraction * 100}%`;
          }
        },
      });
      item = await items.get(id);
      if (final.phase === 'error') {
        replace(imageCard, h('div.card-header', null, h('h3', null, 'Image')), h('div.small-pad', null, h('div.form-error', null, final.message)));
        return;
      }
      await renderImage();
    } catch (err) {
      if ((err as Error).name !== 'AbortError') showError(err, 'Conversion');
    }
  };

  const annCard = h('section.card');
  const rename = () => formDialog('Rename item', [
    { name: 'name', label: 'Name', value: item.name, required: true },
    { name: 'description', label: 'Description', type: 'textarea', value: item.description ?? '' },
  ], 'Save', async (v) => {
    item = await items.update(id, { name: v.name.trim(), description: v.description });
    title.textContent = item.name;
  });
  const move = async () => {
    const target = await pickFolder(`Move "${item.name}"`, folder ? { type: 'folder', id: folder._id, name: folder.name } : null);
    if (!target) return;
    try {
      await resources.move({ item: [id] }, target.type, target.id);
      toast(`Moved to ${target.name}`, 'success');
      go(`/item/${id}`);
    } catch (err) {
      showError(err, 'Move failed');
    }
  };
  const remove = async () => {
    if (!(await confirmDialog('Delete item', `Delete "${item.name}" with its files and annotations? This cannot be undone.`))) return;
    try {
      await items.remove(id);
      go(`/folder/${item.folderId}`);
    } catch (err) {
      showError(err, 'Delete failed');
    }
  };

  const title = h('h1', null, item.name);
  const el = h('div.page.with-side', null,
    breadcrumbs(crumbs),
    h('div.page-header', null,
      h('div', null, title, item.description ? h('p.muted', null, item.description) : null),
      h('div.page-actions', null,
        h('a.button', { href: items.downloadUrl(id), 'data-external': '' }, icon('download'), 'Download'),
        perms.canEdit ? h('button.button', { onclick: rename }, icon('edit'), 'Rename') : null,
        perms.canEdit ? h('button.button', { onclick: move }, icon('move'), 'Move') : null,
        perms.canEdit ? h('button.button.danger', { onclick: remove }, icon('trash'), 'Delete') : null)),
    h('div.columns', null,
      h('div.main-col', null, imageCard,
        filesCard(item, fileList)),
      h('aside.side', null, annCard, metadataCard('item', id, item.meta, perms.canEdit))));
  await Promise.all([renderImage(), renderAnnotations(annCard, id)]);
  return { el, destroy: () => controller.abort() };
}

export type { Item };
