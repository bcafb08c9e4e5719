// Who else has the slide open: the server's presence lists (from the stream
// and from each heartbeat's answer) merged into what the viewer shows.

export interface PresentUser {
  userId: string;
  login: string;
  name: string;
  /** [x0, y0, x1, y1] in base-image pixels, when that user shares their view. */
  viewport: number[] | null;
  color: string;
}

/** A presence list as sent, with when this page received it (lists may arrive out of order). */
/** A user as the server lists them (name and viewport may be missing). */
export type ListedUser = Omit<PresentUser, 'name' | 'viewport'> & { name?: string; viewport?: number[] | null };

export interface PresenceList {
  users: ListedUser[];
  /** Order of arrival or the event's time: the newest list wins. */
  at: number;
}

const COLOR = /^#[0-9a-f]{6}$/i;

/** A valid viewport (four finite numbers, non-empty box) or null. */
export function cleanViewport(v: unknown): number[] | null {
  if (!Array.isArray(v) || v.length !== 4 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) return null;
  const [x0, y0, x1, y1] = v as number[];
  return x1 > x0 && y1 > y0 ? [x0, y0, x1, y1] : null;
}

/**
 * The colleagues to show: the newest list, without me, one entry per user
 * (someone with two tabs open once; the tab sharing its view wins), by name.
 */
export function colleagues(current: PresenceList | null, incoming: PresenceList, meId: string | null): PresenceList & { others: PresentUser[] } {
  const list = current && current.at > incoming.at ? current : incoming;
  const byUser = new Map<string, PresentUser>();
  for (const raw of list.users ?? []) {
    if (!raw || typeof raw.userId !== 'string' || raw.userId === meId) continue;
    const u: PresentUser = {
      userId: raw.userId, login: String(raw.login ?? ''), name: String(raw.name || raw.login || 'Someone'),
      viewport: cleanViewport(raw.viewport), color: COLOR.test(raw.color) ? raw.color : '#888888',
    };
    const prev = byUser.get(u.userId);
    if (!prev || (!prev.viewport && u.viewport)) byUser.set(u.userId, u);
  }
  const others = [...byUser.values()].sort((a, b) => a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId));
  return { users: list.users, at: list.at, others };
}

/** Initials for a small badge: "Bob Reader" -> "BR", "bobby" -> "B". */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
}

/** The map polygon (OpenLayers coordinates: y down is negative) of a shared viewport. */
export function viewportRing(v: number[]): number[][] {
  const [x0, y0, x1, y1] = v;
  return [[x0, -y0], [x1, -y0], [x1, -y1], [x0, -y1], [x0, -y0]];
}

/** A viewport from a map extent ([minX, minY, maxX, maxY], y negative), clipped to the image. */
export function extentToViewport(ext: number[], sizeX: number, sizeY: number): number[] | null {
  const x0 = Math.max(0, Math.min(sizeX, ext[0]));
  const x1 = Math.max(0, Math.min(sizeX, ext[2]));
  const y0 = Math.max(0, Math.min(sizeY, -ext[3]));
  const y1 = Math.max(0, Math.min(sizeY, -ext[1]));
  return cleanViewport([Math.round(x0), Math.round(y0), Math.round(x1), Math.round(y1)]);
}
