// Browser tests of the whiteboard: the built UI in Debian's Chromium, drawn on with real
// mouse input; the Tauri shell faked (fake-tauri.js keeps the board as the relay would:
// it orders the changes, sends them back as board_op, answers board_sync in parts, keeps
// each identity's undo history, and lets a test act as the other participants).
//
// Run: npm run test:browser (builds first); this file alone after a build:
// node --test browser-tests/board.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { env, eventually, hostRoom, open, startBrowser, stopBrowser, waitGone, waitVisible } from './harness.mjs';
import { startWebSocketServer, videoMessage } from './server.mjs';

before(startBrowser);
after(stopBrowser);

/** A page, in page units (protocol PAGE_WIDTH × PAGE_HEIGHT). */
const PAGE_W = 16_000;
const PAGE_H = 9_000;
const RED = '#dc2626';
const BLUE = '#1d4ed8';
const GREEN = '#16a34a';
const PURPLE = '#7c3aed';
const ORANGE = '#ea580c';
const YELLOW = '#ca8a04';
const INK = '#111827'; // the default pen colour
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A wavy path from `a` to `b` (fractions of the canvas), `n` + 1 points. */
function wave([x0, y0], [x1, y1], n = 24, amplitude = 0.06) {
  return Array.from({ length: n + 1 }, (_, i) => {
    const f = i / n;
    return [x0 + (x1 - x0) * f, y0 + (y1 - y0) * f + amplitude * Math.sin(f * Math.PI * 2)];
  });
}

/** Fractions of the page as page units. */
const toPage = (points) => points.map(([fx, fy]) => [fx * PAGE_W, fy * PAGE_H]);

/** Points every `step` page units along a polyline (for "painted all along it"). */
function along(path, step = 250) {
  if (path.length === 0) return [];
  const out = [path[0]];
  for (let i = 1; i < path.length; i++) {
    const [ax, ay] = path[i - 1];
    const [bx, by] = path[i];
    const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / step));
    for (let k = 1; k <= n; k++) out.push([ax + ((bx - ax) * k) / n, ay + ((by - ay) * k) / n]);
  }
  return out;
}

function distanceToPath([px, py], path) {
  if (path.length === 1) return Math.hypot(px - path[0][0], py - path[0][1]);
  let best = Infinity;
  for (let i = 1; i < path.length; i++) {
    const [ax, ay] = path[i - 1];
    const [bx, by] = path[i];
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
    best = Math.min(best, Math.hypot(px - (ax + t * dx), py - (ay + t * dy)));
  }
  return best;
}

/**
 * What a canvas covering a page shows in `color` (within `tolerance`, summed over the
 * channels; pixels less than half opaque skipped): how many such pixels, how many lie
 * within `near` page units of `path` and how many further than `far`, and how many of
 * `samples` have one within `near`. Also, when `box` ([x0, y0, x1, y1], page units) is
 * given, how many lie inside it; when `band` ({from, to, along: [t0, t1], off: [d0, d1]}) is
 * given, how many lie between t0 and t1 page units along the line from `from` towards
 * `to`, and d0 to d1 page units off it.
 */
function ink(canvas, { color, path = [], samples = along(path), near = 200, far = 450, box = null, band = null, tolerance = 90 }) {
  return canvas.evaluate(
    (el, o) => {
      const { width, height } = el;
      const { data } = el.getContext('2d').getImageData(0, 0, width, height);
      const want = [1, 3, 5].map((i) => parseInt(o.color.slice(i, i + 2), 16));
      const dist = (p, path) => {
        let best = Infinity;
        for (let i = 0; i < path.length; i++) {
          const [ax, ay] = path[Math.max(0, i - 1)];
          const [bx, by] = path[i];
          const dx = bx - ax;
          const dy = by - ay;
          const len2 = dx * dx + dy * dy;
          const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - ax) * dx + (p[1] - ay) * dy) / len2));
          best = Math.min(best, Math.hypot(p[0] - (ax + t * dx), p[1] - (ay + t * dy)));
        }
        return best;
      };
      const hit = o.samples.map(() => false);
      let total = 0;
      let nearCount = 0;
      let farCount = 0;
      let inBox = 0;
      let inBand = 0;
      const axis = o.band && Math.hypot(o.band.to[0] - o.band.from[0], o.band.to[1] - o.band.from[1]);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = (y * width + x) * 4;
          if (data[i + 3] < 128) continue;
          const off = Math.abs(data[i] - want[0]) + Math.abs(data[i + 1] - want[1]) + Math.abs(data[i + 2] - want[2]);
          if (off > o.tolerance) continue;
          total++;
          const p = [((x + 0.5) * o.W) / width, ((y + 0.5) * o.H) / height];
          if (o.path.length > 0) {
            const d = dist(p, o.path);
            if (d <= o.near) nearCount++;
            if (d > o.far) farCount++;
          }
          o.samples.forEach((s, k) => {
            if (!hit[k] && Math.hypot(p[0] - s[0], p[1] - s[1]) <= o.near) hit[k] = true;
          });
          if (o.box && p[0] >= o.box[0] && p[0] <= o.box[2] && p[1] >= o.box[1] && p[1] <= o.box[3]) inBox++;
          if (o.band) {
            const ux = (o.band.to[0] - o.band.from[0]) / axis;
            const uy = (o.band.to[1] - o.band.from[1]) / axis;
            const t = (p[0] - o.band.from[0]) * ux + (p[1] - o.band.from[1]) * uy;
            const d = Math.abs(-(p[0] - o.band.from[0]) * uy + (p[1] - o.band.from[1]) * ux);
            if (t >= o.band.along[0] && t <= o.band.along[1] && d >= o.band.off[0] && d <= o.band.off[1]) inBand++;
          }
        }
      }
      return { total, near: nearCount, far: farCount, hit: hit.filter(Boolean).length, samples: o.samples.length, inBox, inBand };
    },
    { color, path, samples, near, far, box, band, tolerance, W: PAGE_W, H: PAGE_H },
  );
}

/** Asserts `color` is painted all along `path` and nowhere far from it. */
async function assertPaintedAlong(canvas, color, path, extra = {}) {
  return eventually(async () => {
    const seen = await ink(canvas, { color, path, ...extra });
    assert.ok(seen.hit === seen.samples, `not painted all along the path: ${JSON.stringify(seen)}`);
    assert.equal(seen.far, 0, `painted far from the path: ${JSON.stringify(seen)}`);
    return seen;
  });
}

async function assertNoInk(canvas, color, extra = {}) {
  await eventually(async () => {
    const seen = await ink(canvas, { color, ...extra });
    assert.equal(seen.total, 0, `${color} still painted: ${JSON.stringify(seen)}`);
  });
}

/**
 * Drags the mouse over `canvas` through `points` (fractions of its box), pausing between
 * moves as a hand would (so live strokes go out); leaves the button down when `up` is
 * false. Returns the points in page units (the canvas covers exactly the page).
 */
async function drag(t, canvas, points, { up = true, pause = 12 } = {}) {
  const box = await canvas.boundingBox();
  const at = ([fx, fy]) => [box.x + fx * box.width, box.y + fy * box.height];
  await t.page.mouse.move(...at(points[0]));
  await t.page.mouse.down();
  for (const p of points.slice(1)) {
    await t.page.mouse.move(...at(p));
    await sleep(pause);
  }
  if (up) await t.page.mouse.up();
  return toPage(points);
}

/** One CSS pixel of the canvas, in page units. */
async function pixelUnits(canvas) {
  const box = await canvas.boundingBox();
  return PAGE_W / box.width;
}

/** The text of a test id now ('' when it is not there), without waiting for it. */
const textNow = (t, testId) => t.id(testId).innerText({ timeout: 200 }).catch(() => '');

/** Waits for a toast (of those shown) that matches `pattern`. */
const waitToast = (t, pattern) =>
  eventually(async () => {
    const shown = await t.id('toast').allInnerTexts();
    assert.ok(shown.some((text) => pattern.test(text)), `no toast ${pattern}: ${JSON.stringify(shown)}`);
  });

const stageAttr = (t, name) => t.id('board-stage').getAttribute(`data-board-${name}`);

/** The board requests the app sent, but for the syncs. */
async function boardRequests(t) {
  return (await t.calls('feature_request'))
    .map((c) => c.request)
    .filter((r) => r.type.startsWith('board_') && r.type !== 'board_sync');
}

/** Waits for the board's seq and the current page's object count. */
async function waitBoard(t, seq, objects) {
  await eventually(async () => {
    assert.equal(await stageAttr(t, 'seq'), String(seq));
    assert.equal(await stageAttr(t, 'objects'), String(objects));
  });
}

async function openBoard(t) {
  await t.id('board-open').click();
  await waitVisible(t.id('board-canvas'));
  await eventually(async () => assert.equal(await stageAttr(t, 'loaded'), 'true'));
}

async function hostBoard(config) {
  const t = await open(config);
  await hostRoom(t);
  await openBoard(t);
  return t;
}

async function joinAsGuest(t) {
  await eventually(async () => assert.equal(await t.id('invite-input').isEnabled(), true));
  await t.id('invite-input').fill('K7QX-29FD@192.168.1.20:7450');
  await t.id('join-submit').click();
  await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
  await t.id('setup-continue').click();
  await waitVisible(t.id('room'));
}

/** Acts as another participant (not checked against the board's access). */
const asOther = (t, by, request) => t.page.evaluate(([r, b]) => window.__fake.board.request(r, b), [request, by]);
const liveOf = (t, by, fields) => t.page.evaluate(([b, f]) => window.__fake.board.live(b, f), [by, fields]);

const stroke = (id, color, points, width = 120) => ({
  id,
  author: 'bob-2',
  shape: { kind: 'pen', points: points.map(([x, y]) => [Math.round(x), Math.round(y), 50]) },
  style: { color, width },
});

/** A board with two pages of things on it (and annotations between them), as a late joiner finds it. */
function storedBoard() {
  return {
    id: 'b-late-1',
    seq: 12,
    access: { everyone: false, drawers: [] },
    pages: [
      {
        id: 'page-1',
        objects: [
          { id: 'g:1', author: 'bob-2', shape: { kind: 'rect', from: [1000, 1000], to: [5000, 4000] }, style: { color: GREEN, width: 30, fill: true } },
          stroke('s:1', BLUE, toPage(wave([0.4, 0.6], [0.9, 0.6]))),
          stroke('s:2', BLUE, toPage(wave([0.4, 0.8], [0.9, 0.8]))),
          { id: 't:1', author: 'bob-2', shape: { kind: 'text', at: [9000, 1000], text: 'Eigenvalues', size: 520 }, style: { color: INK, width: 60 } },
        ],
      },
      // Drawn over Bob's screen (he shares no more): not one of the board's pages.
      { id: 'ann-bob', annotates: 'bob-2', objects: [stroke('a:1', ORANGE, toPage(wave([0.1, 0.5], [0.9, 0.5])))] },
      {
        id: 'page-2',
        objects: [
          { id: 'e:1', author: 'bob-2', shape: { kind: 'ellipse', from: [6000, 2000], to: [12000, 7000] }, style: { color: PURPLE, width: 60, fill: true } },
          stroke('s:3', RED, toPage(wave([0.1, 0.1], [0.3, 0.1]))),
        ],
      },
    ],
  };
}

describe('whiteboard drawing', () => {
  it('draws a pen stroke with the mouse: live strokes, then one board_add where it went, painted', async () => {
    const t = await hostBoard();
    await waitBoard(t, 0, 0);
    await t.id('board-color-dc2626').click();
    await t.id('board-width-3').click();
    const canvas = t.id('board-canvas');
    const box = await canvas.boundingBox();
    // The canvas covers exactly the 16:9 page.
    assert.ok(Math.abs(box.width / box.height - 16 / 9) < 0.01, `canvas is ${box.width}×${box.height}`);
    assert.equal((await ink(canvas, { color: RED })).total, 0);

    const path = await drag(t, canvas, wave([0.15, 0.3], [0.65, 0.55]), { up: false });
    // While the button is down: our stroke is painted already, and went out live.
    const mid = await ink(canvas, { color: RED, path, samples: along(path.slice(0, -3)) });
    assert.ok(mid.hit === mid.samples && mid.far === 0, `the stroke being drawn is not painted: ${JSON.stringify(mid)}`);
    const liveBefore = (await boardRequests(t)).filter((r) => r.type === 'board_live');
    assert.ok(liveBefore.length >= 3, `too few board_live while moving: ${liveBefore.length}`);
    assert.equal((await boardRequests(t)).filter((r) => r.type === 'board_add').length, 0);
    await t.page.mouse.up();

    await waitBoard(t, 1, 1);
    const requests = await boardRequests(t);
    const adds = requests.filter((r) => r.type === 'board_add');
    assert.equal(adds.length, 1);
    assert.equal(requests.at(-1).type, 'board_add');
    const { page, object } = adds[0];
    assert.equal(page, 'page-1');
    assert.equal(object.shape.kind, 'pen');
    // The heaviest width (in page units, whole).
    assert.deepEqual(Object.keys(object.style), ['color', 'width']);
    assert.equal(object.style.color, RED);
    assert.ok(Number.isInteger(object.style.width) && object.style.width >= 100, `width ${object.style.width}`);

    // The live strokes: the same object, each with the points since the one before.
    const lives = requests.filter((r) => r.type === 'board_live');
    const sent = [];
    for (const live of lives) {
      assert.equal(live.id, object.id);
      assert.equal(live.page, 'page-1');
      assert.equal(live.from, sent.length);
      assert.equal(live.shape.kind, 'pen');
      sent.push(...live.shape.points);
    }
    assert.ok(sent.length >= 10, `only ${sent.length} points went out live`);
    assert.deepEqual(object.shape.points.slice(0, sent.length), sent);

    // The points: where the mouse went, in page units (within two pixels), pressure 50.
    const points = object.shape.points;
    const tolerance = 2 * (await pixelUnits(canvas));
    assert.ok(points.length >= path.length - 2, `${points.length} points for ${path.length} mouse positions`);
    const near = (p, q) => Math.hypot(p[0] - q[0], p[1] - q[1]) <= tolerance;
    assert.ok(near(points[0], path[0]), `starts at ${points[0]}, not ${path[0]}`);
    assert.ok(near(points.at(-1), path.at(-1)), `ends at ${points.at(-1)}, not ${path.at(-1)}`);
    for (const p of points) {
      assert.ok(Number.isInteger(p[0]) && Number.isInteger(p[1]) && p[2] === 50, `bad point ${p}`);
      assert.ok(distanceToPath(p, path) <= tolerance, `point ${p} is off the mouse's path`);
    }

    // The relay has it, as ours; the canvas shows it, along the path and nowhere else.
    const held = await t.page.evaluate(() => window.__fake.state.board.pages[0].objects);
    assert.deepEqual(held, [{ ...object, author: 'me-1' }]);
    await assertPaintedAlong(canvas, RED, path);
    await t.done();
  });

  it('draws a rectangle and places typed text', async () => {
    const t = await hostBoard();
    const canvas = t.id('board-canvas');
    const tolerance = 2 * (await pixelUnits(canvas));

    await t.id('board-tool-rect').click();
    assert.equal(await t.id('board-tool-rect').getAttribute('aria-pressed'), 'true');
    const corners = await drag(t, canvas, wave([0.1, 0.15], [0.4, 0.55], 12, 0));
    await waitBoard(t, 1, 1);
    const rect = (await boardRequests(t)).filter((r) => r.type === 'board_add').at(-1).object;
    assert.equal(rect.shape.kind, 'rect');
    assert.equal(rect.style.color, INK);
    assert.equal(rect.style.fill, undefined);
    for (const [got, want] of [
      [rect.shape.from, corners[0]],
      [rect.shape.to, corners.at(-1)],
    ]) {
      assert.ok(Math.hypot(got[0] - want[0], got[1] - want[1]) <= tolerance, `corner ${got}, not ${want}`);
    }
    // A shape goes out live whole, each time from 0.
    const lives = (await boardRequests(t)).filter((r) => r.type === 'board_live');
    assert.ok(lives.length >= 1 && lives.every((l) => l.shape.kind === 'rect' && l.from === 0 && l.id === rect.id));
    // Its outline is painted, its inside is not.
    const [x0, y0] = rect.shape.from;
    const [x1, y1] = rect.shape.to;
    const outline = [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
      [x0, y0],
    ];
    await assertPaintedAlong(canvas, INK, outline, { near: 120, far: 150 });
    const inside = await ink(canvas, { color: INK, box: [x0 + 300, y0 + 300, x1 - 300, y1 - 300] });
    assert.equal(inside.inBox, 0);

    // A highlighter: four times as wide as the pen, see-through (blended with the paper).
    await t.id('board-tool-highlighter').click();
    await t.id('board-color-ca8a04').click();
    const marked = await drag(t, canvas, wave([0.55, 0.2], [0.9, 0.2], 12, 0));
    await waitBoard(t, 2, 2);
    const mark = (await boardRequests(t)).at(-1).object;
    assert.equal(mark.shape.kind, 'highlighter');
    assert.equal(mark.style.width, 4 * rect.style.width);
    const blend = `#${[0xca, 0x8a, 0x04].map((c) => Math.round(255 * 0.65 + c * 0.35).toString(16).padStart(2, '0')).join('')}`;
    await assertPaintedAlong(canvas, blend, marked, { tolerance: 30, near: 250 });
    assert.equal((await ink(canvas, { color: YELLOW, tolerance: 30 })).total, 0, 'the highlighter is not see-through');

    // An arrow: a line with its head at the end.
    await t.id('board-tool-arrow').click();
    await t.id('board-color-111827').click();
    const arrowPath = await drag(t, canvas, wave([0.55, 0.35], [0.85, 0.5], 10, 0));
    await waitBoard(t, 3, 3);
    const arrow = (await boardRequests(t)).at(-1).object;
    assert.equal(arrow.shape.kind, 'arrow');
    assert.ok(Math.hypot(arrow.shape.to[0] - arrowPath.at(-1)[0], arrow.shape.to[1] - arrowPath.at(-1)[1]) <= tolerance);
    // Ink well off the line's axis (past its half width) just behind the tip, none at the tail.
    const { from, to } = arrow.shape;
    const length = Math.hypot(to[0] - from[0], to[1] - from[1]);
    const off = [arrow.style.width / 2 + 2 * tolerance / 2, 1000];
    const head = await ink(canvas, { color: INK, tolerance: 150, band: { from, to, along: [length - 250, length], off } });
    const tail = await ink(canvas, { color: INK, tolerance: 150, band: { from, to, along: [0, 250], off } });
    assert.ok(head.inBand >= 10 && tail.inBand === 0, `no arrow head: head ${head.inBand}, tail ${tail.inBand} pixels`);

    // Text: a click places the input, typing and Enter add it.
    await t.id('board-tool-text').click();
    const box = await canvas.boundingBox();
    await t.page.mouse.click(box.x + 0.55 * box.width, box.y + 0.7 * box.height);
    await waitVisible(t.id('board-text-input'));
    await eventually(async () =>
      assert.equal(await t.page.evaluate(() => document.activeElement?.dataset.testid), 'board-text-input'),
    );
    await t.page.keyboard.type('Hello board');
    const textArea = [0.55 * PAGE_W, 0.7 * PAGE_H, 0.55 * PAGE_W + 11 * 1000 * 0.6, 0.7 * PAGE_H + 1000];
    assert.equal((await ink(canvas, { color: INK, box: textArea })).inBox, 0, 'painted before Enter');
    await t.page.keyboard.press('Enter');
    await waitGone(t.id('board-text-input'));
    await waitBoard(t, 4, 4);
    const text = (await boardRequests(t)).at(-1);
    assert.equal(text.type, 'board_add');
    assert.equal(text.object.shape.kind, 'text');
    assert.equal(text.object.shape.text, 'Hello board');
    // The text size that goes with the width chosen (Medium, the default).
    assert.ok(text.object.shape.size >= 100 && text.object.shape.size <= 3000);
    const [ax, ay] = text.object.shape.at;
    assert.ok(Math.hypot(ax - 0.55 * PAGE_W, ay - 0.7 * PAGE_H) <= tolerance, `text at ${text.object.shape.at}`);
    // New ink where the text is, and the rectangle still there.
    await eventually(async () => {
      const seen = await ink(canvas, { color: INK, box: textArea, tolerance: 150 });
      assert.ok(seen.inBox > 40, `the text is not painted: ${JSON.stringify(seen)}`);
    });
    await assertPaintedAlong(canvas, INK, outline, { near: 120, far: Infinity });

    // Escape drops a text being typed.
    await t.page.mouse.click(box.x + 0.2 * box.width, box.y + 0.8 * box.height);
    await waitVisible(t.id('board-text-input'));
    await eventually(async () =>
      assert.equal(await t.page.evaluate(() => document.activeElement?.dataset.testid), 'board-text-input'),
    );
    await t.page.keyboard.type('dropped');
    await t.page.keyboard.press('Escape');
    await waitGone(t.id('board-text-input'));
    await sleep(100);
    assert.equal((await boardRequests(t)).filter((r) => r.type === 'board_add').length, 4);
    await t.done();
  });

  // The relay's answer to a request may come before or after our own copy of its op.
  for (const ackFirst of [false, true]) {
    it(`erases the stroke the eraser is dragged over, and only that one; undo brings it back (${ackFirst ? 'answer, then op' : 'op, then answer'})`, async () => {
      const t = await hostBoard({ boardAckFirst: ackFirst });
      const canvas = t.id('board-canvas');
      await t.id('board-width-3').click();
      await t.id('board-color-dc2626').click();
      const red = await drag(t, canvas, wave([0.2, 0.4], [0.6, 0.4], 16, 0.02));
      await waitBoard(t, 1, 1);
      await t.id('board-color-1d4ed8').click();
      const blue = await drag(t, canvas, wave([0.2, 0.8], [0.6, 0.8], 16, 0.02));
      await waitBoard(t, 2, 2);
      const [redId, blueId] = (await boardRequests(t)).filter((r) => r.type === 'board_add').map((r) => r.object.id);
      await assertPaintedAlong(canvas, RED, red);
      await assertPaintedAlong(canvas, BLUE, blue);

      // Across the red stroke, above the blue one.
      await t.id('board-tool-eraser').click();
      await drag(t, canvas, wave([0.4, 0.2], [0.42, 0.6], 8, 0));
      await waitBoard(t, 3, 1);
      const erase = (await boardRequests(t)).at(-1);
      assert.deepEqual(erase, { type: 'board_erase', page: 'page-1', ids: [redId] });
      assert.deepEqual(
        await t.page.evaluate(() => window.__fake.state.board.pages[0].objects.map((o) => o.id)),
        [blueId],
      );
      await assertNoInk(canvas, RED);
      await assertPaintedAlong(canvas, BLUE, blue);

      // A drag over nothing erases nothing.
      const count = (await boardRequests(t)).length;
      await drag(t, canvas, wave([0.8, 0.1], [0.9, 0.3], 6, 0));
      await sleep(100);
      assert.equal((await boardRequests(t)).length, count);

      // Undo puts the red stroke back (a `restore`), painted; redo erases it again.
      await t.page.keyboard.press('Control+z');
      await waitBoard(t, 4, 2);
      assert.equal((await t.page.evaluate(() => window.__fake.state.boardOps.at(-1).change.op)), 'restore');
      await assertPaintedAlong(canvas, RED, red);
      await t.page.keyboard.press('Control+Shift+z');
      await waitBoard(t, 5, 1);
      await assertNoInk(canvas, RED);
      await assertPaintedAlong(canvas, BLUE, blue);

      // The blue one erased too: nothing of it comes back.
      await drag(t, canvas, wave([0.3, 0.7], [0.32, 0.9], 6, 0));
      await waitBoard(t, 6, 0);
      assert.deepEqual((await boardRequests(t)).at(-1), { type: 'board_erase', page: 'page-1', ids: [blueId] });
      await assertNoInk(canvas, BLUE);
      await assertNoInk(canvas, RED);
      await t.done();
    });
  }

  it('undoes and redoes with the buttons and Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y, only our own changes', async () => {
    const t = await hostBoard();
    const canvas = t.id('board-canvas');
    await t.id('board-width-3').click();
    await t.id('board-color-dc2626').click();
    const red = await drag(t, canvas, wave([0.2, 0.3], [0.7, 0.3]));
    await waitBoard(t, 1, 1);
    // Bob draws too: our undo must leave his stroke alone.
    const bobPath = toPage(wave([0.2, 0.75], [0.7, 0.75]));
    await asOther(t, 'bob-2', { type: 'board_add', page: 'page-1', object: stroke('bob:1', BLUE, bobPath) });
    await waitBoard(t, 2, 2);
    await assertPaintedAlong(canvas, RED, red);
    await assertPaintedAlong(canvas, BLUE, bobPath);

    const lastRequest = async () => (await boardRequests(t)).at(-1);
    await t.id('board-undo').click();
    await waitBoard(t, 3, 1);
    assert.deepEqual(await lastRequest(), { type: 'board_undo' });
    await assertNoInk(canvas, RED);
    await assertPaintedAlong(canvas, BLUE, bobPath);

    await t.id('board-redo').click();
    await waitBoard(t, 4, 2);
    assert.deepEqual(await lastRequest(), { type: 'board_redo' });
    await assertPaintedAlong(canvas, RED, red);

    // The keys (the focus is on the redo button, not in a text field).
    await t.page.keyboard.press('Control+z');
    await waitBoard(t, 5, 1);
    await assertNoInk(canvas, RED);
    await t.page.keyboard.press('Control+Shift+z');
    await waitBoard(t, 6, 2);
    await assertPaintedAlong(canvas, RED, red);
    await t.page.keyboard.press('Control+z');
    await waitBoard(t, 7, 1);
    await t.page.keyboard.press('Control+y');
    await waitBoard(t, 8, 2);
    await assertPaintedAlong(canvas, RED, red);
    await assertPaintedAlong(canvas, BLUE, bobPath);

    // Nothing more of ours to undo after one undo: the relay's reason is told.
    await t.id('board-undo').click();
    await waitBoard(t, 9, 1);
    await t.id('board-undo').click();
    await waitToast(t, /Couldn't undo: nothing of yours to undo/);
    await waitBoard(t, 9, 1);
    await assertPaintedAlong(canvas, BLUE, bobPath);
    await t.done();
  });
});

describe('whiteboard with others', () => {
  it("paints another person's live stroke as it grows, and keeps it when their op comes", async () => {
    const t = await hostBoard();
    const canvas = t.id('board-canvas');
    const path = toPage(wave([0.1, 0.5], [0.9, 0.4], 30));
    const all = stroke('bob:7', BLUE, path).shape.points;
    const style = { color: BLUE, width: 120 };
    const first = all.slice(0, 14);

    await liveOf(t, 'bob-2', { page: 'page-1', id: 'bob:7', shape: { kind: 'pen', points: first }, style, from: 0 });
    await eventually(async () => assert.equal(await stageAttr(t, 'live'), '1'));
    const firstPath = path.slice(0, 14);
    await assertPaintedAlong(canvas, BLUE, firstPath);
    // Not yet where the rest goes.
    const rest = await ink(canvas, { color: BLUE, path: path.slice(20) , near: 150 });
    assert.equal(rest.near, 0, `the rest is painted already: ${JSON.stringify(rest)}`);

    await liveOf(t, 'bob-2', { page: 'page-1', id: 'bob:7', shape: { kind: 'pen', points: all.slice(14) }, style, from: 14 });
    await assertPaintedAlong(canvas, BLUE, path);
    assert.equal(await stageAttr(t, 'seq'), '0');
    assert.equal(await stageAttr(t, 'objects'), '0');

    // Someone not in the room: not shown.
    await liveOf(t, 'zed-9', { page: 'page-1', id: 'z:1', shape: { kind: 'rect', from: [1000, 7000], to: [3000, 8500] }, style: { color: GREEN, width: 120, fill: true } });
    await sleep(150);
    assert.equal((await ink(canvas, { color: GREEN })).total, 0);
    assert.equal(await stageAttr(t, 'live'), '1');

    // The finished stroke: on the board, the preview gone, still painted.
    await asOther(t, 'bob-2', { type: 'board_add', page: 'page-1', object: stroke('bob:7', BLUE, path) });
    await waitBoard(t, 1, 1);
    await eventually(async () => assert.equal(await stageAttr(t, 'live'), '0'));
    await assertPaintedAlong(canvas, BLUE, path);

    // With the board closed, a change shows as a dot on its button, gone once looked at.
    await t.id('board-close').click();
    await waitGone(t.id('board-stage'));
    assert.equal(await t.id('board-open').getAttribute('data-changed'), 'false');
    const more = toPage(wave([0.1, 0.2], [0.5, 0.2]));
    await asOther(t, 'bob-2', { type: 'board_add', page: 'page-1', object: stroke('bob:8', GREEN, more) });
    await waitVisible(t.id('board-changed'));
    await openBoard(t);
    await waitGone(t.id('board-changed'));
    await waitBoard(t, 2, 2);
    await assertPaintedAlong(t.id('board-canvas'), GREEN, more);
    await assertPaintedAlong(t.id('board-canvas'), BLUE, path);
    await t.done();
  });

  it('a late joiner gets the board in parts, sees it painted, and switches pages', async () => {
    const t = await open({ board: storedBoard(), boardPartObjects: 2, boardPartDelayMs: 300 });
    await hostRoom(t);
    await t.id('board-open').click();
    await waitVisible(t.id('board-canvas'));
    // The pages are known from the join, their objects come with the sync.
    await waitVisible(t.id('board-page-2'));
    await eventually(async () => assert.match(await textNow(t, 'board-loading'), /Loading the whiteboard…\s*\(part [23]\)/), 2000);
    await eventually(async () => assert.equal(await stageAttr(t, 'loaded'), 'true'));
    await waitGone(t.id('board-loading'));
    assert.deepEqual((await t.calls('feature_request')).filter((c) => c.request.type === 'board_sync'), [
      { request: { type: 'board_sync', board: null, since: null } },
    ]);
    // Pages go on from one part to the next.
    const parts = await t.page.evaluate(() => window.__fake.state.boardParts);
    assert.deepEqual(
      parts.map((p) => [p.part, p.last, p.pages.map((page) => `${page.id}:${page.objects.length}`)]),
      [
        [0, false, ['page-1:2']],
        [1, false, ['page-1:2']],
        [2, false, ['ann-bob:1', 'page-2:1']],
        [3, true, ['page-2:1']],
      ],
    );
    await waitBoard(t, 12, 4);
    assert.equal(await stageAttr(t, 'page'), 'page-1');
    // The annotation page is not among the board's pages (the host is asked about it).
    assert.equal(await t.text('board-page-label'), 'Page 1 of 2');
    assert.equal(await t.id('board-page-3').count(), 0);
    assert.match(await t.text('board-keep-prompt'), /over Bob's screen \(1 mark\)/);

    const canvas = t.id('board-canvas');
    const board = storedBoard();
    const blue = board.pages[0].objects.filter((o) => o.shape.kind === 'pen').map((o) => o.shape.points);
    await eventually(async () => {
      // Filled, and only within its corners.
      const green = await ink(canvas, { color: GREEN, box: [950, 950, 5050, 4050] });
      const inside = await ink(canvas, { color: GREEN, box: [1100, 1100, 4900, 3900] });
      assert.ok(green.total === green.inBox, `the rectangle spills over: ${JSON.stringify(green)}`);
      const area = (await canvas.evaluate((el) => el.width * el.height)) * (3800 * 2800) / (PAGE_W * PAGE_H);
      assert.ok(inside.inBox > 0.95 * area, `the rectangle is not filled: ${JSON.stringify(inside)} of ${area}`);
    });
    for (const points of blue) await assertPaintedAlong(canvas, BLUE, points, { far: Infinity });
    const text = await ink(canvas, { color: INK, box: [9000, 1000, 9000 + 11 * 520 * 0.6, 1520], tolerance: 150 });
    assert.ok(text.inBox > 40, `the text: ${JSON.stringify(text)}`);
    assert.equal((await ink(canvas, { color: PURPLE })).total, 0);
    assert.equal((await ink(canvas, { color: ORANGE, tolerance: 40 })).total, 0);

    await t.id('board-page-2').click();
    await eventually(async () => assert.equal(await stageAttr(t, 'page'), 'page-2'));
    assert.equal(await stageAttr(t, 'objects'), '2');
    assert.equal(await t.text('board-page-label'), 'Page 2 of 2');
    assert.equal(await t.id('board-page-2').getAttribute('aria-current'), 'page');
    await eventually(async () => {
      const purple = await ink(canvas, { color: PURPLE, box: [8000, 3500, 10000, 5500] });
      assert.ok(purple.inBox > 500, `the filled ellipse: ${JSON.stringify(purple)}`);
      // Not in the ellipse's bounding box's corner.
      assert.equal((await ink(canvas, { color: PURPLE, box: [6000, 2000, 6600, 2600] })).inBox, 0);
    });
    await assertPaintedAlong(canvas, RED, board.pages[2].objects[1].shape.points);
    assert.equal((await ink(canvas, { color: GREEN })).total, 0);
    assert.equal((await ink(canvas, { color: BLUE })).total, 0);
    assert.equal((await ink(canvas, { color: ORANGE, tolerance: 40 })).total, 0);

    await t.id('board-page-prev').click();
    await eventually(async () => assert.equal(await stageAttr(t, 'page'), 'page-1'));
    await eventually(async () => assert.equal((await ink(canvas, { color: PURPLE })).total, 0));
    assert.ok((await ink(canvas, { color: GREEN })).total > 1000);
    await t.done();
  });

  it('is read-only for a guest until the host lets them draw', async () => {
    const t = await open();
    await joinAsGuest(t);
    await openBoard(t);
    assert.equal(await t.text('board-readonly'), 'Only hosts and presenters draw here.');
    for (const id of ['board-tool-pen', 'board-tool-eraser', 'board-undo', 'board-redo', 'board-clear', 'board-page-add', 'board-access']) {
      assert.equal(await t.id(id).count(), 0, `${id} is there`);
    }
    const canvas = t.id('board-canvas');
    await drag(t, canvas, wave([0.2, 0.3], [0.7, 0.5]));
    await t.page.keyboard.press('Control+z');
    await sleep(200);
    assert.deepEqual(await boardRequests(t), []);
    assert.equal((await ink(canvas, { color: INK })).total, 0);
    await waitBoard(t, 0, 0);

    // A host names us (as the relay tells of it).
    await asOther(t, 'bob-2', { type: 'board_set_access', access: { everyone: false, drawers: ['me-1'] } });
    await waitVisible(t.id('board-tool-pen'));
    await waitGone(t.id('board-readonly'));
    assert.equal(await t.id('board-access').count(), 0);
    const path = await drag(t, canvas, wave([0.2, 0.3], [0.7, 0.5]));
    await waitBoard(t, 2, 1);
    const add = (await boardRequests(t)).find((r) => r.type === 'board_add');
    assert.equal(add.page, 'page-1');
    assert.ok((await boardRequests(t)).some((r) => r.type === 'board_live'));
    await assertPaintedAlong(canvas, INK, path, { near: 150 });

    // Taken off the list again: read-only, what was drawn stays.
    await asOther(t, 'bob-2', { type: 'board_set_access', access: { everyone: false, drawers: [] } });
    await waitVisible(t.id('board-readonly'));
    await waitGone(t.id('board-tool-pen'));
    const count = (await boardRequests(t)).length;
    await drag(t, canvas, wave([0.1, 0.8], [0.5, 0.8]));
    await sleep(150);
    assert.equal((await boardRequests(t)).length, count);
    await assertPaintedAlong(canvas, INK, path, { near: 150 });
    await t.done();
  });

  it('lets a host choose who draws', async () => {
    const t = await hostBoard();
    const access = () => t.page.evaluate(() => window.__fake.state.board.access);
    await t.id('board-access').click();
    await waitVisible(t.id('board-access-panel'));
    assert.equal(await t.id('board-access-hosts').isChecked(), true);
    await t.id('board-access-chosen').check();
    await t.id('board-drawer-bob-2').check();
    await eventually(async () => assert.deepEqual(await access(), { everyone: false, drawers: ['bob-2'] }));
    await waitBoard(t, 1, 0);
    assert.equal(await t.id('board-drawer-bob-2').isChecked(), true);
    await t.id('board-access-everyone').check();
    await eventually(async () => assert.deepEqual(await access(), { everyone: true, drawers: ['bob-2'] }));
    await t.id('board-access-hosts').check();
    await eventually(async () => assert.deepEqual(await access(), { everyone: false, drawers: [] }));
    assert.deepEqual(
      (await boardRequests(t)).map((r) => r.type),
      ['board_set_access', 'board_set_access', 'board_set_access'],
    );
    // Not undone by undo: there is nothing of ours to undo.
    await t.page.keyboard.press('Escape');
    await waitGone(t.id('board-access-panel'));
    await t.id('board-undo').click();
    await waitToast(t, /nothing of yours to undo/);
    assert.deepEqual(await access(), { everyone: false, drawers: [] });
    await t.done();
  });

  it('after a reconnect asks only for the changes it missed, and for the whole board when it is a new one', async () => {
    const t = await hostBoard();
    const canvas = t.id('board-canvas');
    await t.id('board-width-3').click();
    await t.id('board-color-dc2626').click();
    const red = await drag(t, canvas, wave([0.2, 0.3], [0.7, 0.3]));
    await waitBoard(t, 1, 1);
    const redId = (await boardRequests(t)).find((r) => r.type === 'board_add').object.id;

    // The connection drops; meanwhile Bob draws and erases our stroke.
    await t.page.evaluate(() => (window.__fake.board.offline = true));
    await t.emit('room-event', { type: 'connection', state: 'lost', message: 'The host stopped answering.' });
    await waitVisible(t.id('banner-lost'));
    const blue = toPage(wave([0.2, 0.7], [0.7, 0.7]));
    await asOther(t, 'bob-2', { type: 'board_add', page: 'page-1', object: stroke('bob:1', BLUE, blue) });
    await asOther(t, 'bob-2', { type: 'board_erase', page: 'page-1', ids: [redId] });
    await sleep(100);
    assert.equal(await stageAttr(t, 'seq'), '1');
    await t.page.evaluate(() => (window.__fake.board.offline = false));
    await t.id('rejoin').click();
    await waitGone(t.id('banner-lost'));
    if ((await t.id('board-stage').count()) === 0) await openBoard(t);
    await waitBoard(t, 3, 1);
    const syncs = (await t.calls('feature_request')).filter((c) => c.request.type === 'board_sync').map((c) => c.request);
    assert.deepEqual(syncs, [
      { type: 'board_sync', board: null, since: null },
      { type: 'board_sync', board: 'b0a4d1c9e2f37658', since: 1 },
    ]);
    assert.equal(await t.page.evaluate(() => window.__fake.state.boardParts.length), 1, 'only the first sync took the whole board');
    await assertPaintedAlong(t.id('board-canvas'), BLUE, blue);
    await assertNoInk(t.id('board-canvas'), RED);

    // Again, and the board was made afresh meanwhile (a new id): the whole board comes.
    await t.page.evaluate(() => (window.__fake.board.offline = true));
    await t.emit('room-event', { type: 'connection', state: 'lost', message: null });
    await waitVisible(t.id('banner-lost'));
    await t.page.evaluate((object) => {
      const state = window.__fake.state;
      state.board = { id: 'b-fresh-2', seq: 1, access: { everyone: false, drawers: [] }, pages: [{ id: 'page-1', objects: [object] }] };
      state.boardOps = [];
      window.__fake.board.offline = false;
    }, stroke('g:1', GREEN, red));
    await t.id('rejoin').click();
    await waitGone(t.id('banner-lost'));
    if ((await t.id('board-stage').count()) === 0) await openBoard(t);
    await waitBoard(t, 1, 1);
    const last = (await t.calls('feature_request')).filter((c) => c.request.type === 'board_sync').at(-1).request;
    assert.deepEqual(last, { type: 'board_sync', board: 'b0a4d1c9e2f37658', since: 3 });
    await assertPaintedAlong(t.id('board-canvas'), GREEN, red);
    await assertNoInk(t.id('board-canvas'), BLUE);
    await t.done();
  });
});

/** What a base64 PNG holds: its size (from IHDR) and, decoded by the browser, the colours at page points. */
async function readPng(t, base64, points) {
  const bytes = Buffer.from(base64, 'base64');
  const signature = [...bytes.subarray(0, 8)];
  const ihdr = bytes.subarray(12, 16).toString('latin1');
  const size = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  const colours = await t.page.evaluate(
    async ([data, at, W, H]) => {
      const raw = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([raw], { type: 'image/png' }));
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d');
      ctx.drawImage(bitmap, 0, 0);
      return at.map(([x, y]) => {
        const [r, g, b] = ctx.getImageData(Math.round((x / W) * bitmap.width), Math.round((y / H) * bitmap.height), 1, 1).data;
        return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
      });
    },
    [base64, points, PAGE_W, PAGE_H],
  );
  return { signature, ihdr, size, colours };
}

describe('whiteboard export', () => {
  it('saves the page as a 1920×1080 PNG and the board as a PDF', async () => {
    const t = await hostBoard({ board: storedBoard() });
    await waitBoard(t, 12, 4);
    await t.id('board-save').click();
    await t.id('board-save-png').click();
    await waitToast(t, /^Saved to \/home\/ada\/Downloads\/Finals week board page 1\.png/);
    const [png] = await t.calls('save_export');
    assert.equal(png.name, 'Finals week board page 1.png');
    assert.match(png.name, /\.png$/);
    // Inside the green rectangle, on the blue stroke's start, and on the white paper.
    const blueStart = storedBoard().pages[0].objects[1].shape.points[0];
    const one = await readPng(t, png.dataBase64, [[3000, 2500], blueStart, [15000, 8800]]);
    assert.deepEqual(one.signature, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(one.ihdr, 'IHDR');
    assert.deepEqual(one.size, [1920, 1080]);
    assert.deepEqual(one.colours, [GREEN, BLUE, '#ffffff']);

    // Page 2's PNG is page 2.
    await t.id('board-page-2').click();
    await eventually(async () => assert.equal(await stageAttr(t, 'page'), 'page-2'));
    await t.id('board-save').click();
    await t.id('board-save-png').click();
    await eventually(async () => assert.equal((await t.calls('save_export')).length, 2));
    const two = (await t.calls('save_export'))[1];
    assert.equal(two.name, 'Finals week board page 2.png');
    assert.deepEqual((await readPng(t, two.dataBase64, [[9000, 4500], [3000, 2500]])).colours, [PURPLE, '#ffffff']);

    await t.id('board-save').click();
    await t.id('board-save-pdf').click();
    await waitToast(t, /^Saved to \/home\/ada\/Downloads\/Finals week board\.pdf/);
    const pdf = (await t.calls('save_export'))[2];
    assert.equal(pdf.name, 'Finals week board.pdf');
    const bytes = Buffer.from(pdf.dataBase64, 'base64');
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.match(bytes.subarray(-8).toString('latin1'), /%%EOF\s*$/);
    // One PDF page a board page (not the annotation page), each with a picture.
    const text = bytes.toString('latin1');
    assert.equal(text.match(/\/Type \/Page\b(?!s)/g)?.length, 2);
    assert.equal(text.match(/\/Subtype \/Image/g)?.length, 2);
    await t.done();
  });
});

/** A grey 4:3 picture as VP8 frames (160 × 120, a keyframe first), made by Chromium's VideoEncoder. */
async function greyFrames(count = 15) {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${env.site.url}/blank`);
  const frames = await page.evaluate(async (n) => {
    const out = [];
    const encoder = new VideoEncoder({
      output: (chunk) => {
        const data = new Uint8Array(chunk.byteLength);
        chunk.copyTo(data);
        out.push({ key: chunk.type === 'key', data: Array.from(data) });
      },
      error: (e) => {
        throw e;
      },
    });
    encoder.configure({ codec: 'vp8', width: 160, height: 120, bitrate: 200_000, framerate: 30 });
    const canvas = new OffscreenCanvas(160, 120);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#808080';
    ctx.fillRect(0, 0, 160, 120);
    for (let i = 0; i < n; i++) {
      const frame = new VideoFrame(canvas, { timestamp: i * 33_333 });
      encoder.encode(frame, { keyFrame: i === 0 });
      frame.close();
    }
    await encoder.flush();
    return out;
  }, count);
  await context.close();
  return frames.map((f) => ({ key: f.key, data: Uint8Array.from(f.data) }));
}

describe('annotations', () => {
  it("draws over a participant's 4:3 shared screen on an annotation page, kept as a board page when the share ends", async () => {
    const frames = await greyFrames();
    // Bob's screen, 30 frames a second (a keyframe every 15).
    const ws = await startWebSocketServer((client) => {
      let i = 0;
      const timer = setInterval(() => {
        if (client.closed) return clearInterval(timer);
        const f = frames[i % frames.length];
        client.send(videoMessage('bob-2:screen', f.key, i * 33_333, f.data));
        i++;
      }, 33);
    });
    try {
      const t = await open({ mediaEndpoint: ws.url });
      await hostRoom(t);
      const bob = (screen) => ({
        identity: 'bob-2',
        name: 'Bob',
        host: false,
        presenter: false,
        you: false,
        media: { mic: true, camera: true, screen },
        presence: 'active',
        joinedAt: 2,
      });
      await t.emit('room-event', { type: 'participantUpdated', participant: bob(true) });
      await eventually(async () => assert.equal(await t.id('screen-stage').getAttribute('data-identity'), 'bob-2'));
      const video = t.id('screen-stage').locator('canvas.stage__video');
      await eventually(async () => assert.equal(await video.evaluate((v) => v.classList.contains('is-live')), true), 8000);
      const overlay = t.id('annotations-bob-2');
      await waitVisible(overlay);
      assert.equal(await t.id('annotation-canvas').count(), 0);
      assert.equal(await t.text('annotate-toggle'), 'Annotate');
      await t.id('annotate-toggle').click();
      await eventually(async () => assert.equal(await t.text('annotate-toggle'), 'Done'));
      const canvas = t.id('annotation-canvas');
      await waitVisible(canvas);
      await t.id('board-width-3').click();

      // The layer covers the picture as shown (4:3, letterboxed in the stage), exactly.
      await eventually(async () => {
        const picture = await video.evaluate((v) => {
          const r = v.getBoundingClientRect();
          const aspect = v.width / v.height;
          const width = Math.min(r.width, r.height * aspect);
          const height = width / aspect;
          return { x: r.x + (r.width - width) / 2, y: r.y + (r.height - height) / 2, width, height, aspect };
        });
        const layer = await canvas.boundingBox();
        assert.equal(picture.aspect, 4 / 3);
        for (const k of ['x', 'y', 'width', 'height']) {
          assert.ok(Math.abs(layer[k] - picture[k]) <= 1, `layer ${JSON.stringify(layer)}, picture ${JSON.stringify(picture)}`);
        }
      });

      // A point means the same place of the picture for everyone: fractions of it.
      const path = await drag(t, canvas, wave([0.2, 0.3], [0.8, 0.6]));
      await eventually(async () => assert.equal(await overlay.getAttribute('data-annotation-objects'), '1'));
      const requests = (await boardRequests(t)).filter((r) => r.type !== 'board_live');
      assert.equal(requests.length, 2);
      const [addPage, add] = requests;
      assert.deepEqual(addPage, { type: 'board_add_page', page: addPage.page, index: null, annotates: 'bob-2' });
      assert.equal(add.type, 'board_add');
      assert.equal(add.page, addPage.page);
      assert.equal(add.object.style.color, RED);
      assert.ok((await boardRequests(t)).some((r) => r.type === 'board_live' && r.page === addPage.page));
      const tolerance = 2 * (await pixelUnits(canvas));
      for (const p of add.object.shape.points) assert.ok(distanceToPath(p, path) <= tolerance, `point ${p} is off the path`);
      const pages = await t.page.evaluate(() =>
        window.__fake.state.board.pages.map((p) => ({ id: p.id, annotates: p.annotates, n: p.objects.length })),
      );
      assert.deepEqual(pages, [
        { id: 'page-1', annotates: undefined, n: 0 },
        { id: addPage.page, annotates: 'bob-2', n: 1 },
      ]);
      // Painted on the see-through layer, along the path only.
      await assertPaintedAlong(canvas, RED, path);
      const clear = await canvas.evaluate((el) => el.getContext('2d').getImageData(2, 2, 1, 1).data[3]);
      assert.equal(clear, 0, 'the layer is not see-through');

      // A second stroke goes on the same page.
      const second = await drag(t, canvas, wave([0.2, 0.8], [0.6, 0.8], 12, 0));
      await eventually(async () => assert.equal(await overlay.getAttribute('data-annotation-objects'), '2'));
      assert.equal((await boardRequests(t)).filter((r) => r.type === 'board_add_page').length, 1);
      await assertPaintedAlong(canvas, RED, second, { far: Infinity });

      // Done: the annotations stay shown; the layer takes no pointer.
      await t.id('annotate-toggle').click();
      await eventually(async () => assert.equal(await t.text('annotate-toggle'), 'Annotate'));
      assert.equal(await canvas.evaluate((el) => getComputedStyle(el).pointerEvents), 'none');
      await assertPaintedAlong(canvas, RED, path, { far: Infinity });

      // Bob stops sharing: the host is asked whether to keep them; kept, they are page 2.
      await t.emit('room-event', { type: 'participantUpdated', participant: bob(false) });
      await waitGone(t.id('screen-stage'));
      await waitVisible(t.id('board-keep-prompt'));
      assert.match(await t.text('board-keep-prompt'), /over Bob's screen \(2 marks\)/);
      await t.id('board-keep').click();
      await waitToast(t, /The annotations are page 2 of the whiteboard now/);
      assert.deepEqual((await boardRequests(t)).at(-1), { type: 'board_keep_page', page: addPage.page });
      await waitGone(t.id('board-keep-prompt'));
      await openBoard(t);
      await t.id('board-page-2').click();
      await eventually(async () => assert.equal(await stageAttr(t, 'page'), addPage.page));
      assert.equal(await stageAttr(t, 'objects'), '2');
      // On the 16:9 page now, at the same fractions of the page.
      await assertPaintedAlong(t.id('board-canvas'), RED, path, { far: Infinity });
      await assertPaintedAlong(t.id('board-canvas'), RED, second, { far: Infinity });
      await t.done();
    } finally {
      await ws.close();
    }
  });
});
