// Slide information widgets: scale bar, magnification, cursor position,
// frame / channel selector and associated images (label, macro).
import type Map from 'ol/Map';
import { tiles } from '../api';
import { frameAxes, frameFor, indicesFor } from '../lib/frames';
import { magnificationAt, resolutionForMagnification } from '../lib/geometry';
import { formatMagnification, scaleBar } from '../lib/scale';
import type { TileMetadata } from '../types';
import { h, replace } from '../ui/dom';
import { openDialog } from '../ui/modal';

/** Scale bar + magnification + cursor readout, updated with the view. */
export function statusWidgets(map: Map, meta: TileMetadata): { scale: HTMLElement; mag: HTMLElement; cursor: HTMLElement } {
  const bar = h('div.scale-line');
  const label = h('span.scale-label');
  const scale = h('div.scale-bar', { title: 'Scale' }, bar, label);
  const mag = h('span.mag-readout', { title: 'Current magnification' });
  const cursor = h('span.cursor-readout.mono');
  const update = () => {
    const res = map.getView().getResolution() ?? 1;
    const sb = meta.mm_x ? scaleBar(res, meta.mm_x, 110) : null;
    scale.hidden = !sb;
    if (sb) {
      bar.style.width = `${Math.round(sb.pixels)}px`;
      label.textContent = sb.label;
    }
    const m = magnificationAt(meta.magnification, res);
    mag.textContent = m ? formatMagnification(m) : `${Math.round(100 / res)}%`;
  };
  map.getView().on('change:resolution', update);
  map.on('pointermove', (e) => {
    const [x, y] = e.coordinate;
    const inside = x >= 0 && x <= meta.sizeX && -y >= 0 && -y <= meta.sizeY;
    cursor.textContent = inside ? `x ${Math.floor(x).toLocaleString()}  y ${Math.floor(-y).toLocaleString()}` : '';
  });
  update();
  return { scale, mag, cursor };
}

/** Buttons that zoom to standard objective magnifications. */
export function magnificationButtons(map: Map, meta: TileMetadata): HTMLElement | null {
  if (!meta.magnification) return null;
  const steps = [1.25, 2.5, 5, 10, 20, 40].filter((m) => m <= meta.magnification! * 2);
  return h('div.button-group', { role: 'group', 'aria-label': 'Zoom to magnification' },
    steps.map((m) => h('button.button.small', {
      title: `Zoom to ${m}×`,
      onclick: () => map.getView().animate({ resolution: resolutionForMagnification(meta.magnification!, m), duration: 250 }),
    }, `${m}×`)));
}

/** Frame / channel selector for multi-frame images; null for single frames. */
export function frameSelector(meta: TileMetadata, frame: number, onFrame: (frame: number) => void): HTMLElement | null {
  const axes = frameAxes(meta);
  if (!axes.length) return null;
  const indices = indicesFor(meta, frame);
  const wrap = h('div.frame-selector');
  const render = () => {
    replace(wrap, axes.map((a) => {
      if (a.labels || a.size <= 8) {
        const sel = h('select', { 'aria-label': a.name === 'c' ? 'Channel' : `Axis ${a.name}`, title: a.name === 'c' ? 'Channel' : a.name.toUpperCase() },
          Array.from({ length: a.size }, (_, i) => h('option', { value: String(i) }, a.labels?.[i] ?? `${a.name.toUpperCase()} ${i + 1}`)));
        sel.value = String(indices[a.key] ?? 0);
        sel.onchange = () => {
          indices[a.key] = Number(sel.value);
          onFrame(frameFor(meta, indices));
        };
        return h('label.inline-field', null, h('span', null, a.name === 'c' ? 'Channel' : a.name.toUpperCase()), sel);
      }
      const out = h('span.mono', null, `${(indices[a.key] ?? 0) + 1}/${a.size}`);
      const slider = h('input', { type: 'range', min: '0', max: String(a.size - 1), value: String(indices[a.key] ?? 0), 'aria-label': `Axis ${a.name}` });
      slider.oninput = () => {
        indices[a.key] = Number(slider.value);
        out.textContent = `${indices[a.key] + 1}/${a.size}`;
        onFrame(frameFor(meta, indices));
      };
      return h('label.inline-field', null, h('span', null, a.name.toUpperCase()), slider, out);
    }));
  };
  render();
  return wrap;
}

/** Thumbnails of the associated images, each opening larger in a dialog. */
export async function associatedImages(itemId: string): Promise<HTMLElement | null> {
  let names: string[] = [];
  try {
    names = await tiles.associatedImages(itemId);
  } catch {
    return null;
  }
  if (!names.length) return null;
  return h('section.panel', null,
    h('h3.panel-title', null, 'Associated images'),
    h('div.assoc-list', null, names.map((name) => h('button.assoc', {
      title: `Show the ${name} image`,
      onclick: () => {
        const d = openDialog(name[0].toUpperCase() + name.slice(1), { wide: true });
        // Full size: a width and height would make the server enlarge small labels.
        d.body.append(h('img.assoc-large', { src: tiles.associatedUrl(itemId, name), alt: name }));
      },
    }, h('img', { src: tiles.associatedUrl(itemId, name, { width: 160, height: 120 }), alt: name, loading: 'lazy' }), h('span', null, name)))));
}
