// Materials (issue #17) with the real app under Xvfb: the app hosts a room and its host
// shares a PDF from the Materials tab (the file dialog's answer comes from
// STUDYHALL_PICK_FILE: no one can click in a native dialog here); the upload goes over
// HTTP to the app's hosted relay. A headless client joining by invite lists the file,
// downloads it, and its SHA-256 matches the file the host picked. The app's chat shows
// the file as an attachment.
// Screenshots go to $STUDYHALL_SCREENSHOTS (the README's materials.png comes from here).
//
// Needs what harness.mjs says.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SELECT, appBin, client, desktop, exited, shot, tauriDriver, until } from './harness.mjs';

const NAME = 'Lecture 3 — proofs.pdf';

/** A PDF of one page and about 600 KB (a comment of filler makes it large). */
function pdf() {
  const head = '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'
    + '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n'
    + '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R >> endobj\n'
    + '4 0 obj << /Length 35 >> stream\n0 0 0 rg 20 20 260 160 re f\nendstream endobj\n';
  const filler = Buffer.alloc(600_000);
  for (let i = 0; i < filler.length; i++) filler[i] = 32 + ((i * 7) % 90);
  return Buffer.concat([Buffer.from(head), Buffer.from('% '), filler, Buffer.from('\ntrailer << /Root 1 0 R >>\n%%EOF\n')]);
}

test('the host shares a PDF in the app; a headless client lists it, downloads it, and the checksum matches', async (t) => {
  const { work, env } = await desktop(t);
  const bytes = pdf();
  const file = join(work, NAME);
  writeFileSync(file, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const { driver } = await tauriDriver(t, { ...env, STUDYHALL_PICK_FILE: file });

  await driver.start({ 'tauri:options': { application: appBin } });
  await driver.waitFor('the start screen, loaded', `const n = document.querySelector('[data-testid=display-name]'); return n && !n.disabled`, { timeout: 30000 });
  await driver.type('[data-testid=display-name]', 'Professor Noether');
  await driver.type('[data-testid=host-title]', 'Algebra reading group');
  await driver.click('[data-testid=host-submit]');
  await driver.waitFor('device setup', `return document.querySelector('[data-testid=select-camera]')`);
  assert.ok(await driver.exec(SELECT, '[data-testid=select-camera]', 'synthetic'), 'test pattern chosen');
  assert.ok(await driver.exec(SELECT, '[data-testid=select-microphone]', 'synthetic'), 'test tone chosen');
  await driver.waitFor('device setup ready', `const b = document.querySelector('[data-testid=setup-continue]'); return b && !b.disabled`);
  await driver.click('[data-testid=setup-continue]');
  await driver.waitFor('the room', `return document.querySelector('[data-testid=room]')`, { timeout: 40000 });
  await driver.click('[data-testid=open-invite]');
  const code = (await driver.waitFor('the invite code', `const e = document.querySelector('[data-testid=invite-code]'); return e && (e.value || e.textContent).trim()`)).trim();
  await driver.click('[data-testid=invite-dialog] .button--primary');
  await driver.waitFor('the invite dialog to close', `return !document.querySelector('[data-testid=invite-dialog]')`);

  // Share the file from the Materials tab of the side panel.
  await driver.click('[data-testid=toggle-chat]');
  await driver.waitFor('the side panel', `return document.querySelector('[data-testid=materials-tab]')`);
  await driver.click('[data-testid=materials-tab]');
  await driver.waitFor('the materials tab', `return document.querySelector('[data-testid=materials-panel]')`);
  await driver.click('[data-testid=materials-share]');
  const listed = await driver.waitFor('the file in the list', `const e = document.querySelector('[data-testid=material-item] [data-testid=material-name]'); return e && e.textContent`, { timeout: 30000 });
  assert.equal(listed, NAME, 'the name the host picked, for display');
  // Its preview: the first page, drawn by pdf.js in the app's webview.
  await driver.click('[data-testid=material-item] [data-testid=material-preview]');
  const pages = await driver.waitFor('the PDF preview', `const e = document.querySelector('[data-testid=material-preview-pages]'); const err = document.querySelector('[data-testid=material-preview-pdf-error]'); return (e && e.textContent) || (err && 'error: ' + err.textContent)`, { timeout: 30000 });
  assert.equal(pages.trim(), 'Page 1 of 1', 'the preview drew the first page');
  await shot(driver, 'materials.png');

  // A student joins and downloads everything the room has.
  const dump = join(work, 'materials.json');
  const into = join(work, 'downloads');
  mkdirSync(into, { recursive: true });
  const eve = client([
    'join', '--invite', code, '--name', 'Eve', '--video', 'none', '--audio', 'none',
    '--materials-dump', dump, '--download-all', into, '--duration', '3s',
  ]);
  assert.equal(await exited(eve), 0, `Eve's client ran cleanly:\n${eve.output.slice(-3000)}`);
  const seen = JSON.parse(readFileSync(dump, 'utf8'));
  assert.equal(seen.items.length, 1, 'one file in the room');
  const [m] = seen.items;
  assert.equal(m.name, NAME);
  assert.equal(m.mime, 'application/pdf', 'its type, from its content');
  assert.equal(m.size, bytes.length);
  assert.equal(m.sha256, sha256, "the relay's checksum is the file's");
  const got = readFileSync(join(into, m.id));
  assert.equal(createHash('sha256').update(got).digest('hex'), sha256, 'the download is the file the host picked');
  assert.match(eve.output, new RegExp(`downloaded ${NAME} to .* \\(sha256 ${sha256} checked`), 'the client checked it');

  // The app's chat shows the file as an attachment.
  await driver.click('[data-testid=chat-tab]');
  const card = await until('the attachment in the app\'s chat', async () =>
    driver.exec(`const e = document.querySelector('[data-testid=chat-attachment] [data-testid=attachment-name]'); return e && e.textContent`));
  assert.equal(card, NAME);
});
