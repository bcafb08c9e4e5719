// The page's one notification stream (GET /notification/stream, Server-Sent
// Events): what the open views watch, resuming after a reconnect without
// losing or repeating events, and a "polling" state when the server has no
// stream, so callers fall back to polling as they did before it existed.

/** One notification, in Girder's shape. */
export interface StreamEvent<D = Record<string, unknown>> {
  _id: string;
  type: string;
  time: string;
  data: D;
}

/** `item:<id>`, `folder:<id>` or `annotation:<id>`. */
export type WatchKey = string;

/** The server refuses more than this many watches on one stream. */
export const MAX_WATCH = 100;
/** Seconds the server keeps a stream open before the client opens the next. */
export const STREAM_TIMEOUT = 300;
/** Failed opens in a row (never having been live) before callers fall back to polling. */
export const FAILURES_BEFORE_POLLING = 3;

/**
 * What the page watches, counted: two views may watch the same folder, and the
 * stream must keep it until both stop.
 */
export class WatchSet {
  private counts = new Map<WatchKey, number>();

  /** Add one watcher; true when the set of keys changed. */
  add(key: WatchKey): boolean {
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    return n === 0;
  }

  /** Remove one watcher; true when the set of keys changed. */
  remove(key: WatchKey): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n <= 1) return this.counts.delete(key);
    this.counts.set(key, n - 1);
    return false;
  }

  /** The keys to send, sorted (a stable URL), at most MAX_WATCH (the oldest ones first). */
  keys(): WatchKey[] {
    return [...this.counts.keys()].slice(0, MAX_WATCH).sort();
  }
}

/** Seconds since the epoch of an ObjectId (its first four bytes). */
export function objectIdSeconds(id: string): number | null {
  return /^[0-9a-f]{24}$/i.test(id) ? parseInt(id.slice(0, 8), 16) : null;
}

/**
 * Where the stream is: the last event seen, and the recent ids, so a new
 * connection can replay from a little before it (`since`) and drop what it
 * already delivered. The browser's own reconnect sends Last-Event-ID itself.
 */
export class ResumeState {
  lastId: string | null = null;
  /** When (client seconds) a connection last opened: with no event yet, a new one replays from there. */
  openedAt: number | null = null;
  private seen = new Set<string>();
  private order: string[] = [];

  constructor(private readonly remember = 1000) {}

  /** True for a new event (and records it); false for one already delivered. */
  accept(ev: { _id: string }): boolean {
    if (this.seen.has(ev._id)) return false;
    this.seen.add(ev._id);
    this.order.push(ev._id);
    if (this.order.length > this.remember) this.seen.delete(this.order.shift()!);
    this.lastId = ev._id;
    return true;
  }

  /**
   * `since` for a new connection: a second before the last event (repeats
   * are dropped by `accept`), else a little before the previous connection
   * opened (nothing arrived on it, but something may have while re-opening).
   */
  since(): number | null {
    const s = this.lastId ? objectIdSeconds(this.lastId) : null;
    if (s !== null) return s - 1;
    return this.openedAt === null ? null : this.openedAt - 2;
  }
}

/** The stream's URL for a set of watches, resuming from `since` when known. */
export function streamUrl(root: string, watch: WatchKey[], since: number | null, timeout = STREAM_TIMEOUT): string {
  const q = new URLSearchParams({ timeout: String(timeout) });
  if (watch.length) q.set('watch', watch.join(','));
  if (since !== null) q.set('since', String(since));
  return `${root}/notification/stream?${q.toString()}`;
}

/** Delay before the next open after `failures` failed ones in a row: 1, 2, 4 … 30 s. */
export function reopenDelay(failures: number): number {
  return Math.min(30000, 1000 * 2 ** Math.max(0, failures - 1));
}

export type StreamStatus = 'off' | 'connecting' | 'live' | 'polling';

/**
 * The status after an open failed: still trying, or (never live and failed
 * FAILURES_BEFORE_POLLING times) polling, while it keeps retrying slowly.
 */
export function statusAfterFailure(failures: number, everLive: boolean): StreamStatus {
  return !everLive && failures >= FAILURES_BEFORE_POLLING ? 'polling' : 'connecting';
}

/** Does an event type match a listener's pattern ("presence", or a prefix "annotation.")? */
export function typeMatches(pattern: string, type: string): boolean {
  return pattern.endsWith('.') ? type.startsWith(pattern) : pattern === type;
}
