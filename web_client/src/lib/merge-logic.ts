// The choices offered when a save conflicts with a colleague's edit of the
// same element (PATCH ... 409 {type: "conflict", version, conflicts}): keep
// theirs, keep mine, or keep both (mine becomes a new element).
import type { AnnotationElement } from '../types';

export interface ElementConflict {
  id: string;
  base: AnnotationElement | null;
  theirs: AnnotationElement | null;
  mine: AnnotationElement | null;
}

/** The 409 answer of a PATCH whose elements a colleague changed meanwhile. */
export interface ConflictAnswer {
  version: number;
  conflicts: ElementConflict[];
  /** Header fields (name, description...) both sides changed: `{field, base, theirs, mine}`. */
  fields: string[];
}

export type Resolution = 'theirs' | 'mine' | 'both';

type Op =
  | { op: 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** The conflict in an error's JSON body, or null when it is another error. */
export function conflictAnswer(status: number, body: unknown): ConflictAnswer | null {
  const b = body as { type?: string; version?: unknown; conflicts?: unknown } | null;
  if (status !== 409 || !b || b.type !== 'conflict' || typeof b.version !== 'number' || !Array.isArray(b.conflicts)) return null;
  const conflicts = b.conflicts.filter((c): c is ElementConflict => Boolean(c) && typeof (c as ElementConflict).id === 'string');
  const fields = b.conflicts
    .map((c) => (c as { field?: unknown } | null)?.field)
    .filter((f): f is string => typeof f === 'string');
  return { version: b.version, conflicts, fields };
}

const elementPath = (id: string) => `elements/id:${id}`;
const opId = (op: Op) => (op.path.startsWith('elements/id:') ? op.path.slice('elements/id:'.length) : null);
/** The header field an operation touches (`name`, `attributes/...` -> `attributes`). */
const opField = (op: Op) => (opId(op) === null ? op.path.replace(/^\//, '').split('/')[0] : null);

/** What a resolution sends again, and how the local state changes. */
export interface ResolvedSave {
  /** Operations to send with `version` = the conflict's version. */
  ops: Op[];
  version: number;
  /** Elements to draw as they now are. */
  put: AnnotationElement[];
  /** Elements to remove from the map. */
  drop: string[];
}

/**
 * Carry out a choice. Operations on elements that did not conflict are sent
 * again in every case (the server wrote nothing on the 409).
 */
export function resolveConflicts(choice: Resolution, ops: Op[], answer: ConflictAnswer, newId: () => string): ResolvedSave {
  const byId = new Map(answer.conflicts.map((c) => [c.id, c]));
  const out: ResolvedSave = { ops: [], version: answer.version, put: [], drop: [] };
  const fields = new Set(answer.fields);
  for (const op of ops) {
    const id = opId(op);
    const field = opField(op);
    // a header field cannot be kept twice: "both" keeps theirs, as "theirs" does
    const conflicting = id !== null ? byId.has(id) : field !== null && fields.has(field);
    if (!conflicting || choice === 'mine') out.ops.push(op);
  }
  if (choice === 'mine') return out;
  for (const c of answer.conflicts) {
    // Theirs stays in both other choices.
    if (c.theirs) out.put.push(c.theirs);
    else out.drop.push(c.id);
    if (choice === 'both' && c.mine) {
      const copy = { ...c.mine, id: newId() };
      out.ops.push({ op: 'add', path: elementPath(copy.id), value: copy });
      out.put.push(copy);
    }
  }
  return out;
}

/** A sentence for the dialog: how many elements, and who changed them. */
export function conflictText(answer: ConflictAnswer): string {
  const n = answer.conflicts.length;
  const removedByThem = answer.conflicts.filter((c) => !c.theirs).length;
  const parts: string[] = [];
  if (n) parts.push(n === 1 ? 'an element you also changed' : `${n} elements you also changed`);
  if (answer.fields.length) parts.push(`the annotation's ${answer.fields.join(', ')}`);
  const what = parts.join(' and ') || 'what you changed';
  const gone = removedByThem ? ` (${removedByThem === n && n === 1 ? 'they deleted it' : `${removedByThem} deleted by them`})` : '';
  return `Someone else saved ${what}${gone} since you loaded it (now version ${answer.version}).`;
}
