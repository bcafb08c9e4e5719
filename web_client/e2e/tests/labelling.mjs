// Pixel labelling as in seed 001: superpixels from four algorithms with
// "Calculate segments", a click paints a segment, a right click erases it,
// Clear; "Done, next image"; the owner's progress view and the masks zip.
import { makeGrayPng, makePng } from '../lib.mjs';
import { assert, ctx, newSignedInPage, screenOf, shot, test, waitForTiles } from '../harness.mjs';

async function setup() {
  const folder = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: ctx.aliceFolder._id, name: `Labelling project${ctx.suffix}` } });
  const ids = [];
  for (const [i, name] of ['case-a.png', 'case-b.png'].entries()) {
    const file = await ctx.api.upload(folder._id, name, makePng(1024, 768, 20 + i), 'image/png');
    ids.push(file.itemId);
  }
  for (const id of ids) await ctx.api.waitForLargeImage(id);
  return { folder, ids };
}

/** Compare the mask with the segment under image pixel (x, y): painted pixels must be exactly that segment's. */
async function segmentCheck(page, x, y, value) {
  return page.evaluate(([px, py, v]) => {
    const { labeller } = window.__tilery;
    const seg = labeller.superpixels.segments;
    const at = (ix, iy) => {
      const sx = Math.floor((ix - seg.left) / seg.scale);
      const sy = Math.floor((iy - seg.top) / seg.scale);
      return sx < 0 || sy < 0 || sx >= seg.width || sy >= seg.height ? -1 : seg.ids[sy * seg.width + sx];
    };
    const id = at(px, py);
    const { mask, scale } = labeller;
    let inside = 0;
    let wrong = 0;
    for (let my = 0; my < mask.height; my += 1) {
      for (let mx = 0; mx < mask.width; mx += 1) {
        const own = at((mx + 0.5) * scale, (my + 0.5) * scale) === id;
        const painted = mask.data[my * mask.width + mx] === v;
        if (own) inside += 1;
        if (own !== painted) wrong += 1;
      }
    }
    return { id, inside, wrong };
  }, [x, y, value]);
}

test('labelling', 'superpixels: four algorithms, a click paints a segment, right click erases, Clear', async () => {
  const { page } = ctx;
  ctx.labelling = await setup();
  const { ids } = ctx.labelling;
  await page.goto(`${ctx.url}/view/${ids[0]}`);
  await waitForTiles(page);
  await page.waitForFunction(() => window.__tilery.editor.enabled);
  await page.keyboard.press('b');
  await page.waitForSelector('.pixel-panel .cat-row');
  await page.click('.seg-button[data-mode="superpixel"]');
  await page.waitForSelector('.sp-controls:not([hidden])');
  await page.fill('input[aria-label="Number of segments"]', '150');
  for (const algorithm of ['felzenszwalb', 'quickshift', 'watershed', 'slic']) {
    await page.selectOption('select[aria-label="Superpixel algorithm"]', algorithm);
    const answer = page.waitForResponse((r) => r.url().includes('/superpixels?'));
    await page.click('button:has-text("Calculate segments")');
    const resp = await answer;
    const q = new URL(resp.url()).searchParams;
    assert(resp.status() === 200 && q.get('algorithm') === algorithm && q.get('nSegments') === '150', `request ${resp.url()}`);
    assert(q.get('compactness') === '10' && Number(q.get('right')) === 1024 && Number(q.get('bottom')) === 768, `region and compactness: ${resp.url()}`);
    const count = Number(resp.headers()['superpixel-count']);
    await page.waitForSelector(`.sp-status:has-text("${count.toLocaleString('en-US')} segments in view")`);
    const decoded = await page.evaluate(() => window.__tilery.labeller.superpixels.segments.count);
    assert(count > 1 && decoded === count, `${algorithm}: ${count} segments, decoded ${decoded}`);
    assert(await page.isDisabled('input[aria-label="Compactness"]') === !['slic', 'watershed'].includes(algorithm), `compactness for ${algorithm}`);
  }
  await shot(page, '28-superpixels');

  // Left click paints the segment under the pointer with the current class.
  await page.keyboard.press('1');
  let [sx, sy] = await screenOf(page, 300, 300);
  await page.mouse.click(sx, sy);
  let check = await segmentCheck(page, 300, 300, 1);
  assert(check.inside > 50 && check.wrong === 0, `segment painted exactly: ${JSON.stringify(check)}`);
  await page.keyboard.press('2');
  const [tx, ty] = await screenOf(page, 700, 450);
  await page.mouse.click(tx, ty);
  check = await segmentCheck(page, 700, 450, 2);
  assert(check.wrong === 0, `second segment painted exactly: ${JSON.stringify(check)}`);
  await shot(page, '29-superpixels-painted');
  // Right click erases the first segment; the second stays.
  await page.mouse.click(sx, sy, { button: 'right' });
  let shares = await page.evaluate(() => Object.fromEntries(window.__tilery.labeller.fractions()));
  assert(shares[1] === 0 && shares[2] > 0, `after erasing: ${JSON.stringify(shares)}`);
  // Undo brings the erased segment back.
  await page.keyboard.press('Control+z');
  check = await segmentCheck(page, 300, 300, 1);
  assert(check.wrong === 0, 'undo restored the erased segment');
  // Clear empties the whole mask.
  await page.click('.pixel-panel button:has-text("Clear")');
  shares = await page.evaluate(() => Object.fromEntries(window.__tilery.labeller.fractions()));
  assert(Object.values(shares).every((v) => v === 0), `cleared: ${JSON.stringify(shares)}`);
  // Zoomed far in, the outlines keep one screen width (they are stroked as vectors).
  const before = await page.evaluate(() => {
    const view = window.__tilery.map.getView();
    const was = [view.getCenter(), view.getResolution()];
    view.setCenter([300, -300]);
    view.setResolution(1 / 8);
    return was;
  });
  await waitForTiles(page);
  await shot(page, '33-superpixels-zoomed');
  await page.evaluate(([c, r]) => {
    const view = window.__tilery.map.getView();
    view.setCenter(c);
    view.setResolution(r);
  }, before);
  await waitForTiles(page);

  // Paint once more and finish: the mask is stored as done, the next image opens.
  [sx, sy] = await screenOf(page, 500, 380);
  await page.keyboard.press('3');
  await page.mouse.click(sx, sy);
  await page.click('.pixel-panel button:has-text("Done, next image")');
  await page.waitForURL(new RegExp(`/view/${ids[1]}`));
  const masks = await ctx.api.call('GET', `item/${ids[0]}/labels`);
  assert(masks.length === 1 && masks[0].login === 'alice' && masks[0].status === 'done' && JSON.stringify(masks[0].values) === '[0,3]', `stored: ${JSON.stringify(masks)}`);
});

test('labelling', "the owner's progress view and the download of every mask", async () => {
  const { page } = ctx;
  const { folder, ids } = ctx.labelling;
  // Bob labels too: write access, and a checkpoint on the second image.
  await ctx.api.call('PUT', `folder/${folder._id}/access`, { params: { access: { users: [{ id: ctx.alice._id, level: 2 }, { id: ctx.bob._id, level: 1 }], groups: [] } } });
  const bobMask = makeGrayPng(256, 192, (x) => (x < 128 ? 1 : 0));
  await ctx.bobApi.call('PUT', `item/${ids[1]}/labels`, { params: { status: 'checkpoint' }, body: bobMask, headers: { 'Content-Type': 'image/png' } });

  await page.goto(`${ctx.url}/folder/${folder._id}`);
  await page.waitForSelector('.labelling-card:not([hidden]) tr[data-login="bobby"]');
  const rows = await page.$$eval('.labelling-card tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent.trim())));
  assert(JSON.stringify(rows) === JSON.stringify([['alice', '1 / 2', '0'], ['bobby', '0 / 2', '1']]), `progress rows: ${JSON.stringify(rows)}`);
  await shot(page, '30-labelling-progress');

  const download = page.waitForEvent('download');
  await page.click('.labelling-card a:has-text("All masks")');
  const file = await download;
  assert(file.suggestedFilename() === `${folder.name}-labels.zip`, `zip name ${file.suggestedFilename()}`);
  const { readFileSync } = await import('node:fs');
  const zip = readFileSync(await file.path());
  assert(zip.subarray(0, 4).toString('binary') === 'PK\x03\x04', 'a zip file');
  for (const entry of [`${folder.name}/case-a.png/alice-done.png`, `${folder.name}/case-b.png/bobby-checkpoint.png`]) {
    assert(zip.includes(Buffer.from(entry)), `the zip holds ${entry}`);
  }
});

test('labelling', 'a labeller finds the project under "Shared with me" on their home page, with their progress', async () => {
  // As in seed 001: the project lives in its creator's Private folder, which
  // nobody else can browse; the creator adds a labeller to the project alone.
  const privateFolder = await ctx.api.privateFolder(ctx.alice._id);
  const project = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: privateFolder._id, name: `Glands project${ctx.suffix}` } });
  const ids = [];
  for (const [i, name] of ['g-1.png', 'g-2.png'].entries()) ids.push((await ctx.api.upload(project._id, name, makePng(256, 192, 40 + i), 'image/png')).itemId);
  for (const id of ids) await ctx.api.waitForLargeImage(id);
  await ctx.api.call('PUT', `folder/${project._id}/labels/classes`, { json: [{ value: 1, name: 'gland', color: '#ff0000' }] });
  await ctx.api.call('PUT', `folder/${project._id}/tagset`, { json: { tags: [{ code: '1', alias: 'Good' }, { code: '2', alias: 'Blurred' }], multiple: false } });
  await ctx.api.call('PUT', `item/${ids[0]}/tags`, { json: ['1'] });
  const share = (folder) => ctx.api.call('PUT', `folder/${folder._id}/access`, { params: { access: { users: [{ id: ctx.alice._id, level: 2 }, { id: ctx.bob._id, level: 1 }], groups: [] } } });
  await share(project);
  await ctx.bobApi.call('PUT', `item/${ids[1]}/labels`, { params: { status: 'checkpoint' }, body: makeGrayPng(256, 192, (x) => (x < 64 ? 1 : 0)), headers: { 'Content-Type': 'image/png' } });
  // Shared later: listed above the project.
  const later = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: privateFolder._id, name: `Shared later${ctx.suffix}` } });
  await share(later);

  const { page } = await newSignedInPage('bobby', 'bob-password1');
  await page.goto(`${ctx.url}/user/${ctx.bob._id}`);
  await page.waitForSelector(`.shared-card:not([hidden]) tr[data-id="${project._id}"] .shared-progress`);
  const ids2 = await page.$$eval('.shared-card tbody tr', (trs) => trs.map((tr) => tr.dataset.id));
  assert(ids2.indexOf(later._id) === 0 && ids2.indexOf(project._id) === 1, `newest share first: ${ids2}`);
  const progress = (await page.textContent(`.shared-card tr[data-id="${project._id}"] td:last-child`)).trim();
  // Bob saved a checkpoint on one image and finished none; one of two images is tagged.
  assert(progress === '0 / 2 labelled (1 in progress)1 / 2 tagged', `progress: ${progress}`);
  assert((await page.textContent(`.shared-card tr[data-id="${project._id}"]`)).includes('Alice Admin'), 'who shared it');
  await shot(page, '31-shared-with-me');
  // Alice's own folders are not "shared with me" for her.
  await ctx.page.goto(`${ctx.url}/user/${ctx.alice._id}`);
  await ctx.page.waitForSelector('.list-card tbody tr');
  const aliceIds = await ctx.page.$$eval('.shared-card tbody tr', (trs) => trs.map((tr) => tr.dataset.id));
  assert(!aliceIds.includes(project._id), 'the project is not in Alice\'s own Shared with me');
  await page.click(`.shared-card tr[data-id="${project._id}"] a.entry`);
  await page.waitForURL(`**/folder/${project._id}`);
});
