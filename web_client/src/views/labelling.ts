// The labelling project's owner view on a folder page (seed 001): how far each
// labeller has got, and every mask in one zip.
import { isMissingRoute, labels } from '../api';
import { h, icon, replace } from '../ui/dom';
import { showError } from '../ui/notify';

/** A side card with per-labeller progress; hidden while nobody has labelled here. */
export function labellingCard(folderId: string): { el: HTMLElement; refresh(): Promise<void> } {
  const body = h('div.labelling-body');
  const el = h('section.card.labelling-card', { hidden: true },
    h('div.card-header', null, h('h3', null, 'Pixel labelling'),
      h('a.button.small', { href: labels.downloadUrl(folderId), 'data-external': '', download: '', title: 'Every label mask of this folder as a zip' }, icon('download', 14), 'All masks')),
    body);
  const refresh = async () => {
    try {
      const p = await labels.progress(folderId);
      el.hidden = !p.labellers.length;
      if (!p.labellers.length) return;
      replace(body, h('table.table.progress-table', null,
        h('thead', null, h('tr', null, h('th', null, 'Labeller'), h('th', null, 'Done'), h('th', null, 'In progress'))),
        h('tbody', null, p.labellers.map((l) => h('tr', { dataset: { login: l.login } },
          h('td', null, l.login,
            h('div.progress', { title: `${l.done} of ${p.items} images done` }, h('div.progress-bar', { style: { width: `${p.items ? (100 * l.done) / p.items : 0}%` } }))),
          h('td', null, `${l.done} / ${p.items}`),
          h('td.muted', null, String(l.checkpoint)))))));
    } catch (err) {
      el.hidden = true;
      // Plain Girder has no labels plugin: no card.
      if (!isMissingRoute(err)) showError(err, 'Labelling progress');
    }
  };
  return { el, refresh };
}
