// Text shown to people: names where space is short, what a file is, error sentences.
import type { Item } from '../types';

/**
 * A long name cut in the middle ("Annotation 2026-1…29 21:05:07"), not at the end:
 * names that share a beginning, as default annotation names do, stay apart.
 */
export function middleEllipsis(name: string, max = 40): string {
  if (name.length <= max) return name;
  const keep = max - 1;
  const head = Math.ceil(keep / 2);
  return `${name.slice(0, head)}…${name.slice(name.length - (keep - head))}`;
}

/** What a file of an item is for, when it is not an ordinary file: "Label mask of alice (done)". */
export function fileRole(item: Pick<Item, 'labelMasks' | 'largeImage'>, fileId: string): string | null {
  for (const mask of Object.values(item.labelMasks ?? {})) {
    if (mask.fileId === fileId) return `Label mask of ${mask.login} (${mask.status === 'done' ? 'done' : 'in progress'})`;
  }
  if (item.largeImage?.originalId && item.largeImage.fileId === fileId) return 'Converted large image';
  return null;
}

/** A message as a sentence: capital first letter, closing full stop ("…at least 6 characters."). */
export function asSentence(message: string): string {
  const text = message.trim();
  if (!text) return text;
  const first = text[0].toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}
