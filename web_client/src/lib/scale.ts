// Scale bar lengths and magnification readouts.

export interface ScaleBar {
  /** Bar width in screen pixels. */
  pixels: number;
  /** Text such as "200 µm" or "1.5 mm". */
  label: string;
}

const STEPS = [1, 2, 5];

/**
 * A scale bar of a round length close to `targetPixels` wide, given the view
 * resolution (image pixels per screen pixel) and the pixel size mm_x.
 */
export function scaleBar(resolution: number, mmPerPixel: number, targetPixels = 120): ScaleBar | null {
  if (!(resolution > 0) || !(mmPerPixel > 0)) return null;
  const mmPerScreenPx = resolution * mmPerPixel;
  const targetMm = mmPerScreenPx * targetPixels;
  const exp = Math.floor(Math.log10(targetMm));
  let best = 10 ** exp;
  for (let e = exp - 1; e <= exp + 1; e += 1) {
    for (const s of STEPS) {
      const v = s * 10 ** e;
      if (v <= targetMm * 1.25 && Math.abs(v - targetMm) < Math.abs(best - targetMm)) best = v;
    }
  }
  return { pixels: best / mmPerScreenPx, label: formatLength(best) };
}

/** Format a length in millimetres with a unit that keeps the number readable. */
export function formatLength(mm: number): string {
  const fmt = (v: number) => String(Number(v.toPrecision(3)));
  if (mm >= 1000) return `${fmt(mm / 1000)} m`;
  if (mm >= 1) return `${fmt(mm)} mm`;
  if (mm >= 0.0001) return `${fmt(mm * 1000)} µm`;
  return `${fmt(mm * 1e6)} nm`;
}

/** "20×", "2.5×", "0.31×". */
export function formatMagnification(mag: number | null): string {
  if (mag === null || !Number.isFinite(mag)) return '';
  const digits = mag >= 10 ? 0 : mag >= 1 ? 1 : 2;
  return `${Number(mag.toFixed(digits))}×`;
}
