// The viewer's right column: the annotation list, the style panel while a shape
// tool is on, the pixel-labelling panel while the brush is; and switching tools,
// which decides between the last two.
import { panelFor } from '../lib/viewer-logic';
import { h } from '../ui/dom';
import { showError } from '../ui/notify';
import type { Editor, Tool } from './editor';
import type { PixelLabeller } from './pixels';
import { pixelPanel, type stylePanel } from './sidebar';

export function sideColumn(editor: Editor, labeller: PixelLabeller, style: ReturnType<typeof stylePanel>, parts: {
  canCreate: boolean;
  /** "Done, next image" in the pixel panel; null outside a folder. */
  nextImage: (() => Promise<void>) | null;
}) {
  const el = h('div.viewer-side');
  let pixels: ReturnType<typeof pixelPanel> | null = null;
  const render = () => {
    const panel = panelFor(editor.currentTool, editor.enabled);
    style.el.hidden = panel !== 'style';
    if (panel === 'style') style.render();
    if (pixels) pixels.el.hidden = panel !== 'pixels';
  };
  const setTool = (tool: Tool) => {
    if (!editor.enabled && tool !== 'select') return;
    if (tool === 'brush') {
      // The labelling panel and the mask load the first time the brush is picked.
      if (!pixels) {
        pixels = pixelPanel(labeller, parts.canCreate, parts.nextImage);
        el.insertBefore(pixels.el, style.el);
        labeller.load().catch((err) => showError(err, 'Loading the label mask'));
      }
      labeller.onChange = () => pixels?.render();
    }
    labeller.setActive(tool === 'brush');
    editor.setTool(tool);
  };
  return { el, render, setTool, renderPixels: () => pixels?.render() };
}
