// The viewer on real multi-frame and labelled TIFFs: the channel selector
// changes tile URLs and pixels, associated images (label, macro) are listed
// and shown, full screen toggles, and a copied link reopens the same view.
import { readFileSync } from 'node:fs';
import { makePng, until } from '../lib.mjs';
import { assert, ctx, mapPixel, shot, test, testImages, waitForTiles } from '../harness.mjs';

async function uploadTiff(name, path) {
  const folder = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: ctx.aliceFolder._id, name: `Slides ${name}${ctx.suffix}`, reuseExisting: true } });
  const file = await ctx.api.upload(folder._id, name, readFileSync(path), 'image/tiff');
  await ctx.api.waitForLargeImage(file.itemId);
  return file.itemId;
}

/** Collect the tile URLs the page requests from now on. */
function recordTiles(page) {
  const urls = [];
  const on = (r) => {
    const m = /\/tiles\/(zxy|fzxy)\/([\d/]+)/.exec(r.url());
    if (m) urls.push(`${m[1]}/${m[2]}`);
  };
  page.on('request', on);
  return { urls, stop: () => page.off('request', on) };
}

/** The dominant channel of the slide's pixels at the map's centre. */
async function centreColour(page) {
  const [w, hgt] = await page.evaluate(() => window.__tilery.map.getSize());
  const [r, g, b] = await mapPixel(page, w / 2 + 20, hgt / 2 + 20);
  return r > g && r > b ? 'red' : g > r && g > b ? 'green' : b > r && b > g ? 'blue' : `grey ${r},${g},${b}`;
}

test('slides', 'a multi-frame TIFF: the channel selector switches frames, tile URLs (fzxy) and pixels', async () => {
  const { page } = ctx;
  ctx.channelsItem = await uploadTiff('channels.tif', (await testImages()).channels);
  const rec = recordTiles(page);
  await page.goto(`${ctx.url}/view/${ctx.channelsItem}`);
  await waitForTiles(page);
  const options = await page.$$eval('.frame-selector select option', (els) => els.map((e) => e.textContent));
  assert(JSON.stringify(options) === '["Red","Green","Blue"]', `channel names listed: ${options}`);
  assert(rec.urls.length && rec.urls.every((u) => u.startsWith('fzxy/0/')), `frame 0 tiles: ${rec.urls.slice(0, 4)}`);
  await until(async () => (await centreColour(page)) === 'red', { message: 'frame 0 drawn in red' });
  rec.urls.length = 0;
  await page.selectOption('.frame-selector select', { label: 'Green' });
  await waitForTiles(page);
  assert(rec.urls.length && rec.urls.every((u) => u.startsWith('fzxy/1/')), `frame 1 tiles: ${rec.urls.slice(0, 4)}`);
  // Tiles fade in: wait for the new colour rather than for a fixed time.
  await until(async () => (await centreColour(page)) === 'green', { message: 'frame 1 drawn in green' });
  rec.urls.length = 0;
  await page.selectOption('.frame-selector select', { label: 'Blue' });
  await waitForTiles(page);
  assert(rec.urls.every((u) => u.startsWith('fzxy/2/')), `frame 2 tiles: ${rec.urls.slice(0, 4)}`);
  rec.stop();
  await page.waitForURL(/[?&]frame=2/);
  // The overview follows the frame too.
  assert((await page.getAttribute('.overview-image', 'src')).includes('frame=2'), 'the overview shows frame 2');
  await shot(page, '17-frames');
});

test('slides', 'associated images: the label and the macro are listed and open larger', async () => {
  const { page } = ctx;
  const itemId = await uploadTiff('labelled.tif', (await testImages()).labelled);
  await page.goto(`${ctx.url}/view/${itemId}`);
  await waitForTiles(page);
  await page.waitForSelector('.assoc');
  const names = await page.$$eval('.assoc span', (els) => els.map((e) => e.textContent));
  assert(JSON.stringify(names) === '["label","macro"]', `associated images: ${names}`);
  // The thumbnails are the real images: the label is 300x200, the macro 800x300.
  const sizes = await page.$$eval('.assoc img', (imgs) => Promise.all(imgs.map(async (img) => {
    await img.decode();
    return img.naturalWidth / img.naturalHeight;
  })));
  assert(Math.abs(sizes[0] - 1.5) < 0.05 && Math.abs(sizes[1] - 8 / 3) < 0.05, `aspect ratios ${sizes}`);
  await shot(page, '18-associated-images');
  await page.click('.assoc:has-text("macro")');
  await page.waitForSelector('.dialog img.assoc-large');
  const large = await page.$eval('.dialog img.assoc-large', async (img) => {
    await img.decode();
    return [img.naturalWidth, img.naturalHeight];
  });
  assert(large[0] === 800 && large[1] === 300, `the macro opens at full size: ${large}`);
  assert(await page.textContent('.dialog h2') === 'Macro', 'the dialog names it');
  await shot(page, '19-associated-macro');
  await page.keyboard.press('Escape');
  await page.waitForSelector('.dialog', { state: 'detached' });
});

test('slides', 'full screen toggles from the button and the keyboard', async () => {
  const { page } = ctx;
  await page.goto(`${ctx.url}/view/${ctx.channelsItem}`);
  await waitForTiles(page);
  const before = await page.evaluate(() => window.__tilery.map.getSize());
  await page.click('.viewer-top button[aria-pressed]');
  await page.waitForFunction(() => document.fullscreenElement?.classList.contains('viewer'));
  await page.waitForSelector('.viewer-top button[aria-pressed="true"][title^="Leave full screen"]');
  // The map grows into the freed space (no header any more).
  await page.waitForFunction((h) => window.__tilery.map.getSize()[1] > h, before[1]);
  await waitForTiles(page);
  await shot(page, '20-full-screen');
  await page.keyboard.press('Shift+F');
  await page.waitForFunction(() => !document.fullscreenElement);
  await page.waitForSelector('.viewer-top button[aria-pressed="false"][title^="Full screen"]');
  await page.waitForFunction((h) => window.__tilery.map.getSize()[1] === h, before[1]);
  await page.keyboard.press('Shift+F');
  await page.waitForFunction(() => Boolean(document.fullscreenElement));
  await page.keyboard.press('Shift+F');
  await page.waitForFunction(() => !document.fullscreenElement);
});

test('slides', 'copy link: the copied URL reopens the same centre, zoom and frame', async () => {
  const { page } = ctx;
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ctx.url });
  await page.goto(`${ctx.url}/view/${ctx.channelsItem}`);
  await waitForTiles(page);
  await page.selectOption('.frame-selector select', { label: 'Green' });
  await page.evaluate(() => {
    const view = window.__tilery.map.getView();
    view.setCenter([700, -250]);
    view.setResolution(0.5);
  });
  await waitForTiles(page);
  await page.click('.viewer-top button[title^="Copy a link"]');
  await page.waitForSelector('.toast-success:has-text("Link to this view copied")');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  assert(link.startsWith(`${ctx.url}/view/${ctx.channelsItem}?`), `copied ${link}`);
  // Reopened in a fresh tab, the link shows the same place.
  const other = await page.context().newPage();
  const rec = recordTiles(other);
  await other.goto(link);
  await waitForTiles(other);
  rec.stop();
  const state = await other.evaluate(() => {
    const view = window.__tilery.map.getView();
    return { center: view.getCenter(), res: view.getResolution(), channel: document.querySelector('.frame-selector select').value };
  });
  await other.close();
  assert(Math.abs(state.center[0] - 700) < 1 && Math.abs(state.center[1] + 250) < 1, `centre ${state.center}`);
  assert(Math.abs(state.res - 0.5) < 1e-3, `resolution ${state.res}`);
  assert(state.channel === '1', `channel ${state.channel}`);
  assert(rec.urls.length && rec.urls.every((u) => u.startsWith('fzxy/1/')), `reopened tiles: ${rec.urls.slice(0, 3)}`);
});

test('slides', 'viewer chrome: the overview sits bottom left and folds away (remembered), a long folder name is cut short', async () => {
  const { page } = ctx;
  const long = `A folder with a very long name that would push the viewer toolbar about${ctx.suffix}`;
  const folder = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: ctx.aliceFolder._id, name: long } });
  const file = await ctx.api.upload(folder._id, 'wide.png', makePng(3000, 1200, 9), 'image/png');
  await ctx.api.waitForLargeImage(file.itemId);
  await page.evaluate(() => localStorage.removeItem('tilery.overview'));
  await page.goto(`${ctx.url}/view/${file.itemId}`);
  await waitForTiles(page);
  const back = page.locator('a.viewer-back');
  const box = await back.boundingBox();
  assert(box.width <= 222, `the back button stays narrow: ${box.width}px`);
  assert(await back.getAttribute('title') === `Back to ${long}`, 'the full name is in the tooltip');
  // The whole slide in view: the overview would only cover part of it.
  assert(!(await page.isVisible('.viewer-overview')), 'no overview while the whole slide is in view');
  await page.evaluate(() => window.__tilery.map.getView().setResolution(1));
  await page.waitForSelector('.viewer-overview', { state: 'visible' });
  const [stage, ov, status] = await Promise.all(['.viewer-stage', '.viewer-overview', '.viewer-status'].map((s) => page.locator(s).first().boundingBox()));
  assert(ov.x - stage.x < 30 && stage.y + stage.height - (ov.y + ov.height) < 90, `overview bottom left: ${JSON.stringify({ stage, ov })}`);
  assert(ov.y + ov.height <= status.y, 'above the readouts');
  await shot(page, '32-viewer-overview');
  await page.click('.overview-toggle');
  await page.waitForSelector('.viewer-overview', { state: 'hidden' });
  assert(await page.evaluate(() => localStorage.getItem('tilery.overview')) === 'collapsed', 'the choice is stored');
  await page.reload();
  await waitForTiles(page);
  await page.evaluate(() => window.__tilery.map.getView().setResolution(1));
  await page.waitForSelector('.overview-toggle[aria-expanded="false"]');
  assert(!(await page.isVisible('.viewer-overview')), 'still folded after a reload');
  await page.click('.overview-toggle');
  await page.waitForSelector('.viewer-overview', { state: 'visible' });
});
