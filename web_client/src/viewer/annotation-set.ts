// The viewer's annotations as state: their layers, which one is being edited,
// making a new one, and the save indicator of the edited one.
import { defaultName, saveText } from '../lib/viewer-logic';
import type Map from 'ol/Map';
import { annotations as annApi } from '../api';
import type { Annotation, TileMetadata } from '../types';
import { h } from '../ui/dom';
import { showError } from '../ui/notify';
import { AnnotationLayer } from './annotation-layer';
import { conflictDialog } from './conflict-dialog';
import type { Editor } from './editor';

/** Who follows changes: the list, the tool column, the URL. */
export interface AnnotationSetListeners {
  list(): void;
  tools(): void;
  url(): void;
}

export class AnnotationSet {
  readonly layers: AnnotationLayer[] = [];
  readonly saveStatus = h('span.save-status');
  /** Resolves once every annotation has loaded (or failed to, with a message). */
  readonly loaded: Promise<unknown>;
  private creating: Promise<AnnotationLayer> | null = null;
  private on: AnnotationSetListeners = { list: () => undefined, tools: () => undefined, url: () => undefined };

  constructor(private readonly itemId: string, private readonly map: Map, private readonly meta: TileMetadata,
    private readonly editor: Editor, private readonly canCreate: boolean, docs: Annotation[], visibleIds?: string[]) {
    for (const doc of docs) {
      const layer = this.attach(new AnnotationLayer(doc, map, meta));
      layer.layer.setVisible(visibleIds ? visibleIds.includes(doc._id) : doc.annotation.display?.visible !== false);
    }
    this.loaded = Promise.all(this.layers.map((l) => l.load().catch((err) => showError(err, `Loading "${l.doc.annotation.name}"`))));
    editor.getTarget = () => this.target();
  }

  listen(on: AnnotationSetListeners): void {
    this.on = on;
  }

  renderSave(): void {
    const a = this.editor.active;
    if (a) this.saveStatus.dataset.state = a.saveState;
    this.saveStatus.textContent = saveText(a?.saveState, a?.saveError);
  }

  private attach(layer: AnnotationLayer): AnnotationLayer {
    layer.onSaveState = () => {
      this.renderSave();
      this.on.list();
    };
    layer.onRegionLoaded = () => this.renderSave();
    layer.onConflict = (answer) => conflictDialog(layer.doc.annotation.name, answer);
    this.layers.push(layer);
    return layer;
  }

  /** Creations under way: their stream events must not add the annotation twice. */
  private readonly creations = new Set<Promise<unknown>>();

  /** Resolves once every creation started here has answered. */
  async createsSettled(): Promise<void> {
    await Promise.allSettled([...this.creations]);
  }

  /** Make a new, empty annotation on the item. */
  async create(name = defaultName()): Promise<AnnotationLayer> {
    const pending = annApi.create(this.itemId, { name, elements: [] });
    this.creations.add(pending);
    const doc = await pending.finally(() => this.creations.delete(pending));
    const layer = this.attach(new AnnotationLayer({ ...doc, _accessLevel: doc._accessLevel ?? 2 }, this.map, this.meta));
    layer.startEmpty();
    this.on.list();
    this.on.url();
    return layer;
  }

  /** Show an annotation a colleague made (from the stream). */
  async adopt(doc: Annotation): Promise<AnnotationLayer> {
    const layer = this.attach(new AnnotationLayer(doc, this.map, this.meta));
    layer.layer.setVisible(doc.annotation.display?.visible !== false);
    await layer.load();
    this.on.list();
    return layer;
  }

  /** Take an annotation a colleague deleted off the map. */
  forget(layer: AnnotationLayer): void {
    if (this.editor.active === layer) this.activate(null);
    layer.dispose();
    this.layers.splice(this.layers.indexOf(layer), 1);
    this.on.list();
    this.on.url();
  }

  /** Edit this annotation (null: none; drawing then starts a new one if allowed). */
  activate(layer: AnnotationLayer | null): void {
    if (layer && !layer.visible) layer.setVisible(true);
    this.editor.setActive(layer);
    this.editor.setEnabled(layer ? layer.canEdit : this.canCreate);
    this.on.list();
    this.on.tools();
    this.renderSave();
    this.on.url();
  }

  /**
   * Where a shape drawn now goes: the annotation being edited, else the first
   * editable visible one, else a new one. Shapes drawn while it is being
   * created wait for the same one.
   */
  private async target(): Promise<AnnotationLayer | null> {
    if (!this.canCreate) return null;
    let layer = this.editor.active ?? this.layers.find((l) => l.canEdit && l.visible);
    if (!layer) {
      this.creating ??= this.create().finally(() => (this.creating = null));
      layer = await this.creating;
    }
    if (this.editor.active !== layer) this.activate(layer);
    return layer;
  }

  /** Once loaded: edit the annotation the URL names, else let drawing start a new one (if allowed). */
  async startEditing(editId?: string): Promise<void> {
    await this.loaded;
    this.on.list();
    const toEdit = editId ? this.layers.find((l) => l.id === editId) : undefined;
    if (toEdit) this.activate(toEdit);
    else this.editor.setEnabled(this.canCreate);
  }

  /** After the view moved: annotations read by region load what came into view. */
  refreshRegions(): void {
    for (const l of this.layers) void l.refreshRegion().catch((err) => showError(err, 'Loading annotations'));
  }

  /** Show all when none is shown, else hide all (the H key). */
  toggleAll(): void {
    const anyVisible = this.layers.some((l) => l.visible);
    this.layers.forEach((l) => l.setVisible(!anyVisible));
    this.on.list();
    this.on.url();
  }
}
