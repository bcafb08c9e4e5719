// What a user may do, from Girder access levels: READ 0, WRITE 1, ADMIN 2.
import { AccessLevel, type AccessEntry, type AccessList } from '../types';

export interface Permissions {
  /** Rename, move, delete, upload, edit metadata. */
  canEdit: boolean;
  /** Change sharing. */
  canShare: boolean;
  /** Create new annotations (WRITE, or the annotate-only access flag). */
  canAnnotate: boolean;
}

/** Permissions on a folder (and so its items) from its `_accessLevel`. */
export function folderPermissions(level: number | undefined, canCreateAnnotations = false): Permissions {
  const lvl = level ?? AccessLevel.NONE;
  return {
    canEdit: lvl >= AccessLevel.WRITE,
    canShare: lvl >= AccessLevel.ADMIN,
    canAnnotate: lvl >= AccessLevel.WRITE || canCreateAnnotations,
  };
}

/** Whether an annotation's elements may be changed: WRITE on the annotation itself. */
export function canEditAnnotation(annotationLevel: number | undefined): boolean {
  return (annotationLevel ?? AccessLevel.NONE) >= AccessLevel.WRITE;
}

export const LEVEL_NAMES: Record<number, string> = {
  [AccessLevel.READ]: 'Can view',
  [AccessLevel.WRITE]: 'Can edit',
  [AccessLevel.ADMIN]: 'Owner',
};

/** The access list to save from the rows of the sharing dialog. */
export function accessListOf(rows: Array<AccessEntry & { kind: 'user' | 'group' }>): AccessList {
  const of = (kind: 'user' | 'group') => rows.filter((r) => r.kind === kind).map((r) => ({ id: r.id, level: r.level, flags: r.flags ?? [] }));
  return { users: of('user'), groups: of('group') };
}

/**
 * The flags an entry may be given: flags widen a read or write entry, an owner
 * (admin level) may do everything already, and admin-only flags are not offered.
 */
export function grantableFlags(flags: Record<string, { admin?: boolean }>, level: number): string[] {
  if (level >= AccessLevel.ADMIN) return [];
  return Object.keys(flags).filter((k) => !flags[k].admin);
}
