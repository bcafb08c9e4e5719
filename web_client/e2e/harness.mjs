// The e2e runner's shared state and helpers: the test list, assertions,
// screenshots, and waits on real conditions in the page (never fixed sleeps).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { WEB_DIR, makeTiffs } from './lib.mjs';

export const ARTIFACTS = join(WEB_DIR, 'e2e', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/** Tests in the order their modules register them. */
export const tests = [];

/** Register a test; `group` lets `npm run e2e -- <pattern>` pick a subset. */
export function test(group, name, fn) {
  tests.push({ group, name, fn });
}

/** State shared by the tests: server URL, API client, users, browser, main page. */
export const ctx = {};

export function assert(cond, message) {
  if (!cond) throw new Error(`Assertion failed: ${message}`);
}

export async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

const scratch = [];
/** A temporary directory, removed when the run ends. */
export function tempDir(prefix = 'tilery-e2e-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** Remove every temporary directory of the run. */
export function removeTempDirs() {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
}

let tiffs = null;
/** Paths of the generated test TIFFs (made once per run). */
export async function testImages() {
  if (!tiffs) {
    tiffs = makeTiffs();
    scratch.push(dirname(tiffs.channels));
  }
  return tiffs;
}

export const sha512 = (bytes) => createHash('sha512').update(bytes).digest('hex');

/** A new browser context and page signed in as `login`. */
export async function newSignedInPage(login, password) {
  const context = await ctx.browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`    [page error ${login}] ${err.message}`));
  await signIn(page, login, password);
  return { context, page };
}

export async function signIn(page, login, password) {
  await page.goto(`${ctx.url}/login`);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('.header-user .user-button');
}

/** Screen position of an image pixel in the viewer. */
export async function screenOf(page, x, y) {
  return page.evaluate(([px, py]) => {
    const { map } = window.__tilery;
    const [sx, sy] = map.getPixelFromCoordinate([px, -py]);
    const r = map.getTargetElement().getBoundingClientRect();
    return [r.left + sx, r.top + sy];
  }, [x, y]);
}

/** Press the mouse at one image pixel of the viewer, drag to another, release. */
export async function dragOnSlide(page, [fromX, fromY], [toX, toY]) {
  const [x1, y1] = await screenOf(page, fromX, fromY);
  const [x2, y2] = await screenOf(page, toX, toY);
  await page.mouse.move(x1, y1);
  await page.mouse.down();
  await page.mouse.move(x2, y2, { steps: 8 });
  await page.mouse.up();
}

/** Wait until every visible tile of the viewer is loaded and drawn. */
export async function waitForTiles(page) {
  await page.waitForFunction(() => window.__tilery?.map && document.querySelector('.viewer-map canvas'));
  // OpenLayers fires rendercomplete once every visible tile is loaded and drawn.
  await page.evaluate(() => new Promise((resolve) => {
    const { map } = window.__tilery;
    map.once('rendercomplete', () => resolve(null));
    map.render();
  }));
}

export async function waitSaved(page) {
  await page.waitForFunction(() => window.__tilery.layers.length && window.__tilery.layers.every((l) => l.saveState === 'saved' && !l.hasUnsaved()), null, { timeout: 20000 });
}

/** RGBA of the map's composed canvas at a screen position relative to the map. */
export async function mapPixel(page, sx, sy) {
  return page.evaluate(([x, y]) => {
    const { map } = window.__tilery;
    const out = document.createElement('canvas');
    const size = map.getSize();
    out.width = size[0];
    out.height = size[1];
    const c = out.getContext('2d');
    for (const canvas of map.getViewport().querySelectorAll('canvas')) {
      if (canvas.width > 0) c.drawImage(canvas, 0, 0, size[0], size[1]);
    }
    return Array.from(c.getImageData(Math.round(x), Math.round(y), 1, 1).data);
  }, [sx, sy]);
}

/** Wait for a toast with this text and return it. */
export async function waitToast(page, text, kind = 'success') {
  return page.waitForSelector(`.toast-${kind}:has-text("${text}")`);
}
