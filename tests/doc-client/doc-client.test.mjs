// End-to-end tests of studyhall-relay, written only from docs/protocol.md.
//
// Each test starts its own relay on a free port with a fresh data dir, and mints its
// tokens with `studyhall-relay token ... --data-dir SAME_DIR` (see harness.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ProtocolError, tokenClaims } from './client.mjs';
import {
  TEST_TIMEOUT,
  httpGet,
  mintToken,
  withCleanup,
  joinAs,
  assertError,
  settle,
  assertForbidden,
  assertBadField,
} from './harness.mjs';

/** Assert that a ChatMessage has every documented field with the right type. */
function assertChatMessage(m) {
  assert.equal(typeof m.seq, 'number');
  assert.ok(Number.isSafeInteger(m.seq) && m.seq >= 1);
  assert.equal(typeof m.from, 'string');
  assert.equal(typeof m.name, 'string');
  assert.equal(typeof m.text, 'string');
  assert.ok(Number.isSafeInteger(m.ts));
  assert.equal(typeof m.client_msg_id, 'string');
  assert.equal(typeof m.deleted, 'boolean');
}

function assertParticipant(p) {
  assert.equal(typeof p.identity, 'string');
  assert.equal(typeof p.name, 'string');
  assert.ok(['host', 'presenter', 'member'].includes(p.role), `role: ${p.role}`);
  for (const g of ['join', 'publish', 'subscribe', 'chat', 'host']) assert.equal(typeof p.grants[g], 'boolean', `grant ${g}`);
  for (const m of ['mic', 'camera', 'screen']) assert.equal(typeof p.media[m], 'boolean', `media ${m}`);
  assert.ok(['active', 'away', 'on_break'].includes(p.presence), `presence ${p.presence}`);
  assert.ok(Number.isSafeInteger(p.joined_at));
}

// ---------------------------------------------------------------- scenario 1

test('two users: presence, chat order, acks, retries, media', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'algebra';

    // GET / describes the relay.
    const root = await httpGet(`${relay.http}/`);
    assert.equal(root.status, 200);
    const info = JSON.parse(root.body);
    assert.equal(info.name, 'studyhall-relay');
    assert.equal(info.protocol, 1);
    assert.equal(info.websocket, '/ws');
    assert.equal(info.shutting_down, false);

    const adaToken = await mintToken(dir, { room, identity: 'ada', name: 'Ada Lovelace', host: true, ttl: '2h' });
    const bobToken = await mintToken(dir, { room, identity: 'bob', name: 'Bob' });
    assert.equal(tokenClaims(adaToken).room, room, 'room readable from the token');
    assert.equal(tokenClaims(adaToken).sub, 'ada');

    // Ada joins first, camera on.
    const [ada, adaJoined] = await joinAs(ctx, relay, room, adaToken, {
      request_id: 'j1',
      media: { mic: false, camera: true, screen: false },
    });
    assert.equal(ada.frames[0].type, 'joined', 'joined is the first message');
    assert.equal(adaJoined.request_id, 'j1');
    assert.equal(adaJoined.protocol, 1);
    assert.equal(typeof adaJoined.server_version, 'string');
    assert.equal(adaJoined.room, room);
    assertParticipant(adaJoined.you);
    assert.equal(adaJoined.you.identity, 'ada');
    assert.equal(adaJoined.you.name, 'Ada Lovelace');
    assert.equal(adaJoined.you.role, 'host');
    assert.equal(adaJoined.you.grants.host, true);
    assert.deepEqual(adaJoined.you.media, { mic: false, camera: true, screen: false });
    assert.equal(adaJoined.you.presence, 'active');
    assert.deepEqual(adaJoined.participants.map((p) => p.identity), ['ada']);
    assert.deepEqual(adaJoined.chat, { messages: [], has_more: false });
    for (const k of ['max_message_bytes', 'max_sdp_message_bytes', 'max_chat_bytes', 'messages_per_second', 'message_burst', 'chat_per_second', 'chat_burst', 'max_room_size', 'max_history_page']) {
      assert.equal(typeof adaJoined.limits[k], 'number', `limits.${k}`);
    }
    assert.equal(typeof adaJoined.heartbeat.interval_ms, 'number');
    assert.equal(typeof adaJoined.heartbeat.timeout_ms, 'number');

    // Bob joins (no media given: all off).
    const [bob, bobJoined] = await joinAs(ctx, relay, room, bobToken);
    assert.equal(bobJoined.you.identity, 'bob');
    assert.equal(bobJoined.you.role, 'member');
    assert.equal(bobJoined.you.grants.host, false);
    assert.deepEqual(bobJoined.you.media, { mic: false, camera: false, screen: false });
    assert.deepEqual(bobJoined.participants.map((p) => p.identity).sort(), ['ada', 'bob']);
    bobJoined.participants.forEach(assertParticipant);
    const adaSeenByBob = bobJoined.participants.find((p) => p.identity === 'ada');
    assert.equal(adaSeenByBob.role, 'host');
    assert.deepEqual(adaSeenByBob.media, { mic: false, camera: true, screen: false });

    const pj = await ada.waitForType('participant_joined');
    assertParticipant(pj.participant);
    assert.equal(pj.participant.identity, 'bob');
    assert.equal(pj.participant.name, 'Bob');
    assert.equal(pj.participant.role, 'member');

    // Chat both ways.
    const ack1 = await ada.chat('a-1', 'hello bob');
    const ack2 = await bob.chat('b-1', 'hi ada');
    const ack3 = await ada.chat('a-2', 'shall we start?');
    for (const [ack, id] of [[ack1, 'a-1'], [ack2, 'b-1'], [ack3, 'a-2']]) {
      assert.equal(ack.type, 'chat_ack');
      assert.equal(ack.client_msg_id, id);
      assert.equal(ack.duplicate, false);
      assert.ok(Number.isSafeInteger(ack.ts));
    }
    assert.ok(ack1.seq < ack2.seq && ack2.seq < ack3.seq, 'acks carry increasing seq');
    assert.deepEqual([ack1.seq, ack2.seq, ack3.seq], [1, 2, 3], 'a new room counts 1, 2, 3 without holes');

    const collect = async (c, n) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push((await c.waitForType('chat_message')).message);
      return out;
    };
    const adaMsgs = await collect(ada, 3);
    const bobMsgs = await collect(bob, 3);
    [...adaMsgs, ...bobMsgs].forEach(assertChatMessage);
    assert.deepEqual(adaMsgs, bobMsgs, 'both receive the same chat_messages in the same order');
    assert.deepEqual(adaMsgs.map((m) => m.seq), [1, 2, 3]);
    assert.deepEqual(adaMsgs.map((m) => [m.from, m.name, m.text, m.client_msg_id, m.deleted]), [
      ['ada', 'Ada Lovelace', 'hello bob', 'a-1', false],
      ['bob', 'Bob', 'hi ada', 'b-1', false],
      ['ada', 'Ada Lovelace', 'shall we start?', 'a-2', false],
    ]);
    assert.equal(adaMsgs[0].ts, ack1.ts, 'chat_message.ts equals the ack ts');

    // Retry of the same client_msg_id: duplicate, same seq and ts, no new broadcast.
    const dup = await ada.chat('a-1', 'hello bob');
    assert.equal(dup.duplicate, true);
    assert.equal(dup.seq, ack1.seq);
    assert.equal(dup.ts, ack1.ts);
    // Different senders may reuse each other's ids.
    const bobReuse = await bob.chat('a-1', 'my own a-1');
    assert.equal(bobReuse.duplicate, false);
    assert.equal(bobReuse.seq, 4);
    const next = await bob.waitForType('chat_message');
    assert.equal(next.message.seq, 4, 'the duplicate was not broadcast again');
    assert.equal((await ada.waitForType('chat_message')).message.seq, 4);

    // set_media: the other side sees participant_updated with the whole participant.
    bob.send({ type: 'set_media', mic: true });
    const upAda = await ada.waitForType('participant_updated');
    assertParticipant(upAda.participant);
    assert.equal(upAda.participant.identity, 'bob');
    assert.deepEqual(upAda.participant.media, { mic: true, camera: false, screen: false });
    const upBob = await bob.waitForType('participant_updated', 5000, (f) => f.participant.identity === 'bob');
    assert.deepEqual(upBob.participant.media, { mic: true, camera: false, screen: false }, 'the subject gets it too');

    // Same state again: nothing is sent (checked by a ping round trip on that socket).
    bob.send({ type: 'set_media', mic: true });
    await bob.ping(9);
    assert.equal(bob.pending('participant_updated').length, 0, 'no participant_updated when nothing changed');

    // Presence change is broadcast the same way.
    ada.send({ type: 'set_presence', presence: 'away' });
    const pres = await bob.waitForType('participant_updated', 5000, (f) => f.participant.identity === 'ada');
    assert.equal(pres.participant.presence, 'away');

    // Leave: left (request_id echoed), close 1000, the other gets participant_left "left".
    const { left, close } = await ada.leave();
    assert.equal(left.type, 'left');
    assert.equal(close.code, 1000);
    const pl = await bob.waitForType('participant_left');
    assert.equal(pl.identity, 'ada');
    assert.equal(pl.reason, 'left');

    assert.deepEqual(ada.badFrames, []);
    assert.deepEqual(bob.badFrames, []);
  });
});

// ---------------------------------------------------------------- scenario 2

test('history survives a restart; SIGTERM sends shutdown and close 1001', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const room = 'physics';
    let relay = await ctx.relay(dir);

    const oldToken = await mintToken(dir, { room, identity: 'ada', name: 'Ada' });
    const [ada] = await joinAs(ctx, relay, room, oldToken);
    const texts = ['first', 'second', 'third'];
    const acks = [];
    for (const [i, t] of texts.entries()) acks.push(await ada.chat(`m-${i + 1}`, t));
    assert.deepEqual(acks.map((a) => a.seq), [1, 2, 3]);

    // SIGTERM: `shutdown` then close 1001; the process exits by itself.
    relay.child.kill('SIGTERM');
    const shutdown = await ada.waitForType('shutdown', 5000);
    assert.equal(typeof shutdown.reason, 'string');
    assert.ok(Number.isSafeInteger(shutdown.retry_after_ms) && shutdown.retry_after_ms >= 0, 'retry_after_ms');
    const close = await ada.waitClose(5000);
    assert.equal(close.code, 1001, 'close 1001 after shutdown');
    let exitTimer;
    const exit = await Promise.race([
      relay.exited,
      new Promise((r) => (exitTimer = setTimeout(() => r(null), 8000))),
    ]);
    clearTimeout(exitTimer);
    assert.ok(exit, 'relay exits on its own within 8 s of SIGTERM');
    assert.equal(exit.code, 0, `relay exit status after SIGTERM: ${JSON.stringify(exit)}`);

    // Start again on the same data dir.
    relay = await ctx.relay(dir);

    // The old token still works (the secret is kept in the data dir).
    const [ada2, joined2] = await joinAs(ctx, relay, room, oldToken);
    assert.deepEqual(
      joined2.chat.messages.map((m) => [m.seq, m.from, m.text, m.client_msg_id, m.deleted]),
      [
        [1, 'ada', 'first', 'm-1', false],
        [2, 'ada', 'second', 'm-2', false],
        [3, 'ada', 'third', 'm-3', false],
      ],
    );
    assert.equal(joined2.chat.has_more, false);
    joined2.chat.messages.forEach(assertChatMessage);
    assert.deepEqual(joined2.chat.messages.map((m) => m.ts), acks.map((a) => a.ts), 'ts as stored');

    // A fresh token from the CLI works as well.
    const newToken = await mintToken(dir, { room, identity: 'bob', name: 'Bob' });
    const [bob, joinedB] = await joinAs(ctx, relay, room, newToken);
    assert.deepEqual(joinedB.chat.messages.map((m) => m.text), texts);

    // Page backwards with chat_history.
    const newest = await bob.history({ limit: 2 });
    assert.equal(newest.type, 'chat_page');
    assert.deepEqual(newest.messages.map((m) => m.seq), [2, 3], 'newest page, oldest first');
    assert.equal(newest.has_more, true);
    const older = await bob.history({ before_seq: 2, limit: 2 });
    assert.deepEqual(older.messages.map((m) => m.seq), [1]);
    assert.equal(older.has_more, false);
    const one = await bob.history({ before_seq: 3, limit: 1, request_id: 'h2' });
    assert.equal(one.request_id, 'h2');
    assert.deepEqual(one.messages.map((m) => m.text), ['second']);
    assert.equal(one.has_more, true);
    // limit 0 is a bad_message (not fatal).
    const zero = await bob.request({ type: 'chat_history', limit: 0 });
    assertError(zero, 'bad_message', false);

    // A retry after the restart is still recognised; the sequence keeps counting.
    const retry = await ada2.chat('m-2', 'second');
    assert.equal(retry.duplicate, true);
    assert.equal(retry.seq, 2);
    const fourth = await ada2.chat('m-4', 'fourth');
    assert.equal(fourth.duplicate, false);
    assert.equal(fourth.seq, 4);
  });
});

// ---------------------------------------------------------------- scenario 3

test('refusals: wrong room, bad token, not joined, forbidden, unknown type', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'algebra';
    const adaToken = await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true });
    const bobToken = await mintToken(dir, { room, identity: 'bob', name: 'Bob' });
    const otherRoomToken = await mintToken(dir, { room: 'chemistry', identity: 'eve', name: 'Eve' });

    // A token for another room.
    {
      const c = await ctx.connect(relay);
      await assert.rejects(c.join({ room, token: otherRoomToken, request_id: 'jw' }), (e) => {
        assert.ok(e instanceof ProtocolError);
        assertError(e.frame, 'token_wrong_room', true, 'jw');
        return true;
      });
      assert.equal((await c.waitClose()).code, 4001);
    }

    // A garbage token.
    {
      const c = await ctx.connect(relay);
      await assert.rejects(c.join({ room, token: 'garbage.not-a.jwt', request_id: 'jg' }), (e) => {
        assertError(e.frame, 'token_invalid', true, 'jg');
        return true;
      });
      assert.equal((await c.waitClose()).code, 4001);
    }

    // First message is not `join`.
    {
      const c = await ctx.connect(relay);
      c.send({ type: 'ping', nonce: 1, request_id: 'p0' });
      const err = await c.waitForType('error');
      assertError(err, 'not_joined', true);
      assert.equal((await c.waitClose()).code, 4002);
      assert.equal(c.pending('pong').length, 0);
    }

    // A frame that is not JSON before join.
    {
      const c = await ctx.connect(relay);
      c.sendRaw('this is not json');
      assertError(await c.waitForType('error'), 'bad_message', true);
      assert.equal((await c.waitClose()).code, 4002);
    }

    // Joined clients.
    const [ada] = await joinAs(ctx, relay, room, adaToken);
    const [bob] = await joinAs(ctx, relay, room, bobToken);
    const ack = await ada.chat('a-1', 'a message');
    assert.equal(ack.seq, 1);

    // Non-host chat_delete: forbidden, not fatal.
    const forb = await bob.request({ type: 'chat_delete', seq: ack.seq, request_id: 'd1' });
    assertError(forb, 'forbidden', false, 'd1');
    assert.equal((await bob.ping(5)).nonce, 5, 'still usable after forbidden');

    // Unknown type: unknown_type (echoing request_id), the connection stays open; ping
    // still gets its pong.
    bob.send({ type: 'frobnicate', request_id: 'u1' });
    assertError(await bob.waitForType('error'), 'unknown_type', false, 'u1');
    const pong = await bob.ping(42);
    // `request_id` only if the ping had one; `time` always (the relay's clock).
    assert.deepEqual(Object.keys(pong).sort(), ['nonce', 'time', 'type']);
    assert.equal(pong.nonce, 42);
    assert.ok(Number.isSafeInteger(pong.time), `pong.time: ${JSON.stringify(pong)}`);
    // Reserved media types are unknown to a relay without media.
    bob.send({ type: 'media_offer', request_id: 'mo' });
    assertError(await bob.waitForType('error'), 'unknown_type', false);
    assert.equal((await bob.ping(43)).nonce, 43);
    // ping without nonce
    bob.send({ type: 'ping' });
    const bare = await bob.waitForType('pong');
    assert.equal(bare.nonce, undefined);

    // The host may delete; the host gets `ack`, everyone gets chat_deleted; history
    // shows it deleted.
    assert.deepEqual(await ada.act({ type: 'chat_delete', seq: ack.seq, request_id: 'd2' }), { type: 'ack', request_id: 'd2' });
    const del = await ada.waitForType('chat_deleted');
    assert.equal(del.seq, 1);
    const seenByBob = await bob.waitForType('chat_deleted');
    assert.equal(seenByBob.seq, 1);
    assert.equal(seenByBob.deleted_by, 'ada');
    const page = await bob.history();
    assert.equal(page.messages[0].deleted, true);
    assert.equal(page.messages[0].text, '');
    assertError(await ada.request({ type: 'chat_delete', seq: 99 }), 'not_found', false);

    // Both still in the room.
    assert.equal(bob.closeInfo, null);
    assert.equal(ada.closeInfo, null);
  });
});

// ---------------------------------------------------------------- error details
//
// Statements of docs/protocol.md about errors that the relay first did not follow (found
// while writing this client, then fixed in the relay).

test('errors follow the doc to the letter', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'algebra';
    const token = await mintToken(dir, { room, identity: 'ada', name: 'Ada' });
    const [ada] = await joinAs(ctx, relay, room, token);

    // "If it is there, the reply the frame causes echoes it, and so does any error it causes."
    await t.test('errors echo request_id (unknown_type)', async () => {
      ada.send({ type: 'frobnicate', request_id: 'u1' });
      assertError(await ada.waitForType('error'), 'unknown_type', false, 'u1');
    });
    await t.test('errors echo request_id (bad_message for a mistyped field)', async () => {
      ada.send({ type: 'ping', nonce: 'abc', request_id: 'p1' });
      assertError(await ada.waitForType('error'), 'bad_message', false, 'p1');
    });

    // "`unknown_type` ... `type` is not a message this relay knows"; "`bad_message` ... or an invalid field"
    await t.test('an invalid presence value is bad_message, not unknown_type', async () => {
      ada.send({ type: 'set_presence', presence: 'sleeping' });
      assertError(await ada.waitForType('error'), 'bad_message', false);
    });

    // "A client frame may also carry "request_id": a string of 1–64 bytes with no control
    // characters. ... A bad `request_id` gets the error `invalid_id`."
    await t.test('a join with a bad request_id gets invalid_id', async () => {
      const c = await ctx.connect(relay);
      const other = await mintToken(dir, { room, identity: 'bob', name: 'Bob' });
      c.send({ type: 'join', room, token: other, protocol: 1, request_id: '' });
      const reply = await c.waitFor(() => true);
      assertError(reply, 'invalid_id', true);
    });

    // After join a bad request_id is refused the same way, without closing.
    await t.test('a ping with a bad request_id gets invalid_id', async () => {
      ada.send({ type: 'ping', nonce: 1, request_id: 'x'.repeat(65) });
      assertError(await ada.waitForType('error'), 'invalid_id', false);
    });
  });
});

// ---------------------------------------------------------------- acks, grants, raise hand
//
// What docs/protocol.md says about the generic `ack`, the grant table, room features and
// raise hand.

/** The identities of a list of RaisedHands, in order. */
const who = (hands) => hands.map((h) => h.identity);

/** Assert that a RaisedHand has every documented field with the right type. */
function assertRaisedHand(h) {
  assert.equal(typeof h.identity, 'string');
  assert.ok(Number.isSafeInteger(h.raised_at), `raised_at: ${JSON.stringify(h)}`);
}

/**
 * Wait for the next `hand_queue` on every client and check that all of them got the same
 * one: `hands` with these identities in this order, and `by` (undefined: absent).
 * Returns the frame.
 */
async function expectHandQueue(clients, identities, by) {
  const frames = [];
  for (const c of clients) frames.push(await c.waitForType('hand_queue'));
  for (const f of frames) {
    assert.ok(Array.isArray(f.hands), `hand_queue.hands: ${JSON.stringify(f)}`);
    f.hands.forEach(assertRaisedHand);
    assert.deepEqual(who(f.hands), identities, `hand_queue order: ${JSON.stringify(f)}`);
    if (by === undefined) assert.ok(!('by' in f), `hand_queue has no \`by\` when the relay changed it: ${JSON.stringify(f)}`);
    else assert.equal(f.by, by, `hand_queue.by: ${JSON.stringify(f)}`);
    assert.ok(!('request_id' in f), 'broadcasts never carry request_id');
    assert.deepEqual(f, frames[0], 'everyone gets the same hand_queue');
  }
  return frames[0];
}


test('generic ack: requests with a request_id get ack, without one none', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'algebra';
    const [ada] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    const [bob] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'bob', name: 'Bob' }));
    await ada.waitForType('participant_joined');
    const bobUpdated = (c) => c.waitForType('participant_updated', 5000, (f) => f.participant.identity === 'bob');
    const adaUpdated = (c) => c.waitForType('participant_updated', 5000, (f) => f.participant.identity === 'ada');

    // set_media with a request_id: `{"type":"ack","request_id":…}` and the broadcast.
    assert.deepEqual(await bob.act({ type: 'set_media', mic: true, request_id: 'm1' }), { type: 'ack', request_id: 'm1' });
    assert.equal((await bobUpdated(ada)).participant.media.mic, true);
    assert.equal((await bobUpdated(bob)).participant.media.mic, true);

    // Changing nothing still gets ack, and no broadcast.
    assert.deepEqual(await bob.act({ type: 'set_media', mic: true, request_id: 'm2' }), { type: 'ack', request_id: 'm2' });
    await settle(ada, bob);
    assert.deepEqual(ada.pending('participant_updated'), [], 'no broadcast when nothing changed');
    assert.deepEqual(bob.pending('participant_updated'), []);

    // Without a request_id: the broadcast, but no ack.
    bob.send({ type: 'set_media', mic: false });
    assert.equal((await bobUpdated(ada)).participant.media.mic, false);
    assert.equal((await bobUpdated(bob)).participant.media.mic, false);
    await settle(bob);
    assert.deepEqual(bob.pending('ack'), [], 'no ack without a request_id');

    // set_presence acks the same way.
    assert.deepEqual(await ada.act({ type: 'set_presence', presence: 'on_break', request_id: 's1' }), { type: 'ack', request_id: 's1' });
    assert.equal((await adaUpdated(bob)).participant.presence, 'on_break');
    assert.equal((await adaUpdated(ada)).participant.presence, 'on_break');
    assert.deepEqual(await ada.act({ type: 'set_presence', presence: 'on_break', request_id: 's2' }), { type: 'ack', request_id: 's2' });
    await settle(ada, bob);
    assert.deepEqual(bob.pending('participant_updated'), [], 'same presence again: no broadcast');
    ada.send({ type: 'set_presence', presence: 'active' });
    assert.equal((await adaUpdated(bob)).participant.presence, 'active');
    assert.equal((await adaUpdated(ada)).participant.presence, 'active');
    await settle(ada);
    assert.deepEqual(ada.pending('ack'), [], 'set_presence without a request_id: no ack');

    // A request that fails gets its error, and no ack.
    assertError(await bob.request({ type: 'set_presence', presence: 'sleeping', request_id: 's9' }), 'bad_message', false, 's9');
    await settle(bob);
    assert.deepEqual(bob.pending('ack'), []);

    // kick: the host gets ack; the kicked one `kicked` and close 4003; the others
    // participant_left "kicked".
    const [cat] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'cat', name: 'Cat' }));
    assert.deepEqual(await ada.act({ type: 'kick', identity: 'cat', reason: 'testing', request_id: 'k1' }), { type: 'ack', request_id: 'k1' });
    const kicked = await cat.waitForType('kicked');
    assert.equal(kicked.by, 'ada');
    assert.equal(kicked.reason, 'testing');
    assert.equal((await cat.waitClose()).code, 4003);
    for (const c of [ada, bob]) {
      const pl = await c.waitForType('participant_left', 5000, (f) => f.identity === 'cat');
      assert.equal(pl.reason, 'kicked');
    }

    // end_room: "The host first gets ack. Then each participant gets room_ended and close 4012".
    ada.send({ type: 'end_room', request_id: 'e1' });
    assert.equal((await ada.waitClose()).code, 4012);
    const ackAt = ada.frames.findIndex((f) => f.type === 'ack' && f.request_id === 'e1');
    const endedAt = ada.frames.findIndex((f) => f.type === 'room_ended');
    assert.ok(ackAt >= 0, `end_room is acked: ${JSON.stringify(ada.frames)}`);
    assert.ok(endedAt > ackAt, 'the ack comes before room_ended');
    assert.equal(ada.frames[endedAt].by, 'ada');
    assert.equal((await bob.waitForType('room_ended')).by, 'ada');
    assert.equal((await bob.waitClose()).code, 4012);
  });
});

test('grant table: forbidden names the grant, and nothing else happens', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'algebra';
    const [ada] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    const [bob] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'bob', name: 'Bob' }));
    // eve may join and receive, nothing more.
    const [eve, eveJoined] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'eve', name: 'Eve', grants: 'join,subscribe' }));
    assert.deepEqual(eveJoined.you.grants, { join: true, publish: false, subscribe: true, chat: false, host: false });
    const seq = (await ada.chat('a-1', 'something')).seq;

    // Raising a hand needs no grant ("any other: none; a joined socket is enough").
    await eve.raiseHand();
    await expectHandQueue([ada, bob, eve], ['eve'], 'eve');

    // A member's host-only requests: forbidden naming `host`, not fatal.
    const hostOnly = [
      { type: 'kick', identity: 'eve' },
      { type: 'chat_delete', seq },
      { type: 'end_room' },
      { type: 'lower_hand_of', identity: 'eve' },
    ];
    for (const frame of hostOnly) {
      const request_id = `f-${frame.type}`;
      assertForbidden(await bob.request({ ...frame, request_id }), 'host', request_id);
    }
    // The rest of the room sees nothing of it.
    await settle(ada, bob, eve);
    for (const c of [ada, bob, eve]) {
      for (const type of ['participant_left', 'kicked', 'chat_deleted', 'room_ended', 'hand_queue', 'ack']) {
        assert.deepEqual(c.pending(type), [], `a forbidden request causes no ${type}`);
      }
    }
    assert.equal(eve.closeInfo, null, 'eve was not kicked');
    assert.deepEqual(who(ada.hands), ['eve'], "eve's hand is still up");
    assert.equal((await ada.history()).messages[0].deleted, false, 'the message was not deleted');

    // chat_send needs `chat`; reading history needs no grant.
    assertForbidden(await eve.request({ type: 'chat_send', client_msg_id: 'e-1', text: 'hi', request_id: 'c1' }), 'chat', 'c1');
    assert.deepEqual((await eve.history()).messages.map((m) => m.seq), [seq]);

    // set_media: turning on needs `publish`, turning off needs nothing.
    assertForbidden(await eve.request({ type: 'set_media', mic: true, request_id: 'm1' }), 'publish', 'm1');
    assert.deepEqual(await eve.act({ type: 'set_media', mic: false, camera: false, request_id: 'm2' }), { type: 'ack', request_id: 'm2' });
    // publish_offer needs `publish`.
    const offer = { type: 'publish_offer', sdp: 'v=0\r\n', tracks: [{ mid: '0', source: 'microphone' }], request_id: 'p1' };
    assertForbidden(await eve.request(offer), 'publish', 'p1');

    // Kicking yourself is forbidden too (not a grant).
    assertError(await ada.request({ type: 'kick', identity: 'ada', request_id: 'k0' }), 'forbidden', false, 'k0');
    assert.equal(ada.closeInfo, null);

    // Without the `join` grant: fatal forbidden naming `join`, close 4001.
    {
      const c = await ctx.connect(relay);
      const token = await mintToken(dir, { room, identity: 'zed', name: 'Zed', grants: 'chat' });
      await assert.rejects(c.join({ room, token, request_id: 'jz' }), (e) => {
        assertError(e.frame, 'forbidden', true, 'jz');
        assert.match(e.frame.message, /\bjoin\b/, `forbidden names the \`join\` grant: ${e.frame.message}`);
        return true;
      });
      assert.equal((await c.waitClose()).code, 4001);
    }
  });
});

test('raise hand: one queue in raise order, acks, host lowers, late joiner, leave, kick', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'algebra';
    const adaToken = await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true });
    const [ada, adaJoined] = await joinAs(ctx, relay, room, adaToken);
    const [bob] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'bob', name: 'Bob' }));
    const [cat] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'cat', name: 'Cat' }));
    // "This relay always sends `features`, and every field in it."
    assert.deepEqual(Object.keys(adaJoined.features).sort(), ['board', 'hands', 'lecture', 'materials', 'polls', 'questions', 'timer']);
    assert.deepEqual(adaJoined.features.hands, []);

    // bob raises: everyone, bob included, gets the whole queue with `by`; bob gets ack.
    const before = Date.now();
    assert.deepEqual(await bob.act({ type: 'raise_hand', request_id: 'r1' }), { type: 'ack', request_id: 'r1' });
    const q1 = await expectHandQueue([ada, bob, cat], ['bob'], 'bob');
    const bobRaisedAt = q1.hands[0].raised_at;
    assert.ok(bobRaisedAt >= before - 2000 && bobRaisedAt <= Date.now() + 2000, `raised_at is ms since the epoch: ${bobRaisedAt}`);

    // cat raises without a request_id: the queue, but no ack.
    cat.send({ type: 'raise_hand' });
    const q2 = await expectHandQueue([ada, bob, cat], ['bob', 'cat'], 'cat');
    assert.equal(q2.hands[0].raised_at, bobRaisedAt, 'bob keeps his raised_at');
    assert.ok(q2.hands[1].raised_at >= bobRaisedAt);
    await settle(cat);
    assert.deepEqual(cat.pending('ack'), [], 'raise_hand without a request_id: no ack');

    // Raising a hand that is up: ack, keeps its place, no hand_queue.
    await bob.raiseHand();
    await settle(ada, bob, cat);
    for (const c of [ada, bob, cat]) assert.deepEqual(c.pending('hand_queue'), [], 'no hand_queue for a hand already up');

    // A late joiner reads the queue in joined.features.hands.
    const [dan, danJoined] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'dan', name: 'Dan' }));
    assert.deepEqual(danJoined.features.hands, q2.hands, 'joined.features.hands is the queue, first raised first');
    danJoined.features.hands.forEach(assertRaisedHand);
    assert.deepEqual(dan.hands, q2.hands);
    const all = [ada, bob, cat, dan];

    // cat lowers her own hand; lowering it again changes nothing (ack, no hand_queue).
    await cat.lowerHand();
    await expectHandQueue(all, ['bob'], 'cat');
    assert.deepEqual(await cat.act({ type: 'lower_hand', request_id: 'l2' }), { type: 'ack', request_id: 'l2' });
    await settle(...all);
    for (const c of all) assert.deepEqual(c.pending('hand_queue'), [], 'no hand_queue for a hand already down');

    // The host lowers bob's hand; again: still ack, no hand_queue.
    assert.deepEqual(await ada.act({ type: 'lower_hand_of', identity: 'bob', request_id: 'h1' }), { type: 'ack', request_id: 'h1' });
    await expectHandQueue(all, [], 'ada');
    assert.deepEqual(await ada.act({ type: 'lower_hand_of', identity: 'bob', request_id: 'h2' }), { type: 'ack', request_id: 'h2' });
    await settle(...all);
    for (const c of all) assert.deepEqual(c.pending('hand_queue'), [], 'lower_hand_of a hand that is down: no hand_queue');

    // lower_hand_of errors: not_found, and bad_message naming the field.
    assertError(await ada.request({ type: 'lower_hand_of', identity: 'zed', request_id: 'h3' }), 'not_found', false, 'h3');
    const missing = await ada.request({ type: 'lower_hand_of', request_id: 'h4' });
    assertBadField(missing, 'identity', 'h4');
    assert.match(missing.message, /lower_hand_of/, `the doc's example names the message too: ${missing.message}`);
    // The same for presence. (A field of the wrong type or a value that isn't allowed:
    // see the test below.)
    assertBadField(await bob.request({ type: 'set_presence', request_id: 'p1' }), 'presence', 'p1');
    assert.equal(ada.closeInfo, null, 'bad_message after join is not fatal');
    assert.equal(bob.closeInfo, null);

    // A hand is lowered when its owner leaves (`by` absent: the relay changed it).
    await cat.raiseHand();
    await expectHandQueue(all, ['cat'], 'cat');
    await dan.raiseHand();
    await expectHandQueue(all, ['cat', 'dan'], 'dan');
    await cat.leave();
    const rest = [ada, bob, dan];
    for (const c of rest) assert.equal((await c.waitForType('participant_left', 5000, (f) => f.identity === 'cat')).reason, 'left');
    await expectHandQueue(rest, ['dan'], undefined);

    // ... and when its owner is kicked.
    await bob.raiseHand();
    await expectHandQueue(rest, ['dan', 'bob'], 'bob');
    await ada.act({ type: 'kick', identity: 'dan' });
    for (const c of [ada, bob]) assert.equal((await c.waitForType('participant_left', 5000, (f) => f.identity === 'dan')).reason, 'kicked');
    await expectHandQueue([ada, bob], ['bob'], undefined);
    assert.equal((await dan.waitClose()).code, 4003);

    // end_room: chat history stays, raised hands do not.
    await ada.act({ type: 'end_room' });
    assert.equal((await bob.waitClose()).code, 4012);
    const [, again] = await joinAs(ctx, relay, room, adaToken);
    assert.deepEqual(again.features.hands, [], 'a room started afresh has no raised hands');
  });
});

// docs/protocol.md (Frames, and Room features): a known type with "a field of the wrong
// type, or a value that isn't allowed (e.g. "presence":"sleeping")" gets `bad_message`, and
// "for `set_presence` and the raise hand messages, the `message` names the field".
test('bad_message names a feature field of the wrong type or value', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'algebra';
    const [ada] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    const failures = [];
    for (const [frame, field] of [
      [{ type: 'lower_hand_of', identity: 7 }, 'identity'],
      [{ type: 'set_presence', presence: 5 }, 'presence'],
      [{ type: 'set_presence', presence: 'sleeping' }, 'presence'],
    ]) {
      const reply = await ada.request(frame);
      assertError(reply, 'bad_message', false, reply.request_id);
      if (!new RegExp(`\\b${field}\\b`).test(reply.message)) failures.push(`${JSON.stringify(frame)} -> ${JSON.stringify(reply.message)}`);
    }
    assert.deepEqual(failures, [], 'bad_message names the mistyped field');
  });
});

test('raise hand: a dropped connection sets the hand aside; rejoining restores its place', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'algebra';
    const bobToken = await mintToken(dir, { room, identity: 'bob', name: 'Bob' });
    const [ada] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    const [bob] = await joinAs(ctx, relay, room, bobToken);
    const [cat] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'cat', name: 'Cat' }));

    await bob.raiseHand();
    await expectHandQueue([ada, bob, cat], ['bob'], 'bob');
    await cat.raiseHand();
    const full = await expectHandQueue([ada, bob, cat], ['bob', 'cat'], 'cat');

    // bob's connection drops without a close frame: participant_left "timeout", and the
    // hand leaves the visible queue (`by` absent).
    bob.terminate();
    for (const c of [ada, cat]) assert.equal((await c.waitForType('participant_left', 5000, (f) => f.identity === 'bob')).reason, 'timeout');
    await expectHandQueue([ada, cat], ['cat'], undefined);

    // A hand raised meanwhile goes behind cat's.
    await ada.raiseHand();
    await expectHandQueue([ada, cat], ['cat', 'ada'], 'ada');

    // bob joins again (well within 120 s): his hand is back at its old place, first.
    const [bob2, bobJoined] = await joinAs(ctx, relay, room, bobToken);
    assert.deepEqual(who(bobJoined.features.hands), ['bob', 'cat', 'ada'], 'the one who came back sees the queue in joined.features.hands');
    assert.deepEqual(bobJoined.features.hands.slice(0, 2), full.hands, 'bob and cat keep their raised_at');
    for (const c of [ada, cat]) assert.equal((await c.waitForType('participant_joined')).participant.identity, 'bob');
    const restored = await expectHandQueue([ada, cat], ['bob', 'cat', 'ada'], undefined);
    assert.deepEqual(restored.hands, bobJoined.features.hands);

    // A connection replaced by a newer one of the same identity keeps the hand in its place.
    const [, bobJoined3] = await joinAs(ctx, relay, room, bobToken);
    assertError(await bob2.waitForType('error'), 'replaced', true);
    assert.equal((await bob2.waitClose()).code, 4009);
    assert.deepEqual(bobJoined3.features.hands, restored.hands, 'a replaced connection keeps the hand');
    await settle(ada, cat);
    assert.deepEqual(ada.hands, restored.hands);
    assert.deepEqual(cat.hands, restored.hands);
  });
});

// ---------------------------------------------------------------- focus timer
//
// What docs/protocol.md says about the focus timer ("Focus timer", "TimerState", the grant
// table, `pong.time`, the `out_of_range` and `invalid_state` errors). Phases last at
// least a minute, so these tests never wait for one to run out.

const DEFAULT_TIMER_SETTINGS = { focus_secs: 1500, short_break_secs: 300, long_break_secs: 900, rounds: 4 };
/** How far two readings of "the relay's clock now" may differ here (same machine). */
const CLOCK_SLACK_MS = 1500;

/** Assert a TimerState has every documented field with the right type. */
function assertTimerState(t) {
  assert.ok(t && typeof t === 'object', `a TimerState: ${JSON.stringify(t)}`);
  for (const k of ['focus_secs', 'short_break_secs', 'long_break_secs', 'rounds']) {
    assert.ok(Number.isSafeInteger(t.settings?.[k]), `settings.${k}: ${JSON.stringify(t)}`);
  }
  assert.equal(typeof t.anyone_controls, 'boolean');
  assert.equal(typeof t.quiet_during_focus, 'boolean');
  assert.ok(Number.isSafeInteger(t.focus_completed) && t.focus_completed >= 0);
  assert.ok(Number.isSafeInteger(t.now), `now: ${JSON.stringify(t)}`);
  if (t.run === null) return;
  const r = t.run;
  assert.ok(['focus', 'short_break', 'long_break'].includes(r.phase), `phase: ${JSON.stringify(r)}`);
  assert.ok(Number.isSafeInteger(r.round) && r.round >= 1);
  assert.ok(Number.isSafeInteger(r.phase_ms) && r.phase_ms > 0);
  assert.ok(Number.isSafeInteger(r.remaining_ms) && r.remaining_ms >= 0 && r.remaining_ms <= r.phase_ms);
  assert.equal(typeof r.paused, 'boolean');
  if (r.paused) {
    assert.equal(r.ends_at, null, `a paused run has ends_at null: ${JSON.stringify(r)}`);
  } else {
    assert.ok(Number.isSafeInteger(r.ends_at), `a running run has ends_at: ${JSON.stringify(r)}`);
    // "While running: what was left at the state's `now`."
    assert.equal(r.ends_at - t.now, r.remaining_ms, `remaining_ms is ends_at - now: ${JSON.stringify(t)}`);
  }
}

/**
 * Wait for the next `timer` event on every client; check all got the same one, with this
 * `change` and `by` (undefined: absent). Returns the frame.
 */
async function expectTimer(clients, change, by) {
  const frames = [];
  for (const c of clients) frames.push(await c.waitForType('timer'));
  for (const f of frames) {
    assert.equal(f.change, change, `timer.change: ${JSON.stringify(f)}`);
    if (by === undefined) assert.ok(!('by' in f), `no \`by\`: ${JSON.stringify(f)}`);
    else assert.equal(f.by, by, `timer.by: ${JSON.stringify(f)}`);
    assert.ok(!('request_id' in f), 'broadcasts never carry request_id');
    assertTimerState(f.timer);
    assert.deepEqual(f, frames[0], 'everyone gets the same timer event');
  }
  return frames[0];
}

/** After a round trip on each client, none has an unread `timer` event. */
async function expectNoTimer(clients, why) {
  await settle(...clients);
  for (const c of clients) assert.deepEqual(c.pending('timer'), [], why);
}

test('focus timer: who controls it, ranges, start, pause, skip, reconnect, stop, pong.time', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'focus';
    const bobToken = await mintToken(dir, { room, identity: 'bob', name: 'Bob' });
    const [ada, adaJoined] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true }));
    let [bob] = await joinAs(ctx, relay, room, bobToken);
    await ada.waitForType('participant_joined');

    // joined.features.timer: always there; a room whose timer was never started has the
    // stopped timer with the default settings.
    const t0 = adaJoined.features.timer;
    assertTimerState(t0);
    assert.equal(t0.run, null, 'stopped until started');
    assert.deepEqual(t0.settings, DEFAULT_TIMER_SETTINGS);
    assert.equal(t0.anyone_controls, false);
    assert.equal(t0.quiet_during_focus, false);
    assert.equal(t0.focus_completed, 0);

    // pong: the relay's clock, ms since the epoch; with request_id and nonce echoed.
    const before = Date.now();
    const pong = await ada.request({ type: 'ping', nonce: 7, request_id: 'p1' });
    const after = Date.now();
    assert.equal(pong.type, 'pong');
    assert.equal(pong.request_id, 'p1');
    assert.equal(pong.nonce, 7);
    assert.ok(Number.isSafeInteger(pong.time), `pong.time is a whole number: ${JSON.stringify(pong)}`);
    assert.ok(pong.time >= before - CLOCK_SLACK_MS && pong.time <= after + CLOCK_SLACK_MS, `pong.time ${pong.time} is close to Date.now() (${before}..${after})`);
    // The doc's clock sync (smallest round trip wins). Same machine: the offset is small.
    for (const c of [ada, bob]) {
      const { offsetMs, rttMs } = await c.measureClock(5);
      assert.ok(rttMs >= 0);
      assert.ok(Math.abs(offsetMs) < CLOCK_SLACK_MS, `clock offset ${offsetMs} ms`);
    }
    assert.ok(Math.abs(t0.now - ada.relayNow()) < 60_000, 'joined.features.timer.now is the relay clock');

    // A member may not control the timer: forbidden naming `host`; nothing else happens.
    assertForbidden(await bob.request({ type: 'timer_start', request_id: 'b1' }), 'host', 'b1');
    // That check comes first: a member's pause of a stopped timer is forbidden too.
    assertForbidden(await bob.request({ type: 'timer_pause', request_id: 'b2' }), 'host', 'b2');
    // ... and timer_options needs the `host` grant (the grant table).
    assertForbidden(await bob.request({ type: 'timer_options', anyone_controls: true, request_id: 'b3' }), 'host', 'b3');
    await expectNoTimer([ada, bob], 'a forbidden request causes no timer event');

    // A stopped timer: pause, resume and skip are invalid_state; stop is ack, no event.
    for (const type of ['timer_pause', 'timer_resume', 'timer_skip']) {
      assertError(await ada.request({ type, request_id: `s-${type}` }), 'invalid_state', false, `s-${type}`);
    }
    assert.deepEqual(await ada.act({ type: 'timer_stop', request_id: 's0' }), { type: 'ack', request_id: 's0' });
    await expectNoTimer([ada, bob], 'stopping a stopped timer sends no timer event');

    // Settings out of range: out_of_range naming the field (and its range); nothing starts.
    const settings = { focus_secs: 1200, short_break_secs: 300, long_break_secs: 600, rounds: 3 };
    const zeroFocus = await ada.request({ type: 'timer_start', settings: { ...settings, focus_secs: 0 }, request_id: 'o1' });
    assertError(zeroFocus, 'out_of_range', false, 'o1');
    assert.match(zeroFocus.message, /\bfocus_secs\b/, `names the field: ${zeroFocus.message}`);
    assert.match(zeroFocus.message, /\b60s?\b.*\b14400s?\b/, `names the range: ${zeroFocus.message}`);
    const manyRounds = await ada.request({ type: 'timer_start', settings: { ...settings, rounds: 1000 }, request_id: 'o2' });
    assertError(manyRounds, 'out_of_range', false, 'o2');
    assert.match(manyRounds.message, /\brounds\b/, `names the field: ${manyRounds.message}`);
    assert.match(manyRounds.message, /\b1\b.*\b12\b/, `names the range: ${manyRounds.message}`);
    const optionsOut = await ada.request({ type: 'timer_options', settings: { ...settings, long_break_secs: 7201 }, anyone_controls: true, request_id: 'o3' });
    assertError(optionsOut, 'out_of_range', false, 'o3');
    assert.match(optionsOut.message, /\blong_break_secs\b/, optionsOut.message);
    // Not a whole number in range of the type: bad_message, naming `settings`; a missing
    // field: bad_message naming it.
    assertBadField(await ada.request({ type: 'timer_start', settings: { ...settings, focus_secs: -1 }, request_id: 'o4' }), 'settings', 'o4');
    assertBadField(await ada.request({ type: 'timer_start', settings: { focus_secs: 600 }, request_id: 'o5' }), '(short_break_secs|long_break_secs|rounds)', 'o5');
    await expectNoTimer([ada, bob], 'refused settings change nothing');

    // The host starts it: ack, and `timer` to both, the sender included.
    const startedAt = ada.relayNow();
    assert.deepEqual(await ada.act({ type: 'timer_start', settings, request_id: 't1' }), { type: 'ack', request_id: 't1' });
    const startedBy = ada.relayNow();
    const started = await expectTimer([ada, bob], 'started', 'ada');
    const run1 = started.timer.run;
    assert.deepEqual(started.timer.settings, settings, 'the sent settings are the room\'s now');
    assert.equal(run1.phase, 'focus');
    assert.equal(run1.round, 1);
    assert.equal(run1.paused, false);
    assert.equal(run1.phase_ms, settings.focus_secs * 1000, 'phase_ms is ms, focus_secs s');
    assert.equal(started.timer.focus_completed, 0);
    assert.equal(started.timer.anyone_controls, false, 'options stay as they were');
    assert.ok(
      run1.ends_at >= startedAt + run1.phase_ms - CLOCK_SLACK_MS && run1.ends_at <= startedBy + run1.phase_ms + CLOCK_SLACK_MS,
      `ends_at ${run1.ends_at} is about relay now + focus (${startedAt}..${startedBy} + ${run1.phase_ms})`,
    );
    // Time left by the doc's formula, on both clients.
    for (const c of [ada, bob]) {
      const left = c.timeLeft();
      assert.ok(left > run1.phase_ms - 5000 && left <= run1.phase_ms + CLOCK_SLACK_MS, `time left ${left}`);
    }

    // Pause: ends_at null, remaining_ms held. Pausing again: ack, no event.
    assert.deepEqual(await ada.act({ type: 'timer_pause', request_id: 't2' }), { type: 'ack', request_id: 't2' });
    const paused = await expectTimer([ada, bob], 'paused', 'ada');
    assert.equal(paused.timer.run.paused, true);
    assert.equal(paused.timer.run.ends_at, null);
    assert.ok(paused.timer.run.remaining_ms <= run1.phase_ms && paused.timer.run.remaining_ms > run1.phase_ms - 10_000, `remaining_ms ${paused.timer.run.remaining_ms}`);
    assert.deepEqual([paused.timer.run.phase, paused.timer.run.round], ['focus', 1]);
    assert.equal(bob.timeLeft(), paused.timer.run.remaining_ms, 'while paused, the time left is remaining_ms');
    assert.deepEqual(await ada.act({ type: 'timer_pause', request_id: 't3' }), { type: 'ack', request_id: 't3' });
    await expectNoTimer([ada, bob], 'pausing a paused timer sends no timer event');

    // The host lets everyone control it (options event); the same again changes nothing.
    await ada.timerOptions({ anyone_controls: true });
    const opened = await expectTimer([ada, bob], 'options', 'ada');
    assert.equal(opened.timer.anyone_controls, true);
    assert.deepEqual(opened.timer.run, paused.timer.run, 'options leave the phase as it is');
    await ada.timerOptions({ anyone_controls: true });
    await expectNoTimer([ada, bob], 'options that change nothing send no timer event');
    // Still: only a host changes the options.
    assertForbidden(await bob.request({ type: 'timer_options', quiet_during_focus: true, request_id: 'b4' }), 'host', 'b4');

    // Now the member may skip: the short break of round 1 begins, paused (the timer was
    // paused), with its whole length left; the skipped focus does not count.
    assert.deepEqual(await bob.act({ type: 'timer_skip', request_id: 'b5' }), { type: 'ack', request_id: 'b5' });
    const skipped = await expectTimer([ada, bob], 'skipped', 'bob');
    const brk = skipped.timer.run;
    assert.deepEqual([brk.phase, brk.round, brk.paused, brk.ends_at], ['short_break', 1, true, null]);
    assert.equal(brk.phase_ms, settings.short_break_secs * 1000);
    assert.equal(brk.remaining_ms, brk.phase_ms, 'the next phase begins with its whole length');
    assert.equal(skipped.timer.focus_completed, 0, 'a skipped focus phase is not completed');

    // The member resumes it: ends_at = relay now + remaining.
    const resumedAt = bob.relayNow();
    await bob.timerResume();
    const resumed = await expectTimer([ada, bob], 'resumed', 'bob');
    const run2 = resumed.timer.run;
    assert.equal(run2.paused, false);
    assert.ok(
      Math.abs(run2.ends_at - (resumedAt + brk.remaining_ms)) < CLOCK_SLACK_MS,
      `ends_at ${run2.ends_at} is about relay now + remaining (${resumedAt} + ${brk.remaining_ms})`,
    );
    // Resuming a running timer: ack, no event.
    await bob.timerResume();
    await expectNoTimer([ada, bob], 'resuming a running timer sends no timer event');

    // bob reconnects (closes his socket, joins again): the same run.
    bob.close();
    await bob.waitClose();
    await ada.waitForType('participant_left', 5000, (f) => f.identity === 'bob');
    let bobJoined;
    [bob, bobJoined] = await joinAs(ctx, relay, room, bobToken);
    const back = bobJoined.features.timer;
    assertTimerState(back);
    const { remaining_ms: _r, ...sameRun } = run2;
    const { remaining_ms: _b, ...backRun } = back.run;
    assert.deepEqual(backRun, sameRun, 'a reconnecting member gets the same run');
    assert.deepEqual(back.settings, settings);
    assert.equal(back.anyone_controls, true);
    await bob.measureClock(3);

    // The host stops it: run null; settings and options stay. Stopping again: ack, no event.
    await ada.timerStop();
    const stopped = await expectTimer([ada, bob], 'stopped', 'ada');
    assert.equal(stopped.timer.run, null);
    assert.deepEqual(stopped.timer.settings, settings);
    assert.equal(stopped.timer.anyone_controls, true);
    assert.equal(bob.timeLeft(), null);
    await ada.timerStop();
    await expectNoTimer([ada, bob], 'stopping a stopped timer sends no timer event');
    const [, catJoined] = await joinAs(ctx, relay, room, await mintToken(dir, { room, identity: 'cat', name: 'Cat' }));
    assert.equal(catJoined.features.timer.run, null, 'a late joiner sees it stopped');
  });
});

test('focus timer: it outlasts end_room and a relay restart', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const room = 'lasting';
    let relay = await ctx.relay(dir);
    const adaToken = await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true });
    const [ada] = await joinAs(ctx, relay, room, adaToken);
    const settings = { focus_secs: 3000, short_break_secs: 600, long_break_secs: 1800, rounds: 2 };
    await ada.timerStart(settings);
    const started = (await expectTimer([ada], 'started', 'ada')).timer;

    // end_room does not reset the timer: a room joined again finds it running.
    await ada.act({ type: 'end_room' });
    assert.equal((await ada.waitClose()).code, 4012);
    const [ada2, again] = await joinAs(ctx, relay, room, adaToken);
    assert.equal(again.features.timer.run?.ends_at, started.run.ends_at, 'the same run after end_room');

    // A restart of the relay (SIGTERM, then start on the same data dir) keeps it.
    relay.child.kill('SIGTERM');
    await ada2.waitClose(5000);
    await relay.exited;
    relay = await ctx.relay(dir);
    const [ada3, restarted] = await joinAs(ctx, relay, room, adaToken);
    const t = restarted.features.timer;
    assertTimerState(t);
    assert.deepEqual(t.settings, settings);
    assert.deepEqual([t.run?.phase, t.run?.round, t.run?.ends_at, t.run?.phase_ms], ['focus', 1, started.run.ends_at, started.run.phase_ms], 'the same run after a restart');
    await ada3.measureClock();
    assert.ok(ada3.timeLeft() > settings.focus_secs * 1000 - 20_000, `time left after the restart: ${ada3.timeLeft()}`);
  });
});
