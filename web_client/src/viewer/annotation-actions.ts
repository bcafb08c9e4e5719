// What the annotation list's buttons do: show/hide, new, rename, delete, reload.
import { defaultName, headerPatch } from '../lib/viewer-logic';
import { annotations as annApi } from '../api';
import { confirmDialog, formDialog } from '../ui/modal';
import { showError } from '../ui/notify';
import type { AnnotationLayer } from './annotation-layer';
import type { Editor } from './editor';
import type { AnnotationListHooks } from './sidebar';

export interface AnnotationActionsContext {
  layers: AnnotationLayer[];
  editor: Editor;
  canCreate: boolean;
  activate(layer: AnnotationLayer | null): void;
  createAnnotation(name: string): Promise<AnnotationLayer>;
  /** Redraw the list. */
  render(): void;
  /** Put the visible annotations and the one being edited in the URL. */
  syncUrl(): void;
}

export function annotationActions(c: AnnotationActionsContext): AnnotationListHooks {
  const { layers, editor } = c;
  return {
    layers: () => layers,
    active: () => editor.active,
    canCreate: () => c.canCreate,
    setVisible: (layer, on) => {
      layer.setVisible(on);
      if (!on && editor.active === layer) c.activate(null);
      c.render();
      c.syncUrl();
    },
    activate: c.activate,
    create: async () => {
      await formDialog('New annotation', [{ name: 'name', label: 'Name', value: defaultName(), required: true }], 'Create', async (v) => {
        c.activate(await c.createAnnotation(v.name.trim()));
      });
    },
    rename: async (layer) => {
      await formDialog('Rename annotation', [
        { name: 'name', label: 'Name', value: layer.doc.annotation.name, required: true },
        { name: 'description', label: 'Description', type: 'textarea', value: layer.doc.annotation.description ?? '' },
      ], 'Save', async (v) => {
        // A PATCH of the header leaves the elements alone (a PUT would need them all).
        const name = v.name.trim();
        layer.noteSaved(await annApi.patch(layer.id, headerPatch(name, v.description, layer.doc.annotation.description !== undefined)));
        layer.doc = { ...layer.doc, annotation: { ...layer.doc.annotation, name, description: v.description, elements: undefined } };
        c.render();
      });
    },
    remove: async (layer) => {
      if (!(await confirmDialog('Delete annotation', `Delete "${layer.doc.annotation.name}"? It can be restored from its history.`))) return;
      try {
        await layer.flush();
        await annApi.remove(layer.id);
        if (editor.active === layer) c.activate(null);
        layer.dispose();
        layers.splice(layers.indexOf(layer), 1);
        c.render();
        c.syncUrl();
      } catch (err) {
        showError(err, 'Delete failed');
      }
    },
    reload: async (layer) => {
      if (editor.active === layer) editor.clearSelection();
      editor.undo.clear();
      await layer.reload();
      c.render();
    },
  };
}
