// The logic of the "Shared with me" list (views/shared.ts): my progress on a
// labelling project or a tagging folder, and how a folder reached me.
import type { SharedFolder } from '../types';

/** What a labelling or tagging folder shows as my progress: done of total. */
export interface Progress {
  label: string;
  done: number;
  total: number;
  /** Images saved as work in progress (labelling checkpoints). */
  started?: number;
}

type LabelsProgress = { items: number; labellers: Array<{ login: string; done: number; checkpoint: number }> };

/** My labelling progress, or null when the folder is no labelling project (no classes, no masks). */
export function labellingProgress(p: LabelsProgress, login: string, hasClasses: boolean): Progress | null {
  if (!hasClasses && !p.labellers.length) return null;
  const mine = p.labellers.find((l) => l.login === login);
  return { label: 'labelled', done: mine?.done ?? 0, total: p.items, started: mine?.checkpoint ?? 0 };
}

/** The folder's tagging progress from GET /folder/:id/tags/summary (tags are shared by all taggers). */
export function taggingProgress(s: { items: number; untagged: number }): Progress {
  return { label: 'tagged', done: s.items - s.untagged, total: s.items };
}

/** "via the Lab group" / "" (shared with me directly). */
export function viaText(via: SharedFolder['_shared']['via']): string {
  return via.type === 'group' ? `via the ${via.name ?? 'deleted'} group` : '';
}
