// "Shared with me" on my home page (seed 001: a labeller finds the project they
// were added to): folders others shared with me or my groups, newest first, with
// my progress on labelling projects and tagging folders.
import { getCurrentUser, isMissingRoute, labels, resources, tagging } from '../api';
import { labellingProgress, taggingProgress, viaText, type Progress } from '../lib/shared';
import type { SharedFolder } from '../types';
import { formatDate, h, icon, replace } from '../ui/dom';
import { showError } from '../ui/notify';

const PAGE = 20;

async function progressOf(folder: SharedFolder, login: string): Promise<Progress[]> {
  const [mask, tags] = await Promise.all([
    labels.progress(folder._id).then((p) => labellingProgress(p, login, Boolean(folder.labelClasses?.length))).catch(() => null),
    folder.tagset?.tags?.length ? tagging.summary(folder._id).then(taggingProgress).catch(() => null) : null,
  ]);
  return [mask, tags].filter((p): p is Progress => p !== null);
}

function progressCell(list: Progress[]): HTMLElement[] {
  return list.map((p) => h('div.shared-progress', { dataset: { kind: p.label } },
    h('span.small', null, `${p.done} / ${p.total} ${p.label}`, p.started ? ` (${p.started} in progress)` : ''),
    h('div.progress', { title: `${p.done} of ${p.total} images ${p.label}` },
      h('div.progress-bar', { style: { width: `${p.total ? (100 * p.done) / p.total : 0}%` } }))));
}

/** The card; hidden while nothing is shared with me (and on servers without the route). */
export function sharedWithMeCard(): { el: HTMLElement; refresh(): Promise<void> } {
  let offset = 0;
  const body = h('tbody');
  const footer = h('div.list-footer');
  const el = h('section.card.list-card.shared-card', { hidden: true },
    h('div.card-header', null, h('h3', null, 'Shared with me')),
    h('table.table.entries', null,
      h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Shared by'), h('th', null, 'Shared'), h('th', null, 'My progress'))),
      body),
    footer);
  const refresh = async () => {
    const login = getCurrentUser()?.login ?? '';
    try {
      const page = await resources.shared(offset, PAGE);
      const total = page.total ?? page.items.length;
      el.hidden = total === 0;
      const progress = await Promise.all(page.items.map((f) => progressOf(f, login)));
      replace(body, page.items.map((f, i) => h('tr', { dataset: { id: f._id } },
        h('td.name-cell', null, h('a.entry', { href: `/folder/${f._id}` }, icon('folder', 18), h('span', null, f.name))),
        h('td.muted', null, f._shared.by ? h('span', { title: f._shared.by.login }, f._shared.by.name) : '', ' ', h('span.small', null, viaText(f._shared.via))),
        h('td.muted', null, formatDate(f._shared.at)),
        h('td', null, progressCell(progress[i])))));
      replace(footer, total > PAGE ? h('div.pager', null,
        h('span.muted', null, `${offset + 1}–${Math.min(total, offset + PAGE)} of ${total}`),
        h('button.button.small', { disabled: offset <= 0, onclick: () => { offset = Math.max(0, offset - PAGE); void refresh(); } }, icon('chevronLeft', 14), 'Previous'),
        h('button.button.small', { disabled: offset + PAGE >= total, onclick: () => { offset += PAGE; void refresh(); } }, 'Next', icon('chevronRight', 14))) : null);
    } catch (err) {
      el.hidden = true;
      if (!isMissingRoute(err)) showError(err, 'Shared with me');
    }
  };
  return { el, refresh };
}
