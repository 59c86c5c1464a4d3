// Study groups (issue #16) with the real app under Xvfb: the app creates a group kept on
// this computer (its group relay starts), schedules a weekly session from the group page,
// and a headless client joining by the group's invite appears online on that page, then
// offline when it goes. The client sees the session the app scheduled.
// Screenshots go to $STUDYHALL_SCREENSHOTS (the README's groups.png comes from here).
//
// Needs what harness.mjs says.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SELECT, appBin, client, desktop, exited, shot, tauriDriver } from './harness.mjs';

/** Set an input's value as typing would (React listens for `input`). */
const SET = `const [sel, value] = arguments;
  const el = document.querySelector(sel);
  if (!el) return false;
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  setter.call(el, value);
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
  return el.value === value;`;

/**
 * A screenshot for the docs, only when they are being made ($STUDYHALL_SCREENSHOTS): a
 * WebKitWebDriver screenshot call here now and then hangs for its whole 90 s timeout,
 * and the pictures prove nothing the checks do not.
 */
const docShot = (driver, name) => (process.env.STUDYHALL_SCREENSHOTS ? shot(driver, name) : Promise.resolve());

/** Whether the group page shows the member named `name` with `status`. */
const STATUS_IS = `const [name, status] = arguments;
  const row = [...document.querySelectorAll('[data-testid=member-row]')]
    .find((r) => r.textContent.includes(name));
  return !!row && row.dataset.status === status;`;

test('the app creates a group and schedules a session; a headless client joins by invite and shows online on the group page', async (t) => {
  const { work, env } = await desktop(t);
  const { driver: raw } = await tauriDriver(t, env);
  // A step that fails is named in the failure.
  const driver = new Proxy(raw, {
    get(target, name) {
      const value = target[name];
      if (typeof value !== 'function') return value;
      return (...args) => {
        const step = `${String(name)} ${String(JSON.stringify(args[0]) ?? '').slice(0, 120)}`;
        return Promise.resolve(value.apply(target, args)).catch((e) => {
          throw new Error(`${step}: ${e.message}`);
        });
      };
    },
  });

  await driver.start({ 'tauri:options': { application: appBin } });
  await driver.waitFor('the start screen, loaded', `const n = document.querySelector('[data-testid=display-name]'); return n && !n.disabled`, { timeout: 30000 });
  await driver.type('[data-testid=display-name]', 'Ada Lovelace');
  await driver.waitFor('the groups section', `return document.querySelector('[data-testid=groups-section] [data-testid=new-group]')`);

  // A group kept on this computer.
  await driver.click('[data-testid=new-group]');
  await driver.waitFor('the new-group dialog', `return document.querySelector('input[data-testid=group-name]')`);
  await driver.type('input[data-testid=group-name]', 'Linear Algebra');
  await driver.click('[data-testid=create-group]');
  await driver.waitFor('the group page', `return document.querySelector('[data-testid=group-page]') && document.querySelector('[data-testid=member-row]')`, { timeout: 40000 });
  const code = (await driver.waitFor('the invite code', `const e = document.querySelector('[data-testid=group-invite-code]'); return e && e.textContent.trim()`)).trim();
  assert.match(code, /^G-[0-9A-Z]{4}-[0-9A-Z]{4}$/, 'a group invite code');
  const relay = await driver.waitFor('the invite link', `const e = [...document.querySelectorAll('input, [data-testid]')].map((x) => x.value || x.textContent || '').find((v) => v.includes('studyhall://group?')); return e`);
  const address = decodeURIComponent(/relay=([^&]+)/.exec(relay)[1]);
  await driver.waitFor('the owner online in their own group', STATUS_IS, { args: ['Ada Lovelace', 'online'] });

  // A weekly session, from tomorrow at 18:00 local time.
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  const date = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}`;
  await driver.click('[data-testid=schedule-session]');
  await driver.waitFor('the schedule dialog', `return document.querySelector('[data-testid=save-session]')`);
  await driver.type('input[name=title]', 'Problem set');
  assert.ok(await driver.exec(SET, 'input[name=date]', date), 'date set');
  assert.ok(await driver.exec(SET, 'input[name=time]', '18:00'), 'time set');
  assert.ok(await driver.exec(SET, 'input[name=minutes]', '90'), 'length set');
  assert.ok(await driver.exec(SELECT, 'select[name=repeat]', 'weekly'), 'repeat weekly');
  await driver.click('[data-testid=save-session]');
  await driver.waitFor('the session among the next ones', `return [...document.querySelectorAll('[data-testid=upcoming-session]')].some((e) => e.textContent.includes('Problem set'))`, { timeout: 20000 });

  // A student joins by the invite and keeps the presence socket open.
  const state = join(work, 'bob.json');
  const bob = client([
    'group', '--state', state, 'join', '--invite', `${code}@${address}`,
    '--name', 'Bob', '--device', 'bob-laptop', '--stay', '40s',
  ]);
  await driver.waitFor('Bob online on the group page', STATUS_IS, { timeout: 30000, args: ['Bob', 'online'] }).catch(async (e) => {
    throw new Error(`${e.message}\nBob's client:\n${bob.output.slice(-3000)}`);
  });
  await docShot(driver, 'groups.png');

  // Bob's client sees the session the app scheduled.
  const show = client(['group', '--state', state, 'show']);
  assert.equal(await exited(show), 0, `show ran:\n${show.output.slice(-2000)}`);
  const group = JSON.parse(show.output.trim().split('\n').pop());
  assert.equal(group.name, 'Linear Algebra');
  assert.equal(group.members.length, 2);
  assert.equal(group.sessions.length, 1);
  assert.equal(group.sessions[0].title, 'Problem set');
  assert.equal(group.sessions[0].minutes, 90);
  assert.match(group.sessions[0].rrule ?? '', /FREQ=WEEKLY/);
  assert.ok(JSON.parse(readFileSync(state, 'utf8')).token, 'the client kept its group token');

  // Bob goes: offline on the page.
  bob.kill('SIGTERM');
  await driver.waitFor('Bob offline', STATUS_IS, { timeout: 30000, args: ['Bob', 'offline'] });

  // The calendar: the session in the week view and, every week of it, in the month view.
  await driver.click('[data-testid=group-calendar]');
  // Weeks run Monday to Sunday: on a Sunday, tomorrow's session is in next week's view.
  if (tomorrow.getDay() === 1) {
    await driver.waitFor('the week view', `return document.querySelector('[data-testid=calendar-week]')`);
    await driver.click('[data-testid=calendar-next]');
  }
  await driver.waitFor('the week view with the session', `return document.querySelector('[data-testid=calendar-week]') && [...document.querySelectorAll('[data-testid=calendar-entry]')].some((e) => e.textContent.includes('Problem set'))`, { timeout: 20000 });
  await docShot(driver, 'calendar-week.png');
  await driver.click('[data-testid=calendar-view-month]');
  const inMonth = await driver.waitFor('the month view with the session', `return document.querySelector('[data-testid=calendar-month]') && [...document.querySelectorAll('[data-testid=calendar-entry]')].filter((e) => e.textContent.includes('Problem set')).length`, { timeout: 20000 });
  assert.ok(inMonth >= 1, 'the weekly session in the month');
  await docShot(driver, 'calendar-month.png');
});
