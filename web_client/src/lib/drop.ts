// What to upload from a drop or a file input: each file with the folder names
// between the drop target and it, so the tree can be recreated on the server.

export interface UploadEntry {
  file: File;
  /** Folder names between the drop target and the file. */
  dirs: string[];
}

/** The parts of the File and Directory Entries API the walker uses. */
export interface DropEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
}
interface FileDropEntry extends DropEntry {
  file(ok: (f: File) => void, fail: (err: unknown) => void): void;
}
interface DirDropEntry extends DropEntry {
  createReader(): { readEntries(ok: (batch: DropEntry[]) => void, fail: (err: unknown) => void): void };
}

/** Walk dropped entries depth first; directories contribute their name to the files' paths. */
export async function walkEntries(roots: DropEntry[]): Promise<UploadEntry[]> {
  const out: UploadEntry[] = [];
  const walk = async (entry: DropEntry, dirs: string[]): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((ok, fail) => (entry as FileDropEntry).file(ok, fail));
      out.push({ file, dirs });
    } else if (entry.isDirectory) {
      const reader = (entry as DirDropEntry).createReader();
      // readEntries answers in batches (Chrome: 100 entries) until an empty one.
      for (;;) {
        const batch = await new Promise<DropEntry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        for (const child of batch) await walk(child, [...dirs, entry.name]);
      }
    }
  };
  for (const root of roots) await walk(root, []);
  return out;
}

/** Collect files from a drop, walking dropped directories. */
export async function entriesFromDrop(dt: DataTransfer): Promise<UploadEntry[]> {
  const roots = Array.from(dt.items ?? [])
    .filter((i) => i.kind === 'file')
    .map((i) => (i as DataTransferItem & { webkitGetAsEntry?: () => DropEntry | null }).webkitGetAsEntry?.() ?? null);
  // Without entries (older browsers, synthetic drops) only plain files can be read.
  if (!roots.length || roots.some((r) => !r)) {
    return Array.from(dt.files).map((file) => ({ file, dirs: [] }));
  }
  return walkEntries(roots as DropEntry[]);
}

/** Files from an <input type=file> (with webkitdirectory, paths keep their folders). */
export function entriesFromInput(list: ArrayLike<File>): UploadEntry[] {
  return Array.from(list).map((file) => {
    const rel = (file as File & { webkitRelativePath?: string }).webkitRelativePath || '';
    const parts = rel.split('/').filter(Boolean);
    return { file, dirs: parts.slice(0, -1) };
  });
}
