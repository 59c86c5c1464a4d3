// End-to-end tests of the whiteboard, written only from docs/protocol.md ("Whiteboard" and
// what it refers to: the grant table, `ack`, the errors, `joined.features.board`,
// BoardSummary, PageInfo, BoardAccess). Each client keeps its own copy of the board with
// board.mjs (the doc's "Changes" and "Keeping in step"); the tests check that those
// copies, the relay's snapshots and the relay's summaries all agree.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { summaryOf } from './board.mjs';
import {
  withCleanup,
  joinAs,
  mintToken,
  assertError,
  assertForbidden,
  settle,
  sleep,
} from './harness.mjs';

const TEST_TIMEOUT = 60_000;
const LONG_TEST_TIMEOUT = 180_000;

/** Page size in page units ("Every page is 16000 × 9000 page units"). */
const W = 16000;
const H = 9000;
/** The doc's exact `forbidden` message for someone who may not draw. */
const DRAW_FORBIDDEN = 'draw: only hosts and presenters draw on this whiteboard (a host can open it to everyone or to you)';

// ---------------------------------------------------------------- objects

const INK = { color: '#1d4ed8', width: 30 };

/** `n` stroke points `[x, y, pressure]`, all on the page; `wide` makes every number as long as it can be. */
function strokePoints(n, seed = 1, { wide = false } = {}) {
  const pts = [];
  for (let i = 0; i < n; i++) {
    if (wide) pts.push([10000 + ((seed * 131 + i * 7) % 6000), 1000 + ((seed * 17 + i * 3) % 8000), 10 + ((seed + i) % 91)]);
    else pts.push([(seed * 997 + i * 7) % (W + 1), (seed * 389 + i * 3) % (H + 1), 50]);
  }
  return pts;
}
const pen = (id, points, style = INK) => ({ id, shape: { kind: 'pen', points }, style });
const highlighter = (id, points) => ({ id, shape: { kind: 'highlighter', points }, style: { color: '#FACC15', width: 200 } });
const line = (id, from, to, kind = 'line') => ({ id, shape: { kind, from, to }, style: { color: '#111827', width: 20 } });
const rect = (id, from, to, fill) => ({ id, shape: { kind: 'rect', from, to }, style: fill === undefined ? { color: '#dc2626', width: 40 } : { color: '#dc2626', width: 40, fill } });
const ellipse = (id, from, to, fill) => ({ id, shape: { kind: 'ellipse', from, to }, style: { color: '#16a34a', width: 10, fill } });
const text = (id, at, body, size = 400) => ({ id, shape: { kind: 'text', at, text: body, size }, style: { color: '#111827', width: 1 } });

/** The object as the relay stores it: `author` set, `fill: false` left out. */
function stored(object, author) {
  const { author: _ignored, ...rest } = structuredClone(object);
  if (rest.style && rest.style.fill === false) delete rest.style.fill;
  return { ...rest, author };
}

/** Length of the compact JSON of a value, in UTF-8 bytes. */
const jsonBytes = (v) => Buffer.byteLength(JSON.stringify(v), 'utf8');

// ---------------------------------------------------------------- assertions

/** A `board_op` has every documented field with the right type, and no request_id. */
function assertBoardOp(op) {
  assert.equal(op.type, 'board_op');
  assert.ok(Number.isSafeInteger(op.seq) && op.seq >= 1, `seq: ${JSON.stringify(op)}`);
  assert.equal(typeof op.by, 'string', `by: ${JSON.stringify(op)}`);
  assert.ok(Number.isSafeInteger(op.at), `at: ${JSON.stringify(op)}`);
  assert.ok(Math.abs(op.at - Date.now()) < 60_000, `at is ms since the epoch: ${op.at}`);
  assert.equal(typeof op.change?.op, 'string', `change.op: ${JSON.stringify(op)}`);
  assert.ok(!('request_id' in op), `a board_op never carries request_id: ${JSON.stringify(op)}`);
}

/** A non-fatal `forbidden` for drawing: its message begins with `draw:`. */
function assertDrawForbidden(frame, request_id) {
  assertError(frame, 'forbidden', false, request_id);
  assert.ok(frame.message.startsWith('draw:'), `the message begins with \`draw:\`: ${JSON.stringify(frame.message)}`);
}

/** A non-fatal `limit_reached` whose message begins with the limit's name and a colon. */
function assertLimit(frame, limit, request_id) {
  assertError(frame, 'limit_reached', false, request_id);
  assert.ok(frame.message.startsWith(`${limit}:`), `the message begins with \`${limit}:\`: ${JSON.stringify(frame.message)}`);
}

/** Object ids are unique on the whole board, page ids among the pages; every object is whole. */
function assertWellFormed(board) {
  const pageIds = board.pages.map((p) => p.id);
  assert.equal(new Set(pageIds).size, pageIds.length, `page ids are unique: ${pageIds}`);
  const objectIds = board.pages.flatMap((p) => p.objects.map((o) => o.id));
  assert.equal(new Set(objectIds).size, objectIds.length, 'object ids are unique on the board');
  for (const p of board.pages) {
    for (const o of p.objects) {
      assert.equal(typeof o.author, 'string', `author: ${JSON.stringify(o).slice(0, 200)}`);
      assert.equal(typeof o.shape?.kind, 'string');
      assert.equal(typeof o.style?.color, 'string');
      assert.ok(o.style?.fill !== false, `fill: false is left out: ${JSON.stringify(o).slice(0, 200)}`);
    }
  }
  assert.ok(board.pages.some((p) => p.annotates === undefined), 'a board keeps at least one ordinary page');
}

/** Every client holds the same board as `reference` (a client), with nothing gone wrong. */
function assertSameBoards(reference, clients, why = '') {
  for (const c of [reference, ...clients]) {
    assert.deepEqual(c.board.problems, [], `no gaps or mismatches ${why}`);
    assert.equal(c.board.syncing, false, `in step, not syncing ${why}`);
    assert.ok(c.board.board, `holds a board ${why}`);
  }
  assertWellFormed(reference.board.board);
  for (const c of clients) assert.deepEqual(c.board.board, reference.board.board, `the same board ${why}`);
}

/** Wait until a client's board is at `seq` (and in step). */
function caughtUp(c, seq, timeoutMs = 5000) {
  return c.waitUntil(() => !c.board.syncing && c.board.board?.seq === seq, timeoutMs, `board at seq ${seq}`);
}

/** After a ping round trip on each client, none has an unread `board_op` (they are then marked read). */
async function expectNoBoardOp(clients, why) {
  await settle(...clients);
  for (const c of clients) {
    const late = c.pending('board_op');
    for (const op of late) c.waitFor((f) => f === op); // read them, so later checks start clean
    assert.deepEqual(late, [], why);
  }
}

/**
 * Keeps count of a board's sequence numbers for a set of clients: each `expectOp` waits
 * for the next `board_op` on every client, checks they all got the same one, that its
 * `seq` is the next one, and its `by` and `change`.
 */
class OpLog {
  constructor(clients, seq = 0) {
    this.clients = clients;
    this.seq = seq;
  }

  /** `change`: the expected change (deepEqual), or a function that checks it. */
  async expectOp(by, change) {
    const frames = [];
    for (const c of this.clients) frames.push(await c.waitForType('board_op'));
    for (const f of frames) {
      assertBoardOp(f);
      assert.deepEqual(f, frames[0], 'everyone gets the same board_op');
    }
    const op = frames[0];
    assert.equal(op.seq, this.seq + 1, `seq ${this.seq + 1} follows ${this.seq}, no gaps: ${JSON.stringify(op).slice(0, 300)}`);
    this.seq = op.seq;
    if (by !== undefined) assert.equal(op.by, by, `by: ${JSON.stringify(op).slice(0, 300)}`);
    if (typeof change === 'function') change(op.change);
    else if (change !== undefined) assert.deepEqual(op.change, change, `change of op ${op.seq}`);
    return op;
  }

  /** `c` sends `frame` and gets `ack`; everyone gets the op. Resolves with the op. */
  async step(c, by, frame, change) {
    const [ack, op] = await Promise.all([c.act(frame), this.expectOp(by, change)]);
    assert.equal(ack.type, 'ack');
    return op;
  }
}

/**
 * Ask for the whole board again on `witness` (`board_sync` without `since`) and check that
 * every client's copy, built from ops, is the board the relay sends.
 */
async function crossCheck(witness, clients, seq, why) {
  await witness.syncBoard({ type: 'board_sync' });
  for (const c of [witness, ...clients]) await caughtUp(c, seq);
  assertSameBoards(witness, clients, why);
}

/** Join, then `board_sync` without `since`, as a client with no copy does. */
async function joinAndSync(ctx, relay, room, token) {
  const [c, joined] = await joinAs(ctx, relay, room, token);
  await c.syncBoard();
  return [c, joined];
}

/** The BoardSummary a fresh board has. */
function assertFreshSummary(summary) {
  assert.equal(typeof summary?.id, 'string', `features.board: ${JSON.stringify(summary)}`);
  assert.ok(summary.id.length > 0, 'a board id');
  assert.equal(summary.seq, 0, 'a board with no change yet is at seq 0');
  assert.deepEqual(summary.access, { everyone: false, drawers: [] }, 'a new board lets only hosts draw');
  assert.deepEqual(summary.pages, [{ id: 'page-1', objects: 0 }], 'a new board has one empty page, "page-1"');
}

// ---------------------------------------------------------------- 1. drawing together

test('whiteboard: a member draws once a host allows it; every change reaches everyone, in seq order', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'drawing';
    const [ada, adaJoined] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    const [bob, bobJoined] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'bob', name: 'Bob' }));
    await ada.waitForType('participant_joined');

    // joined.features.board of a new board; the same board for both.
    assertFreshSummary(adaJoined.features.board);
    assertFreshSummary(bobJoined.features.board);
    assert.equal(bobJoined.features.board.id, adaJoined.features.board.id);

    // Both ask for the board (no copy: no `board`, no `since`): one part, the whole board.
    for (const c of [ada, bob]) {
      const ack = await c.syncBoard({ type: 'board_sync', request_id: `s-${c.joined.you.identity}` });
      assert.deepEqual(ack, { type: 'ack', request_id: `s-${c.joined.you.identity}` });
      assert.equal(c.board.answers.length, 1);
      const { kind, parts } = c.board.answers[0];
      assert.equal(kind, 'snapshot', 'no copy: the whole board comes');
      assert.equal(parts.length, 1, 'a small board is one part');
      assert.deepEqual(parts[0], {
        type: 'board_snapshot',
        board: adaJoined.features.board.id,
        seq: 0,
        access: { everyone: false, drawers: [] },
        part: 0,
        last: true,
        pages: [{ id: 'page-1', objects: [] }],
      });
      assert.deepEqual(summaryOf(c.board.board), c.joined.features.board, 'the snapshot is the board the summary describes');
    }

    // bob may not draw yet: every drawing request is forbidden, `draw:`, and changes nothing.
    const drawing = [
      { type: 'board_add', page: 'page-1', object: pen('b:0', strokePoints(3)) },
      { type: 'board_update', page: 'page-1', object: pen('b:0', strokePoints(3)) },
      { type: 'board_erase', page: 'page-1', ids: ['b:0'] },
      { type: 'board_clear', page: 'page-1' },
      { type: 'board_add_page', page: 'p-bob' },
      { type: 'board_remove_page', page: 'page-1' },
      { type: 'board_move_page', page: 'page-1', index: 0 },
      { type: 'board_keep_page', page: 'page-1' },
      { type: 'board_undo' },
      { type: 'board_redo' },
      { type: 'board_live', page: 'page-1', id: 'b:0', shape: { kind: 'pen', points: strokePoints(2) }, style: INK },
    ];
    for (const frame of drawing) {
      const request_id = `f-${frame.type}`;
      const reply = await bob.request({ ...frame, request_id });
      assertDrawForbidden(reply, request_id);
      if (frame.type === 'board_add') {
        await t.test('the draw: message is the one the doc gives', () => assert.equal(reply.message, DRAW_FORBIDDEN));
      }
    }
    // board_set_access needs the `host` grant: the grant table's message.
    const noGrant = await bob.request({ type: 'board_set_access', access: { everyone: true }, request_id: 'f-access' });
    assertForbidden(noGrant, 'host', 'f-access');
    assert.match(noGrant.message, /board_set_access/, `names the request: ${noGrant.message}`);
    await expectNoBoardOp([ada, bob], 'a forbidden request changes nothing and is sent to no one');
    await settle(ada);
    assert.deepEqual(ada.pending('board_live'), [], 'a forbidden board_live reaches no one');

    // A witness that only watches, and asks for the whole board now and then.
    const [witness] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'wit', name: 'Witness' }));

    // The host lets bob draw. A field left out becomes false or [].
    const log = new OpLog([ada, bob]);
    await log.step(ada, 'ada', { type: 'board_set_access', access: { drawers: ['bob'] } }, { op: 'access', access: { everyone: false, drawers: ['bob'] } });

    // Both draw; each request is acked, each change comes to both with the next seq.
    const a1 = { ...pen('a:1', strokePoints(40, 1)), author: 'mallory' }; // a sent author is ignored
    await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: a1 }, { op: 'add', page: 'page-1', object: stored(a1, 'ada') });
    const b1 = rect('b:1', [2000, 1500], [6000, 4000], false);
    await log.step(bob, 'bob', { type: 'board_add', page: 'page-1', object: b1 }, (change) => {
      assert.deepEqual(change, { op: 'add', page: 'page-1', object: stored(b1, 'bob') });
      assert.ok(!('fill' in change.object.style), 'fill: false is left out');
    });
    const b2 = ellipse('b:2', [W, H], [0, 0], true);
    await log.step(bob, 'bob', { type: 'board_add', page: 'page-1', object: b2 }, { op: 'add', page: 'page-1', object: stored(b2, 'bob') });
    const a2 = text('a:2', [2000, 5000], 'x² + y² = r²\r\nso\tr = 5', 400);
    await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: a2 }, (change) => {
      assert.equal(change.object.shape.text, 'x² + y² = r²\nso\tr = 5', 'a \\r\\n is stored as \\n, a tab is kept');
      assert.equal(change.object.author, 'ada');
    });
    const a3 = highlighter('a:3', strokePoints(10, 3));
    await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: a3 }, { op: 'add', page: 'page-1', object: stored(a3, 'ada') });

    // ada moves bob's rectangle: the object is replaced in place.
    const b1moved = rect('b:1', [2400, 1900], [6400, 4400], true);
    const update = await log.step(ada, 'ada', { type: 'board_update', page: 'page-1', object: b1moved }, (change) => {
      assert.equal(change.op, 'update');
      assert.equal(change.page, 'page-1');
      assert.deepEqual(change.object.shape, b1moved.shape);
      assert.deepEqual(change.object.style, b1moved.style);
    });
    await t.test('board_update keeps the object\'s author, whoever changes it (BoardObject table)', () => {
      assert.equal(update.change.object.author, 'bob', `author after ada's update of bob's object: ${update.change.object.author}`);
    });

    // Pages: an ordinary one at the front, an annotation page at the end (index left out).
    await log.step(bob, 'bob', { type: 'board_add_page', page: 'p-bob-2', index: 0 }, { op: 'add_page', page: 'p-bob-2', index: 0 });
    await log.step(ada, 'ada', { type: 'board_add_page', page: 'ann-1', annotates: 'bob' }, {
      op: 'add_page', page: 'ann-1', index: 2, annotates: 'bob',
    });
    // An object may have the same id as a page.
    const b3 = line('page-1', [0, 0], [W, H]);
    await log.step(bob, 'bob', { type: 'board_add', page: 'p-bob-2', object: b3 }, { op: 'add', page: 'p-bob-2', object: stored(b3, 'bob') });
    const b4 = line('b:4', [100, 100], [900, 900], 'arrow');
    await log.step(bob, 'bob', { type: 'board_add', page: 'ann-1', object: b4 }, { op: 'add', page: 'ann-1', object: stored(b4, 'bob') });
    // Move page-1 (now at index 1) past the end: it goes to the end.
    await log.step(ada, 'ada', { type: 'board_move_page', page: 'page-1', index: 99 }, (change) => {
      assert.equal(change.op, 'move_page');
      assert.equal(change.page, 'page-1');
    });
    assert.deepEqual(ada.board.board.pages.map((p) => p.id), ['p-bob-2', 'ann-1', 'page-1']);
    await log.step(bob, 'bob', { type: 'board_move_page', page: 'ann-1', index: 0 }, { op: 'move_page', page: 'ann-1', index: 0 });
    await log.step(ada, 'ada', { type: 'board_move_page', page: 'ann-1', index: 1 }, { op: 'move_page', page: 'ann-1', index: 1 });
    assert.deepEqual(ada.board.board.pages.map((p) => p.id), ['p-bob-2', 'ann-1', 'page-1']);
    await crossCheck(witness, [ada, bob], log.seq, 'after moving pages');
    await log.step(ada, 'ada', { type: 'board_move_page', page: 'ann-1', index: 0 }, { op: 'move_page', page: 'ann-1', index: 0 });
    await log.step(bob, 'bob', { type: 'board_keep_page', page: 'ann-1' }, { op: 'annotates', page: 'ann-1', annotates: null });
    // bob erases one of his and one of ada's; the others keep their order.
    await log.step(bob, 'bob', { type: 'board_erase', page: 'page-1', ids: ['a:1', 'b:2'] }, { op: 'erase', page: 'page-1', ids: ['a:1', 'b:2'] });
    assert.deepEqual(ada.board.board.pages.find((p) => p.id === 'page-1').objects.map((o) => o.id), ['b:1', 'a:2', 'a:3']);
    await log.step(ada, 'ada', { type: 'board_clear', page: 'p-bob-2' }, { op: 'clear', page: 'p-bob-2' });
    await log.step(ada, 'ada', { type: 'board_remove_page', page: 'p-bob-2' }, { op: 'remove_page', page: 'p-bob-2' });
    await crossCheck(witness, [ada, bob], log.seq, 'after erasing, clearing and removing');

    // Requests sent at once by both: both clients get the same ops in the same order.
    const burst = [
      [ada, pen('a:10', strokePoints(5, 10))],
      [bob, pen('b:10', strokePoints(5, 11))],
      [ada, pen('a:11', strokePoints(5, 12))],
      [bob, pen('b:11', strokePoints(5, 13))],
    ];
    const acks = Promise.all(burst.map(([c, object]) => c.act({ type: 'board_add', page: 'page-1', object })));
    const burstOps = [];
    for (let i = 0; i < burst.length; i++) burstOps.push(await log.expectOp());
    await acks;
    assert.deepEqual(burstOps.map((op) => op.change.object.id).sort(), ['a:10', 'a:11', 'b:10', 'b:11']);
    for (const op of burstOps) assert.equal(op.by, op.change.object.author);

    // Both copies are the same; a late joiner's summary and snapshot say the same.
    await caughtUp(ada, log.seq);
    await caughtUp(bob, log.seq);
    assertSameBoards(ada, [bob], 'after drawing together');
    const [cat, catJoined] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'cat', name: 'Cat' }));
    assert.deepEqual(catJoined.features.board, summaryOf(ada.board.board), 'joined.features.board matches the board the ops built');
    assert.deepEqual(catJoined.features.board.access, { everyone: false, drawers: ['bob'] });
    assertSameBoards(ada, [cat], 'the ops built the board the relay holds');
    log.clients.push(cat);

    // The host takes bob off the list: he can no longer draw, undo or redo; what he drew stays.
    await log.step(ada, 'ada', { type: 'board_set_access', access: { everyone: false, drawers: [] } }, { op: 'access', access: { everyone: false, drawers: [] } });
    assertDrawForbidden(await bob.request({ type: 'board_add', page: 'page-1', object: pen('b:99', strokePoints(2)), request_id: 'g1' }), 'g1');
    assertDrawForbidden(await bob.request({ type: 'board_undo', request_id: 'g2' }), 'g2');
    assertDrawForbidden(await bob.request({ type: 'board_redo', request_id: 'g3' }), 'g3');
    await expectNoBoardOp([ada, bob], 'a drawer taken off the list changes nothing');
    assert.ok(ada.board.board.pages.find((p) => p.id === 'page-1').objects.some((o) => o.id === 'b:1'), "bob's objects stay");

    for (const c of [ada, bob, cat]) await caughtUp(c, log.seq);
    assertSameBoards(ada, [bob, cat], 'at the end');
    const [dan, danJoined] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'dan', name: 'Dan' }));
    assert.deepEqual(danJoined.features.board, summaryOf(ada.board.board));
    assertSameBoards(ada, [dan], 'the relay holds the board the ops built');
    for (const c of [ada, bob, cat, dan]) assert.deepEqual(c.badFrames, []);
  });
});

// ---------------------------------------------------------------- 2. live strokes

test('whiteboard: board_live reaches the others, not the drawer, and is not stored', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'live';
    const [ada] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    const [bob] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'bob', name: 'Bob' }));
    const [cat] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'cat', name: 'Cat' }));
    const watchers = [bob, cat];

    // The first points, without `from`: ack; the others get it with `from` 0 and `by`.
    const points = strokePoints(6, 4);
    const first = { type: 'board_live', page: 'page-1', id: 'a:live', shape: { kind: 'pen', points: points.slice(0, 3) }, style: INK };
    assert.deepEqual(await ada.act({ ...first, request_id: 'l1' }), { type: 'ack', request_id: 'l1' });
    for (const c of watchers) {
      const live = await c.waitForType('board_live');
      const { type, request_id, ...fields } = first;
      assert.deepEqual(live, { type: 'board_live', by: 'ada', from: 0, ...fields }, 'the fields of the board_live, from always present, by added');
    }
    // The next points, from 3: the previews grow to 6 points.
    const more = { type: 'board_live', page: 'page-1', id: 'a:live', from: 3, shape: { kind: 'pen', points: points.slice(3) }, style: INK };
    await ada.act(more);
    for (const c of watchers) {
      const live = await c.waitForType('board_live');
      assert.equal(live.from, 3);
      assert.deepEqual(live.shape.points, points.slice(3));
      assert.deepEqual(c.board.previews.get('ada a:live').shape.points, points, 'the preview keeps the first `from` points and adds these');
    }
    // Another shape, and a page the relay does not check: still ack, still sent on.
    const box = { type: 'board_live', page: 'no-such-page', id: 'a:box', shape: { kind: 'rect', from: [10, 10], to: [500, 400] }, style: INK };
    await ada.act(box);
    for (const c of watchers) assert.equal((await c.waitForType('board_live')).page, 'no-such-page');
    // A member who may not draw: forbidden, sent to no one.
    assertDrawForbidden(await cat.request({ ...first, id: 'c:live', request_id: 'l2' }), 'l2');

    // The drawer gets none of its own; nobody gets a board_op; nothing is stored.
    await settle(ada, bob, cat);
    assert.deepEqual(ada.pending('board_live'), [], 'the drawer does not get its own board_live');
    assert.deepEqual(bob.pending('board_live'), [], "cat's refused board_live reaches no one");
    await expectNoBoardOp([ada, bob, cat], 'a live stroke takes no seq');
    const [dan, danJoined] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'dan', name: 'Dan' }));
    assert.equal(danJoined.features.board.seq, 0, 'live strokes are not stored');
    assert.deepEqual(danJoined.features.board.pages, [{ id: 'page-1', objects: 0 }]);
    assert.deepEqual(dan.board.board.pages, [{ id: 'page-1', objects: [] }]);

    // The finished stroke is one board_add under the same id: seq 1, and the previews go.
    const log = new OpLog([ada, bob, cat, dan]);
    const done = pen('a:live', points);
    await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: done }, { op: 'add', page: 'page-1', object: stored(done, 'ada') });
    for (const c of watchers) assert.equal(c.board.previews.has('ada a:live'), false, 'the board_op drops the preview');

    // A late joiner's board has only the finished object.
    const [eve] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'eve', name: 'Eve' }));
    assert.deepEqual(eve.board.board.pages, [{ id: 'page-1', objects: [stored(done, 'ada')] }]);
    await caughtUp(ada, 1);
    assertSameBoards(ada, [bob, cat, dan, eve]);

    // Live strokes are outside the signaling rate (20/s, burst 50): 60 at once get 60
    // acks and no rate_limited. Their own rate (40/s, burst 40) drops some: those still
    // get ack, and nobody sees them.
    await sleep(1500); // the live-stroke bucket fills again (40/s) after the strokes above
    const n = 60;
    for (let i = 0; i < n; i++) {
      ada.send({ type: 'board_live', request_id: `flood-${i}`, page: 'page-1', id: `a:flood-${i}`, shape: { kind: 'pen', points: strokePoints(2, i) }, style: INK });
    }
    for (let i = 0; i < n; i++) {
      const reply = await ada.waitFor((f) => f.request_id === `flood-${i}`, 5000, `reply to flood-${i}`);
      assert.deepEqual(reply, { type: 'ack', request_id: `flood-${i}` }, 'every board_live gets ack, dropped or not');
    }
    await settle(ada, bob);
    assert.deepEqual(ada.pending('error'), [], 'no rate_limited for live strokes');
    const seen = bob.pending('board_live').filter((f) => f.id.startsWith('a:flood-')).length;
    assert.ok(seen >= 40 && seen < n, `the live-stroke rate lets the burst of 40 through and drops some of 60 sent at once (bob saw ${seen})`);
    assert.equal(ada.closeInfo, null);
  });
});

// ---------------------------------------------------------------- 3. late joiner, snapshot in parts

test('whiteboard: a late joiner gets the summary, then the whole board in parts', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'bigboard';
    const [ada] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    const [bob] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'bob', name: 'Bob' }));
    const log = new OpLog([ada, bob]);

    // A board well over 256 KiB of objects: strokes of 2000 points on two pages, with an
    // empty page, an annotation page and a small page between.
    const add = (page, object) => log.step(ada, 'ada', { type: 'board_add', page, object });
    for (let i = 0; i < 16; i++) await add('page-1', pen(`a:${i}`, strokePoints(2000, i, { wide: true })));
    await log.step(ada, 'ada', { type: 'board_add_page', page: 'small' });
    await add('small', text('a:t', [100, 100], 'a small page'));
    await add('small', rect('a:r', [100, 100], [900, 900], true));
    await log.step(ada, 'ada', { type: 'board_add_page', page: 'empty' });
    await log.step(ada, 'ada', { type: 'board_add_page', page: 'ann', annotates: 'bob' });
    await add('ann', line('a:l', [0, 0], [100, 100], 'arrow'));
    await log.step(ada, 'ada', { type: 'board_add_page', page: 'big-2' });
    for (let i = 16; i < 24; i++) await add('big-2', pen(`a:${i}`, strokePoints(2000, i, { wide: true })));
    const objectBytes = ada.board.board.pages.flatMap((p) => p.objects).reduce((n, o) => n + jsonBytes(o), 0);
    assert.ok(objectBytes > 2 * 256 * 1024, `the board holds ${objectBytes} bytes of objects`);
    await caughtUp(ada, log.seq);
    await caughtUp(bob, log.seq);
    assertSameBoards(ada, [bob]);

    // The late joiner's summary: id, seq, access, pages with their object counts.
    const [cat, catJoined] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'cat', name: 'Cat' }));
    assert.deepEqual(catJoined.features.board, summaryOf(ada.board.board));
    assert.deepEqual(catJoined.features.board.pages, [
      { id: 'page-1', objects: 16 },
      { id: 'small', objects: 2 },
      { id: 'empty', objects: 0 },
      { id: 'ann', annotates: 'bob', objects: 1 },
      { id: 'big-2', objects: 8 },
    ]);

    // ada draws while cat asks: the op may come before, or after, the answer, never
    // between its parts; cat keeps it and applies it once the answer is complete.
    log.clients.push(cat);
    const late = pen('a:late', strokePoints(50, 99));
    const lateStep = log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: late });
    cat.send({ type: 'board_sync', request_id: 'sync-cat' });
    await lateStep;
    const ack = await cat.waitFor((f) => f.request_id === 'sync-cat', 5000, 'the ack of board_sync');
    assert.deepEqual(ack, { type: 'ack', request_id: 'sync-cat' });
    await caughtUp(cat, log.seq);
    assertSameBoards(ada, [bob, cat], 'after a snapshot in parts');

    // The part rules.
    const answer = cat.board.answers.at(-1);
    assert.equal(answer.kind, 'snapshot');
    const parts = answer.parts;
    const indexes = parts.map((p) => cat.frames.indexOf(p));
    const sizes = parts.map((p) => p.pages.flatMap((pg) => pg.objects).reduce((n, o) => n + jsonBytes(o), 0));
    t.diagnostic(`snapshot: ${parts.length} parts, ${sizes.join(' + ')} bytes of objects`);
    assert.ok(parts.length >= 2, `a big board comes in 2+ parts (got ${parts.length})`);
    parts.forEach((p, i) => {
      assert.equal(p.part, i, 'parts are numbered 0, 1, 2, … in order');
      assert.equal(p.last, i === parts.length - 1, 'only the final part has last: true');
      assert.equal(p.board, parts[0].board, 'every part carries the same board');
      assert.equal(p.seq, parts[0].seq, 'every part carries the same seq');
      assert.deepEqual(p.access, parts[0].access, 'every part carries the same access');
      assert.ok(!('request_id' in p), 'a board_snapshot never carries request_id');
    });
    assert.equal(parts[0].board, catJoined.features.board.id);
    assert.ok(parts[0].seq === catJoined.features.board.seq || parts[0].seq === catJoined.features.board.seq + 1, 'the snapshot is at the board\'s seq');
    // "no other board_op comes between its messages"; "the ack comes after the answer's last message"
    const between = cat.frames.slice(indexes[0], indexes.at(-1) + 1).filter((f) => f.type === 'board_op');
    assert.deepEqual(between, [], 'no board_op between the parts of an answer');
    assert.ok(cat.frames.indexOf(ack) > indexes.at(-1), 'the ack comes after the last part');
    // A page too big for one part goes on in the next, with the same id; no page is cut
    // anywhere else.
    const order = parts.flatMap((p) => p.pages.map((pg) => pg.id));
    const joinedOrder = order.filter((id, i) => i === 0 || id !== order[i - 1]);
    assert.deepEqual(joinedOrder, ['page-1', 'small', 'empty', 'ann', 'big-2'], 'pages in order, empty pages too');
    assert.ok(order.length > joinedOrder.length, 'a page went on from one part to the next');
    for (let i = 1; i < order.length; i++) {
      if (order[i] === order[i - 1]) {
        const p = parts.findIndex((pt, k) => k > 0 && pt.pages[0].id === order[i] && parts[k - 1].pages.at(-1).id === order[i]);
        assert.ok(p > 0, `page ${order[i]} goes on only as the first page of the next part`);
      }
    }
    const ann = parts.flatMap((p) => p.pages).find((pg) => pg.id === 'ann');
    assert.equal(ann.annotates, 'bob', 'an annotation page keeps its annotates in the snapshot');
    // "parts of about 256 KiB of objects each"
    await t.test('snapshot parts hold about 256 KiB of objects each', () => {
      const biggest = Math.max(...parts.flatMap((p) => p.pages.flatMap((pg) => pg.objects.map(jsonBytes))));
      sizes.forEach((size, i) => {
        assert.ok(size <= 256 * 1024 + biggest, `part ${i}: ${size} bytes`);
        if (i < sizes.length - 1) assert.ok(size >= 256 * 1024 - biggest, `part ${i} (not the last): ${size} bytes`);
      });
    });

    // Syncing again without since: the whole board again, the same.
    await cat.syncBoard({ type: 'board_sync' });
    assert.equal(cat.board.answers.at(-1).kind, 'snapshot');
    assertSameBoards(ada, [bob, cat], 'after a second snapshot');
  });
});

// ---------------------------------------------------------------- 4. reconnect

test('whiteboard: a reconnect with board and since gets only what it missed; another board id gets it whole', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'reconnect';
    const bobToken = await mintToken(dir, { room, identity: 'bob', name: 'Bob' });
    const [ada] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    const [bob] = await joinAndSync(ctx, relay, room, bobToken);
    const log = new OpLog([ada, bob]);
    await log.step(ada, 'ada', { type: 'board_set_access', access: { everyone: true } }, { op: 'access', access: { everyone: true, drawers: [] } });
    await log.step(bob, 'bob', { type: 'board_add', page: 'page-1', object: pen('b:1', strokePoints(20, 1)) });
    await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: rect('a:1', [10, 10], [400, 400]) });
    await caughtUp(bob, log.seq);
    const held = bob.board;
    const heldSeq = held.board.seq;
    assert.equal(heldSeq, 3);

    // bob's connection goes; ada makes three changes meanwhile.
    bob.close();
    await bob.waitClose();
    await ada.waitForType('participant_left', 5000, (f) => f.identity === 'bob');
    log.clients = [ada];
    await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: text('a:2', [500, 500], 'missed') });
    await log.step(ada, 'ada', { type: 'board_update', page: 'page-1', object: rect('a:1', [20, 20], [420, 420], true) });
    await log.step(ada, 'ada', { type: 'board_add_page', page: 'p2', index: 0 });

    // bob joins again, keeping his copy: the summary has the same id and the new seq.
    const bob2 = await ctx.connect(relay);
    bob2.adoptBoard(held);
    const joined = await bob2.join({ room, token: bobToken });
    assert.equal(joined.features.board.id, held.board.id, 'the same board');
    assert.equal(joined.features.board.seq, heldSeq + 3);
    // board_sync with board and since: the three ops, then board_synced, then the ack.
    const ack = await bob2.syncBoard({ type: 'board_sync', board: held.board.id, since: heldSeq, request_id: 'rs' });
    assert.deepEqual(ack, { type: 'ack', request_id: 'rs' });
    const answer = bob2.frames.filter((f) => f.type.startsWith('board_') || f.request_id === 'rs');
    assert.deepEqual(answer.map((f) => [f.type, f.seq]), [
      ['board_op', heldSeq + 1],
      ['board_op', heldSeq + 2],
      ['board_op', heldSeq + 3],
      ['board_synced', heldSeq + 3],
      ['ack', undefined],
    ], 'only the missed ops, then board_synced, then ack');
    answer.slice(0, 3).forEach(assertBoardOp);
    const synced = answer[3];
    assert.deepEqual(synced, { type: 'board_synced', board: held.board.id, seq: heldSeq + 3 }, 'board_synced has the board id and seq, no request_id');
    assert.deepEqual(answer.slice(0, 3).map((f) => f.change.op), ['add', 'update', 'add_page']);
    for (const f of answer.slice(0, 3)) bob2.waitFor((g) => g === f); // read
    assert.equal(bob2.board.answers.at(-1).kind, 'synced');
    log.clients = [ada, bob2];
    assertSameBoards(ada, [bob2], 'after catching up with since');

    // since = the board's seq: nothing is missing, just board_synced.
    const before = bob2.frames.length;
    await bob2.syncBoard();
    assert.deepEqual(bob2.frames.slice(before).map((f) => f.type), ['board_synced', 'ack'], 'nothing missed: only board_synced');
    assert.deepEqual(bob2.frames[before], { type: 'board_synced', board: held.board.id, seq: heldSeq + 3 });

    // Another board id (a copy of a board the room no longer has): the whole board.
    const mark = bob2.frames.length;
    await bob2.syncBoard({ type: 'board_sync', board: 'not-this-board', since: 2 });
    const whole = bob2.frames.slice(mark);
    assert.ok(whole.every((f) => f.type === 'board_snapshot' || f.type === 'ack'), `a wrong id gets snapshot parts: ${whole.map((f) => f.type)}`);
    assert.equal(whole.filter((f) => f.type === 'board_snapshot').length, 1, 'a small board: one part');
    assert.equal(bob2.board.answers.at(-1).kind, 'snapshot');
    assertSameBoards(ada, [bob2], 'after the whole board');

    // Changes go on reaching both, in step.
    await log.step(bob2, 'bob', { type: 'board_add', page: 'p2', object: pen('b:2', strokePoints(10, 7)) });
    await caughtUp(bob2, log.seq);
    await caughtUp(ada, log.seq);
    assertSameBoards(ada, [bob2], 'after more drawing');
  });
});

// ---------------------------------------------------------------- 5. undo and redo

test('whiteboard: undo and redo, each person their own, as ordinary board_ops with the inverse op', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'undo';
    const bobToken = await mintToken(dir, { room, identity: 'bob', name: 'Bob' });
    const [ada] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    let [bob] = await joinAndSync(ctx, relay, room, bobToken);
    const [witness] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'wit', name: 'Witness' }));
    const log = new OpLog([ada, bob]);
    const nothing = async (c, type, id) => {
      const reply = await c.request({ type, request_id: id });
      assertError(reply, 'invalid_state', false, id);
      const word = type === 'board_undo' ? 'undo' : 'redo';
      assert.match(reply.message, new RegExp(`nothing of yours to ${word}`), `the message: ${reply.message}`);
    };
    const undo = (c, by, change) => log.step(c, by, { type: 'board_undo' }, change);
    const redo = (c, by, change) => log.step(c, by, { type: 'board_redo' }, change);
    const objects = (page = 'page-1') => ada.board.board.pages.find((p) => p.id === page).objects.map((o) => o.id);

    await log.step(ada, 'ada', { type: 'board_set_access', access: { everyone: true } });
    // Nothing to undo or redo yet; the access change is not undone.
    await nothing(bob, 'board_undo', 'n1');
    await nothing(bob, 'board_redo', 'n2');
    await nothing(ada, 'board_undo', 'n3');
    await expectNoBoardOp([ada, bob], 'a refused undo changes nothing');

    const A1 = pen('A1', strokePoints(5, 1));
    const B1 = rect('B1', [100, 100], [900, 900]);
    const A2 = pen('A2', strokePoints(5, 2));
    await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: A1 });
    await log.step(bob, 'bob', { type: 'board_add', page: 'page-1', object: B1 });
    await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: A2 });

    // bob undoes his own add (erase), and only that; his redo puts it back where it was.
    await undo(bob, 'bob', { op: 'erase', page: 'page-1', ids: ['B1'] });
    assert.deepEqual(objects(), ['A1', 'A2']);
    await nothing(bob, 'board_undo', 'n4');
    await redo(bob, 'bob', { op: 'restore', page: 'page-1', objects: [{ index: 1, object: stored(B1, 'bob') }] });
    await crossCheck(witness, [ada, bob], log.seq, 'after a redo');
    assert.deepEqual(objects(), ['A1', 'B1', 'A2']);
    await nothing(bob, 'board_redo', 'n5');

    // ada undoes hers, newest first; redo brings back the last undone.
    await undo(ada, 'ada', { op: 'erase', page: 'page-1', ids: ['A2'] });
    await undo(ada, 'ada', { op: 'erase', page: 'page-1', ids: ['A1'] });
    assert.deepEqual(objects(), ['B1']);
    await redo(ada, 'ada', { op: 'restore', page: 'page-1', objects: [{ index: 0, object: stored(A1, 'ada') }] });
    assert.deepEqual(objects(), ['A1', 'B1']);

    // A new change empties ada's redo list. Undoing an update puts the old object back.
    const B1moved = rect('B1', [300, 300], [1100, 1100], true);
    await log.step(ada, 'ada', { type: 'board_update', page: 'page-1', object: B1moved });
    await nothing(ada, 'board_redo', 'n6');
    await undo(ada, 'ada', { op: 'update', page: 'page-1', object: stored(B1, 'bob') });

    // Undoing a clear restores every object, lowest index first.
    const beforeClear = structuredClone(ada.board.board.pages.find((p) => p.id === 'page-1').objects);
    await log.step(ada, 'ada', { type: 'board_clear', page: 'page-1' }, { op: 'clear', page: 'page-1' });
    await undo(ada, 'ada', { op: 'restore', page: 'page-1', objects: beforeClear.map((object, index) => ({ index, object })) });
    assert.deepEqual(ada.board.board.pages.find((p) => p.id === 'page-1').objects, beforeClear);

    // bob erases ada's object: only bob can undo that (a restore).
    await log.step(bob, 'bob', { type: 'board_erase', page: 'page-1', ids: ['A1'] });
    await undo(bob, 'bob', { op: 'restore', page: 'page-1', objects: [{ index: 0, object: beforeClear[0] }] });

    // Pages: undoing a move moves it back; undoing add_page removes it; a redo of that
    // brings the page back (restore_page).
    await log.step(ada, 'ada', { type: 'board_add_page', page: 'p2', index: 0 }, { op: 'add_page', page: 'p2', index: 0 });
    await log.step(ada, 'ada', { type: 'board_move_page', page: 'p2', index: 1 }, { op: 'move_page', page: 'p2', index: 1 });
    assert.deepEqual(ada.board.board.pages.map((p) => p.id), ['page-1', 'p2']);
    await crossCheck(witness, [ada, bob], log.seq, 'after moving a page');
    await undo(ada, 'ada', { op: 'move_page', page: 'p2', index: 0 });
    await undo(ada, 'ada', { op: 'remove_page', page: 'p2' });
    await redo(ada, 'ada', { op: 'restore_page', index: 0, page: { id: 'p2', objects: [] } });
    // Undoing a remove_page brings the page back whole, where it was.
    const B2 = line('B2', [0, 0], [W, 0]);
    await log.step(bob, 'bob', { type: 'board_add', page: 'p2', object: B2 });
    await log.step(ada, 'ada', { type: 'board_remove_page', page: 'p2' }, { op: 'remove_page', page: 'p2' });
    await undo(ada, 'ada', { op: 'restore_page', index: 0, page: { id: 'p2', objects: [stored(B2, 'bob')] } });
    await crossCheck(witness, [ada, bob], log.seq, 'after restoring a page');
    // Undoing keep_page makes it an annotation page again.
    await log.step(ada, 'ada', { type: 'board_add_page', page: 'ann', annotates: 'bob' });
    await log.step(ada, 'ada', { type: 'board_keep_page', page: 'ann' }, { op: 'annotates', page: 'ann', annotates: null });
    await undo(ada, 'ada', { op: 'annotates', page: 'ann', annotates: 'bob' });
    // Undoing add_page removes the page with what others drew there since.
    await log.step(bob, 'bob', { type: 'board_add', page: 'ann', object: pen('B3', strokePoints(4, 3)) });
    await undo(ada, 'ada', { op: 'remove_page', page: 'ann' });
    await crossCheck(witness, [ada, bob], log.seq, 'after undoing add_page');

    // Fitted to the board: bob's add of B3 is on a page that is gone, so his undo drops
    // it and goes on to the change before it (B2).
    await undo(bob, 'bob', { op: 'erase', page: 'p2', ids: ['B2'] });
    // Then B1 (his redo of its add; the erase of A1 was undone already).
    await undo(bob, 'bob', { op: 'erase', page: 'page-1', ids: ['B1'] });
    await nothing(bob, 'board_undo', 'n7');
    // An object someone else erased since is left out: nothing is left to undo.
    await log.step(bob, 'bob', { type: 'board_add', page: 'page-1', object: pen('B4', strokePoints(4, 4)) });
    await log.step(ada, 'ada', { type: 'board_erase', page: 'page-1', ids: ['B4'] });
    await nothing(bob, 'board_undo', 'n8');

    // The history survives a reconnect of the same identity.
    await log.step(bob, 'bob', { type: 'board_add', page: 'page-1', object: pen('B5', strokePoints(4, 5)) });
    await caughtUp(bob, log.seq);
    const held = bob.board;
    bob.close();
    await bob.waitClose();
    await ada.waitForType('participant_left', 5000, (f) => f.identity === 'bob');
    bob = await ctx.connect(relay);
    bob.adoptBoard(held);
    await bob.join({ room, token: bobToken });
    await bob.syncBoard();
    log.clients = [ada, bob];
    await undo(bob, 'bob', { op: 'erase', page: 'page-1', ids: ['B5'] });

    // An undo that would leave the board without an ordinary page is refused, and that
    // change is dropped from the history: the next undo goes on to the one before.
    const [dan] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'dan', name: 'Dan', host: true }));
    log.clients = [ada, bob, dan];
    await log.step(dan, 'dan', { type: 'board_add_page', page: 'ann-d', annotates: 'dan' });
    await log.step(dan, 'dan', { type: 'board_add_page', page: 'p3' });
    await log.step(ada, 'ada', { type: 'board_remove_page', page: 'page-1' });
    await log.step(ada, 'ada', { type: 'board_remove_page', page: 'p2' });
    assert.deepEqual(ada.board.board.pages.map((p) => [p.id, p.annotates]), [['ann-d', 'dan'], ['p3', undefined]]);
    await t.test('an undo that would leave no ordinary page: invalid_state, then dropped from the history', async () => {
      const refused = await dan.request({ type: 'board_undo', request_id: 'd1' });
      assertError(refused, 'invalid_state', false, 'd1');
      assert.doesNotMatch(refused.message, /nothing of yours/, `refused for the page, not for an empty history: ${refused.message}`);
      await expectNoBoardOp([ada, bob, dan], 'a refused undo changes nothing');
      await undo(dan, 'dan', { op: 'remove_page', page: 'ann-d' });
    });

    await caughtUp(ada, log.seq);
    for (const c of [bob, dan]) await caughtUp(c, log.seq);
    assertSameBoards(ada, [bob, dan], 'after undos and redos');
    const [eve] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'eve', name: 'Eve' }));
    assertSameBoards(ada, [eve], 'the relay holds the board the ops built');
  });
});

// ---------------------------------------------------------------- 6. limits and bad input

test('whiteboard: limits and bad input get the documented errors, and change nothing', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'limits';
    const [ada] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    const [bob] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'bob', name: 'Bob' }));
    const log = new OpLog([ada, bob]);
    let n = 0;

    /** ada's request is refused with `code`; nobody gets a board_op; `check(reply)` looks closer. */
    const refused = async (frame, code, check = () => {}) => {
      const request_id = `x${++n}`;
      const reply = await ada.request({ ...frame, request_id });
      assertError(reply, code, false, request_id);
      check(reply);
      await expectNoBoardOp([ada, bob], `a refused ${frame.type} (${code}) changes nothing`);
      return reply;
    };
    /** Run each case as a subtest, so that one disagreement does not hide the others. */
    const cases = async (name, body) => t.test(name, body);

    await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: pen('a:1', strokePoints(10)) });
    await log.step(ada, 'ada', { type: 'board_add_page', page: 'p2' });

    await cases('points_per_stroke: 2000 points are fine, 2001 are limit_reached', async () => {
      await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: pen('a:2000', strokePoints(2000, 5)) });
      await refused({ type: 'board_add', page: 'page-1', object: pen('a:2001', strokePoints(2001, 5)) }, 'limit_reached', (r) => assertLimit(r, 'points_per_stroke'));
      await refused({ type: 'board_update', page: 'page-1', object: highlighter('a:1', strokePoints(2001, 6)) }, 'limit_reached', (r) => assertLimit(r, 'points_per_stroke'));
      // board_live counts the points of the message alone.
      const live = await ada.request({ type: 'board_live', page: 'page-1', id: 'a:l', shape: { kind: 'pen', points: strokePoints(2001) }, style: INK, request_id: 'lv1' });
      assertLimit(live, 'points_per_stroke', 'lv1');
    });

    await cases('text_bytes: 2000 bytes of UTF-8 are fine, 2001 are limit_reached', async () => {
      await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: text('t:2000', [0, 0], 'é'.repeat(1000)) });
      await refused({ type: 'board_add', page: 'page-1', object: text('t:2001', [0, 0], `${'é'.repeat(1000)}a`) }, 'limit_reached', (r) => assertLimit(r, 'text_bytes'));
    });

    await cases('ids already on the board: invalid_state', async () => {
      await refused({ type: 'board_add', page: 'page-1', object: rect('a:1', [0, 0], [10, 10]) }, 'invalid_state');
      await refused({ type: 'board_add', page: 'p2', object: rect('a:1', [0, 0], [10, 10]) }, 'invalid_state'); // unique on the whole board
      await refused({ type: 'board_add_page', page: 'p2' }, 'invalid_state');
    });

    await cases('coordinates, pressure, width and size out of range: out_of_range naming field, range and value', async () => {
      await refused({ type: 'board_add', page: 'page-1', object: line('o:1', [16001, 20], [0, 0]) }, 'out_of_range', (r) => {
        assert.match(r.message, /16001/, `names the value: ${r.message}`);
        assert.match(r.message, /16000/, `names the range: ${r.message}`);
      });
      await refused({ type: 'board_add', page: 'page-1', object: pen('o:2', [[0, 0, 50], [100, 9001, 50]]) }, 'out_of_range', (r) => assert.match(r.message, /9001/, r.message));
      await refused({ type: 'board_add', page: 'page-1', object: text('o:3', [0, 65535], 'hi') }, 'out_of_range', (r) => assert.match(r.message, /65535/, r.message));
      await refused({ type: 'board_add', page: 'page-1', object: pen('o:4', [[0, 0, 101]]) }, 'out_of_range', (r) => {
        assert.match(r.message, /pressure/, `names the field: ${r.message}`);
        assert.match(r.message, /101/, r.message);
      });
      await refused({ type: 'board_add', page: 'page-1', object: { ...rect('o:5', [0, 0], [10, 10]), style: { color: '#000000', width: 0 } } }, 'out_of_range', (r) => {
        assert.match(r.message, /width/, r.message);
        assert.match(r.message, /\b1\b.*\b1000\b/, `names the range: ${r.message}`);
        assert.match(r.message, /\b0\b/, r.message);
      });
      await refused({ type: 'board_add', page: 'page-1', object: { ...rect('o:6', [0, 0], [10, 10]), style: { color: '#000000', width: 1001 } } }, 'out_of_range', (r) => assert.match(r.message, /width/, r.message));
      await refused({ type: 'board_add', page: 'page-1', object: text('o:7', [0, 0], 'small', 50) }, 'out_of_range', (r) => {
        assert.match(r.message, /size/, r.message);
        assert.match(r.message, /\b100\b.*\b3000\b/, r.message);
        assert.match(r.message, /\b50\b/, r.message);
      });
      await refused({ type: 'board_add', page: 'page-1', object: text('o:8', [0, 0], 'big', 3001) }, 'out_of_range', (r) => assert.match(r.message, /size/, r.message));
      // The same for an update and a live stroke.
      await refused({ type: 'board_update', page: 'page-1', object: pen('a:1', [[16001, 0, 50]]) }, 'out_of_range');
      assertError(await ada.request({ type: 'board_live', page: 'page-1', id: 'o:l', shape: { kind: 'pen', points: [[0, 9001, 50]] }, style: INK, request_id: 'lv2' }), 'out_of_range', false, 'lv2');
    });

    await cases('values that are not whole numbers of their type: bad_message naming the field', async () => {
      for (const [object, what] of [
        [line('m:1', [-1, 0], [0, 0]), 'a negative coordinate'],
        [line('m:2', [1.5, 0], [0, 0]), 'a fractional coordinate'],
        [line('m:3', [65536, 0], [0, 0]), 'a coordinate above 65535'],
        [line('m:4', ['1', 0], [0, 0]), 'a coordinate as a string'],
      ]) {
        await refused({ type: 'board_add', page: 'page-1', object }, 'bad_message', (r) => assert.match(r.message, /\b(object|shape|from)\b/, `${what}: names the field: ${r.message}`));
      }
      await refused({ type: 'board_add', page: 'page-1', object: { ...rect('m:5', [0, 0], [10, 10]), style: { color: '#000000', width: -1 } } }, 'bad_message');
      await refused({ type: 'board_add_page', page: 'm-p', index: -1 }, 'bad_message', (r) => assert.match(r.message, /\bindex\b/, r.message));
      await refused({ type: 'board_move_page', page: 'p2', index: 1.5 }, 'bad_message', (r) => assert.match(r.message, /\bindex\b/, r.message));
      const since = await ada.request({ type: 'board_sync', board: ada.board.board.id, since: -1, request_id: 'since' });
      assertError(since, 'bad_message', false, 'since');
      assert.match(since.message, /\bsince\b/, since.message);
    });

    await cases('a bad colour: bad_message; either case of hex digits is fine', async () => {
      for (const color of ['red', '#12345', '#1234567', '#12345g', '123456']) {
        await refused({ type: 'board_add', page: 'page-1', object: { ...rect(`c:${color}`.replace(/[^A-Za-z0-9:]/g, ''), [0, 0], [10, 10]), style: { color, width: 5 } } }, 'bad_message', (r) => assert.match(r.message, /\b(color|style)\b/, `${color}: ${r.message}`));
      }
      await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: { ...rect('c:upper', [0, 0], [10, 10]), style: { color: '#ABCdef', width: 5 } } });
    });

    await cases('other bad objects: no points, unknown kind, bad text', async () => {
      await refused({ type: 'board_add', page: 'page-1', object: { id: 'e:2', shape: { kind: 'star', at: [0, 0] }, style: INK } }, 'bad_message');
      await refused({ type: 'board_add', page: 'page-1', object: text('e:3', [0, 0], '  \n ') }, 'invalid_text');
      await refused({ type: 'board_add', page: 'page-1', object: text('e:4', [0, 0], 'bell\u0007') }, 'invalid_text');
      await refused({ type: 'board_add', page: 'page-1', object: text('e:5', [0, 0], 'a lone\rreturn') }, 'invalid_text');
      // "Malformed messages of ... the whiteboard get a non-fatal bad_message whose message
      // names the field at fault."
      await refused({ type: 'board_add', page: 'page-1', object: pen('e:1', []) }, 'bad_message', (r) => assert.match(r.message, /\bpoints\b/, `names the field \`points\`: ${r.message}`));
    });

    await cases('bad ids and identities: invalid_id', async () => {
      await refused({ type: 'board_add', page: 'page-1', object: rect('a b', [0, 0], [1, 1]) }, 'invalid_id');
      await refused({ type: 'board_add', page: 'page-1', object: rect('x'.repeat(65), [0, 0], [1, 1]) }, 'invalid_id');
      await refused({ type: 'board_add', page: 'page-1', object: rect('', [0, 0], [1, 1]) }, 'invalid_id');
      await refused({ type: 'board_add_page', page: 'pâge' }, 'invalid_id');
      await refused({ type: 'board_add_page', page: 'ann-x', annotates: ' bob' }, 'invalid_id');
      await refused({ type: 'board_add_page', page: 'ann-x', annotates: '' }, 'invalid_id');
      await refused({ type: 'board_set_access', access: { drawers: ['bob '] } }, 'invalid_id');
      await refused({ type: 'board_set_access', access: { drawers: ['bo\u0001b'] } }, 'invalid_id');
      // 64 bytes and every allowed character are fine.
      await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: rect(`aZ09-_.:${'x'.repeat(56)}`, [0, 0], [1, 1]) });
    });

    await cases('no such page or object: not_found; an erase with one unknown id erases nothing', async () => {
      await refused({ type: 'board_add', page: 'nope', object: rect('nf:1', [0, 0], [1, 1]) }, 'not_found');
      await refused({ type: 'board_update', page: 'page-1', object: rect('nf:2', [0, 0], [1, 1]) }, 'not_found');
      await refused({ type: 'board_update', page: 'p2', object: rect('a:1', [0, 0], [1, 1]) }, 'not_found'); // on another page
      await refused({ type: 'board_erase', page: 'page-1', ids: ['a:1', 'nf:3'] }, 'not_found');
      await refused({ type: 'board_clear', page: 'nope' }, 'not_found');
      await refused({ type: 'board_remove_page', page: 'nope' }, 'not_found');
      await refused({ type: 'board_move_page', page: 'nope', index: 0 }, 'not_found');
      await refused({ type: 'board_keep_page', page: 'nope' }, 'not_found');
      await refused({ type: 'board_erase', page: 'page-1', ids: [] }, 'bad_message');
      await refused({ type: 'board_move_page', page: 'p2' }, 'bad_message', (r) => assert.match(r.message, /\bindex\b/, r.message));
      assert.ok(ada.board.board.pages[0].objects.some((o) => o.id === 'a:1'), 'a:1 was not erased');
    });

    await cases('removing the last ordinary page: invalid_state; annotation pages can always go', async () => {
      await log.step(ada, 'ada', { type: 'board_remove_page', page: 'p2' }, { op: 'remove_page', page: 'p2' });
      await log.step(ada, 'ada', { type: 'board_add_page', page: 'ann', annotates: 'bob' });
      await refused({ type: 'board_remove_page', page: 'page-1' }, 'invalid_state', (r) => {
        assert.equal(r.message, 'a board keeps at least one page (clear it instead)');
      });
      await log.step(ada, 'ada', { type: 'board_remove_page', page: 'ann' }, { op: 'remove_page', page: 'ann' });
    });

    await cases('drawers: 100 are fine, 101 are limit_reached', async () => {
      const names = Array.from({ length: 101 }, (_, i) => `drawer-${i}`);
      await refused({ type: 'board_set_access', access: { drawers: names } }, 'limit_reached', (r) => assertLimit(r, 'drawers'));
      await log.step(ada, 'ada', { type: 'board_set_access', access: { drawers: names.slice(0, 100) } });
    });

    await cases('pages_per_board: 50 pages, annotation pages included; the 51st is limit_reached', async () => {
      const have = ada.board.board.pages.length;
      for (let i = have; i < 50; i++) {
        const frame = i === 10 ? { type: 'board_add_page', page: `pp-${i}`, annotates: 'bob' } : { type: 'board_add_page', page: `pp-${i}` };
        await log.step(ada, 'ada', frame);
      }
      assert.equal(ada.board.board.pages.length, 50);
      await refused({ type: 'board_add_page', page: 'pp-50' }, 'limit_reached', (r) => assertLimit(r, 'pages_per_board'));
      await refused({ type: 'board_add_page', page: 'pp-51', annotates: 'bob' }, 'limit_reached', (r) => assertLimit(r, 'pages_per_board'));
    });

    await caughtUp(ada, log.seq);
    await caughtUp(bob, log.seq);
    assertSameBoards(ada, [bob], 'after all the refusals');
    const [cat, catJoined] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'cat', name: 'Cat' }));
    assert.equal(catJoined.features.board.seq, log.seq, 'refusals took no seq');
    assertSameBoards(ada, [cat], 'the relay holds the board the ops built');
    assert.equal(ada.closeInfo, null, 'none of these errors is fatal');
  });
});

// ---------------------------------------------------------------- 7. durability

test('whiteboard: the board survives the room ending and a relay restart; undo history does not', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const room = 'kept';
    let relay = await ctx.relay(dir);
    const adaToken = await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true });
    let [ada, joined] = await joinAndSync(ctx, relay, room, adaToken);
    const log = new OpLog([ada]);
    await log.step(ada, 'ada', { type: 'board_set_access', access: { everyone: false, drawers: ['bob'] } });
    await log.step(ada, 'ada', { type: 'board_add', page: 'page-1', object: pen('a:1', strokePoints(100, 1)) });
    await log.step(ada, 'ada', { type: 'board_add_page', page: 'p2', index: 0 });
    await log.step(ada, 'ada', { type: 'board_add', page: 'p2', object: text('a:2', [100, 100], 'kept') });
    await log.step(ada, 'ada', { type: 'board_add_page', page: 'ann', annotates: 'bob' });
    await caughtUp(ada, log.seq);
    const id = ada.board.board.id;
    const copy = structuredClone(ada.board.board);
    assert.equal(copy.seq, 5);

    // The room ends: the board stays, undo history goes.
    await ada.act({ type: 'end_room' });
    assert.equal((await ada.waitClose()).code, 4012);
    [ada, joined] = await joinAs(ctx, relay, room, adaToken);
    assert.deepEqual(joined.features.board, summaryOf(copy), 'the same board after end_room');
    const afterEnd = await ada.request({ type: 'board_undo', request_id: 'u1' });
    assertError(afterEnd, 'invalid_state', false, 'u1');

    // A restart (SIGTERM, then the same data dir): same id, same seq, same board.
    relay.child.kill('SIGTERM');
    await ada.waitClose(5000);
    await relay.exited;
    relay = await ctx.relay(dir);
    const ada2 = await ctx.connect(relay);
    const held = ada.board;
    held.board = structuredClone(copy);
    ada2.adoptBoard(held);
    joined = await ada2.join({ room, token: adaToken });
    assert.equal(joined.features.board.id, id, 'the same board id after a restart');
    assert.equal(joined.features.board.seq, copy.seq, 'the same seq after a restart');
    assert.deepEqual(joined.features.board, summaryOf(copy));
    // A copy at the board's seq: nothing is missing, so only board_synced comes.
    await t.test('a copy at the board\'s seq after a restart gets board_synced', async () => {
      const mark = ada2.frames.length;
      await ada2.syncBoard();
      assert.deepEqual(ada2.frames.slice(mark).map((f) => f.type), ['board_synced', 'ack']);
    });
    // A client with no copy gets the whole board, the same as before.
    const [bob] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'bob', name: 'Bob' }));
    assert.deepEqual(bob.board.board, copy, 'the whole board after a restart');
    // Undo history is gone; the sequence goes on.
    const afterRestart = await ada2.request({ type: 'board_undo', request_id: 'u2' });
    assertError(afterRestart, 'invalid_state', false, 'u2');
    assert.match(afterRestart.message, /nothing of yours to undo/);
    const log2 = new OpLog([ada2, bob], copy.seq);
    await log2.step(bob, 'bob', { type: 'board_add', page: 'ann', object: line('b:1', [0, 0], [5, 5]) });
    assert.equal(log2.seq, copy.seq + 1, 'the next change takes the next seq');
    if (ada2.board.syncing) await ada2.syncBoard();
    await caughtUp(ada2, log2.seq);
    assertSameBoards(ada2, [bob], 'after the restart');

    // A board that has had no change yet is not stored: its room starts afresh with a new id.
    const freshToken = await mintToken(dir, { room: 'fresh', identity: 'ada', name: 'Ada', host: true });
    const [f1, j1] = await joinAs(ctx, relay, 'fresh', freshToken);
    assertFreshSummary(j1.features.board);
    await f1.leave();
    const [, j2] = await joinAs(ctx, relay, 'fresh', freshToken);
    assertFreshSummary(j2.features.board);
    assert.notEqual(j2.features.board.id, j1.features.board.id, 'an unchanged board gets a new id each time its room starts afresh');
  });
});

// ---------------------------------------------------------------- 8. requests that change nothing

test('whiteboard: a request that would leave the board as it was gets ack and no board_op', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'noop';
    const [ada] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    const [bob] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'bob', name: 'Bob' }));
    const log = new OpLog([ada, bob]);
    await log.step(ada, 'ada', { type: 'board_add_page', page: 'p2' });
    await log.step(ada, 'ada', { type: 'board_set_access', access: { everyone: true } });
    await caughtUp(ada, log.seq);

    // "A request that would leave the board as it was (board_clear of an empty page,
    // board_move_page to where the page already is, board_keep_page of an ordinary page,
    // board_set_access with the access the board already has) gets ack and nothing else:
    // it takes no seq, is not stored and is sent to no one".
    const unchanged = async (frame) => {
      const request_id = `n-${frame.type}-${frame.index ?? ''}`;
      try {
        assert.deepEqual(await ada.act({ ...frame, request_id }), { type: 'ack', request_id });
        await settle(ada, bob);
        const sent = [...ada.pending('board_op'), ...bob.pending('board_op')];
        assert.deepEqual(sent.map((f) => f.change), [], `${JSON.stringify(frame)}: no board_op`);
      } finally {
        // Keep the count right for what follows, whatever the relay did.
        await settle(ada, bob);
        for (const op of ada.pending('board_op')) {
          ada.waitFor((f) => f === op);
          log.seq = Math.max(log.seq, op.seq);
        }
        for (const op of bob.pending('board_op')) bob.waitFor((f) => f === op);
      }
    };
    await t.test('board_clear of an empty page', () => unchanged({ type: 'board_clear', page: 'p2' }));
    await t.test('board_move_page to where the page already is', () => unchanged({ type: 'board_move_page', page: 'page-1', index: 0 }));
    await t.test('board_move_page of the last page past the end', () => unchanged({ type: 'board_move_page', page: 'p2', index: 40 }));
    await t.test('board_keep_page of an ordinary page', () => unchanged({ type: 'board_keep_page', page: 'page-1' }));
    await t.test('board_set_access with the access the board already has', () => unchanged({ type: 'board_set_access', access: { everyone: true, drawers: [] } }));

    // No seq was taken: the next change is the next number.
    await log.step(bob, 'bob', { type: 'board_add', page: 'p2', object: rect('b:1', [0, 0], [10, 10]) });
    await caughtUp(ada, log.seq);
    await caughtUp(bob, log.seq);
    assertSameBoards(ada, [bob]);
    const [, catJoined] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'cat', name: 'Cat' }));
    assert.deepEqual(catJoined.features.board, summaryOf(ada.board.board));
  });
});

// ---------------------------------------------------------------- limits that take many requests

/**
 * Draw `objects` on `page`, spread over fresh host identities so that no connection goes
 * over the rates (each identity has its own buckets): each joins, draws its share, leaves.
 */
async function drawMany(ctx, relay, dir, room, prefix, page, objects, perIdentity = 35) {
  const tokens = await Promise.all(
    Array.from({ length: Math.ceil(objects.length / perIdentity) }, (_, i) => mintToken(dir, { room, identity: `${prefix}${i}`, name: `Drawer ${i}`, host: true })),
  );
  for (const [i, token] of tokens.entries()) {
    const [c] = await joinAs(ctx, relay, room, token);
    await Promise.all(objects.slice(i * perIdentity, (i + 1) * perIdentity).map((object) => c.act({ type: 'board_add', page, object }, 20_000)));
    c.close();
    await c.waitClose();
  }
}

test('whiteboard: objects_per_page and board_bytes', { timeout: LONG_TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);

    await t.test('objects_per_page: 2000 objects on a page; the 2001st is limit_reached, another page takes it', async () => {
      const room = 'crowded';
      const [ada] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
      await ada.act({ type: 'board_add_page', page: 'p2' });
      const lines = Array.from({ length: 1999 }, (_, i) => line(`l:${i}`, [i, 0], [i, 100]));
      await drawMany(ctx, relay, dir, room, 'd', 'page-1', lines);
      await ada.act({ type: 'board_add', page: 'page-1', object: line('l:last', [0, 0], [1, 1]) });
      await caughtUp(ada, 2001);
      assert.equal(ada.board.board.pages[0].objects.length, 2000);
      const over = await ada.request({ type: 'board_add', page: 'page-1', object: line('l:over', [0, 0], [1, 1]), request_id: 'over' });
      assertLimit(over, 'objects_per_page', 'over');
      await ada.act({ type: 'board_add', page: 'p2', object: line('l:over', [0, 0], [1, 1]) });
      await caughtUp(ada, 2002);
      assert.deepEqual(ada.board.board.pages.map((p) => p.objects.length), [2000, 1]);
      assert.deepEqual(ada.board.problems, []);
    });

    await t.test('board_bytes: 8 MiB of objects, counted as their compact JSON with author', async () => {
      const room = 'heavy';
      const [ada] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
      // Strokes of 2000 points whose numbers are as long as they can be: ~34 KB each.
      const heavy = (i) => pen(`h:${String(i).padStart(4, '0')}`, Array.from({ length: 2000 }, (_, k) => [15000 + ((i + k) % 1000), 8000 + ((i * 7 + k) % 1000), 100]));
      const probe = jsonBytes(stored(heavy(0), 'hh00'));
      const fit = Math.floor(8388608 / probe);
      await drawMany(ctx, relay, dir, room, 'hh', 'page-1', Array.from({ length: fit - 5 }, (_, i) => heavy(i)), 40);
      let i = fit - 5;
      let reply;
      for (;;) {
        reply = await ada.request({ type: 'board_add', page: 'page-1', object: heavy(i) }, 20_000);
        if (reply.type !== 'ack') break;
        i++;
        assert.ok(i < fit + 5, 'the limit comes where the doc puts it');
      }
      assertLimit(reply, 'board_bytes');
      await ada.waitUntil(() => ada.board.board.pages[0].objects.length === i, 10_000, 'every accepted stroke');
      const total = ada.board.board.pages.flatMap((p) => p.objects).reduce((n, o) => n + jsonBytes(o), 0);
      const next = jsonBytes(stored(heavy(i), 'ada'));
      t.diagnostic(`board_bytes: ${i} strokes, ${total} bytes; the next (${next} bytes) was refused`);
      assert.ok(total <= 8388608, `what was accepted fits: ${total}`);
      assert.ok(total + next > 8388608, `what was refused would not fit: ${total} + ${next}`);
      await ada.act({ type: 'board_add', page: 'page-1', object: line('tiny', [0, 0], [1, 1]) }).catch((e) => {
        // A tiny object may or may not still fit; either way the error names the limit.
        assertLimit(e.frame, 'board_bytes');
      });
    });
  });
});

// ---------------------------------------------------------------- rates

test('whiteboard: board requests beyond the rate are not done', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'rates';
    const [ada, joined] = await joinAndSync(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    const { messages_per_second: rate, message_burst: burst } = joined.limits;
    t.diagnostic(`signaling rate ${rate}/s, burst ${burst}; whiteboard changes 20/s, burst 40`);
    await sleep(3000); // let the buckets fill again after joining and syncing

    // 60 board requests at once (each one counts against both the signaling rate and the
    // whiteboard's own). Whatever refuses them, a refused one is "not done": no ack, no op.
    const n = 60;
    for (let i = 0; i < n; i++) {
      ada.send({ type: 'board_add', page: 'page-1', object: line(`r:${i}`, [i, 0], [i, 10]), request_id: `burst-${i}` });
    }
    await sleep(1500);
    await settle(ada);
    const acks = ada.frames.filter((f) => f.type === 'ack' && f.request_id.startsWith('burst-'));
    const errors = ada.frames.filter((f) => f.type === 'error');
    const ops = ada.frames.filter((f) => f.type === 'board_op');
    t.diagnostic(`${acks.length} acks, errors: ${JSON.stringify(errors)}`);
    assert.ok(acks.length < n, 'some are refused');
    assert.equal(ops.length, acks.length, `exactly the acked ones were done: ${ops.length} ops, ${acks.length} acks`);
    for (const e of errors) {
      assert.equal(e.code, 'rate_limited', JSON.stringify(e));
      assert.equal(e.fatal, false);
      assert.ok(Number.isSafeInteger(e.retry_after_ms) && e.retry_after_ms >= 0, `retry_after_ms: ${JSON.stringify(e)}`);
    }
    // Every board request is also a frame. The whiteboard's own limit (burst 40) is
    // tighter than the signaling rate (burst 50): the first 40 are done, the next ones
    // up to the 50th frame are refused by the whiteboard's limit, each with its
    // rate_limited naming its request_id, and frames past the 50th are dropped by the
    // signaling rate, whose rate_limited carries no request_id, at most one a second.
    const ownLimit = errors.filter((e) => e.request_id !== undefined);
    const signaling = errors.filter((e) => e.request_id === undefined);
    const seen = `acked ${acks.length}, errors ${JSON.stringify(errors)}`;
    assert.ok(acks.length >= 40 && acks.length < burst, `the whiteboard's burst is done, not more: ${seen}`);
    assert.ok(ownLimit.length > 0, `the whiteboard's own limit is reached first: ${seen}`);
    for (const e of ownLimit) {
      assert.match(e.request_id, /^burst-\d+$/, seen);
      // It names the whiteboard's limit, not the signaling rate's "too many messages".
      assert.match(e.message, /^ops_per_second: /, seen);
      assert.match(e.message, /per second/, seen);
    }
    assert.ok(signaling.length <= 1, `at most one rate_limited without request_id for the frames dropped in that second: ${seen}`);
    assert.ok(rate === 20 && burst === 50, 'the default signaling rate');
    // Sent again after the wait, it is done.
    await sleep(3000);
    const again = acks.length;
    await ada.act({ type: 'board_add', page: 'page-1', object: line(`r:again`, [0, 0], [1, 1]) });
    await caughtUp(ada, again + 1);
    assert.equal(ada.closeInfo, null);
  });
});

// ---------------------------------------------------------------- how much a reconnect gets

/** Send a raw board_sync and say what came: {ops, synced, parts}. */
async function probeSync(c, board, since) {
  const request_id = c.requestId('probe');
  const mark = c.frames.length;
  const reply = await c.request({ type: 'board_sync', board, since, request_id }, 20_000);
  assert.deepEqual(reply, { type: 'ack', request_id });
  const got = c.frames.slice(mark);
  return {
    ops: got.filter((f) => f.type === 'board_op').map((f) => f.seq),
    synced: got.filter((f) => f.type === 'board_synced'),
    parts: got.filter((f) => f.type === 'board_snapshot').length,
  };
}

test('whiteboard: the relay holds the last 500 changes; after a restart, those since the board was stored whole', { timeout: LONG_TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    let relay = await ctx.relay(dir);
    const room = 'history';
    const token = await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true });
    const [ada] = await joinAndSync(ctx, relay, room, token);
    const total = 1011;
    await drawMany(ctx, relay, dir, room, 'w', 'page-1', Array.from({ length: total }, (_, i) => line(`w:${i}`, [i, 0], [i, 10])));
    await caughtUp(ada, total, 20_000);
    const id = ada.board.board.id;
    const [probe] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'probe', name: 'Probe' }));
    probe.ignoreBoard();

    await t.test('since = seq - 500: the 500 missed ops, then board_synced', async () => {
      const got = await probeSync(probe, id, total - 500);
      assert.equal(got.parts, 0, `the whole board came (${got.parts} part) instead of the missed ops`);
      assert.deepEqual(got.ops, Array.from({ length: 500 }, (_, i) => total - 499 + i));
      assert.deepEqual(got.synced, [{ type: 'board_synced', board: id, seq: total }]);
    });
    await t.test('since = seq - 501: the whole board', async () => {
      const got = await probeSync(probe, id, total - 501);
      assert.ok(got.parts >= 1, 'snapshot parts');
      assert.deepEqual(got.ops, []);
      assert.deepEqual(got.synced, []);
    });

    // Restart. 1011 changes: stored whole every 300, last at 900, so it holds 901..1011.
    relay.child.kill('SIGTERM');
    await ada.waitClose(5000);
    await relay.exited;
    relay = await ctx.relay(dir);
    const [probe2, j] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'probe', name: 'Probe' }));
    probe2.ignoreBoard();
    assert.equal(j.features.board.id, id);
    assert.equal(j.features.board.seq, total);
    // "the relay stores it whole every 300 changes": at seq 300, 600 and 900 here.
    await t.test('after a restart, the changes since the last whole store (900) come as ops', async () => {
      const got = await probeSync(probe2, id, 900);
      assert.equal(got.parts, 0);
      assert.deepEqual(got.ops, Array.from({ length: total - 900 }, (_, i) => 901 + i));
      assert.deepEqual(got.synced, [{ type: 'board_synced', board: id, seq: total }]);
    });
    await t.test('after a restart, a change from before the last whole store is missed: the whole board', async () => {
      const got = await probeSync(probe2, id, 899);
      assert.ok(got.parts >= 1, 'snapshot parts');
      assert.deepEqual(got.ops, []);
      assert.deepEqual(got.synced, []);
    });
  });
});
