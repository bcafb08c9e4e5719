// The page's notification stream over EventSource (which sends the HttpOnly
// sign-in cookie, not the Girder-Token header). One per page, made in main.ts
// and handed to the views; re-opened when what they watch changes.
import { API_ROOT } from './api';
import {
  ResumeState, WatchSet, reopenDelay, statusAfterFailure, streamUrl, typeMatches,
  type StreamEvent, type StreamStatus, type WatchKey,
} from './lib/stream';
import type { Job } from './types';

type Listener = (ev: StreamEvent) => void;

/** One job's updates from the stream (see NotificationStream.followJob). */
export interface JobFollower {
  /** The newest update since the last call, else the next within `ms`, else null. */
  next(ms: number, signal?: AbortSignal): Promise<Job | null>;
  stop(): void;
}

export class NotificationStream {
  status: StreamStatus = 'off';
  private source: EventSource | null = null;
  private readonly watches = new WatchSet();
  private readonly resume = new ResumeState();
  private listeners: Array<{ pattern: string; fn: Listener }> = [];
  private statusListeners = new Set<(s: StreamStatus) => void>();
  private failures = 0;
  private everLive = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private reopenQueued = false;
  private running = false;

  /** True while events arrive: callers may stop polling. */
  get live(): boolean {
    return this.status === 'live';
  }

  /** Open the stream (after sign-in). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.open();
  }

  /** Close it (sign-out); listeners and watches stay for the next start. */
  stop(): void {
    this.running = false;
    this.close();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setStatus('off');
  }

  /** Watch an item, folder or annotation until the returned function is called. */
  watch(key: WatchKey): () => void {
    if (this.watches.add(key)) this.queueReopen();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (this.watches.remove(key)) this.queueReopen();
    };
  }

  /** Call `fn` for each event whose type is `pattern` (or starts with it, when it ends in "."). */
  on(pattern: string, fn: Listener): () => void {
    const entry = { pattern, fn };
    this.listeners.push(entry);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== entry);
    };
  }

  onStatus(fn: (s: StreamStatus) => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  /**
   * Follow one job's status and progress from the stream. Updates that come
   * while the caller is busy are kept (the newest), so none is missed between
   * two calls of `next`.
   */
  followJob(jobId: string): JobFollower {
    let latest: Job | null = null;
    let wake: (() => void) | null = null;
    const off = this.on('job_status', (ev) => {
      if ((ev.data as { _id?: string })._id !== jobId) return;
      latest = ev.data as unknown as Job;
      wake?.();
    });
    const take = () => {
      const job = latest;
      latest = null;
      return job;
    };
    return {
      next: async (ms, signal) => {
        if (!latest) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, ms);
            function done() {
              clearTimeout(timer);
              wake = null;
              signal?.removeEventListener('abort', done);
              resolve();
            }
            wake = done;
            signal?.addEventListener('abort', done, { once: true });
          });
        }
        return take();
      },
      stop: off,
    };
  }

  /** Watch changes come in bursts (a view opening): re-open once for all of them. */
  private queueReopen(): void {
    if (this.reopenQueued || !this.running) return;
    this.reopenQueued = true;
    queueMicrotask(() => {
      this.reopenQueued = false;
      if (this.running) this.open();
    });
  }

  private open(): void {
    this.close();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.status !== 'polling') this.setStatus('connecting');
    const source = new EventSource(streamUrl(API_ROOT, this.watches.keys(), this.resume.since()), { withCredentials: true });
    this.source = source;
    source.onopen = () => {
      this.resume.openedAt ??= Math.floor(Date.now() / 1000);
      this.failures = 0;
      this.everLive = true;
      this.setStatus('live');
    };
    source.onmessage = (msg) => this.deliver(msg.data);
    source.onerror = () => {
      if (source !== this.source) return;
      // CONNECTING: the browser reconnects by itself, with Last-Event-ID.
      if (source.readyState === EventSource.CONNECTING) {
        if (this.status === 'live') this.setStatus('connecting');
        return;
      }
      // CLOSED: refused (401, 403, no such route) or not a stream: retry later.
      this.close();
      this.failures += 1;
      this.setStatus(statusAfterFailure(this.failures, this.everLive));
      this.retryTimer = setTimeout(() => this.open(), reopenDelay(this.failures));
    };
  }

  private deliver(text: string): void {
    let ev: StreamEvent;
    try {
      ev = JSON.parse(text) as StreamEvent;
    } catch {
      return;
    }
    if (!ev || typeof ev._id !== 'string' || !this.resume.accept(ev)) return;
    for (const l of [...this.listeners]) {
      if (!typeMatches(l.pattern, ev.type)) continue;
      try {
        l.fn(ev);
      } catch (err) {
        // One view's bug must not stop the others hearing the event.
        console.error(err);
      }
    }
  }

  private close(): void {
    this.source?.close();
    this.source = null;
  }

  private setStatus(s: StreamStatus): void {
    if (s === this.status) return;
    this.status = s;
    this.statusListeners.forEach((fn) => fn(s));
  }
}
