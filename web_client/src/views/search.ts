// Search by name across folders, items and collections.
import { resources } from '../api';
import type { View } from '../router';
import { h, icon } from '../ui/dom';

export async function searchView(search: string): Promise<View> {
  const q = new URLSearchParams(search).get('q')?.trim() ?? '';
  const el = h('div.page', null, h('div.page-header', null, h('h1', null, q ? `Results for “${q}”` : 'Search')));
  if (!q) {
    el.append(h('p.muted', null, 'Type a name in the search box.'));
    return { el };
  }
  const res = await resources.search(q, ['collection', 'folder', 'item'], 50);
  const groups: Array<[string, Array<{ _id: string; name: string; description?: string }>, 'collection' | 'folder' | 'item']> = [
    ['Collections', res.collection ?? [], 'collection'],
    ['Folders', res.folder ?? [], 'folder'],
    ['Items', res.item ?? [], 'item'],
  ];
  let any = false;
  for (const [label, list, type] of groups) {
    if (!list.length) continue;
    any = true;
    el.append(h('section.card', null, h('div.card-header', null, h('h3', null, `${label} (${list.length})`)),
      h('ul.plain-list.results', null, list.map((d) => h('li', null,
        h('a.entry', { href: `/${type}/${d._id}` }, icon(type === 'item' ? 'file' : type === 'folder' ? 'folder' : 'collection', 16), h('span', null, d.name)),
        d.description ? h('span.muted', null, ` ${d.description}`) : null)))));
  }
  if (!any) el.append(h('div.empty', null, 'Nothing matches that name.'));
  return { el };
}
