// Uploads: drag and drop of files and whole folders, a progress bar per file
// and overall, resumable chunked transfer, then the conversion to a large image.
import { ApiError, chunkTransport, files as filesApi, folders, type ParentType } from '../api';
import { sendChunks } from '../lib/chunks';
import { entriesFromDrop, entriesFromInput, type UploadEntry } from '../lib/drop';
import type { GirderFile } from '../types';
import { formatSize, h, icon, replace } from '../ui/dom';
import { errorText } from '../ui/notify';
import { followConversion, type ConversionState, type JobFeed } from './conversion';

export interface Destination {
  type: ParentType;
  id: string;
  name: string;
}

type TaskState = 'queued' | 'uploading' | 'converting' | 'done' | 'error' | 'cancelled';

interface Task {
  entry: UploadEntry;
  dest: Destination;
  state: TaskState;
  sent: number;
  uploadId?: string;
  itemId?: string;
  fileId?: string;
  message: string;
  controller: AbortController;
  row: HTMLElement;
  bar: HTMLElement;
  status: HTMLElement;
  actions: HTMLElement;
}

/** How long a tray whose uploads all succeeded stays open. */
const AUTO_COLLAPSE_MS = 4000;

class UploadPanel {
  /** Job updates from the page's notification stream (set by main.ts), else conversions are polled. */
  stream: JobFeed | null = null;
  private tasks: Task[] = [];
  private running = false;
  private folderCache = new Map<string, string>();
  private listeners = new Set<(dest: Destination) => void>();
  private el: HTMLElement | null = null;
  private list!: HTMLElement;
  private overall!: HTMLElement;
  private overallText!: HTMLElement;
  private pillText!: HTMLElement;
  private pillBar!: HTMLElement;
  private pillIcon!: HTMLElement;
  private toggleBtn!: HTMLElement;
  private collapseTimer: ReturnType<typeof setTimeout> | null = null;

  /** Call `fn` each time a file lands in a destination (to refresh lists). */
  onFileDone(fn: (dest: Destination) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  enqueue(entries: UploadEntry[], dest: Destination): void {
    if (!entries.length) return;
    if (dest.type !== 'folder' && entries.some((e) => !e.dirs.length)) {
      throw new Error('Files must go into a folder: open a folder first, or drop a whole folder here.');
    }
    this.show();
    for (const entry of entries) {
      const bar = h('div.progress-bar');
      const status = h('span.upload-status', null, 'Waiting');
      const actions = h('span.upload-actions');
      const row = h('div.upload-row', null,
        h('div.upload-name', { title: [...entry.dirs, entry.file.name].join('/') }, icon('file', 14), h('span', null, [...entry.dirs, entry.file.name].join('/'))),
        h('div.progress', null, bar),
        h('div.upload-meta', null, status, h('span.muted', null, formatSize(entry.file.size)), actions));
      const task: Task = { entry, dest, state: 'queued', sent: 0, message: '', controller: new AbortController(), row, bar, status, actions };
      this.setActions(task);
      this.tasks.push(task);
      this.list.append(row);
    }
    this.refreshOverall();
    void this.pump();
  }

  private show(): void {
    if (this.el?.isConnected) {
      this.setCollapsed(false);
      return;
    }
    this.list = h('div.upload-list');
    this.overall = h('div.progress-bar');
    this.overallText = h('span');
    this.pillIcon = h('div.upload-pill-icon');
    this.pillText = h('strong.upload-pill-text');
    this.pillBar = h('div.progress-bar');
    this.toggleBtn = h('button.icon-button', { title: 'Minimise', 'aria-expanded': 'true', onclick: () => this.setCollapsed(!this.collapsed) });
    this.el = h('aside.upload-panel', { 'aria-label': 'Uploads' },
      h('div.upload-head', null,
        this.pillIcon,
        h('strong.upload-title', null, 'Uploads'), this.overallText,
        this.pillText, h('div.progress.upload-pill-progress', null, this.pillBar),
        h('span.spacer'),
        this.toggleBtn,
        h('button.icon-button', { title: 'Clear finished', onclick: () => this.clearFinished() }, icon('close', 14))),
      h('div.progress.overall', null, this.overall),
      this.list);
    // Moving the pointer onto the tray holds off collapsing it.
    this.el.addEventListener('pointerenter', () => this.cancelAutoCollapse());
    this.el.addEventListener('pointerleave', () => this.scheduleAutoCollapse());
    this.setCollapsed(false);
    document.body.append(this.el);
  }

  private get collapsed(): boolean {
    return Boolean(this.el?.classList.contains('collapsed'));
  }

  /** Minimised, the tray is a small pill with the overall progress; open, it lists every file. */
  private setCollapsed(collapsed: boolean): void {
    if (!this.el) return;
    this.cancelAutoCollapse();
    this.el.classList.toggle('collapsed', collapsed);
    this.toggleBtn.title = collapsed ? 'Show uploads' : 'Minimise';
    this.toggleBtn.setAttribute('aria-expanded', String(!collapsed));
    replace(this.toggleBtn, icon(collapsed ? 'chevronUp' : 'chevronDown', 14));
  }

  private cancelAutoCollapse(): void {
    if (this.collapseTimer) clearTimeout(this.collapseTimer);
    this.collapseTimer = null;
  }

  /** A few seconds after every file finished well, fold the tray away; failures keep it open. */
  private scheduleAutoCollapse(): void {
    this.cancelAutoCollapse();
    if (!this.el || this.collapsed || !this.tasks.length) return;
    if (!this.tasks.every((t) => t.state === 'done' || t.state === 'cancelled')) return;
    if (this.el.matches(':hover')) return;
    this.collapseTimer = setTimeout(() => {
      this.collapseTimer = null;
      if (this.tasks.every((t) => t.state === 'done' || t.state === 'cancelled')) this.setCollapsed(true);
    }, AUTO_COLLAPSE_MS);
  }

  private clearFinished(): void {
    this.tasks = this.tasks.filter((t) => {
      const keep = !['done', 'error', 'cancelled'].includes(t.state);
      if (!keep) t.row.remove();
      return keep;
    });
    if (!this.tasks.length) {
      this.cancelAutoCollapse();
      this.el?.remove();
    } else this.refreshOverall();
  }

  private refreshOverall(): void {
    const total = this.tasks.reduce((s, t) => s + t.entry.file.size, 0);
    const sent = this.tasks.reduce((s, t) => s + (t.state === 'done' || t.state === 'converting' ? t.entry.file.size : t.sent), 0);
    const frac = total ? sent / total : 1;
    this.overall.style.width = `${(frac * 100).toFixed(1)}%`;
    const left = this.tasks.filter((t) => t.state === 'queued' || t.state === 'uploading').length;
    const converting = this.tasks.filter((t) => t.state === 'converting').length;
    const failed = this.tasks.filter((t) => t.state === 'error').length;
    const parts = [`${formatSize(sent)} of ${formatSize(total)}`];
    if (left) parts.push(`${left} to upload`);
    if (converting) parts.push(`${converting} converting`);
    if (failed) parts.push(`${failed} failed`);
    this.overallText.textContent = parts.join(' · ');
    // The pill's short summary.
    const done = this.tasks.filter((t) => t.state === 'done').length;
    this.pillBar.style.width = `${(frac * 100).toFixed(1)}%`;
    let state: 'busy' | 'error' | 'done';
    if (left) {
      state = failed ? 'error' : 'busy';
      this.pillText.textContent = `Uploading ${Math.floor(frac * 100)}% · ${left} left`;
    } else if (converting) {
      state = failed ? 'error' : 'busy';
      this.pillText.textContent = `Converting ${converting}`;
    } else if (failed) {
      state = 'error';
      this.pillText.textContent = `${failed} failed${done ? ` · ${done} done` : ''}`;
    } else {
      state = 'done';
      this.pillText.textContent = done ? `${done} ${done === 1 ? 'upload' : 'uploads'} done` : 'Cancelled';
    }
    if (this.el) this.el.dataset.state = state;
    if (this.pillIcon.dataset.icon !== state) {
      this.pillIcon.dataset.icon = state;
      replace(this.pillIcon, icon(state === 'done' ? 'check' : state === 'error' ? 'info' : 'upload', 14));
    }
    if (state === 'done') this.scheduleAutoCollapse();
    else this.cancelAutoCollapse();
  }

  private setState(t: Task, state: TaskState, message: string, fraction?: number | null): void {
    t.state = state;
    t.message = message;
    t.status.textContent = message;
    t.row.dataset.state = state;
    // A failure needs the user: bring the tray back open.
    if (state === 'error' && this.collapsed) this.setCollapsed(false);
    if (fraction !== undefined) {
      t.bar.style.width = fraction === null ? '100%' : `${(fraction * 100).toFixed(1)}%`;
      t.bar.classList.toggle('indeterminate', fraction === null);
    }
    this.setActions(t);
    this.refreshOverall();
  }

  private setActions(t: Task): void {
    const buttons: HTMLElement[] = [];
    if (t.state === 'queued' || t.state === 'uploading') {
      buttons.push(h('button.link', { onclick: () => this.cancel(t) }, 'Cancel'));
    }
    if (t.state === 'error' && t.sent < t.entry.file.size) {
      buttons.push(h('button.link', { onclick: () => this.retry(t) }, t.uploadId ? 'Resume' : 'Retry'));
    }
    if ((t.state === 'done' || t.state === 'error') && t.itemId) {
      buttons.push(h('a.link', { href: `/item/${t.itemId}` }, 'Details'));
      if (t.message === 'Ready') buttons.push(h('a.link', { href: `/view/${t.itemId}` }, 'Open'));
    }
    replace(t.actions, buttons);
  }

  private cancel(t: Task): void {
    t.controller.abort();
    if (t.uploadId) filesApi.cancel(t.uploadId).catch(() => undefined);
    this.setState(t, 'cancelled', 'Cancelled');
  }

  private retry(t: Task): void {
    t.controller = new AbortController();
    this.setState(t, 'queued', 'Waiting');
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let t = this.next(); t; t = this.next()) await this.run(t);
    } finally {
      this.running = false;
    }
  }

  private next(): Task | undefined {
    return this.tasks.find((t) => t.state === 'queued');
  }

  /** Folder id for a path below the destination, creating folders as needed. */
  private async folderFor(dest: Destination, dirs: string[]): Promise<string> {
    let type: ParentType = dest.type;
    let id = dest.id;
    for (let i = 0; i < dirs.length; i += 1) {
      const key = `${dest.type}:${dest.id}/${dirs.slice(0, i + 1).join('/')}`;
      let folderId = this.folderCache.get(key);
      if (!folderId) {
        folderId = (await folders.create(type, id, dirs[i], '', true))._id;
        this.folderCache.set(key, folderId);
      }
      type = 'folder';
      id = folderId;
    }
    return id;
  }

  private async run(t: Task): Promise<void> {
    const { file } = t.entry;
    this.setState(t, 'uploading', 'Uploading', t.sent / Math.max(1, file.size));
    try {
      let fileDoc: GirderFile | null = null;
      let start = 0;
      if (t.uploadId) {
        // Resume: the server knows how much of this upload it stored.
        start = await filesApi.offset(t.uploadId);
      } else {
        const parentId = await this.folderFor(t.dest, t.entry.dirs);
        const init = await filesApi.initUpload('folder', parentId, file.name, file.size, file.type);
        if ('itemId' in init) fileDoc = init; // an empty file is complete at once
        else {
          t.uploadId = init._id;
          start = init.received;
        }
      }
      if (!fileDoc) {
        const result = await sendChunks(chunkTransport(t.controller.signal), t.uploadId!, file, start, {
          signal: t.controller.signal,
          onProgress: (n) => {
            t.sent = n;
            t.bar.style.width = `${((n / Math.max(1, file.size)) * 100).toFixed(1)}%`;
            t.status.textContent = `Uploading ${Math.floor((n / Math.max(1, file.size)) * 100)}%`;
            this.refreshOverall();
          },
          // The loop retries by itself; say so rather than look stuck.
          onRetry: (attempt, delay) => {
            t.status.textContent = `Connection lost — retrying${delay >= 1000 ? ` in ${Math.round(delay / 1000)} s` : ''} (attempt ${attempt})`;
          },
        });
        if (!result || !('itemId' in result)) throw new Error('The server did not answer the last chunk with the file.');
        fileDoc = result;
      }
      t.sent = file.size;
      t.uploadId = undefined;
      t.itemId = fileDoc.itemId;
      t.fileId = fileDoc._id;
      this.listeners.forEach((fn) => fn(t.dest));
      this.setState(t, 'converting', 'Checking image', null);
      void this.convert(t);
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      const msg = err instanceof ApiError && err.status === 0 ? 'Connection lost — resume when you are back online' : errorText(err);
      this.setState(t, 'error', msg);
    }
  }

  private async convert(t: Task): Promise<void> {
    try {
      const final = await followConversion(t.itemId!, {
        fileId: t.fileId,
        name: t.entry.file.name,
        start: true,
        signal: t.controller.signal,
        feed: this.stream ?? undefined,
        report: (s: ConversionState) => {
          if (s.phase === 'converting') {
            this.setState(t, 'converting', s.fraction === null ? s.message : `${s.message} ${Math.round(s.fraction * 100)}%`, s.fraction);
          }
        },
      });
      if (final.phase === 'ready') this.setState(t, 'done', 'Ready', 1);
      else if (final.phase === 'not-image') this.setState(t, 'done', 'Uploaded', 1);
      else if (final.phase === 'error') this.setState(t, 'error', final.message, 1);
      this.listeners.forEach((fn) => fn(t.dest));
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.setState(t, 'error', `Conversion status unknown: ${errorText(err)}`, 1);
    }
  }
}

export const uploads = new UploadPanel();

/** Make an element accept dropped files and folders for a destination. */
export function makeDropZone(el: HTMLElement, dest: () => Destination | null, onError: (err: unknown) => void): void {
  let depth = 0;
  el.addEventListener('dragenter', (e) => {
    if (!dest() || !e.dataTransfer?.types.includes('Files')) return;
    depth += 1;
    el.classList.add('drop-active');
  });
  el.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) el.classList.remove('drop-active');
  });
  el.addEventListener('dragover', (e) => {
    if (dest() && e.dataTransfer?.types.includes('Files')) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  });
  el.addEventListener('drop', (e) => {
    const d = dest();
    depth = 0;
    el.classList.remove('drop-active');
    if (!d || !e.dataTransfer) return;
    e.preventDefault();
    entriesFromDrop(e.dataTransfer)
      .then((entries) => uploads.enqueue(entries, d))
      .catch(onError);
  });
}

/** Open the browser's file (or folder) chooser and upload the choice. */
export function chooseAndUpload(dest: Destination, directory: boolean, onError: (err: unknown) => void): void {
  const input = h('input', { type: 'file', multiple: true, style: { display: 'none' } });
  if (directory) input.setAttribute('webkitdirectory', '');
  input.onchange = () => {
    try {
      if (input.files?.length) uploads.enqueue(entriesFromInput(input.files), dest);
    } catch (err) {
      onError(err);
    }
    input.remove();
  };
  document.body.append(input);
  input.click();
}
