// End-to-end tests of study groups, written only from docs/protocol.md ("Study groups"
// and what it refers to: Access tokens, Frames, `join`, the focus timer, Errors, Close
// codes). The groups go over HTTP (Node's fetch, JSON bodies, `Authorization: Bearer
// <group token>`); presence over its own WebSocket, `/v1/presence`; the group's room is
// an ordinary room on `/ws`.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { withCleanup, assertError, sleep } from './harness.mjs';
import { tokenClaims } from './client.mjs';

const TEST_TIMEOUT = 60_000;

/** "Group invite codes": 8 characters of Crockford base32, shown `G-XXXX-XXXX`. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const SHOWN_INVITE = /^G-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;
const IDENTITY = /^m-[0-9a-f]{12}$/;
const GROUP_ID = /^g[0-9a-f]{12}$/;
const SESSION_ID = /^[0-9a-f]{8}$/;
/** "It lasts 90 days"; room tokens for the group's room last 12 h. */
const GROUP_TOKEN_SECS = 90 * 86_400;
const ROOM_TOKEN_SECS = 12 * 3_600;
/** "Group limits": a request body. */
const MAX_BODY = 16 * 1024;

let deviceCounter = 0;
/** A device id as an app keeps one (32 hex digits; any 1–64 bytes would do). */
const newDevice = () => `${Date.now().toString(16)}${(++deviceCounter).toString(16)}`.padStart(32, 'd');

// ---------------------------------------------------------------- HTTP

/**
 * One group call. `body` is sent as JSON with `Content-Type: application/json`; `raw` as
 * it is (with the given headers). Resolves with {status, headers, text, json}.
 */
async function call(relay, method, path, { token, body, raw, headers = {} } = {}) {
  const h = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
  }
  const res = await fetch(relay.http + path, { method, headers: h, body: payload });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

/** "Every error has the body {"error":{"code":"…","message":"…"}}". */
function assertApiError(r, status, code, what) {
  assert.equal(r.status, status, `${what}: status (${r.text})`);
  assert.equal(r.json?.error?.code, code, `${what}: error code (${r.text})`);
  assert.equal(typeof r.json.error.message, 'string', `${what}: a message for people`);
}

/**
 * POST create or join; on `429 rate_limited` (10 at once per address, then 1 a second)
 * wait `Retry-After` seconds and send it again, as a client should.
 */
async function admitted(relay, path, body) {
  for (let tries = 0; ; tries++) {
    const r = await call(relay, 'POST', path, { body });
    if (r.status !== 429 || tries > 20) return r;
    assertApiError(r, 429, 'rate_limited', `${path} over the address limit`);
    const wait = Number(r.headers.get('retry-after'));
    assert.ok(Number.isInteger(wait) && wait >= 1, `429 carries Retry-After in whole seconds: ${r.headers.get('retry-after')}`);
    await sleep(wait * 1000);
  }
}

const create = (relay, { name = 'Linear Algebra', your_name = 'Ada', device = newDevice(), token } = {}) =>
  admitted(relay, '/v1/groups', { name, your_name, device, ...(token === undefined ? {} : { token }) });

const join = (relay, { code, name, device = newDevice(), token }) =>
  admitted(relay, '/v1/groups/join', { code, name, device, ...(token === undefined ? {} : { token }) });

/** Create a group and check the answer: 201, you the owner and only member. */
async function created(relay, opts = {}) {
  const device = opts.device ?? newDevice();
  const before = Date.now();
  const r = await create(relay, { ...opts, device });
  assert.equal(r.status, 201, `create: ${r.text}`);
  const { group, identity, token, expires_at } = r.json;
  assert.match(identity, IDENTITY, 'an identity is m- and 12 lowercase hex digits');
  assert.match(group.id, GROUP_ID, 'a group id is g and 12 lowercase hex digits');
  assert.equal(group.room, `group-${group.id}`, 'the standing room is group-<id>');
  assert.equal(group.owner, identity, 'the creator owns it');
  assert.equal(group.name, (opts.name ?? 'Linear Algebra').trim());
  assert.equal(group.members.length, 1, 'the only member');
  assert.equal(group.members[0].identity, identity);
  assert.equal(group.members[0].name, (opts.your_name ?? 'Ada').trim());
  assert.ok(group.members[0].joined_at >= before - 5000 && group.members[0].joined_at <= Date.now() + 5000, 'joined_at: ms since the epoch');
  assert.deepEqual(group.sessions, []);
  assert.match(group.invite, SHOWN_INVITE, 'the invite is shown G-XXXX-XXXX');
  assert.equal(typeof group.created_at, 'number');
  assertGroupToken(token, { sub: identity, group: group.id, name: group.members[0].name }, expires_at);
  return { ...r.json, device };
}

/** The claims of a group token ("Identities and group tokens"). */
function assertGroupToken(token, { sub, group, name }, expires_at) {
  const c = tokenClaims(token);
  assert.ok(c, `a group token is a JWT: ${token}`);
  assert.equal(c.iss, 'studyhall');
  assert.equal(c.aud, 'studyhall-groups', 'a group token has its own audience');
  assert.equal(c.sub, sub, 'sub: the identity');
  assert.equal(c.group, group, 'group: the group id');
  if (name !== undefined) assert.equal(c.name, name, 'name: the display name in the group');
  assert.equal(c.exp - c.iat, GROUP_TOKEN_SECS, 'it lasts 90 days');
  assert.ok(c.nbf <= c.iat + 1);
  if (expires_at !== undefined) assert.ok(Math.abs(expires_at - c.exp * 1000) <= 2000, `expires_at (${expires_at}) is the token's exp in ms (${c.exp})`);
}

/** An invite as people type it: lower case, dashes and spaces moved, O for 0, L for 1. */
function typedLoosely(shown, { prefix }) {
  const bare = shown.slice(2).replace('-', '');
  const letters = [...bare].map((ch) => (ch === '0' ? 'o' : ch === '1' ? 'l' : ch.toLowerCase())).join('');
  const spaced = `${letters.slice(0, 3)} ${letters.slice(3, 6)}-${letters.slice(6)}`;
  return `  ${prefix}${spaced}  `;
}

/** A code of the right shape that is not `shown` (one character changed). */
function anotherCode(shown) {
  const bare = shown.slice(2).replace('-', '');
  const last = bare[7];
  const other = CROCKFORD[(CROCKFORD.indexOf(last) + 1) % 32];
  const code = bare.slice(0, 7) + other;
  return `G-${code.slice(0, 4)}-${code.slice(4)}`;
}

const session = (extra = {}) => ({
  title: 'Problem set',
  start: '2026-12-07T18:00',
  tz: 'Europe/Berlin',
  minutes: 90,
  rrule: 'FREQ=WEEKLY;BYDAY=MO',
  ...extra,
});

// ---------------------------------------------------------------- presence socket

const presenceUrl = (relay) => `ws://127.0.0.1:${relay.port}/v1/presence`;

/** Open a presence socket (the harness's client speaks any JSON-frame WebSocket). */
async function presenceSocket(ctx, relay) {
  return ctx.connect({ url: presenceUrl(relay) });
}

/** Send `watch` with a request_id; resolves with its answer (`watching` or `error`). */
async function watch(c, tokens, extra = {}) {
  const request_id = c.requestId('w');
  c.send({ type: 'watch', tokens, request_id, ...extra });
  return c.waitFor((f) => f.request_id === request_id && (f.type === 'watching' || f.type === 'error'), 5000, `answer to watch ${request_id}`);
}

/** Wait for a `presence` frame about `identity` matching `pred`. */
function presenceOf(c, identity, pred, what) {
  return c.waitFor((f) => f.type === 'presence' && f.presence.identity === identity && pred(f.presence), 5000, what);
}

/** A ping round trip on a presence socket: what was sent before has arrived. */
async function settlePresence(c) {
  const request_id = c.requestId('p');
  c.send({ type: 'ping', request_id });
  const pong = await c.waitFor((f) => f.type === 'pong' && f.request_id === request_id, 5000, `pong ${request_id}`);
  assert.equal(pong.time, undefined, "the presence socket's pong carries no time");
}

// ---------------------------------------------------------------- tests

test('groups: create, join by invite in any spelling, read with a renewed token, a bad code', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const relay = await ctx.relay(await ctx.dataDir());
    const ada = await created(relay, { name: '  Linear Algebra ', your_name: ' Ada ' });
    const { group } = ada;

    // "A code that cannot be one gets 400 invalid_field; one that names no group gets 404 invite_not_found."
    assertApiError(await join(relay, { code: 'G-!!!!-????', name: 'Bob' }), 400, 'invalid_field', 'a code that cannot be one');
    assertApiError(await join(relay, { code: 'K7QX-29F', name: 'Bob' }), 400, 'invalid_field', 'a code of 7 characters');
    assertApiError(await join(relay, { code: anotherCode(group.invite), name: 'Bob' }), 404, 'invite_not_found', 'a code of no group');
    assertApiError(await join(relay, { code: group.invite, name: '   ', device: newDevice() }), 400, 'invalid_field', 'a blank name');
    assertApiError(await join(relay, { code: group.invite, name: 'Bob', device: '' }), 400, 'invalid_field', 'an empty device');

    // Mixed case, with `g-`, spaces and a dash moved, O for 0 and L for 1.
    const bobDevice = newDevice();
    const loose = typedLoosely(group.invite, { prefix: 'g-' });
    let r = await join(relay, { code: loose, name: 'Bob', device: bobDevice });
    assert.equal(r.status, 200, `join with ${JSON.stringify(loose)}: ${r.text}`);
    const bob = r.json;
    assert.match(bob.identity, IDENTITY);
    assert.notEqual(bob.identity, ada.identity, 'someone new');
    assert.equal(bob.group.id, group.id);
    assert.deepEqual(bob.group.members.map((m) => [m.identity, m.name]), [[ada.identity, 'Ada'], [bob.identity, 'Bob']], 'the owner first, the joiner last');
    assertGroupToken(bob.token, { sub: bob.identity, group: group.id, name: 'Bob' }, bob.expires_at);

    // Without `G-`, upper case, no dash.
    const bare = group.invite.slice(2).replace('-', '');
    r = await join(relay, { code: bare, name: 'Cy' });
    assert.equal(r.status, 200, `join with ${bare}: ${r.text}`);
    const cy = r.json;
    assert.deepEqual(cy.group.members.map((m) => m.name), ['Ada', 'Bob', 'Cy']);

    // Joining again with a member's token adds nobody: a rename, the same place and joined_at.
    r = await join(relay, { code: group.invite, name: 'Bobby', device: bobDevice, token: bob.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.identity, bob.identity, 'the token keeps the identity');
    assert.deepEqual(r.json.group.members.map((m) => [m.identity, m.name]), [[ada.identity, 'Ada'], [bob.identity, 'Bobby'], [cy.identity, 'Cy']]);
    assert.equal(r.json.group.members[1].joined_at, bob.group.members[1].joined_at, 'joined_at is kept');

    // A device id is no proof of who you are: without a token, a join from Bob's device
    // is someone new (the doc: a device never gives an identity).
    r = await join(relay, { code: group.invite, name: 'Mallory', device: bobDevice });
    assert.equal(r.status, 200, r.text);
    assert.notEqual(r.json.identity, bob.identity, 'a device id does not give an identity');
    assert.equal(r.json.group.members.length, 4, 'a new member');
    const mallory = r.json;
    r = await call(relay, 'DELETE', `/v1/groups/${group.id}/members/${mallory.identity}`, { token: mallory.token });
    assert.equal(r.status, 204, `Mallory leaves: ${r.text}`);

    // Creating a second group with a token of this relay keeps the identity.
    const second = await created(relay, { name: 'Physics', your_name: 'Bob', token: bob.token });
    assert.equal(second.identity, bob.identity, 'one identity per relay');

    // Read: 200 with the Group, and a renewed token in `studyhall-token`.
    await sleep(1100); // so that the renewed token's iat differs
    r = await call(relay, 'GET', `/v1/groups/${group.id}`, { token: cy.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, group.id);
    assert.deepEqual(r.json.members.map((m) => m.identity), [ada.identity, bob.identity, cy.identity]);
    assert.equal(r.json.invite, group.invite);
    const renewed = r.headers.get('studyhall-token');
    assert.ok(renewed, 'the answer carries studyhall-token');
    assertGroupToken(renewed, { sub: cy.identity, group: group.id, name: 'Cy' });
    assert.ok(tokenClaims(renewed).exp > tokenClaims(cy.token).exp, 'another 90 days');
    // The renewed one works, and so does the old one.
    assert.equal((await call(relay, 'GET', `/v1/groups/${group.id}`, { token: renewed })).status, 200);
    assert.equal((await call(relay, 'GET', `/v1/groups/${group.id}`, { token: cy.token })).status, 200);
    // "GET also answers HEAD."
    r = await call(relay, 'HEAD', `/v1/groups/${group.id}`, { token: cy.token });
    assert.equal(r.status, 200, 'HEAD');

    // A new invite code (the owner): the old one stops working at once; members stay.
    assertApiError(await call(relay, 'POST', `/v1/groups/${group.id}/invite`, { token: cy.token }), 403, 'forbidden', 'a member makes a new invite');
    r = await call(relay, 'POST', `/v1/groups/${group.id}/invite`, { token: ada.token });
    assert.equal(r.status, 200, r.text);
    assert.match(r.json.invite, SHOWN_INVITE);
    assert.notEqual(r.json.invite, group.invite, 'a new code');
    assert.equal(r.json.members.length, 3, 'members already in stay');
    assertApiError(await join(relay, { code: group.invite, name: 'Dee' }), 404, 'invite_not_found', 'the old code');
    assert.equal((await join(relay, { code: r.json.invite, name: 'Dee' })).status, 200, 'the new code');
  });
});

test('groups: presence — online, in the group room (group set, then its focus timer), hidden, offline', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const relay = await ctx.relay(await ctx.dataDir());
    const ada = await created(relay);
    const { group } = ada;
    const r = await join(relay, { code: group.invite, name: 'Bob' });
    assert.equal(r.status, 200, r.text);
    const bob = r.json;

    // Ada watches: `watching` with the group, everyone's presence, nothing refused.
    const adaWatch = await presenceSocket(ctx, relay);
    let w = await watch(adaWatch, [ada.token, ada.token, 'garbage', '']);
    assert.equal(w.type, 'watching', JSON.stringify(w));
    assert.deepEqual(w.groups.map((g) => g.id), [group.id], 'the same group twice counts once');
    assert.equal(w.groups[0].invite, group.invite);
    const byId = Object.fromEntries(w.presence.map((p) => [p.identity, p]));
    assert.equal(w.presence.length, 2, `once each: ${JSON.stringify(w.presence)}`);
    assert.deepEqual(byId[ada.identity], { identity: ada.identity, status: 'online', room: null, focus: null }, 'a presence socket: online');
    assert.deepEqual(byId[bob.identity], { identity: bob.identity, status: 'offline', room: null, focus: null });
    assert.deepEqual(w.refused.map((x) => [x.index, x.code]), [[2, 'token_invalid'], [3, 'token_missing']], `refused: ${JSON.stringify(w.refused)}`);
    for (const x of w.refused) assert.equal(typeof x.message, 'string');

    // Bob's app opens its presence socket: Ada sees him online.
    const bobWatch = await presenceSocket(ctx, relay);
    w = await watch(bobWatch, [bob.token]);
    assert.equal(w.type, 'watching');
    assert.deepEqual(w.refused, []);
    await presenceOf(adaWatch, bob.identity, (p) => p.status === 'online' && p.room === null && p.focus === null, 'Bob online');

    // Room tokens: the owner's has `host`, a member's not.
    const ticket = await call(relay, 'POST', `/v1/groups/${group.id}/room`, { token: bob.token });
    assert.equal(ticket.status, 200, ticket.text);
    assert.equal(ticket.json.room, group.room);
    assert.equal(ticket.json.title, group.name);
    assert.equal(ticket.json.host, false);
    const rc = tokenClaims(ticket.json.token);
    assert.equal(rc.aud, 'studyhall-relay', 'a room token');
    assert.equal(rc.room, group.room);
    assert.equal(rc.sub, bob.identity, 'your identity as sub');
    assert.equal(rc.name, 'Bob');
    assert.equal(typeof rc.device, 'string', 'the device it last joined on');
    assert.deepEqual(
      Object.fromEntries(Object.entries(rc.grants).filter(([, v]) => v)),
      { join: true, publish: true, subscribe: true, chat: true },
      'a member: join, publish, subscribe and chat',
    );
    assert.equal(rc.exp - rc.iat, ROOM_TOKEN_SECS, 'for 12 h');
    assert.ok(Math.abs(ticket.json.expires_at - rc.exp * 1000) <= 2000);
    const hostTicket = await call(relay, 'POST', `/v1/groups/${group.id}/room`, { token: ada.token });
    assert.equal(hostTicket.status, 200);
    assert.equal(hostTicket.json.host, true);
    assert.equal(tokenClaims(hostTicket.json.token).grants.host, true, "the owner's token has host");

    // A group token is not a room token, and a room token is not a group token.
    assertApiError(await call(relay, 'GET', `/v1/groups/${group.id}`, { token: ticket.json.token }), 401, 'token_invalid', 'a room token on a group call');
    const wrong = await ctx.connect(relay);
    await assert.rejects(wrong.join({ room: group.room, token: bob.token }), (e) => e.code === 'token_invalid', 'a group token on join');

    // Bob joins the group's room on /ws: Ada sees him in_room, with the group filled in.
    const bobRoom = await ctx.connect(relay);
    const joined = await bobRoom.join({ room: ticket.json.room, token: ticket.json.token });
    assert.equal(joined.you.identity, bob.identity);
    assert.equal(joined.you.grants.host, false);
    await presenceOf(
      adaWatch,
      bob.identity,
      (p) => p.status === 'in_room' && p.room?.room === group.room && p.room?.group === group.id && p.focus === null,
      'Bob in_room in the group room, no timer running',
    );

    // Ada joins as host and starts the focus timer: Bob's presence carries the phase.
    const adaRoom = await ctx.connect(relay);
    const adaJoined = await adaRoom.join({ room: group.room, token: hostTicket.json.token });
    assert.equal(adaJoined.you.grants.host, true);
    await adaRoom.timerStart();
    const focusing = await presenceOf(adaWatch, bob.identity, (p) => p.status === 'in_room' && p.focus?.phase === 'focus', 'Bob focusing');
    assert.equal(typeof focusing.presence.focus.ends_at, 'number', 'ends_at while the timer runs');
    assert.ok(focusing.presence.focus.ends_at > Date.now() - 60_000);
    await adaRoom.timerStop();
    await presenceOf(adaWatch, bob.identity, (p) => p.status === 'in_room' && p.focus === null, 'the timer stopped: focus null');

    // Bob appears offline: ack, and Ada sees him offline, also while in a room.
    const ack = await bobWatch.request({ type: 'set_hidden', hidden: true });
    assert.deepEqual(ack, { type: 'ack', request_id: ack.request_id });
    await presenceOf(adaWatch, bob.identity, (p) => p.status === 'offline' && p.room === null, 'Bob hidden');
    bobWatch.send({ type: 'set_hidden', hidden: false }); // no request_id: no ack
    await presenceOf(adaWatch, bob.identity, (p) => p.status === 'in_room', 'Bob visible again, in the room');
    await settlePresence(bobWatch);
    assert.deepEqual(bobWatch.pending('ack'), [], 'set_hidden without request_id is not acked');

    // He leaves the room: online (his presence socket is open).
    await bobRoom.leave();
    await presenceOf(adaWatch, bob.identity, (p) => p.status === 'online' && p.room === null, 'Bob back to online');

    // In the room of a group Ada does not watch: in_room, that room named, `group` null.
    const bobsOwn = await created(relay, { name: 'Bob’s own', your_name: 'Bob', token: bob.token });
    assert.equal(bobsOwn.identity, bob.identity);
    const ownTicket = await call(relay, 'POST', `/v1/groups/${bobsOwn.group.id}/room`, { token: bobsOwn.token });
    assert.equal(ownTicket.status, 200);
    const bobOwnRoom = await ctx.connect(relay);
    await bobOwnRoom.join({ room: ownTicket.json.room, token: ownTicket.json.token });
    await presenceOf(
      adaWatch,
      bob.identity,
      (p) => p.status === 'in_room' && p.room?.room === bobsOwn.group.room && p.room?.group === null,
      "Bob in another group's room: group null",
    );
    await bobOwnRoom.leave();
    await presenceOf(adaWatch, bob.identity, (p) => p.status === 'online', 'Bob online again');

    // Hidden anywhere: offline. A second socket of Bob's asks to appear offline.
    const bobSecond = await presenceSocket(ctx, relay);
    assert.equal((await watch(bobSecond, [bob.token], { hidden: true })).type, 'watching');
    await presenceOf(adaWatch, bob.identity, (p) => p.status === 'offline', 'Bob hidden by his second socket');
    bobSecond.close();
    await presenceOf(adaWatch, bob.identity, (p) => p.status === 'online', 'the hidden socket closed: online');

    // He closes his presence socket: offline.
    bobWatch.close();
    await presenceOf(adaWatch, bob.identity, (p) => p.status === 'offline', 'Bob offline');

    // A watch again replaces the set: an empty one watches nothing.
    w = await watch(adaWatch, []);
    assert.equal(w.type, 'watching');
    assert.deepEqual(w.groups, []);
    assert.deepEqual(w.presence, []);
  });
});

test('groups: the schedule — a weekly session added, read back, its rules, replaced and removed', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const relay = await ctx.relay(await ctx.dataDir());
    const ada = await created(relay);
    const { group } = ada;
    const bob = (await join(relay, { code: group.invite, name: 'Bob' })).json;
    const cy = (await join(relay, { code: group.invite, name: 'Cy' })).json;
    const adaWatch = await presenceSocket(ctx, relay);
    assert.equal((await watch(adaWatch, [ada.token])).type, 'watching');

    // Any member adds one: 201, the session with id and by, the title trimmed.
    const path = `/v1/groups/${group.id}/sessions`;
    let r = await call(relay, 'POST', path, { token: bob.token, body: session({ title: '  Problem set ' }) });
    assert.equal(r.status, 201, r.text);
    const s = r.json;
    assert.match(s.id, SESSION_ID);
    assert.deepEqual(s, { id: s.id, by: bob.identity, ...session() }, 'the stored session, title trimmed, no changes field');
    const updated = await adaWatch.waitForType('group_updated', 5000, (f) => f.group.sessions.length === 1);
    assert.deepEqual(updated.group.sessions, [s], 'watchers get the whole group');

    // Read back.
    r = await call(relay, 'GET', `/v1/groups/${group.id}`, { token: cy.token });
    assert.deepEqual(r.json.sessions, [s]);
    const once = await call(relay, 'POST', path, { token: cy.token, body: session({ title: 'Exam', start: '2027-02-01T09:00', tz: 'UTC', minutes: 120, rrule: undefined }) });
    assert.equal(once.status, 201, once.text);
    assert.equal(once.json.rrule, undefined, 'a session that happens once has no rrule');
    r = await call(relay, 'GET', `/v1/groups/${group.id}`, { token: ada.token });
    assert.deepEqual(r.json.sessions.map((x) => x.id), [s.id, once.json.id], 'in the order they were added');

    // The rules: 400 invalid_field, with the message saying which.
    const refused = async (draft, what, message) => {
      const res = await call(relay, 'POST', path, { token: bob.token, body: draft });
      assertApiError(res, 400, 'invalid_field', what);
      if (message) assert.match(res.json.error.message, message, `${what}: the message says which`);
    };
    await refused(session({ minutes: 4 }), '4 minutes', /5 to 720 minutes/);
    await refused(session({ minutes: 721 }), '721 minutes', /5 to 720 minutes/);
    await refused(session({ tz: 'Nowhere/City' }), 'no such zone', /not a time zone name/);
    await refused(session({ rrule: 'FREQ=HOURLY' }), 'hourly', /at most daily/);
    await refused(session({ rrule: 'FREQ=DAILY;BYHOUR=9,18' }), 'BYHOUR', /at its start time/);
    await refused(session({ rrule: 'FREQ=DAILY;BYMINUTE=0,30' }), 'BYMINUTE', /at its start time/);
    await refused(session({ rrule: 'FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1' }), 'BYSETPOS', /at its start time/);
    await refused(session({ rrule: 'RRULE:FREQ=WEEKLY' }), 'RRULE: in front');
    await refused(session({ start: '2026-12-07T18:00:00' }), 'seconds in start');
    await refused(session({ start: '1999-12-07T18:00' }), 'before 2000');
    await refused(session({ title: '   ' }), 'a blank title');
    await refused(session({ title: 'x'.repeat(101) }), 'a title of 101 characters');
    await refused(session({ rrule: undefined, changes: [{ occurrence: '2026-12-21T18:00', moved_to: null }] }), 'changes without rrule');
    // A field not known, or a missing one: 400 malformed.
    assertApiError(await call(relay, 'POST', path, { token: bob.token, body: { ...session(), colour: 'red' } }), 400, 'malformed', 'an unknown field');
    const { minutes, ...noMinutes } = session();
    assert.equal(minutes, 90);
    assertApiError(await call(relay, 'POST', path, { token: bob.token, body: noMinutes }), 400, 'malformed', 'a missing field');

    // Replace: the owner, and the member who added it; others 403.
    const spath = `${path}/${s.id}`;
    const cancelled = session({ changes: [{ occurrence: '2026-12-21T18:00', moved_to: null }, { occurrence: '2026-12-28T18:00', moved_to: '2026-12-29T10:00' }] });
    assertApiError(await call(relay, 'PUT', spath, { token: cy.token, body: cancelled }), 403, 'forbidden', 'another member replaces it');
    assertApiError(await call(relay, 'DELETE', spath, { token: cy.token }), 403, 'forbidden', 'another member removes it');
    r = await call(relay, 'PUT', spath, { token: bob.token, body: cancelled });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { id: s.id, by: bob.identity, ...cancelled }, 'id and by unchanged');
    r = await call(relay, 'PUT', spath, { token: ada.token, body: session({ title: 'Problem set (owner)' }) });
    assert.equal(r.status, 200, 'the owner replaces any session');
    assert.equal(r.json.by, bob.identity);
    assert.equal(r.json.changes, undefined, 'changes absent when empty');

    // A session id the group does not have: 404 not_found.
    assertApiError(await call(relay, 'PUT', `${path}/0000beef`, { token: ada.token, body: session() }), 404, 'not_found', 'PUT of no such session');
    assertApiError(await call(relay, 'DELETE', `${path}/0000beef`, { token: ada.token }), 404, 'not_found', 'DELETE of no such session');

    // Remove: 204; gone from the group.
    r = await call(relay, 'DELETE', spath, { token: bob.token });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');
    r = await call(relay, 'GET', `/v1/groups/${group.id}`, { token: ada.token });
    assert.deepEqual(r.json.sessions.map((x) => x.id), [once.json.id]);
    assertApiError(await call(relay, 'DELETE', spath, { token: bob.token }), 404, 'not_found', 'removed twice');
  });
});

test('groups: removing a member sends group_gone (removed), then 403 banned everywhere; leaving; deleting', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const relay = await ctx.relay(await ctx.dataDir());
    const ada = await created(relay);
    const { group } = ada;
    const bobDevice = newDevice();
    const bob = (await join(relay, { code: group.invite, name: 'Bob', device: bobDevice })).json;
    const cy = (await join(relay, { code: group.invite, name: 'Cy' })).json;
    // Bob also has a group of his own on this relay, with the same identity.
    const bobsOwn = await created(relay, { name: 'Bob’s group', your_name: 'Bob', token: bob.token });
    assert.equal(bobsOwn.identity, bob.identity);

    const adaWatch = await presenceSocket(ctx, relay);
    assert.equal((await watch(adaWatch, [ada.token])).type, 'watching');
    const bobWatch = await presenceSocket(ctx, relay);
    const bw = await watch(bobWatch, [bob.token, bobsOwn.token]);
    assert.deepEqual(bw.groups.map((g) => g.id).sort(), [group.id, bobsOwn.group.id].sort());

    // Only the owner removes; the owner cannot leave.
    const member = (id) => `/v1/groups/${group.id}/members/${id}`;
    assertApiError(await call(relay, 'DELETE', member(bob.identity), { token: cy.token }), 403, 'forbidden', 'a member removes another');
    assertApiError(await call(relay, 'DELETE', member(ada.identity), { token: ada.token }), 403, 'forbidden', 'the owner leaves');

    // The owner removes Bob: 204; Bob's socket gets group_gone (removed), Ada's group_updated.
    let r = await call(relay, 'DELETE', member(bob.identity), { token: ada.token });
    assert.equal(r.status, 204, r.text);
    const gone = await bobWatch.waitForType('group_gone');
    assert.deepEqual(gone, { type: 'group_gone', group: group.id, reason: 'removed' });
    const upd = await adaWatch.waitForType('group_updated', 5000, (f) => f.group.members.length === 2);
    assert.deepEqual(upd.group.members.map((m) => m.identity), [ada.identity, cy.identity]);
    // Bob's socket stays, watching his own group.
    await settlePresence(bobWatch);
    assert.equal(bobWatch.closeInfo, null);

    // Afterwards: 403 banned on every call, and on join by identity or by device.
    assertApiError(await call(relay, 'GET', `/v1/groups/${group.id}`, { token: bob.token }), 403, 'banned', 'read after removal');
    assertApiError(await call(relay, 'POST', `/v1/groups/${group.id}/room`, { token: bob.token }), 403, 'banned', 'room token after removal');
    assertApiError(await call(relay, 'POST', `/v1/groups/${group.id}/sessions`, { token: bob.token, body: session() }), 403, 'banned', 'add a session after removal');
    // A removal makes a new invite: the one Bob holds stops working.
    const current = (await call(relay, 'GET', `/v1/groups/${group.id}`, { token: ada.token })).json.invite;
    assert.notEqual(current, group.invite, 'a new invite after a removal');
    assertApiError(await join(relay, { code: group.invite, name: 'Bob', device: newDevice() }), 404, 'invite_not_found', 'the old invite after a removal');
    assertApiError(await join(relay, { code: current, name: 'Bob', device: bobDevice }), 403, 'banned', 'join again from the same device');
    assertApiError(await join(relay, { code: current, name: 'Robert', device: newDevice(), token: bob.token }), 403, 'banned', 'join again with his identity on another device');
    assertApiError(await join(relay, { code: current, name: 'Bob', device: bobDevice, token: bobsOwn.token }), 403, 'banned', "join again with his other group's token");
    // A watch with his token: refused as banned, the socket stays.
    const again = await watch(bobWatch, [bobsOwn.token, bob.token]);
    assert.equal(again.type, 'watching');
    assert.deepEqual(again.groups.map((g) => g.id), [bobsOwn.group.id]);
    assert.deepEqual(again.refused.map((x) => [x.index, x.code]), [[1, 'banned']]);

    // Removing him again: he is not a member: 404 not_found.
    assertApiError(await call(relay, 'DELETE', member(bob.identity), { token: ada.token }), 404, 'not_found', 'remove a non-member');
    assertApiError(await call(relay, 'DELETE', member('m-000000000000'), { token: ada.token }), 404, 'not_found', 'remove an identity never a member');

    // A token of another group opens nothing here: 403 forbidden.
    assertApiError(await call(relay, 'GET', `/v1/groups/${group.id}`, { token: bobsOwn.token }), 403, 'forbidden', 'a token for another group');

    // Cy leaves (names her own identity): 204, group_gone for her socket; she may come back.
    const cyWatch = await presenceSocket(ctx, relay);
    assert.equal((await watch(cyWatch, [cy.token])).type, 'watching');
    r = await call(relay, 'DELETE', member(cy.identity), { token: cy.token });
    assert.equal(r.status, 204, r.text);
    assert.deepEqual(await cyWatch.waitForType('group_gone'), { type: 'group_gone', group: group.id, reason: 'removed' });
    assertApiError(await call(relay, 'GET', `/v1/groups/${group.id}`, { token: cy.token }), 403, 'forbidden', 'read after leaving');
    const w = await watch(cyWatch, [cy.token]);
    assert.deepEqual(w.refused.map((x) => [x.index, x.code]), [[0, 'forbidden']], 'a watch after leaving');
    // (Bob's removal made a new invite; Cy knows it as a member would.)
    r = await join(relay, { code: current, name: 'Cy', token: cy.token });
    assert.equal(r.status, 200, `a member who left may join again: ${r.text}`);
    assert.equal(r.json.identity, cy.identity, 'with her token, the same identity');
    assert.equal(r.json.group.members.at(-1).identity, cy.identity, 'back last');

    // The owner deletes the group: 204; watchers get group_gone (deleted); tokens then 404.
    assertApiError(await call(relay, 'DELETE', `/v1/groups/${group.id}`, { token: r.json.token }), 403, 'forbidden', 'a member deletes the group');
    const adaGone = adaWatch.waitForType('group_gone');
    r = await call(relay, 'DELETE', `/v1/groups/${group.id}`, { token: ada.token });
    assert.equal(r.status, 204, r.text);
    assert.deepEqual(await adaGone, { type: 'group_gone', group: group.id, reason: 'deleted' });
    assertApiError(await call(relay, 'GET', `/v1/groups/${group.id}`, { token: ada.token }), 404, 'not_found', 'a deleted group');
    const aw = await watch(adaWatch, [ada.token]);
    assert.deepEqual(aw.refused.map((x) => [x.index, x.code]), [[0, 'not_found']]);
  });
});

test('groups: bad requests — bodies (413, 415, 400), tokens (401, 403), the address limit (429)', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const relay = await ctx.relay(await ctx.dataDir());
    const ada = await created(relay);
    const { group } = ada;

    // A body over 16 KiB: 413 malformed.
    const big = JSON.stringify({ name: 'x', your_name: 'Ada', device: 'd'.repeat(64), token: 'y'.repeat(MAX_BODY) });
    assert.ok(big.length > MAX_BODY);
    assertApiError(await call(relay, 'POST', '/v1/groups', { raw: big, headers: { 'content-type': 'application/json' } }), 413, 'malformed', 'a body over 16 KiB');
    assertApiError(
      await call(relay, 'POST', `/v1/groups/${group.id}/sessions`, { token: ada.token, raw: JSON.stringify({ ...session(), title: 'z'.repeat(MAX_BODY + 1) }), headers: { 'content-type': 'application/json' } }),
      413,
      'malformed',
      'a session body over 16 KiB',
    );
    // No Content-Type: 415; not JSON, or an unknown field: 400.
    assertApiError(await call(relay, 'POST', '/v1/groups', { raw: JSON.stringify({ name: 'A', your_name: 'Ada', device: 'd1' }) }), 415, 'malformed', 'no Content-Type');
    assertApiError(await call(relay, 'POST', '/v1/groups', { raw: '{"name":', headers: { 'content-type': 'application/json' } }), 400, 'malformed', 'not JSON');
    assertApiError(await call(relay, 'POST', '/v1/groups', { body: { name: 'A', your_name: 'Ada', device: 'd1', colour: 'red' } }), 400, 'malformed', 'an unknown field');
    // Names.
    assertApiError(await create(relay, { name: '   ' }), 400, 'invalid_field', 'a blank group name');
    assertApiError(await create(relay, { name: 'x'.repeat(61) }), 400, 'invalid_field', 'a group name of 61 characters');
    assert.equal((await create(relay, { name: 'é'.repeat(60) })).status, 201, 'a group name of 60 characters (not bytes)');
    assertApiError(await create(relay, { your_name: 'A\u0007' }), 400, 'invalid_field', 'a control character in the name');
    assertApiError(await create(relay, { device: 'x'.repeat(65) }), 400, 'invalid_field', 'a device of 65 bytes');

    // Tokens: missing, not one, another group's.
    assertApiError(await call(relay, 'GET', `/v1/groups/${group.id}`), 401, 'token_missing', 'no Authorization');
    assertApiError(await call(relay, 'GET', `/v1/groups/${group.id}`, { headers: { authorization: 'Bearer ' } }), 401, 'token_missing', 'an empty token');
    assertApiError(await call(relay, 'GET', `/v1/groups/${group.id}`, { token: 'abc.def.ghi' }), 401, 'token_invalid', 'a malformed token');
    const other = await created(relay, { name: 'Other' });
    assertApiError(await call(relay, 'GET', `/v1/groups/${group.id}`, { token: other.token }), 403, 'forbidden', "another group's token");
    assertApiError(await call(relay, 'POST', `/v1/groups/${group.id}/room`, { token: other.token }), 403, 'forbidden', "another group's token for the room");
    // "Calls with a token check it first, then the group and your membership, then the body."
    const bad = { raw: '{"title":', headers: { 'content-type': 'application/json' } };
    assertApiError(await call(relay, 'POST', `/v1/groups/${group.id}/sessions`, bad), 401, 'token_missing', 'no token and a bad body');
    assertApiError(await call(relay, 'POST', `/v1/groups/${group.id}/sessions`, { ...bad, token: other.token }), 403, 'forbidden', "another group's token and a bad body");
    assertApiError(await call(relay, 'POST', `/v1/groups/${group.id}/sessions`, { ...bad, token: ada.token }), 400, 'malformed', 'a good token and a bad body');

    // "Another method gets 405 with an empty body."
    const m = await call(relay, 'PATCH', `/v1/groups/${group.id}`, { token: ada.token });
    assert.equal(m.status, 405);
    assert.equal(m.text, '');

    // The address limit: 10 at once (creates and joins together, found or not), then 1 a second.
    let limited;
    for (let i = 0; i < 14 && !limited; i++) {
      const res = await call(relay, 'POST', '/v1/groups/join', { body: { code: anotherCode(group.invite), name: 'Guesser', device: newDevice() } });
      if (res.status === 429) limited = res;
      else assertApiError(res, 404, 'invite_not_found', `guess ${i + 1}`);
    }
    assert.ok(limited, 'the address limit answers 429 within a burst');
    assertApiError(limited, 429, 'rate_limited', 'over the address limit');
    const after = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(after) && after >= 1, `Retry-After in whole seconds: ${limited.headers.get('retry-after')}`);
    // A code that cannot be one does not count, and is refused as such even now.
    assertApiError(await call(relay, 'POST', '/v1/groups/join', { body: { code: '!!', name: 'Guesser', device: newDevice() } }), 400, 'invalid_field', 'a bad code while limited');
    await sleep(after * 1000);
    assert.equal((await call(relay, 'POST', '/v1/groups/join', { body: { code: group.invite, name: 'Late', device: newDevice() } })).status, 200, 'after Retry-After');
  });
});

test('presence socket: frames — unknown fields ignored, unknown_type, invalid_id, binary, the rate, first-frame errors', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const relay = await ctx.relay(await ctx.dataDir());
    const ada = await created(relay);

    // First frames: each fatal, close 4002.
    const firstFrame = async (send, code, what) => {
      const c = await presenceSocket(ctx, relay);
      send(c);
      const err = await c.waitForType('error', 5000);
      assertError(err, code, true);
      const close = await c.waitClose();
      assert.equal(close.code, 4002, `${what}: close 4002`);
    };
    await firstFrame((c) => c.send({ type: 'hello', tokens: [ada.token] }), 'unknown_type', 'an unknown type first');
    await firstFrame((c) => c.send({ type: 'ping' }), 'not_joined', 'a ping first');
    await firstFrame((c) => c.send({ type: 'set_hidden', hidden: true }), 'not_joined', 'set_hidden first');
    await firstFrame((c) => c.sendRaw('not json'), 'bad_message', 'not JSON first');
    await firstFrame((c) => c.send({ type: 'watch' }), 'bad_message', 'a watch without tokens');
    await firstFrame((c) => c.send({ type: 'watch', tokens: [ada.token], request_id: '' }), 'invalid_id', 'an empty request_id first');
    await firstFrame((c) => c.ws.send(Buffer.from([1, 2, 3]), { binary: true }), 'binary_not_supported', 'a binary frame first');
    await firstFrame((c) => c.send({ type: 'watch', tokens: Array.from({ length: 101 }, () => ada.token) }), 'limit_reached', '101 tokens first');

    // The fatal errors of a first frame carry no request_id, but for limit_reached.
    for (const [frame, code] of [
      [{ type: 'hello', request_id: 'h1' }, 'unknown_type'],
      [{ type: 'watch', request_id: 'w1' }, 'bad_message'],
      [{ type: 'watch', tokens: Array.from({ length: 101 }, () => ada.token), request_id: 'w2' }, 'limit_reached'],
    ]) {
      const c = await presenceSocket(ctx, relay);
      c.send(frame);
      const err = await c.waitForType('error');
      assertError(err, code, true);
      assert.equal(err.request_id, code === 'limit_reached' ? frame.request_id : undefined, `request_id of a fatal ${code}: ${JSON.stringify(err)}`);
    }

    // A frame over 64 KiB: fatal message_too_large, close 1009.
    const tooBig = await presenceSocket(ctx, relay);
    assert.equal((await watch(tooBig, [ada.token])).type, 'watching');
    tooBig.send({ type: 'ping', request_id: 'big', pad: 'x'.repeat(65_536) });
    assertError(await tooBig.waitForType('error'), 'message_too_large', true);
    assert.equal((await tooBig.waitClose()).code, 1009);

    // A text frame that is not UTF-8: fatal bad_message, close 1007.
    const notUtf8 = await presenceSocket(ctx, relay);
    assert.equal((await watch(notUtf8, [ada.token])).type, 'watching');
    notUtf8.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    assertError(await notUtf8.waitForType('error'), 'bad_message', true);
    assert.equal((await notUtf8.waitClose()).code, 1007, 'close 1007');

    // A watch with a field this relay does not know is taken.
    const c = await presenceSocket(ctx, relay);
    const w = await watch(c, [ada.token], { colour: 'red' });
    assert.equal(w.type, 'watching', `unknown fields are ignored: ${JSON.stringify(w)}`);

    // Later errors are not fatal, and echo a valid request_id.
    let reply = await c.request({ type: 'ping', later: { nested: true } });
    assert.equal(reply.type, 'pong', 'a ping with an unknown field');
    reply = await c.request({ type: 'hello' });
    assertError(reply, 'unknown_type', false, reply.request_id);
    reply = await c.request({ type: 'set_hidden' });
    assertError(reply, 'bad_message', false, reply.request_id);
    reply = await c.request({ type: 'watch', tokens: Array.from({ length: 101 }, () => ada.token) });
    assertError(reply, 'limit_reached', false, reply.request_id);
    c.send({ type: 'ping', request_id: 'x'.repeat(65) });
    assertError(await c.waitForType('error'), 'invalid_id', false);
    c.send({ type: 'ping', request_id: 7 });
    assertError(await c.waitForType('error'), 'bad_message', false);
    c.ws.send(Buffer.from('{"type":"ping"}'), { binary: true });
    assertError(await c.waitForType('error'), 'binary_not_supported', false);
    await settlePresence(c);
    assert.equal(c.closeInfo, null, 'the socket stays open');
    // The old set stayed after the refused watch.
    reply = await watch(c, [ada.token]);
    assert.equal(reply.type, 'watching');

    // The rate: 5 a second after a burst of 20. A flood gets rate_limited with retry_after_ms.
    await sleep(4500); // let the bucket fill again
    for (let i = 0; i < 26; i++) c.send({ type: 'ping', request_id: `flood${i}` });
    const limited = await c.waitFor((f) => f.type === 'error' && f.code === 'rate_limited', 5000, 'rate_limited');
    assertError(limited, 'rate_limited', false);
    assert.ok(Number.isInteger(limited.retry_after_ms) && limited.retry_after_ms > 0, `retry_after_ms: ${JSON.stringify(limited)}`);
    assert.equal(limited.request_id, undefined, 'a frame dropped for the rate: no request_id');
    await sleep(1500);
    await settlePresence(c);
    const pongs = c.frames.filter((f) => f.type === 'pong' && String(f.request_id).startsWith('flood')).length;
    const dropped = c.frames.filter((f) => f.type === 'error' && f.code === 'rate_limited').length;
    assert.equal(pongs + dropped, 26, `every frame answered or dropped with an error (${pongs} pongs, ${dropped} dropped)`);
    assert.ok(dropped >= 1 && dropped < 10, `a few dropped, not closed: ${dropped}`);
    assert.equal(c.closeInfo, null);

    // Ten dropped in a run: fatal rate_limited, close 4008.
    const f = await presenceSocket(ctx, relay);
    assert.equal((await watch(f, [ada.token])).type, 'watching');
    for (let i = 0; i < 40; i++) f.send({ type: 'ping' });
    const fatal = await f.waitFor((x) => x.type === 'error' && x.fatal === true, 5000, 'the fatal rate_limited');
    assertError(fatal, 'rate_limited', true);
    assert.equal((await f.waitClose()).code, 4008, 'close 4008 for flooding');
  });
});
