// End-to-end tests in headless Chromium against a real `tilery serve`.
// Run with `npm run e2e` (or `npm run e2e -- <pattern>` for the tests whose
// group or name matches). TILERY_CMD overrides the server command (default
// `tilery serve` from the repo's .venv), TILERY_URL uses a running server.
// One server and one browser serve every test. Screenshots of the screens go
// to e2e/artifacts/, and a failure saves every open page as failed-*.png.
import { join } from 'node:path';
import { Api, buildClient, launchBrowser, startServer, startStaticSite } from './lib.mjs';
import { ARTIFACTS, ctx, removeTempDirs, signIn, tests } from './harness.mjs';
import './tests/core.mjs';
import './tests/uploads.mjs';
import './tests/slides.mjs';
import './tests/dialogs.mjs';
import './tests/tagging.mjs';
import './tests/labelling.mjs';
import './tests/openseadragon.mjs';
import './tests/live.mjs';

/** Log in, creating the account first when it does not exist yet. */
async function account(url, login, password, first, last) {
  const api = new Api(url);
  try {
    return { api, user: await api.login(login, password) };
  } catch {
    await api.createUser(login, password, first, last);
    return { api, user: await api.login(login, password) };
  }
}

async function screenshotAll(browser, n) {
  let k = 0;
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      k += 1;
      await page.screenshot({ path: join(ARTIFACTS, `failed-${n}-${k}.png`) }).catch(() => undefined);
    }
  }
}

async function main() {
  const started = Date.now();
  const pattern = process.argv[2] ? new RegExp(process.argv[2], 'i') : null;
  const chosen = tests.filter((t) => !pattern || pattern.test(t.group) || pattern.test(t.name));
  buildClient();
  // Another site, allowed to call the API cross-origin (the OpenSeadragon test).
  ctx.corsSite = await startStaticSite();
  const server = await startServer({
    log: Boolean(process.env.E2E_SERVER_LOG), env: { TILERY_CORS_ORIGINS: ctx.corsSite.origin },
  });
  ctx.url = server.url;
  // A reused server (TILERY_URL) keeps earlier runs' data: name this run's things apart.
  ctx.suffix = process.env.TILERY_URL ? ` ${Date.now().toString(36)}` : '';
  let passed = 0;
  let failed = 0;
  let browser;
  try {
    const alice = await account(server.url, 'alice', 'alice-password1', 'Alice', 'Admin');
    const bob = await account(server.url, 'bobby', 'bob-password1', 'Bob', 'Reader');
    ctx.api = alice.api;
    ctx.alice = alice.user;
    ctx.bob = bob.user;
    ctx.bobApi = bob.api;
    ctx.aliceFolder = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: (await ctx.api.privateFolder(ctx.alice._id))._id, name: `Study 1${ctx.suffix}` } });
    browser = await launchBrowser();
    ctx.browser = browser;
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    ctx.page = await context.newPage();
    ctx.page.on('pageerror', (err) => console.log(`    [page error] ${err.message}`));
    // The page's Content-Security-Policy must not block anything the client does.
    ctx.cspViolations = [];
    ctx.page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) ctx.cspViolations.push(msg.text());
    });
    await signIn(ctx.page, 'alice', 'alice-password1');
    for (const t of chosen) {
      const t0 = Date.now();
      try {
        await t.fn();
        passed += 1;
        console.log(`ok ${t.group}: ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (err) {
        failed += 1;
        console.log(`FAIL ${t.group}: ${t.name}\n    ${err.stack?.split('\n').slice(0, 5).join('\n    ')}`);
        await screenshotAll(browser, passed + failed);
      }
      // A test's extra contexts (other users) must not leak into the next.
      for (const c of browser.contexts()) if (c !== context) await c.close();
    }
  } finally {
    await browser?.close();
    await server.stop();
    await ctx.corsSite.stop();
    removeTempDirs();
  }
  console.log(`e2e took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
