// Canvas contexts that are read back get `willReadFrequently` (a CPU-backed
// canvas): reading a GPU canvas again and again is slow, and Chrome warns
// "Multiple readback operations using getImageData are faster with the
// willReadFrequently attribute set to true".
//
// Our own readers ask for it where they create the context (pixels.ts,
// superpixel-tool.ts). OpenLayers (10.x) is the other reader: before its first
// hit detection on a canvas layer (a click or hover over annotations), it times
// getImageData on 1x1 canvases made with the attribute false and unset to pick
// the faster, and each of those draws the warning. A 1x1 2D canvas exists only
// to be read pixel by pixel, so such contexts are made readable; every other
// canvas (tiles, layers) keeps the GPU.

let installed = false;

/** Give 1x1 2D canvases `willReadFrequently: true` unless they ask otherwise. Idempotent. */
export function readableTinyCanvases(): void {
  if (installed || typeof HTMLCanvasElement === 'undefined') return;
  installed = true;
  const getContext = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function patched(this: HTMLCanvasElement, type: string, settings?: Record<string, unknown>) {
    if (type === '2d' && this.width <= 1 && this.height <= 1 && !settings?.willReadFrequently) {
      settings = { ...settings, willReadFrequently: true };
    }
    return getContext.call(this, type, settings);
  } as typeof getContext;
}
