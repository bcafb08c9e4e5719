// Pixel labelling: paint classes with a round brush or by superpixel (right
// button erases).
// Each labeller's work is a label mask (grayscale PNG of class values) stored
// with PUT /item/:id/labels as a checkpoint or as done; the classes live on
// the folder (GET/PUT /folder/:id/labels/classes).
import type Map from 'ol/Map';
import ImageLayer from 'ol/layer/Image';
import ImageCanvasSource from 'ol/source/ImageCanvas';
import PointerInteraction from 'ol/interaction/Pointer';
import type { MapBrowserEvent } from 'ol';
import { getCurrentUser, isMissingRoute, labels } from '../api';
import {
  colorize, createMask, decodeGray, extractPatch, histogram, isEmptyRect, maskScale, parseColor, resizeMask,
  restorePatch, strokeLine, unionRect, type LabelClass, type Mask, type Rect,
} from '../lib/mask';
import { encodeGrayPng } from '../lib/png';
import { paintSegment, segmentAt } from '../lib/superpixels';
import type { UndoStack } from '../lib/undo';
import type { Item, TileMetadata } from '../types';
import { SuperpixelTool } from './superpixel-tool';

type PointerMapEvent = MapBrowserEvent<PointerEvent | KeyboardEvent | WheelEvent>;

export const DEFAULT_CLASSES: LabelClass[] = [
  { value: 1, name: 'Tumour', color: '#e6194b' },
  { value: 2, name: 'Stroma', color: '#3cb44b' },
  { value: 3, name: 'Necrosis', color: '#4363d8' },
  { value: 4, name: 'Background', color: '#f58231' },
];

const EXTRA_COLORS = ['#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#469990', '#9a6324', '#800000', '#000075'];

export class PixelLabeller {
  readonly scale: number;
  mask: Mask;
  classes: LabelClass[] = DEFAULT_CLASSES.map((c) => ({ ...c }));
  /** Whether the classes came from the folder (else defaults, saved on first change by a writer). */
  classesStored = false;
  current = 1;
  /** Brush radius in screen pixels, so it feels the same at any zoom. */
  radius = 12;
  /** Paint with the round brush, or a whole superpixel per click. */
  mode: 'brush' | 'superpixel' = 'brush';
  readonly superpixels: SuperpixelTool;
  dirty = false;
  status: 'checkpoint' | 'done' | null = null;
  private display: HTMLCanvasElement;
  private displayData: ImageData;
  private layer: ImageLayer<ImageCanvasSource>;
  private source: ImageCanvasSource;
  private interaction: PointerInteraction;
  private stroke: { value: number; last: number[]; rect: Rect; before: Uint8Array; segment: number } | null = null;
  onChange: () => void = () => undefined;

  constructor(private readonly map: Map, meta: TileMetadata, private readonly item: Item, private readonly undo: UndoStack, private readonly canEditClasses: boolean) {
    this.scale = maskScale(meta.sizeX, meta.sizeY);
    this.superpixels = new SuperpixelTool(map, meta, item._id);
    this.mask = createMask(Math.ceil(meta.sizeX / this.scale), Math.ceil(meta.sizeY / this.scale));
    this.display = document.createElement('canvas');
    this.display.width = this.mask.width;
    this.display.height = this.mask.height;
    this.displayData = new ImageData(this.mask.width, this.mask.height);
    this.source = new ImageCanvasSource({
      canvasFunction: (extent, _res, _ratio, size) => this.render(extent, size),
      ratio: 1,
    });
    this.layer = new ImageLayer({ source: this.source, zIndex: 20 });
    this.interaction = new PointerInteraction({
      handleDownEvent: (e) => this.down(e),
      handleDragEvent: (e) => this.drag(e),
      handleUpEvent: () => this.up(),
    });
    this.interaction.setActive(false);
    map.addLayer(this.layer);
    map.addInteraction(this.interaction);
    map.getViewport()?.addEventListener('contextmenu', this.blockMenu);
  }

  private blockMenu = (e: Event) => {
    if (this.interaction.getActive()) e.preventDefault();
  };

  setActive(on: boolean): void {
    this.interaction.setActive(on);
  }

  setMode(mode: 'brush' | 'superpixel'): void {
    this.mode = mode;
    this.source.changed();
    this.onChange();
  }

  /** Compute superpixels for the view with the tool's parameters, and show their outlines. */
  async calculateSegments(): Promise<number> {
    this.onChange();
    try {
      const seg = await this.superpixels.compute();
      return seg.count;
    } finally {
      this.source.changed();
      this.onChange();
    }
  }

  /** Load the folder's classes and this user's mask, if any. */
  async load(): Promise<void> {
    try {
      const stored = await labels.classes(this.item.folderId);
      if (stored.length) {
        this.classes = stored.filter((c) => c.value > 0 && c.value < 256);
        this.classesStored = true;
      }
    } catch (err) {
      if (!isMissingRoute(err)) throw err;
    }
    this.current = this.classes[0]?.value ?? 1;
    const me = getCurrentUser();
    if (!me) return;
    const mine = (await labels.masks(this.item._id)).find((m) => m.userId === me._id);
    if (!mine) return;
    this.status = mine.status;
    const bitmap = await createImageBitmap(new Blob([await labels.mask(this.item._id, me._id)], { type: 'image/png' }), {
      premultiplyAlpha: 'none', colorSpaceConversion: 'none',
    });
    const canvas = document.createElement('canvas');
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(bitmap, 0, 0);
    const loaded = decodeGray(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data, bitmap.width, bitmap.height, new Set(this.classes.map((c) => c.value)));
    this.mask = loaded.width === this.mask.width && loaded.height === this.mask.height ? loaded : resizeMask(loaded, this.mask.width, this.mask.height);
    this.repaint({ x0: 0, y0: 0, x1: this.mask.width, y1: this.mask.height });
    this.onChange();
  }

  private palette(): Array<[number, number, number, number]> {
    const p: Array<[number, number, number, number]> = new Array(256).fill([0, 0, 0, 0]);
    for (const c of this.classes) p[c.value] = parseColor(c.color);
    return p;
  }

  /** Recolour part of the display after the mask changed. */
  repaint(r: Rect): void {
    if (isEmptyRect(r)) return;
    colorize(this.mask, this.displayData.data, this.palette(), r, 0.55);
    this.display.getContext('2d')!.putImageData(this.displayData, 0, 0, r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0);
    this.source.changed();
  }

  private render(extent: number[], size: number[]): HTMLCanvasElement {
    const canvas = document.createElement('canvas');
    canvas.width = size[0];
    canvas.height = size[1];
    const ctx = canvas.getContext('2d')!;
    ctx.imageSmoothingEnabled = false;
    // Map x = mask x * scale, map y = -(mask y * scale).
    const k = size[0] / (extent[2] - extent[0]); // canvas pixels per map unit
    ctx.setTransform(k * this.scale, 0, 0, k * this.scale, -extent[0] * k, extent[3] * k);
    ctx.drawImage(this.display, 0, 0);
    if (this.mode === 'superpixel') this.superpixels.draw(ctx, extent, k);
    return canvas;
  }

  private maskPoint(e: PointerMapEvent): number[] {
    return [e.coordinate[0] / this.scale, -e.coordinate[1] / this.scale];
  }

  private maskRadius(): number {
    const res = this.map.getView().getResolution() ?? 1;
    return Math.max(0.5, (this.radius * res) / this.scale);
  }

  private down(e: PointerMapEvent): boolean {
    const button = (e.originalEvent as PointerEvent).button;
    if (button !== 0 && button !== 2) return false;
    if (this.mode === 'superpixel' && !this.superpixels.segments) return false;
    const p = this.maskPoint(e);
    this.stroke = { value: button === 2 ? 0 : this.current, last: p, rect: { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity }, before: this.mask.data.slice(), segment: -1 };
    this.paintTo(p, e.coordinate);
    return true;
  }

  private drag(e: PointerMapEvent): void {
    if (this.stroke) this.paintTo(this.maskPoint(e), e.coordinate);
  }

  /** Superpixel mode: paint the segment under the pointer (each segment once per stroke). */
  private paintSegmentAt(coordinate: number[]): void {
    const s = this.stroke!;
    const seg = this.superpixels.segments;
    if (!seg) return;
    const id = segmentAt(seg, coordinate[0], -coordinate[1]);
    if (id < 0 || id === s.segment) return;
    s.segment = id;
    const r = paintSegment(this.mask, this.scale, seg, id, s.value);
    if (isEmptyRect(r)) return;
    s.rect = unionRect(s.rect, r);
    this.repaint(r);
  }

  private paintTo(p: number[], coordinate: number[]): void {
    if (this.mode === 'superpixel') {
      this.paintSegmentAt(coordinate);
      return;
    }
    const s = this.stroke!;
    const r = strokeLine(this.mask, s.last[0], s.last[1], p[0], p[1], this.maskRadius(), s.value);
    s.last = p;
    if (isEmptyRect(r)) return;
    s.rect = unionRect(s.rect, r);
    this.repaint(r);
  }

  private up(): boolean {
    const s = this.stroke;
    this.stroke = null;
    if (!s || isEmptyRect(s.rect)) return false;
    // Undo keeps only the touched rectangle, before and after.
    const rect = s.rect;
    const before = extractPatch({ ...this.mask, data: s.before }, rect);
    const after = extractPatch(this.mask, rect);
    const set = (patch: Uint8Array) => {
      restorePatch(this.mask, rect, patch);
      this.repaint(rect);
      this.markDirty();
    };
    const what = this.mode === 'superpixel' ? ' superpixels' : '';
    this.undo.push({ label: s.value ? `Paint${what}` : `Erase${what}`, apply: () => set(after), revert: () => set(before) });
    this.markDirty();
    return false;
  }

  private markDirty(): void {
    this.dirty = true;
    this.onChange();
  }

  clear(): void {
    const rect = { x0: 0, y0: 0, x1: this.mask.width, y1: this.mask.height };
    const before = this.mask.data.slice();
    const set = (fill: (d: Uint8Array) => void) => {
      fill(this.mask.data);
      this.repaint(rect);
      this.markDirty();
    };
    this.undo.execute({ label: 'Clear labels', apply: () => set((d) => d.fill(0)), revert: () => set((d) => d.set(before)) });
  }

  /** Add a class (stored on the folder when the user may). */
  async addClass(name: string): Promise<void> {
    const value = Math.max(0, ...this.classes.map((c) => c.value)) + 1;
    if (value > 255) throw new Error('A mask holds at most 255 classes');
    this.classes = [...this.classes, { value, name, color: EXTRA_COLORS[(value - 1) % EXTRA_COLORS.length] }];
    this.current = value;
    await this.storeClasses();
  }

  async setClassColor(value: number, color: string): Promise<void> {
    this.classes = this.classes.map((c) => (c.value === value ? { ...c, color } : c));
    this.repaint({ x0: 0, y0: 0, x1: this.mask.width, y1: this.mask.height });
    await this.storeClasses();
  }

  private async storeClasses(): Promise<void> {
    this.onChange();
    if (!this.canEditClasses) return;
    this.classes = await labels.setClasses(this.item.folderId, this.classes);
    this.classesStored = true;
    this.onChange();
  }

  /** Save this user's mask; `done` marks the image finished. */
  async save(status: 'checkpoint' | 'done'): Promise<void> {
    // Classes first, so the stored mask's values always have names.
    if (!this.classesStored && this.canEditClasses) await this.storeClasses();
    const png = await encodeGrayPng(this.mask.data, this.mask.width, this.mask.height);
    const entry = await labels.save(this.item._id, png, status);
    this.status = entry.status;
    this.dirty = false;
    this.onChange();
  }

  /** Share of labelled pixels per class value. */
  fractions(): globalThis.Map<number, number> {
    const counts = histogram(this.mask);
    const total = this.mask.data.length || 1;
    return new globalThis.Map(this.classes.map((c) => [c.value, counts[c.value] / total]));
  }

  destroy(): void {
    this.superpixels.destroy();
    this.map.getViewport()?.removeEventListener('contextmenu', this.blockMenu);
    this.map.removeInteraction(this.interaction);
    this.map.removeLayer(this.layer);
  }
}
