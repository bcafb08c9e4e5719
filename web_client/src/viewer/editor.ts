// The annotation editor: drawing tools, selection, moving, vertex editing,
// deleting, styles and labels, all undoable and saved as they happen.
import type Feature from 'ol/Feature';
import type Map from 'ol/Map';
import type { MapBrowserEvent } from 'ol';
import VectorLayer from 'ol/layer/Vector';
import VectorSource from 'ol/source/Vector';
import Draw, { createBox, type GeometryFunction } from 'ol/interaction/Draw';
import Modify from 'ol/interaction/Modify';
import Translate from 'ol/interaction/Translate';
import Polygon from 'ol/geom/Polygon';
import type Geometry from 'ol/geom/Geometry';
import { Circle as CircleStyle, Fill, Stroke, Style } from 'ol/style';
import MultiPoint from 'ol/geom/MultiPoint';
import { ellipsePoints, isShape, newElementId, translateElement } from '../lib/geometry';
import { UndoStack, group, type Command } from '../lib/undo';
import type { AnnotationElement } from '../types';
import type { AnnotationLayer } from './annotation-layer';
import { DEFAULT_STYLE, drawnElement, elementFeature, elementName, geometryToElement, type ToolName } from './features';

export type Tool = 'select' | ToolName | 'brush';

export interface ElementStyle {
  group: string;
  lineColor: string;
  fillColor: string;
  lineWidth: number;
  label: string;
}

const ACCENT = '#ffb020';

function editStyle(feature: Feature | import('ol/render/Feature').default): Style[] {
  const geom = feature.getGeometry() as Geometry;
  const styles = [
    new Style({
      stroke: new Stroke({ color: ACCENT, width: 2.5 }),
      fill: new Fill({ color: 'rgba(255, 176, 32, 0.12)' }),
      image: new CircleStyle({ radius: 6, fill: new Fill({ color: ACCENT }), stroke: new Stroke({ color: '#fff', width: 1.5 }) }),
    }),
  ];
  if (geom instanceof Polygon || geom?.getType() === 'LineString') {
    const coords = geom instanceof Polygon ? geom.getCoordinates().flat() : (geom as import('ol/geom/LineString').default).getCoordinates();
    // Vertices show where a drag edits the shape.
    styles.push(new Style({
      geometry: new MultiPoint(coords.length > 400 ? [] : coords),
      image: new CircleStyle({ radius: 3.5, fill: new Fill({ color: '#fff' }), stroke: new Stroke({ color: ACCENT, width: 1.5 }) }),
    }));
  }
  return styles;
}

/** An ellipse inscribed in the box dragged from the first to the last point. */
const ellipseGeometry: GeometryFunction = (coordinates, geometry) => {
  const [a, b] = coordinates as number[][];
  const cx = (a[0] + b[0]) / 2;
  const cy = (a[1] + b[1]) / 2;
  const ring = ellipsePoints(cx, cy, Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]), 0, 64).map((p) => [p[0], p[1]]);
  ring.push(ring[0]);
  const geom = (geometry as Polygon) ?? new Polygon([ring]);
  geom.setCoordinates([ring]);
  return geom;
};

export class Editor {
  readonly undo = new UndoStack(300);
  private tool: Tool = 'select';
  private draw: Draw | null = null;
  private readonly overlaySource = new VectorSource();
  private readonly overlay: VectorLayer;
  private readonly modify: Modify;
  private readonly translate: Translate;
  private selected = new globalThis.Map<string, AnnotationElement>();
  private translateStart: number[] | null = null;
  private modifyBefore = new globalThis.Map<string, AnnotationElement>();
  private listeners = new Set<() => void>();
  style: ElementStyle = { group: '', lineColor: DEFAULT_STYLE.lineColor, fillColor: DEFAULT_STYLE.fillColor, lineWidth: DEFAULT_STYLE.lineWidth, label: '' };
  /** Set by the viewer: the annotation tools act on (created on first draw when null). */
  getTarget: () => Promise<AnnotationLayer | null> = async () => null;
  active: AnnotationLayer | null = null;
  enabled = false;
  onToolChange: (tool: Tool) => void = () => undefined;

  constructor(private readonly map: Map) {
    this.overlay = new VectorLayer({ source: this.overlaySource, style: editStyle, zIndex: 50, updateWhileInteracting: true, updateWhileAnimating: true });
    map.addLayer(this.overlay);
    this.modify = new Modify({ source: this.overlaySource, pixelTolerance: 8 });
    this.translate = new Translate({ layers: [this.overlay], hitTolerance: 4 });
    this.modify.on('modifystart', (e) => {
      this.modifyBefore.clear();
      e.features.forEach((f) => this.modifyBefore.set(String(f.getId()), this.selected.get(String(f.getId()))!));
    });
    this.modify.on('modifyend', (e) => {
      const cmds: Command[] = [];
      e.features.forEach((f) => {
        const id = String(f.getId());
        const before = this.modifyBefore.get(id);
        if (!before) return;
        const after = geometryToElement(before, f.getGeometry() as Geometry);
        cmds.push(this.replaceCommand(before, after));
      });
      if (cmds.length) this.undo.push(group(`Edit ${cmds.length === 1 ? 'vertices' : `${cmds.length} elements`}`, cmds));
      // The geometry already shows the change; record it as done.
      cmds.forEach((c) => c.apply());
    });
    this.translate.on('translatestart', (e) => (this.translateStart = e.coordinate));
    this.translate.on('translateend', (e) => {
      if (!this.translateStart) return;
      const dx = e.coordinate[0] - this.translateStart[0];
      const dy = -(e.coordinate[1] - this.translateStart[1]);
      this.translateStart = null;
      if (!dx && !dy) return;
      const cmds = [...this.selected.values()].map((el) => this.replaceCommand(el, translateElement(el, dx, dy)));
      cmds.forEach((c) => c.apply());
      this.undo.push(group(`Move ${cmds.length === 1 ? 'element' : `${cmds.length} elements`}`, cmds));
    });
    map.addInteraction(this.translate);
    map.addInteraction(this.modify);
    map.on('singleclick', (e) => this.onClick(e));
    this.setEnabled(false);
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    this.listeners.forEach((fn) => fn());
  }

  get currentTool(): Tool {
    return this.tool;
  }

  get selection(): AnnotationElement[] {
    return [...this.selected.values()];
  }

  /** Switch editing on or off (read-only annotations, view-only users). */
  setEnabled(on: boolean): void {
    this.enabled = on;
    this.modify.setActive(on);
    this.translate.setActive(on);
    if (!on) {
      this.setTool('select');
    }
    this.emit();
  }

  /** Make `layer` the edited annotation; clears selection and history. */
  setActive(layer: AnnotationLayer | null): void {
    if (layer === this.active) return;
    this.clearSelection();
    this.active = layer;
    this.undo.clear();
    this.emit();
  }

  setTool(tool: Tool): void {
    if (this.draw) {
      this.map.removeInteraction(this.draw);
      this.draw = null;
    }
    this.tool = tool;
    if (tool !== 'select' && tool !== 'brush' && this.enabled) {
      this.clearSelection();
      this.draw = this.makeDraw(tool);
      this.map.addInteraction(this.draw);
    }
    this.map.getTargetElement()?.setAttribute('data-tool', tool);
    this.onToolChange(tool);
    this.emit();
  }

  private makeDraw(tool: ToolName): Draw {
    const source = new VectorSource();
    const common = { source, style: editStyle, stopClick: true };
    let draw: Draw;
    switch (tool) {
      case 'point':
        draw = new Draw({ ...common, type: 'Point' });
        break;
      case 'rectangle':
        draw = new Draw({ ...common, type: 'Circle', geometryFunction: createBox(), freehand: true });
        break;
      case 'ellipse':
        draw = new Draw({ ...common, type: 'Circle', geometryFunction: ellipseGeometry, freehand: true });
        break;
      case 'circle':
        draw = new Draw({ ...common, type: 'Circle', freehand: true });
        break;
      case 'polygon':
        draw = new Draw({ ...common, type: 'Polygon' });
        break;
      case 'freehand':
        draw = new Draw({ ...common, type: 'LineString', freehand: true });
        break;
      case 'arrow':
        draw = new Draw({ ...common, type: 'LineString', maxPoints: 2 });
        break;
    }
    draw.on('drawend', (e) => {
      const geom = e.feature.getGeometry() as Geometry;
      void this.addDrawn(tool, geom);
      source.clear();
    });
    return draw;
  }

  /** Finish the polygon or line being drawn (Enter), or drop it (Escape). */
  finishDrawing(cancel = false): boolean {
    if (!this.draw) return false;
    if (cancel) this.draw.abortDrawing();
    else this.draw.finishDrawing();
    return true;
  }

  private async addDrawn(tool: ToolName, geom: Geometry): Promise<void> {
    const ext = geom.getExtent();
    // A click without a drag makes an empty shape; ignore it.
    if (tool !== 'point' && ext[2] - ext[0] < 0.5 && ext[3] - ext[1] < 0.5) return;
    const target = await this.getTarget();
    if (!target) return;
    const s = this.style;
    const el = drawnElement(tool, geom, {
      id: newElementId(),
      lineColor: s.lineColor,
      lineWidth: s.lineWidth,
      ...(tool === 'freehand' || tool === 'arrow' ? {} : { fillColor: s.fillColor }),
      ...(s.group ? { group: s.group } : {}),
      ...(s.label ? { label: { value: s.label } } : {}),
    });
    this.undo.execute(this.addCommand(el));
    this.emit();
  }

  // --- Commands ----------------------------------------------------------

  private addCommand(el: AnnotationElement): Command {
    const layer = this.active!;
    return {
      label: `Add ${elementName(el)}`,
      apply: () => {
        layer.putElement(el);
        layer.queue('add', el);
      },
      revert: () => {
        this.deselect(el.id!);
        layer.dropElement(el.id!);
        layer.queue('remove', el);
      },
    };
  }

  private removeCommand(el: AnnotationElement): Command {
    const add = this.addCommand(el);
    return { label: `Delete ${elementName(el)}`, apply: add.revert, revert: add.apply };
  }

  private replaceCommand(before: AnnotationElement, after: AnnotationElement): Command {
    const layer = this.active!;
    const set = (el: AnnotationElement) => {
      const wasSelected = this.selected.has(el.id!);
      layer.putElement(el);
      layer.queue('replace', el);
      if (wasSelected) {
        this.selected.set(el.id!, el);
        layer.setHidden(el.id!, true);
        this.refreshOverlay(el);
      }
      this.emit();
    };
    return { label: `Change ${elementName(after)}`, apply: () => set(after), revert: () => set(before) };
  }

  // --- Selection ---------------------------------------------------------

  private onClick(e: MapBrowserEvent<PointerEvent | KeyboardEvent | WheelEvent>): void {
    if (this.tool !== 'select' || !this.active) return;
    const layer = this.active;
    let hit: string | null = null;
    this.map.forEachFeatureAtPixel(e.pixel, (f) => {
      hit = String(f.getId());
      return true;
    }, { layerFilter: (l) => l === layer.layer || l === this.overlay, hitTolerance: 3 });
    const additive = (e.originalEvent as PointerEvent).shiftKey;
    if (!hit) {
      if (!additive) this.clearSelection();
      return;
    }
    if (additive && this.selected.has(hit)) this.deselect(hit);
    else {
      if (!additive) this.clearSelection();
      this.select(hit);
    }
  }

  select(id: string): void {
    const layer = this.active;
    const el = layer?.elements.get(id);
    if (!layer || !el || this.selected.has(id)) return;
    this.selected.set(id, el);
    layer.setHidden(id, true);
    this.refreshOverlay(el);
    this.emit();
  }

  selectAllInView(): void {
    if (!this.active) return;
    const ext = this.map.getView().calculateExtent(this.map.getSize());
    for (const f of this.active.featuresIn(ext)) this.select(String(f.getId()));
  }

  private refreshOverlay(el: AnnotationElement): void {
    const old = this.overlaySource.getFeatureById(el.id!);
    if (old) this.overlaySource.removeFeature(old);
    const f = elementFeature(el, true);
    if (f) this.overlaySource.addFeature(f);
  }

  deselect(id: string): void {
    if (!this.selected.delete(id)) return;
    const f = this.overlaySource.getFeatureById(id);
    if (f) this.overlaySource.removeFeature(f);
    this.active?.setHidden(id, false);
    this.emit();
  }

  /**
   * A colleague changed or deleted elements of the edited annotation: selected
   * ones show their new shape, deleted ones leave the selection. The undo
   * stack and a shape being drawn stay as they are.
   */
  followRemote(layer: AnnotationLayer, reselect: AnnotationElement[], deselect: string[]): void {
    if (layer !== this.active) return;
    for (const id of deselect) this.deselect(id);
    for (const el of reselect) {
      if (!this.selected.has(el.id!)) continue;
      this.selected.set(el.id!, el);
      layer.setHidden(el.id!, true);
      this.refreshOverlay(el);
    }
    this.emit();
  }

  /** Ids of the selected elements. */
  selectedIds(): Set<string> {
    return new Set(this.selected.keys());
  }

  clearSelection(): void {
    for (const id of [...this.selected.keys()]) this.deselect(id);
  }

  deleteSelection(): void {
    const els = this.selection;
    if (!els.length || !this.enabled) return;
    this.clearSelection();
    this.undo.execute(group(els.length === 1 ? `Delete ${elementName(els[0])}` : `Delete ${els.length} elements`, els.map((el) => this.removeCommand(el))));
    this.emit();
  }

  /** Apply style fields to the selection (one undo step), or to new elements when nothing is selected. */
  applyStyle(fields: Partial<ElementStyle>): void {
    this.style = { ...this.style, ...fields };
    const els = this.selection;
    if (!els.length || !this.enabled) return;
    const cmds = els.map((el) => {
      const next: AnnotationElement = { ...el };
      if (isShape(next)) {
        if (fields.lineColor !== undefined) next.lineColor = fields.lineColor;
        if (fields.lineWidth !== undefined) next.lineWidth = fields.lineWidth;
        if (fields.fillColor !== undefined && next.type !== 'arrow' && !(next.type === 'polyline' && !next.closed)) next.fillColor = fields.fillColor;
      }
      if (fields.group !== undefined) {
        if (fields.group) next.group = fields.group;
        else delete next.group;
      }
      if (fields.label !== undefined) {
        if (fields.label) next.label = { ...(el.label ?? {}), value: fields.label };
        else delete next.label;
      }
      return this.replaceCommand(el, next);
    });
    this.undo.execute(group('Change style', cmds));
  }

  doUndo(): void {
    if (!this.enabled) return;
    this.undo.undo();
    this.emit();
  }

  doRedo(): void {
    if (!this.enabled) return;
    this.undo.redo();
    this.emit();
  }

  destroy(): void {
    this.clearSelection();
    if (this.draw) this.map.removeInteraction(this.draw);
    this.map.removeInteraction(this.modify);
    this.map.removeInteraction(this.translate);
    this.map.removeLayer(this.overlay);
  }
}
