// The fast tagger's state and decisions without the DOM: which image is shown,
// what a key does, what a press changes and what must be saved.
import { NONE_KEY, nextIndex, pressTag, tagForKey, type TagSetup } from './tags';

/** The image to start at from the `?i=` of the URL, or the first. */
export function startIndex(search: string, count: number): number {
  const start = Number(new URLSearchParams(search).get('i') ?? 0);
  return Number.isInteger(start) && start >= 0 && start < count ? start : 0;
}

/** The tagger's own URL, quietly kept in step with the shown image. */
export function taggerPath(folderId: string, index: number): string {
  return `/tag/${folderId}${index ? `?i=${index}` : ''}`;
}

/**
 * The thumbnail endpoint scales up to the asked size, so ask for no more than
 * the image's own size: small images are shown at 1:1, never enlarged.
 */
export function thumbnailSize(size: { w: number; h: number } | null): { width: number; height: number } {
  return { width: Math.min(1400, size?.w ?? 1400), height: Math.min(1000, size?.h ?? 1000) };
}

export function hintText(setup: TagSetup): string {
  return `${setup.multiple ? 'Several tags per image: a tag’s key turns it on or off' : 'One tag per image: a tag’s key sets it and shows the next image'} · F: no tag, next · ← → or Space to move. Changes save at once.`;
}

export type KeyAction = { type: 'tag'; code: string } | { type: 'none' } | { type: 'move'; step: 1 | -1 } | null;

/** What a key press (without modifiers) does. */
export function keyAction(key: string, setup: TagSetup): KeyAction {
  const tag = tagForKey(key, setup);
  if (tag) return { type: 'tag', code: tag.code };
  if (key.toLowerCase() === NONE_KEY) return { type: 'none' };
  if (key === 'ArrowRight' || key === ' ') return { type: 'move', step: 1 };
  if (key === 'ArrowLeft') return { type: 'move', step: -1 };
  return null;
}

/** A change to save: item `index` now has `value`, and goes back to `before` if the save fails. */
export interface TagChange {
  index: number;
  value: string[];
  before: string[];
}

const same = (a: string[], b: string[]) => a.length === b.length && a.every((t, k) => t === b[k]);

/** Walking through the images of a folder and changing their tags. */
export class TagWalk {
  index: number;
  untaggedOnly = false;

  constructor(readonly tags: string[][], public setup: TagSetup, readonly canTag: boolean, start = 0) {
    this.index = start;
  }

  get taggedCount(): number {
    return this.tags.filter((t) => t.length).length;
  }

  /** The progress bar's width in percent and the counter's text. */
  progress(): { percent: number; text: string } {
    const n = this.tags.length;
    const tagged = this.taggedCount;
    return {
      percent: n ? (tagged / n) * 100 : 0,
      text: n ? `Image ${this.index + 1} of ${n} · ${tagged} tagged` : '',
    };
  }

  /** Toggle or set a tag on the shown image; with one tag per image, move on. */
  press(code: string): TagChange | null {
    if (!this.canTag) return null;
    const i = this.index;
    const before = this.tags[i];
    this.tags[i] = pressTag(before, code, this.setup);
    const change = same(before, this.tags[i]) ? null : { index: i, value: this.tags[i], before };
    // One tag per image: the choice is made, show the next image.
    if (!this.setup.multiple) this.move(1);
    return change;
  }

  /** Clear the shown image's tags (when it has some and the user may) and move on. */
  clearAndNext(): TagChange | null {
    const i = this.index;
    const before = this.tags[i];
    let change: TagChange | null = null;
    if (before.length && this.canTag) {
      this.tags[i] = [];
      change = { index: i, value: [], before };
    }
    this.move(1);
    return change;
  }

  move(step: 1 | -1): void {
    this.index = nextIndex(this.tags, this.index, step, this.untaggedOnly);
  }

  /** A save failed: put the tags back. */
  undo(change: TagChange): void {
    this.tags[change.index] = change.before;
  }
}
