// Colleagues' annotation changes, live: the stream's annotation.* events for
// the open slide are applied to the layers they touch. Only the touched
// annotation is fetched (its loaded region, for a large one), and only the
// touched elements are redrawn; the selection, undo stack and a shape being
// drawn are left alone.
import { annotations as api, getCurrentUser } from '../api';
import { allTouched, planRemoteChange, touchedOf, type TouchedElements } from '../lib/live-logic';
import type { StreamEvent } from '../lib/stream';
import type { NotificationStream } from '../stream';
import type { AnnotationElement } from '../types';
import { showError, toast } from '../ui/notify';
import { DETAIL_LIMIT, FULL_LOAD_LIMIT, type AnnotationLayer } from './annotation-layer';
import type { AnnotationSet } from './annotation-set';
import type { Editor } from './editor';
import type OlMap from 'ol/Map';
import type { TileMetadata } from '../types';
import { h } from '../ui/dom';
import { Presence } from './presence';

/** The `data` of an annotation.* event (contract of issue 13). */
export interface AnnotationEventData {
  annotationId: string;
  itemId: string;
  version?: number;
  userId?: string;
  name?: string;
  elements?: Partial<TouchedElements> | null;
}

/** The annotation's elements as stored now: all of them, or those of the loaded region. */
async function fetchCurrent(layer: AnnotationLayer): Promise<{ elements: Map<string, AnnotationElement>; complete: boolean; name?: string } | null> {
  const region = layer.detailRegion;
  if (layer.mode === 'region' && !region) return null;
  const query = layer.mode === 'full' ? { limit: FULL_LOAD_LIMIT + 1 } : { ...region!, limit: DETAIL_LIMIT * 2, sort: 'size', sortdir: -1 };
  const doc = await api.get(layer.id, query);
  const list = doc.annotation.elements ?? [];
  const elements = new Map(list.filter((e) => e.id).map((e) => [e.id!, e]));
  return { elements, complete: layer.mode === 'full' && list.length <= FULL_LOAD_LIMIT, name: doc.annotation.name };
}

/** Bring one layer up to date after a colleague's update of its annotation. */
export async function applyRemoteUpdate(layer: AnnotationLayer, data: AnnotationEventData, editor: Editor): Promise<boolean> {
  // Our own save's event arrives after (or while) we save: wait, then compare.
  await layer.whenSaved();
  if (layer.ownVersions.has(data.version)) return false;
  const current = await fetchCurrent(layer);
  let touched = touchedOf(data);
  if (!touched) touched = current?.complete ? allTouched(layer.elements.keys(), current.elements.keys()) : null;
  if (current && touched) {
    const plan = planRemoteChange(touched, current.elements, { pending: layer.unsavedIds(), selected: editor.selectedIds() }, current.complete);
    for (const el of plan.put) layer.putElement(el);
    for (const id of plan.drop) layer.dropElement(id);
    editor.followRemote(layer, plan.reselect, plan.deselect);
  } else if (touched) {
    for (const id of touched.removed) layer.dropElement(id);
  }
  if (data.name && data.name !== layer.doc.annotation.name) layer.doc = { ...layer.doc, annotation: { ...layer.doc.annotation, name: data.name } };
  if (typeof data.version === 'number') layer.version = Math.max(layer.version ?? 0, data.version);
  return true;
}

/**
 * Follow the slide's annotation events until the returned function is
 * called. Events for one annotation are applied in order, one at a time.
 */
export function followAnnotations(stream: NotificationStream, set: AnnotationSet, editor: Editor, itemId: string, changed: () => void): () => void {
  const queues = new Map<string, Promise<unknown>>();
  const handle = async (ev: StreamEvent) => {
    const data = ev.data as unknown as AnnotationEventData;
    const layer = set.layers.find((l) => l.id === data.annotationId);
    if (ev.type === 'annotation.create') {
      // Our own new annotation is on the map already once its POST answered.
      await set.createsSettled();
      if (!set.layers.some((l) => l.id === data.annotationId)) await set.adopt(await api.get(data.annotationId, { limit: 1 }));
    } else if (!layer) {
      return;
    } else if (ev.type === 'annotation.delete') {
      set.forget(layer);
      toast(`"${layer.doc.annotation.name}" was deleted by someone else`);
    } else if (ev.type === 'annotation.revert') {
      await layer.whenSaved();
      if (editor.active === layer) editor.clearSelection();
      await layer.reload();
      if (typeof data.version === 'number') layer.version = Math.max(layer.version ?? 0, data.version);
    } else if (!(await applyRemoteUpdate(layer, data, editor))) {
      return;
    }
    changed();
  };
  const off = stream.on('annotation.', (ev) => {
    const data = ev.data as unknown as AnnotationEventData;
    if (!data || data.itemId !== itemId || typeof data.annotationId !== 'string') return;
    const prev = queues.get(data.annotationId) ?? Promise.resolve();
    const next = prev.then(() => handle(ev)).catch((err) => showError(err, 'Showing a colleague\'s change'));
    queues.set(data.annotationId, next);
  });
  const unwatch = stream.watch(`item:${itemId}`);
  return () => {
    off();
    unwatch();
  };
}

/** The viewer's live parts: colleagues' edits and presence; `stop` when leaving. */
export function followColleagues(stream: NotificationStream | null, v: {
  map: OlMap; meta: TileMetadata; itemId: string; anns: AnnotationSet; editor: Editor; changed: () => void;
}): { el: HTMLElement; presence: Presence | null; stop: () => void } {
  // Anonymous readers of a public slide have no stream and are not listed.
  if (!stream || !getCurrentUser()) return { el: h('span'), presence: null, stop: () => undefined };
  const presence = new Presence(v.map, v.meta, v.itemId, stream);
  const stopEdits = followAnnotations(stream, v.anns, v.editor, v.itemId, v.changed);
  return {
    el: presence.el,
    presence,
    stop: () => {
      stopEdits();
      presence.destroy();
    },
  };
}
