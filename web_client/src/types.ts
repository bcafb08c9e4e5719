// Shapes of the Girder / large_image / annotation documents the client reads.
// Every document the server answers with comes from its OpenAPI description
// (openapi.json -> api-types.ts, `npm run gen-types`), so the two cannot drift: the
// names below are aliases of the generated types. What follows them is client-only:
// constants the server's numbers mean (JobStatus, AccessLevel).
import type { components } from './api-types';

type Schemas = components['schemas'];

export type User = Schemas['User'];
export type AccessEntry = Schemas['AccessEntry'];
export type AccessList = Schemas['AccessList'];
export type Collection = Schemas['Collection'];
export type Folder = Schemas['Folder'];
/** One step of GET /folder/:id/rootpath (or /item/:id/rootpath), from the top down. */
export type RootPathEntry = Schemas['RootPathEntry'];
/** A folder of GET /resource/shared: who shared it with me, when, through what. */
export type SharedFolder = Schemas['SharedFolder'];
export type LargeImageInfo = Schemas['LargeImageInfo'];
export type Item = Schemas['Item'];
export type GirderFile = Schemas['File'];
/** An upload under way (POST /file answers it until the last byte, then the File). */
export type Upload = Schemas['Upload'];
export type Group = Schemas['Group'];
export type ApiKey = Schemas['ApiKey'];
export type Job = Schemas['Job'];
export type Presence = Schemas['Presence'];
export type FrameInfo = Schemas['FrameInfo'];
export type TileMetadata = Schemas['TileMetadata'];
export type ElementLabel = Schemas['ElementLabel'];
/** One annotation element: a union over the element types, discriminated by `type`. */
export type AnnotationElement = Schemas['AnnotationElement'];
/** The element types with a line style (see isShape in lib/geometry). */
export type ShapeElement = Exclude<AnnotationElement, { type: 'heatmap' | 'griddata' | 'image' | 'pixelmap' }>;
export type AnnotationBody = Schemas['AnnotationBody'];
export type ElementQuery = Schemas['ElementQuery'];
export type Annotation = Schemas['Annotation'];
export type LabelClass = Schemas['LabelClass'];
export type LabelMask = Schemas['LabelMask'];
export type Tagset = Schemas['Tagset'];

// --- client-only: names for the numbers the server sends --------------------

export const JobStatus = {
  INACTIVE: 0,
  QUEUED: 1,
  RUNNING: 2,
  SUCCESS: 3,
  ERROR: 4,
  CANCELED: 5,
} as const;

export const AccessLevel = { NONE: -1, READ: 0, WRITE: 1, ADMIN: 2 } as const;
