// The first flows: sign in, upload and convert, draw and edit, share read-only,
// a 100,000-element annotation, pixel labels, tagging, item and key pages.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePng, manyElements, panFps, until } from '../lib.mjs';
import { assert, ctx, dragOnSlide, newSignedInPage, screenOf, shot, signIn, tempDir, test, waitForTiles, waitSaved } from '../harness.mjs';

test('core', 'sign in, upload an image and wait for its conversion', async () => {
  const { page } = ctx;
  // The runner signed this page in; start signed out to see the sign-in page.
  await page.evaluate(() => localStorage.clear());
  await page.context().clearCookies();
  await page.goto(`${ctx.url}/login`);
  await shot(page, '01-sign-in');
  await signIn(page, 'alice', 'alice-password1');
  const me = ctx.alice;
  await page.goto(`${ctx.url}/folder/${ctx.aliceFolder._id}`);
  await page.waitForSelector('table.entries');
  const chooser = page.waitForEvent('filechooser');
  await page.click('button:has-text("Upload files")');
  const slide = join(tempDir('tilery-img-'), 'slide-a.png');
  writeFileSync(slide, makePng(2048, 1536));
  await (await chooser).setFiles(slide);
  // The upload panel shows the file's progress, then the conversion, then Ready.
  await page.waitForSelector('.upload-row[data-state="done"]', { timeout: 120000 });
  const status = await page.textContent('.upload-row .upload-status');
  assert(status === 'Ready', `upload ended as "${status}"`);
  await shot(page, '02-upload-done');
  // Everything finished well: a few seconds later the tray folds to a small pill.
  await page.waitForSelector('.upload-panel.collapsed .upload-pill-text:has-text("1 upload done")', { timeout: 10000 });
  const pill = await page.locator('.upload-panel').boundingBox();
  assert(pill.height <= 48 && pill.width <= 320, `the minimised tray is small: ${JSON.stringify(pill)}`);
  await shot(page, '31-upload-pill');
  const items = await ctx.api.call('GET', 'item', { params: { folderId: ctx.aliceFolder._id } });
  ctx.item = items.find((i) => i.name === 'slide-a.png');
  assert(ctx.item?.largeImage, 'the uploaded item is a large image');
  assert(me.login === 'alice', 'signed in as alice');
  await page.goto(`${ctx.url}/folder/${ctx.aliceFolder._id}`);
  await page.waitForSelector(`tr[data-id="${ctx.item._id}"] img.thumb`);
  await shot(page, '03-folder');
});

test('core', 'register a new account', async () => {
  const context = await ctx.browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  try {
    await page.goto(`${ctx.url}/register`);
    await page.fill('input[name=firstName]', 'Carol');
    await page.fill('input[name=lastName]', 'Curator');
    const login = `carol${ctx.suffix.trim()}`;
    await page.fill('input[name=login]', login);
    await page.fill('input[name=email]', `${login}@example.org`);
    // A short password: the server's message reads as a sentence, without "(password)".
    await page.fill('input[name=password]', '123');
    await page.click('button[type=submit]');
    const error = await (await page.waitForSelector('.form-error:not([hidden])')).textContent();
    assert(error === 'Password must be at least 6 characters.', `error text: ${error}`);
    await page.fill('input[name=password]', 'carol-password1');
    // Both name fields sit inside the card.
    const [card, last] = await Promise.all(['.auth-card', 'input[name=lastName]'].map(async (sel) => (await page.$(sel)).boundingBox()));
    assert(last.x + last.width <= card.x + card.width - 16, `Last name ends inside the card: ${JSON.stringify([last, card])}`);
    await shot(page, '00-register');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/user\/[0-9a-f]{24}/);
    await page.waitForSelector('text=Private');
    // Signing out returns to the sign-in page.
    await page.click('.user-button');
    await page.click('.menu-item:has-text("Sign out")');
    await page.waitForURL(/\/login/);
  } finally {
    await context.close();
  }
});

test('core', 'open the slide, draw a rectangle and a polygon, edit a vertex, reload and find them', async () => {
  const { page } = ctx;
  await page.goto(`${ctx.url}/view/${ctx.item._id}`);
  await waitForTiles(page);
  await page.waitForFunction(() => window.__tilery.editor.enabled);
  // Rectangle: press R and drag.
  await page.keyboard.press('r');
  await dragOnSlide(page, [300, 300], [700, 600]);
  // Polygon: press P, click the corners, Enter finishes.
  await page.keyboard.press('p');
  const corners = [[1000, 300], [1500, 350], [1450, 800], [1050, 700]];
  for (const [cx, cy] of corners) {
    const [sx, sy] = await screenOf(page, cx, cy);
    await page.mouse.click(sx, sy);
  }
  await page.keyboard.press('Enter');
  await waitSaved(page);
  const drawn = await page.evaluate(() => [...window.__tilery.layers[0].elements.values()].map((e) => e.type));
  assert(drawn.length === 2 && drawn.includes('rectangle') && drawn.includes('polyline'), `drawn ${drawn}`);
  // Select the polygon and drag its first vertex.
  await page.keyboard.press('v');
  const [inX, inY] = await screenOf(page, 1250, 520);
  await page.mouse.click(inX, inY);
  await page.waitForFunction(() => window.__tilery.editor.selection.length === 1);
  await dragOnSlide(page, [1000, 300], [900, 200]);
  await waitSaved(page);
  await shot(page, '04-viewer-editing');
  await page.keyboard.press('Escape');
  // Reload: the stored annotation has both shapes and the moved vertex.
  await page.reload();
  await waitForTiles(page);
  await page.evaluate(() => window.__tilery.loaded);
  const stored = await page.evaluate(() => [...window.__tilery.layers[0].elements.values()]);
  const poly = stored.find((e) => e.type === 'polyline');
  const rect = stored.find((e) => e.type === 'rectangle');
  assert(stored.length === 2 && poly && rect, 'both shapes are stored');
  const moved = poly.points.some(([px, py]) => Math.abs(px - 900) < 25 && Math.abs(py - 200) < 25);
  assert(moved, `vertex moved: ${JSON.stringify(poly.points)}`);
  assert(Math.abs(rect.width - 400) < 25 && Math.abs(rect.height - 300) < 25, `rectangle ${rect.width}x${rect.height}`);
  const anns = await ctx.api.call('GET', 'annotation', { params: { itemId: ctx.item._id } });
  const full = await ctx.api.call('GET', `annotation/${anns[0]._id}`);
  assert(full.annotation.elements.length === 2, 'the server holds two elements');
  ctx.annotationId = anns[0]._id;
  await shot(page, '05-viewer-reloaded');
});

test('core', 'undo and redo a deletion', async () => {
  const { page } = ctx;
  await page.keyboard.press('v');
  const [sx, sy] = await screenOf(page, 500, 450);
  await page.mouse.click(sx, sy);
  await page.waitForFunction(() => window.__tilery.editor.selection.length === 1);
  await page.keyboard.press('Delete');
  await page.waitForFunction(() => window.__tilery.layers[0].elements.size === 1);
  await page.keyboard.press('Control+z');
  await page.waitForFunction(() => window.__tilery.layers[0].elements.size === 2);
  await waitSaved(page);
  const full = await ctx.api.call('GET', `annotation/${ctx.annotationId}`);
  assert(full.annotation.elements.length === 2, 'undo restored the element on the server');
});

test('core', 'share the folder read-only: the second user sees but cannot edit', async () => {
  const { page } = ctx;
  await page.goto(`${ctx.url}/folder/${ctx.aliceFolder._id}`);
  await page.click('button:has-text("Share")');
  await page.fill('.dialog input[type=search]', 'bobby');
  await page.click('.search-result:has-text("bobby")');
  await shot(page, '06-share-dialog');
  await page.click('.dialog button:has-text("Save")');
  await page.waitForSelector('.toast-success');
  const access = await ctx.api.call('GET', `folder/${ctx.aliceFolder._id}/access`);
  const bob = access.users.find((u) => u.id === ctx.bob._id);
  assert(bob && bob.level === 0, 'bob has read access');

  const { page: bobPage } = await newSignedInPage('bobby', 'bob-password1');
  await bobPage.goto(`${ctx.url}/folder/${ctx.aliceFolder._id}`);
  await bobPage.waitForSelector('table.entries');
  assert(await bobPage.locator('button:has-text("Upload files")').count() === 0, 'no upload for a reader');
  assert(await bobPage.locator('button:has-text("Share")').count() === 0, 'no sharing for a reader');
  // The tile routes reuse an item's access check for the server's
  // auth_cache_seconds (5 s), so a fresh share reaches them that much later.
  await until(() => ctx.bobApi.call('GET', `item/${ctx.item._id}/tiles`).then(() => true), { message: 'tiles readable by bob', interval: 250 });
  await bobPage.goto(`${ctx.url}/view/${ctx.item._id}`);
  await waitForTiles(bobPage);
  await bobPage.evaluate(() => window.__tilery.loaded);
  await bobPage.waitForSelector('.readonly-badge');
  const tools = await bobPage.$$eval('.toolbar [data-tool]', (els) => els.map((e) => e.dataset.tool));
  assert(tools.length === 1 && tools[0] === 'select', `reader tools: ${tools}`);
  const count = await bobPage.evaluate(() => window.__tilery.layers[0].elements.size);
  assert(count === 2, 'the reader sees both shapes');
  // Keyboard shortcuts cannot switch a reader to a drawing tool either.
  await bobPage.keyboard.press('r');
  assert(await bobPage.evaluate(() => window.__tilery.editor.currentTool) === 'select', 'no drawing tool for a reader');
  await bobPage.click('.ann-row .ann-name');
  assert(await bobPage.evaluate(() => window.__tilery.editor.enabled) === false, 'the annotation stays view only');
  await shot(bobPage, '07-reader-view-only');
});

test('core', 'a 100,000-element annotation loads and pans', async () => {
  const { page } = ctx;
  const meta = await ctx.api.call('GET', `item/${ctx.item._id}/tiles`);
  const t0 = Date.now();
  const ann = await ctx.api.call('POST', 'annotation', {
    params: { itemId: ctx.item._id },
    json: { name: 'Nuclei (100k)', elements: manyElements(100000, meta.sizeX, meta.sizeY) },
  });
  console.log(`    stored 100,000 elements in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await page.goto(`${ctx.url}/view/${ctx.item._id}?ann=${ann._id}`);
  await waitForTiles(page);
  await page.waitForFunction((id) => {
    const l = window.__tilery.layers.find((x) => x.id === id);
    return l && l.count === 100000 && l.mode === 'region';
  }, ann._id, { timeout: 60000 });
  await waitForTiles(page);
  await shot(page, '08-100k-overview');
  // Pan for a second and count rendered frames.
  const fps = await panFps(page, 1.5);
  console.log(`    panning over 100k elements: ${fps.toFixed(1)} frames/s`);
  assert(fps > 5, `panning is fluid enough (${fps.toFixed(1)} fps)`);
  // Zoom in: the visible region's elements load in full.
  await page.evaluate(() => {
    const { map } = window.__tilery;
    map.getView().setResolution(0.2);
  });
  await page.waitForFunction((id) => {
    const l = window.__tilery.layers.find((x) => x.id === id);
    return l && l.elements.size > 0 && l.elements.size < 20000;
  }, ann._id, { timeout: 30000 });
  await waitForTiles(page);
  await shot(page, '09-100k-zoomed');
});

test('core', 'paint pixel labels, erase with the right button and save a checkpoint', async () => {
  const { page } = ctx;
  await page.goto(`${ctx.url}/view/${ctx.item._id}?ann=`);
  await waitForTiles(page);
  await page.waitForFunction(() => window.__tilery.editor.enabled);
  await page.keyboard.press('b');
  await page.waitForSelector('.pixel-panel .cat-row');
  await page.keyboard.press('2');
  let [x1, y1] = await screenOf(page, 200, 1000);
  let [x2, y2] = await screenOf(page, 1600, 1100);
  await page.mouse.move(x1, y1);
  await page.mouse.down();
  await page.mouse.move(x2, y2, { steps: 12 });
  await page.mouse.up();
  const painted = await page.evaluate(() => window.__tilery.labeller.fractions().get(2));
  assert(painted > 0.005, `painted share ${painted}`);
  // Right button erases part of the stroke.
  [x1, y1] = await screenOf(page, 800, 1050);
  await page.mouse.move(x1, y1);
  await page.mouse.down({ button: 'right' });
  await page.mouse.move(x1 + 60, y1, { steps: 4 });
  await page.mouse.up({ button: 'right' });
  const after = await page.evaluate(() => window.__tilery.labeller.fractions().get(2));
  assert(after < painted, 'erasing removed labels');
  await page.click('.pixel-panel button:has-text("Save checkpoint")');
  await page.waitForFunction(() => !window.__tilery.labeller.dirty && window.__tilery.labeller.status === 'checkpoint');
  await shot(page, '12-pixel-labels');
  const masks = await ctx.api.call('GET', `item/${ctx.item._id}/labels`);
  assert(masks.length === 1 && masks[0].status === 'checkpoint' && masks[0].values.includes(2), `stored masks ${JSON.stringify(masks)}`);
  // Reopening the slide brings the mask back.
  await page.reload();
  await waitForTiles(page);
  await page.keyboard.press('b');
  await page.waitForFunction((v) => Math.abs(window.__tilery.labeller.fractions().get(2) - v) < 0.002, after);
});

test('core', 'tag images from the keyboard', async () => {
  const { page } = ctx;
  await ctx.api.call('PUT', `folder/${ctx.aliceFolder._id}/tagset`, { json: { tags: [{ code: 'tumour', alias: 'Tumour' }, { code: 'normal', alias: 'Normal' }], multiple: true } });
  await page.goto(`${ctx.url}/tag/${ctx.aliceFolder._id}`);
  await page.waitForSelector('.tag-button');
  await page.keyboard.press('1');
  await until(async () => (await ctx.api.call('GET', `item/${ctx.item._id}`)).meta?.tags?.includes('tumour'), { message: 'tag saved' });
  await shot(page, '10-tagging');
});

test('core', 'item page shows the image, its files and annotations; collections page lists collections', async () => {
  const { page } = ctx;
  await ctx.api.call('POST', 'collection', { params: { name: `Pathology atlas${ctx.suffix}`, description: 'Reference slides', public: true } });
  await page.goto(`${ctx.url}/item/${ctx.item._id}`);
  await page.waitForSelector('img.preview');
  await page.waitForSelector('.plain-list a:has-text("Nuclei (100k)")');
  assert(await page.locator('a:has-text("Open viewer")').count() === 1, 'the item links to the viewer');
  await shot(page, '13-item');
  await page.goto(`${ctx.url}/collections`);
  await page.waitForSelector('.tile:has-text("Pathology atlas")');
  await shot(page, '14-collections');
  await page.fill('.header-search', 'slide');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.results a:has-text("slide-a.png")');
});

test('core', 'API keys page creates a key', async () => {
  const { page } = ctx;
  await page.goto(`${ctx.url}/keys`);
  await page.click('button:has-text("New key")');
  // The Access choice shows its default instead of a blank box.
  const access = await page.$eval('.dialog select[name=scope]', (sel) => [sel.value, sel.selectedOptions[0]?.textContent ?? '']);
  assert(access[0] === 'full' && access[1].startsWith('Full access'), `the Access select shows ${access}`);
  await page.fill('.dialog input[name=name]', 'e2e scripts');
  await page.click('.dialog button[type=submit]');
  await page.waitForSelector('.dialog input.mono');
  const key = await page.inputValue('.dialog input.mono');
  assert(key.length >= 32, 'a key is shown');
  const r = await fetch(`${ctx.url}/api/v1/api_key/token?key=${key}`, { method: 'POST' });
  assert(r.ok, 'the key authenticates');
  await page.keyboard.press('Escape');
  await shot(page, '11-api-keys');
});

test('core', 'the sign-in cookie is HttpOnly, comes back on reload, and the CSP blocks nothing', async () => {
  const { page } = ctx;
  const context = page.context();
  const tileStatus = () => page.evaluate((id) => fetch(`/api/v1/item/${id}/tiles/zxy/0/0/0`, { cache: 'no-store' }).then((r) => r.status), ctx.item._id);
  assert(!(await page.evaluate(() => document.cookie)).includes('girderToken'), 'no script-readable token cookie');
  let cookie = (await context.cookies()).find((c) => c.name === 'girderToken');
  assert(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', `the server's cookie: ${JSON.stringify(cookie)}`);
  assert((await tileStatus()) === 200, 'a private tile loads with the cookie alone');
  // The cookie is gone (browser restarted) but the token is still in localStorage.
  await context.clearCookies();
  assert((await tileStatus()) === 401, 'without the cookie the private tile is refused');
  await page.goto(`${ctx.url}/view/${ctx.item._id}`);
  await waitForTiles(page);
  cookie = (await context.cookies()).find((c) => c.name === 'girderToken');
  assert(cookie && cookie.httpOnly, 'the reload got the cookie back');
  assert((await tileStatus()) === 200, 'tiles load again after the reload');
  assert(ctx.cspViolations.length === 0, `CSP violations: ${ctx.cspViolations.slice(0, 3).join(' | ')}`);
});
