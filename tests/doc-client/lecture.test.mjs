// End-to-end tests of the lecture (the room's mode, who may speak, mute all, the lock),
// lowering every hand, and reactions, written only from docs/protocol.md ("Lecture:
// presenters, mode, speaking, lock", "Reactions", `lower_all_hands`, `set_media`,
// `join`, `end_room`, the invite endpoints, the errors and close codes, Limits).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { DEFAULT_LECTURE } from './client.mjs';
import { withCleanup, joinAs, mintToken, assertError, assertForbidden, assertBadField, settle, sleep, capitalized } from './harness.mjs';

const TEST_TIMEOUT = 60_000;
const LONG_TEST_TIMEOUT = 120_000;

/** The messages of a refused `set_media` in a lecture (the table in `set_media`). */
const MIC_REFUSED = 'this room is a lecture: the microphone stays off until the host lets you speak (raise your hand)';
const CAMERA_REFUSED = 'this room is a lecture: the camera stays off until the host lets you speak (raise your hand)';
const SCREEN_REFUSED = 'this room is a lecture: only presenters and the host share their screen';
/** The refusal of a join, and of an invite, to a locked room. */
const LOCKED = 'the room is locked: the host takes no new people now';
/** "2 a second per person after a burst of 5". */
const REACTION_BURST = 5;
const MAX_SPEAKERS = 100;

const forbiddenMessage = (type) => `\`${type}\` needs the \`host\` grant, which this token does not have`;
const ALL_ON = { mic: true, camera: true, screen: true };
const MIC_CAMERA = { mic: true, camera: true, screen: false };

// ---------------------------------------------------------------- joining

/** Mint a token for `identity` (display name: the identity, capitalized). */
function tokenFor(dir, room, identity, { host = false } = {}) {
  return mintToken(dir, { room, identity, name: capitalized(identity), host });
}

/** Mint a token and join, with `media` if given; the client keeps its token. */
async function enter(ctx, relay, dir, room, identity, { host = false, media } = {}) {
  const token = await tokenFor(dir, room, identity, { host });
  return enterWith(ctx, relay, room, token, media);
}

/** Join with `token` on a new socket; the client keeps its token. */
async function enterWith(ctx, relay, room, token, media) {
  const [c, joined] = await joinAs(ctx, relay, room, token, media === undefined ? {} : { media });
  c.token = token;
  return [c, joined];
}

/**
 * A join that must be refused: resolves with the fatal error and the close. The doc:
 * "`error` with `"fatal": true`, then a close frame".
 */
async function joinRefused(ctx, relay, room, token) {
  const c = await ctx.connect(relay);
  const reply = await c.request({ type: 'join', room, token, protocol: 1 });
  const close = await c.waitClose();
  return { reply, close };
}

/** `room_locked`, fatal, with the documented message, then close 4005. */
async function assertLockedOut(ctx, relay, room, token, why) {
  const { reply, close } = await joinRefused(ctx, relay, room, token);
  assertError(reply, 'room_locked', true);
  assert.equal(reply.message, LOCKED, why);
  assert.equal(close.code, 4005, `close 4005: ${why}`);
}

// ---------------------------------------------------------------- HTTP (invites)

/** POST a JSON body; resolves with {status, body (parsed JSON, or the raw text)}. */
function postJson(url, body, headers = {}) {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', timeout: 5000, headers: { 'Content-Type': 'application/json', 'Content-Length': data.length, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let parsed = text;
        try {
          parsed = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

/** A host makes an invite code to its token's room (201). */
async function createInvite(relay, hostToken) {
  const res = await postJson(`${relay.http}/v1/invites`, {}, { Authorization: `Bearer ${hostToken}` });
  assert.equal(res.status, 201, `invite made: ${JSON.stringify(res)}`);
  assert.equal(typeof res.body.code, 'string');
  return res.body.code;
}

function redeem(relay, code, name) {
  return postJson(`${relay.http}/v1/invites/redeem`, { code, name });
}

// ---------------------------------------------------------------- assertions

const marksOf = (clients) => clients.map((c) => c.frames.length);

/**
 * Marks taken once everything sent to these clients before has arrived (a ping round
 * trip each), so a broadcast still on its way is not taken for one sent after the mark.
 */
async function settledMarks(clients) {
  await settle(...clients);
  return marksOf(clients);
}

/** After a ping round trip on each client, none got a frame of these types since `marks`. */
async function expectNothingSince(clients, marks, types, why) {
  await settle(...clients);
  clients.forEach((c, i) => {
    const late = c.frames.slice(marks[i]).filter((f) => types.includes(f.type));
    assert.deepEqual(late, [], why);
  });
}

/** The `participant_updated` frames about `identity` received since `mark`. */
function updatesOf(c, mark, identity) {
  return c.frames.slice(mark).filter((f) => f.type === 'participant_updated' && f.participant?.identity === identity);
}

/** A Lecture has every documented field with the right type. */
function assertLecture(l) {
  const at = JSON.stringify(l);
  for (const key of Object.keys(DEFAULT_LECTURE)) assert.ok(key in l, `the documented field ${key}: ${at}`);
  assert.ok(Array.isArray(l.presenters) && l.presenters.every((p) => typeof p === 'string'), `presenters: ${at}`);
  assert.ok(['study', 'lecture'].includes(l.mode), `mode: ${at}`);
  assert.ok(l.started_at === null || Number.isSafeInteger(l.started_at), `started_at: ${at}`);
  if (l.mode === 'study') assert.equal(l.started_at, null, `null in a study room: ${at}`);
  assert.equal(typeof l.locked, 'boolean', `locked: ${at}`);
  assert.equal(typeof l.everyone_speaks, 'boolean', `everyone_speaks: ${at}`);
  assert.ok(Array.isArray(l.speakers) && l.speakers.every((p) => typeof p === 'string'), `speakers: ${at}`);
}

/** The next `lecture` event on each client: the same whole Lecture, by `by`; returns it. */
async function nextLectureOn(clients, by) {
  let lecture;
  for (const c of clients) {
    const f = await c.waitForType('lecture');
    assert.equal(f.by, by, `by: ${JSON.stringify(f)}`);
    assert.ok(!('request_id' in f), 'a broadcast carries no request_id');
    assertLecture(f.lecture);
    if (lecture === undefined) lecture = f.lecture;
    else assert.deepEqual(f.lecture, lecture, 'everyone gets the same Lecture');
    if (c.pending('lecture').length === 0) assert.deepEqual(c.lecture, f.lecture, 'the copy follows the last event');
  }
  return lecture;
}

/** `set_media`; resolves with the answer (an `ack` or an `error`). */
function setMedia(c, media) {
  return c.request({ type: 'set_media', ...media });
}

/** A refused `set_media`: a non-fatal `forbidden` with this message. */
async function assertMediaRefused(c, media, message) {
  const reply = await setMedia(c, media);
  assertError(reply, 'forbidden', false, reply.request_id);
  assert.equal(reply.message, message);
}

/** Everyone in `clients` gets a `participant_updated` about `identity` matching `pred`. */
async function updatedOn(clients, identity, pred, what) {
  const frames = [];
  for (const c of clients) {
    frames.push(await c.waitForType('participant_updated', 5000, (f) => f.participant?.identity === identity && pred(f.participant)));
  }
  return frames;
}

const micOff = (p) => p.media.mic === false;

// ---------------------------------------------------------------- 1. study room or lecture

test('lecture: students come in muted, wait to be let speak, never share their screen; taking it back turns them off', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'logic';
    const [ada, adaJoined] = await enter(ctx, relay, dir, room, 'ada', { host: true, media: MIC_CAMERA });
    await ada.act({ type: 'set_presenter', identity: 'pat', presenter: true });
    await nextLectureOn([ada], 'ada');
    const [pat, patJoined] = await enter(ctx, relay, dir, room, 'pat', { media: ALL_ON });
    let [bob, bobJoined] = await enter(ctx, relay, dir, room, 'bob', { media: MIC_CAMERA });
    const all = [ada, pat, bob];

    await t.test('a study room: the default Lecture, and everyone starts with what they asked', () => {
      assert.deepEqual(adaJoined.features.lecture, DEFAULT_LECTURE);
      assert.deepEqual(bobJoined.features.lecture, { ...DEFAULT_LECTURE, presenters: ['pat'] });
      assert.equal(patJoined.you.role, 'presenter');
      assert.deepEqual(patJoined.you.media, ALL_ON);
      assert.deepEqual(bobJoined.you.media, MIC_CAMERA, 'a study room lets everyone speak');
    });

    await t.test('the five lecture requests and lower_all_hands need the host grant, presenters included', async () => {
      const marks = await settledMarks(all);
      for (const [c, frame] of [
        [bob, { type: 'set_room_mode', mode: 'lecture' }],
        [bob, { type: 'allow_speaking', identity: 'bob', allowed: true }],
        [bob, { type: 'mute_all' }],
        [bob, { type: 'lock_room', locked: true }],
        [bob, { type: 'lower_all_hands' }],
        [pat, { type: 'set_room_mode', mode: 'lecture' }],
        [pat, { type: 'mute_all' }],
        [pat, { type: 'lock_room', locked: true }],
      ]) {
        const reply = await c.request(frame);
        assertForbidden(reply, 'host', reply.request_id);
        assert.equal(reply.message, forbiddenMessage(frame.type));
      }
      await expectNothingSince(all, marks, ['lecture', 'participant_updated', 'hand_queue'], 'a refused request changes nothing');
    });

    let started;
    await t.test('becoming a lecture: the lecture event with its clock, then the student is turned off; nobody else', async () => {
      const marks = await settledMarks(all);
      const before = Date.now();
      await ada.act({ type: 'set_room_mode', mode: 'lecture' });
      const lecture = await nextLectureOn(all, 'ada');
      assert.equal(lecture.mode, 'lecture');
      assert.ok(Math.abs(lecture.started_at - before) < 60_000, `started_at is the relay's now: ${lecture.started_at} vs ${before}`);
      started = lecture.started_at;
      for (const [i, c] of all.entries()) {
        const [updated] = await updatedOn([c], 'bob', (p) => !p.media.mic && !p.media.camera && !p.media.screen);
        const ev = c.frames.slice(marks[i]).find((f) => f.type === 'lecture');
        assert.ok(c.frames.indexOf(ev) < c.frames.indexOf(updated), 'the lecture event comes first');
      }
      await settle(...all);
      all.forEach((c, i) => {
        assert.deepEqual(updatesOf(c, marks[i], 'ada'), [], 'a host is not limited');
        assert.deepEqual(updatesOf(c, marks[i], 'pat'), [], 'a presenter is not limited');
      });
    });

    await t.test('making a lecture of a lecture changes nothing: ack, no event', async () => {
      const marks = await settledMarks(all);
      await ada.act({ type: 'set_room_mode', mode: 'lecture' });
      await expectNothingSince(all, marks, ['lecture', 'participant_updated'], 'a no-op sends nothing');
      assert.equal(ada.lecture.started_at, started);
    });

    await t.test('a student turning a source on gets forbidden with the documented message; nothing changes', async () => {
      const marks = await settledMarks(all);
      await assertMediaRefused(bob, { mic: true }, MIC_REFUSED);
      await assertMediaRefused(bob, { camera: true }, CAMERA_REFUSED);
      await assertMediaRefused(bob, { screen: true }, SCREEN_REFUSED);
      assert.equal((await setMedia(bob, { mic: false, camera: false })).type, 'ack', 'turning off is never refused');
      await expectNothingSince(all, marks, ['participant_updated'], 'nothing changed');
    });

    let cat;
    await t.test('a student joining a lecture with everything on starts with everything off', async () => {
      const marks = await settledMarks(all);
      const [c, joined] = await enter(ctx, relay, dir, room, 'cat', { media: ALL_ON });
      cat = c;
      assert.deepEqual(joined.you.media, { mic: false, camera: false, screen: false });
      assert.equal(joined.features.lecture.mode, 'lecture');
      assert.deepEqual(joined.features.lecture, ada.lecture);
      for (const [i, o] of all.entries()) {
        const pj = await o.waitForType('participant_joined', 5000, (f) => f.participant?.identity === 'cat');
        assert.deepEqual(pj.participant.media, { mic: false, camera: false, screen: false });
        assert.ok(o.frames.slice(marks[i]).every((f) => f.type !== 'error'), 'no error for it');
      }
      assert.ok(cat.frames.every((f) => f.type !== 'error'), 'the joiner gets no error for it');
    });
    all.push(cat);

    await t.test('hosts and presenters turn on what they like', async () => {
      assert.equal((await setMedia(pat, { screen: true, mic: true })).type, 'ack');
      assert.equal((await setMedia(ada, { screen: true })).type, 'ack');
      await updatedOn([cat], 'ada', (p) => p.media.screen, 'ada shares');
    });

    await t.test('the host lets one student speak: on speakers, nothing is turned on; they turn the microphone on', async () => {
      await bob.raiseHand();
      const marks = await settledMarks(all);
      await ada.act({ type: 'allow_speaking', identity: 'bob', allowed: true });
      const lecture = await nextLectureOn(all, 'ada');
      assert.deepEqual(lecture.speakers, ['bob']);
      assert.equal(lecture.everyone_speaks, false);
      await settle(...all);
      all.forEach((c, i) => assert.deepEqual(updatesOf(c, marks[i], 'bob'), [], 'the relay never turns anything on'));
      assert.equal((await setMedia(bob, { mic: true })).type, 'ack');
      assert.equal((await setMedia(bob, { camera: true })).type, 'ack');
      await updatedOn([cat], 'bob', (p) => p.media.mic && p.media.camera, 'bob speaks');
      await assertMediaRefused(bob, { screen: true }, SCREEN_REFUSED);
      await assertMediaRefused(cat, { mic: true }, MIC_REFUSED);
    });

    await t.test('a refused set_media is refused whole: the fields that turn off are not applied', async () => {
      const marks = await settledMarks(all);
      await assertMediaRefused(bob, { mic: false, screen: true }, SCREEN_REFUSED);
      await expectNothingSince(all, marks, ['participant_updated'], 'bob keeps his microphone on');
    });

    await t.test('letting speak someone who already may changes nothing: ack, no event', async () => {
      const marks = await settledMarks(all);
      await ada.act({ type: 'allow_speaking', identity: 'bob', allowed: true });
      await expectNothingSince(all, marks, ['lecture', 'participant_updated'], 'a no-op sends nothing');
    });

    await t.test('a student let speak who rejoins with the microphone on keeps it on', async () => {
      const [bob2, joined] = await enterWith(ctx, relay, room, bob.token, MIC_CAMERA);
      assert.deepEqual(joined.you.media, MIC_CAMERA);
      all[all.indexOf(bob)] = bob2;
      bob = bob2;
    });

    await t.test('the host lets everyone speak: everyone_speaks, speakers kept', async () => {
      await ada.act({ type: 'allow_speaking', allowed: true });
      const lecture = await nextLectureOn(all, 'ada');
      assert.equal(lecture.everyone_speaks, true);
      assert.deepEqual(lecture.speakers, ['bob']);
      assert.equal((await setMedia(cat, { mic: true })).type, 'ack');
      await assertMediaRefused(cat, { screen: true }, SCREEN_REFUSED);
    });

    await t.test('taking one student back while everyone speaks changes nothing for one not on speakers', async () => {
      const marks = await settledMarks(all);
      await ada.act({ type: 'allow_speaking', identity: 'cat', allowed: false });
      await expectNothingSince(all, marks, ['lecture', 'participant_updated'], 'cat is not on speakers: a no-op');
    });

    await t.test('taking everyone back (identity null) clears speakers and turns off every student\'s microphone and camera', async () => {
      const marks = await settledMarks(all);
      await ada.act({ type: 'allow_speaking', identity: null, allowed: false });
      const lecture = await nextLectureOn(all, 'ada');
      assert.equal(lecture.everyone_speaks, false);
      assert.deepEqual(lecture.speakers, []);
      for (const who of ['bob', 'cat']) await updatedOn(all, who, (p) => !p.media.mic && !p.media.camera, `${who} turned off`);
      await settle(...all);
      all.forEach((c, i) => {
        assert.deepEqual(updatesOf(c, marks[i], 'ada'), [], 'not the host');
        assert.deepEqual(updatesOf(c, marks[i], 'pat'), [], 'not the presenter');
      });
      await assertMediaRefused(bob, { mic: true }, MIC_REFUSED);
    });

    await t.test('taking one student back turns off their microphone and camera', async () => {
      await ada.act({ type: 'allow_speaking', identity: 'cat', allowed: true });
      await nextLectureOn(all, 'ada');
      assert.equal((await setMedia(cat, { mic: true, camera: true })).type, 'ack');
      await updatedOn([ada], 'cat', (p) => p.media.mic && p.media.camera, 'cat speaks');
      await ada.act({ type: 'allow_speaking', identity: 'cat', allowed: false });
      assert.deepEqual((await nextLectureOn(all, 'ada')).speakers, []);
      await updatedOn(all, 'cat', (p) => !p.media.mic && !p.media.camera, 'cat turned off');
    });

    await t.test('a presenter taken back in a lecture: role member, then what a student may not send is turned off', async () => {
      await ada.act({ type: 'set_presenter', identity: 'pat', presenter: false });
      assert.deepEqual((await nextLectureOn(all, 'ada')).presenters, []);
      for (const c of all) {
        const role = await c.waitForType('participant_updated', 5000, (f) => f.participant?.identity === 'pat' && f.participant.role === 'member');
        const off = await c.waitFor((f) => f.type === 'participant_updated' && f.participant?.identity === 'pat' && !f.participant.media.screen && !f.participant.media.mic, 5000, 'pat turned off');
        assert.ok(c.frames.indexOf(role) <= c.frames.indexOf(off), 'the role comes first');
      }
      await assertMediaRefused(pat, { screen: true }, SCREEN_REFUSED);
    });

    await t.test('a study room again: started_at null, nothing turned on, students turn on what they like', async () => {
      const marks = await settledMarks(all);
      await ada.act({ type: 'set_room_mode', mode: 'study' });
      const lecture = await nextLectureOn(all, 'ada');
      assert.equal(lecture.mode, 'study');
      assert.equal(lecture.started_at, null);
      await settle(...all);
      all.forEach((c, i) => assert.ok(updatesOf(c, marks[i], 'bob').length === 0 && updatesOf(c, marks[i], 'cat').length === 0, 'nothing is turned on'));
      assert.equal((await setMedia(bob, { mic: true, screen: true })).type, 'ack');
    });

    await t.test('who may speak is kept in a study room, and a lecture again starts its clock afresh', async () => {
      await ada.act({ type: 'allow_speaking', identity: 'bob', allowed: true });
      assert.deepEqual((await nextLectureOn(all, 'ada')).speakers, ['bob'], 'allowed in a study room, kept');
      const marks = await settledMarks(all);
      await ada.act({ type: 'set_room_mode', mode: 'lecture' });
      const lecture = await nextLectureOn(all, 'ada');
      assert.ok(lecture.started_at >= started, 'a fresh clock');
      // bob may speak: his screen goes, his microphone stays.
      await updatedOn(all, 'bob', (p) => p.media.mic && !p.media.screen, 'bob loses his screen only');
      await settle(...all);
      all.forEach((c, i) => assert.ok(updatesOf(c, marks[i], 'bob').every((f) => f.participant.media.mic), 'bob keeps his microphone'));
    });
  });
});

test('lecture: bad requests and the speakers limit', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'limits';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });

    assertBadField(await ada.request({ type: 'set_room_mode', mode: 'seminar', request_id: 'm1' }), 'mode', 'm1');
    assertBadField(await ada.request({ type: 'set_room_mode', request_id: 'm2' }), 'mode', 'm2');
    assertBadField(await ada.request({ type: 'lock_room', request_id: 'k1' }), 'locked', 'k1');
    assertBadField(await ada.request({ type: 'lock_room', locked: 'yes', request_id: 'k2' }), 'locked', 'k2');
    assertBadField(await ada.request({ type: 'allow_speaking', identity: 'bob', request_id: 'a1' }), 'allowed', 'a1');
    assertBadField(await ada.request({ type: 'allow_speaking', identity: 7, allowed: true, request_id: 'a2' }), 'identity', 'a2');
    for (const [identity, id] of [[' spaced', 'a3'], ['x'.repeat(65), 'a4'], ['', 'a5']]) {
      const reply = await ada.request({ type: 'allow_speaking', identity, allowed: true, request_id: id });
      assertError(reply, 'invalid_id', false, id);
      assert.ok(reply.message.startsWith('identity:'), reply.message);
    }
    assert.deepEqual(ada.lecture, DEFAULT_LECTURE, 'nothing changed');

    // 100 let speak one by one, none of them in the room; the 101st is refused.
    const names = Array.from({ length: MAX_SPEAKERS + 1 }, (_, i) => `s${String(i + 1).padStart(3, '0')}`);
    for (const n of names.slice(0, MAX_SPEAKERS)) await ada.act({ type: 'allow_speaking', identity: n, allowed: true });
    await ada.waitUntil(() => ada.lecture.speakers.length === MAX_SPEAKERS, 10_000, '100 speakers');
    const over = await ada.request({ type: 'allow_speaking', identity: names[MAX_SPEAKERS], allowed: true, request_id: 'over' });
    assertError(over, 'limit_reached', false, 'over');
    assert.ok(over.message.startsWith('speakers:'), over.message);
    // Everyone may still be let speak at once.
    await ada.act({ type: 'allow_speaking', allowed: true });
    await ada.waitUntil(() => ada.lecture.everyone_speaks, 5000, 'everyone speaks');
    const [, joined] = await enter(ctx, relay, dir, room, 'bob');
    assert.deepEqual(joined.features.lecture.speakers, names.slice(0, MAX_SPEAKERS), 'in the order they were let');
  });
});

// ---------------------------------------------------------------- 2. mute all

test('mute_all: every student\'s microphone off, in a study room too; cameras stay; no lecture event; they may turn it on again', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'quiet';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true, media: MIC_CAMERA });
    await ada.act({ type: 'set_presenter', identity: 'pat', presenter: true });
    const [pat] = await enter(ctx, relay, dir, room, 'pat', { media: MIC_CAMERA });
    const [bob] = await enter(ctx, relay, dir, room, 'bob', { media: MIC_CAMERA });
    const [cat] = await enter(ctx, relay, dir, room, 'cat', { media: MIC_CAMERA });
    const [dan] = await enter(ctx, relay, dir, room, 'dan');
    const all = [ada, pat, bob, cat, dan];

    let marks = await settledMarks(all);
    await ada.act({ type: 'mute_all' });
    for (const c of all) {
      for (const who of ['bob', 'cat']) {
        const [f] = await updatedOn([c], who, micOff, `${who} muted`);
        assert.equal(f.participant.media.camera, true, 'cameras stay');
      }
    }
    await settle(...all);
    all.forEach((c, i) => {
      for (const who of ['ada', 'pat', 'dan']) assert.deepEqual(updatesOf(c, marks[i], who), [], `${who}: a host, a presenter, or already muted`);
      assert.deepEqual(c.frames.slice(marks[i]).filter((f) => f.type === 'lecture'), [], 'no lecture event');
    });
    assert.deepEqual(ada.lecture, { ...DEFAULT_LECTURE, presenters: ['pat'] }, 'the Lecture is unchanged');

    // It takes nothing away: a student in a study room turns the microphone on again.
    assert.equal((await setMedia(bob, { mic: true })).type, 'ack');
    marks = await settledMarks(all);
    await ada.act({ type: 'mute_all' });
    await updatedOn(all, 'bob', micOff, 'bob muted again');
    await settle(...all);
    all.forEach((c, i) => assert.deepEqual(updatesOf(c, marks[i], 'cat'), [], 'cat was muted already'));

    // No student's microphone on: nothing but the ack.
    marks = await settledMarks(all);
    await ada.act({ type: 'mute_all' });
    await expectNothingSince(all, marks, ['participant_updated', 'lecture'], 'nothing to mute');

    // Those who join afterwards are not muted by it.
    const [, eve] = await enter(ctx, relay, dir, room, 'eve', { media: MIC_CAMERA });
    assert.deepEqual(eve.you.media, MIC_CAMERA);
  });
});

// ---------------------------------------------------------------- 3. lower every hand

test('lower_all_hands: one hand_queue by the host; set-aside hands go too; a no-op sends nothing', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'hands';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const [bob] = await enter(ctx, relay, dir, room, 'bob');
    let [cat] = await enter(ctx, relay, dir, room, 'cat');

    await bob.raiseHand();
    await cat.raiseHand();
    for (const c of [ada, bob, cat]) await c.waitUntil(() => c.hands.length === 2, 5000, 'two hands');
    const three = [ada, bob, cat];
    const marks = await settledMarks(three);
    await ada.act({ type: 'lower_all_hands' });
    await settle(...three);
    three.forEach((c, i) => {
      const queues = c.frames.slice(marks[i]).filter((f) => f.type === 'hand_queue');
      assert.deepEqual(queues, [{ type: 'hand_queue', hands: [], by: 'ada' }], 'one hand_queue, by the host');
    });

    let m = await settledMarks([ada, bob]);
    await ada.act({ type: 'lower_all_hands' });
    await expectNothingSince([ada, bob], m, ['hand_queue'], 'no hand up, none set aside: nothing');

    // cat's connection drops with her hand up: it is set aside, then lowered by lower_all_hands.
    await cat.raiseHand();
    await ada.waitUntil(() => ada.hands.length === 1, 5000, 'cat\'s hand');
    cat.terminate();
    await ada.waitForType('participant_left', 10_000, (f) => f.identity === 'cat' && f.reason === 'timeout');
    await ada.waitUntil(() => ada.hands.length === 0, 5000, 'the hand is set aside');
    await bob.waitUntil(() => bob.hands.length === 0, 5000, 'bob sees the hand set aside');
    m = await settledMarks([ada, bob]);
    await ada.act({ type: 'lower_all_hands' });
    await settle(ada, bob);
    [ada, bob].forEach((c, i) => {
      assert.deepEqual(
        c.frames.slice(m[i]).filter((f) => f.type === 'hand_queue'),
        [{ type: 'hand_queue', hands: [], by: 'ada' }],
        'a set-aside hand counts: the event is sent',
      );
    });
    m = await settledMarks([ada, bob]);
    const [cat2, joined] = await enterWith(ctx, relay, room, cat.token);
    cat = cat2;
    assert.deepEqual(joined.features.hands, [], 'the hand does not come back');
    await expectNothingSince([ada, bob], m, ['hand_queue'], 'no hand_queue when cat comes back');
  });
});

// ---------------------------------------------------------------- 4. the lock

test('lock: new people are refused (room_locked, 4005; invites 423); the admitted come back; hosts always enter', { timeout: LONG_TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'locked';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    let [bob] = await enter(ctx, relay, dir, room, 'bob');
    let [cat] = await enter(ctx, relay, dir, room, 'cat');
    const danToken = await tokenFor(dir, room, 'dan');
    const patToken = await tokenFor(dir, room, 'pat');
    const code = await createInvite(relay, ada.token);
    // A guest who redeemed before the lock but did not join.
    const early = await redeem(relay, code, 'Early Guest');
    assert.equal(early.status, 200, JSON.stringify(early));

    await t.test('cat\'s connection drops just before the lock', async () => {
      cat.terminate();
      await ada.waitForType('participant_left', 10_000, (f) => f.identity === 'cat' && f.reason === 'timeout');
    });

    await t.test('only a host locks; the lock is a lecture event; locking again changes nothing', async () => {
      const reply = await bob.request({ type: 'lock_room', locked: true });
      assertForbidden(reply, 'host', reply.request_id);
      await ada.act({ type: 'lock_room', locked: true });
      const lecture = await nextLectureOn([ada, bob], 'ada');
      assert.deepEqual(lecture, { ...DEFAULT_LECTURE, locked: true }, 'the admitted list is not sent');
      const marks = await settledMarks([ada, bob]);
      await ada.act({ type: 'lock_room', locked: true });
      await expectNothingSince([ada, bob], marks, ['lecture'], 'a no-op sends nothing');
    });

    await t.test('someone new is refused: fatal room_locked with the documented message, close 4005', async () => {
      await assertLockedOut(ctx, relay, room, danToken, 'dan was never in the room');
    });

    await t.test('a presenter is not let in for being one', async () => {
      await ada.act({ type: 'set_presenter', identity: 'pat', presenter: true });
      assert.deepEqual((await nextLectureOn([ada, bob], 'ada')).presenters, ['pat']);
      await assertLockedOut(ctx, relay, room, patToken, 'pat is a presenter, not admitted');
    });

    await t.test('an invite answers 423 room_locked; a guest token redeemed before the lock is refused', async () => {
      const res = await redeem(relay, code, 'Late Guest');
      assert.equal(res.status, 423, JSON.stringify(res));
      assert.deepEqual(res.body, { error: { code: 'room_locked', message: LOCKED } });
      await assertLockedOut(ctx, relay, room, early.body.token, 'the guest was not in the room');
    });

    await t.test('one who dropped within 120 s before the lock comes back', async () => {
      const [cat2, joined] = await enterWith(ctx, relay, room, cat.token);
      cat = cat2;
      assert.equal(joined.features.lecture.locked, true);
    });

    await t.test('one who was in the room comes back after a leave', async () => {
      await bob.leave();
      const [bob2] = await enterWith(ctx, relay, room, bob.token);
      bob = bob2;
    });

    await t.test('a host always gets in', async () => {
      const [host2, joined] = await enter(ctx, relay, dir, room, 'host2', { host: true });
      assert.equal(joined.you.role, 'host');
      await host2.leave();
    });

    await t.test('the lock outlives the room emptying; the admitted still come back', async () => {
      for (const c of [ada, bob, cat]) await c.leave();
      await assertLockedOut(ctx, relay, room, danToken, 'still locked with nobody in it');
      const [bob2, joined] = await enterWith(ctx, relay, room, bob.token);
      bob = bob2;
      assert.equal(joined.features.lecture.locked, true);
    });

    let ada2;
    await t.test('opening it: a lecture event; new people and invites get in', async () => {
      [ada2] = await enterWith(ctx, relay, room, ada.token);
      await ada2.act({ type: 'lock_room', locked: false });
      assert.equal((await nextLectureOn([ada2, bob], 'ada')).locked, false);
      const [dan] = await enterWith(ctx, relay, room, danToken);
      const res = await redeem(relay, code, 'Late Guest');
      assert.equal(res.status, 200, `the code stays good: ${JSON.stringify(res)}`);
      await dan.leave();
    });

    await t.test('locking again admits whoever is in the room then, and forgot the earlier list', async () => {
      // cat was admitted by the first lock; she is not in the room now.
      await ada2.act({ type: 'lock_room', locked: true });
      await nextLectureOn([ada2, bob], 'ada');
      await assertLockedOut(ctx, relay, room, cat.token, 'the first lock\'s list was forgotten');
      await assertLockedOut(ctx, relay, room, danToken, 'dan left before this lock');
      await bob.leave();
      const [bob2] = await enterWith(ctx, relay, room, bob.token);
      bob = bob2;
    });
  });
});

// ---------------------------------------------------------------- 5. reactions

test('reactions: to everyone, the sender included; bad ones are refused; over the rate rate_limited, never a disconnect', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'cheers';
    const [ada, adaJoined] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const [bob] = await enter(ctx, relay, dir, room, 'bob');
    let [cat] = await enter(ctx, relay, dir, room, 'cat');

    await t.test('a reaction reaches everyone, the sender included; ack; not in joined', async () => {
      assert.equal('reactions' in adaJoined.features, false, 'reactions are not kept');
      await bob.act({ type: 'react', reaction: 'clap' });
      for (const c of [ada, bob, cat]) {
        assert.deepEqual(await c.waitForType('reaction'), { type: 'reaction', identity: 'bob', reaction: 'clap' });
      }
      for (const reaction of ['thumbs_up', 'laugh', 'question', 'party']) {
        await ada.act({ type: 'react', reaction });
        assert.deepEqual(await bob.waitForType('reaction'), { type: 'reaction', identity: 'ada', reaction });
      }
    });

    await t.test('an unknown or missing reaction is a bad_message naming reaction', async () => {
      assertBadField(await bob.request({ type: 'react', reaction: 'heart', request_id: 'bad1' }), 'reaction', 'bad1');
      assertBadField(await bob.request({ type: 'react', request_id: 'bad2' }), 'reaction', 'bad2');
    });

    await t.test('over the burst: rate_limited with request_id, retry_after_ms and reactions_per_second; the reaction goes nowhere', async () => {
      const mark = ada.frames.length;
      const ids = Array.from({ length: REACTION_BURST + 5 }, (_, i) => `x${i}`);
      for (const id of ids) cat.send({ type: 'react', reaction: 'party', request_id: id });
      const replies = [];
      for (const id of ids) replies.push(await cat.waitFor((f) => f.request_id === id, 5000, `reply to ${id}`));
      const acked = replies.filter((r) => r.type === 'ack');
      const limited = replies.filter((r) => r.type === 'error');
      assert.ok(acked.length >= REACTION_BURST, `the burst of 5 passes: ${JSON.stringify(replies)}`);
      assert.ok(limited.length >= 1, `some are refused: ${JSON.stringify(replies)}`);
      for (const r of limited) {
        assertError(r, 'rate_limited', false, r.request_id);
        assert.ok(r.message.startsWith('reactions_per_second:'), r.message);
        assert.ok(Number.isSafeInteger(r.retry_after_ms) && r.retry_after_ms > 0 && r.retry_after_ms <= 1000, `retry_after_ms: ${r.retry_after_ms}`);
      }
      await settle(ada);
      const seen = ada.frames.slice(mark).filter((f) => f.type === 'reaction' && f.identity === 'cat');
      assert.equal(seen.length, acked.length, 'only the accepted reactions were sent');
      // After retry_after_ms one more goes through.
      await sleep(Math.max(...limited.map((r) => r.retry_after_ms)) + 50);
      await cat.act({ type: 'react', reaction: 'party' });
    });

    await t.test('many over the rate never close the connection', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `y${i}`);
      for (const id of ids) cat.send({ type: 'react', reaction: 'laugh', request_id: id });
      for (const id of ids) {
        const r = await cat.waitFor((f) => f.request_id === id, 5000, `reply to ${id}`);
        if (r.type === 'error') assertError(r, 'rate_limited', false, id);
      }
      await settle(cat);
      assert.equal(cat.closeInfo, null, 'still connected');
      assert.ok(cat.frames.every((f) => f.type !== 'error' || f.fatal === false), 'no fatal error');
    });

    await t.test('the rate follows the identity: a connection that ended leaves its bucket to the next one', async () => {
      // Empty the bucket, leave, and come back on a new connection at once ("a connection
      // that ends leaves its buckets to the same identity's next connection").
      const ids = Array.from({ length: REACTION_BURST + 2 }, (_, i) => `z${i}`);
      for (const id of ids) cat.send({ type: 'react', reaction: 'clap', request_id: id });
      for (const id of ids) await cat.waitFor((f) => f.request_id === id, 5000, `reply to ${id}`);
      await cat.leave();
      await ada.waitForType('participant_left', 5000, (f) => f.identity === 'cat');
      const [cat2] = await enterWith(ctx, relay, room, cat.token);
      cat = cat2;
      const again = Array.from({ length: REACTION_BURST + 1 }, (_, i) => `w${i}`);
      for (const id of again) cat.send({ type: 'react', reaction: 'clap', request_id: id });
      const replies = [];
      for (const id of again) replies.push(await cat.waitFor((f) => f.request_id === id, 5000, `reply to ${id}`));
      const acked = replies.filter((r) => r.type === 'ack').length;
      assert.ok(acked < REACTION_BURST, `fewer than a fresh burst of 5 pass: ${JSON.stringify(replies)}`);
    });
  });
});

// ---------------------------------------------------------------- 6. what survives

test('lecture: a restart keeps all of it; end_room clears the lock, who may speak and the clock, and keeps the mode and presenters', { timeout: LONG_TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    let relay = await ctx.relay(dir);
    const room = 'course';
    let [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    let [bob] = await enter(ctx, relay, dir, room, 'bob');
    const danToken = await tokenFor(dir, room, 'dan');
    const patToken = await tokenFor(dir, room, 'pat');
    await ada.act({ type: 'set_room_mode', mode: 'lecture' });
    await ada.act({ type: 'set_presenter', identity: 'pat', presenter: true });
    await ada.act({ type: 'allow_speaking', identity: 'bob', allowed: true });
    await ada.act({ type: 'allow_speaking', allowed: true });
    await ada.act({ type: 'lock_room', locked: true });
    await ada.waitUntil(() => ada.lecture.locked, 5000, 'every change');
    const before = structuredClone(ada.lecture);
    assert.deepEqual({ ...before, started_at: 0 }, { presenters: ['pat'], mode: 'lecture', started_at: 0, locked: true, everyone_speaks: true, speakers: ['bob'] });

    await t.test('a restart keeps the whole Lecture, the lock and whom it admits', async () => {
      relay.child.kill('SIGTERM');
      await ada.waitClose(5000);
      await relay.exited;
      relay = await ctx.relay(dir);
      const [ada2, joined] = await enterWith(ctx, relay, room, ada.token);
      ada = ada2;
      assert.deepEqual(joined.features.lecture, before, 'everything, started_at included');
      const [bob2, bobJoined] = await enterWith(ctx, relay, room, bob.token, MIC_CAMERA);
      bob = bob2;
      assert.deepEqual(bobJoined.you.media, MIC_CAMERA, 'everyone may speak: bob keeps them on');
      await assertLockedOut(ctx, relay, room, danToken, 'still locked after a restart');
      await assertLockedOut(ctx, relay, room, patToken, 'pat was not admitted');
    });

    await t.test('end_room: room_ended and 4012 for everyone', async () => {
      await ada.act({ type: 'end_room' });
      for (const c of [ada, bob]) {
        await c.waitForType('room_ended');
        assert.equal((await c.waitClose()).code, 4012);
      }
      // The relay clears the ended lecture after it answered; give it a moment.
      await sleep(500);
    });

    await t.test('the mode and presenters stay; the lock, who may speak and the clock are gone', async () => {
      const [dan, joined] = await enterWith(ctx, relay, room, danToken, MIC_CAMERA);
      assert.deepEqual(joined.features.lecture, { presenters: ['pat'], mode: 'lecture', started_at: null, locked: false, everyone_speaks: false, speakers: [] });
      assert.deepEqual(joined.you.media, { mic: false, camera: false, screen: false }, 'still a lecture: dan starts muted');
      const [, patJoined] = await enterWith(ctx, relay, room, patToken, ALL_ON);
      assert.equal(patJoined.you.role, 'presenter');
      assert.deepEqual(patJoined.you.media, ALL_ON, 'a presenter is not limited');
      const [bob2, bobJoined] = await enterWith(ctx, relay, room, bob.token, MIC_CAMERA);
      bob = bob2;
      assert.deepEqual(bobJoined.you.media, { mic: false, camera: false, screen: false }, 'who may speak was forgotten');
      await dan.leave();
    });

    await t.test('started_at stays null until a host chooses the lecture again, which starts the clock afresh', async () => {
      const [ada2] = await enterWith(ctx, relay, room, ada.token);
      ada = ada2;
      assert.equal(ada.lecture.started_at, null, 'no clock after end_room');
      assert.equal(ada.lecture.mode, 'lecture');
      const before = Date.now();
      await ada.act({ type: 'set_room_mode', mode: 'lecture' });
      const lecture = await nextLectureOn([ada, bob], 'ada');
      assert.equal(lecture.mode, 'lecture');
      assert.ok(Number.isSafeInteger(lecture.started_at) && lecture.started_at >= before - 2000, `the clock starts afresh: ${lecture.started_at}`);
      const marks = await settledMarks([ada, bob]);
      await ada.act({ type: 'set_room_mode', mode: 'lecture' });
      await expectNothingSince([ada, bob], marks, ['lecture'], 'a lecture whose clock runs: no change');
      assert.equal(ada.lecture.started_at, lecture.started_at);
    });
  });
});
