// Fast tagging: walk through a folder's images and tag each from the
// keyboard. Keys toggle the folder's tags, "f" clears and moves on, arrows
// move, and every change is saved to the item's `meta.tags` at once (PUT
// /item/:id/tags; servers without tag sets get PUT /item/:id/metadata).
import { annotations, folders, getCurrentUser, isMissingRoute, items, metadata, tagging, tiles } from '../api';
import { folderPermissions } from '../lib/access';
import { isTypingTarget } from '../lib/keymap';
import {
  NONE_KEY, itemTags, nextIndex, parseTagLines, parseTagset, tagForKey, tagLines, tagSetupFromMeta, pressTag, type TagSetup,
} from '../lib/tags';
import type { View } from '../router';
import type { Item } from '../types';
import { h, icon, replace } from '../ui/dom';
import { formDialog } from '../ui/modal';
import { showError } from '../ui/notify';

export async function taggerView(folderId: string, search: string, setQuiet: (p: string) => void): Promise<View> {
  const folder = await folders.get(folderId);
  const perms = folderPermissions(folder._accessLevel);
  // Tag sets are a Tilery feature; plain Girder keeps the tags in folder metadata.
  let server = true;
  let setup: TagSetup;
  try {
    setup = parseTagset(await tagging.tagset(folderId));
    if (!setup.tags.length && folder.meta?.tags) setup = tagSetupFromMeta(folder.meta);
  } catch (err) {
    if (!isMissingRoute(err)) throw err;
    server = false;
    setup = tagSetupFromMeta(folder.meta);
  }
  // The "annotate" access flag lets read-only collaborators tag too.
  const canTag = perms.canEdit || (server && Boolean(getCurrentUser()) && await annotations.canCreateInFolder(folderId).catch(() => false));
  const list: Item[] = await items.all(folderId);
  const tags: string[][] = list.map((it) => itemTags(it.meta));
  const start = Number(new URLSearchParams(search).get('i') ?? 0);
  let index = Number.isInteger(start) && start >= 0 && start < list.length ? start : 0;
  let untaggedOnly = false;
  const saving = new Map<number, Promise<void>>();

  const img = h('img.tag-image', { alt: '' });
  const caption = h('div.tag-caption');
  const buttons = h('div.tag-buttons');
  const bar = h('div.progress-bar');
  const counter = h('span.muted');
  const saveState = h('span.save-status');
  let prefetch: HTMLImageElement[] = [];

  // The thumbnail endpoint scales up to the asked size, so ask for no more than
  // the image's own size: small images are shown at 1:1, never enlarged.
  const sizes = new Map<string, Promise<{ w: number; h: number } | null>>();
  const sizeOf = (it: Item) => {
    let p = sizes.get(it._id);
    if (!p) {
      p = tiles.metadata(it._id).then((m) => ({ w: m.sizeX, h: m.sizeY }), () => null);
      sizes.set(it._id, p);
    }
    return p;
  };
  const imageUrl = async (it: Item): Promise<string | null> => {
    if (!it.largeImage || it.largeImage.expected) return null;
    const s = await sizeOf(it);
    return tiles.thumbnailUrl(it._id, { width: Math.min(1400, s?.w ?? 1400), height: Math.min(1000, s?.h ?? 1000) });
  };
  let shown = 0;

  const render = () => {
    const it = list[index];
    const tagged = tags.filter((t) => t.length).length;
    bar.style.width = `${list.length ? (tagged / list.length) * 100 : 0}%`;
    counter.textContent = list.length ? `Image ${index + 1} of ${list.length} · ${tagged} tagged` : '';
    if (!it) {
      img.hidden = true;
      replace(caption, h('p.muted', null, 'This folder has no items.'));
      return;
    }
    const isImage = Boolean(it.largeImage && !it.largeImage.expected);
    const ticket = ++shown;
    if (!isImage) img.hidden = true;
    else {
      void imageUrl(it).then((url) => {
        if (ticket !== shown || !url) return;
        img.hidden = false;
        if (img.getAttribute('src') !== url) img.src = url;
      });
    }
    replace(caption, h('a', { href: `/item/${it._id}` }, it.name), isImage ? null : h('span.muted', null, ' (not an image)'));
    replace(buttons, setup.tags.length
      ? setup.tags.map((t) => h(`button.tag-button${tags[index].includes(t.code) ? '.on' : ''}`, {
        disabled: !canTag,
        dataset: { code: t.code },
        onclick: () => press(t.code),
      }, h('kbd', null, t.key?.toUpperCase() ?? ''), h('span', null, t.alias))).concat(
        h('button.tag-button.tag-none', { disabled: !canTag, title: 'No tag, next image', onclick: clearAndNext },
          h('kbd', null, NONE_KEY.toUpperCase()), h('span', null, 'No tag, next')))
      : h('p.muted', null, perms.canEdit ? 'No tags defined for this folder yet. Use “Edit tags”.' : 'No tags are defined for this folder.'));
    // Keep the next images warm so moving on is instant.
    prefetch = [1, 2, 3].map((k) => list[index + k]).filter(Boolean).map((nx) => {
      const p = new Image();
      void imageUrl(nx).then((u) => {
        if (u) p.src = u;
      });
      return p;
    });
    setQuiet(`/tag/${folderId}${index ? `?i=${index}` : ''}`);
  };

  const store = (i: number, value: string[], before: string[]) => {
    saveState.textContent = 'Saving…';
    // Saves of one item run in order so a quick double press cannot land reversed.
    const p = (saving.get(i) ?? Promise.resolve()).then(async () => {
      try {
        const doc = server ? await tagging.setTags(list[i]._id, value) : await metadata.set('item', list[i]._id, { tags: value.length ? value : null });
        list[i] = { ...list[i], meta: (doc as Item).meta };
        saveState.textContent = 'Saved';
      } catch (err) {
        tags[i] = before;
        saveState.textContent = 'Save failed';
        showError(err, `Tagging ${list[i].name}`);
        render();
      }
    });
    saving.set(i, p);
  };

  const same = (a: string[], b: string[]) => a.length === b.length && a.every((t, k) => t === b[k]);

  const press = (code: string) => {
    if (!canTag) return;
    const i = index;
    const before = tags[i];
    tags[i] = pressTag(before, code, setup);
    render();
    if (!same(before, tags[i])) store(i, tags[i], before);
    // One tag per image: the choice is made, show the next image.
    if (!setup.multiple) move(1);
  };

  const clearAndNext = () => {
    const i = index;
    const before = tags[i];
    if (before.length && canTag) {
      tags[i] = [];
      store(i, [], before);
    }
    move(1);
  };

  const move = (step: 1 | -1) => {
    const next = nextIndex(tags, index, step, untaggedOnly);
    if (next !== index) {
      index = next;
      render();
    } else render();
  };

  const editTags = () => formDialog('Tags of this folder', [
    { name: 'tags', label: 'One tag per line: code, or code = name, optionally with a key in brackets', type: 'textarea', value: tagLines(setup), required: true, placeholder: '100 = Clear weather [1]' },
    { name: 'mode', label: 'Tags per image', type: 'select', value: setup.multiple ? 'multiple' : 'single', options: [['single', 'One tag per image (a key tags and moves on)'], ['multiple', 'Several tags per image']] },
  ], 'Save', async (v) => {
    const parsed = parseTagLines(v.tags);
    if (!parsed.length) throw new Error('Give at least one tag');
    if (server) {
      setup = parseTagset(await tagging.setTagset(folderId, { tags: parsed, multiple: v.mode === 'multiple' }));
    } else {
      const doc = await folders.setMetadata(folderId, { tags: parsed.map((t) => t.code), tagMode: v.mode });
      setup = tagSetupFromMeta(doc.meta);
    }
    renderHint();
    render();
  });

  const hint = h('p.muted');
  const renderHint = () => {
    hint.textContent = `${setup.multiple ? 'Several tags per image: a tag’s key turns it on or off' : 'One tag per image: a tag’s key sets it and shows the next image'} · F: no tag, next · ← → or Space to move. Changes save at once.`;
  };
  renderHint();
  const untaggedBox = h('input', { type: 'checkbox', onchange: () => (untaggedOnly = untaggedBox.checked) });
  const onKey = (e: KeyboardEvent) => {
    if (isTypingTarget(e.target) || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('.backdrop')) return;
    const tag = tagForKey(e.key, setup);
    if (tag) {
      e.preventDefault();
      press(tag.code);
    } else if (e.key.toLowerCase() === NONE_KEY) {
      e.preventDefault();
      clearAndNext();
    } else if (e.key === 'ArrowRight' || e.key === ' ') {
      e.preventDefault();
      move(1);
    } else if (e.key === 'ArrowLeft') {
      e.preventDefault();
      move(-1);
    }
  };
  document.addEventListener('keydown', onKey);

  const el = h('div.page.tagger', null,
    h('div.page-header', null,
      h('div', null, h('h1', null, `Tagging: ${folder.name}`),
        hint),
      h('div.page-actions', null,
        h('a.button', { href: `/folder/${folderId}` }, icon('folder'), 'Back to folder'),
        server ? h('a.button', { href: tagging.csvUrl(folderId), 'data-external': '' }, icon('download'), 'CSV') : null,
        perms.canEdit ? h('button.button', { onclick: editTags }, icon('tag'), 'Edit tags') : null)),
    h('div.tag-layout', null,
      h('div.tag-stage', null, img),
      h('aside.tag-side', null,
        caption,
        buttons,
        h('label.check', null, untaggedBox, 'Skip tagged images'),
        h('div.row-actions', null,
          h('button.button', { onclick: () => move(-1) }, icon('chevronLeft'), 'Previous'),
          h('button.button', { onclick: () => move(1) }, 'Next', icon('chevronRight'))),
        counter, h('div.progress', null, bar), saveState,
        canTag ? null : h('p.muted.small', null, icon('lock', 12), ' You can see the tags but not change them.'))));
  render();
  return {
    el,
    destroy: () => {
      document.removeEventListener('keydown', onKey);
      prefetch.forEach((p) => p.removeAttribute('src'));
    },
  };
}
