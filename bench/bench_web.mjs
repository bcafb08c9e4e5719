// Web client figures, measured in headless Chromium against a real server:
//  - slide_open_ms: from navigating to a slide's viewer URL until the first
//    full screen of tiles is drawn (OpenLayers' rendercomplete), cold HTTP cache;
//  - pan_fps_*: frames per second while panning over a 100,000-element
//    annotation, zoomed out (centroids) and zoomed in (full elements by region).
// Prints one JSON line on stdout, progress on stderr.
//
//   node bench/bench_web.mjs                     # starts `tilery serve` (TILERY_CMD) itself
//   TILERY_URL=http://127.0.0.1:8080 node bench/bench_web.mjs
// Env: BENCH_USER/BENCH_PASSWORD (created when missing), SLIDE_PX (4096),
// ANN_ELEMENTS (100000), RUNS (5), PAN_SECONDS (3).
import {
  Api, buildClient, launchBrowser, makePng, manyElements, panFps, startServer,
} from '../web_client/e2e/lib.mjs';

const SLIDE_PX = Number(process.env.SLIDE_PX || 4096);
const ANN_ELEMENTS = Number(process.env.ANN_ELEMENTS || 100000);
const RUNS = Number(process.env.RUNS || 5);
const PAN_SECONDS = Number(process.env.PAN_SECONDS || 3);
const USER = process.env.BENCH_USER || 'benchuser';
const PASSWORD = process.env.BENCH_PASSWORD || 'bench-password1';
const log = (...a) => console.error('[bench_web]', ...a);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function setup(url) {
  const api = new Api(url);
  let me;
  try {
    me = await api.login(USER, PASSWORD);
  } catch {
    await api.createUser(USER, PASSWORD, 'Bench', 'User');
    me = await api.login(USER, PASSWORD);
  }
  const priv = await api.privateFolder(me._id);
  const folder = await api.call('POST', 'folder', { params: { parentType: 'folder', parentId: priv._id, name: `bench-web-${Date.now()}` } });
  const w = SLIDE_PX;
  const h = Math.round(SLIDE_PX * 0.75);
  log(`uploading a ${w}x${h} slide`);
  const file = await api.upload(folder._id, 'bench-slide.png', makePng(w, h), 'image/png');
  const item = await api.call('GET', `item/${file.itemId}`);
  if (!item.largeImage) await api.call('POST', `item/${file.itemId}/tiles`, { params: { fileId: file._id } });
  await api.waitForLargeImage(file.itemId);
  log(`storing a ${ANN_ELEMENTS}-element annotation`);
  const t0 = Date.now();
  const ann = await api.call('POST', 'annotation', { params: { itemId: file.itemId }, json: { name: 'bench', elements: manyElements(ANN_ELEMENTS, w, h) } });
  log(`  stored in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { api, folder, itemId: file.itemId, annId: ann._id };
}

async function main() {
  buildClient();
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const { api, folder, itemId, annId } = await setup(server.url);
    const version = browser.version();
    const opens = [];
    for (let i = 0; i < RUNS; i += 1) {
      // A new context per run: empty HTTP cache, like a first visit.
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${server.url}/login`);
      await page.evaluate((t) => localStorage.setItem('tilery.token', t), api.token);
      await context.addCookies([{ name: 'girderToken', value: api.token, url: server.url }]);
      const t0 = Date.now();
      await page.goto(`${server.url}/view/${itemId}?ann=`);
      await page.waitForFunction(() => window.__tilery?.firstFullRender, null, { timeout: 60000 });
      const ms = await page.evaluate(() => window.__tilery.firstFullRender);
      opens.push(ms);
      log(`open ${i + 1}: first full screen of tiles after ${ms.toFixed(0)} ms (wall ${Date.now() - t0} ms)`);
      await context.close();
    }

    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    page.on('crash', () => log('the page crashed'));
    page.on('pageerror', (err) => log(`page error: ${err.message}`));
    await page.goto(`${server.url}/login`);
    await page.evaluate((t) => localStorage.setItem('tilery.token', t), api.token);
    await context.addCookies([{ name: 'girderToken', value: api.token, url: server.url }]);
    const t0 = Date.now();
    await page.goto(`${server.url}/view/${itemId}?ann=${annId}`);
    await page.waitForFunction((id) => window.__tilery?.layers.find((l) => l.id === id)?.count > 0, annId, { timeout: 120000 });
    const annLoadMs = Date.now() - t0;
    const renderer = await page.evaluate(() => window.__tilery.renderer);
    await page.evaluate(() => new Promise((r) => { window.__tilery.map.once('rendercomplete', () => r(null)); window.__tilery.map.render(); }));
    const fpsOut = await panFps(page, PAN_SECONDS);
    log(`pan zoomed out (centroids): ${fpsOut.toFixed(1)} fps`);
    await page.evaluate(() => window.__tilery.map.getView().setResolution(0.75));
    await page.waitForFunction((id) => window.__tilery.layers.find((l) => l.id === id)?.elements.size > 0, annId, { timeout: 60000 });
    await page.evaluate(() => new Promise((r) => { window.__tilery.map.once('rendercomplete', () => r(null)); window.__tilery.map.render(); }));
    const shown = await page.evaluate((id) => window.__tilery.layers.find((l) => l.id === id).elements.size, annId);
    const fpsIn = await panFps(page, PAN_SECONDS);
    log(`pan zoomed in (${shown} full elements): ${fpsIn.toFixed(1)} fps`);
    await context.close();
    if (!process.env.BENCH_KEEP) await api.call('DELETE', `folder/${folder._id}`).catch(() => undefined);

    console.log(JSON.stringify({
      bench: 'web',
      chromium: version,
      renderer,
      slide_px: [SLIDE_PX, Math.round(SLIDE_PX * 0.75)],
      slide_open_ms_median: Math.round(median(opens)),
      slide_open_ms: opens.map(Math.round),
      annotation_elements: ANN_ELEMENTS,
      annotation_first_draw_ms: annLoadMs,
      pan_fps_zoomed_out: Number(fpsOut.toFixed(1)),
      pan_fps_zoomed_in: Number(fpsIn.toFixed(1)),
      elements_drawn_zoomed_in: shown,
    }));
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
