// What the viewer needs before it draws: the item, its tiles' metadata, its
// folder, its annotations and what the user may do; and the view's URL.
import { nextImageAfter, shownInUrl } from '../lib/viewer-logic';
import { annotations as annApi, folders, getCurrentUser, items, tiles } from '../api';
import { folderPermissions, type Permissions } from '../lib/access';
import { viewUrl, type ViewState } from '../lib/url-state';
import type { Annotation, Folder, Item, TileMetadata } from '../types';
import type View from 'ol/View';
import { debounce, h } from '../ui/dom';
import { openDialog } from '../ui/modal';
import { toast } from '../ui/notify';
import type { AnnotationLayer } from './annotation-layer';

export interface ViewerData {
  item: Item;
  meta: TileMetadata;
  folder: Folder | null;
  annotations: Annotation[];
  perms: Permissions;
  /** May start new annotations (write access, or the annotate flag). */
  canCreate: boolean;
}

export async function loadViewerData(itemId: string): Promise<ViewerData> {
  const item = await items.get(itemId);
  if (!item.largeImage) throw new Error(`"${item.name}" is not a large image yet. Open its page to convert it.`);
  if (item.largeImage.expected) throw new Error(`"${item.name}" is still being converted. Its page shows the progress.`);
  const [meta, folder, annotations] = await Promise.all([
    tiles.metadata(itemId),
    folders.get(item.folderId).catch(() => null as Folder | null),
    annApi.list(itemId).catch(() => [] as Annotation[]),
  ]);
  const me = getCurrentUser();
  const annotateFlag = me && folder && (folder._accessLevel ?? -1) < 1 ? await annApi.canCreateInFolder(folder._id).catch(() => false) : false;
  const perms = folderPermissions(folder?._accessLevel, Boolean(annotateFlag));
  return { item, meta, folder, annotations, perms, canCreate: Boolean(me) && perms.canAnnotate };
}

/** The URL of the current view: position, zoom, frame, visible annotations, the one edited. */
export function currentViewUrl(s: Omit<ViewState, 'annotations'>, layers: Array<{ id: string; visible: boolean; defaultVisible: boolean }>): string {
  return viewUrl({ ...s, annotations: shownInUrl(layers) });
}

/** Go to the folder's next large image, or say there is none. */
export async function openNextImage(folderId: string, itemId: string, navigate: (path: string) => void): Promise<void> {
  const next = nextImageAfter(await items.all(folderId), itemId);
  if (!next) toast('That was the last image of the folder', 'success');
  else navigate(`/view/${next._id}`);
}

/** Copy the page's link, or show it to copy by hand when the clipboard is refused. */
export async function copyLink(url: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(url);
    toast('Link to this view copied', 'success');
  } catch {
    const d = openDialog('Link to this view');
    const input = h('input.mono', { readOnly: true, value: url });
    d.body.append(input);
    input.select();
  }
}

/**
 * Keep the URL on the current view (debounced; call `.flush()` before reading
 * it, `.cancel()` when leaving, so this view never writes over the next page's).
 */
export function urlSync(view: View, layers: AnnotationLayer[], parts: {
  itemId: string;
  frame(): number;
  edited(): string | undefined;
  setQuietUrl(url: string): void;
}) {
  return debounce(() => {
    const c = view.getCenter();
    parts.setQuietUrl(currentViewUrl(
      { itemId: parts.itemId, x: c?.[0], y: c ? -c[1] : undefined, res: view.getResolution(), frame: parts.frame() || undefined, edit: parts.edited() },
      layers.map((l) => ({ id: l.id, visible: l.visible, defaultVisible: l.doc.annotation.display?.visible !== false }))));
  }, 250);
}
