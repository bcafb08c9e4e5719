// Applying a colleague's annotation changes to what the viewer holds, without
// touching what this user is doing: elements with unsaved local edits keep
// the local version (the next save reports a conflict if there is one), a
// selected element follows its new shape, and nothing here touches the undo
// stack or the shape being drawn (that lives in the draw interaction).
import type { AnnotationElement } from '../types';

/** The element ids an `annotation.update` event says were touched. */
export interface TouchedElements {
  added: string[];
  changed: string[];
  removed: string[];
}

/** What the viewer holds locally while a remote change arrives. */
export interface LocalEdits {
  /** Elements with local changes not yet on the server. */
  pending: ReadonlySet<string>;
  /** Elements selected in the editor. */
  selected: ReadonlySet<string>;
}

/** How to bring the local state up to date. */
export interface RemotePlan {
  /** Elements to draw (new or changed). */
  put: AnnotationElement[];
  /** Elements to remove from the map. */
  drop: string[];
  /** Selected elements whose stored shape changed: the selection shows the new one. */
  reselect: AnnotationElement[];
  /** Selected elements a colleague deleted: no longer selectable. */
  deselect: string[];
  /** Touched elements left as they are here, because they have unsaved local edits. */
  kept: string[];
}

/**
 * Plan a remote change. `fetched` holds the annotation's elements as the
 * server has them now (all of them, or those of the loaded region when
 * `complete` is false: then an element missing from it is not known to be gone).
 */
export function planRemoteChange(touched: TouchedElements, fetched: ReadonlyMap<string, AnnotationElement>, local: LocalEdits, complete = true): RemotePlan {
  const plan: RemotePlan = { put: [], drop: [], reselect: [], deselect: [], kept: [] };
  const ids = new Set([...touched.added, ...touched.changed, ...touched.removed]);
  for (const id of ids) {
    if (local.pending.has(id)) {
      plan.kept.push(id);
      continue;
    }
    const el = fetched.get(id);
    if (el) {
      plan.put.push(el);
      if (local.selected.has(id)) plan.reselect.push(el);
    } else if (complete || touched.removed.includes(id)) {
      plan.drop.push(id);
      if (local.selected.has(id)) plan.deselect.push(id);
    }
  }
  return plan;
}

/** Every element id of a list, for a whole-annotation reload (create, revert). */
export function allTouched(before: Iterable<string>, after: Iterable<string>): TouchedElements {
  const now = new Set(after);
  const removed = [...before].filter((id) => !now.has(id));
  return { added: [], changed: [...now], removed };
}

/** The touched ids of an event's `elements`, tolerating a missing or partial field. */
export function touchedOf(data: { elements?: Partial<TouchedElements> | null }): TouchedElements | null {
  const e = data.elements;
  if (!e) return null;
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return { added: list(e.added), changed: list(e.changed), removed: list(e.removed) };
}

/**
 * Versions this page wrote itself: their events carry nothing new for it.
 * A colleague's event is always applied (applying twice is harmless), even
 * when this page's later save already moved past its version.
 */
export class OwnVersions {
  private versions: number[] = [];

  add(version: number): void {
    this.versions.push(version);
    if (this.versions.length > 100) this.versions.shift();
  }

  has(version: number | undefined): boolean {
    return version !== undefined && this.versions.includes(version);
  }
}

/** A queued local change and the version it was made against. */
export interface BasedOp<Op> {
  op: Op;
  base: number | undefined;
}

/**
 * Queued changes grouped by the version they were made against, oldest
 * first: each group goes in its own PATCH with that `version`, so the server
 * merges exactly what a colleague did not touch since.
 */
export function batchesByBase<Op>(ops: Iterable<BasedOp<Op>>): Array<{ base: number | undefined; ops: Op[] }> {
  const groups = new Map<number | undefined, Op[]>();
  for (const o of ops) {
    const list = groups.get(o.base) ?? [];
    list.push(o.op);
    groups.set(o.base, list);
  }
  return [...groups.entries()]
    .sort((a, b) => (a[0] ?? -1) - (b[0] ?? -1))
    .map(([base, list]) => ({ base, ops: list }));
}
