// The one module that talks to the server: Girder's REST dialect under /api/v1.
// Token in the Girder-Token header; <img> tiles and download links rely on the
// server's HttpOnly girderToken cookie (set at sign-in, never written by script),
// Girder-Total-Count for paging, and JSON errors {message, type, field}.
//
// The answer type of each call follows from its route and method in the server's
// OpenAPI description (api-types.ts, generated): `get('/item/{id}', { id })` is a
// Promise of the server's Item, so a change in what the server answers shows up here
// as a type error.
import { routePath, type Answer, type Entry, type JsonRoute, type ListRoute, type Method, type PathVars } from './lib/routes';
import type { AccessList, AnnotationBody, LabelClass, Presence, User } from './types';
import type { ChunkTransport } from './lib/chunks';

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

// --- Calls typed from the API description ------------------------------------

/** One call whose answer type comes from its route and method. */
function call<M extends Method, P extends JsonRoute<M>>(method: M, route: P, vars: PathVars<P>, opts: RequestOptions = {}): Promise<Answer<P, M>> {
  return request<Answer<P, M>>(method.toUpperCase(), routePath(route, vars), opts);
}

const get = <P extends JsonRoute<'get'>>(route: P, vars: PathVars<P>, params?: Params, signal?: AbortSignal) =>
  call('get', route, vars, { params, signal });
const post = <P extends JsonRoute<'post'>>(route: P, vars: PathVars<P>, params?: Params, json?: unknown) =>
  call('post', route, vars, { params, json });
const put = <P extends JsonRoute<'put'>>(route: P, vars: PathVars<P>, params?: Params, json?: unknown) =>
  call('put', route, vars, { params, json });
const del = <P extends JsonRoute<'delete'>>(route: P, vars: PathVars<P>, params?: Params) =>
  call('delete', route, vars, { params });

/** A list route with the total from Girder-Total-Count. */
export async function getPage<P extends ListRoute>(route: P, vars: PathVars<P>, params: Params = {}, signal?: AbortSignal): Promise<Page<Entry<P>>> {
  const resp = await request<Response>('GET', routePath(route, vars), { params, signal, as: 'response' });
  const total = resp.headers.get('Girder-Total-Count');
  const items: Entry<P>[] = await resp.json();
  return { items, total: total === null ? null : Number(total) };
}

/** Every entry of a list route, page by page. */
export async function getAll<P extends ListRoute>(route: P, vars: PathVars<P>, params: Params = {}, pageSize = 500): Promise<Entry<P>[]> {
  const out: Entry<P>[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const page: Entry<P>[] = await request('GET', routePath(route, vars), { params: { ...params, limit: pageSize, offset } });
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
  const resp = await call('get', '/user/authentication', {}, {
    headers: { Authorization: `Basic ${base64(`${username}:${password}`)}` },
  });
  setSession(resp.authToken.token, resp.user);
  return resp.user;
}

export async function logout(): Promise<void> {
  try {
    if (token) await del('/user/authentication', {});
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
    const resp = await get('/user/authentication', {});
    const user = resp.user;
    setSession(user ? token : null, user);
    return user;
  } catch (err) {
    if (err instanceof ApiError && err.status === 0) throw err;
    setSession(null, null);
    return null;
  }
}

/** What a visitor types to register (client-only: the body of POST /user). */
export interface Registration {
  login: string;
  email: string;
  firstName: string;
  lastName: string;
  password: string;
}

/** Create an account, then sign in with it. */
export async function register(reg: Registration): Promise<User> {
  const user = await post('/user', {}, { ...reg });
  if (user.authToken?.token) {
    setSession(user.authToken.token, user);
    return user;
  }
  return login(reg.login, reg.password);
}

export const users = {
  search: (text: string, limit = 10) => get('/user', {}, { text, limit }),
  get: (id: string) => get('/user/{id}', { id }),
};

export const groups = {
  search: (text: string, limit = 10) => get('/group', {}, { text, limit }),
};

export const apiKeys = {
  list: (userId: string) => get('/api_key', {}, { userId, limit: 200 }),
  create: (name: string, scope: string[] | null, tokenDuration?: number) =>
    post('/api_key', {}, { name, scope: scope ?? undefined, tokenDuration, active: true }),
  update: (id: string, fields: { name?: string; active?: boolean; tokenDuration?: number }) =>
    put('/api_key/{id}', { id }, fields),
  remove: (id: string) => del('/api_key/{id}', { id }),
  scopes: () => get('/token/scopes', {}),
};

export const system = {
  version: () => get('/system/version', {}),
  /** Registered access flags ({key: {name, description, admin}}); empty when the server has none. */
  accessFlags: () => get('/system/access_flag', {}),
  /** What the client may know before signing in: registration policy, whether anyone registered. */
  publicSettings: () => get('/system/public_settings', {}),
};

// --- Hierarchy -----------------------------------------------------------

export type ParentType = 'collection' | 'folder' | 'user';

export const collections = {
  list: (paging: Paging = {}, text?: string) => getPage('/collection', {}, { ...paging, text }),
  get: (id: string) => get('/collection/{id}', { id }),
  create: (name: string, description = '', isPublic = false) =>
    post('/collection', {}, { name, description, public: isPublic }),
  update: (id: string, fields: { name?: string; description?: string }) => put('/collection/{id}', { id }, fields),
  remove: (id: string) => del('/collection/{id}', { id }),
  access: (id: string) => get('/collection/{id}/access', { id }),
  setAccess: (id: string, access: AccessList, isPublic: boolean, recurse: boolean) =>
    put('/collection/{id}/access', { id }, { access, public: isPublic, recurse }),
};

export const folders = {
  list: (parentType: ParentType, parentId: string, paging: Paging = {}) =>
    getPage('/folder', {}, { parentType, parentId, ...paging }),
  get: (id: string) => get('/folder/{id}', { id }),
  create: (parentType: ParentType, parentId: string, name: string, description = '', reuseExisting = false) =>
    post('/folder', {}, { parentType, parentId, name, description, reuseExisting }),
  update: (id: string, fields: { name?: string; description?: string; parentType?: ParentType; parentId?: string }) =>
    put('/folder/{id}', { id }, fields),
  remove: (id: string) => del('/folder/{id}', { id }),
  rootpath: (id: string) => get('/folder/{id}/rootpath', { id }),
  access: (id: string) => get('/folder/{id}/access', { id }),
  setAccess: (id: string, access: AccessList, isPublic: boolean, recurse: boolean) =>
    put('/folder/{id}/access', { id }, { access, public: isPublic, recurse }),
  setMetadata: (id: string, meta: Record<string, unknown>) => put('/folder/{id}/metadata', { id }, undefined, meta),
  byName: (parentType: ParentType, parentId: string, name: string) =>
    get('/folder', {}, { parentType, parentId, name }),
};

export const items = {
  list: (folderId: string, paging: Paging = {}) => getPage('/item', {}, { folderId, ...paging }),
  all: (folderId: string, sort = 'lowerName') => getAll('/item', {}, { folderId, sort }),
  get: (id: string) => get('/item/{id}', { id }),
  update: (id: string, fields: { name?: string; description?: string; folderId?: string }) => put('/item/{id}', { id }, fields),
  remove: (id: string) => del('/item/{id}', { id }),
  files: (id: string) => get('/item/{id}/files', { id }, { limit: 100 }),
  rootpath: (id: string) => get('/item/{id}/rootpath', { id }),
  setMetadata: (id: string, meta: Record<string, unknown>) => put('/item/{id}/metadata', { id }, undefined, meta),
  downloadUrl: (id: string) => apiUrl(`item/${id}/download`),
};

export const metadata = {
  /** Merge keys into `meta` of a collection, folder or item; a null value removes the key. */
  set: (type: 'collection' | 'folder' | 'item', id: string, meta: Record<string, unknown>) =>
    put(`/${type}/{id}/metadata` as const, { id }, undefined, meta),
};

export const resources = {
  search: (q: string, types: string[], limit = 20) => get('/resource/search', {}, { q, types, limit, mode: 'prefix' }),
  move: (res: { item?: string[]; folder?: string[] }, parentType: ParentType, parentId: string) =>
    put('/resource/move', {}, { resources: res, parentType, parentId }),
  remove: (res: { item?: string[]; folder?: string[] }) => del('/resource', {}, { resources: res }),
  downloadUrl: (res: { item?: string[]; folder?: string[] }) => apiUrl('resource/download', { resources: res }),
  /** Folders others shared with me or my groups, newest share first. */
  shared: (offset: number, limit: number) => getPage('/resource/shared', {}, { offset, limit }),
};

// --- Files and uploads ---------------------------------------------------

export const files = {
  initUpload: (parentType: 'folder' | 'item', parentId: string, name: string, size: number, mimeType: string) =>
    post('/file', {}, { parentType, parentId, name, size, mimeType: mimeType || 'application/octet-stream' }),
  offset: async (uploadId: string) => (await get('/file/offset', {}, { uploadId })).offset,
  cancel: (uploadId: string) => del('/file/upload/{id}', { id: uploadId }),
  downloadUrl: (fileId: string) => apiUrl(`file/${fileId}/download`),
  download: (fileId: string) => request<ArrayBuffer>('GET', `file/${fileId}/download`, { as: 'arrayBuffer' }),
};

/** What POST /file/chunk answers: the upload so far, or the file once complete. */
export type ChunkAnswer = Answer<'/file/chunk', 'post'>;

/** POST one chunk with XMLHttpRequest, which (unlike fetch) reports upload progress. */
function sendChunk(uploadId: string, offset: number, blob: Blob, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<ChunkAnswer> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', apiUrl('file/chunk', { uploadId, offset }));
    if (token) xhr.setRequestHeader('Girder-Token', token);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      const ok = xhr.status >= 200 && xhr.status < 300;
      try {
        if (ok) {
          resolve(JSON.parse(xhr.responseText));
          return;
        }
        const body: { message?: string; type?: string; field?: string } = JSON.parse(xhr.responseText);
        reject(new ApiError(body.message || `Upload failed (${xhr.status})`, xhr.status, body.type, body.field));
      } catch {
        reject(new ApiError(xhr.responseText.slice(0, 300) || `Upload failed (${xhr.status})`, xhr.status));
      }
    };
    xhr.onerror = () => reject(new ApiError('Connection lost during upload', 0, 'network'));
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(blob);
  });
}

/** The real server behind the resumable upload loop in lib/chunks. */
export function chunkTransport(signal?: AbortSignal): ChunkTransport<ChunkAnswer> {
  return {
    sendChunk: (uploadId, offset, blob, onProgress) => sendChunk(uploadId, offset, blob, onProgress, signal),
    getOffset: (uploadId) => files.offset(uploadId),
  };
}

// --- Large images and jobs -----------------------------------------------

export const tiles = {
  metadata: (itemId: string) => get('/item/{itemId}/tiles', { itemId }),
  /** Start a conversion; answers with the job, or null when the file is readable as it is. */
  create: (itemId: string, fileId?: string) => post('/item/{itemId}/tiles', { itemId }, { fileId, notify: false }),
  remove: (itemId: string) => del('/item/{itemId}/tiles', { itemId }),
  associatedImages: (itemId: string) => get('/item/{itemId}/tiles/images', { itemId }),
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
  get: (id: string) => get('/job/{id}', { id }),
  cancel: (id: string) => put('/job/{id}/cancel', { id }),
};

// --- Annotations ---------------------------------------------------------

/** The region, paging and simplification of an annotation's elements (query parameters). */
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

/** One operation of PATCH /annotation/:id (client-only: the request body). */
export type PatchOp =
  | { op: 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export const annotations = {
  list: (itemId: string) => getAll('/annotation', {}, { itemId, sort: 'created' }, 200),
  get: (id: string, query: RegionQuery = {}, signal?: AbortSignal) => get('/annotation/{id}', { id }, { ...query }, signal),
  /** The packed centroid answer (decode with lib/centroids). */
  centroids: (id: string, signal?: AbortSignal) =>
    request<ArrayBuffer>('GET', `annotation/${id}`, { params: { centroids: true }, as: 'arrayBuffer', signal }),
  create: (itemId: string, body: AnnotationBody) => post('/annotation', {}, { itemId }, body),
  /** Replace name, description, display or attributes; elements stay when the body has none. */
  update: (id: string, body: AnnotationBody) => put('/annotation/{id}', { id }, undefined, body),
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
  remove: (id: string) => del('/annotation/{id}', { id }),
  history: (id: string) => get('/annotation/{id}/history', { id }),
  historyVersion: (id: string, version: number) => get('/annotation/{id}/history/{version}', { id, version: String(version) }),
  revert: (id: string, version?: number) => put('/annotation/{id}/history/revert', { id }, { version }),
  canCreateInFolder: (folderId: string) => get('/annotation/folder/{id}/create', { id: folderId }),
  /** Give every annotation in a folder (that the caller administers) this ACL. */
  setFolderAccess: (folderId: string, access: AccessList, isPublic: boolean, recurse: boolean) =>
    put('/annotation/folder/{id}/access', { id: folderId }, { access, public: isPublic, recurse }),
};

// --- Live collaboration -------------------------------------------------

export type PresenceAnswer = Presence;

export const presence = {
  /** Say this user has the slide open (every 10 s), with the viewport only when shared. */
  heartbeat: (itemId: string, viewport: number[] | null) => put('/notification/presence', {}, { itemId, viewport: viewport ?? undefined }),
  leave: (itemId: string) => del('/notification/presence', {}, { itemId }),
  list: (itemId: string) => get('/notification/presence', {}, { itemId }),
};

// --- Labelling and tagging (Tilery's labels and tagging plugins) -------------

export const labels = {
  classes: (folderId: string) => get('/folder/{id}/labels/classes', { id: folderId }),
  setClasses: (folderId: string, classes: LabelClass[]) => put('/folder/{id}/labels/classes', { id: folderId }, undefined, classes),
  masks: (itemId: string) => get('/item/{itemId}/labels', { itemId }),
  mask: (itemId: string, userId: string) => request<ArrayBuffer>('GET', `item/${itemId}/labels/${userId}`, { as: 'arrayBuffer' }),
  /** Store your mask (a grayscale PNG of class values) as work in progress or done. */
  save: (itemId: string, png: Blob, status: 'checkpoint' | 'done') =>
    call('put', '/item/{itemId}/labels', { itemId }, { params: { status }, body: png, headers: { 'Content-Type': 'image/png' } }),
  /** Superpixels of an image region: a PNG of ids, their count, and image pixels per PNG pixel. */
  superpixels: async (itemId: string, params: { left: number; top: number; right: number; bottom: number; maxSize: number; algorithm: string; nSegments: number; compactness: number }, signal?: AbortSignal) => {
    const resp = await request<Response>('GET', `item/${itemId}/superpixels`, { params, as: 'response', signal });
    return { png: await resp.blob(), count: Number(resp.headers.get('Superpixel-Count')), scale: Number(resp.headers.get('Superpixel-Scale')) };
  },
  progress: (folderId: string) => get('/folder/{id}/labels/progress', { id: folderId }),
  downloadUrl: (folderId: string) => apiUrl(`folder/${folderId}/labels/download`),
};

export const tagging = {
  tagset: (folderId: string) => get('/folder/{id}/tagset', { id: folderId }),
  setTagset: (folderId: string, tagset: { tags: Array<{ code: string; alias?: string; key?: string }>; multiple: boolean }) =>
    put('/folder/{id}/tagset', { id: folderId }, undefined, tagset),
  /** Set an item's tag codes ([] clears them). */
  setTags: (itemId: string, codes: string[]) => put('/item/{id}/tags', { id: itemId }, undefined, codes),
  csvUrl: (folderId: string) => apiUrl(`folder/${folderId}/tags/csv`),
  /** How many of the folder's images carry each tag, and how many none. */
  summary: (folderId: string) => get('/folder/{id}/tags/summary', { id: folderId }),
};

/** True when an error means the server has no such route (an older or plain Girder server). */
export function isMissingRoute(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 405 || (err.status === 400 && /route|no such|not found/i.test(err.message)));
}
