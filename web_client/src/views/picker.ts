// A dialog to choose a destination folder (for moving things).
import { collections, folders, getCurrentUser, type ParentType } from '../api';
import { h, icon, replace } from '../ui/dom';
import { openDialog } from '../ui/modal';

interface Place {
  type: ParentType | 'root';
  id: string;
  name: string;
}

/** Let the user browse to a folder; resolves with it, or null. */
export function pickFolder(title: string, start: Place | null, exclude: Set<string> = new Set()): Promise<{ type: ParentType; id: string; name: string } | null> {
  return new Promise((resolve) => {
    let chosen = false;
    const d = openDialog(title, { onClose: () => !chosen && resolve(null) });
    const crumbs = h('div.picker-crumbs');
    const list = h('div.picker-list');
    const trail: Place[] = [{ type: 'root', id: '', name: 'Start' }];
    if (start) trail.push(start);
    // Moving to where the things already are does nothing.
    const startId = start?.id;
    const choose = h('button.button.primary', {
      onclick: () => {
        const here = trail[trail.length - 1];
        if (here.type === 'root') return;
        chosen = true;
        d.close();
        resolve({ type: here.type, id: here.id, name: here.name });
      },
    }, 'Move here');

    const open = async () => {
      const here = trail[trail.length - 1];
      choose.disabled = here.type === 'root' || here.type === 'user' || here.type === 'collection' || here.id === startId;
      choose.title = here.id === startId ? 'This is where they are now' : '';
      replace(crumbs, trail.map((p, i) => [i ? h('span.sep', null, '/') : null,
        h('button.link', { onclick: () => { trail.length = i + 1; void open(); } }, p.name)]));
      replace(list, h('div.muted.small-pad', null, 'Loading…'));
      try {
        let entries: Place[] = [];
        if (here.type === 'root') {
          const me = getCurrentUser();
          const cols = await collections.list({ limit: 200 });
          entries = [
            ...(me ? [{ type: 'user' as const, id: me._id, name: `My files (${me.login})` }] : []),
            ...cols.items.map((c) => ({ type: 'collection' as const, id: c._id, name: c.name })),
          ];
        } else {
          const page = await folders.list(here.type, here.id, { limit: 500 });
          entries = page.items.filter((f) => !exclude.has(f._id)).map((f) => ({ type: 'folder' as const, id: f._id, name: f.name }));
        }
        replace(list, entries.length ? entries.map((e) => h('button.picker-entry', {
          ondblclick: () => { trail.push(e); void open(); },
          onclick: () => { trail.push(e); void open(); },
        }, icon(e.type === 'folder' ? 'folder' : e.type === 'user' ? 'user' : 'collection'), h('span', null, e.name), icon('chevronRight')))
          : h('div.muted.small-pad', null, 'No subfolders'));
      } catch (err) {
        d.setError(err);
      }
    };
    d.body.append(crumbs, list);
    d.footer.append(h('span.muted.grow', null, 'Open a folder, then choose “Move here”.'), h('button.button', { onclick: () => d.close() }, 'Cancel'), choose);
    // Show the whole path above the start so any level is one click away.
    const above = start?.type === 'folder' ? folders.rootpath(start.id).catch(() => []) : Promise.resolve([]);
    void above.then((path) => {
      const me = getCurrentUser();
      trail.splice(1, 0, ...path.map((p): Place => ({
        type: p.type,
        id: p.object._id,
        name: p.type === 'user' ? (p.object._id === me?._id ? `My files (${p.object.login})` : p.object.login) : p.object.name,
      })));
      return open();
    });
  });
}
