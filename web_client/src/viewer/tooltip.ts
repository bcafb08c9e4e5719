// The tooltip that shows an element's label and group under the pointer.
import { labelText } from '../lib/viewer-logic';
import type Map from 'ol/Map';
import type BaseLayer from 'ol/layer/Base';
import { h } from '../ui/dom';

/** The tooltip element, following the pointer over the layers `isAnnotation` accepts. */
export function labelTooltip(map: Map, isAnnotation: (layer: BaseLayer) => boolean): HTMLElement {
  const tip = h('div.map-tip', { hidden: true });
  let frame = 0;
  map.on('pointermove', (e) => {
    if (e.dragging || frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      let text = '';
      map.forEachFeatureAtPixel(e.pixel, (f) => {
        text = labelText(f.get('element'));
        return Boolean(text);
      }, { hitTolerance: 2, layerFilter: isAnnotation });
      tip.hidden = !text;
      if (text) {
        tip.textContent = text;
        tip.style.transform = `translate(${e.pixel[0] + 14}px, ${e.pixel[1] + 14}px)`;
      }
    });
  });
  return tip;
}
