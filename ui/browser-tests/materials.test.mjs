// Browser tests of materials (shared files): the built UI in Debian's Chromium; the Tauri
// shell faked (fake-materials.js keeps the room's files as the relay does, with its limits
// and who may do what, and runs the app's transfers, telling of them with
// `material-transfer` events; fake-tauri.js gives the webview's drag and drop).
//
// Run: npm run test:browser (builds first); this file alone after a build:
// node --test browser-tests/materials.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jsPDF } from 'jspdf';
import { env, eventually, hostRoom, open, startBrowser, stopBrowser, waitGone, waitVisible } from './harness.mjs';

before(startBrowser);
after(stopBrowser);

const person = (identity, name, extra = {}) => ({
  identity,
  name,
  host: false,
  presenter: false,
  you: false,
  media: { mic: true, camera: false, screen: false },
  presence: 'active',
  joinedAt: 2,
  ...extra,
});

/** Bob hosts the room a guest joins. */
const BOB_HOST = person('bob-2', 'Bob', { host: true });
const CAT = person('cat-3', 'Cat', { joinedAt: 3 });

const T0 = Date.now() - 3_600_000;
const file = (id, name, extra = {}) => ({
  id,
  name,
  size: 2_483_110,
  mime: 'application/pdf',
  sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  by: 'bob-2',
  by_name: 'Bob',
  at: T0,
  ...extra,
});
const SLIDES = file('0123456789abcdef0123456789abcdef', 'Week 1 slides.pdf');
const BOARD = file('fedcba9876543210fedcba9876543210', 'whiteboard.png', { mime: 'image/png', size: 300_000, by: 'cat-3', by_name: 'Cat', at: T0 + 60_000 });
const LONG_NAME = `Lecture notes ${'with a very long name '.repeat(8)}final.pdf`;
const LONG = file('00000000000000000000000000000001', LONG_NAME, { at: T0 + 120_000 });
const MINE = file('00000000000000000000000000000002', 'my notes.md', { mime: 'text/markdown', size: 1200, by: 'me-1', by_name: 'Ada', at: T0 + 180_000 });

/** A PDF as the app's `material_preview` gives it: its bytes as a base64 `data:` URL. */
const pdfDataUrl = (bytes) => `data:application/pdf;base64,${Buffer.from(bytes).toString('base64')}`;

/** `pages` A4 pages made with jsPDF: the first a big black rectangle under a title (a font it does not embed). */
function makePdf(pages = 1) {
  const doc = new jsPDF({ unit: 'pt', format: 'a4' });
  doc.setFontSize(36);
  doc.text('Week 1 slides', 60, 80);
  doc.rect(60, 120, 475, 600, 'F');
  for (let n = 2; n <= pages; n++) {
    doc.addPage();
    doc.text(`Page ${n}`, 60, 80);
  }
  return pdfDataUrl(doc.output('arraybuffer'));
}

const attachmentOf = (m) => ({ id: m.id, name: m.name, size: m.size, mime: m.mime });

async function joinAsGuest(t) {
  await eventually(async () => assert.equal(await t.id('invite-input').isEnabled(), true));
  await t.id('invite-input').fill('K7QX-29FD@192.168.1.20:7450');
  await t.id('join-submit').click();
  await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
  await t.id('setup-continue').click();
  await waitVisible(t.id('room'));
}

/** The tab has no toolbar button (the toolbar is full): open the panel, then the tab. */
async function openMaterials(t) {
  if ((await t.id('side-panel').count()) === 0) await t.id('toggle-people').click();
  await t.id('materials-tab').click();
  await waitVisible(t.id('materials-panel'));
}

const item = (t, id) => t.page.locator(`[data-testid=material-item][data-material-id="${id}"]`);
const upload = (t, n) => t.id('upload-item').nth(n);
const fake = {
  share: (t, f, by) => t.page.evaluate(([x, b]) => window.__fake.materials.share(x, b), [f, by]),
  hold: (t) => t.page.evaluate(() => (window.__fake.materials.hold = true)),
  step: (t, id) => t.page.evaluate((i) => window.__fake.materials.step(i), id),
  release: (t) => t.page.evaluate(() => window.__fake.materials.release()),
  running: (t) => t.page.evaluate(() => window.__fake.materials.running()),
  stored: (t) => t.page.evaluate(() => window.__fake.materials.stored()),
  drag: (t, type, paths) => t.page.evaluate(([y, p]) => window.__fake.drag(y, p), [type, paths]),
};
const materialRequests = async (t) =>
  (await t.calls('feature_request')).map((c) => c.request).filter((r) => r.type.startsWith('material'));

describe('materials', () => {
  it('lists the files of the snapshot; a file shared while the tab is away is counted on it and shown in chat', async () => {
    const t = await open({ others: [BOB_HOST, CAT], materials: { items: [SLIDES, BOARD, LONG] } });
    await joinAsGuest(t);
    await openMaterials(t);
    const ids = () => t.id('material-item').evaluateAll((els) => els.map((e) => e.dataset.materialId));
    assert.deepEqual(await ids(), [LONG.id, BOARD.id, SLIDES.id]);
    assert.equal(await item(t, SLIDES.id).getByTestId('material-name').innerText(), 'Week 1 slides.pdf');
    assert.equal(await item(t, SLIDES.id).getByTestId('material-type').innerText(), 'PDF');
    assert.equal(await item(t, SLIDES.id).getByTestId('material-size').innerText(), '2.4 MiB');
    assert.equal(await item(t, SLIDES.id).getByTestId('material-by').innerText(), 'shared by Bob');
    assert.equal(await item(t, BOARD.id).getByTestId('material-type').innerText(), 'PNG image');
    assert.equal(await item(t, BOARD.id).getByTestId('material-by').innerText(), 'shared by Cat');
    // A long name is cut with an ellipsis on one line; the title has it whole.
    const name = item(t, LONG.id).getByTestId('material-name');
    assert.equal(await name.getAttribute('title'), LONG_NAME);
    const cut = await name.evaluate((el) => ({
      clipped: el.scrollWidth > el.clientWidth,
      overflow: getComputedStyle(el).textOverflow,
      lines: Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)),
    }));
    assert.deepEqual(cut, { clipped: true, overflow: 'ellipsis', lines: 1 });
    assert.equal(await t.text('materials-limits'), 'Up to 100 MiB a file · 5 MiB of 1 GiB used');
    // A student shares nothing here, and deletes nothing of others.
    assert.equal(await t.id('materials-share').count(), 0);
    assert.match(await t.text('materials-who'), /Only the host and presenters/);
    assert.equal(await t.id('material-delete').count(), 0);

    // A picture previews (and a PDF: below).
    assert.equal(await item(t, SLIDES.id).getByTestId('material-preview').count(), 1);
    await item(t, BOARD.id).getByTestId('material-preview').click();
    const img = item(t, BOARD.id).getByTestId('material-preview-img');
    await waitVisible(img);
    await eventually(async () => assert.equal(await img.evaluate((el) => el.naturalWidth), 1));
    assert.equal(await img.getAttribute('alt'), 'Preview of whiteboard.png');

    // Bob shares a file while we look at the chat.
    await t.id('chat-tab').click();
    const id = await fake.share(t, { name: 'Week 2 <b>draft</b>.pdf', size: 5000, at: Date.now() }, 'bob-2');
    await eventually(async () => assert.equal(await t.text('materials-tab-unread'), '1'));
    assert.equal(await t.id('toggle-materials').count(), 0);
    // Its chat message is a card: the name as text, its type and size, a Download button.
    const card = t.page.locator(`[data-testid=chat-attachment][data-material-id="${id}"]`);
    await waitVisible(card);
    assert.equal(await card.getByTestId('attachment-name').innerText(), 'Week 2 <b>draft</b>.pdf');
    assert.equal(await card.locator('b').count(), 0);
    assert.equal(await card.getByTestId('attachment-meta').innerText(), 'PDF · 4.9 KiB');
    assert.equal(await card.getByTestId('material-download').isVisible(), true);

    await t.id('materials-tab').click();
    await waitGone(t.id('materials-tab-unread'));
    assert.deepEqual((await ids())[0], id);
    await t.done();
  });

  it('the host shares a file from the Share button: progress, then shared; a cancel leaves nothing; a refusal names the limit', async () => {
    const t = await open({
      others: [CAT],
      materials: { items: [SLIDES] },
      files: { '/home/ada/Week 1 notes.pdf': 2_000_000, '/home/ada/big.pdf': 120_000_000 },
      picks: ['/home/ada/Week 1 notes.pdf', '/home/ada/Week 1 notes.pdf', '/home/ada/big.pdf'],
    });
    await hostRoom(t);
    await openMaterials(t);
    await fake.hold(t);
    await t.id('materials-share').click();
    await waitVisible(upload(t, 0).getByTestId('transfer-progress'));
    assert.equal(await upload(t, 0).getByTestId('upload-name').innerText(), 'Week 1 notes.pdf');
    const [tid] = await fake.running(t);
    await eventually(async () => assert.equal(await upload(t, 0).getAttribute('data-transfer-id'), tid));
    assert.deepEqual(await t.calls('upload_material'), [{ path: '/home/ada/Week 1 notes.pdf' }]);
    await fake.step(t, tid);
    await eventually(async () => assert.equal(await upload(t, 0).getByTestId('transfer-progress').getAttribute('aria-valuenow'), '25'));
    assert.equal(await upload(t, 0).getByTestId('transfer-progress-text').innerText(), 'Sending · 488 KiB of 1.9 MiB');
    await fake.release(t);
    await eventually(async () => assert.equal(await upload(t, 0).getByTestId('transfer-result').innerText(), 'Shared with the room'));
    const [shared] = (await fake.stored(t)).slice(-1);
    assert.equal(shared.name, 'Week 1 notes.pdf');
    await waitVisible(item(t, shared.id));
    assert.equal(await item(t, shared.id).getByTestId('material-by').innerText(), 'shared by you');
    assert.equal(await t.text('materials-limits'), 'Up to 100 MiB a file · 4.3 MiB of 1 GiB used');
    // Your own file is no news to you.
    await t.id('chat-tab').click();
    await waitVisible(t.page.locator(`[data-testid=chat-attachment][data-material-id="${shared.id}"]`));
    assert.equal(await t.id('materials-tab-unread').count(), 0);
    await t.id('materials-tab').click();
    await upload(t, 0).getByTestId('transfer-dismiss').click();
    assert.equal(await t.id('upload-item').count(), 0);

    // Cancelled halfway: nothing is shared.
    await fake.hold(t);
    await t.id('materials-share').click();
    await waitVisible(upload(t, 0).getByTestId('transfer-progress'));
    const [second] = await fake.running(t);
    await fake.step(t, second);
    await fake.step(t, second);
    await eventually(async () => assert.equal(await upload(t, 0).getByTestId('transfer-progress').getAttribute('aria-valuenow'), '50'));
    await upload(t, 0).getByTestId('transfer-cancel').click();
    await eventually(async () => assert.equal(await upload(t, 0).getByTestId('transfer-result').innerText(), 'Cancelled: nothing was shared.'));
    const [cancelled] = await t.calls('cancel_transfer');
    assert.deepEqual(cancelled, { id: second, kind: 'upload', name: 'Week 1 notes.pdf' });
    assert.deepEqual(await fake.running(t), []);
    assert.equal((await fake.stored(t)).length, 2);
    await fake.release(t);

    // Too large: the relay's message, naming its limit.
    await t.id('materials-share').click();
    await eventually(async () =>
      assert.equal(
        await upload(t, 1).getByTestId('transfer-error').innerText(),
        "Couldn't share it: the file is 120000000 bytes; the limit is 104857600 (max_upload_bytes)",
      ),
    );
    assert.equal(await upload(t, 1).getAttribute('data-state'), 'failed');
    assert.equal((await fake.stored(t)).length, 2);
    await t.done();
  });

  it('delete is offered to the host, presenters and the uploader only; the host lets everyone share', async () => {
    const t = await open({ others: [BOB_HOST, CAT], materials: { items: [SLIDES, MINE] } });
    await joinAsGuest(t);
    await openMaterials(t);
    assert.equal(await item(t, SLIDES.id).getByTestId('material-delete').count(), 0);
    assert.equal(await item(t, MINE.id).getByTestId('material-delete').count(), 1);
    assert.equal(await t.id('materials-anyone').count(), 0);
    await item(t, MINE.id).getByTestId('material-delete').click();
    await waitVisible(t.id('material-delete-dialog'));
    assert.match(await t.text('material-delete-dialog'), /my notes\.md is deleted for everyone/);
    await t.id('confirm-ok').click();
    await waitGone(item(t, MINE.id));
    assert.deepEqual(await materialRequests(t), [{ type: 'material_delete', id: MINE.id }]);

    // Bob makes us a presenter: we share and delete any file.
    await t.page.evaluate(() => window.__fake.lecture.set('me-1', true, 'bob-2'));
    await waitVisible(item(t, SLIDES.id).getByTestId('material-delete'));
    assert.equal(await t.id('materials-share').isVisible(), true);
    await t.done();

    // The host: every file's Delete, and the switch for everyone.
    const h = await open({ others: [CAT], materials: { items: [SLIDES, BOARD] } });
    await hostRoom(h);
    await openMaterials(h);
    assert.equal(await h.id('material-delete').count(), 2);
    assert.equal(await h.id('materials-anyone').isChecked(), false);
    await h.id('materials-anyone').check();
    await eventually(async () => assert.equal(await h.id('materials-anyone').isChecked(), true));
    assert.deepEqual(await materialRequests(h), [{ type: 'materials_options', anyone_uploads: true }]);
    await h.done();

    // A student in a room where everyone may share: Share, but Delete only of their own.
    const s = await open({ others: [BOB_HOST], materials: { items: [SLIDES], anyone_uploads: true } });
    await joinAsGuest(s);
    await openMaterials(s);
    assert.equal(await s.id('materials-share').isVisible(), true);
    assert.equal(await s.id('material-delete').count(), 0);
    await s.done();
  });

  it('files dropped on the window are shared, no more at once than the room takes; the overlay shows while dragging', async () => {
    const files = { '/home/ada/a.pdf': 1000, '/home/ada/b.md': 2000, '/home/ada/c.png': 3000 };
    const t = await open({ others: [CAT], files, materials: { uploads_at_once: 2 } });
    await hostRoom(t);
    await eventually(async () => assert.equal(await t.page.evaluate(() => window.__fake.listenerCount('tauri://drag-drop')), 1));
    await fake.drag(t, 'enter', Object.keys(files));
    await waitVisible(t.id('materials-drop'));
    assert.match(await t.text('materials-drop'), /Drop to share these 3 files with the room/);
    assert.match(await t.text('materials-drop'), /Up to 100 MiB a file/);
    await fake.drag(t, 'over');
    await fake.drag(t, 'leave');
    await waitGone(t.id('materials-drop'));

    await fake.hold(t);
    await fake.drag(t, 'enter', Object.keys(files));
    await fake.drag(t, 'drop', Object.keys(files));
    await waitGone(t.id('materials-drop'));
    // The panel opens on the uploads: two run, the third waits its turn.
    await waitVisible(t.id('materials-panel'));
    await eventually(async () =>
      assert.deepEqual(await t.id('upload-item').evaluateAll((els) => els.map((e) => e.dataset.state)), ['running', 'running', 'queued']),
    );
    assert.equal((await t.calls('upload_material')).length, 2);
    await fake.release(t);
    await eventually(async () =>
      assert.deepEqual(await t.id('upload-item').evaluateAll((els) => els.map((e) => e.dataset.state)), ['done', 'done', 'done']),
    );
    assert.deepEqual((await t.calls('upload_material')).map((c) => c.path), Object.keys(files));
    assert.deepEqual((await fake.stored(t)).map((m) => m.name), ['a.pdf', 'b.md', 'c.png']);
    await t.done();
  });

  it("previews a PDF's first page on a canvas with pdf.js, under the window's content policy; a broken PDF says why", async () => {
    const handout = file('00000000000000000000000000000003', 'Handout.pdf', { size: 40_000, at: T0 + 240_000 });
    const broken = file('00000000000000000000000000000004', 'Broken.pdf', { size: 30, at: T0 + 300_000 });
    const locked = file('00000000000000000000000000000005', 'Locked.pdf', { size: 3000, at: T0 + 360_000 });
    const secret = new jsPDF({ encryption: { userPassword: 'open sesame', ownerPassword: 'owner', userPermissions: ['print'] } });
    secret.text('Answers', 20, 20);
    const previews = {
      [SLIDES.id]: makePdf(1),
      [handout.id]: makePdf(3),
      [broken.id]: pdfDataUrl(Buffer.from('%PDF-1.7\nthis is not a PDF at all\n')),
      [locked.id]: pdfDataUrl(secret.output('arraybuffer')),
    };
    const items = [SLIDES, BOARD, handout, broken, locked];
    const t = await open({ others: [BOB_HOST], materials: { items, previews } }, { csp: true });
    // Every request stays on the page's own origin (pdf.js is given bytes, never an address).
    const requests = [];
    t.page.on('request', (r) => requests.push(r.url()));
    const workers = [];
    t.page.on('worker', (w) => workers.push(w.url()));
    await joinAsGuest(t);
    await openMaterials(t);
    // pdf.js is not loaded until a PDF preview is opened (the app's own bundle has none of it).
    const loaded = () => t.page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    assert.deepEqual((await loaded()).filter((u) => /pdfPreview|pdf\.worker/.test(u)), []);

    const slides = item(t, SLIDES.id);
    await slides.getByTestId('material-preview').click();
    await eventually(async () => assert.equal(await slides.getByTestId('material-preview-pages').innerText(), 'Page 1 of 1'), 15_000);
    const canvas = slides.getByTestId('material-preview-canvas');
    assert.equal(await canvas.isVisible(), true);
    assert.equal(await canvas.getAttribute('aria-label'), 'Preview of Week 1 slides.pdf, page 1');
    const drawn = await canvas.evaluate((el) => {
      const box = el.getBoundingClientRect();
      const { data } = el.getContext('2d').getImageData(0, 0, el.width, el.height);
      let dark = 0;
      let white = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i] < 40 && data[i + 1] < 40 && data[i + 2] < 40 && data[i + 3] > 200) dark += 1;
        else if (data[i] > 240 && data[i + 1] > 240 && data[i + 2] > 240) white += 1;
      }
      // The middle of the rectangle.
      const [r, g, b] = el.getContext('2d').getImageData(Math.floor(el.width / 2), Math.floor(el.height / 2), 1, 1).data;
      return {
        cssWidth: box.width,
        cssHeight: box.height,
        width: el.width,
        height: el.height,
        panel: el.closest('[data-testid=material-item]').clientWidth,
        darkShare: dark / (el.width * el.height),
        whiteShare: white / (el.width * el.height),
        middle: [r, g, b],
      };
    });
    // An A4 page, as wide as the panel lets it be, 320 px at most, its height in proportion.
    assert.ok(drawn.cssWidth > 150 && drawn.cssWidth <= 320, JSON.stringify(drawn));
    assert.ok(drawn.cssWidth <= drawn.panel, JSON.stringify(drawn));
    assert.ok(Math.abs(drawn.cssHeight / drawn.cssWidth - 842 / 595) < 0.02, JSON.stringify(drawn));
    assert.equal(drawn.width, Math.floor(drawn.cssWidth));
    // The black rectangle is about half the page; the rest is white paper.
    assert.ok(drawn.darkShare > 0.3 && drawn.darkShare < 0.7, JSON.stringify(drawn));
    assert.ok(drawn.whiteShare > 0.2, JSON.stringify(drawn));
    assert.deepEqual(drawn.middle, [0, 0, 0]);
    // pdf.js came as a chunk of its own, and parsed in its worker (a file of the build).
    assert.ok(requests.some((u) => /\/assets\/pdfPreview-[\w-]+\.js$/.test(u)), requests.join('\n'));
    assert.ok(workers.some((u) => u.startsWith(`${env.site.url}/assets/pdf.worker.min-`)), workers.join('\n'));
    // Not pdf.js's fallback, which would run its worker's code on the page's own thread.
    assert.equal(await t.page.evaluate(() => 'pdfjsWorker' in globalThis), false);
    await slides.getByTestId('material-preview-hide').click();
    await waitGone(slides.getByTestId('material-preview-canvas'));

    // Three pages: the first is drawn, the count says how many.
    const three = item(t, handout.id);
    await three.getByTestId('material-preview').click();
    await eventually(async () => assert.equal(await three.getByTestId('material-preview-pages').innerText(), 'Page 1 of 3'), 15_000);

    // Not a PDF after all: the reason, and no canvas.
    const bad = item(t, broken.id);
    await bad.getByTestId('material-preview').click();
    const error = bad.getByTestId('material-preview-pdf-error');
    await waitVisible(error, 15_000);
    assert.match(await error.innerText(), /^This PDF could not be shown: \S.*/);
    assert.equal(await bad.getByTestId('material-preview-canvas').isVisible(), false);
    assert.equal(await bad.getByTestId('material-preview-pages').count(), 0);
    // Locked with a password: the preview asks for none.
    await item(t, locked.id).getByTestId('material-preview').click();
    const lockedError = item(t, locked.id).getByTestId('material-preview-pdf-error');
    await waitVisible(lockedError, 15_000);
    assert.equal(await lockedError.innerText(), 'This PDF could not be shown: it is protected by a password.');

    // The picture still previews as before.
    await item(t, BOARD.id).getByTestId('material-preview').click();
    await waitVisible(item(t, BOARD.id).getByTestId('material-preview-img'));

    const asked = [SLIDES.id, handout.id, broken.id, locked.id, BOARD.id];
    assert.deepEqual((await t.calls('material_preview')).map((c) => c.material.id), asked);
    const elsewhere = requests.filter((u) => !u.startsWith(`${env.site.url}/`) && !/^(data|blob):/.test(u));
    assert.deepEqual(elsewhere, []);
    await t.done();
  });

  it('downloads a file from its chat card and from the tab, with progress, Cancel and where it was saved', async () => {
    const message = {
      seq: 7,
      from: 'bob-2',
      name: 'Bob',
      text: SLIDES.name,
      ts: T0,
      clientMsgId: `material-${SLIDES.id}`,
      deleted: false,
      attachment: attachmentOf(SLIDES),
    };
    const t = await open({ others: [BOB_HOST], materials: { items: [SLIDES] }, chat: { messages: [message], hasMore: false } });
    await joinAsGuest(t);
    await t.id('toggle-chat').click();
    const card = t.id('chat-attachment');
    await waitVisible(card);
    assert.equal(await card.getByTestId('attachment-name').innerText(), 'Week 1 slides.pdf');
    assert.equal(await card.getByTestId('attachment-meta').innerText(), 'PDF · 2.4 MiB');
    assert.equal(await t.id('chat-text').count(), 0);
    await fake.hold(t);
    await card.getByTestId('material-download').click();
    await waitVisible(card.getByTestId('transfer-progress'));
    const [args] = await t.calls('download_material');
    assert.deepEqual(args, { material: SLIDES, directory: null });
    const [did] = await fake.running(t);
    await fake.step(t, did);
    await eventually(async () => assert.equal(await card.getByTestId('transfer-progress').getAttribute('aria-valuenow'), '25'));
    await card.getByTestId('transfer-cancel').click();
    await eventually(async () => assert.match(await card.getByTestId('transfer-result').innerText(), /Download it again to resume/));
    await fake.release(t);
    await card.getByTestId('material-download').click();
    await eventually(async () =>
      assert.equal(await card.getByTestId('transfer-result').innerText(), 'Saved to /home/ada/Downloads/Week 1 slides.pdf'),
    );

    // The tab shows the same download; once the file is deleted, the card says so.
    await t.id('materials-tab').click();
    assert.equal(await item(t, SLIDES.id).getByTestId('transfer-result').innerText(), 'Saved to /home/ada/Downloads/Week 1 slides.pdf');
    await t.page.evaluate((id) => window.__fake.materials.remove(id, 'bob-2'), SLIDES.id);
    await waitGone(item(t, SLIDES.id));
    await waitVisible(t.id('materials-empty'));
    await t.id('chat-tab').click();
    assert.equal(await t.text('attachment-gone'), 'No longer shared.');
    assert.equal(await t.id('material-download').count(), 0);
    await t.done();
  });
});
