// Annotating together (issue 13): two browser contexts, Alice and Bob, on one
// slide. One draws and the other sees it appear and sees who is there; both
// edit different elements and both land; both edit the same element and the
// conflict dialog appears; a colleague's upload shows in an open folder list.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePng, until } from '../lib.mjs';
import { assert, ctx, dragOnSlide, newSignedInPage, screenOf, shot, tempDir, test, waitForTiles, waitSaved } from '../harness.mjs';

const rect = (id, x, y) => ({ id, type: 'rectangle', center: [x, y, 0], width: 200, height: 160, rotation: 0, lineColor: '#00aa00', fillColor: 'rgba(0, 170, 0, 0.25)', lineWidth: 2 });
const hex = (n) => n.toString(16).padStart(24, '0');

/** A folder Bob may write to, with a slide and one annotation Bob may edit (made once). */
async function setup() {
  if (ctx.live) return ctx.live;
  const folder = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: ctx.aliceFolder._id, name: `Live${ctx.suffix}` } });
  const access = { users: [{ id: ctx.alice._id, level: 2 }, { id: ctx.bob._id, level: 1 }], groups: [] };
  await ctx.api.call('PUT', `folder/${folder._id}/access`, { params: { access, public: false } });
  const file = await ctx.api.upload(folder._id, 'together.png', makePng(2048, 1536, 7), 'image/png');
  await ctx.api.call('POST', `item/${file.itemId}/tiles`, { params: { fileId: file._id } }).catch(() => undefined);
  await ctx.api.waitForLargeImage(file.itemId);
  ctx.live = { folder, itemId: file.itemId };
  return ctx.live;
}

/** A fresh annotation of two rectangles, "a" left and "b" right, writable by Bob. */
async function freshAnnotation(itemId, name) {
  const ids = { a: hex(Date.now() * 16 + 1), b: hex(Date.now() * 16 + 2) };
  const ann = await ctx.api.call('POST', 'annotation', { params: { itemId }, json: { name, elements: [rect(ids.a, 400, 400), rect(ids.b, 1400, 400)] } });
  const { access: acl } = await ctx.api.call('GET', `annotation/${ann._id}/access`);
  acl.users = [...(acl.users ?? []).filter((u) => u.id !== ctx.bob._id), { id: ctx.bob._id, level: 1 }];
  await ctx.api.call('PUT', `annotation/${ann._id}/access`, { params: { access: acl, public: false } });
  return { id: ann._id, ...ids };
}

/** Open the slide on a page, edit `annotationId`, and wait until its stream is live. */
async function openSlide(page, itemId, annotationId) {
  await page.goto(`${ctx.url}/view/${itemId}?edit=${annotationId}`);
  await waitForTiles(page);
  await page.evaluate(() => window.__tilery.loaded);
  await page.waitForFunction((id) => window.__tilery.editor.active?.id === id && window.__tilery.editor.enabled, annotationId);
  await page.waitForFunction(() => window.__tilery.stream?.status === 'live', null, { timeout: 10000 });
}

/** Both users on the slide; Alice's page is the runner's, Bob's a new context. */
async function bothOnSlide(name) {
  const { itemId } = await setup();
  const ann = await freshAnnotation(itemId, name);
  const { page: bob } = await newSignedInPage('bobby', 'bob-password1');
  await Promise.all([openSlide(ctx.page, itemId, ann.id), openSlide(bob, itemId, ann.id)]);
  return { alice: ctx.page, bob, ann, itemId };
}

const elementOn = (page, annId, elId) => page.evaluate(([a, e]) => window.__tilery.layers.find((l) => l.id === a)?.elements.get(e) ?? null, [annId, elId]);

/** Select the element under an image point and drag it by (dx, dy) image pixels. */
async function dragElement(page, x, y, dx, dy) {
  await page.keyboard.press('v');
  const [sx, sy] = await screenOf(page, x, y);
  await page.mouse.click(sx, sy);
  await page.waitForFunction(() => window.__tilery.editor.selection.length === 1);
  await dragOnSlide(page, [x, y], [x + dx, y + dy]);
  await page.keyboard.press('Escape');
}

/** Hold the page's annotation saves (PATCH) until the returned function is called. */
async function holdSaves(page) {
  let release;
  const held = new Promise((r) => (release = r));
  await page.route('**/api/v1/annotation/*', async (route) => {
    if (route.request().method() === 'PATCH') await held;
    await route.continue();
  });
  return release;
}

test('live', 'Alice draws and Bob sees it appear (keeping his selection), and each sees the other present', async () => {
  const { alice, bob, ann } = await bothOnSlide('Drawn live');
  // Presence: each lists the other, by user id.
  await bob.waitForSelector(`.presence-user[data-user-id="${ctx.alice._id}"]`, { timeout: 15000 });
  await alice.waitForSelector(`.presence-user[data-user-id="${ctx.bob._id}"]`, { timeout: 15000 });
  // Nobody's view is shared until they choose to; then Bob gets Alice's outline.
  const aliceSeen = (page) => page.evaluate((id) => window.__tilery.presence.present.find((u) => u.userId === id) ?? null, ctx.alice._id);
  assert((await aliceSeen(bob)).viewport === null, 'views are not shared by default');
  await alice.check('.presence-share input');
  await until(async () => (await aliceSeen(bob))?.viewport?.length === 4, { timeout: 5000, message: 'Bob sees Alice\'s shared view' });
  await alice.uncheck('.presence-share input');
  // Bob selects "a": the selection must survive Alice's change.
  await bob.keyboard.press('v');
  const [bx, by] = await screenOf(bob, 400, 400);
  await bob.mouse.click(bx, by);
  await bob.waitForFunction((id) => window.__tilery.editor.selection.some((e) => e.id === id), ann.a);
  // Alice draws a rectangle.
  await alice.keyboard.press('r');
  await dragOnSlide(alice, [900, 900], [1200, 1150]);
  await waitSaved(alice);
  const saved = Date.now();
  await bob.waitForFunction((id) => window.__tilery.layers.find((l) => l.id === id)?.elements.size === 3, ann.id, { timeout: 5000 });
  const latency = Date.now() - saved;
  console.log(`    Bob saw Alice's rectangle ${latency} ms after her save`);
  assert(latency < 1500, `seen within a second or so (${latency} ms)`);
  const selection = await bob.evaluate(() => window.__tilery.editor.selection.map((e) => e.id));
  assert(selection.length === 1 && selection[0] === ann.a, `Bob's selection kept: ${selection}`);
  await shot(bob, '60-live-colleague-drawing');
});

test('live', 'Alice and Bob move different elements at once: both are saved, and each sees the other\'s', async () => {
  const { alice, bob, ann } = await bothOnSlide('Different elements');
  const before = (await ctx.api.call('GET', `annotation/${ann.id}`))._version;
  // Hold Bob's save until Alice's has landed, so his is made against an older version.
  const release = await holdSaves(bob);
  await dragElement(bob, 1400, 400, 0, 300);
  await dragElement(alice, 400, 400, 0, 300);
  await waitSaved(alice);
  release();
  await waitSaved(bob);
  const doc = await ctx.api.call('GET', `annotation/${ann.id}`);
  const byId = new Map(doc.annotation.elements.map((e) => [e.id, e]));
  assert(Math.abs(byId.get(ann.a).center[1] - 700) < 30, `Alice's move stored: ${byId.get(ann.a).center}`);
  assert(Math.abs(byId.get(ann.b).center[1] - 700) < 30, `Bob's move stored: ${byId.get(ann.b).center}`);
  assert(doc._version >= before + 2, `two new versions (${before} -> ${doc._version})`);
  // Each page shows the other's move without a reload.
  await until(async () => Math.abs((await elementOn(alice, ann.id, ann.b))?.center[1] - 700) < 30, { timeout: 5000, message: 'Alice sees Bob\'s move' });
  await until(async () => Math.abs((await elementOn(bob, ann.id, ann.a))?.center[1] - 700) < 30, { timeout: 5000, message: 'Bob sees Alice\'s move' });
  // Bob's own move is still his to undo.
  assert(await bob.evaluate(() => window.__tilery.editor.undo.peekUndo()?.startsWith('Move')), 'Bob\'s undo stack kept');
});

test('live', 'Alice and Bob move the same element: Bob gets the conflict dialog, and "Keep both" keeps both', async () => {
  const { alice, bob, ann } = await bothOnSlide('Same element');
  const release = await holdSaves(bob);
  await dragElement(bob, 400, 400, 0, 300);
  await dragElement(alice, 400, 400, 300, 0);
  await waitSaved(alice);
  release();
  await bob.waitForSelector('.conflict-dialog', { timeout: 10000 });
  await shot(bob, '61-live-conflict-dialog');
  await bob.click('.conflict-dialog button[data-choice="both"]');
  await waitSaved(bob);
  const doc = await ctx.api.call('GET', `annotation/${ann.id}`);
  const els = doc.annotation.elements;
  const theirs = els.find((e) => e.id === ann.a);
  assert(els.length === 3, `theirs, mine as a new element, and b: ${els.length}`);
  assert(Math.abs(theirs.center[0] - 700) < 30 && Math.abs(theirs.center[1] - 400) < 30, `Alice's version kept: ${theirs.center}`);
  const mine = els.find((e) => e.id !== ann.a && e.id !== ann.b);
  assert(Math.abs(mine.center[0] - 400) < 30 && Math.abs(mine.center[1] - 700) < 30, `Bob's version added: ${mine.center}`);
  // Alice sees Bob's copy appear.
  await alice.waitForFunction((id) => window.__tilery.layers.find((l) => l.id === id)?.elements.size === 3, ann.id, { timeout: 5000 });
});

test('live', 'a colleague\'s upload appears in an open folder list without a reload', async () => {
  const { folder } = await setup();
  const { page: bob } = await newSignedInPage('bobby', 'bob-password1');
  // The list is live once Bob's stream watching the folder has answered.
  const watching = bob.waitForResponse((r) => r.url().includes('notification/stream') && r.url().includes(`folder%3A${folder._id}`), { timeout: 15000 });
  await bob.goto(`${ctx.url}/folder/${folder._id}`);
  await bob.waitForSelector('table.entries');
  await watching;
  const file = await ctx.api.upload(folder._id, 'new-upload.png', makePng(256, 256, 3), 'image/png');
  await bob.waitForSelector(`tr[data-id="${file.itemId}"]`, { timeout: 5000 });
});

/**
 * Upload a new PNG through the page's tray into the open folder and wait for
 * its conversion; answers how often the page read the job meanwhile, and the row's end state.
 */
async function uploadAndConvert(page, name, seed) {
  let jobReads = 0;
  const onRequest = (r) => {
    if (/\/api\/v1\/job\/[0-9a-f]{24}$/.test(new URL(r.url()).pathname)) jobReads += 1;
  };
  page.on('request', onRequest);
  const slide = join(tempDir('tilery-live-'), name);
  writeFileSync(slide, makePng(4096, 3072, seed));
  const chooser = page.waitForEvent('filechooser');
  await page.click('button:has-text("Upload files")');
  await (await chooser).setFiles(slide);
  const row = page.locator('.upload-row', { hasText: name });
  await until(async () => ['done', 'error'].includes(await row.getAttribute('data-state')), { timeout: 120000, message: 'the upload and conversion end' });
  page.off('request', onRequest);
  return { jobReads, status: await row.locator('.upload-status').textContent() };
}

test('live', 'a conversion\'s progress and end come from the stream, not from polling the job', async () => {
  const { page } = ctx;
  const folder = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: ctx.aliceFolder._id, name: `Live jobs${ctx.suffix}` } });
  const watching = page.waitForResponse((r) => r.url().includes('notification/stream') && r.url().includes(`folder%3A${folder._id}`), { timeout: 15000 });
  await page.goto(`${ctx.url}/folder/${folder._id}`);
  await page.waitForSelector('table.entries');
  await watching;
  const { jobReads, status } = await uploadAndConvert(page, 'big-slide.png', 5);
  assert(status === 'Ready', 'converted');
  // Polling asks the job every 250 ms to 2 s (5 reads here without the stream);
  // with it, each follower (the upload tray, the list's row) reads it once.
  assert(jobReads <= 2, `job read ${jobReads} times`);
});

test('live', 'without the stream (a server that has none), conversions are polled as before', async () => {
  const { context, page } = await newSignedInPage('alice', 'alice-password1');
  await context.route('**/api/v1/notification/stream**', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: '{"message": "No such route.", "type": "rest"}' }));
  const folder = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: ctx.aliceFolder._id, name: `No stream${ctx.suffix}` } });
  await page.goto(`${ctx.url}/folder/${folder._id}`);
  await page.waitForSelector('table.entries');
  const { jobReads, status } = await uploadAndConvert(page, 'polled.png', 9);
  assert(status === 'Ready', 'converted without the stream');
  assert(jobReads >= 1, 'the job was polled');
});
