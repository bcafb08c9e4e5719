import { describe, expect, it } from 'vitest';
import { entriesFromInput, walkEntries, type DropEntry } from '../src/lib/drop';

/** A fake directory tree shaped like the File and Directory Entries API, with batched reads. */
function fileEntry(name: string, text = name): DropEntry {
  return { name, isFile: true, isDirectory: false, file: (ok: (f: File) => void) => ok(new File([text], name)) } as DropEntry;
}
function dirEntry(name: string, children: DropEntry[], batch = 2): DropEntry {
  return {
    name, isFile: false, isDirectory: true,
    createReader() {
      let at = 0;
      return {
        readEntries(ok: (b: DropEntry[]) => void) {
          const part = children.slice(at, at + batch);
          at += part.length;
          // Like Chrome, answer asynchronously and end with an empty batch.
          setTimeout(() => ok(part), 0);
        },
      };
    },
  } as DropEntry;
}

describe('walkEntries', () => {
  it('keeps each file with the folders above it, reading every batch', async () => {
    const tree = [
      dirEntry('Case 7', [
        fileEntry('a.png'), fileEntry('b.png'), fileEntry('c.png'),
        dirEntry('stains', [fileEntry('he.tif'), dirEntry('empty', [])]),
      ]),
      fileEntry('notes.txt', 'hello'),
    ];
    const out = await walkEntries(tree);
    expect(out.map((e) => [...e.dirs, e.file.name].join('/'))).toEqual([
      'Case 7/a.png', 'Case 7/b.png', 'Case 7/c.png', 'Case 7/stains/he.tif', 'notes.txt',
    ]);
    expect(await out[4].file.text()).toBe('hello');
  });

  it('reports a file that cannot be read', async () => {
    const broken = { name: 'x', isFile: true, isDirectory: false, file: (_ok: unknown, fail: (e: unknown) => void) => fail(new Error('NotReadableError')) } as unknown as DropEntry;
    await expect(walkEntries([broken])).rejects.toThrow('NotReadableError');
  });
});

describe('entriesFromInput', () => {
  it('splits webkitRelativePath into folders', () => {
    const f = new File(['x'], 'he.tif');
    Object.defineProperty(f, 'webkitRelativePath', { value: 'Case 7/stains/he.tif' });
    const g = new File(['y'], 'loose.png');
    expect(entriesFromInput([f, g]).map((e) => e.dirs)).toEqual([['Case 7', 'stains'], []]);
  });
});
