// Chunk planning and the resumable upload loop used by the upload panel.
// The protocol is girder-client's: POST /file, then POST /file/chunk with raw
// bytes at `offset`; after a drop, GET /file/offset says where to go on.

export const MIB = 1024 * 1024;
/** Browser chunk size: smaller than girder-client's 64 MiB so progress and retries are finer. */
export const DEFAULT_CHUNK = 16 * MIB;
/** Servers (and S3 multipart) refuse non-final chunks under 5 MiB. */
export const MIN_CHUNK = 5 * MIB;

export interface Chunk {
  offset: number;
  end: number;
}

/** Split bytes [start, size) into chunks; every chunk but the last is >= MIN_CHUNK. */
export function planChunks(size: number, start = 0, chunkSize = DEFAULT_CHUNK): Chunk[] {
  if (!Number.isInteger(size) || size < 0) throw new Error(`Invalid file size ${size}`);
  if (!Number.isInteger(start) || start < 0 || start > size) throw new Error(`Invalid offset ${start} for size ${size}`);
  if (chunkSize < MIN_CHUNK) throw new Error(`Chunk size ${chunkSize} is below the ${MIN_CHUNK} byte minimum`);
  const chunks: Chunk[] = [];
  let offset = start;
  while (offset < size) {
    let end = Math.min(size, offset + chunkSize);
    // The final chunk may be any size; a tiny remainder is folded into this
    // chunk to save a round trip.
    if (size - end > 0 && size - end < 64 * 1024) end = size;
    chunks.push({ offset, end });
    offset = end;
  }
  return chunks;
}

/** What the upload loop needs from the server; api.ts provides the real one (whose
 * chunks answer `A`: the upload so far, then the file). */
export interface ChunkTransport<A = unknown> {
  sendChunk(uploadId: string, offset: number, blob: Blob, onProgress: (sent: number) => void): Promise<A>;
  getOffset(uploadId: string): Promise<number>;
}

export interface UploadLoopOptions {
  chunkSize?: number;
  /** Retries per chunk after a failure that may be transient (network, 5xx). */
  maxRetries?: number;
  /** Wait before retry n (0-based); tests pass () => 0. */
  backoff?: (attempt: number) => number;
  onProgress?: (bytesDone: number) => void;
  /** Called when a chunk failed and will be retried after `delayMs`. */
  onRetry?: (attempt: number, delayMs: number, err: unknown) => void;
  signal?: AbortSignal;
  isTransient?: (err: unknown) => boolean;
}

const defaultBackoff = (attempt: number) => Math.min(30000, 500 * 2 ** attempt);

/** Decide whether an error is worth a retry: network drops and server 5xx are; 4xx are not. */
export function isTransientError(err: unknown): boolean {
  const status = (err as { status?: number })?.status;
  if (status === undefined || status === 0) return true;
  return status >= 500 || status === 408 || status === 429;
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException('Upload cancelled', 'AbortError'));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new DOMException('Upload cancelled', 'AbortError'));
    }, { once: true });
  });
}

/**
 * Send `blob` from `startOffset` through `transport`, resuming after drops.
 * Resolves with the server's answer to the final chunk (the file document), or null
 * when no chunk was left to send.
 */
export async function sendChunks<A>(
  transport: ChunkTransport<A>,
  uploadId: string,
  blob: Blob,
  startOffset: number,
  opts: UploadLoopOptions = {},
): Promise<A | null> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  const maxRetries = opts.maxRetries ?? 8;
  const backoff = opts.backoff ?? defaultBackoff;
  const transient = opts.isTransient ?? isTransientError;
  let offset = startOffset;
  let attempt = 0;
  let result: A | null = null;
  while (offset < blob.size) {
    if (opts.signal?.aborted) throw new DOMException('Upload cancelled', 'AbortError');
    const [chunk] = planChunks(blob.size, offset, chunkSize);
    try {
      result = await transport.sendChunk(uploadId, chunk.offset, blob.slice(chunk.offset, chunk.end), (sent) => {
        opts.onProgress?.(chunk.offset + sent);
      });
      offset = chunk.end;
      attempt = 0;
      opts.onProgress?.(offset);
    } catch (err) {
      if ((err as Error)?.name === 'AbortError' || !transient(err) || attempt >= maxRetries) throw err;
      const delay = backoff(attempt);
      opts.onRetry?.(attempt + 1, delay, err);
      await wait(delay, opts.signal);
      attempt += 1;
      // The chunk may have landed before the connection broke: ask the server.
      try {
        offset = await transport.getOffset(uploadId);
      } catch (offsetErr) {
        if (!transient(offsetErr)) throw offsetErr;
        // Keep the old offset; the next loop retries the same chunk.
      }
      opts.onProgress?.(offset);
    }
  }
  return result;
}
