// The superpixel tool of pixel labelling: segments of the visible region are
// computed by the server (GET /item/:id/superpixels) with one of four
// algorithms, outlined over the slide, and painted one segment at a time.
import type Map from 'ol/Map';
import { labels } from '../api';
import { decodeSegments, segmentBorders, type Algorithm, type Segments } from '../lib/superpixels';
import type { TileMetadata } from '../types';

export interface SuperpixelParams {
  algorithm: Algorithm;
  nSegments: number;
  compactness: number;
}

export class SuperpixelTool {
  params: SuperpixelParams = { algorithm: 'slic', nSegments: 400, compactness: 10 };
  segments: Segments | null = null;
  busy = false;
  /** Segment borders as one path in PNG pixels, stroked at a constant screen width. */
  private outlines: Path2D | null = null;
  private controller: AbortController | null = null;

  constructor(private readonly map: Map, private readonly meta: TileMetadata, private readonly itemId: string) {}

  /** Compute segments for the part of the image in view, at about screen resolution. */
  async compute(): Promise<Segments> {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const size = this.map.getSize() ?? [1024, 1024];
    const [x0, y0, x1, y1] = this.map.getView().calculateExtent(size);
    const left = Math.max(0, Math.floor(x0));
    const top = Math.max(0, Math.floor(-y1));
    const right = Math.min(this.meta.sizeX, Math.ceil(x1));
    const bottom = Math.min(this.meta.sizeY, Math.ceil(-y0));
    if (right - left < 2 || bottom - top < 2) throw new Error('The slide is not in view: move to the part to segment.');
    this.busy = true;
    try {
      const answer = await labels.superpixels(this.itemId, {
        left, top, right, bottom,
        // Finer than the screen buys nothing: the segments are clicked on screen.
        maxSize: Math.max(64, Math.min(1024, Math.round(Math.max(...size)))),
        ...this.params,
      }, controller.signal);
      const bitmap = await createImageBitmap(answer.png, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
      const canvas = document.createElement('canvas');
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(bitmap, 0, 0);
      const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
      const seg = decodeSegments(rgba, bitmap.width, bitmap.height, { left, top, scale: answer.scale || (right - left) / bitmap.width });
      bitmap.close();
      const borders = segmentBorders(seg);
      const path = new Path2D();
      for (let i = 0; i < borders.length; i += 4) {
        path.moveTo(borders[i], borders[i + 1]);
        path.lineTo(borders[i + 2], borders[i + 3]);
      }
      if (controller.signal.aborted) throw new DOMException('Superseded', 'AbortError');
      this.segments = seg;
      this.outlines = path;
      return seg;
    } finally {
      if (this.controller === controller) {
        this.busy = false;
        this.controller = null;
      }
    }
  }

  clear(): void {
    this.controller?.abort();
    this.segments = null;
    this.outlines = null;
  }

  /** Draw the outlines onto a layer canvas showing map `extent` at `k` canvas pixels per map unit. */
  draw(ctx: CanvasRenderingContext2D, extent: number[], k: number): void {
    const seg = this.segments;
    if (!seg || !this.outlines) return;
    // Image x = left + px * scale; map y = -(top + py * scale).
    const unit = k * seg.scale; // canvas pixels per PNG pixel
    ctx.save();
    ctx.setTransform(unit, 0, 0, unit, (seg.left - extent[0]) * k, (extent[3] + seg.top) * k);
    // One CSS pixel wide whatever the zoom (the layer canvas is in device pixels).
    ctx.lineWidth = (window.devicePixelRatio || 1) / unit;
    ctx.lineCap = 'square';
    ctx.strokeStyle = 'rgba(255, 255, 0, 0.8)';
    ctx.stroke(this.outlines);
    ctx.restore();
  }

  destroy(): void {
    this.clear();
  }
}
