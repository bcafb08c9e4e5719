// Shapes of the Girder / large_image / annotation documents the client reads.
// The documents the server answers with come from its OpenAPI description
// (openapi.json -> api-types.ts, `npm run gen-types`), so the two cannot drift;
// only what the description does not carry is written here.
import type { components } from './api-types';

type Schemas = components['schemas'];

export type ModelType = 'user' | 'collection' | 'folder' | 'item' | 'file' | 'group';

export interface Doc {
  _id: string;
  _modelType?: ModelType;
  created?: string;
  updated?: string;
}

export type User = Schemas['User'];

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

export type Collection = Schemas['Collection'];
export type Folder = Schemas['Folder'];

/** A folder of GET /resource/shared: who shared it with me, when, through what. */
export type SharedFolder = Folder & {
  /** Set on labelling projects (labels plugin) and tagging folders (tagging plugin). */
  labelClasses?: unknown[];
  tagset?: { tags: unknown[] };
  _shared: {
    at: string;
    by: { _id: string; login: string; name: string } | null;
    via: { type: 'user' } | { type: 'group'; id: string; name: string | null };
  };
};

export type LargeImageInfo = Schemas['LargeImageInfo'];
export type Item = Schemas['Item'];
export type GirderFile = Schemas['File'];

export interface Upload extends Doc {
  received: number;
  size: number;
  name?: string;
}

export type Group = Schemas['Group'];
export type ApiKey = Schemas['ApiKey'];
export type Job = Schemas['Job'];

export const JobStatus = {
  INACTIVE: 0,
  QUEUED: 1,
  RUNNING: 2,
  SUCCESS: 3,
  ERROR: 4,
  CANCELED: 5,
} as const;

export type FrameInfo = Schemas['FrameInfo'];
export type TileMetadata = Schemas['TileMetadata'];

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

// Elements are described loosely by the server (their fields vary by type):
// the client types them itself.
export type AnnotationBody = Omit<Schemas['AnnotationBody'], 'elements'> & { elements?: AnnotationElement[] };
export type ElementQuery = Schemas['ElementQuery'];
export type Annotation = Omit<Schemas['Annotation'], 'annotation'> & { annotation: AnnotationBody };

export const AccessLevel = { NONE: -1, READ: 0, WRITE: 1, ADMIN: 2 } as const;
