// The parts of the UI state that live in the URL, so a view can be shared:
// the viewer's centre, zoom, frame and shown annotations, and list paging.

export interface ViewState {
  itemId: string;
  /** View centre in base-level image pixels. */
  x?: number;
  y?: number;
  /** Image pixels per screen pixel. */
  res?: number;
  frame?: number;
  /** Annotations switched on. */
  annotations?: string[];
  /** The annotation being edited. */
  edit?: string;
}

const ID = /^[0-9a-f]{24}$/i;

export function isObjectId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value);
}

function num(value: string | null, min = -Infinity, max = Infinity): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) return undefined;
  return n;
}

/** Round to a few significant digits so URLs stay short but precise. */
export function roundSig(n: number, digits = 5): number {
  if (n === 0 || !Number.isFinite(n)) return n;
  const p = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(n))));
  return Math.round(n * p) / p;
}

/** Read a viewer URL (`/view/<itemId>?x=..&y=..&res=..&frame=..&ann=..&edit=..`). */
export function parseViewUrl(path: string, search: string): ViewState | null {
  const m = /^\/view\/([0-9a-f]{24})\/?$/i.exec(path);
  if (!m) return null;
  const q = new URLSearchParams(search);
  const state: ViewState = { itemId: m[1] };
  const x = num(q.get('x'));
  const y = num(q.get('y'));
  if (x !== undefined && y !== undefined) {
    state.x = x;
    state.y = y;
  }
  const res = num(q.get('res'), 1e-6, 1e9);
  if (res !== undefined) state.res = res;
  const frame = num(q.get('frame'), 0);
  if (frame !== undefined && Number.isInteger(frame)) state.frame = frame;
  const ann = q.get('ann');
  if (ann !== null) state.annotations = ann.split(',').filter(isObjectId);
  const edit = q.get('edit');
  if (isObjectId(edit)) state.edit = edit;
  return state;
}

/** Write a viewer URL path and query for a state. */
export function viewUrl(state: ViewState): string {
  const q = new URLSearchParams();
  if (state.x !== undefined && state.y !== undefined) {
    q.set('x', String(Math.round(state.x)));
    q.set('y', String(Math.round(state.y)));
  }
  if (state.res !== undefined) q.set('res', String(roundSig(state.res, 4)));
  if (state.frame) q.set('frame', String(state.frame));
  if (state.annotations !== undefined) q.set('ann', state.annotations.join(','));
  if (state.edit) q.set('edit', state.edit);
  const qs = q.toString().replace(/%2C/g, ',');
  return `/view/${state.itemId}${qs ? `?${qs}` : ''}`;
}

export interface ListState {
  offset: number;
  limit: number;
  sort: string;
  sortdir: 1 | -1;
}

export const LIST_SORTS = ['lowerName', 'updated', 'created', 'size'] as const;

/** Read the paging and sorting of a list view from its query string. */
export function parseListQuery(search: string, defaults: Partial<ListState> = {}): ListState {
  const q = new URLSearchParams(search);
  const limit = num(q.get('limit'), 1, 1000);
  const offset = num(q.get('offset'), 0);
  const sort = q.get('sort');
  return {
    offset: offset !== undefined && Number.isInteger(offset) ? offset : defaults.offset ?? 0,
    limit: limit !== undefined && Number.isInteger(limit) ? limit : defaults.limit ?? 50,
    sort: sort && (LIST_SORTS as readonly string[]).includes(sort) ? sort : defaults.sort ?? 'lowerName',
    sortdir: q.get('sortdir') === '-1' ? -1 : q.get('sortdir') === '1' ? 1 : defaults.sortdir ?? 1,
  };
}

/** Write a list state as a query string, leaving defaults out. */
export function listQuery(state: ListState): string {
  const q = new URLSearchParams();
  if (state.offset) q.set('offset', String(state.offset));
  if (state.limit !== 50) q.set('limit', String(state.limit));
  if (state.sort !== 'lowerName') q.set('sort', state.sort);
  if (state.sortdir !== 1) q.set('sortdir', String(state.sortdir));
  const s = q.toString();
  return s ? `?${s}` : '';
}
