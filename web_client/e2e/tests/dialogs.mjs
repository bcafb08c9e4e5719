// Dialogs against the real server: an annotation's history and revert,
// renaming it, moving an item, editing metadata, and sharing with a group.
import { makePng } from '../lib.mjs';
import { assert, ctx, newSignedInPage, shot, test, waitForTiles, waitToast } from '../harness.mjs';

const rect = (x) => ({ type: 'rectangle', center: [x, 200, 0], width: 120, height: 90, lineColor: '#ff0000', lineWidth: 2 });

/** A folder of its own with one small slide in it. */
async function setup() {
  if (ctx.dialogs) return ctx.dialogs;
  const folder = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: ctx.aliceFolder._id, name: `Dialogs${ctx.suffix}` } });
  const file = await ctx.api.upload(folder._id, 'biopsy-12.png', makePng(1024, 768, 5), 'image/png');
  await ctx.api.waitForLargeImage(file.itemId);
  ctx.dialogs = { folder, itemId: file.itemId };
  return ctx.dialogs;
}

test('dialogs', 'annotation history: three versions, revert to the first, rename', async () => {
  const { page } = ctx;
  const { itemId } = await setup();
  const ann = await ctx.api.call('POST', 'annotation', { params: { itemId }, json: { name: 'Regions', elements: [rect(150)] } });
  // Two more versions. (itemId is passed because this server's PUT requires it.)
  await ctx.api.call('PUT', `annotation/${ann._id}`, { params: { itemId }, json: { name: 'Regions', elements: [rect(150), rect(400)] } });
  await ctx.api.call('PUT', `annotation/${ann._id}`, { params: { itemId }, json: { name: 'Regions', elements: [rect(150), rect(400), rect(650)] } });
  await page.goto(`${ctx.url}/view/${itemId}`);
  await waitForTiles(page);
  await page.evaluate(() => window.__tilery.loaded);
  await page.click(`.ann-row[data-id="${ann._id}"] button[title="History"]`);
  await page.waitForSelector('.dialog tbody tr:nth-child(3)');
  const rows = await page.$$eval('.dialog tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent.trim())));
  assert(JSON.stringify(rows.map((r) => [r[0], r[3]])) === '[["3","3"],["2","2"],["1","1"]]', `versions and element counts: ${JSON.stringify(rows)}`);
  assert(rows[0][4] === 'Current' && rows[2][4] === 'Revert', `actions: ${rows.map((r) => r[4])}`);
  await shot(page, '21-history');
  await page.click('.dialog tbody tr:nth-child(3) button:has-text("Revert")');
  await page.click('.dialog button:has-text("Revert") >> nth=-1');
  await waitToast(page, 'Reverted to version 1');
  await page.waitForFunction((id) => window.__tilery.layers.find((l) => l.id === id)?.elements.size === 1, ann._id);
  const now = await ctx.api.call('GET', `annotation/${ann._id}`);
  assert(now.annotation.elements.length === 1 && now.annotation.elements[0].center[0] === 150, `server has version 1's element: ${JSON.stringify(now.annotation.elements)}`);
  const history = await ctx.api.call('GET', `annotation/${ann._id}/history`);
  assert(history.length === 4 && history[0]._version === 4 && history[0]._elementCount === 1, 'the revert is a new version');

  // Rename from the list: name and description change, elements stay.
  await page.click(`.ann-row[data-id="${ann._id}"] button[title="Rename"]`);
  await page.fill('.dialog input[name=name]', 'Tumour regions');
  await page.fill('.dialog textarea[name=description]', 'Outlined by Alice');
  await page.click('.dialog button[type=submit]');
  await page.waitForSelector(`.ann-row[data-id="${ann._id}"] .name:has-text("Tumour regions")`);
  const renamed = await ctx.api.call('GET', `annotation/${ann._id}`);
  assert(renamed.annotation.name === 'Tumour regions' && renamed.annotation.description === 'Outlined by Alice', `renamed: ${renamed.annotation.name}`);
  assert(renamed.annotation.elements.length === 1, 'renaming kept the elements');
});

test('dialogs', 'move dialog: an item goes to another folder', async () => {
  const { page } = ctx;
  const { folder, itemId } = await setup();
  const archive = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: folder._id, name: 'Archive' } });
  const moved = await ctx.api.upload(folder._id, 'to-archive.txt', Buffer.from('old notes\n'), 'text/plain');
  await page.goto(`${ctx.url}/folder/${folder._id}`);
  await page.click(`tr[data-id="${moved.itemId}"] button[title="Move"]`);
  // The picker opens at the current folder and lists its subfolders.
  await page.waitForSelector('.dialog .picker-entry:has-text("Archive")');
  await shot(page, '22-move-dialog');
  await page.click('.dialog .picker-entry:has-text("Archive")');
  await page.waitForSelector('.dialog .picker-crumbs :text("Archive")');
  await page.click('.dialog button:has-text("Move here")');
  await waitToast(page, 'Moved to Archive');
  await page.waitForSelector(`tr[data-id="${moved.itemId}"]`, { state: 'detached' });
  const item = await ctx.api.call('GET', `item/${moved.itemId}`);
  assert(item.folderId === archive._id, 'the item is in Archive on the server');
  assert((await ctx.api.call('GET', `item/${itemId}`)).folderId === folder._id, 'the other item stayed');
});

test('dialogs', 'metadata editor: add, change and delete keys', async () => {
  const { page } = ctx;
  const { itemId } = await setup();
  await page.goto(`${ctx.url}/item/${itemId}`);
  const card = page.locator('.meta-card');
  await card.locator('button:has-text("Edit")').click();
  // The empty editor starts with one blank row; fill it and add another.
  await card.locator('input[aria-label=Key]').nth(0).fill('stain');
  await card.locator('textarea[aria-label=Value]').nth(0).fill('H&E');
  await card.locator('button:has-text("Add key")').click();
  await card.locator('input[aria-label=Key]').nth(1).fill('score');
  await card.locator('textarea[aria-label=Value]').nth(1).fill('3');
  await card.locator('select[aria-label=Type]').nth(1).selectOption('json');
  await card.locator('button:has-text("Save")').click();
  await waitToast(page, 'Metadata saved');
  let meta = (await ctx.api.call('GET', `item/${itemId}`)).meta;
  assert(meta.stain === 'H&E' && meta.score === 3, `added: ${JSON.stringify(meta)}`);
  await card.locator('th:has-text("score")').waitFor();

  // A bad key is refused in place and nothing is sent.
  await card.locator('button:has-text("Edit")').click();
  await card.locator('button:has-text("Add key")').click();
  await card.locator('input[aria-label=Key]').nth(2).fill('bad.key');
  await card.locator('textarea[aria-label=Value]').nth(2).fill('x');
  await card.locator('button:has-text("Save")').click();
  await card.locator('.form-error:has-text("Invalid key")').waitFor();
  await shot(page, '23-metadata-error');
  await card.locator('.meta-row').nth(2).locator('button[title="Remove key"]').click();

  // Change one value, delete the other key.
  const rows = card.locator('.meta-row');
  const keys = await rows.locator('input[aria-label=Key]').evaluateAll((els) => els.map((e) => e.value));
  await rows.nth(keys.indexOf('stain')).locator('textarea').fill('IHC Ki-67');
  await rows.nth(keys.indexOf('score')).locator('button[title="Remove key"]').click();
  // the first save's toast may still show (4 s): wait for this save's own toast
  await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  await card.locator('button:has-text("Save")').click();
  await waitToast(page, 'Metadata saved');
  meta = (await ctx.api.call('GET', `item/${itemId}`)).meta;
  assert(JSON.stringify(meta) === '{"stain":"IHC Ki-67"}', `changed and deleted: ${JSON.stringify(meta)}`);
  await card.locator('td:has-text("IHC Ki-67")').waitFor();
  assert(await card.locator('th:has-text("score")').count() === 0, 'the deleted key is gone from the card');
  await shot(page, '24-metadata');
});

test('dialogs', 'sharing with a group: a member sees the folder', async () => {
  const { page } = ctx;
  const folder = await ctx.api.call('POST', 'folder', { params: { parentType: 'folder', parentId: ctx.aliceFolder._id, name: `Group project${ctx.suffix}` } });
  // A folder bob has no access of his own to (the parent was shared with him
  // earlier; this one is made private to alice alone).
  await ctx.api.call('PUT', `folder/${folder._id}/access`, { params: { access: { users: [{ id: ctx.alice._id, level: 2 }], groups: [] }, public: false } });
  await ctx.api.upload(folder._id, 'group-notes.txt', Buffer.from('for the group\n'), 'text/plain');
  const group = await ctx.api.call('POST', 'group', { params: { name: `Pathologists${ctx.suffix}`, description: 'Reading panel' } });
  await ctx.api.call('POST', `group/${group._id}/invitation`, { params: { userId: ctx.bob._id, level: 0 } });
  await ctx.bobApi.call('POST', `group/${group._id}/member`);
  const denied = await ctx.bobApi.call('GET', `folder/${folder._id}`).then(() => false, () => true);
  assert(denied, 'bob cannot see the folder before it is shared');

  await page.goto(`${ctx.url}/folder/${folder._id}`);
  await page.click('button:has-text("Share")');
  // Part of the name finds the group (a reused server may hold older ones, so
  // pick this run's by its full name).
  await page.fill('.dialog input[type=search]', 'patholog');
  await page.locator('.search-result', { hasText: group.name }).filter({ has: page.locator(`span:text-is("${group.name}")`) }).click();
  await page.waitForSelector(`.share-row:has-text("${group.name}")`);
  await shot(page, '25-share-group');
  await page.click('.dialog button:has-text("Save")');
  await waitToast(page, 'Sharing saved');
  const access = await ctx.api.call('GET', `folder/${folder._id}/access`);
  assert(access.groups.length === 1 && access.groups[0].id === group._id && access.groups[0].level === 0, `group access: ${JSON.stringify(access.groups)}`);

  const { page: bobPage } = await newSignedInPage('bobby', 'bob-password1');
  await bobPage.goto(`${ctx.url}/folder/${folder._id}`);
  await bobPage.waitForSelector('tr:has-text("group-notes.txt")');
  assert(await bobPage.locator('button:has-text("Upload files")').count() === 0, 'the group reads, it does not write');
});
