// Turning an uploaded image into a large image and following the job until
// tiles can be served; errors from the job log are shown as they are.
import { ApiError, items, jobs, tiles } from '../api';
import { jobErrorText } from '../lib/jobs';
import { JobStatus, type Item, type Job } from '../types';

const IMAGE_EXT = /\.(tiff?|svs|ndpi|scn|mrxs|vms|vmu|bif|czi|qptiff|png|jpe?g|bmp|webp|jp2|dcm|isyntax|vsi|zarr|ome\.tiff?)$/i;

export function looksLikeImage(name: string): boolean {
  return IMAGE_EXT.test(name);
}

export type ConversionState =
  | { phase: 'checking' }
  | { phase: 'converting'; fraction: number | null; message: string }
  | { phase: 'ready'; item: Item }
  | { phase: 'not-image' }
  | { phase: 'error'; message: string };

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Job updates pushed by the server (the notification stream), when it has them. */
export interface JobFeed {
  /** True while the stream delivers: no need to poll. */
  readonly live: boolean;
  /** Follow a job: `next` answers its newest update, or null after a while. */
  followJob(jobId: string): { next(ms: number, signal?: AbortSignal): Promise<Job | null>; stop(): void };
}

/** While the stream is live a job is still asked for this rarely, in case an event was lost. */
export const LIVE_RECHECK_MS = 15000;

/**
 * The running job's updates from the stream while it is live (each answers
 * without a request), else a wait of `delay` before asking the server, as before.
 */
function jobLooks(feed: JobFeed | undefined, signal?: AbortSignal) {
  let followed: { id: string; follower: ReturnType<JobFeed['followJob']> } | null = null;
  const stop = () => followed?.follower.stop();
  return {
    /** Start following before the job is first read, so no update is missed. */
    follow(jobId: string | undefined): void {
      if (!feed || !jobId || followed?.id === jobId) return;
      stop();
      followed = { id: jobId, follower: feed.followJob(jobId) };
    },
    async next(running: boolean, delay: number): Promise<Job | null> {
      if (running && followed && feed?.live) return followed.follower.next(LIVE_RECHECK_MS, signal);
      await wait(delay);
      return null;
    },
    stop,
  };
}

/**
 * Make sure an item becomes a large image: start a conversion when needed
 * (`start`), then poll its job, reporting progress through `report`.
 */
export async function followConversion(itemId: string, opts: { fileId?: string; name?: string; start?: boolean; signal?: AbortSignal; feed?: JobFeed; report: (s: ConversionState) => void }): Promise<ConversionState> {
  const done = (s: ConversionState) => {
    opts.report(s);
    return s;
  };
  opts.report({ phase: 'checking' });
  let item = await items.get(itemId);
  // The server drops `largeImage` from an item whose conversion failed, so the
  // job id is remembered to read why.
  let jobId = item.largeImage?.jobId;
  if (!item.largeImage && opts.start && looksLikeImage(opts.name ?? item.name)) {
    try {
      const job = await tiles.create(itemId, opts.fileId);
      if (job && typeof job.status === 'number') jobId = job._id;
    } catch (err) {
      // Another client (or the server's auto-set) may have started it already.
      if (!(err instanceof ApiError) || err.status >= 500 || err.status === 403) throw err;
      item = await items.get(itemId);
      if (!item.largeImage) return done({ phase: 'error', message: err.message });
    }
    item = await items.get(itemId);
  }
  if (!item.largeImage && !jobId) return done({ phase: 'not-image' });
  // Small images convert in well under a second: look often at first, then less.
  let delay = 250;
  let pushed: Job | null = null;
  let running = false;
  const looks = jobLooks(opts.feed, opts.signal);
  try {
    while (!item.largeImage || item.largeImage.expected) {
      if (opts.signal?.aborted) throw new DOMException('Stopped', 'AbortError');
      jobId = item.largeImage?.jobId ?? jobId;
      looks.follow(jobId);
      if (!jobId) {
        opts.report({ phase: 'converting', fraction: null, message: 'Converting' });
      } else {
        // The stream's job document leaves out the log, which an error's reason needs.
        const job = pushed && pushed.status !== JobStatus.ERROR ? pushed : await jobs.get(jobId);
        if (job.status === JobStatus.ERROR || job.status === JobStatus.CANCELED) {
          return done({ phase: 'error', message: jobErrorText(job) });
        }
        if (!item.largeImage && job.status === JobStatus.SUCCESS) break;
        running = job.status <= JobStatus.RUNNING;
        const p = job.progress;
        const fraction = p && p.total ? Math.min(1, (p.current ?? 0) / p.total) : null;
        const message = job.status === JobStatus.SUCCESS ? 'Finishing' : p?.message || (job.status <= JobStatus.QUEUED ? 'Queued' : 'Converting');
        opts.report({ phase: 'converting', fraction, message });
      }
      pushed = await looks.next(running, delay);
      delay = Math.min(2000, delay * 1.5);
      // Progress from the stream needs no request; a status change may end the loop.
      if (pushed && pushed.status <= JobStatus.RUNNING) continue;
      item = await items.get(itemId);
    }
  } finally {
    looks.stop();
  }
  if (!item.largeImage) return done({ phase: 'error', message: 'The conversion ended without producing a large image.' });
  return done({ phase: 'ready', item });
}
