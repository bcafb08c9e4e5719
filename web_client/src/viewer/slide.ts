// The slide map: an OpenLayers map in image-pixel units over large_image's
// tile pyramid (z = 0 coarsest), with an overview map.
import Map from 'ol/Map';
import View from 'ol/View';
import TileLayer from 'ol/layer/Tile';
import ImageTileSource from 'ol/source/ImageTile';
import TileGrid from 'ol/tilegrid/TileGrid';
import Projection from 'ol/proj/Projection';
import { defaults as defaultInteractions } from 'ol/interaction/defaults';
import { unByKey } from 'ol/Observable';
import { tiles } from '../api';
import { imageExtent, levelResolutions } from '../lib/geometry';
import { overviewBox, visibleBox } from '../lib/overview';
import type { TileMetadata } from '../types';

export interface Slide {
  map: Map;
  view: View;
  projection: Projection;
  tileLayer: TileLayer<ImageTileSource>;
  meta: TileMetadata;
  setFrame(frame: number | undefined): void;
  /** Call once the map's element is in the page: measure it, and fit the slide unless a view was given. */
  attached(fit: boolean): void;
  fit(duration?: number): void;
  destroy(): void;
}

/** Load one tile image; pad short edge tiles to the full tile size so they are not stretched. */
async function loadTile(url: string, tileWidth: number, tileHeight: number, signal?: AbortSignal): Promise<HTMLImageElement | HTMLCanvasElement> {
  const img = new Image();
  img.decoding = 'async';
  img.src = url;
  const abort = () => {
    img.src = '';
  };
  signal?.addEventListener('abort', abort, { once: true });
  await img.decode();
  if (img.naturalWidth >= tileWidth && img.naturalHeight >= tileHeight) return img;
  const canvas = document.createElement('canvas');
  canvas.width = tileWidth;
  canvas.height = tileHeight;
  canvas.getContext('2d')!.drawImage(img, 0, 0);
  return canvas;
}

function tileSource(itemId: string, meta: TileMetadata, grid: TileGrid, projection: Projection, frame: number | undefined): ImageTileSource {
  return new ImageTileSource({
    projection,
    tileGrid: grid,
    transition: 150,
    interpolate: true,
    loader: (z, x, y, opts) => loadTile(tiles.tileUrl(itemId, z, x, y, frame), meta.tileWidth, meta.tileHeight, opts.signal),
  });
}

/** Build the map for an item's tiles inside `target`. */
export function createSlide(target: HTMLElement, overviewTarget: HTMLElement | null, itemId: string, meta: TileMetadata, frame?: number): Slide {
  const extent = imageExtent(meta.sizeX, meta.sizeY);
  const mmPerPixel = meta.mm_x || undefined;
  const projection = new Projection({
    code: `tilery-image-${itemId}`,
    units: 'pixels',
    extent,
    // Lets OpenLayers' own maths (and any ScaleLine) know the physical size.
    metersPerUnit: mmPerPixel ? mmPerPixel / 1000 : undefined,
  });
  const resolutions = levelResolutions(meta.levels);
  const grid = new TileGrid({
    extent,
    origin: [0, 0],
    resolutions,
    tileSize: [meta.tileWidth, meta.tileHeight],
  });
  let source = tileSource(itemId, meta, grid, projection, frame);
  // The layer extent clips padded edge tiles to the image.
  const tileLayer = new TileLayer({ source, preload: 1, extent, className: 'slide-tiles' });
  const view = new View({
    projection,
    extent: [extent[0] - meta.sizeX * 0.5, extent[1] - meta.sizeY * 0.5, extent[2] + meta.sizeX * 0.5, extent[3] + meta.sizeY * 0.5],
    constrainOnlyCenter: true,
    // Zoom out to a bit beyond the whole image, in to 8 screen pixels per image pixel.
    maxResolution: resolutions[0] * 4,
    minResolution: 1 / 8,
    smoothResolutionConstraint: true,
    showFullExtent: true,
  });
  const map = new Map({
    target,
    layers: [tileLayer],
    view,
    controls: [],
    interactions: defaultInteractions({ doubleClickZoom: false, altShiftDragRotate: false, pinchRotate: false }),
    maxTilesLoading: 24,
  });

  const overview = overviewTarget ? createOverview(overviewTarget, itemId, meta, map, frame) : null;
  return {
    map,
    view,
    projection,
    tileLayer,
    meta,
    setFrame(newFrame: number | undefined) {
      source = tileSource(itemId, meta, grid, projection, newFrame);
      tileLayer.setSource(source);
      overview?.setFrame(newFrame);
    },
    attached(fit: boolean) {
      map.updateSize();
      if (fit) view.fit(extent, { padding: [24, 24, 24, 24] });
    },
    fit(duration = 0) {
      view.fit(extent, { padding: [24, 24, 24, 24], duration });
    },
    destroy() {
      overview?.destroy();
      map.setTarget(undefined);
      map.dispose();
    },
  };
}

/**
 * The overview: the slide's thumbnail with the visible area outlined; click
 * or drag on it to move there. (OpenLayers' OverviewMap re-centres itself
 * as the view moves; a fixed picture of the whole slide reads better.)
 */
/** Smallest side of the view's box on the overview: at high zoom it stays findable. */
const MIN_BOX = 8;

function createOverview(target: HTMLElement, itemId: string, meta: TileMetadata, map: Map, frame: number | undefined) {
  const boxW = 180;
  const boxH = 140;
  const scale = Math.min(boxW / meta.sizeX, boxH / meta.sizeY);
  const w = Math.round(meta.sizeX * scale);
  const hgt = Math.round(meta.sizeY * scale);
  const img = document.createElement('img');
  img.className = 'overview-image';
  img.alt = 'Overview of the slide';
  img.draggable = false;
  const setFrame = (f: number | undefined) => {
    img.src = tiles.thumbnailUrl(itemId, { width: w * 2, height: hgt * 2, ...(f !== undefined ? { frame: f } : {}) });
  };
  setFrame(frame);
  Object.assign(img.style, { width: `${w}px`, height: `${hgt}px` });
  const box = document.createElement('div');
  box.className = 'overview-box';
  const wrap = document.createElement('div');
  wrap.className = 'overview-wrap';
  Object.assign(wrap.style, { width: `${w}px`, height: `${hgt}px` });
  wrap.append(img, box);
  target.append(wrap);
  const view = map.getView();
  const update = () => {
    const size = map.getSize();
    if (!size) return;
    const [left, top, right, bottom] = overviewBox(view.calculateExtent(size), scale, w, hgt);
    const shown = visibleBox([left, top, right, bottom], w, hgt, MIN_BOX);
    Object.assign(box.style, { left: `${shown[0]}px`, top: `${shown[1]}px`, width: `${shown[2] - shown[0]}px`, height: `${shown[3] - shown[1]}px` });
    // With the whole slide in view the overview adds nothing and would only
    // cover part of it: the stylesheet hides it then.
    const whole = left <= 0.5 && top <= 0.5 && right >= w - 0.5 && bottom >= hgt - 0.5;
    if (whole !== target.hasAttribute('data-whole')) target.toggleAttribute('data-whole', whole);
  };
  const moveTo = (e: PointerEvent) => {
    const r = wrap.getBoundingClientRect();
    view.setCenter([(e.clientX - r.left) / scale, -(e.clientY - r.top) / scale]);
  };
  let dragging = false;
  wrap.addEventListener('pointerdown', (e) => {
    dragging = true;
    wrap.setPointerCapture(e.pointerId);
    moveTo(e);
  });
  wrap.addEventListener('pointermove', (e) => dragging && moveTo(e));
  wrap.addEventListener('pointerup', () => (dragging = false));
  const key = map.on('postrender', update);
  return {
    setFrame,
    destroy() {
      unByKey(key);
      wrap.remove();
      target.removeAttribute('data-whole');
    },
  };
}
