// The one module that talks to the server: Girder's REST dialect under /api/v1.
// Token in the Girder-Token header; <img> tiles and download links rely on the
// server's HttpOnly girderToken cookie (set at sign-in, never written by script),
// Girder-Total-Count for paging, and JSON errors {message, type, field}.
import type {
  AccessList, Annotation, AnnotationBody, ApiKey, Collection, Folder, GirderFile, Group, Item, Job,
  SharedFolder, TileMetadata, Upload, User,
} from './types';
import type { ChunkTransport } from './lib/chunks';
import type { LabelClass } from './lib/mask';

export const API_ROOT = '/api/v1';
const TOKEN_KEY = 'tilery.token';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly type?: string,
    readonly field?: string,
    readonly uid?: string,
    /** The whole JSON answer (a conflict's versions, for example). */
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Scalar = string | number | boolean;
export type Params = Record<string, Scalar | object | null | undefined>;

export interface Page<T> {
  items: T[];
  total: number | null;
}

export interface Paging {
  limit?: number;
  offset?: number;
  sort?: string;
  sortdir?: 1 | -1;
}

interface RequestOptions {
  params?: Params;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** How to read the answer; default JSON. */
  as?: 'json' | 'arrayBuffer' | 'response';
}

let token: string | null = localStorage.getItem(TOKEN_KEY);
let currentUser: User | null = null;
const listeners = new Set<(user: User | null) => void>();

export function getToken(): string | null {
  return token;
}

export function getCurrentUser(): User | null {
  return currentUser;
}

/** Call fn whenever the signed-in user changes. */
export function onUserChange(fn: (user: User | null) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function setSession(newToken: string | null, user: User | null): void {
  token = newToken;
  currentUser = user;
  if (newToken) {
    localStorage.setItem(TOKEN_KEY, newToken);
  } else {
    localStorage.removeItem(TOKEN_KEY);
  }
  listeners.forEach((fn) => fn(user));
}

/** Build a query string: objects are sent as JSON, null/undefined left out. */
export function queryString(params?: Params): string {
  if (!params) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    q.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The absolute API URL of a path with parameters. */
export function apiUrl(path: string, params?: Params): string {
  return `${API_ROOT}/${path.replace(/^\//, '')}${queryString(params)}`;
}

async function errorFrom(resp: Response): Promise<ApiError> {
  let body: { message?: string; type?: string; field?: string; uid?: string } = {};
  let json: unknown;
  const text = await resp.text().catch(() => '');
  try {
    body = JSON.parse(text);
    json = body;
  } catch {
    body = { message: text.slice(0, 300) || resp.statusText };
  }
  let message = body.message || `${resp.status} ${resp.statusText}`;
  if (resp.status === 500 && body.uid) message += ` (error id ${body.uid})`;
  return new ApiError(message, resp.status, body.type, body.field, body.uid, json);
}

/** Send one request; throws ApiError with the server's message on failure. */
export async function request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (token) headers['Girder-Token'] = token;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  let resp: Response;
  try {
    resp = await fetch(apiUrl(path, opts.params), { method, headers, body, signal: opts.signal, credentials: 'same-origin' });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError('The server could not be reached. Check your connection and try again.', 0, 'network');
  }
  if (!resp.ok) {
    const err = await errorFrom(resp);
    // A stale stored token: drop it so the UI asks to sign in again.
    if (resp.status === 401 && token) setSession(null, null);
    throw err;
  }
  if (opts.as === 'response') return resp as unknown as T;
  if (opts.as === 'arrayBuffer') return (await resp.arrayBuffer()) as unknown as T;
  if (resp.status === 204) return undefined as T;
  const text = await resp.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

const get = <T>(path: string, params?: Params, signal?: AbortSignal) => request<T>('GET', path, { params, signal });
const post = <T>(path: string, params?: Params, json?: unknown) => request<T>('POST', path, { params, json });
const put = <T>(path: string, params?: Params, json?: unknown) => request<T>('PUT', path, { params, json });
const del = <T>(path: string, params?: Params) => request<T>('DELETE', path, { params });

/** A list endpoint with the total from Girder-Total-Count. */
export async function getPage<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<Page<T>> {
  const resp = await request<Response>('GET', path, { params, signal, as: 'response' });
  const total = resp.headers.get('Girder-Total-Count');
  return { items: (await resp.json()) as T[], total: total === null ? null : Number(total) };
}

/** Every entry of a list endpoint, page by page. */
export async function getAll<T>(path: string, params: Params = {}, pageSize = 500): Promise<T[]> {
  const out: T[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const page = await get<T[]>(path, { ...params, limit: pageSize, offset });
    out.push(...page);
    if (page.length < pageSize) return out;
  }
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  bytes.forEach((b) => (bin += String.fromCharCode(b)));
  return btoa(bin);
}

// --- Authentication and users -------------------------------------------

export async function login(username: string, password: string): Promise<User> {
  const resp = await request<{ user: User; authToken: { token: string } }>('GET', 'user/authentication', {
    headers: { Authorization: `Basic ${base64(`${username}:${password}`)}` },
  });
  setSession(resp.authToken.token, resp.user);
  return resp.user;
}

export async function logout(): Promise<void> {
  try {
    if (token) await del('user/authentication');
  } finally {
    setSession(null, null);
  }
}

/** Restore the session from a stored token; null when there is none or it expired.
 * Asking user/authentication with the token also has the server set its HttpOnly
 * cookie again, which <img> tiles and download links need. */
export async function restoreSession(): Promise<User | null> {
  if (!token) return null;
  try {
    const resp = await get<{ user: User | null } | null>('user/authentication');
    const user = resp?.user ?? null;
    setSession(user ? token : null, user);
    return user;
  } catch (err) {
    if (err instanceof ApiError && err.status === 0) throw err;
    setSession(null, null);
    return null;
  }
}

export interface Registration {
  login: string;
  email: string;
  firstName: string;
  lastName: string;
  password: string;
}

/** Create an account, then sign in with it. */
export async function register(reg: Registration): Promise<User> {
  const user = await post<User & { authToken?: { token: string } }>('user', { ...reg });
  if (user.authToken?.token) {
    setSession(user.authToken.token, user);
    return user;
  }
  return login(reg.login, reg.password);
}

export const users = {
  search: (text: string, limit = 10) => get<User[]>('user', { text, limit }),
  get: (id: string) => get<User>(`user/${id}`),
};

export const groups = {
  search: (text: string, limit = 10) => get<Group[]>('group', { text, limit }),
};

export const apiKeys = {
  list: (userId: string) => get<ApiKey[]>('api_key', { userId, limit: 200 }),
  create: (name: string, scope: string[] | null, tokenDuration?: number) =>
    post<ApiKey>('api_key', { name, scope: scope ?? undefined, tokenDuration, active: true }),
  update: (id: string, fields: { name?: string; active?: boolean; tokenDuration?: number }) =>
    put<ApiKey>(`api_key/${id}`, fields),
  remove: (id: string) => del(`api_key/${id}`),
  scopes: () => get<Record<string, string[]>>('token/scopes'),
};

export const system = {
  version: () => get<{ release: string }>('system/version'),
  /** Registered access flags ({key: {name, description, admin}}); empty when the server has none. */
  accessFlags: () => get<Record<string, { name: string; description?: string; admin?: boolean }>>('system/access_flag'),
  /** What the client may know before signing in: registration policy, whether anyone registered. */
  publicSettings: () => get<{ 'core.registration_policy'?: string; noUsersYet?: boolean }>('system/public_settings'),
};

// --- Hierarchy -----------------------------------------------------------

export type ParentType = 'collection' | 'folder' | 'user';

export const collections = {
  list: (paging: Paging = {}, text?: string) => getPage<Collection>('collection', { ...paging, text }),
  get: (id: string) => get<Collection>(`collection/${id}`),
  create: (name: string, description = '', isPublic = false) =>
    post<Collection>('collection', { name, description, public: isPublic }),
  update: (id: string, fields: { name?: string; description?: string }) => put<Collection>(`collection/${id}`, fields),
  remove: (id: string) => del(`collection/${id}`),
  access: (id: string) => get<AccessList>(`collection/${id}/access`),
  setAccess: (id: string, access: AccessList, isPublic: boolean, recurse: boolean) =>
    put(`collection/${id}/access`, { access, public: isPublic, recurse }),
};

export const folders = {
  list: (parentType: ParentType, parentId: string, paging: Paging = {}) =>
    getPage<Folder>('folder', { parentType, parentId, ...paging }),
  get: (id: string) => get<Folder>(`folder/${id}`),
  create: (parentType: ParentType, parentId: string, name: string, description = '', reuseExisting = false) =>
    post<Folder>('folder', { parentType, parentId, name, description, reuseExisting }),
  update: (id: string, fields: { name?: string; description?: string; parentType?: ParentType; parentId?: string }) =>
    put<Folder>(`folder/${id}`, fields),
  remove: (id: string) => del(`folder/${id}`),
  rootpath: (id: string) => get<Array<{ type: string; object: { _id: string; name?: string; login?: string } }>>(`folder/${id}/rootpath`),
  access: (id: string) => get<AccessList>(`folder/${id}/access`),
  setAccess: (id: string, access: AccessList, isPublic: boolean, recurse: boolean) =>
    put<Folder>(`folder/${id}/access`, { access, public: isPublic, recurse }),
  setMetadata: (id: string, meta: Record<string, unknown>) => put<Folder>(`folder/${id}/metadata`, undefined, meta),
  byName: (parentType: ParentType, parentId: string, name: string) =>
    get<Folder[]>('folder', { parentType, parentId, name }),
};

export const items = {
  list: (folderId: string, paging: Paging = {}) => getPage<Item>('item', { folderId, ...paging }),
  all: (folderId: string, sort = 'lowerName') => getAll<Item>('item', { folderId, sort }),
  get: (id: string) => get<Item>(`item/${id}`),
  update: (id: string, fields: { name?: string; description?: string; folderId?: string }) => put<Item>(`item/${id}`, fields),
  remove: (id: string) => del(`item/${id}`),
  files: (id: string) => get<GirderFile[]>(`item/${id}/files`, { limit: 100 }),
  rootpath: (id: string) => get<Array<{ type: string; object: { _id: string; name?: string; login?: string } }>>(`item/${id}/rootpath`),
  setMetadata: (id: string, meta: Record<string, unknown>) => put<Item>(`item/${id}/metadata`, undefined, meta),
  downloadUrl: (id: string) => apiUrl(`item/${id}/download`),
};

export const metadata = {
  /** Merge keys into `meta` of a collection, folder or item; a null value removes the key. */
  set: (type: 'collection' | 'folder' | 'item', id: string, meta: Record<string, unknown>) =>
    put<Folder | Item | Collection>(`${type}/${id}/metadata`, undefined, meta),
};

export interface SearchResult {
  item?: Item[];
  folder?: Folder[];
  collection?: Collection[];
  user?: User[];
}

export const resources = {
  search: (q: string, types: string[], limit = 20) => get<SearchResult>('resource/search', { q, types, limit, mode: 'prefix' }),
  move: (res: { item?: string[]; folder?: string[] }, parentType: ParentType, parentId: string) =>
    put('resource/move', { resources: res, parentType, parentId }),
  remove: (res: { item?: string[]; folder?: string[] }) => del('resource', { resources: res }),
  downloadUrl: (res: { item?: string[]; folder?: string[] }) => apiUrl('resource/download', { resources: res }),
  /** Folders others shared with me or my groups, newest share first. */
  shared: (offset: number, limit: number) => getPage<SharedFolder>('resource/shared', { offset, limit }),
};

// --- Files and uploads ---------------------------------------------------

export const files = {
  initUpload: (parentType: 'folder' | 'item', parentId: string, name: string, size: number, mimeType: string) =>
    post<Upload | GirderFile>('file', { parentType, parentId, name, size, mimeType: mimeType || 'application/octet-stream' }),
  offset: async (uploadId: string) => (await get<{ offset: number }>('file/offset', { uploadId })).offset,
  cancel: (uploadId: string) => del(`file/upload/${uploadId}`),
  downloadUrl: (fileId: string) => apiUrl(`file/${fileId}/download`),
  download: (fileId: string) => request<ArrayBuffer>('GET', `file/${fileId}/download`, { as: 'arrayBuffer' }),
};

/** POST one chunk with XMLHttpRequest, which (unlike fetch) reports upload progress. */
function sendChunk(uploadId: string, offset: number, blob: Blob, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', apiUrl('file/chunk', { uploadId, offset }));
    if (token) xhr.setRequestHeader('Girder-Token', token);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      let body: { message?: string; type?: string; field?: string } | null = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = { message: xhr.responseText.slice(0, 300) };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(body?.message || `Upload failed (${xhr.status})`, xhr.status, body?.type, body?.field));
    };
    xhr.onerror = () => reject(new ApiError('Connection lost during upload', 0, 'network'));
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(blob);
  });
}

/** The real server behind the resumable upload loop in lib/chunks. */
export function chunkTransport(signal?: AbortSignal): ChunkTransport {
  return {
    sendChunk: (uploadId, offset, blob, onProgress) => sendChunk(uploadId, offset, blob, onProgress, signal),
    getOffset: (uploadId) => files.offset(uploadId),
  };
}

// --- Large images and jobs -----------------------------------------------

export const tiles = {
  metadata: (itemId: string) => get<TileMetadata>(`item/${itemId}/tiles`),
  /** Start a conversion; answers with the job (or the item's large image info). */
  create: (itemId: string, fileId?: string) => post<Job & { _modelType?: string }>(`item/${itemId}/tiles`, { fileId, notify: false }),
  remove: (itemId: string) => del(`item/${itemId}/tiles`),
  associatedImages: (itemId: string) => get<string[]>(`item/${itemId}/tiles/images`),
  /** URL template pieces for tiles: z = 0 is the coarsest level. */
  tileUrl: (itemId: string, z: number, x: number, y: number, frame?: number) =>
    frame === undefined || frame === null
      ? `${API_ROOT}/item/${itemId}/tiles/zxy/${z}/${x}/${y}`
      : `${API_ROOT}/item/${itemId}/tiles/fzxy/${frame}/${z}/${x}/${y}`,
  thumbnailUrl: (itemId: string, params: Params = {}) => apiUrl(`item/${itemId}/tiles/thumbnail`, params),
  associatedUrl: (itemId: string, name: string, params: Params = {}) => apiUrl(`item/${itemId}/tiles/images/${encodeURIComponent(name)}`, params),
  regionUrl: (itemId: string, params: Params) => apiUrl(`item/${itemId}/tiles/region`, params),
};

export const jobs = {
  get: (id: string) => get<Job>(`job/${id}`),
  cancel: (id: string) => put<Job>(`job/${id}/cancel`),
};

// --- Annotations ---------------------------------------------------------

export interface RegionQuery {
  left?: number;
  top?: number;
  right?: number;
  bottom?: number;
  limit?: number;
  offset?: number;
  sort?: string;
  sortdir?: number;
  maxDetails?: number;
  minimumSize?: number;
}

export type PatchOp =
  | { op: 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export const annotations = {
  list: (itemId: string) => getAll<Annotation>('annotation', { itemId, sort: 'created' }, 200),
  get: (id: string, query: RegionQuery = {}, signal?: AbortSignal) => get<Annotation>(`annotation/${id}`, { ...query }, signal),
  /** The packed centroid answer (decode with lib/centroids). */
  centroids: (id: string, signal?: AbortSignal) =>
    request<ArrayBuffer>('GET', `annotation/${id}`, { params: { centroids: true }, as: 'arrayBuffer', signal }),
  create: (itemId: string, body: AnnotationBody) => post<Annotation>('annotation', { itemId }, body),
  /** Replace name, description, display or attributes; elements stay when the body has none. */
  update: (id: string, body: AnnotationBody) => put<Annotation>(`annotation/${id}`, undefined, body),
  /**
   * Apply operations; with `version`, the server merges them into a newer
   * version when a colleague touched other elements, else answers 409 with
   * the conflicting elements. Resolves to the new version.
   */
  patch: async (id: string, ops: PatchOp[], version?: number) => {
    const resp = await request<Response>('PATCH', `annotation/${id}`, { json: ops, params: { version }, as: 'response' });
    const v = Number(resp.headers.get('Tilery-Annotation-Version'));
    return Number.isFinite(v) && v > 0 ? v : undefined;
  },
  remove: (id: string) => del(`annotation/${id}`),
  history: (id: string) => get<Annotation[]>(`annotation/${id}/history`),
  historyVersion: (id: string, version: number) => get<Annotation>(`annotation/${id}/history/${version}`),
  revert: (id: string, version?: number) => put<Annotation>(`annotation/${id}/history/revert`, { version }),
  canCreateInFolder: (folderId: string) => get<boolean>(`annotation/folder/${folderId}/create`),
  /** Give every annotation in a folder (that the caller administers) this ACL. */
  setFolderAccess: (folderId: string, access: AccessList, isPublic: boolean, recurse: boolean) =>
    put<{ updated: number }>(`annotation/folder/${folderId}/access`, { access, public: isPublic, recurse }),
};

// --- Live collaboration -------------------------------------------------

export interface PresenceAnswer {
  users: Array<{ userId: string; login: string; name: string; viewport: number[] | null; color: string }>;
}

export const presence = {
  /** Say this user has the slide open (every 10 s), with the viewport only when shared. */
  heartbeat: (itemId: string, viewport: number[] | null) => put<PresenceAnswer>('notification/presence', { itemId, viewport: viewport ?? undefined }),
  leave: (itemId: string) => del<PresenceAnswer>('notification/presence', { itemId }),
  list: (itemId: string) => get<PresenceAnswer>('notification/presence', { itemId }),
};

// --- Labelling and tagging (Tilery's labels and tagging plugins) -------------

export interface MaskEntry {
  userId: string;
  login: string;
  status: 'checkpoint' | 'done';
  width: number;
  height: number;
  scale?: number;
  updated?: string;
}

export const labels = {
  classes: (folderId: string) => get<LabelClass[]>(`folder/${folderId}/labels/classes`),
  setClasses: (folderId: string, classes: LabelClass[]) => put<LabelClass[]>(`folder/${folderId}/labels/classes`, undefined, classes),
  masks: (itemId: string) => get<MaskEntry[]>(`item/${itemId}/labels`),
  mask: (itemId: string, userId: string) => request<ArrayBuffer>('GET', `item/${itemId}/labels/${userId}`, { as: 'arrayBuffer' }),
  /** Store your mask (a grayscale PNG of class values) as work in progress or done. */
  save: (itemId: string, png: Blob, status: 'checkpoint' | 'done') =>
    request<MaskEntry>('PUT', `item/${itemId}/labels`, { params: { status }, body: png, headers: { 'Content-Type': 'image/png' } }),
  /** Superpixels of an image region: a PNG of ids, their count, and image pixels per PNG pixel. */
  superpixels: async (itemId: string, params: { left: number; top: number; right: number; bottom: number; maxSize: number; algorithm: string; nSegments: number; compactness: number }, signal?: AbortSignal) => {
    const resp = await request<Response>('GET', `item/${itemId}/superpixels`, { params, as: 'response', signal });
    return { png: await resp.blob(), count: Number(resp.headers.get('Superpixel-Count')), scale: Number(resp.headers.get('Superpixel-Scale')) };
  },
  progress: (folderId: string) => get<{ items: number; labellers: Array<{ login: string; done: number; checkpoint: number }> }>(`folder/${folderId}/labels/progress`),
  downloadUrl: (folderId: string) => apiUrl(`folder/${folderId}/labels/download`),
};

export interface ServerTagset {
  tags: Array<{ code: string; alias: string; key: string | null }>;
  multiple: boolean;
}

export const tagging = {
  tagset: (folderId: string) => get<ServerTagset>(`folder/${folderId}/tagset`),
  setTagset: (folderId: string, tagset: { tags: Array<{ code: string; alias?: string; key?: string }>; multiple: boolean }) =>
    put<ServerTagset>(`folder/${folderId}/tagset`, undefined, tagset),
  /** Set an item's tag codes ([] clears them). */
  setTags: (itemId: string, codes: string[]) => put<Item>(`item/${itemId}/tags`, undefined, codes),
  csvUrl: (folderId: string) => apiUrl(`folder/${folderId}/tags/csv`),
  /** How many of the folder's images carry each tag, and how many none. */
  summary: (folderId: string) => get<{ items: number; untagged: number; counts: Record<string, number> }>(`folder/${folderId}/tags/summary`),
};

/** True when an error means the server has no such route (an older or plain Girder server). */
export function isMissingRoute(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 405 || (err.status === 400 && /route|no such|not found/i.test(err.message)));
}
