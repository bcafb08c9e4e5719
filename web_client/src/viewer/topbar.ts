// The viewer's top bar: back to the folder, the slide's name and size, frames,
// magnifications, Fit, copy link, shortcuts and full screen.
import { sizeText } from '../lib/viewer-logic';
import type Map from 'ol/Map';
import type { Folder, Item, TileMetadata } from '../types';
import { h, icon } from '../ui/dom';
import { magnificationButtons } from './info';

export interface TopbarParts {
  item: Item;
  meta: TileMetadata;
  folder: Folder | null;
  map: Map;
  frames: HTMLElement | null;
  fullscreen: HTMLElement;
  fit(): void;
  copyLink(): void;
  help(): void;
}

export function viewerTopbar(p: TopbarParts): HTMLElement {
  const backHref = p.folder ? `/folder/${p.folder._id}` : `/item/${p.item._id}`;
  return h('div.viewer-top', null,
    h('a.button.small.viewer-back', { href: backHref, title: p.folder ? `Back to ${p.folder.name}` : 'Back to the item' },
      icon('chevronLeft', 14), h('span.viewer-back-label', null, p.folder?.name ?? 'Back')),
    h('div.viewer-title', null, h('strong', null, p.item.name), h('span.muted.small', null, sizeText(p.meta))),
    p.frames,
    h('span.spacer'),
    magnificationButtons(p.map, p.meta),
    h('button.button.small', { title: 'Fit the whole slide', onclick: p.fit }, 'Fit'),
    h('button.icon-button', { title: 'Copy a link to this view', onclick: p.copyLink }, icon('link')),
    h('button.icon-button', { title: 'Keyboard shortcuts (?)', onclick: p.help }, icon('keyboard')),
    p.fullscreen);
}
