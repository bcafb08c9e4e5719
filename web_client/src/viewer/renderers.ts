// How annotation features reach the screen. With a GPU, WebGL draws the
// elements; on software GL (SwiftShader, llvmpipe: headless CI, some remote
// desktops) WebGL rasterises every frame on the CPU and panning over 10k
// shapes drops to ~1 frame/s, so there the elements are drawn once per view
// into an image (VectorImageLayer) that panning just moves. Centroids of
// huge annotations are always a raster drawn straight from typed arrays.
import type Feature from 'ol/Feature';
import type RenderFeature from 'ol/render/Feature';
import type BaseLayer from 'ol/layer/Base';
import ImageLayer from 'ol/layer/Image';
import VectorImageLayer from 'ol/layer/VectorImage';
import WebGLVectorLayer from 'ol/layer/WebGLVector';
import type VectorSource from 'ol/source/Vector';
import ImageCanvasSource from 'ol/source/ImageCanvas';
import type { FlatStyleLike } from 'ol/style/flat';
import { Circle as CircleStyle, Fill, Stroke, Style } from 'ol/style';
import type { Centroids } from '../lib/centroids';

export type RendererKind = 'webgl' | 'canvas';

let detected: RendererKind | null = null;

/** WebGL when the browser has hardware GL; canvas on software GL. `localStorage['tilery.renderer']` overrides. */
export function rendererKind(): RendererKind {
  const forced = localStorage.getItem('tilery.renderer');
  if (forced === 'webgl' || forced === 'canvas') return forced;
  if (detected) return detected;
  detected = 'canvas';
  try {
    const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
    if (gl) {
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      const name = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
      detected = /swiftshader|llvmpipe|software|basic render/i.test(name) ? 'canvas' : 'webgl';
      gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
  } catch {
    detected = 'canvas';
  }
  return detected;
}

const ELEMENT_STYLE: FlatStyleLike = {
  'fill-color': ['get', 'fill'],
  'stroke-color': ['get', 'stroke'],
  'stroke-width': ['get', 'width'],
  'circle-radius': 5,
  'circle-fill-color': ['get', 'stroke'],
  'circle-stroke-color': [255, 255, 255, 0.9],
  'circle-stroke-width': 1,
};

const styleCache = new Map<string, Style>();
const rgba = (c: number[]) => `rgba(${c[0]},${c[1]},${c[2]},${c[3]})`;

/** Canvas style equal to ELEMENT_STYLE, cached per colour and width. */
function canvasStyle(feature: Feature | RenderFeature): Style {
  const stroke = feature.get('stroke') as number[];
  const fill = feature.get('fill') as number[];
  const width = feature.get('width') as number;
  const key = `${stroke}|${fill}|${width}`;
  let s = styleCache.get(key);
  if (!s) {
    s = new Style({
      stroke: new Stroke({ color: rgba(stroke), width }),
      fill: fill[3] > 0 ? new Fill({ color: rgba(fill) }) : undefined,
      image: new CircleStyle({ radius: 5, fill: new Fill({ color: rgba(stroke) }), stroke: new Stroke({ color: 'rgba(255,255,255,0.9)', width: 1 }) }),
    });
    styleCache.set(key, s);
  }
  return s;
}

/** The layer that draws an annotation's element features. */
export function elementLayer(source: VectorSource, annotationId: string): WebGLVectorLayer | VectorImageLayer {
  if (rendererKind() === 'webgl') {
    return new WebGLVectorLayer({ source, style: ELEMENT_STYLE, zIndex: 10, properties: { annotationId } });
  }
  return new VectorImageLayer({ source, style: canvasStyle, zIndex: 10, imageRatio: 1.5, properties: { annotationId } });
}

export interface CentroidRaster {
  layer: ImageLayer<ImageCanvasSource>;
  /** Skip centroids inside this pixel region (its full elements are drawn). */
  setHole(region: { left: number; top: number; right: number; bottom: number } | null): void;
  /** Hide (or show again) individual elements, e.g. deleted ones. */
  setRemoved(ids: Set<number>): void;
  redraw(): void;
}

/**
 * Centroids drawn as dots into one canvas per view from the decoded arrays:
 * no per-element objects, about 10 ms per 100k elements, and panning only
 * moves the image.
 */
export function centroidRaster(c: Centroids, colors: string[]): CentroidRaster {
  let hole: { left: number; top: number; right: number; bottom: number } | null = null;
  let removed = new Set<number>();
  const source = new ImageCanvasSource({
    ratio: 1.5,
    canvasFunction: (extent, resolution, pixelRatio, size) => {
      const canvas = document.createElement('canvas');
      canvas.width = size[0];
      canvas.height = size[1];
      const ctx = canvas.getContext('2d')!;
      const k = size[0] / (extent[2] - extent[0]);
      const left = extent[0];
      const top = -extent[3];
      const right = extent[2];
      const bottom = -extent[1];
      // Batch dots by style so each colour is one path.
      const paths = colors.map(() => new Path2D());
      for (let i = 0; i < c.count; i += 1) {
        const x = c.xy[i * 2];
        const y = c.xy[i * 2 + 1];
        if (x < left || x > right || y < top || y > bottom) continue;
        if (hole && x >= hole.left && x <= hole.right && y >= hole.top && y <= hole.bottom) continue;
        if (removed.size && removed.has(i)) continue;
        const r = Math.min(6, Math.max(1.5, (c.size[i] / resolution) / 2)) * pixelRatio;
        const sx = (x - left) * k;
        const sy = (y - top) * k;
        paths[c.styleIndex[i]] ?.rect(sx - r, sy - r, r * 2, r * 2);
      }
      paths.forEach((p, s) => {
        ctx.fillStyle = colors[s];
        ctx.fill(p);
      });
      return canvas;
    },
  });
  const layer = new ImageLayer({ source, zIndex: 9 });
  return {
    layer,
    setHole(region) {
      hole = region;
      source.changed();
    },
    setRemoved(ids) {
      removed = ids;
      source.changed();
    },
    redraw() {
      source.changed();
    },
  };
}

export function isElementLayer(layer: BaseLayer, annotationId: string): boolean {
  return layer.get('annotationId') === annotationId;
}
