// One annotation on the map. Small annotations are loaded whole; large ones
// (100k+ elements) show WebGL centroids when zoomed out and fetch the
// elements of the visible region (GET /annotation/:id?left&top&right&bottom)
// while panning, so the browser never holds or draws more than it shows.
import type Feature from 'ol/Feature';
import type Map from 'ol/Map';
import type VectorImageLayer from 'ol/layer/VectorImage';
import type WebGLVectorLayer from 'ol/layer/WebGLVector';
import VectorSource from 'ol/source/Vector';
import { annotations as api, ApiError, type PatchOp } from '../api';
import { decodeCentroids, type Centroids } from '../lib/centroids';
import { canEditAnnotation } from '../lib/access';
import { batchesByBase, OwnVersions, type BasedOp } from '../lib/live-logic';
import { conflictAnswer, resolveConflicts, type ConflictAnswer, type Resolution } from '../lib/merge-logic';
import { newElementId } from '../lib/geometry';
import { extentToRegion } from '../lib/geometry';
import type { Annotation, AnnotationElement, TileMetadata } from '../types';
import { DEFAULT_STYLE, elementFeature } from './features';
import { centroidRaster, elementLayer, type CentroidRaster } from './renderers';

/** Above this many elements an annotation is shown by region and centroids. */
export const FULL_LOAD_LIMIT = 5000;
/** Most elements drawn in full detail at once in region mode. */
export const DETAIL_LIMIT = 6000;

export type SaveState = 'saved' | 'saving' | 'pending' | 'error';

export class AnnotationLayer {
  readonly source = new VectorSource();
  readonly layer: WebGLVectorLayer | VectorImageLayer;
  private raster: CentroidRaster | null = null;
  private centroids: Centroids | null = null;
  /** Centroid record index per element id, and records no longer valid (edited or deleted). */
  private centroidIndex = new globalThis.Map<string, number>();
  private staleCentroids = new Set<number>();
  /** Elements changed here, kept drawn in full even when zoomed out. */
  private local = new Set<string>();
  /** Elements known to the client (all of them in full mode, the loaded region otherwise). */
  readonly elements = new globalThis.Map<string, AnnotationElement>();
  mode: 'full' | 'region' = 'full';
  count = 0;
  private loadedRegion: { left: number; top: number; right: number; bottom: number } | null = null;
  private regionAbort: AbortController | null = null;
  /** Unsaved changes by element id, each with the version it was made against. */
  private pending = new globalThis.Map<string, BasedOp<PatchOp>>();
  /** The version this client has caught up with (its own saves and colleagues' events). */
  version: number | undefined;
  /** Versions this page saved: their events bring nothing new. */
  readonly ownVersions = new OwnVersions();
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private saving: Promise<void> | null = null;
  private hidden = new Set<string>();
  saveState: SaveState = 'saved';
  saveError = '';
  onSaveState: (s: SaveState) => void = () => undefined;
  onRegionLoaded: () => void = () => undefined;
  /** Asks the user how to settle a save that conflicts with a colleague's (set by the viewer). */
  onConflict: (answer: ConflictAnswer) => Promise<Resolution> = async () => 'theirs';

  constructor(public doc: Annotation, private readonly map: Map, private readonly meta: TileMetadata) {
    this.layer = elementLayer(this.source, doc._id);
    this.version = doc._version;
  }

  get id(): string {
    return this.doc._id;
  }

  get canEdit(): boolean {
    return canEditAnnotation(this.doc._accessLevel);
  }

  get visible(): boolean {
    return this.layer.getVisible();
  }

  /** Show a freshly created annotation: it has no elements, so nothing to fetch. */
  startEmpty(): void {
    this.map.addLayer(this.layer);
    this.mode = 'full';
    this.count = 0;
  }

  /** Fetch what is needed to draw this annotation and add its layers to the map. */
  async load(): Promise<void> {
    this.map.addLayer(this.layer);
    let total = this.doc._elementCount;
    if (total === undefined || total <= FULL_LOAD_LIMIT) {
      // limit+1 tells a small annotation (loaded whole here) from a large one.
      const probe = await api.get(this.id, { limit: FULL_LOAD_LIMIT + 1 });
      this.doc = { ...this.doc, ...probe, annotation: { ...probe.annotation, elements: undefined } };
      this.version = Math.max(this.version ?? 0, probe._version ?? 0) || undefined;
      total = probe._elementQuery?.count ?? probe.annotation.elements?.length ?? 0;
      this.count = total;
      if (total <= FULL_LOAD_LIMIT) {
        this.mode = 'full';
        // Shapes drawn while this was loading are not on the server yet: keep them.
        const local = [...this.pending.keys()].map((id) => [id, this.elements.get(id)] as const);
        this.replaceElements(probe.annotation.elements ?? []);
        for (const [id, el] of local) {
          if (el) this.putElement(el);
          else this.dropElement(id);
        }
        this.count = this.elements.size;
        return;
      }
    }
    this.mode = 'region';
    this.centroids = decodeCentroids(await api.centroids(this.id));
    this.count = this.centroids.count;
    this.buildCentroidLayer();
    await this.refreshRegion(true);
  }

  /** Reload everything (after a revert). */
  async reload(): Promise<void> {
    this.dispose(false);
    this.elements.clear();
    this.source.clear(true);
    this.loadedRegion = null;
    await this.load();
  }

  private buildCentroidLayer(): void {
    const c = this.centroids!;
    const colors = c.styles.map((st) => st.lineColor ?? st.fillColor ?? DEFAULT_STYLE.lineColor);
    if (!colors.length) colors.push(DEFAULT_STYLE.lineColor);
    c.ids.forEach((id, i) => this.centroidIndex.set(id, i));
    this.raster = centroidRaster(c, colors);
    this.raster.layer.setVisible(this.layer.getVisible());
    this.map.addLayer(this.raster.layer);
  }

  /** A centroid record stops being drawn once its element is drawn from local data. */
  private retireCentroid(id: string): void {
    const i = this.centroidIndex.get(id);
    if (i === undefined || this.staleCentroids.has(i)) return;
    this.staleCentroids.add(i);
    this.raster?.setRemoved(this.staleCentroids);
  }

  private isStoredCentroid(id: string): boolean {
    const i = this.centroidIndex.get(id);
    return i !== undefined && !this.staleCentroids.has(i);
  }

  /** Number of centroids inside a pixel region. */
  private countIn(r: { left: number; top: number; right: number; bottom: number }): number {
    const c = this.centroids;
    if (!c) return this.count;
    let n = 0;
    for (let i = 0; i < c.count; i += 1) {
      const x = c.xy[i * 2];
      const y = c.xy[i * 2 + 1];
      if (x >= r.left && x <= r.right && y >= r.top && y <= r.bottom) n += 1;
    }
    return n;
  }

  /**
   * In region mode, after the view moved: load full elements of the visible
   * area (padded) when few enough are in view, else rely on centroids.
   */
  async refreshRegion(force = false): Promise<void> {
    if (this.mode !== 'region' || !this.visible) return;
    const view = this.map.getView();
    const size = this.map.getSize();
    if (!size) return;
    const ext = view.calculateExtent(size);
    const visible = extentToRegion(ext, this.meta.sizeX, this.meta.sizeY);
    const inView = this.countIn(visible);
    if (inView > DETAIL_LIMIT) {
      this.setDetail(null);
      return;
    }
    const lr = this.loadedRegion;
    if (!force && lr && visible.left >= lr.left && visible.right <= lr.right && visible.top >= lr.top && visible.bottom <= lr.bottom) return;
    // Pad by half a screen each side, shrinking the pad if that holds too much.
    let pad = 0.5;
    let region = visible;
    for (; pad > 0; pad -= 0.25) {
      const w = ext[2] - ext[0];
      const hgt = ext[3] - ext[1];
      region = extentToRegion([ext[0] - w * pad, ext[1] - hgt * pad, ext[2] + w * pad, ext[3] + hgt * pad], this.meta.sizeX, this.meta.sizeY);
      if (this.countIn(region) <= DETAIL_LIMIT * 2) break;
    }
    this.regionAbort?.abort();
    const ctl = new AbortController();
    this.regionAbort = ctl;
    try {
      const doc = await api.get(this.id, { ...region, limit: DETAIL_LIMIT * 2, sort: 'size', sortdir: -1 }, ctl.signal);
      if (ctl.signal.aborted) return;
      // Keep local edits that the server has not stored yet.
      const local = new globalThis.Map([...this.pending.keys()].map((id) => [id, this.elements.get(id)]));
      this.replaceElements(doc.annotation.elements ?? []);
      for (const [id, el] of local) {
        if (el) this.putElement(el);
        else this.dropElement(id);
      }
      this.setDetail(region);
      this.onRegionLoaded();
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  }

  private setDetail(region: { left: number; top: number; right: number; bottom: number } | null): void {
    this.loadedRegion = region;
    this.raster?.setHole(region);
    if (!region) {
      // Zoomed out: drop the detailed features; centroids show everything
      // except what was changed here, which stays drawn in full.
      for (const id of [...this.elements.keys()]) {
        if (this.local.has(id) || this.pending.has(id)) continue;
        this.removeFeature(id);
        this.elements.delete(id);
      }
    }
  }

  private replaceElements(list: AnnotationElement[]): void {
    this.elements.clear();
    const features: Feature[] = [];
    for (const el of list) {
      if (!el.id) continue;
      this.elements.set(el.id, el);
      if (this.hidden.has(el.id)) continue;
      const f = elementFeature(el);
      if (f) features.push(f);
    }
    this.source.clear(true);
    this.source.addFeatures(features);
  }

  private removeFeature(id: string): void {
    const f = this.source.getFeatureById(id);
    if (f) this.source.removeFeature(f);
  }

  /** Add or replace an element on the map (no save). */
  putElement(el: AnnotationElement): void {
    const id = el.id!;
    if (!this.elements.has(id) && !this.isStoredCentroid(id)) this.count += 1;
    this.elements.set(id, el);
    this.removeFeature(id);
    if (!this.hidden.has(id)) {
      const f = elementFeature(el);
      if (f) this.source.addFeature(f);
    }
    if (this.mode === 'region') {
      this.local.add(id);
      this.retireCentroid(id);
    }
  }

  /** Remove an element from the map (no save). */
  dropElement(id: string): void {
    if (this.elements.has(id) || this.isStoredCentroid(id)) this.count = Math.max(0, this.count - 1);
    this.elements.delete(id);
    this.removeFeature(id);
    this.retireCentroid(id);
  }

  /** Hide an element's display while it is edited in the overlay. */
  setHidden(id: string, hidden: boolean): void {
    if (hidden) {
      this.hidden.add(id);
      this.removeFeature(id);
    } else {
      this.hidden.delete(id);
      const el = this.elements.get(id);
      if (el) this.putElement(el);
    }
  }

  // --- Saving ------------------------------------------------------------

  /** Record a change to send: add, replace or remove an element. */
  queue(op: 'add' | 'replace' | 'remove', el: AnnotationElement): void {
    const id = el.id!;
    const path = `elements/id:${id}`;
    const prev = this.pending.get(id);
    // A change stays based on the version of the element's first unsaved change.
    const base = prev ? prev.base : this.version;
    if (op === 'remove') {
      // Never stored: nothing to remove on the server.
      if (prev?.op.op === 'add') this.pending.delete(id);
      else this.pending.set(id, { op: { op: 'remove', path }, base });
    } else {
      let kind: 'add' | 'replace' = op;
      if (prev?.op.op === 'add') kind = 'add'; // still not stored
      else if (prev && op === 'add') kind = 'replace'; // the server still has it
      this.pending.set(id, { op: { op: kind, path, value: el }, base });
    }
    this.setSaveState('pending');
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => void this.flush(), 400);
  }

  /** Ids of elements with changes not yet on the server (sent or not). */
  unsavedIds(): Set<string> {
    return new Set([...this.pending.keys(), ...this.inFlight]);
  }

  private inFlight = new Set<string>();

  /** Send queued changes now; resolves when the server has them. */
  async flush(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (this.saving) await this.saving;
    if (!this.pending.size) return;
    const ops = [...this.pending.entries()];
    this.pending.clear();
    ops.forEach(([id]) => this.inFlight.add(id));
    this.setSaveState('saving');
    this.saving = (async () => {
      try {
        for (const batch of batchesByBase(ops.map(([, o]) => o))) await this.sendBatch(batch.ops, batch.base);
        this.setSaveState(this.pending.size ? 'pending' : 'saved');
      } catch (err) {
        // Put the ops back unless newer ones replaced them, and say so.
        for (const [id, op] of ops) {
          if (!this.pending.has(id)) this.pending.set(id, op);
        }
        this.saveError = (err as Error).message;
        this.setSaveState('error');
      } finally {
        this.inFlight.clear();
        this.saving = null;
      }
    })();
    await this.saving;
    if (this.pending.size && this.saveState !== 'error') await this.flush();
  }

  /** One PATCH made against `base`; a conflict asks the user and sends their choice. */
  private async sendBatch(ops: PatchOp[], base: number | undefined): Promise<void> {
    try {
      this.noteSaved(await this.sendOps(ops, base));
    } catch (err) {
      const answer = err instanceof ApiError ? conflictAnswer(err.status, err.body) : null;
      if (!answer) throw err;
      const choice = await this.onConflict(answer);
      const resolved = resolveConflicts(choice, ops, answer, newElementId);
      for (const el of resolved.put) this.putElement(el);
      for (const id of resolved.drop) this.dropElement(id);
      // A second conflict on the same save is shown again, not retried forever.
      if (resolved.ops.length) this.noteSaved(await this.sendOps(resolved.ops, resolved.version));
    }
  }

  /** A save of this page answered with this version. */
  noteSaved(version: number | undefined): void {
    if (version === undefined) return;
    this.ownVersions.add(version);
    this.version = Math.max(this.version ?? 0, version);
  }

  private async sendOps(ops: PatchOp[], base: number | undefined): Promise<number | undefined> {
    try {
      return await api.patch(this.id, ops, base);
    } catch (err) {
      // Servers without PATCH: replace the whole element list (small annotations only).
      const noPatch = err instanceof ApiError && (err.status === 405 || (err.status === 400 && /route|method/i.test(err.message)));
      if (!noPatch || this.mode !== 'full') throw err;
      const doc = await api.update(this.id, { ...this.doc.annotation, elements: [...this.elements.values()] });
      return doc._version;
    }
  }

  private setSaveState(s: SaveState): void {
    this.saveState = s;
    if (s !== 'error') this.saveError = '';
    this.onSaveState(s);
  }

  /** Resolves once the save under way (if any) has finished. */
  async whenSaved(): Promise<void> {
    if (this.saving) await this.saving.catch(() => undefined);
  }

  /** The region whose elements are loaded in detail (region mode), if any. */
  get detailRegion(): { left: number; top: number; right: number; bottom: number } | null {
    return this.loadedRegion;
  }

  hasUnsaved(): boolean {
    return this.pending.size > 0 || this.saving !== null;
  }

  setVisible(on: boolean): void {
    this.layer.setVisible(on);
    this.raster?.layer.setVisible(on);
    if (on) void this.refreshRegion(true).catch(() => undefined);
  }

  /** Elements currently drawn whose bounding box meets a map extent. */
  featuresIn(extent: number[]): Feature[] {
    return this.source.getFeaturesInExtent(extent);
  }

  dispose(removeMain = true): void {
    this.regionAbort?.abort();
    if (this.raster) {
      this.map.removeLayer(this.raster.layer);
      this.raster.layer.dispose();
      this.raster = null;
      this.centroidIndex.clear();
      this.staleCentroids = new Set();
      this.local.clear();
    }
    if (removeMain) {
      this.map.removeLayer(this.layer);
      this.layer.dispose();
    } else {
      this.map.removeLayer(this.layer);
    }
  }
}
