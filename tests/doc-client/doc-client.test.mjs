// End-to-end tests of studyhall-relay, written only from docs/protocol.md.
//
// Each test starts its own relay on a free port with a fresh data dir, and mints its
// tokens with `studyhall-relay token ... --data-dir SAME_DIR`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { StudyhallClient, ProtocolError, wsUrl, tokenClaims } from './client.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const RELAY_BIN = path.resolve(here, process.env.STUDYHALL_RELAY_BIN || '../../target/debug/studyhall-relay');
const TEST_TIMEOUT = 30_000;

// The relay reads every STUDYHALL_* environment variable as configuration and refuses
// ones it does not know (STUDYHALL_RELAY_BIN included), so children get an environment
// without them; everything the test needs is passed as flags.
const CHILD_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STUDYHALL_')));

// ---------------------------------------------------------------- relay harness

const liveRelays = new Set();
process.on('exit', () => {
  for (const child of liveRelays) {
    try {
      child.kill('SIGKILL');
    } catch {}
  }
});

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function httpGet(url, timeoutMs = 1000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function makeDataDir() {
  return mkdtemp(path.join(os.tmpdir(), 'studyhall-doc-client-'));
}

/** Start `studyhall-relay serve` and wait for GET /healthz → 200. */
async function startRelay(dataDir, { readyTimeoutMs = 10_000 } = {}) {
  if (!existsSync(RELAY_BIN)) throw new Error(`relay binary not found at ${RELAY_BIN} (set STUDYHALL_RELAY_BIN)`);
  const port = await freePort();
  const child = spawn(RELAY_BIN, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--media-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: CHILD_ENV,
  });
  liveRelays.add(child);
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      liveRelays.delete(child);
      resolve({ code, signal });
    });
  });
  const relay = {
    child,
    port,
    url: wsUrl('127.0.0.1', port),
    http: `http://127.0.0.1:${port}`,
    exited,
    get log() {
      return log;
    },
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    /** Hard stop; used for cleanup. */
    async kill() {
      if (!relay.running) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (!relay.running) throw new Error(`relay exited before it was ready:\n${log}`);
    try {
      const res = await httpGet(`${relay.http}/healthz`, 500);
      if (res.status === 200) return relay;
    } catch {}
    if (Date.now() > deadline) {
      await relay.kill();
      throw new Error(`relay not healthy within ${readyTimeoutMs} ms:\n${log}`);
    }
    await sleep(100);
  }
}

/** Mint a token with the relay's CLI, against the same data dir. */
function mintToken(dataDir, { room, identity, name, host = false, ttl, grants }) {
  const args = ['token', '--room', room, '--identity', identity, '--name', name, '--data-dir', dataDir];
  if (host) args.push('--host');
  if (ttl) args.push('--ttl', ttl);
  if (grants) args.push('--grants', grants);
  return new Promise((resolve, reject) => {
    execFile(RELAY_BIN, args, { timeout: 10_000, env: CHILD_ENV }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`token command failed: ${err.message}\n${stderr}`));
      const token = stdout.trim();
      if (token.split('.').length !== 3) return reject(new Error(`token command printed no JWT: ${JSON.stringify(stdout)}`));
      resolve(token);
    });
  });
}

/**
 * Run `body` with a cleanup list; relays, clients and data dirs are torn down even when
 * the body throws.
 */
async function withCleanup(body) {
  const relays = [];
  const clients = [];
  const dirs = [];
  const ctx = {
    async relay(dataDir) {
      const r = await startRelay(dataDir);
      relays.push(r);
      return r;
    },
    async dataDir() {
      const d = await makeDataDir();
      dirs.push(d);
      return d;
    },
    async connect(relay) {
      const c = await StudyhallClient.connect(relay.url);
      clients.push(c);
      return c;
    },
  };
  try {
    await body(ctx);
  } catch (e) {
    for (const r of relays) if (r.log) e.message += `\n--- relay log (port ${r.port}) ---\n${r.log.slice(-4000)}`;
    throw e;
  } finally {
    for (const c of clients) c.terminate();
    for (const r of relays) await r.kill();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

/** Connect and join; returns [client, joined]. */
async function joinAs(ctx, relay, room, token, extra = {}) {
  const c = await ctx.connect(relay);
  const joined = await c.join({ room, token, ...extra });
  return [c, joined];
}

/** Asserts an error frame: code, fatal flag and (optionally) request_id. */
function assertError(frame, code, fatal, request_id) {
  assert.equal(frame.type, 'error', `expected an error frame, got ${JSON.stringify(frame)}`);
  assert.equal(frame.code, code, `error code: ${JSON.stringify(frame)}`);
  assert.equal(frame.fatal, fatal, `fatal flag for ${code}: ${JSON.stringify(frame)}`);
  assert.equal(typeof frame.message, 'string');
  if (request_id !== undefined) assert.equal(frame.request_id, request_id, `request_id echoed: ${JSON.stringify(frame)}`);
}

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
  assert.ok(p.role === 'host' || p.role === 'member', `role: ${p.role}`);
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
    for (const k of ['max_message_bytes', 'max_chat_bytes', 'messages_per_second', 'message_burst', 'chat_per_second', 'chat_burst', 'max_room_size', 'max_history_page']) {
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
    assert.deepEqual(pong, { type: 'pong', nonce: 42 });
    // Reserved media types are unknown to a relay without media.
    bob.send({ type: 'media_offer', request_id: 'mo' });
    assertError(await bob.waitForType('error'), 'unknown_type', false);
    assert.equal((await bob.ping(43)).nonce, 43);
    // ping without nonce
    bob.send({ type: 'ping' });
    const bare = await bob.waitForType('pong');
    assert.equal(bare.nonce, undefined);

    // The host may delete; everyone gets chat_deleted; history shows it deleted.
    // The doc names no direct reply to chat_delete; the broadcast chat_deleted is it.
    ada.send({ type: 'chat_delete', seq: ack.seq, request_id: 'd2' });
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
