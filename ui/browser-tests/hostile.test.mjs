// Hostile content (issue #19): the corpus of hostile-corpus.mjs sent through every place
// the app shows what people typed — the room title (the start screen's recent rooms, the
// device check, the room's header, the study page), display names (tiles, the people
// list, the chat, the hand queue, reactions, the whiteboard's access list, the dialogs and
// toasts that name someone), chat messages, questions and who asked them, polls (questions,
// options, voters, drafts), shared files (the list, the chat's attachments, uploads), the
// whiteboard's text, and study groups (group names, members' names, session titles on the
// start screen, the group page, the calendar, its dialogs and the reminders). Each test proves that
//   - nothing runs: no payload calls the sentinel `window.__pwned`, no dialog opens, no
//     window opens, no request leaves for another origin — after a wait and after moving
//     the mouse over and clicking what shows the payloads;
//   - nothing is injected: no element or attribute a payload carries is in the DOM (event
//     handlers, `javascript:` URLs, frames, objects, styles, scripts), and each text shows
//     exactly as typed;
//   - the layout holds: the page does not scroll, no box reaches past the window (after
//     the clipping of the boxes around it), no text spills out of its box, nothing
//     scrolls sideways that should not, and a right-to-left override in someone's text
//     does not turn the app's own words around.
// Every test runs twice: under the window's Content-Security-Policy (tauri.conf.json; a
// violation fails the test), and without it, which shows the UI safe without the CSP's
// help.
//
// Run: npm run test:browser (builds first); this file alone after a build:
// node --test browser-tests/hostile.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chatPage, chatMessage, link, material, mediaStatus, participant, settings } from '../src/test/fixtures.js';
import { eventually, open, startBrowser, stopBrowser, waitGone, waitVisible } from './harness.mjs';
import { PAYLOADS, TEXTS, payload } from './hostile-corpus.mjs';

before(startBrowser);
after(stopBrowser);

const N = PAYLOADS.length;
/** The identity of the participant named with payload `i`. */
const who = (i) => `h-${i}`;
/** Payload `i`, counted round the corpus. */
const text = (i) => TEXTS[((i % N) + N) % N];
const INVITE = 'studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD';
const NOW = Date.now();

/**
 * Those of them who present (the fake relay keeps who does): some, and those whose names
 * override the direction of what follows (their badges follow their names).
 */
const BIDI = PAYLOADS.flatMap((p, i) => (p.kind === 'bidi' ? [i] : []));
const PRESENTERS = PAYLOADS.map((_, i) => who(i)).filter((_, i) => i % 17 === 5 || BIDI.includes(i));
/** Our own name: one that overrides the direction of what follows it (" (you)"). */
const MY_NAME = payload('rtl-unterminated').text;

/** The payloads uploaded as files' names. */
const UPLOADS = ['long-a', 'img-onerror', 'rtl-file-ext', 'zalgo-flood'];

/** Defines the sentinel before the app loads: a payload that runs calls it. */
function sentinel() {
  window.__pwnedCalls = [];
  Object.defineProperty(window, '__pwned', {
    value: (id) => window.__pwnedCalls.push(String(id)),
    writable: false,
    configurable: false,
  });
}

/** Everyone else in the room: one person per payload, named with it. */
function hostilePeople() {
  return PAYLOADS.map((p, i) =>
    participant(who(i), p.text, {
      joinedAt: 10 + i,
      host: false,
      presenter: PRESENTERS.includes(who(i)),
      media: { mic: i % 2 === 0, camera: i % 3 === 0, screen: false },
      presence: i % 11 === 4 ? 'away' : i % 13 === 6 ? 'on_break' : 'active',
    }),
  );
}

/** The room's files: one per payload, named with it, shared by someone named with another. */
function hostileMaterials() {
  const mimes = ['application/pdf', 'image/png', 'text/plain', 'application/zip'];
  return PAYLOADS.map((p, i) =>
    material(`m${String(i).padStart(3, '0')}`, p.text, {
      by: who(N - 1 - i),
      by_name: text(N - 1 - i),
      mime: mimes[i % mimes.length],
      size: 1000 + i * 7919,
      at: NOW - (N - i) * 60_000,
    }),
  );
}

/** The chat: a message of each payload from someone named with another; then each file shared. */
function hostileChat(materials) {
  const said = PAYLOADS.map((p, i) =>
    chatMessage(i + 1, p.text, { from: who(i), name: text(i + 7), ts: NOW - (3 * N - i) * 1000 }),
  );
  const shared = materials.map((m, i) =>
    chatMessage(N + i + 1, m.name, {
      from: m.by,
      name: m.by_name,
      ts: NOW - (2 * N - i) * 1000,
      clientMsgId: `material-${m.id}`,
      attachment: { id: m.id, name: m.name, size: m.size, mime: m.mime },
    }),
  );
  return chatPage({ messages: [...said, ...shared] });
}

/** The questions, as the relay stores them: each payload asked by someone named with another. */
function hostileQuestions() {
  return PAYLOADS.map((p, i) => ({
    id: `s${i}`,
    text: p.text,
    asked_at: NOW - (N - i) * 30_000,
    anonymous: i % 9 === 3,
    by: who(i),
    by_name: text(i + 3),
    voters: PAYLOADS.slice(0, i % 4).map((_, j) => who(j)),
    state: i % 10 === 7 ? 'answered' : i % 10 === 8 ? 'dismissed' : 'open',
  }));
}

/**
 * The polls, as the relay stores them: a question and ten options each, all payloads, voted
 * in by people named with payloads; the last one open, the others closed.
 */
function hostilePolls() {
  const count = Math.ceil(N / 10);
  return Array.from({ length: count }, (_, k) => ({
    id: `p${k + 1}`,
    question: text(k * 10),
    options: Array.from({ length: 10 }, (_, o) => text(k * 10 + o + 1)),
    kind: k % 2 === 0 ? 'single' : 'multiple',
    anonymous: k % 3 === 2,
    by: who(k),
    opened_at: NOW - (count - k) * 600_000,
    closed_at: k === count - 1 ? null : NOW - (count - k) * 600_000 + 300_000,
    ballots: Array.from({ length: 6 }, (_, b) => ({
      identity: who(k * 6 + b),
      name: text(k * 6 + b + 2),
      choices: k % 2 === 0 ? [b % 10] : [b % 10, (b + 3) % 10].sort((x, y) => x - y),
    })),
  }));
}

/** The host's own poll drafts (the app keeps them): every payload once. */
function hostileDrafts() {
  return Array.from({ length: Math.ceil(N / 4) }, (_, k) => ({
    question: text(k * 4),
    options: [text(k * 4 + 1), text(k * 4 + 2), text(k * 4 + 3)],
    kind: 'single',
    anonymous: true,
  }));
}

/** The whiteboard: every payload as a text object on its first page. */
function hostileBoard() {
  return {
    id: 'b-hostile',
    seq: N,
    access: { everyone: false, drawers: [] },
    pages: [
      {
        id: 'page-1',
        objects: PAYLOADS.map((p, i) => ({
          id: `t:${i}`,
          author: who(i),
          shape: { kind: 'text', at: [(i % 4) * 4000, Math.floor(i / 4) * 350], text: p.text, size: 300 },
          style: { color: '#111827', width: 60 },
        })),
      },
    ],
  };
}

/** The recent rooms on the start screen: one per payload, titled with it. */
function hostileRecentRooms() {
  return PAYLOADS.map((p, i) => ({
    room: `r-${i}`,
    title: p.text,
    invite: INVITE,
    relay: '192.168.1.20:7450',
    lastJoined: NOW - i * 3_600_000,
    hosted: i % 2 === 0,
  }));
}

/** The study page's record: a room per payload, titled with it. */
function hostileStudy() {
  const rooms = PAYLOADS.map((p, i) => ({ room: `r-${i}`, title: p.text, seconds: 600 + i * 60, focusPhases: i % 5 }));
  return { rooms, todayRooms: rooms.slice(0, 10) };
}

/** Today on this computer's calendar (`YYYY-MM-DD`), where the page's sessions start. */
function localToday() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/**
 * Study groups: one per payload, named with it, each with us and one member; the first
 * has everyone (named with payloads; offline, online, in its room focusing or on a break,
 * in another group's room) and 20 daily sessions titled with payloads; 10 study blocks too.
 */
function hostileGroups() {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const today = localToday();
  const me = { identity: 'me-1', name: MY_NAME, joined_at: 1 };
  const session = (k, by) => ({
    id: `s${String(k).padStart(7, '0')}`,
    by,
    title: text(k * 5),
    start: `${today}T${String(6 + (k % 14)).padStart(2, '0')}:${k % 2 === 0 ? '00' : '30'}`,
    tz,
    minutes: 30 + (k % 4) * 30,
    rrule: 'FREQ=DAILY',
  });
  return PAYLOADS.map((p, i) => {
    const members = i === 0 ? [me, ...PAYLOADS.map((q, j) => ({ identity: who(j), name: q.text, joined_at: 10 + j }))] : [me, { identity: who(i), name: text(i + 1), joined_at: 10 }];
    const presence = members.map((m, j) => {
      const kind = j % 5;
      if (m.identity === 'me-1') return { identity: m.identity, status: 'online', room: null, focus: null };
      if (kind === 0) return { identity: m.identity, status: 'offline', room: null, focus: null };
      if (kind === 1) return { identity: m.identity, status: 'online', room: null, focus: null };
      if (kind === 4) return { identity: m.identity, status: 'in_room', room: { room: 'group-g1', group: 'g1' }, focus: null };
      return {
        identity: m.identity,
        status: 'in_room',
        room: { room: `group-g${i}`, group: `g${i}` },
        focus: { phase: kind === 2 ? 'focus' : 'short_break', ends_at: kind === 2 ? NOW + 25 * 60_000 : null },
      };
    });
    return {
      group: {
        id: `g${i}`,
        name: p.text,
        room: `group-g${i}`,
        owner: i % 3 === 0 ? 'me-1' : who(i),
        members,
        sessions: i === 0 ? Array.from({ length: 20 }, (_, k) => session(k, who(k))) : [],
        invite: 'G-K7QX-29FD',
        created_at: 1,
      },
      presence,
      connected: i % 7 !== 3,
      problem: i % 7 === 3 ? `Can't reach 10.0.0.${i}:7450` : null,
    };
  });
}

/** Personal study blocks titled with payloads. */
function hostileBlocks() {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return Array.from({ length: 10 }, (_, k) => ({
    id: `b${String(k).padStart(7, '0')}`,
    by: '',
    title: text(k * 9 + 2),
    start: `${localToday()}T${String(7 + k).padStart(2, '0')}:15`,
    tz,
    minutes: 45,
    rrule: 'FREQ=DAILY;COUNT=20',
  }));
}

function hostileConfig(extra = {}) {
  const materials = hostileMaterials();
  return {
    settings: settings({ displayName: MY_NAME, recentRooms: hostileRecentRooms() }),
    others: hostilePeople(),
    chat: hostileChat(materials),
    maxChatBytes: 64 * 1024,
    questions: hostileQuestions(),
    polls: hostilePolls(),
    pollDrafts: hostileDrafts(),
    materials: { items: materials, anyone_uploads: true, quota_bytes: 10 * 1024 * 1024 * 1024 },
    presenters: PRESENTERS,
    hands: PAYLOADS.slice(0, 40).map((_, i) => ({ identity: who(i), raised_at: NOW - (40 - i) * 1000 })),
    board: hostileBoard(),
    study: hostileStudy(),
    // Files to upload, named with payloads (a name is what follows the last slash).
    files: Object.fromEntries(UPLOADS.map((id) => [`/home/ada/${payload(id).text}`, 4096])),
    picks: UPLOADS.map((id) => `/home/ada/${payload(id).text}`),
    ...extra,
  };
}

/**
 * Everything that would show a payload ran, got in, or broke the layout, as found in the
 * page now (runs in the page; `texts` are the payloads). Empty lists when all is well.
 */
function inspectPage({ texts, baseline, scrolls }) {
  const found = { pwned: [...window.__pwnedCalls], injected: [], layout: [], bidi: [] };
  const W = window.innerWidth;
  const H = window.innerHeight;
  const describe = (el) => {
    const id = el.getAttribute('data-testid');
    const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
    return `<${el.tagName.toLowerCase()}${id ? ` data-testid=${id}` : ''}${cls}>`;
  };
  const snippet = (s) => JSON.stringify(String(s).slice(0, 60));

  // (b) Nothing a payload carries is in the DOM.
  const FORBIDDEN = [
    'iframe',
    'object',
    'embed',
    'frame',
    'base',
    'marquee',
    'math',
    'plaintext',
    'xmp',
    'noscript',
    'video',
    'audio',
    'source',
    'meta[http-equiv]',
    'form[action]',
    'img[src="x"]',
    'svg script',
    'svg foreignObject',
    'svg animate',
    'svg set',
    'svg a',
    'a[href]',
    'link[href*="evil"]',
    'body body',
    '[autofocus]',
  ];
  for (const el of document.querySelectorAll(FORBIDDEN.join(','))) found.injected.push(`${describe(el)} ${snippet(el.outerHTML)}`);
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      // As a browser reads a URL: blanks and control characters in it do not count.
      const value = [...attr.value].filter((c) => c > ' ').join('').toLowerCase();
      if (name.startsWith('on') || name === 'srcdoc' || name === 'formaction' || name.includes(':href')) {
        found.injected.push(`${describe(el)} has the attribute ${name}`);
      }
      if (['href', 'src', 'action', 'data', 'poster', 'background'].includes(name)) {
        if (/^(javascript|vbscript|data:text\/html)/.test(value) || value.includes('evil.example')) {
          found.injected.push(`${describe(el)} ${name}=${snippet(attr.value)}`);
        }
      }
    }
  }
  const counts = {
    scripts: document.querySelectorAll('script').length,
    styles: document.querySelectorAll('style, link[rel~="stylesheet"]').length,
    sheets: document.styleSheets.length,
  };
  for (const [what, n] of Object.entries(counts)) {
    if (baseline && n > baseline[what]) found.injected.push(`${n - baseline[what]} more ${what} than the app has`);
  }
  if (getComputedStyle(document.body).display === 'none' || getComputedStyle(document.getElementById('root')).display === 'none') {
    found.injected.push('the page is hidden');
  }

  // (c) The layout holds.
  const root = document.scrollingElement || document.documentElement;
  if (root.scrollWidth > W) found.layout.push(`the page is ${root.scrollWidth}px wide in a ${W}px window`);
  if (!scrolls && root.scrollHeight > H) found.layout.push(`the page is ${root.scrollHeight}px tall in a ${H}px window`);
  // Each box as far as it is seen: clipped by every box around it that clips.
  const clips = new Map();
  const clipOf = (el) => {
    if (el === null) return { left: -Infinity, right: Infinity, top: -Infinity, bottom: Infinity };
    if (clips.has(el)) return clips.get(el);
    const outer = clipOf(el.parentElement);
    const style = getComputedStyle(el);
    let clip = outer;
    if (style.position === 'fixed') clip = { left: -Infinity, right: Infinity, top: -Infinity, bottom: Infinity };
    if (style.overflowX !== 'visible' || style.overflowY !== 'visible') {
      const r = el.getBoundingClientRect();
      clip = {
        left: style.overflowX !== 'visible' ? Math.max(clip.left, r.left) : clip.left,
        right: style.overflowX !== 'visible' ? Math.min(clip.right, r.right) : clip.right,
        top: style.overflowY !== 'visible' ? Math.max(clip.top, r.top) : clip.top,
        bottom: style.overflowY !== 'visible' ? Math.min(clip.bottom, r.bottom) : clip.bottom,
      };
    }
    clips.set(el, clip);
    return clip;
  };
  // Boxes meant to scroll sideways.
  const SIDEWAYS = ['panel__tabs'];
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.display === 'contents' || style.visibility === 'hidden') continue;
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const clip = clipOf(el.parentElement);
    const fixed = style.position === 'fixed';
    const left = fixed ? r.left : Math.max(r.left, clip.left);
    const right = fixed ? r.right : Math.min(r.right, clip.right);
    const top = fixed ? r.top : Math.max(r.top, clip.top);
    const bottom = fixed ? r.bottom : Math.min(r.bottom, clip.bottom);
    if (right > left && bottom > top) {
      if (right > W + 1 || left < -1) found.layout.push(`${describe(el)} reaches past the window's side (${Math.round(left)}–${Math.round(right)} of ${W})`);
      if (!scrolls && (bottom > H + 1 || top < -1)) found.layout.push(`${describe(el)} reaches past the window's bottom (${Math.round(top)}–${Math.round(bottom)} of ${H})`);
    }
    if (style.display === 'inline') continue;
    // Text (or boxes) spilling out of a box that shows what spills.
    if (style.overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
      found.layout.push(`${describe(el)} spills sideways (${el.scrollWidth}px in ${el.clientWidth}px): ${snippet(el.textContent)}`);
    }
    // A box that scrolls sideways where nothing should.
    if (
      (style.overflowX === 'auto' || style.overflowX === 'scroll') &&
      el.scrollWidth > el.clientWidth + 1 &&
      !SIDEWAYS.some((c) => el.classList.contains(c))
    ) {
      found.layout.push(`${describe(el)} scrolls sideways (${el.scrollWidth}px in ${el.clientWidth}px)`);
    }
  }

  // A right-to-left override in someone's text leaves the app's own words as they are: each
  // run of the app's text (what is left of a text once the payloads in it are taken out)
  // reads left to right.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  const longestFirst = texts.filter((t) => t.trim() !== '').sort((x, y) => y.length - x.length);
  const boxOf = (node, at) => {
    range.setStart(node, at);
    range.setEnd(node, at + 1);
    return range.getBoundingClientRect();
  };
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style')) continue;
    const s = node.data;
    // The app's runs: [start, end) outside every payload in the text.
    const taken = new Array(s.length).fill(false);
    for (const t of longestFirst) {
      for (let at = s.indexOf(t); at >= 0; at = s.indexOf(t, at + t.length)) {
        if (taken[at]) continue;
        for (let k = at; k < at + t.length; k++) taken[k] = true;
      }
    }
    let start = 0;
    while (start < s.length) {
      while (start < s.length && taken[start]) start++;
      let end = start;
      while (end < s.length && !taken[end]) end++;
      const run = s.slice(start, end);
      // Only the app's own words: plain ASCII (what is not is someone's text, e.g. initials).
      const letters = /^[\x20-\x7e\u00a0·–—…×“”‘’%]*$/.test(run) ? [...run.matchAll(/[A-Za-z0-9]/g)].map((m) => start + m.index) : [];
      if (letters.length >= 2) {
        const a = boxOf(node, letters[0]);
        const b = boxOf(node, letters[letters.length - 1]);
        if (a.width > 0 && b.width > 0 && Math.abs(a.top - b.top) <= 2 && a.left > b.left) {
          found.bidi.push(`${describe(parent)} ${snippet(run)} reads right to left (in ${snippet(s)})`);
        }
      }
      start = end;
    }
  }
  return found;
}

function baselineOf() {
  return {
    scripts: document.querySelectorAll('script').length,
    styles: document.querySelectorAll('style, link[rel~="stylesheet"]').length,
    sheets: document.styleSheets.length,
  };
}

/**
 * Opens the app with `config` and the sentinel, watching for what a payload that ran
 * would do outside the page's DOM: a dialog, a new window, a request to another origin.
 */
async function openHostile(config, csp) {
  const t = await open(config, { csp, init: sentinel });
  const outside = [];
  const site = new URL(t.page.url()).origin;
  t.page.on('dialog', (dialog) => {
    outside.push(`a ${dialog.type()} dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  t.page.context().on('page', (page) => outside.push(`a new window: ${page.url()}`));
  t.page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(site) && !url.startsWith('data:') && !url.startsWith('blob:')) outside.push(`a request to ${url}`);
  });
  t.page.on('framenavigated', (frame) => {
    if (frame === t.page.mainFrame() && !frame.url().startsWith(site)) outside.push(`the page went to ${frame.url()}`);
  });
  t.outside = outside;
  await waitVisible(t.id('display-name'));
  t.baseline = await t.page.evaluate(baselineOf);
  return t;
}

/**
 * Asserts nothing ran, got in or broke the layout, now and after a short wait. `scrolls`:
 * the screen is a page that scrolls up and down (the start screen, the study page); the
 * room never does.
 */
async function assertHeld(t, where, { wait = 250, scrolls = false } = {}) {
  if (wait > 0) await t.page.waitForTimeout(wait);
  const found = await t.page.evaluate(inspectPage, { texts: TEXTS, baseline: t.baseline, scrolls });
  const problems = [
    ...new Set([
      ...found.pwned.map((id) => `payload ${id} ran`),
      ...t.outside,
      ...found.injected,
      ...found.layout,
      ...found.bidi,
    ]),
  ];
  assert.deepEqual(problems.slice(0, 40), [], `${where}: ${problems.length} problems`);
}

/**
 * Runs a test's steps; when one fails, the failure says too what the page shows of a
 * payload that ran or got in (a step may fail only because a payload hid what it waits for).
 */
function hostileTest(body) {
  return async () => {
    let t = null;
    try {
      await body((opened) => (t = opened));
    } catch (error) {
      if (t !== null && !t.page.isClosed()) {
        const found = await t.page.evaluate(inspectPage, { texts: TEXTS, baseline: t.baseline, scrolls: true }).catch(() => null);
        if (found !== null) {
          const seen = [...found.pwned.map((id) => `payload ${id} ran`), ...t.outside, ...found.injected];
          if (seen.length > 0) error.message += `\nThe page shows: ${seen.slice(0, 20).join('; ')}`;
        }
      }
      throw error;
    }
  };
}

/** Moves the mouse over the first `count` of `locator`'s items, and clicks each `clickEvery`th. */
async function touch(t, locator, { count = 12, clickEvery = 0 } = {}) {
  const n = Math.min(count, await locator.count());
  for (let i = 0; i < n; i++) {
    const item = locator.nth(i);
    await item.scrollIntoViewIfNeeded();
    await item.hover({ force: true });
    if (clickEvery > 0 && i % clickEvery === 0) await item.click({ force: true, position: { x: 4, y: 4 } });
  }
}

/** The texts of `locator`'s items, exactly as in the DOM. */
const contents = (locator) => locator.evaluateAll((els) => els.map((el) => el.textContent));

/** Start screen → host (titled `title`) → device check → room. */
async function hostRoom(t, title) {
  await eventually(async () => assert.equal(await t.id('display-name').inputValue(), MY_NAME));
  await t.id('host-title').fill(title);
  await t.id('host-submit').click();
  await waitVisible(t.id('setup-continue'));
  await assertHeld(t, 'device check', { scrolls: true });
  await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
  await t.id('setup-continue').click();
  await waitVisible(t.id('room'));
}

/** Opens the side panel's tab `key`; `ready`: a test id in it. */
async function showTab(t, key, ready) {
  if (await t.id('side-panel').count() === 0) await t.id(`toggle-${key}`).click();
  else await t.id(`${key}-tab`).click();
  await t.id(ready).first().waitFor({ state: 'attached' });
}

/** Whether the gallery's pager button `testId` is there and can be pressed. */
const canPage = async (t, testId) => (await t.id(testId).count()) > 0 && !(await t.id(testId).isDisabled());

/**
 * Calls `visit(page)` on each page of the gallery (nine tiles a page) in turn, from the
 * first; `visit` gets the identities of the tiles on it.
 */
async function eachPage(t, visit) {
  while (await canPage(t, 'grid-prev')) await t.id('grid-prev').click();
  for (let page = 1; ; page++) {
    const identities = await t.id('tiles').locator('figure.tile').evaluateAll((els) => els.map((el) => el.dataset.identity));
    await visit(page, identities);
    if (!(await canPage(t, 'grid-next'))) return page;
    const label = await t.text('grid-page');
    await t.id('grid-next').click();
    await eventually(async () => assert.notEqual(await t.text('grid-page'), label));
  }
}

for (const csp of [true, false]) {
  describe(`hostile content (${csp ? "under the window's CSP" : 'without a CSP'})`, () => {
    it(`the corpus has at least 60 payloads, each once`, () => {
      assert.ok(N >= 60, `${N} payloads`);
      assert.equal(new Set(PAYLOADS.map((p) => p.id)).size, N);
      assert.equal(new Set(TEXTS).size, N);
    });

    it('room titles on the start screen and the device check; display names in the room; the chat', hostileTest(async (opened) => {
      const t = opened(await openHostile(hostileConfig(), csp));
      // The recent rooms, each titled with a payload.
      await eventually(async () => assert.equal(await t.id('recent-room').count(), N));
      await assertHeld(t, 'start screen', { scrolls: true });
      assert.deepEqual(await contents(t.page.locator('[data-testid=recent-room] .recent__title')), TEXTS);
      await touch(t, t.id('recent-room'), { count: N });
      await assertHeld(t, 'start screen, hovered', { scrolls: true });

      // A room hosted under a hostile title (the field takes 80 characters).
      const title = payload('script-title-break').text;
      assert.ok(title.length <= 80);
      await hostRoom(t, title);
      // Every tile and its name, a page of the gallery at a time (ours first on page 1).
      const pages = Math.ceil((N + 1) / 9);
      await eventually(async () => assert.equal(await t.text('grid-page'), `Page 1 of ${pages}`));
      assert.equal(await t.id('room-title').evaluate((el) => el.textContent), title);
      const names = [];
      const paged = await eachPage(t, async (page) => {
        await assertHeld(t, `room with everyone, page ${page}`);
        const tiles = t.page.locator('[data-testid^=tile-h-]');
        names.push(...(await contents(tiles.locator('[data-testid=tile-name]'))));
        await touch(t, tiles, { count: 9, clickEvery: 4 });
        await assertHeld(t, `tiles of page ${page}, hovered and clicked`, { wait: 0 });
      });
      assert.equal(paged, pages);
      assert.deepEqual(names, TEXTS);

      // The chat: every payload said, by people named with payloads, and every file shared.
      await showTab(t, 'chat', 'chat-list');
      const said = t.page.locator('[data-testid=chat-message]:not(:has([data-testid=chat-attachment])) [data-testid=chat-text]');
      await eventually(async () => assert.equal(await said.count(), N));
      await assertHeld(t, 'chat');
      assert.deepEqual(await contents(said), TEXTS);
      assert.deepEqual(
        await contents(t.page.locator('[data-testid=chat-message] .message__name')).then((names) => names.slice(0, N)),
        PAYLOADS.map((_, i) => text(i + 7)),
      );
      assert.deepEqual(await contents(t.id('attachment-name')), TEXTS);
      await touch(t, t.id('chat-message'), { count: 2 * N, clickEvery: 5 });
      await assertHeld(t, 'chat, hovered and clicked');

      // Ours, typed and sent: each shows as typed.
      const mine = ['script-tag', 'img-onerror', 'long-a', 'newline-flood', 'rtl-unterminated', 'md-link-js', 'zalgo-flood'];
      for (const id of mine) {
        await t.id('chat-input').fill(payload(id).text);
        await t.id('chat-input').press('Enter');
      }
      const sent = t.page.locator('[data-testid=chat-message].message--own [data-testid=chat-text]');
      await eventually(async () => assert.equal(await sent.count(), mine.length));
      await assertHeld(t, 'chat, ours sent');
      assert.deepEqual(await contents(sent), mine.map((id) => payload(id).text));
      assert.deepEqual((await t.calls('send_chat')).map((c) => c.text), mine.map((id) => payload(id).text));

      // The people: the list, the hand queue, and removing someone (a dialog, a toast).
      await showTab(t, 'people', 'people-list');
      await assertHeld(t, 'people');
      assert.deepEqual(await contents(t.page.locator('[data-testid^=person-h-] [data-testid=person-name]')), TEXTS);
      assert.deepEqual(
        await contents(t.page.locator('[data-testid=hand-queue] [data-testid=queued-name]')),
        TEXTS.slice(0, 40),
      );
      await touch(t, t.page.locator('[data-testid^=person-h-]'), { count: N });
      await touch(t, t.page.locator('[data-testid^=queued-h-]'), { count: 40 });
      await assertHeld(t, 'people, hovered');
      const kicked = PAYLOADS.findIndex((p) => p.id === 'long-a');
      await t.id(`kick-${who(kicked)}`).click();
      await waitVisible(t.id('kick-dialog'));
      await assertHeld(t, 'remove dialog');
      await t.id('kick-dialog').getByRole('button', { name: 'Remove' }).click();
      await waitGone(t.id('kick-dialog'));
      await waitVisible(t.id('toast'));
      await assertHeld(t, 'removed toast');

      // Reactions from people named with payloads: on their tiles (each on its page of the
      // gallery), named in their labels.
      const reactors = [0, 9, 55, 60, 61, 62, 63, 72, 90];
      const reacted = [];
      await eachPage(t, async (page, shown) => {
        const here = reactors.filter((i) => shown.includes(who(i)));
        if (here.length === 0) return;
        for (const i of here) {
          await t.emit('room-event', { type: 'feature', event: { type: 'reaction', identity: who(i), reaction: 'clap' } });
        }
        await eventually(async () => assert.equal(await t.id('tile-reaction').count(), here.length));
        await assertHeld(t, `reactions, page ${page}`, { wait: 0 });
        reacted.push(...here);
      });
      assert.deepEqual(reacted, reactors);

      // Connection bars on their tiles (and ours: everyone reaches us badly), each named
      // in its tooltip, set apart from the app's words.
      const lossy = [...new Set([0, 9, 55, 60, 61, 62, 63, 72, 90, ...BIDI])].filter((i) => i < N && i !== kicked);
      await t.emit('media-status', mediaStatus({ links: lossy.map((i) => link(who(i), 'poor')) }));
      const barred = [];
      await eachPage(t, async (page, shown) => {
        const here = lossy.filter((i) => shown.includes(who(i)));
        const ours = page === 1 ? 1 : 0;
        await eventually(async () => assert.equal(await t.id('link-quality').count(), here.length + ours));
        if (ours) await waitVisible(t.id('tile-self').getByTestId('link-quality'));
        for (const i of here) {
          const title = await t.id(`tile-${who(i)}`).getByTestId('link-quality').getAttribute('title');
          assert.ok(title.startsWith('Poor connection: 12% of '), title);
          assert.ok(title.endsWith("'s audio and video is lost on the way to you; 30% of video frames could not be shown."), title);
          if (/[\u202A-\u202E\u2066-\u2069]/.test(text(i))) assert.ok(title.includes(`\u2068`) && title.includes(`\u2069's audio`), title);
        }
        if (here.length + ours === 0) return;
        await touch(t, t.id('link-quality'), { count: here.length + ours });
        await assertHeld(t, `connection bars, page ${page}`);
        barred.push(...here);
      });
      assert.deepEqual(barred.sort((a, b) => a - b), [...lossy].sort((a, b) => a - b));
      await t.done();
    }));

    it('questions, polls, shared files and the whiteboard', hostileTest(async (opened) => {
      const t = opened(await openHostile(hostileConfig(), csp));
      await hostRoom(t, 'Hostile study');

      // Questions: each payload asked by someone named with another.
      await showTab(t, 'questions', 'questions-panel');
      await t.id('questions-closed-toggle').click();
      await eventually(async () => assert.equal(await t.id('question-item').count(), N));
      await assertHeld(t, 'questions');
      const shown = await t.id('question-item').evaluateAll((els) =>
        els.map((el) => [el.dataset.questionId, el.querySelector('[data-testid=question-text]').textContent]),
      );
      for (const [id, shownText] of shown) assert.equal(shownText, TEXTS[Number(id.slice(1))], `question ${id}`);
      await touch(t, t.id('question-item'), { count: N });
      // Pinned, in the header: the longest, the tallest and the overriding ones.
      for (const id of ['long-a', 'newline-flood', 'zalgo-flood', 'rtl-unterminated', 'long-cjk']) {
        const q = `s${PAYLOADS.findIndex((p) => p.id === id)}`;
        const item = t.page.locator(`[data-testid=question-item][data-question-id="${q}"]`);
        await item.getByTestId('question-pin').click();
        await eventually(async () => assert.equal(await t.id('question-now').getAttribute('data-question-id'), q));
        await assertHeld(t, `question ${id} pinned`, { wait: 0 });
      }
      await t.page.locator('[data-testid=question-item][data-state=open]').first().getByTestId('question-upvote').click();
      await t.id('question-input').fill(payload('svg-onload').text);
      await t.id('question-send').click();
      await assertHeld(t, 'questions, hovered, pinned and asked');

      // Polls: drafts, the open poll (voted in), the closed ones with results and voters.
      await showTab(t, 'polls', 'polls-panel');
      await eventually(async () => assert.equal(await t.id('poll-draft-text').count(), Math.ceil(N / 4)));
      await assertHeld(t, 'poll drafts');
      assert.deepEqual(await contents(t.id('poll-draft-text')), hostileDrafts().map((d) => d.question));
      await waitVisible(t.id('poll-open'));
      assert.equal(await t.id('poll-question').first().evaluate((el) => el.textContent), hostilePolls().at(-1).question);
      await t.page.locator('[data-testid=poll-closed] .poll-voters summary').evaluateAll((els) => els.forEach((el) => el.click()));
      await assertHeld(t, 'polls');
      await touch(t, t.id('poll-option'), { count: 10 });
      await t.id('poll-option').first().click();
      await t.id('poll-vote').click();
      await eventually(async () => assert.equal(await t.id('poll-open').getAttribute('data-votes'), '7'));
      await touch(t, t.id('poll-closed'), { count: N });
      await assertHeld(t, 'polls, voted');

      // Shared files: the list, a picture's preview, an upload of a hostile name.
      await showTab(t, 'materials', 'materials-panel');
      await eventually(async () => assert.equal(await t.id('material-item').count(), N));
      await assertHeld(t, 'files');
      assert.deepEqual((await contents(t.id('material-name'))).sort(), [...TEXTS].sort());
      await touch(t, t.id('material-item'), { count: N });
      const picture = t.page.locator('[data-testid=material-item]', { has: t.page.locator('[data-testid=material-type]', { hasText: /PNG/i }) });
      await picture.first().getByTestId('material-preview').click();
      await waitVisible(t.id('material-preview-img'));
      await assertHeld(t, 'a picture previewed');
      await assertHeld(t, 'files, hovered');
      // Uploads of files named with payloads, held under way.
      await t.page.evaluate(() => {
        window.__fake.materials.hold = true;
      });
      for (let i = 0; i < UPLOADS.length; i++) {
        await t.id('materials-share').click();
        await eventually(async () => assert.equal(await t.id('upload-item').count(), i + 1));
      }
      await assertHeld(t, 'uploads');
      assert.deepEqual((await contents(t.id('upload-name'))).sort(), UPLOADS.map((id) => payload(id).text).sort());

      // The whiteboard: every payload as text on the page, and every name in who may draw.
      await t.id('board-open').click();
      await waitVisible(t.id('board-canvas'));
      await eventually(async () => assert.equal(await t.id('board-stage').getAttribute('data-board-loaded'), 'true'));
      await assertHeld(t, 'whiteboard');
      await t.id('board-access').click();
      await t.id('board-access-chosen').check();
      await eventually(async () => assert.equal(await t.page.locator('[data-testid^=board-drawer-h-]').count(), N - PRESENTERS.length));
      await assertHeld(t, "whiteboard's who may draw");
      await t.id('board-access').click();
      await t.id('board-canvas').hover();
      await t.id('board-close').click();
      await assertHeld(t, 'whiteboard closed');
      await t.done();
    }));

    it('every room title in the header, names on tiles a few at a time, and being removed by one', hostileTest(async (opened) => {
      const t = opened(await openHostile(hostileConfig({ others: [], chat: chatPage(), questions: [], polls: [], materials: {}, hands: [] }), csp));
      await hostRoom(t, 'Hostile titles');
      const snapshot = await t.page.evaluate(() =>
        window.__TAURI_INTERNALS__.invoke('join_room', { invite: 'K7QX-29FD@192.168.1.20:7450' }),
      );
      for (const p of PAYLOADS) {
        await t.emit('room-event', { type: 'resynced', snapshot: { ...snapshot, title: p.text } });
        await eventually(async () => assert.equal(await t.id('room-title').evaluate((el) => el.textContent), p.text));
        await assertHeld(t, `title ${p.id}`, { wait: 0 });
      }

      // Tiles, eight at a time (a page of the gallery with ours), the large stage beside them too.
      const people = hostilePeople();
      for (let from = 0; from < N; from += 8) {
        const batch = people.slice(from, from + 8);
        for (const p of batch) await t.emit('room-event', { type: 'participantJoined', participant: p });
        await eventually(async () => assert.equal(await t.page.locator('[data-testid^=tile-h-]').count(), batch.length));
        await assertHeld(t, `tiles ${from}–${from + batch.length - 1}`, { wait: 0 });
        if (from === 0) {
          await t.id('board-open').click();
          await waitVisible(t.id('board-canvas'));
          await assertHeld(t, `tiles ${from}–${from + batch.length - 1} beside the whiteboard`, { wait: 0 });
          await t.id('board-close').click();
        }
        for (const p of batch) await t.emit('room-event', { type: 'participantLeft', identity: p.identity, reason: 'left' });
        await eventually(async () => assert.equal(await t.page.locator('[data-testid^=tile-h-]').count(), 0));
      }

      // Someone named with a payload shares their screen: it is shown large, named.
      for (const id of ['rtl-unterminated', 'long-a', 'newline-flood']) {
        const sharer = people[PAYLOADS.findIndex((p) => p.id === id)];
        await t.emit('room-event', { type: 'participantJoined', participant: { ...sharer, media: { ...sharer.media, screen: true } } });
        await waitVisible(t.id('screen-stage'));
        await assertHeld(t, `${id}'s screen`, { wait: 0 });
        await t.emit('room-event', { type: 'participantLeft', identity: sharer.identity, reason: 'left' });
        await waitGone(t.id('screen-stage'));
      }

      // Removed by a host named with a payload: the start screen says who did it.
      const host = people[PAYLOADS.findIndex((p) => p.id === 'long-a')];
      await t.emit('room-event', { type: 'participantJoined', participant: { ...host, host: true } });
      await t.emit('room-event', { type: 'kicked', by: host.identity, reason: payload('rtl-unterminated').text });
      await waitVisible(t.id('display-name'));
      await assertHeld(t, 'removed by a hostile host', { scrolls: true });
      await t.done();
    }));

    it('study groups: names, members and sessions on the start screen, the group page, the calendar and reminders', hostileTest(async (opened) => {
      const t = opened(await openHostile(hostileConfig({ groups: hostileGroups(), blocks: hostileBlocks() }), csp));
      // A card per group, each named with a payload; who is in the first one's room.
      await eventually(async () => assert.equal(await t.id('group-card').count(), N));
      await assertHeld(t, 'groups on the start screen', { scrolls: true });
      assert.deepEqual(await contents(t.id('group-card-name')), TEXTS);
      await touch(t, t.id('group-card'), { count: N });
      await assertHeld(t, 'groups on the start screen, hovered', { scrolls: true });

      // The first group: everyone, named with payloads.
      await t.id('group-card').first().click();
      await waitVisible(t.id('group-page'));
      await eventually(async () => assert.ok((await t.id('upcoming-session').count()) > 0));
      await assertHeld(t, 'group page', { scrolls: true });
      assert.equal(await t.id('group-name').evaluate((el) => el.textContent), TEXTS[0]);
      assert.deepEqual(
        (await contents(t.page.locator('[data-testid=member-row]:not([data-identity=me-1]) [data-testid=member-name]'))).sort(),
        [...TEXTS].sort(),
      );
      await touch(t, t.id('member-row'), { count: N + 1 });
      await touch(t, t.id('upcoming-session'), { count: 8 });
      await assertHeld(t, 'group page, hovered', { scrolls: true });
      // Removing someone named with a bidi payload: the dialog names them.
      await t.id(`remove-member-${who(BIDI[0])}`).click();
      await waitVisible(t.id('group-confirm'));
      await assertHeld(t, 'remove from group dialog', { scrolls: true });
      await t.id('confirm-cancel').click();
      await t.id('upcoming-session').first().click();
      await waitVisible(t.id('occurrence-dialog'));
      await assertHeld(t, 'occurrence dialog', { scrolls: true });
      await t.id('occurrence-close').click();

      // The calendar: the week (20 sessions a day side by side, the blocks), the month.
      await t.id('group-calendar').click();
      await waitVisible(t.id('calendar-week'));
      await eventually(async () => assert.ok((await t.id('calendar-entry').count()) >= 30));
      await assertHeld(t, 'calendar week', { scrolls: true });
      await touch(t, t.id('calendar-entry'), { count: 30 });
      await assertHeld(t, 'calendar week, hovered', { scrolls: true });
      await t.id('calendar-view-month').click();
      await waitVisible(t.id('calendar-month'));
      await eventually(async () => assert.ok((await t.id('calendar-entry').count()) > 0));
      await assertHeld(t, 'calendar month', { scrolls: true });
      await touch(t, t.id('calendar-entry'), { count: 20 });
      await t.id('schedule-session').click();
      await waitVisible(t.id('schedule-dialog'));
      await assertHeld(t, 'schedule dialog (every group named with a payload)', { scrolls: true });
      await t.id('schedule-cancel').click();

      // Reminders of sessions titled with payloads, of groups named with payloads.
      for (const i of BIDI.slice(0, 2).concat([0, PAYLOADS.findIndex((p) => p.id === 'long-a')])) {
        await t.page.evaluate(
          ([group, groupName, title]) =>
            window.__fake.groups.remind({ group, groupName, session: 's1', title, startMs: Date.now() + 240_000, minutes: 4, join: false }),
          [`g${i}`, TEXTS[i], text(i + 3)],
        );
      }
      await eventually(async () => assert.equal(await t.id('toast').count(), 4));
      await assertHeld(t, 'reminders', { scrolls: true });
      await t.done();
    }));

    it('room titles on the study page', hostileTest(async (opened) => {
      const t = opened(await openHostile(hostileConfig(), csp));
      await t.id('open-study').click();
      await waitVisible(t.id('study-rooms'));
      await assertHeld(t, 'study page', { scrolls: true });
      await touch(t, t.page.locator('[data-testid=study-rooms] tr'), { count: N });
      await assertHeld(t, 'study page, hovered', { scrolls: true });
      await t.done();
    }));
  });
}
