// Uploads against the real server: a whole folder dropped on the page, an
// upload that loses its connection mid-way and resumes, and conversion jobs
// (a strip TIFF converted with progress, a corrupt TIFF failing plainly).
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePng } from '../lib.mjs';
import { assert, ctx, sha512, shot, tempDir, test, testImages } from '../harness.mjs';

async function newFolder(name) {
  return ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: ctx.aliceFolder._id, name } });
}

async function childFolder(parentId, name) {
  const [f] = await ctx.api.call('GET', 'folder', { params: { parentType: 'folder', parentId, name } });
  return f;
}

async function storedSha(folderId, name) {
  const [item] = await ctx.api.call('GET', 'item', { params: { folderId, name } });
  assert(item, `item ${name} exists`);
  const files = await ctx.api.call('GET', `item/${item._id}/files`);
  // A converted image keeps its original next to the pyramid: compare the original.
  const file = files.find((f) => f.name === name);
  return { item, file, sha: file?.sha512 };
}

/** Record every status text an upload row shows, so short-lived states are seen too. */
async function watchStatuses(page) {
  await page.evaluate(() => {
    window.__statuses = [];
    new MutationObserver(() => {
      for (const row of document.querySelectorAll('.upload-row')) {
        const name = row.querySelector('.upload-name')?.getAttribute('title');
        const text = `${row.dataset.state}|${row.querySelector('.upload-status')?.textContent}`;
        const seen = window.__statuses.filter((s) => s[0] === name);
        if (!seen.length || seen[seen.length - 1][1] !== text) window.__statuses.push([name, text]);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

const statusesOf = (page, name) => page.evaluate((n) => window.__statuses.filter((s) => s[0] === n).map((s) => s[1]), name);

async function clearUploadPanel(page) {
  if (await page.locator('.upload-panel').count()) await page.click('.upload-panel button[title="Clear finished"]');
}

test('uploads', 'a dropped folder with a subfolder (and the same chosen with Upload folder): the tree is recreated with per-file and overall progress', async () => {
  const { page } = ctx;
  const target = await newFolder(`Dropped${ctx.suffix}`);
  // A real directory on disk, dropped through Chromium's own drag and drop
  // (DevTools Input.dispatchDragEvent), so webkitGetAsEntry yields real entries.
  const root = tempDir('tilery-drop-');
  const caseDir = join(root, 'Case 7');
  mkdirSync(join(caseDir, 'stains'), { recursive: true });
  const sources = {
    'overview.png': makePng(640, 480, 3),
    'notes.txt': Buffer.from('Case 7: H&E and IHC\n'),
  };
  for (const [name, bytes] of Object.entries(sources)) writeFileSync(join(caseDir, name), bytes);
  copyFileSync((await testImages()).channels, join(caseDir, 'stains', 'he.tif'));
  sources['he.tif'] = readFileSync(join(caseDir, 'stains', 'he.tif'));

  await page.goto(`${ctx.url}/folder/${target._id}`);
  await page.waitForSelector('table.entries');
  await clearUploadPanel(page);
  await watchStatuses(page);
  const cdp = await page.context().newCDPSession(page);
  const data = { items: [], files: [caseDir], dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop']) await cdp.send('Input.dispatchDragEvent', { type, x: 500, y: 400, data });
  await cdp.detach();

  await page.waitForFunction(() => document.querySelectorAll('.upload-row').length === 3);
  await page.waitForFunction(() => [...document.querySelectorAll('.upload-row')].every((r) => r.dataset.state === 'done'), null, { timeout: 60000 });
  const rows = await page.$$eval('.upload-row', (els) => els.map((r) => ({
    name: r.querySelector('.upload-name').getAttribute('title'),
    status: r.querySelector('.upload-status').textContent,
    bar: r.querySelector('.progress-bar').style.width,
  })));
  const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
  assert(byName['Case 7/overview.png']?.status === 'Ready', `overview: ${JSON.stringify(byName['Case 7/overview.png'])}`);
  assert(byName['Case 7/stains/he.tif']?.status === 'Ready', `he.tif: ${JSON.stringify(byName['Case 7/stains/he.tif'])}`);
  assert(byName['Case 7/notes.txt']?.status === 'Uploaded', `notes: ${JSON.stringify(byName['Case 7/notes.txt'])}`);
  assert(rows.every((r) => parseFloat(r.bar) === 100), `every bar full: ${rows.map((r) => r.bar)}`);
  const overall = await page.evaluate(() => ({
    text: document.querySelector('.upload-head span:not(.spacer)')?.textContent,
    bar: document.querySelector('.progress.overall .progress-bar').style.width,
  }));
  const total = Object.values(sources).reduce((s, b) => s + b.length, 0);
  assert(parseFloat(overall.bar) === 100 && /^(\S+ \S+) of \1$/.test(overall.text), `overall progress: ${JSON.stringify(overall)} for ${total} bytes`);
  // Each file went through its own upload state before its end state.
  for (const name of ['Case 7/overview.png', 'Case 7/notes.txt']) {
    const seen = await statusesOf(page, name);
    assert(seen.some((s) => s.startsWith('uploading|')), `${name} showed its upload: ${seen}`);
  }
  await shot(page, '15-folder-drop');

  // On the server: Dropped/Case 7/{overview.png, notes.txt, stains/he.tif}, same bytes.
  const caseFolder = await childFolder(target._id, 'Case 7');
  assert(caseFolder, 'Case 7 was created');
  const stains = await childFolder(caseFolder._id, 'stains');
  assert(stains, 'Case 7/stains was created');
  for (const [name, folderId] of [['overview.png', caseFolder._id], ['notes.txt', caseFolder._id], ['he.tif', stains._id]]) {
    const { sha } = await storedSha(folderId, name);
    assert(sha === sha512(sources[name]), `${name} stored intact`);
  }
  await page.waitForSelector('tr[data-type="folder"]:has-text("Case 7")');

  // The same folder through "Upload folder" (<input webkitdirectory>) lands the same way.
  const viaInput = await newFolder(`Chosen${ctx.suffix}`);
  await page.goto(`${ctx.url}/folder/${viaInput._id}`);
  await page.waitForSelector('table.entries');
  await clearUploadPanel(page);
  const chooser = page.waitForEvent('filechooser');
  await page.click('button:has-text("Upload folder")');
  await (await chooser).setFiles(caseDir);
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('.upload-row')];
    return rows.length === 3 && rows.every((r) => r.dataset.state === 'done');
  }, null, { timeout: 60000 });
  const chosenCase = await childFolder(viaInput._id, 'Case 7');
  const chosenStains = chosenCase && await childFolder(chosenCase._id, 'stains');
  assert(chosenStains, 'Case 7/stains was created from the folder input');
  assert((await storedSha(chosenStains._id, 'he.tif')).sha === sha512(sources['he.tif']), 'he.tif stored intact from the folder input');
});

test('uploads', 'a chunk lost mid-upload: the client asks the offset and finishes with the same bytes', async () => {
  const { page } = ctx;
  const target = await newFolder(`Resumed${ctx.suffix}`);
  // 20 MiB: two chunks (16 MiB + 4 MiB); the second one's connection drops.
  const bytes = randomBytes(20 * 1024 * 1024);
  const path = join(tempDir('tilery-resume-'), 'scan-raw.bin');
  writeFileSync(path, bytes);
  await page.goto(`${ctx.url}/folder/${target._id}`);
  await page.waitForSelector('table.entries');
  await clearUploadPanel(page);
  await watchStatuses(page);
  const calls = [];
  const onRequest = (r) => {
    const u = new URL(r.url());
    if (/\/file\/(chunk|offset)$/.test(u.pathname)) calls.push(`${r.method()} ${u.pathname.split('/').pop()}@${u.searchParams.get('offset') ?? ''}`);
  };
  page.on('request', onRequest);
  let chunks = 0;
  await page.route('**/api/v1/file/chunk?*', (route) => {
    chunks += 1;
    return chunks === 2 ? route.abort('connectionreset') : route.continue();
  });
  try {
    const chooser = page.waitForEvent('filechooser');
    await page.click('button:has-text("Upload files")');
    await (await chooser).setFiles(path);
    await page.waitForSelector('.upload-row[data-state="done"]', { timeout: 60000 });
  } finally {
    await page.unroute('**/api/v1/file/chunk?*');
    page.off('request', onRequest);
  }
  const second = 16 * 1024 * 1024;
  assert(JSON.stringify(calls) === JSON.stringify(['POST chunk@0', `POST chunk@${second}`, 'GET offset@', `POST chunk@${second}`]),
    `requests: ${calls.join(', ')}`);
  const seen = await statusesOf(page, 'scan-raw.bin');
  assert(seen.some((s) => s.includes('Connection lost — retrying')), `the row said it was retrying: ${seen}`);
  assert(seen[seen.length - 1] === 'done|Uploaded', `ended as ${seen[seen.length - 1]}`);
  const { file, sha } = await storedSha(target._id, 'scan-raw.bin');
  assert(file.size === bytes.length && sha === sha512(bytes), 'the stored file has the source bytes');
});

test('uploads', 'conversion jobs: a strip TIFF is converted with progress, a corrupt TIFF fails with its reason', async () => {
  const { page } = ctx;
  const target = await newFolder(`Conversions${ctx.suffix}`);
  const images = await testImages();
  const broken = join(tempDir('tilery-broken-'), 'broken.tif');
  writeFileSync(broken, 'This is a text file with a .tif name, not an image.\n'.repeat(40));
  await page.goto(`${ctx.url}/folder/${target._id}`);
  await page.waitForSelector('table.entries');
  await clearUploadPanel(page);
  await watchStatuses(page);
  const chooser = page.waitForEvent('filechooser');
  await page.click('button:has-text("Upload files")');
  await (await chooser).setFiles([images.strip, broken]);
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('.upload-row')];
    return rows.length === 2 && rows.every((r) => r.dataset.state === 'done' || r.dataset.state === 'error');
  }, null, { timeout: 90000 });

  // The strip TIFF: a job converted it, and the row followed the job to Ready.
  const stripSeen = await statusesOf(page, 'strip.tif');
  assert(stripSeen.some((s) => s.startsWith('converting|') && s !== 'converting|Checking image'), `the job's state was shown: ${stripSeen}`);
  assert(stripSeen[stripSeen.length - 1] === 'done|Ready', `strip.tif ended as ${stripSeen[stripSeen.length - 1]}`);
  const [stripItem] = await ctx.api.call('GET', 'item', { params: { folderId: target._id, name: 'strip.tif' } });
  assert(stripItem.largeImage?.jobId && !stripItem.largeImage.expected, `converted by a job: ${JSON.stringify(stripItem.largeImage)}`);
  assert((await ctx.api.call('GET', `job/${stripItem.largeImage.jobId}`)).status === 3, 'the conversion job succeeded');

  // The corrupt one: the job failed (status 4) and the row shows its log's reason.
  const brokenRow = page.locator('.upload-row', { hasText: 'broken.tif' });
  assert(await brokenRow.getAttribute('data-state') === 'error', 'broken.tif ends in error');
  const shown = await brokenRow.locator('.upload-status').textContent();
  const jobs = (await ctx.api.call('GET', 'job', { params: { limit: 50 } })).filter((j) => j.title === 'Make a large image of broken.tif' && j.kwargs?.itemId);
  const [brokenItem] = await ctx.api.call('GET', 'item', { params: { folderId: target._id, name: 'broken.tif' } });
  const mine = jobs.filter((j) => j.kwargs.itemId === brokenItem._id);
  assert(mine.length === 1, `one conversion was tried, not ${mine.length}`);
  const job = await ctx.api.call('GET', `job/${mine[0]._id}`);
  assert(job.status === 4, `job status ${job.status}`);
  const reason = job.log[job.log.length - 1].replace(/^Error:\s*/, '');
  assert(shown === `The conversion failed: ${reason}`, `shown "${shown}" for log ${JSON.stringify(job.log)}`);
  assert(await brokenRow.locator('a:has-text("Details")').count() === 1, 'the failed row links to the item');
  await shot(page, '16-conversion-jobs');
});

test('uploads', 'an item converted by a job uploaded elsewhere (girder-client): its row turns from Converting… to View by itself', async () => {
  const { page } = ctx;
  const folder = await newFolder(`Converted elsewhere${ctx.suffix}`);
  const file = await ctx.api.upload(folder._id, 'strip.tif', readFileSync((await testImages()).strip), 'image/tiff');
  await page.goto(`${ctx.url}/folder/${folder._id}`);
  const row = `tr[data-id="${file.itemId}"]`;
  await page.waitForSelector(row);
  const first = await page.textContent(row);
  const item = await ctx.api.call('GET', `item/${file.itemId}`);
  // The job takes seconds (a worker process starts); the page saw it under way.
  assert(first.includes('Converting…') || !item.largeImage?.expected, `the row first said Converting…: ${first}`);
  await page.waitForSelector(`${row} a.badge:has-text("View")`, { timeout: 60000 });
  assert(!(await page.textContent(row)).includes('Converting…'), 'no longer Converting…');
});
