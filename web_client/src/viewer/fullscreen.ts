// The viewer's full-screen button (Shift+F), which follows the document's state.
import type Map from 'ol/Map';
import { h, icon, replace } from '../ui/dom';
import { showError } from '../ui/notify';

export function fullscreenButton(shell: HTMLElement, map: Map): { el: HTMLElement; toggle(): void; destroy(): void } {
  const el = h('button.icon-button', { 'aria-pressed': 'false' });
  const toggle = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void shell.requestFullscreen?.().catch((err) => showError(err, 'Full screen'));
  };
  const onChange = () => {
    const on = document.fullscreenElement === shell;
    el.title = on ? 'Leave full screen (Shift+F or Esc)' : 'Full screen (Shift+F)';
    el.setAttribute('aria-pressed', String(on));
    replace(el, icon(on ? 'fullscreenExit' : 'fullscreen'));
    map.updateSize();
  };
  el.onclick = toggle;
  onChange();
  document.addEventListener('fullscreenchange', onChange);
  return {
    el,
    toggle,
    destroy() {
      document.removeEventListener('fullscreenchange', onChange);
      if (document.fullscreenElement === shell) void document.exitFullscreen();
    },
  };
}
