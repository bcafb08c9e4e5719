// Turning an uploaded image into a large image and following the job until
// tiles can be served; errors from the job log are shown as they are.
import { ApiError, items, jobs, tiles } from '../api';
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

/** The last meaningful lines of a job log, for showing an error plainly. */
export function jobErrorText(job: Job): string {
  const log = Array.isArray(job.log) ? job.log.join('') : job.log ?? '';
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines.slice(-3).join(' — ');
  const status = job.status === JobStatus.CANCELED ? 'The conversion was cancelled' : 'The conversion failed';
  return last ? `${status}: ${last}` : `${status}${job.progress?.message ? `: ${job.progress.message}` : '.'}`;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Make sure an item becomes a large image: start a conversion when needed
 * (`start`), then poll its job, reporting progress through `report`.
 */
export async function followConversion(itemId: string, opts: { fileId?: string; name?: string; start?: boolean; signal?: AbortSignal; report: (s: ConversionState) => void }): Promise<ConversionState> {
  const done = (s: ConversionState) => {
    opts.report(s);
    return s;
  };
  opts.report({ phase: 'checking' });
  let item = await items.get(itemId);
  if (!item.largeImage && opts.start && looksLikeImage(opts.name ?? item.name)) {
    try {
      await tiles.create(itemId, opts.fileId);
    } catch (err) {
      // Another client (or the server's auto-set) may have started it already.
      if (!(err instanceof ApiError) || err.status >= 500 || err.status === 403) throw err;
      item = await items.get(itemId);
      if (!item.largeImage) return done({ phase: 'error', message: err.message });
    }
    item = await items.get(itemId);
  }
  if (!item.largeImage) return done({ phase: 'not-image' });
  while (item.largeImage?.expected) {
    if (opts.signal?.aborted) throw new DOMException('Stopped', 'AbortError');
    const jobId = item.largeImage.jobId;
    if (jobId) {
      const job = await jobs.get(jobId);
      if (job.status === JobStatus.ERROR || job.status === JobStatus.CANCELED) {
        return done({ phase: 'error', message: jobErrorText(job) });
      }
      const p = job.progress;
      const fraction = p && p.total ? Math.min(1, (p.current ?? 0) / p.total) : null;
      const message = job.status === JobStatus.SUCCESS ? 'Finishing' : p?.message || (job.status <= JobStatus.QUEUED ? 'Queued' : 'Converting');
      opts.report({ phase: 'converting', fraction, message });
    } else {
      opts.report({ phase: 'converting', fraction: null, message: 'Converting' });
    }
    await wait(1000);
    item = await items.get(itemId);
  }
  if (!item.largeImage) return done({ phase: 'error', message: 'The conversion ended without producing a large image.' });
  return done({ phase: 'ready', item });
}
