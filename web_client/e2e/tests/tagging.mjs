// Fast tagging as in the tagging tool (seed 002): with one tag per image a key
// tags and shows the next image, F clears and moves on, arrows move; with
// several, keys toggle; the CSV export downloads <folder>__labelled__.csv.
import { readFileSync } from 'node:fs';
import { makePng, until } from '../lib.mjs';
import { assert, ctx, shot, test } from '../harness.mjs';

const NAMES = ['clip-01.png', 'clip-02.png', 'clip-03.png', 'clip-04.png'];

async function setup() {
  const folder = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: ctx.aliceFolder._id, name: `Dashcam${ctx.suffix}` } });
  const items = [];
  for (const [i, name] of NAMES.entries()) {
    const file = await ctx.api.upload(folder._id, name, makePng(480, 320, 10 + i), 'image/png');
    items.push(file.itemId);
  }
  for (const id of items) await ctx.api.waitForLargeImage(id);
  await ctx.api.call('PUT', `folder/${folder._id}/tagset`, { json: { tags: [{ code: '100', alias: 'Clear weather' }, { code: '200', alias: 'Rainy' }, { code: '300', alias: 'Foggy' }], multiple: false } });
  return { folder, items };
}

const tagsOf = async (id) => (await ctx.api.call('GET', `item/${id}`)).meta?.tags ?? [];
const counter = (page) => page.textContent('.tag-side .muted:has-text("Image ")');

/** Wait until the server holds these tags for an item. */
async function serverTags(id, want) {
  const text = JSON.stringify(want);
  await until(async () => JSON.stringify(await tagsOf(id)) === text, { message: `tags ${text} on ${id}` });
}

test('tagging', 'one tag per image: a key tags and moves on, F clears and moves on, arrows move', async () => {
  const { page } = ctx;
  const { folder, items } = await setup();
  ctx.tagging = { folder, items };
  // clip-02 starts with a tag that F will clear.
  await ctx.api.call('PUT', `item/${items[1]}/tags`, { json: ['100'] });
  await page.goto(`${ctx.url}/tag/${folder._id}`);
  await page.waitForSelector('.tag-button[data-code="200"]');
  assert((await counter(page)).startsWith('Image 1 of 4'), await counter(page));
  await page.keyboard.press('2');
  await page.waitForSelector('.tag-caption a:has-text("clip-02.png")');
  await serverTags(items[0], ['200']);
  // clip-02 shows its stored tag; F clears it and moves to clip-03.
  assert(await page.locator('.tag-button.on[data-code="100"]').count() === 1, 'clip-02 shows its tag');
  await page.keyboard.press('f');
  await page.waitForSelector('.tag-caption a:has-text("clip-03.png")');
  await serverTags(items[1], []);
  await page.keyboard.press('ArrowLeft');
  await page.waitForSelector('.tag-caption a:has-text("clip-02.png")');
  assert(await page.locator('.tag-button.on').count() === 0, 'clip-02 has no tag now');
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('.tag-caption a:has-text("clip-03.png")');
  assert(/[?&]i=2/.test(page.url()), `the URL keeps the place: ${page.url()}`);
  // Pressing the tag an image already has keeps it (it does not toggle off) and moves on.
  await page.keyboard.press('3');
  await page.waitForSelector('.tag-caption a:has-text("clip-04.png")');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('3');
  await page.waitForSelector('.tag-caption a:has-text("clip-04.png")');
  await serverTags(items[2], ['300']);
  await page.keyboard.press('1');
  await page.waitForSelector('.tag-button.on[data-code="100"]');
  await serverTags(items[3], ['100']);
  assert((await counter(page)).startsWith('Image 4 of 4 · 3 tagged'), await counter(page));
  // A 480 x 320 image is shown at its own size, not enlarged to the stage.
  await page.waitForFunction(() => {
    const img = document.querySelector('.tag-image');
    return img && !img.hidden && img.complete && img.naturalWidth > 0 && img.getAttribute('src').includes('width=480');
  });
  const shown = await page.$eval('.tag-image', (img) => ({ w: img.naturalWidth, h: img.naturalHeight, cw: img.clientWidth }));
  assert(shown.w === 480 && shown.h === 320 && shown.cw === 480, `shown at natural size: ${JSON.stringify(shown)}`);
  await shot(page, '26-tagging-single');
});

test('tagging', 'several tags per image: keys toggle and stay; the CSV export downloads __labelled__.csv', async () => {
  const { page } = ctx;
  const { folder, items } = ctx.tagging;
  await ctx.api.call('PUT', `folder/${folder._id}/tagset`, { json: { tags: [{ code: '100', alias: 'Clear weather' }, { code: '200', alias: 'Rainy' }, { code: '300', alias: 'Foggy' }], multiple: true } });
  await page.goto(`${ctx.url}/tag/${folder._id}`);
  await page.waitForSelector('.tag-button.on[data-code="200"]');
  await page.keyboard.press('1');
  await page.waitForSelector('.tag-button.on[data-code="100"]');
  await serverTags(items[0], ['100', '200']);
  await page.keyboard.press('2');
  await page.waitForSelector('.tag-button:not(.on)[data-code="200"]');
  await serverTags(items[0], ['100']);
  await page.keyboard.press('3');
  await serverTags(items[0], ['100', '300']);
  assert(await page.locator('.tag-caption a:has-text("clip-01.png")').count() === 1, 'still on the first image');
  await shot(page, '27-tagging-multiple');

  const download = page.waitForEvent('download');
  await page.click('a:has-text("CSV")');
  const file = await download;
  assert(file.suggestedFilename() === `${folder.name}__labelled__.csv`, `file name ${file.suggestedFilename()}`);
  const csv = readFileSync(await file.path(), 'utf8').trim().split('\n');
  assert(csv[0] === 'clip_id,modality,file_path,tag_code_100,tag_code_200,tag_code_300', `header ${csv[0]}`);
  assert(JSON.stringify(csv.slice(1)) === JSON.stringify([
    ',,clip-01.png,True,False,True', ',,clip-02.png,False,False,False', ',,clip-03.png,False,False,True', ',,clip-04.png,True,False,False',
  ]), `rows ${JSON.stringify(csv.slice(1))}`);
});
