// The slide viewer page: tiles, overview, scale, frames, annotations and
// their editor, pixel labelling, keyboard shortcuts and a shareable URL.
import { annotations as annApi, folders, getCurrentUser, items, tiles } from '../api';
import { folderPermissions } from '../lib/access';
import { EDITOR_BINDINGS, Keymap, describeCombo } from '../lib/keymap';
import { parseViewUrl, viewUrl, type ViewState } from '../lib/url-state';
import type { View } from '../router';
import type { Annotation, Folder } from '../types';
import { debounce, h, icon, replace } from '../ui/dom';
import { confirmDialog, formDialog, openDialog } from '../ui/modal';
import { showError, toast } from '../ui/notify';
import { AnnotationLayer } from './annotation-layer';
import { Editor, type Tool } from './editor';
import { associatedImages, frameSelector, magnificationButtons, statusWidgets } from './info';
import { PixelLabeller } from './pixels';
import { annotationList, pixelPanel, stylePanel } from './sidebar';
import { createSlide } from './slide';
import { rendererKind } from './renderers';
import { readableTinyCanvases } from './canvas-reads';

const TOOLS: Array<{ tool: Tool; icon: Parameters<typeof icon>[0]; label: string }> = [
  { tool: 'select', icon: 'pointer', label: 'Select' },
  { tool: 'point', icon: 'point', label: 'Point' },
  { tool: 'rectangle', icon: 'rectangle', label: 'Rectangle' },
  { tool: 'ellipse', icon: 'ellipse', label: 'Ellipse' },
  { tool: 'circle', icon: 'circle', label: 'Circle' },
  { tool: 'polygon', icon: 'polygon', label: 'Polygon' },
  { tool: 'freehand', icon: 'freehand', label: 'Freehand line' },
  { tool: 'arrow', icon: 'arrow', label: 'Arrow' },
  { tool: 'brush', icon: 'brush', label: 'Pixel brush' },
];

export interface ViewerHooks {
  navigate(path: string): void;
  setQuietUrl(path: string): void;
  setFullBleed(on: boolean): void;
}

function defaultName(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `Annotation ${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const OVERVIEW_KEY = 'tilery.overview';

/**
 * The overview's dock, bottom left above the scale and coordinates, out of the
 * way of the part of the slide being looked at. A small toggle folds it away;
 * the choice is remembered.
 */
function overviewPanel(overviewEl: HTMLElement): HTMLElement {
  let collapsed = false;
  try {
    collapsed = localStorage.getItem(OVERVIEW_KEY) === 'collapsed';
  } catch {
    // Storage blocked: start open.
  }
  const label = h('span', null, 'Overview');
  const chevron = h('span.overview-chevron');
  const toggle = h('button.overview-toggle', { type: 'button' }, icon('image', 13), label, chevron);
  const dock = h('div.overview-dock', null, overviewEl, toggle);
  const render = () => {
    dock.classList.toggle('collapsed', collapsed);
    toggle.title = collapsed ? 'Show the overview' : 'Hide the overview';
    toggle.setAttribute('aria-expanded', String(!collapsed));
    chevron.replaceChildren(icon(collapsed ? 'chevronUp' : 'chevronDown', 13));
  };
  toggle.onclick = () => {
    collapsed = !collapsed;
    try {
      localStorage.setItem(OVERVIEW_KEY, collapsed ? 'collapsed' : 'open');
    } catch {
      // Not remembered; still toggled.
    }
    render();
  };
  render();
  return dock;
}

export async function viewerView(path: string, search: string, hooks: ViewerHooks): Promise<View> {
  readableTinyCanvases();
  const state = parseViewUrl(path, search) as ViewState;
  const itemId = state.itemId;
  const item = await items.get(itemId);
  if (!item.largeImage) throw new Error(`"${item.name}" is not a large image yet. Open its page to convert it.`);
  if (item.largeImage.expected) throw new Error(`"${item.name}" is still being converted. Its page shows the progress.`);
  const [meta, folder, annList] = await Promise.all([
    tiles.metadata(itemId),
    folders.get(item.folderId).catch(() => null as Folder | null),
    annApi.list(itemId).catch(() => [] as Annotation[]),
  ]);
  const me = getCurrentUser();
  const annotateFlag = me && folder && (folder._accessLevel ?? -1) < 1 ? await annApi.canCreateInFolder(folder._id).catch(() => false) : false;
  const perms = folderPermissions(folder?._accessLevel, Boolean(annotateFlag));
  const canCreate = Boolean(me) && perms.canAnnotate;

  hooks.setFullBleed(true);
  const mapEl = h('div.viewer-map', { tabIndex: 0, 'aria-label': `Slide ${item.name}` });
  const overviewEl = h('div.viewer-overview');
  const overviewDock = overviewPanel(overviewEl);
  let frame = state.frame ?? 0;
  const slide = createSlide(mapEl, overviewEl, itemId, meta, meta.frames && meta.frames.length > 1 ? frame : undefined);
  const { map, view } = slide;
  if (state.x !== undefined && state.y !== undefined) view.setCenter([state.x, -state.y]);
  if (state.res) view.setResolution(state.res);

  const editor = new Editor(map);
  const labeller = new PixelLabeller(map, meta, item, editor.undo, perms.canEdit);
  const keymap = new Keymap(EDITOR_BINDINGS);
  const layers: AnnotationLayer[] = [];
  let pixelUI: ReturnType<typeof pixelPanel> | null = null;

  // --- Annotations ------------------------------------------------------
  const saveStatus = h('span.save-status');
  const renderSave = () => {
    const a = editor.active;
    if (!a) {
      saveStatus.textContent = '';
      return;
    }
    saveStatus.dataset.state = a.saveState;
    saveStatus.textContent = a.saveState === 'error' ? `Save failed: ${a.saveError}` : a.saveState === 'saved' ? 'All changes saved' : 'Saving…';
  };
  const attach = (layer: AnnotationLayer) => {
    layer.onSaveState = () => {
      renderSave();
      list.render();
    };
    layer.onRegionLoaded = () => renderSave();
  };
  const visibleIds = state.annotations;
  for (const doc of annList) {
    const layer = new AnnotationLayer(doc, map, meta);
    attach(layer);
    const on = visibleIds ? visibleIds.includes(doc._id) : doc.annotation.display?.visible !== false;
    layer.layer.setVisible(on);
    layers.push(layer);
  }
  const loadAll = Promise.all(layers.map((l) => l.load().catch((err) => showError(err, `Loading "${l.doc.annotation.name}"`))));

  const createAnnotation = async (name = defaultName()): Promise<AnnotationLayer> => {
    const doc = await annApi.create(itemId, { name, elements: [] });
    const layer = new AnnotationLayer({ ...doc, _accessLevel: doc._accessLevel ?? 2 }, map, meta);
    attach(layer);
    layers.push(layer);
    layer.startEmpty();
    list.render();
    syncUrl();
    return layer;
  };

  const activate = (layer: AnnotationLayer | null) => {
    if (layer && !layer.visible) layer.setVisible(true);
    editor.setActive(layer);
    editor.setEnabled(layer ? layer.canEdit : canCreate);
    list.render();
    renderTools();
    renderSave();
    syncUrl();
  };
  // Drawing with nothing chosen: use the first editable annotation, else start
  // one. Shapes drawn while it is being created wait for the same one.
  let creating: Promise<AnnotationLayer> | null = null;
  editor.getTarget = async () => {
    if (!canCreate) return null;
    let layer = editor.active ?? layers.find((l) => l.canEdit && l.visible);
    if (!layer) {
      creating ??= createAnnotation().finally(() => (creating = null));
      layer = await creating;
    }
    if (editor.active !== layer) activate(layer);
    return layer;
  };

  const list = annotationList({
    layers: () => layers,
    active: () => editor.active,
    canCreate: () => canCreate,
    setVisible: (layer, on) => {
      layer.setVisible(on);
      if (!on && editor.active === layer) activate(null);
      list.render();
      syncUrl();
    },
    activate,
    create: async () => {
      await formDialog('New annotation', [{ name: 'name', label: 'Name', value: defaultName(), required: true }], 'Create', async (v) => {
        activate(await createAnnotation(v.name.trim()));
      });
    },
    rename: async (layer) => {
      await formDialog('Rename annotation', [
        { name: 'name', label: 'Name', value: layer.doc.annotation.name, required: true },
        { name: 'description', label: 'Description', type: 'textarea', value: layer.doc.annotation.description ?? '' },
      ], 'Save', async (v) => {
        // A PATCH of the header leaves the elements alone (a PUT would need them all).
        const name = v.name.trim();
        const had = layer.doc.annotation.description !== undefined;
        await annApi.patch(layer.id, [
          { op: 'replace', path: 'name', value: name },
          had ? { op: 'replace', path: 'description', value: v.description } : { op: 'add', path: 'description', value: v.description },
        ]);
        layer.doc = { ...layer.doc, annotation: { ...layer.doc.annotation, name, description: v.description, elements: undefined } };
        list.render();
      });
    },
    remove: async (layer) => {
      if (!(await confirmDialog('Delete annotation', `Delete "${layer.doc.annotation.name}"? It can be restored from its history.`))) return;
      try {
        await layer.flush();
        await annApi.remove(layer.id);
        if (editor.active === layer) activate(null);
        layer.dispose();
        layers.splice(layers.indexOf(layer), 1);
        list.render();
        syncUrl();
      } catch (err) {
        showError(err, 'Delete failed');
      }
    },
    reload: async (layer) => {
      if (editor.active === layer) editor.clearSelection();
      editor.undo.clear();
      await layer.reload();
      list.render();
    },
  });

  const groupsInUse = () => {
    const set = new Set<string>();
    for (const l of layers) for (const el of l.elements.values()) if (el.group) set.add(el.group);
    return [...set].sort();
  };
  const style = stylePanel(editor, groupsInUse);

  // --- Toolbar ----------------------------------------------------------
  const toolbar = h('div.toolbar', { role: 'toolbar', 'aria-label': 'Annotation tools' });
  const undoBtn = h('button.tool', { title: 'Undo (Ctrl+Z)', onclick: () => editor.doUndo() }, icon('undo', 18));
  const redoBtn = h('button.tool', { title: 'Redo (Ctrl+Shift+Z)', onclick: () => editor.doRedo() }, icon('redo', 18));
  const deleteBtn = h('button.tool', { title: 'Delete selection (Del)', onclick: () => editor.deleteSelection() }, icon('trash', 18));
  const roBadge = h('div.readonly-badge', { title: 'You can view these annotations but not change them' }, icon('lock', 14), 'View only');
  const renderTools = () => {
    const editable = editor.enabled;
    const tool = editor.currentTool;
    replace(toolbar,
      TOOLS.filter((t) => editable || t.tool === 'select').map((t) => {
        const combo = keymap.combosFor(`tool:${t.tool}`)[0];
        return h(`button.tool${tool === t.tool ? '.active' : ''}`, {
          title: `${t.label} (${describeCombo(combo)})`,
          'aria-pressed': String(tool === t.tool),
          dataset: { tool: t.tool },
          onclick: () => setTool(t.tool),
        }, icon(t.icon, 18));
      }),
      editable ? [h('div.tool-sep'), undoBtn, redoBtn, deleteBtn] : [h('div.tool-sep'), roBadge]);
    undoBtn.disabled = !editor.undo.canUndo();
    redoBtn.disabled = !editor.undo.canRedo();
    deleteBtn.disabled = !editor.selection.length;
    undoBtn.title = editor.undo.canUndo() ? `Undo ${editor.undo.peekUndo()} (Ctrl+Z)` : 'Nothing to undo';
    redoBtn.title = editor.undo.canRedo() ? `Redo ${editor.undo.peekRedo()} (Ctrl+Shift+Z)` : 'Nothing to redo';
  };

  const side = h('div.viewer-side');
  const renderSide = () => {
    const showStyle = editor.enabled && editor.currentTool !== 'brush';
    style.el.hidden = !showStyle;
    if (showStyle) style.render();
    if (pixelUI) pixelUI.el.hidden = editor.currentTool !== 'brush';
  };

  // "Done, next image": the next large image of the folder, as in the seed's labelling flow.
  const nextImage = folder ? async () => {
    const siblings = await items.all(folder._id);
    const i = siblings.findIndex((s) => s._id === itemId);
    const next = siblings.slice(i + 1).find((s) => s.largeImage && !s.largeImage.expected);
    if (!next) {
      toast('That was the last image of the folder', 'success');
      return;
    }
    hooks.navigate(`/view/${next._id}`);
  } : null;

  const setTool = (tool: Tool) => {
    if (!editor.enabled && tool !== 'select') return;
    if (tool === 'brush') {
      if (!pixelUI) {
        pixelUI = pixelPanel(labeller, canCreate, nextImage);
        side.insertBefore(pixelUI.el, style.el);
        labeller.load().catch((err) => showError(err, 'Loading the label mask'));
      }
      labeller.onChange = () => pixelUI?.render();
    }
    labeller.setActive(tool === 'brush');
    editor.setTool(tool);
  };
  editor.onChange(() => {
    renderTools();
    renderSide();
  });
  editor.undo.onChange(renderTools);

  // --- URL state --------------------------------------------------------
  const syncUrl = debounce(() => {
    const c = view.getCenter();
    const shown = layers.filter((l) => l.visible).map((l) => l.id);
    const all = layers.map((l) => l.id);
    hooks.setQuietUrl(viewUrl({
      itemId,
      x: c?.[0],
      y: c ? -c[1] : undefined,
      res: view.getResolution(),
      frame: frame || undefined,
      // Leave the list out when it matches what the annotations say by default.
      annotations: shown.length === all.length && layers.every((l) => l.doc.annotation.display?.visible !== false) ? undefined : shown,
      edit: editor.active?.id,
    }));
  }, 250);
  const onMoveEnd = debounce(() => {
    syncUrl();
    for (const l of layers) void l.refreshRegion().catch((err) => showError(err, 'Loading annotations'));
  }, 120);
  map.on('moveend', onMoveEnd);

  const copyLink = async () => {
    syncUrl.flush();
    const url = location.href;
    try {
      await navigator.clipboard.writeText(url);
      toast('Link to this view copied', 'success');
    } catch {
      const d = openDialog('Link to this view');
      const input = h('input.mono', { readOnly: true, value: url });
      d.body.append(input);
      input.select();
    }
  };

  // --- Keyboard ---------------------------------------------------------
  const shell = h('div.viewer');
  const fullscreenBtn = h('button.icon-button', { 'aria-pressed': 'false' });
  const toggleFullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void shell.requestFullscreen?.().catch((err) => showError(err, 'Full screen'));
  };
  const onFullscreen = () => {
    const on = document.fullscreenElement === shell;
    fullscreenBtn.title = on ? 'Leave full screen (Shift+F or Esc)' : 'Full screen (Shift+F)';
    fullscreenBtn.setAttribute('aria-pressed', String(on));
    replace(fullscreenBtn, icon(on ? 'fullscreenExit' : 'fullscreen'));
    map.updateSize();
  };
  fullscreenBtn.onclick = toggleFullscreen;
  onFullscreen();
  document.addEventListener('fullscreenchange', onFullscreen);
  const showHelp = () => {
    const d = openDialog('Keyboard shortcuts', { wide: true });
    // Two columns: one long column was taller than a 900 px window.
    const rows: Array<[string, string]> = [...keymap.list().map((b): [string, string] => [describeCombo(b.combo), b.description]),
      ['Enter', 'Finish the polygon or line'], ['1 – 9', 'Pick a pixel label category (brush tool)'], ['+ / −, arrows', 'Zoom and pan']];
    d.body.append(h('div.shortcuts', null, rows.map(([keys, what]) => h('div.shortcut', null, h('kbd', null, keys), h('span', null, what)))));
  };
  const onKey = (e: KeyboardEvent) => {
    if (document.querySelector('.backdrop')) return;
    if (e.key === 'Enter' && editor.finishDrawing()) {
      e.preventDefault();
      return;
    }
    if (editor.currentTool === 'brush' && /^[1-9]$/.test(e.key) && !e.ctrlKey && !e.metaKey) {
      const cls = labeller.classes[Number(e.key) - 1];
      if (cls) {
        labeller.current = cls.value;
        pixelUI?.render();
        e.preventDefault();
      }
      return;
    }
    const action = keymap.match(e);
    if (!action) return;
    e.preventDefault();
    if (action.startsWith('tool:')) setTool(action.slice(5) as Tool);
    else if (action === 'cancel') {
      if (!editor.finishDrawing(true)) editor.clearSelection();
    } else if (action === 'delete') editor.deleteSelection();
    else if (action === 'undo') editor.doUndo();
    else if (action === 'redo') editor.doRedo();
    else if (action === 'select-all') editor.selectAllInView();
    else if (action === 'label' && editor.selection.length) (style.el.querySelector('input[aria-label="Label"]') as HTMLInputElement)?.focus();
    else if (action === 'brush-smaller' || action === 'brush-larger') {
      labeller.radius = Math.max(2, Math.min(80, Math.round(labeller.radius * (action === 'brush-larger' ? 1.25 : 0.8))));
      pixelUI?.render();
    } else if (action === 'fullscreen') toggleFullscreen();
    else if (action === 'toggle-annotations') {
      const anyVisible = layers.some((l) => l.visible);
      layers.forEach((l) => l.setVisible(!anyVisible));
      list.render();
      syncUrl();
    } else if (action === 'help') showHelp();
  };
  document.addEventListener('keydown', onKey);

  // --- Tooltip for labels -------------------------------------------------
  const tip = h('div.map-tip', { hidden: true });
  let tipFrame = 0;
  map.on('pointermove', (e) => {
    if (e.dragging || tipFrame) return;
    tipFrame = requestAnimationFrame(() => {
      tipFrame = 0;
      let text = '';
      map.forEachFeatureAtPixel(e.pixel, (f) => {
        const el = f.get('element');
        if (el && (el.label?.value || el.group) && el.label?.visibility !== 'hidden') {
          text = [el.label?.value, el.group ? `(${el.group})` : ''].filter(Boolean).join(' ');
          return true;
        }
        return false;
      }, { hitTolerance: 2, layerFilter: (l) => layers.some((a) => a.layer === l) });
      tip.hidden = !text;
      if (text) {
        tip.textContent = text;
        tip.style.transform = `translate(${e.pixel[0] + 14}px, ${e.pixel[1] + 14}px)`;
      }
    });
  });

  // --- Layout -----------------------------------------------------------
  const backHref = folder ? `/folder/${folder._id}` : `/item/${itemId}`;
  const frames = meta.frames && meta.frames.length > 1 ? frameSelector(meta, frame, (f) => {
    frame = f;
    slide.setFrame(f);
    syncUrl();
  }) : null;
  const status = statusWidgets(map, meta);
  const assoc = await associatedImages(itemId);
  side.append(list.el, style.el);
  if (assoc) side.append(assoc);
  const topbar = h('div.viewer-top', null,
    h('a.button.small.viewer-back', { href: backHref, title: folder ? `Back to ${folder.name}` : 'Back to the item' },
      icon('chevronLeft', 14), h('span.viewer-back-label', null, folder?.name ?? 'Back')),
    h('div.viewer-title', null, h('strong', null, item.name),
      h('span.muted.small', null, `${meta.sizeX.toLocaleString()} × ${meta.sizeY.toLocaleString()} px${meta.magnification ? ` · ${meta.magnification}×` : ''}`)),
    frames,
    h('span.spacer'),
    magnificationButtons(map, meta),
    h('button.button.small', { title: 'Fit the whole slide', onclick: () => slide.fit(250) }, 'Fit'),
    h('button.icon-button', { title: 'Copy a link to this view', onclick: copyLink }, icon('link')),
    h('button.icon-button', { title: 'Keyboard shortcuts (?)', onclick: showHelp }, icon('keyboard')),
    fullscreenBtn);
  const statusbar = h('div.viewer-status', null, status.scale, status.mag, status.cursor, h('span.spacer'), saveStatus);
  shell.append(topbar,
    h('div.viewer-body', null,
      toolbar,
      h('div.viewer-stage', null, mapEl, overviewDock, tip, statusbar),
      side));

  renderTools();
  renderSide();
  // The map needs its element in the document to measure itself.
  requestAnimationFrame(() => {
    slide.attached(state.x === undefined || state.res === undefined);
    // The benchmark's "first full screen of tiles": every visible tile drawn.
    map.once('rendercomplete', () => {
      hook.firstFullRender = performance.now();
    });
  });
  const warn = (e: BeforeUnloadEvent) => {
    if (layers.some((l) => l.hasUnsaved()) || labeller.dirty) e.preventDefault();
  };
  window.addEventListener('beforeunload', warn);

  loadAll.then(() => {
    list.render();
    const toEdit = state.edit ? layers.find((l) => l.id === state.edit) : undefined;
    if (toEdit) activate(toEdit);
    else editor.setEnabled(canCreate);
    renderTools();
    renderSide();
  });

  // Test and benchmark hook: lets the e2e runner wait on real conditions.
  const hook: Record<string, unknown> = { map, editor, layers, labeller, loaded: loadAll, renderer: rendererKind(), firstFullRender: null };
  (window as unknown as { __tilery?: unknown }).__tilery = hook;

  return {
    el: shell,
    destroy() {
      for (const l of layers) void l.flush().catch(() => undefined);
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('fullscreenchange', onFullscreen);
      if (document.fullscreenElement === shell) void document.exitFullscreen();
      window.removeEventListener('beforeunload', warn);
      onMoveEnd.cancel();
      // Never write this view's URL over the page being opened.
      syncUrl.cancel();
      editor.destroy();
      labeller.destroy();
      layers.forEach((l) => l.dispose());
      slide.destroy();
      hooks.setFullBleed(false);
      (window as unknown as { __tilery?: unknown }).__tilery = undefined;
    },
  };
}
