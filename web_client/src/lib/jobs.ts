// Reading a job for a person: the reason a conversion failed, without the traceback.
import { JobStatus, type Job } from '../types';

/** Why a job failed, in a sentence: the last line of its log. */
export function jobErrorText(job: Job): string {
  const log = Array.isArray(job.log) ? job.log.join('\n') : job.log ?? '';
  // Tracebacks are for the server's log: a person needs the message at their end.
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = (lines[lines.length - 1] ?? '').replace(/^\w*(Error|Exception):\s*/, '');
  const status = job.status === JobStatus.CANCELED ? 'The conversion was cancelled' : 'The conversion failed';
  return last ? `${status}: ${last}` : `${status}${job.progress?.message ? `: ${job.progress.message}` : '.'}`;
}
