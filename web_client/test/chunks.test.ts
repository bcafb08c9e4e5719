import { describe, expect, it } from 'vitest';
import { DEFAULT_CHUNK, MIB, MIN_CHUNK, isTransientError, planChunks, sendChunks, type ChunkTransport } from '../src/lib/chunks';

describe('planChunks', () => {
  it('covers the file exactly with chunks of the chosen size', () => {
    const size = 40 * MIB + 123;
    const chunks = planChunks(size);
    expect(chunks.map((c) => c.end - c.offset)).toEqual([DEFAULT_CHUNK, DEFAULT_CHUNK, 8 * MIB + 123]);
    expect(chunks[0].offset).toBe(0);
    expect(chunks[chunks.length - 1].end).toBe(size);
    for (let i = 1; i < chunks.length; i += 1) expect(chunks[i].offset).toBe(chunks[i - 1].end);
  });

  it('keeps every chunk but the last at least 5 MiB, also when resuming at an odd offset', () => {
    for (const [size, start] of [[100 * MIB, 7 * MIB + 3], [33 * MIB, 0], [16 * MIB + 1, 0], [50 * MIB, 49 * MIB]]) {
      const chunks = planChunks(size, start);
      expect(chunks[0].offset).toBe(start);
      chunks.slice(0, -1).forEach((c) => expect(c.end - c.offset).toBeGreaterThanOrEqual(MIN_CHUNK));
      expect(chunks[chunks.length - 1].end).toBe(size);
    }
  });

  it('folds a tiny remainder into the previous chunk', () => {
    const chunks = planChunks(DEFAULT_CHUNK + 10);
    expect(chunks).toEqual([{ offset: 0, end: DEFAULT_CHUNK + 10 }]);
  });

  it('plans nothing for an empty file or a finished upload, and rejects bad input', () => {
    expect(planChunks(0)).toEqual([]);
    expect(planChunks(10, 10)).toEqual([]);
    expect(() => planChunks(10, 11)).toThrow(/Invalid offset/);
    expect(() => planChunks(-1)).toThrow(/Invalid file size/);
    expect(() => planChunks(100, 0, MIB)).toThrow(/below/);
  });
});

/** An in-memory upload endpoint that can drop connections, to drive the loop. */
class FlakyServer implements ChunkTransport {
  received = new Uint8Array(0);
  calls: string[] = [];
  /** Chunk numbers (1-based) whose request fails before reaching the server. */
  dropBefore = new Set<number>();
  /** Chunk numbers that are stored but whose answer is lost. */
  dropAfter = new Set<number>();
  offsetFailures = 0;
  private n = 0;

  constructor(private readonly size: number) {}

  async sendChunk(_id: string, offset: number, blob: Blob, onProgress: (sent: number) => void): Promise<unknown> {
    this.n += 1;
    this.calls.push(`chunk@${offset}`);
    if (this.dropBefore.has(this.n)) throw Object.assign(new Error('network'), { status: 0 });
    if (offset !== this.received.length) throw Object.assign(new Error('offset mismatch'), { status: 400 });
    const data = new Uint8Array(await blob.arrayBuffer());
    const next = new Uint8Array(this.received.length + data.length);
    next.set(this.received);
    next.set(data, this.received.length);
    this.received = next;
    onProgress(data.length);
    if (this.dropAfter.has(this.n)) throw Object.assign(new Error('network'), { status: 0 });
    return this.received.length === this.size ? { _id: 'file1', size: this.size } : { received: this.received.length };
  }

  async getOffset(): Promise<number> {
    this.calls.push('offset');
    if (this.offsetFailures > 0) {
      this.offsetFailures -= 1;
      throw Object.assign(new Error('network'), { status: 0 });
    }
    return this.received.length;
  }
}

/** Byte equality without deep-equal's per-element cost on megabytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function blobOf(size: number): { blob: Blob; bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + 7) & 0xff;
  return { blob: new Blob([bytes]), bytes };
}

describe('sendChunks', () => {
  const opts = { chunkSize: MIN_CHUNK, backoff: () => 0 };

  it('sends every chunk in order and returns the file document', async () => {
    const size = 12 * MIB;
    const { blob, bytes } = blobOf(size);
    const server = new FlakyServer(size);
    const progress: number[] = [];
    const file = await sendChunks(server, 'u1', blob, 0, { ...opts, onProgress: (n) => progress.push(n) });
    expect(file).toEqual({ _id: 'file1', size });
    expect(sameBytes(server.received, bytes)).toBe(true);
    expect(server.calls).toEqual(['chunk@0', `chunk@${5 * MIB}`, `chunk@${10 * MIB}`]);
    expect(progress[progress.length - 1]).toBe(size);
  });

  it('resumes from the server offset after a dropped request and after a lost answer', async () => {
    const size = 16 * MIB;
    const { blob, bytes } = blobOf(size);
    const server = new FlakyServer(size);
    server.dropBefore.add(2); // second chunk never arrives
    server.dropAfter.add(4); // third chunk arrives but its answer is lost
    server.offsetFailures = 1; // and the first offset query fails too
    const retries: number[] = [];
    const file = await sendChunks(server, 'u1', blob, 0, { ...opts, onRetry: (attempt) => retries.push(attempt) });
    expect(file).toEqual({ _id: 'file1', size });
    // Each failed chunk is announced before its retry; the count restarts after a success.
    expect(retries).toEqual([1, 1]);
    expect(sameBytes(server.received, bytes)).toBe(true);
    // Nothing is sent twice: after the lost answer the loop asks the offset and goes on.
    expect(server.calls).toEqual([
      'chunk@0', `chunk@${5 * MIB}`, 'offset', `chunk@${5 * MIB}`, `chunk@${10 * MIB}`, 'offset', `chunk@${15 * MIB}`,
    ]);
  });

  it('continues an interrupted upload from a given offset', async () => {
    const size = 11 * MIB;
    const { blob, bytes } = blobOf(size);
    const server = new FlakyServer(size);
    server.received = bytes.slice(0, 5 * MIB);
    await sendChunks(server, 'u1', blob, 5 * MIB, opts);
    expect(sameBytes(server.received, bytes)).toBe(true);
    expect(server.calls).toEqual([`chunk@${5 * MIB}`, `chunk@${10 * MIB}`]);
  });

  it('gives up on client errors and after too many retries', async () => {
    const { blob } = blobOf(6 * MIB);
    const server = new FlakyServer(6 * MIB);
    await expect(sendChunks(server, 'u1', blob, MIB, opts)).rejects.toThrow(/offset mismatch/);
    const dead = new FlakyServer(6 * MIB);
    for (let i = 1; i < 10; i += 1) dead.dropBefore.add(i);
    await expect(sendChunks(dead, 'u1', blob, 0, { ...opts, maxRetries: 3 })).rejects.toThrow(/network/);
    expect(dead.calls.filter((c) => c.startsWith('chunk')).length).toBe(4);
  });

  it('stops when cancelled', async () => {
    const { blob } = blobOf(12 * MIB);
    const server = new FlakyServer(12 * MIB);
    const ctl = new AbortController();
    const p = sendChunks(server, 'u1', blob, 0, { ...opts, onProgress: (n) => n >= 5 * MIB && ctl.abort(), signal: ctl.signal });
    await expect(p).rejects.toThrow(/cancelled/);
    expect(server.received.length).toBeLessThan(12 * MIB);
  });

  it('classifies errors', () => {
    expect(isTransientError({ status: 0 })).toBe(true);
    expect(isTransientError({ status: 503 })).toBe(true);
    expect(isTransientError(new TypeError('Failed to fetch'))).toBe(true);
    expect(isTransientError({ status: 400 })).toBe(false);
    expect(isTransientError({ status: 403 })).toBe(false);
  });
});
