// OpenSeadragon (a third-party viewer, from npm) on a converted slide's Deep Zoom
// description: from a page on Tilery's own origin, from another site that the
// server's cors_origins allows, and not from a site it does not allow.
import { readFileSync } from 'node:fs';
import { startStaticSite } from '../lib.mjs';
import { assert, ctx, shot, test, testImages } from '../harness.mjs';

/**
 * Open the OSD page at `pageUrl` on the slide, signed in by token, and wait until
 * OpenSeadragon opened it or gave up. `prepare` may set up the browser context.
 */
async function openOsd(pageUrl, prepare) {
  const context = await ctx.browser.newContext({ viewport: { width: 1000, height: 600 } });
  if (prepare) await prepare(context);
  const page = await context.newPage();
  const failedRequests = [];
  page.on('requestfailed', (r) => failedRequests.push(r.url()));
  const dzi = `${ctx.url}/api/v1/item/${ctx.osdItem}/tiles/dzi.dzi`;
  await page.goto(`${pageUrl}?${new URLSearchParams({ dzi, token: ctx.api.token })}`);
  await page.waitForFunction(() => window.osdState.opened || window.osdState.failed, null, { timeout: 20000 });
  const failed = await page.evaluate(() => window.osdState.failed);
  return { page, failed, failedRequests };
}

/** Wait for every tile in view, then read the drawn colour at an image pixel. */
async function pixelAt(page, x, y) {
  await page.waitForFunction(() => window.osdViewer.world.getItemAt(0)?.getFullyLoaded(), null, { timeout: 20000 });
  return page.evaluate(([ix, iy]) => {
    const viewer = window.osdViewer;
    const at = viewer.viewport.imageToViewerElementCoordinates(new OpenSeadragon.Point(ix, iy));
    const ratio = OpenSeadragon.pixelDensityRatio;
    const canvas = viewer.drawer.canvas;
    return Array.from(canvas.getContext('2d').getImageData(Math.round(at.x * ratio), Math.round(at.y * ratio), 1, 1).data);
  }, [x, y]);
}

/** The strip TIFF is a ramp: red grows along x (0..4800), green along y (0..1200), blue is 128. */
function assertRamp(rgba, x, y, where) {
  const want = [(x * 255) / 4800, (y * 255) / 1200, 128];
  assert(want.every((v, i) => Math.abs(rgba[i] - v) <= 12), `${where}: pixel (${x}, ${y}) is ${rgba}, expected about ${want.map(Math.round)}`);
}

test('openseadragon', 'OpenSeadragon opens a converted slide\'s DZI on the same origin', async () => {
  const folder = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: ctx.aliceFolder._id, name: `OpenSeadragon${ctx.suffix}`, reuseExisting: true } });
  const file = await ctx.api.upload(folder._id, 'strip.tif', readFileSync((await testImages()).strip), 'image/tiff');
  const item = await ctx.api.waitForLargeImage(file.itemId);
  assert(item.largeImage.jobId, 'the strip TIFF was converted by a job');
  ctx.osdItem = file.itemId;
  // The page on Tilery's origin: the browser asks Tilery's address for it, and
  // the test answers with e2e/openseadragon.html (the app does not ship it).
  const { page, failed } = await openOsd(`${ctx.url}/e2e-osd/openseadragon.html`, (context) => context.route(`${ctx.url}/e2e-osd/*`, (route) => {
    const file = ctx.corsSite.files[new URL(route.request().url()).pathname.replace('/e2e-osd', '')];
    return file ? route.fulfill({ status: 200, contentType: file[0], body: file[1] }) : route.fulfill({ status: 404 });
  }));
  assert(!failed, `opened on the same origin: ${failed}`);
  const size = await page.evaluate(() => window.osdViewer.world.getItemAt(0).getContentSize());
  assert(size.x === 4800 && size.y === 1200, `the DZI's size is the slide's: ${JSON.stringify(size)}`);
  assertRamp(await pixelAt(page, 3600, 300), 3600, 300, 'same origin');
  assertRamp(await pixelAt(page, 1200, 900), 1200, 900, 'same origin');
  await shot(page, '40-openseadragon-same-origin');
});

test('openseadragon', 'OpenSeadragon on another site: allowed by cors_origins, refused without it', async () => {
  assert(ctx.osdItem, 'the same-origin test made the slide');
  if (process.env.TILERY_URL) {
    console.log('    (TILERY_URL: the reused server\'s cors_origins are unknown; cross-origin not checked)');
    return;
  }
  const allowed = await openOsd(`${ctx.corsSite.origin}/openseadragon.html`);
  assert(!allowed.failed, `opened from ${ctx.corsSite.origin}: ${allowed.failed}`);
  assertRamp(await pixelAt(allowed.page, 3600, 300), 3600, 300, 'allowed origin');
  await shot(allowed.page, '41-openseadragon-cross-origin');
  // A site that is not in cors_origins: the browser refuses the server's answers.
  const stranger = await startStaticSite();
  try {
    const refused = await openOsd(`${stranger.origin}/openseadragon.html`);
    assert(refused.failed, `${stranger.origin} must not open the slide`);
    assert(refused.failedRequests.some((u) => u.includes('/dzi.dzi')), `the .dzi request was refused: ${refused.failedRequests}`);
  } finally {
    await stranger.stop();
  }
});
