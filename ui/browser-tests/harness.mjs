// What the browser tests share: Debian's Chromium, the built UI (dist/) served over HTTP
// with the fake Tauri shell (fake-tauri.js) injected before the app loads, and helpers
// to drive a page. A test file calls `startBrowser` / `stopBrowser` in its before/after.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startStaticServer } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.resolve(here, '../dist');
const FAKE = path.join(here, 'fake-tauri.js');
// The fixtures the fake shell builds its answers with (shared with the vitest mock).
const FIXTURES = path.resolve(here, '../src/test/fixtures.js');
// The fake shell's polls and materials, modules of their own.
const FAKE_POLLS = path.join(here, 'fake-polls.js');
const FAKE_MATERIALS = path.join(here, 'fake-materials.js');
// The fake shell's study groups, a module of its own too.
const FAKE_GROUPS = path.join(here, 'fake-groups.js');
// The window's Content-Security-Policy, as the Tauri shell sends it with the app's pages.
const TAURI_CONF = path.resolve(here, '../../tauri.conf.json');
const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The running browser and the site it loads (set by `startBrowser`). */
export const env = { browser: null, site: null };

/** tauri.conf.json's `app.security.csp` as a header's value. */
export function windowCsp() {
  const { csp } = JSON.parse(readFileSync(TAURI_CONF, 'utf8')).app.security;
  return typeof csp === 'string' ? csp : Object.entries(csp).map(([k, v]) => `${k} ${[v].flat().join(' ')}`).join('; ');
}

export async function startBrowser() {
  assert.ok(existsSync(path.join(DIST, 'index.html')), 'no dist/: run `npm run build` first');
  env.site = await startStaticServer(
    DIST,
    {
      '/__test__/fixtures.js': FIXTURES,
      '/__test__/fake-polls.js': FAKE_POLLS,
      '/__test__/fake-materials.js': FAKE_MATERIALS,
      '/__test__/fake-groups.js': FAKE_GROUPS,
    },
    { csp: windowCsp() },
  );
  env.browser = await chromium.launch({ executablePath: CHROMIUM_BIN, args: CHROMIUM_ARGS, headless: true });
}

export async function stopBrowser() {
  await env.browser?.close();
  await env.site?.close();
}

/** Retries `check` until it stops throwing (or `timeout` ms pass). */
export async function eventually(check, timeout = 5000) {
  const start = Date.now();
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() - start > timeout) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * A fresh page with the fake shell; page errors fail the test in `done()`. With `csp`, the
 * page has the window's Content-Security-Policy (tauri.conf.json), and a violation of it
 * fails the test too. `init` (a function or a script's text) runs in the page before
 * anything else, as the fake shell does.
 */
export async function open(config = {}, { csp = false, init = null } = {}) {
  const { browser, site } = env;
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: site.url });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  if (csp) {
    await page.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__cspViolations.push(`CSP: ${e.effectiveDirective} refused ${e.blockedURI || '(inline)'} in ${e.sourceFile || '?'}`),
      );
    });
  }
  if (init !== null) await page.addInitScript(init);
  await page.addInitScript(`window.__FAKE_CONFIG__ = ${JSON.stringify(config)};`);
  await page.addInitScript({ path: FAKE });
  await page.goto(csp ? `${site.url}/?csp` : site.url);
  const id = (testId) => page.getByTestId(testId);
  return {
    page,
    id,
    calls: (cmd) => page.evaluate((c) => window.__fake.calls.filter((x) => x.cmd === c).map((x) => x.args), cmd),
    emit: (event, payload) => page.evaluate(([e, p]) => window.__fake.emit(e, p), [event, payload]),
    fail: (cmd, kind, message, times = 1) =>
      page.evaluate(([c, k, m, t]) => window.__fake.fail(c, k, m, t), [cmd, kind, message, times]),
    delay: (cmd, ms) => page.evaluate(([c, d]) => (window.__fake.delays[c] = d), [cmd, ms]),
    text: (testId) => id(testId).innerText(),
    visible: (testId) => id(testId).isVisible(),
    async done() {
      if (csp) errors.push(...(await page.evaluate(() => window.__cspViolations)));
      await context.close();
      assert.deepEqual(errors.map(String), []);
    },
  };
}

export async function waitVisible(locator, timeout = 5000) {
  await locator.first().waitFor({ state: 'visible', timeout });
}

export async function waitGone(locator, timeout = 5000) {
  await locator.first().waitFor({ state: 'detached', timeout });
}

/** Start screen → host → device setup → room. */
export async function hostRoom(t, title = 'Finals week') {
  await eventually(async () => assert.equal(await t.id('display-name').inputValue(), 'Ada'));
  await t.id('host-title').fill(title);
  await t.id('host-submit').click();
  await waitVisible(t.id('setup-continue'));
  await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
  await t.id('setup-continue').click();
  await waitVisible(t.id('room'));
}

export async function openChat(t) {
  await t.id('toggle-chat').click();
  await waitVisible(t.id('chat-input'));
}
