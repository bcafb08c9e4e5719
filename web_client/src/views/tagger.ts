// Fast tagging: walk through a folder's images and tag each from the
// keyboard. Keys toggle the folder's tags, "f" clears and moves on, arrows
// move, and every change is saved to the item's `meta.tags` at once (PUT
// /item/:id/tags; servers without tag sets get PUT /item/:id/metadata).
import { annotations, folders, getCurrentUser, isMissingRoute, items, metadata, tagging, tiles } from '../api';
import { folderPermissions } from '../lib/access';
import { isTypingTarget } from '../lib/keymap';
import { TagWalk, hintText, keyAction, startIndex, taggerPath, thumbnailSize, type TagChange } from '../lib/tagger-logic';
import { NONE_KEY, itemTags, parseTagLines, parseTagset, tagLines, tagSetupFromMeta, type TagSetup } from '../lib/tags';
import type { View } from '../router';
import type { Folder, Item } from '../types';
import { h, icon, replace } from '../ui/dom';
import { formDialog } from '../ui/modal';
import { showError } from '../ui/notify';

/** The folder's tag set, and whether the server keeps tag sets (plain Girder keeps them in folder metadata). */
async function loadSetup(folder: Folder): Promise<{ server: boolean; setup: TagSetup }> {
  try {
    let setup = parseTagset(await tagging.tagset(folder._id));
    if (!setup.tags.length && folder.meta?.tags) setup = tagSetupFromMeta(folder.meta);
    return { server: true, setup };
  } catch (err) {
    if (!isMissingRoute(err)) throw err;
    return { server: false, setup: tagSetupFromMeta(folder.meta) };
  }
}

/** The shown image, with the next ones loaded ahead. */
function imageStage() {
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
    return tiles.thumbnailUrl(it._id, thumbnailSize(await sizeOf(it)));
  };
  const img = h('img.tag-image', { alt: '' });
  let prefetched: HTMLImageElement[] = [];
  // A slow size answer must not replace the image shown after it.
  let shown = 0;
  return {
    img,
    show(it: Item, isImage: boolean) {
      const ticket = ++shown;
      if (!isImage) {
        img.hidden = true;
        return;
      }
      void imageUrl(it).then((url) => {
        if (ticket !== shown || !url) return;
        img.hidden = false;
        if (img.getAttribute('src') !== url) img.src = url;
      });
    },
    /** Keep the next images warm so moving on is instant. */
    prefetch(next: Item[]) {
      prefetched = next.map((nx) => {
        const p = new Image();
        void imageUrl(nx).then((u) => {
          if (u) p.src = u;
        });
        return p;
      });
    },
    stop: () => prefetched.forEach((p) => p.removeAttribute('src')),
  };
}

/** The tag buttons of the shown image, or why there are none. */
function tagButtons(walk: TagWalk, canEdit: boolean, press: (code: string) => void, clearAndNext: () => void): HTMLElement | HTMLElement[] {
  const { setup, canTag } = walk;
  if (!setup.tags.length) {
    return h('p.muted', null, canEdit ? 'No tags defined for this folder yet. Use “Edit tags”.' : 'No tags are defined for this folder.');
  }
  const current = walk.tags[walk.index];
  return setup.tags.map((t) => h(`button.tag-button${current.includes(t.code) ? '.on' : ''}`, {
    disabled: !canTag,
    dataset: { code: t.code },
    onclick: () => press(t.code),
  }, h('kbd', null, t.key?.toUpperCase() ?? ''), h('span', null, t.alias))).concat(
    h('button.tag-button.tag-none', { disabled: !canTag, title: 'No tag, next image', onclick: clearAndNext },
      h('kbd', null, NONE_KEY.toUpperCase()), h('span', null, 'No tag, next')));
}

/** Edit the folder's tags and mode; `done` runs once they are saved. */
function editTagsDialog(folderId: string, server: boolean, walk: TagWalk, done: () => void) {
  return formDialog('Tags of this folder', [
    { name: 'tags', label: 'One tag per line: code, or code = name, optionally with a key in brackets', type: 'textarea', value: tagLines(walk.setup), required: true, placeholder: '100 = Clear weather [1]' },
    { name: 'mode', label: 'Tags per image', type: 'select', value: walk.setup.multiple ? 'multiple' : 'single', options: [['single', 'One tag per image (a key tags and moves on)'], ['multiple', 'Several tags per image']] },
  ], 'Save', async (v) => {
    const parsed = parseTagLines(v.tags);
    if (!parsed.length) throw new Error('Give at least one tag');
    if (server) {
      walk.setup = parseTagset(await tagging.setTagset(folderId, { tags: parsed, multiple: v.mode === 'multiple' }));
    } else {
      const doc = await folders.setMetadata(folderId, { tags: parsed.map((t) => t.code), tagMode: v.mode });
      walk.setup = tagSetupFromMeta(doc.meta);
    }
    done();
  });
}

/** The side column: the shown item, its tag buttons, moving and progress. */
function tagSide(
  parts: { caption: HTMLElement; buttons: HTMLElement; untaggedBox: HTMLElement; counter: HTMLElement; bar: HTMLElement; saveState: HTMLElement },
  canTag: boolean, move: (step: 1 | -1) => void,
): HTMLElement {
  return h('aside.tag-side', null,
    parts.caption,
    parts.buttons,
    h('label.check', null, parts.untaggedBox, 'Skip tagged images'),
    h('div.row-actions', null,
      h('button.button', { onclick: () => move(-1) }, icon('chevronLeft'), 'Previous'),
      h('button.button', { onclick: () => move(1) }, 'Next', icon('chevronRight'))),
    parts.counter, h('div.progress', null, parts.bar), parts.saveState,
    canTag ? null : h('p.muted.small', null, icon('lock', 12), ' You can see the tags but not change them.'));
}

export async function taggerView(folderId: string, search: string, setQuiet: (p: string) => void): Promise<View> {
  const folder = await folders.get(folderId);
  const perms = folderPermissions(folder._accessLevel);
  const loaded = await loadSetup(folder);
  const server = loaded.server;
  // The "annotate" access flag lets read-only collaborators tag too.
  const canTag = perms.canEdit || (server && Boolean(getCurrentUser()) && await annotations.canCreateInFolder(folderId).catch(() => false));
  const list: Item[] = await items.all(folderId);
  const walk = new TagWalk(list.map((it) => itemTags(it.meta)), loaded.setup, canTag, startIndex(search, list.length));
  const saving = new Map<number, Promise<void>>();
  const stage = imageStage();

  const caption = h('div.tag-caption');
  const buttons = h('div.tag-buttons');
  const bar = h('div.progress-bar');
  const counter = h('span.muted');
  const saveState = h('span.save-status');
  const hint = h('p.muted');

  const render = () => {
    const it = list[walk.index];
    const progress = walk.progress();
    bar.style.width = `${progress.percent}%`;
    counter.textContent = progress.text;
    if (!it) {
      stage.img.hidden = true;
      replace(caption, h('p.muted', null, 'This folder has no items.'));
      return;
    }
    const isImage = Boolean(it.largeImage && !it.largeImage.expected);
    stage.show(it, isImage);
    replace(caption, h('a', { href: `/item/${it._id}` }, it.name), isImage ? null : h('span.muted', null, ' (not an image)'));
    replace(buttons, tagButtons(walk, perms.canEdit, (code) => act(walk.press(code)), () => act(walk.clearAndNext())));
    stage.prefetch([1, 2, 3].map((k) => list[walk.index + k]).filter(Boolean));
    setQuiet(taggerPath(folderId, walk.index));
  };

  const store = (change: TagChange) => {
    const i = change.index;
    saveState.textContent = 'Saving…';
    // Saves of one item run in order so a quick double press cannot land reversed.
    const p = (saving.get(i) ?? Promise.resolve()).then(async () => {
      try {
        const doc = server ? await tagging.setTags(list[i]._id, change.value) : await metadata.set('item', list[i]._id, { tags: change.value.length ? change.value : null });
        list[i] = { ...list[i], meta: doc.meta };
        saveState.textContent = 'Saved';
      } catch (err) {
        walk.undo(change);
        saveState.textContent = 'Save failed';
        showError(err, `Tagging ${list[i].name}`);
        render();
      }
    });
    saving.set(i, p);
  };

  /** Save what an action changed, and show where it left us. */
  const act = (change: TagChange | null) => {
    if (change) store(change);
    render();
  };
  const move = (step: 1 | -1) => {
    walk.move(step);
    render();
  };

  const editTags = () => editTagsDialog(folderId, server, walk, () => {
    hint.textContent = hintText(walk.setup);
    render();
  });

  hint.textContent = hintText(walk.setup);
  const untaggedBox = h('input', { type: 'checkbox', onchange: () => (walk.untaggedOnly = untaggedBox.checked) });
  const onKey = (e: KeyboardEvent) => {
    if (isTypingTarget(e.target) || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('.backdrop')) return;
    const action = keyAction(e.key, walk.setup);
    if (!action) return;
    e.preventDefault();
    if (action.type === 'tag') act(walk.press(action.code));
    else if (action.type === 'none') act(walk.clearAndNext());
    else move(action.step);
  };
  document.addEventListener('keydown', onKey);

  const el = h('div.page.tagger', null,
    h('div.page-header', null,
      h('div', null, h('h1', null, `Tagging: ${folder.name}`), hint),
      h('div.page-actions', null,
        h('a.button', { href: `/folder/${folderId}` }, icon('folder'), 'Back to folder'),
        server ? h('a.button', { href: tagging.csvUrl(folderId), 'data-external': '' }, icon('download'), 'CSV') : null,
        perms.canEdit ? h('button.button', { onclick: editTags }, icon('tag'), 'Edit tags') : null)),
    h('div.tag-layout', null,
      h('div.tag-stage', null, stage.img),
      tagSide({ caption, buttons, untaggedBox, counter, bar, saveState }, canTag, move)));
  render();
  return {
    el,
    destroy: () => {
      document.removeEventListener('keydown', onKey);
      stage.stop();
    },
  };
}
