// Shapes of the Girder / large_image / annotation documents the client reads.
// Only the fields the client uses are declared; servers may send more.

export type ModelType = 'user' | 'collection' | 'folder' | 'item' | 'file' | 'group';

export interface Doc {
  _id: string;
  _modelType?: ModelType;
  created?: string;
  updated?: string;
}

export interface User extends Doc {
  login: string;
  email?: string;
  firstName: string;
  lastName: string;
  admin?: boolean;
}

export interface AccessEntry {
  id: string;
  level: number;
  flags?: string[];
  name?: string;
  login?: string;
  description?: string;
}

export interface AccessList {
  users: AccessEntry[];
  groups: AccessEntry[];
}

export interface Collection extends Doc {
  name: string;
  description?: string;
  public?: boolean;
  size?: number;
  meta?: Record<string, unknown>;
  _accessLevel?: number;
}

export interface Folder extends Doc {
  name: string;
  description?: string;
  parentId: string;
  parentCollection: 'folder' | 'user' | 'collection';
  baseParentType?: 'user' | 'collection';
  baseParentId?: string;
  public?: boolean;
  size?: number;
  meta?: Record<string, unknown>;
  _accessLevel?: number;
}

/** A folder of GET /resource/shared: who shared it with me, when, through what. */
export interface SharedFolder extends Folder {
  /** Set on labelling projects (labels plugin) and tagging folders (tagging plugin). */
  labelClasses?: unknown[];
  tagset?: { tags: unknown[] };
  _shared: {
    at: string;
    by: { _id: string; login: string; name: string } | null;
    via: { type: 'user' } | { type: 'group'; id: string; name: string | null };
  };
}

export interface LargeImageInfo {
  fileId?: string;
  originalId?: string;
  expected?: boolean;
  jobId?: string;
  sourceName?: string;
}

export interface Item extends Doc {
  name: string;
  description?: string;
  folderId: string;
  size?: number;
  meta?: Record<string, unknown>;
  largeImage?: LargeImageInfo;
  /** The labels plugin's masks on this item, by labeller id. */
  labelMasks?: Record<string, { fileId: string; login: string; status: 'checkpoint' | 'done' }>;
}

export interface GirderFile extends Doc {
  name: string;
  size: number;
  mimeType?: string;
  itemId: string;
}

export interface Upload extends Doc {
  received: number;
  size: number;
  name?: string;
}

export interface Group extends Doc {
  name: string;
  description?: string;
}

export interface ApiKey extends Doc {
  name: string;
  key?: string;
  active: boolean;
  scope?: string[] | null;
  tokenDuration?: number | null;
  lastUse?: string | null;
}

export interface Job extends Doc {
  title?: string;
  type?: string;
  status: number;
  progress?: { current?: number; total?: number; message?: string } | null;
  log?: string[] | string;
}

export const JobStatus = {
  INACTIVE: 0,
  QUEUED: 1,
  RUNNING: 2,
  SUCCESS: 3,
  ERROR: 4,
  CANCELED: 5,
} as const;

export interface FrameInfo {
  Frame: number;
  Index?: number;
  [axis: string]: number | undefined;
}

export interface TileMetadata {
  levels: number;
  sizeX: number;
  sizeY: number;
  tileWidth: number;
  tileHeight: number;
  magnification?: number | null;
  mm_x?: number | null;
  mm_y?: number | null;
  dtype?: string;
  bandCount?: number;
  frames?: FrameInfo[];
  IndexRange?: Record<string, number>;
  IndexStride?: Record<string, number>;
  channels?: string[];
}

export type Coord = [number, number, number?];

export interface ElementLabel {
  value: string;
  visibility?: 'hidden' | 'always' | 'onhover';
  fontSize?: number;
  color?: string;
}

/** One annotation element; the union of the fields the element types use. */
export interface AnnotationElement {
  id?: string;
  type: string;
  group?: string;
  label?: ElementLabel;
  user?: Record<string, unknown>;
  lineColor?: string;
  lineWidth?: number;
  fillColor?: string;
  center?: number[];
  radius?: number;
  width?: number;
  height?: number;
  rotation?: number;
  normal?: number[];
  points?: number[][];
  closed?: boolean;
  holes?: number[][][];
  girderId?: string;
  values?: number[];
  categories?: { fillColor: string; strokeColor?: string; label?: string; description?: string }[];
  boundaries?: boolean;
  transform?: { xoffset?: number; yoffset?: number; matrix?: number[][] };
  opacity?: number;
  hasAlpha?: boolean;
  [key: string]: unknown;
}

export interface AnnotationBody {
  name: string;
  description?: string;
  display?: { visible?: 'new' | boolean };
  attributes?: Record<string, unknown>;
  elements?: AnnotationElement[];
}

export interface ElementQuery {
  count: number;
  returned: number;
  details?: number;
  offset?: number;
  limit?: number;
  props?: unknown[][];
}

export interface Annotation extends Doc {
  itemId: string;
  creatorId?: string;
  updatedId?: string;
  public?: boolean;
  _version?: number;
  _active?: boolean;
  _accessLevel?: number;
  _elementCount?: number;
  _detailsCount?: number;
  _elementQuery?: ElementQuery;
  annotation: AnnotationBody;
}

export const AccessLevel = { NONE: -1, READ: 0, WRITE: 1, ADMIN: 2 } as const;
