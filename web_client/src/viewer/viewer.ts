// The slide viewer page: tiles, overview, scale, frames, annotations and
// their editor, pixel labelling, keyboard shortcuts and a shareable URL.
import { EDITOR_BINDINGS, Keymap } from '../lib/keymap';
import { parseViewUrl, type ViewState } from '../lib/url-state';
import type Map from 'ol/Map';
import type { View } from '../router';
import type { Folder, Item, TileMetadata } from '../types';
import { debounce, h, icon } from '../ui/dom';
import { Editor } from './editor';
import { associatedImages, frameSelector, statusWidgets } from './info';
import { PixelLabeller } from './pixels';
import { annotationList, stylePanel } from './sidebar';
import { sideColumn } from './side-column';
import { createSlide } from './slide';
import { rendererKind } from './renderers';
import { annotationActions } from './annotation-actions';
import { AnnotationSet } from './annotation-set';
import { groupsIn } from '../lib/viewer-logic';
import { readableTinyCanvases } from './canvas-reads';
import { copyLink, loadViewerData, openNextImage, urlSync } from './viewer-state';
import { fullscreenButton } from './fullscreen';
import { keyHandler, showShortcuts } from './keyboard';
import { toolbar } from './toolbar';
import { viewerTopbar } from './topbar';
import { labelTooltip } from './tooltip';
import { followColleagues } from './live';
import type { NotificationStream } from '../stream';

export interface ViewerHooks {
  navigate(path: string): void;
  setQuietUrl(path: string): void;
  setFullBleed(on: boolean): void;
  /** The page's notification stream (colleagues' edits and presence), when signed in. */
  stream: NotificationStream | null;
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

interface LayoutParts {
  item: Item;
  meta: TileMetadata;
  folder: Folder | null;
  map: Map;
  slide: ReturnType<typeof createSlide>;
  frame: number;
  mapEl: HTMLElement;
  overviewDock: HTMLElement;
  tools: HTMLElement;
  side: HTMLElement;
  tip: HTMLElement;
  saveStatus: HTMLElement;
  fullscreen: HTMLElement;
  presence: HTMLElement;
  onFrame(frame: number): void;
  copyLink(): void;
  help(): void;
}

/** The page: top bar, tool column, the map stage (overview, tooltip, status bar), side column. */
async function layoutViewer(shell: HTMLElement, p: LayoutParts): Promise<void> {
  const frames = p.meta.frames && p.meta.frames.length > 1 ? frameSelector(p.meta, p.frame, (f) => {
    p.slide.setFrame(f);
    p.onFrame(f);
  }) : null;
  const status = statusWidgets(p.map, p.meta);
  const assoc = await associatedImages(p.item._id);
  if (assoc) p.side.append(assoc);
  const topbar = viewerTopbar({ ...p, frames, fit: () => p.slide.fit(250) });
  topbar.querySelector('.spacer')?.after(p.presence);
  const statusbar = h('div.viewer-status', null, status.scale, status.mag, status.cursor, h('span.spacer'), p.saveStatus);
  shell.append(topbar,
    h('div.viewer-body', null,
      p.tools,
      h('div.viewer-stage', null, p.mapEl, p.overviewDock, p.tip, statusbar),
      p.side));
}

/** Ask before leaving the page while `unsaved()`; the returned function stops asking. */
function warnUnsaved(unsaved: () => boolean): () => void {
  const warn = (e: BeforeUnloadEvent) => {
    if (unsaved()) e.preventDefault();
  };
  window.addEventListener('beforeunload', warn);
  return () => window.removeEventListener('beforeunload', warn);
}

export async function viewerView(path: string, search: string, hooks: ViewerHooks): Promise<View> {
  readableTinyCanvases();
  const state = parseViewUrl(path, search) as ViewState;
  const itemId = state.itemId;
  const { item, meta, folder, annotations: annList, perms, canCreate } = await loadViewerData(itemId);

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
  // --- Annotations ------------------------------------------------------
  const anns = new AnnotationSet(itemId, map, meta, editor, canCreate, annList, state.annotations);
  const { layers } = anns;
  const list = annotationList(annotationActions({
    layers, editor, canCreate, activate: (layer) => anns.activate(layer), createAnnotation: (name) => anns.create(name),
    render: () => list.render(),
    syncUrl: () => syncUrl(),
  }));
  const style = stylePanel(editor, () => groupsIn(layers));

  // --- Toolbar ----------------------------------------------------------
  const tools = toolbar(editor, keymap, (tool) => setTool(tool));
  anns.listen({ list: () => list.render(), tools: tools.render, url: () => syncUrl() });

  // "Done, next image": the next large image of the folder, as in the seed's labelling flow.
  const side = sideColumn(editor, labeller, style, {
    canCreate, nextImage: folder ? () => openNextImage(folder._id, itemId, hooks.navigate) : null,
  });
  const { setTool, render: renderSide } = side;
  editor.onChange(() => {
    tools.render();
    renderSide();
  });
  editor.undo.onChange(tools.render);

  // --- URL state --------------------------------------------------------
  const syncUrl = urlSync(view, layers, { itemId, frame: () => frame, edited: () => editor.active?.id, setQuietUrl: hooks.setQuietUrl });
  const onMoveEnd = debounce(() => { syncUrl(); anns.refreshRegions(); }, 120);
  map.on('moveend', onMoveEnd);

  // --- Keyboard ---------------------------------------------------------
  const shell = h('div.viewer');
  const fullscreen = fullscreenButton(shell, map);
  const onKey = keyHandler({
    editor, labeller, keymap, setTool,
    pixelsChanged: side.renderPixels,
    focusLabel: () => (style.el.querySelector('input[aria-label="Label"]') as HTMLInputElement | null)?.focus(),
    toggleFullscreen: fullscreen.toggle,
    toggleAnnotations: () => anns.toggleAll(),
  });
  document.addEventListener('keydown', onKey);

  // Colleagues: their edits and presence, live.
  const live = followColleagues(hooks.stream, { map, meta, itemId, anns, editor, changed: () => [list.render(), renderSide(), tools.render()] });
  // --- Layout -----------------------------------------------------------
  side.el.append(list.el, style.el);
  await layoutViewer(shell, {
    item, meta, folder, map, slide, frame, tools: tools.el, side: side.el, mapEl, overviewDock, saveStatus: anns.saveStatus,
    fullscreen: fullscreen.el, presence: live.el, tip: labelTooltip(map, (l) => layers.some((a) => a.layer === l)),
    onFrame: (f) => {
      frame = f;
      syncUrl();
    },
    copyLink: () => {
      syncUrl.flush();
      void copyLink(location.href);
    },
    help: () => showShortcuts(keymap),
  });

  tools.render();
  renderSide();
  // The map needs its element in the document to measure itself.
  requestAnimationFrame(() => {
    slide.attached(state.x === undefined || state.res === undefined);
    // The benchmark's "first full screen of tiles": every visible tile drawn.
    map.once('rendercomplete', () => {
      hook.firstFullRender = performance.now();
    });
  });
  const stopWarning = warnUnsaved(() => layers.some((l) => l.hasUnsaved()) || labeller.dirty);

  void anns.startEditing(state.edit).then(() => {
    tools.render();
    renderSide();
  });

  // Test and benchmark hook: lets the e2e runner wait on real conditions.
  const hook: Record<string, unknown> = { map, editor, layers, labeller, presence: live.presence, stream: hooks.stream, loaded: anns.loaded, renderer: rendererKind(), firstFullRender: null };
  (window as unknown as { __tilery?: unknown }).__tilery = hook;

  return {
    el: shell,
    destroy() {
      for (const l of layers) void l.flush().catch(() => undefined);
      document.removeEventListener('keydown', onKey);
      live.stop();
      fullscreen.destroy();
      stopWarning();
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
