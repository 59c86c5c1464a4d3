// End-to-end tests of presenters and questions, written only from docs/protocol.md
// ("Lecture: presenters", "Questions" and what they refer to: the grant table, `ack`,
// `participant_updated`, Participant's `role`, `joined.features`, the errors, Limits).
// Each client keeps the room's questions with questions.mjs ("Keeping the list"); the
// tests check those copies against the relay's `joined` lists.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ProtocolError, DEFAULT_LECTURE } from './client.mjs';
import { listOrder } from './questions.mjs';
import { withCleanup, joinAs, mintToken, assertError, assertForbidden, assertBadField, settle, sleep, enter, rejoin } from './harness.mjs';

const TEST_TIMEOUT = 60_000;
const LONG_TEST_TIMEOUT = 240_000;

/** The grant table's message for `set_presenter` from a token without `host`. */
const SET_PRESENTER_FORBIDDEN = '`set_presenter` needs the `host` grant, which this token does not have';
/** How a refused close or pin begins ("Who may do what"). */
const ONLY_PRESENTERS = 'only presenters and the host';
/** "5 questions a minute per person: a burst of 5, then one every 12 s". */
const QUESTIONS_PER_MINUTE = 5;
const REFILL_MS = 12_000;
const MAX_QUESTION_BYTES = 1000;
const MAX_QUESTIONS_PER_ROOM = 500;
const MAX_PRESENTERS = 20;

// ---------------------------------------------------------------- assertions

/** A Question has every documented field with the right type, and holds together. */
function assertQuestion(q) {
  const at = JSON.stringify(q);
  assert.equal(typeof q.id, 'string', `id: ${at}`);
  const idBytes = Buffer.byteLength(q.id, 'utf8');
  assert.ok(idBytes >= 1 && idBytes <= 64, `an id of 1-64 bytes: ${at}`);
  assert.equal(typeof q.text, 'string', `text: ${at}`);
  assert.ok(Number.isSafeInteger(q.asked_at), `asked_at: ${at}`);
  assert.ok(Math.abs(q.asked_at - Date.now()) < 10 * 60_000, `asked_at is ms since the epoch: ${at}`);
  assert.equal(typeof q.anonymous, 'boolean', `anonymous: ${at}`);
  assert.ok(q.by === null || typeof q.by === 'string', `by: ${at}`);
  assert.ok(q.by_name === null || typeof q.by_name === 'string', `by_name: ${at}`);
  assert.equal(q.by === null, q.by_name === null, `by_name is null exactly when by is: ${at}`);
  if (!q.anonymous) assert.notEqual(q.by, null, `a question that is not anonymous shows its asker to everyone: ${at}`);
  if (q.mine) assert.notEqual(q.by, null, `the asker always sees who asked: ${at}`);
  assert.ok(Number.isSafeInteger(q.votes) && q.votes >= 0, `votes: ${at}`);
  assert.equal(typeof q.voted, 'boolean', `voted: ${at}`);
  assert.equal(typeof q.mine, 'boolean', `mine: ${at}`);
  assert.ok(['open', 'answered', 'dismissed'].includes(q.state), `state: ${at}`);
  assert.equal(typeof q.pinned, 'boolean', `pinned: ${at}`);
  if (q.pinned) assert.equal(q.state, 'open', `only an open question is pinned: ${at}`);
}

/** A `question` event: the documented shape; `request_id` only when expected. */
function assertQuestionEvent(f, request_id) {
  assert.equal(f.type, 'question', `a question event: ${JSON.stringify(f)}`);
  assertQuestion(f.question);
  if (request_id === undefined) assert.ok(!('request_id' in f), `only the asker's copy carries request_id: ${JSON.stringify(f)}`);
  else assert.equal(f.request_id, request_id, `the asker's copy carries the request_id: ${JSON.stringify(f)}`);
}

/** A list of questions is in the documented list order, and at most one is pinned. */
function assertListOrder(list, why = '') {
  list.forEach(assertQuestion);
  for (let i = 1; i < list.length; i++) {
    assert.ok(listOrder(list[i - 1], list[i]) < 0, `list order ${why}: ${JSON.stringify(list[i - 1])} before ${JSON.stringify(list[i])}`);
  }
  assert.ok(list.filter((q) => q.pinned).length <= 1, `at most one pinned question ${why}`);
}

/** A non-fatal error whose message begins with `prefix`. */
function assertErrorPrefix(frame, code, prefix, request_id) {
  assertError(frame, code, false, request_id);
  assert.ok(frame.message.startsWith(prefix), `the message begins with ${JSON.stringify(prefix)}: ${JSON.stringify(frame.message)}`);
}

/** The next `question` event on each client, all about question `id`; returns them in client order. */
async function nextQuestionOn(clients, id) {
  const frames = [];
  for (const c of clients) {
    const f = await c.waitForType('question');
    assertQuestionEvent(f);
    assert.equal(f.question.id, id, `the next question event is about ${id}: ${JSON.stringify(f)}`);
    frames.push(f);
  }
  return frames;
}

/** The part of a question that is the same for every viewer. */
function shared(q) {
  const { id, text, asked_at, anonymous, votes, state, pinned } = q;
  return { id, text, asked_at, anonymous, votes, state, pinned };
}

/** After a ping round trip on each client, none got a frame of these types since `marks`. */
async function expectNothingSince(clients, marks, types, why) {
  await settle(...clients);
  clients.forEach((c, i) => {
    const late = c.frames.slice(marks[i]).filter((f) => types.includes(f.type));
    assert.deepEqual(late, [], why);
  });
}

const marksOf = (clients) => clients.map((c) => c.frames.length);

/** `question_ask`; resolves with the asker's copy of the new question (the answer). */
async function ask(c, text, anonymous) {
  const frame = { type: 'question_ask', text };
  if (anonymous !== undefined) frame.anonymous = anonymous;
  const reply = await c.request(frame);
  if (reply.type === 'error') throw new ProtocolError(reply);
  assertQuestionEvent(reply, reply.request_id);
  return reply.question;
}

/** `question_ask`; resolves with whatever answers it (a `question` or an `error`). */
function tryAsk(c, text) {
  return c.request({ type: 'question_ask', text });
}

/** `set_presenter` from a host; resolves with the ack. */
function setPresenter(host, identity, presenter) {
  return host.act({ type: 'set_presenter', identity, presenter });
}

const lineObject = (id) => ({ id, shape: { kind: 'line', from: [0, 0], to: [100, 100] }, style: { color: '#111827', width: 20 } });

// ---------------------------------------------------------------- 1. presenters

test('lecture: only a host names presenters; roles follow the list; a later joiner joins as presenter', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'lecture';
    const [ada, adaJoined] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const [bob] = await enter(ctx, relay, dir, room, 'bob');
    const [cat] = await enter(ctx, relay, dir, room, 'cat');
    const all = [ada, bob, cat];

    await t.test('joined.features.lecture starts empty', () => {
      assert.deepEqual(adaJoined.features.lecture, DEFAULT_LECTURE, 'the Lecture of a room no host touched');
      assert.equal(adaJoined.you.role, 'host');
    });

    await t.test('a member gets the grant table\'s forbidden, and nothing happens', async () => {
      const marks = marksOf(all);
      const reply = await bob.request({ type: 'set_presenter', identity: 'cat', presenter: true, request_id: 'sp-bob' });
      assertForbidden(reply, 'host', 'sp-bob');
      assert.equal(reply.message, SET_PRESENTER_FORBIDDEN);
      await expectNothingSince(all, marks, ['lecture', 'participant_updated'], 'a refused set_presenter changes nothing');
    });

    await t.test('a host makes cat a presenter: lecture to everyone, then participant_updated with role presenter', async () => {
      await setPresenter(ada, 'cat', true);
      for (const c of all) {
        const lecture = await c.waitForType('lecture');
        assert.deepEqual(lecture, { type: 'lecture', lecture: { ...DEFAULT_LECTURE, presenters: ['cat'] }, by: 'ada' });
        const updated = await c.waitForType('participant_updated', 5000, (f) => f.participant?.identity === 'cat');
        assert.equal(updated.participant.role, 'presenter');
        assert.equal(updated.participant.grants.host, false, 'a presenter gets no grant');
        assert.ok(c.frames.indexOf(lecture) < c.frames.indexOf(updated), 'the role comes after the lecture event');
        assert.deepEqual(c.lecture.presenters, ['cat']);
      }
    });

    await t.test('making a presenter of a presenter changes nothing: ack, no event', async () => {
      const marks = marksOf(all);
      await setPresenter(ada, 'cat', true);
      await expectNothingSince(all, marks, ['lecture', 'participant_updated'], 'a no-op set_presenter sends nothing');
    });

    await t.test('an identity that is not in the room goes on the list; it joins as presenter', async () => {
      await setPresenter(ada, 'dan', true);
      const marks = marksOf(all);
      for (const c of all) {
        assert.deepEqual(await c.waitForType('lecture'), { type: 'lecture', lecture: { ...DEFAULT_LECTURE, presenters: ['cat', 'dan'] }, by: 'ada' });
      }
      const [dan, danJoined] = await enter(ctx, relay, dir, room, 'dan');
      assert.equal(danJoined.you.role, 'presenter');
      assert.deepEqual(danJoined.features.lecture.presenters, ['cat', 'dan'], 'in the order they were made');
      assert.equal(danJoined.participants.find((p) => p.identity === 'cat')?.role, 'presenter');
      for (const c of all) {
        const joined = await c.waitForType('participant_joined', 5000, (f) => f.participant?.identity === 'dan');
        assert.equal(joined.participant.role, 'presenter', 'the others see dan join as presenter');
      }
      await expectNothingSince(all, marks, ['participant_updated'], 'nobody in the room changed role');
      dan.close();
      await dan.waitClose();
    });

    await t.test('a host put on the list stays host: no participant_updated', async () => {
      const marks = marksOf(all);
      await setPresenter(ada, 'ada', true);
      for (const c of all) {
        assert.deepEqual((await c.waitForType('lecture')).lecture.presenters, ['cat', 'dan', 'ada']);
      }
      await expectNothingSince(all, marks, ['participant_updated'], 'a host\'s role does not change');
      const [eve, eveJoined] = await enter(ctx, relay, dir, room, 'eve');
      assert.equal(eveJoined.participants.find((p) => p.identity === 'ada')?.role, 'host');
      eve.close();
      await eve.waitClose();
    });

    await t.test('taking it back: lecture, then participant_updated with role member; a rejoin is a member', async () => {
      await setPresenter(ada, 'cat', false);
      for (const c of all) {
        const lecture = await c.waitForType('lecture');
        assert.deepEqual(lecture, { type: 'lecture', lecture: { ...DEFAULT_LECTURE, presenters: ['dan', 'ada'] }, by: 'ada' });
        const updated = await c.waitForType('participant_updated', 5000, (f) => f.participant?.identity === 'cat');
        assert.equal(updated.participant.role, 'member');
      }
      const marks = marksOf([ada, bob]);
      await setPresenter(ada, 'cat', false);
      await expectNothingSince([ada, bob], marks, ['lecture', 'participant_updated'], 'taking back what is not there sends nothing');
      const [cat2, cat2Joined] = await rejoin(ctx, relay, room, cat);
      assert.equal(cat2Joined.you.role, 'member');
      assert.deepEqual(cat2Joined.features.lecture.presenters, ['dan', 'ada']);
      cat2.close();
    });

    await t.test('bad requests: invalid_id names identity, bad_message names the field', async () => {
      const bad = await ada.request({ type: 'set_presenter', identity: ' spaced', presenter: true, request_id: 'sp-bad' });
      assertErrorPrefix(bad, 'invalid_id', 'identity:', 'sp-bad');
      const long = await ada.request({ type: 'set_presenter', identity: 'x'.repeat(65), presenter: true, request_id: 'sp-long' });
      assertErrorPrefix(long, 'invalid_id', 'identity:', 'sp-long');
      assertBadField(await ada.request({ type: 'set_presenter', identity: 'bob', request_id: 'sp-mf' }), 'presenter', 'sp-mf');
      assertBadField(await ada.request({ type: 'set_presenter', identity: 'bob', presenter: 'yes', request_id: 'sp-ty' }), 'presenter', 'sp-ty');
      assert.deepEqual(ada.lecture.presenters, ['dan', 'ada'], 'nothing changed');
    });
  });
});

test('lecture: at most 20 presenters, kept in the order they were made', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'many';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const names = Array.from({ length: MAX_PRESENTERS + 1 }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);
    for (const p of names.slice(0, MAX_PRESENTERS)) await setPresenter(ada, p, true);
    await ada.waitUntil(() => ada.lecture?.presenters.length === MAX_PRESENTERS, 5000, '20 presenters');
    const over = await ada.request({ type: 'set_presenter', identity: names[MAX_PRESENTERS], presenter: true, request_id: 'over' });
    assertErrorPrefix(over, 'limit_reached', 'presenters:', 'over');
    // Taking one back makes room; the new one goes at the end.
    await setPresenter(ada, names[0], false);
    await setPresenter(ada, names[MAX_PRESENTERS], true);
    const [, joined] = await enter(ctx, relay, dir, room, 'bob');
    assert.deepEqual(joined.features.lecture.presenters, names.slice(1));
    await ada.waitUntil(() => ada.lecture?.presenters.at(-1) === names[MAX_PRESENTERS], 5000, 'the last lecture event');
    assert.deepEqual(ada.lecture.presenters, names.slice(1), 'the events built the same list');
  });
});

test('lecture: a presenter draws on the whiteboard like a host, only while a presenter; host-only requests stay host-only', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'drawing';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const [bob] = await enter(ctx, relay, dir, room, 'bob');

    const before = await bob.request({ type: 'board_add', page: 'page-1', object: lineObject('b:1'), request_id: 'd1' });
    assertErrorPrefix(before, 'forbidden', 'draw:', 'd1');

    await setPresenter(ada, 'bob', true);
    await bob.waitForType('participant_updated', 5000, (f) => f.participant?.identity === 'bob' && f.participant.role === 'presenter');
    await bob.act({ type: 'board_add', page: 'page-1', object: lineObject('b:2') });
    const op = await ada.waitForType('board_op');
    assert.equal(op.by, 'bob');
    assert.equal(op.change.object.id, 'b:2');

    // What the table gives to `host` stays with hosts.
    assertForbidden(await bob.request({ type: 'board_set_access', access: { everyone: true, drawers: [] }, request_id: 'd2' }), 'host', 'd2');
    assertForbidden(await bob.request({ type: 'set_presenter', identity: 'cat', presenter: true, request_id: 'd3' }), 'host', 'd3');
    assertForbidden(await bob.request({ type: 'lower_hand_of', identity: 'ada', request_id: 'd4' }), 'host', 'd4');

    await setPresenter(ada, 'bob', false);
    await bob.waitForType('participant_updated', 5000, (f) => f.participant?.identity === 'bob' && f.participant.role === 'member');
    const after = await bob.request({ type: 'board_add', page: 'page-1', object: lineObject('b:3'), request_id: 'd5' });
    assertErrorPrefix(after, 'forbidden', 'draw:', 'd5');
  });
});

// ---------------------------------------------------------------- 2. questions

test('questions: ask, upvote once, close and pin, with the documented answers and permissions', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'qa';
    const [ada, adaJoined] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    assert.deepEqual(adaJoined.features.questions, [], 'no questions yet');
    await setPresenter(ada, 'dan', true);
    const [bob] = await enter(ctx, relay, dir, room, 'bob');
    const [cat] = await enter(ctx, relay, dir, room, 'cat');
    const [dan, danJoined] = await enter(ctx, relay, dir, room, 'dan');
    assert.equal(danJoined.you.role, 'presenter');
    const all = [ada, bob, cat, dan];
    const others = (c) => all.filter((x) => x !== c);

    let q1;
    await t.test('question_ask: the asker\'s copy of the event is the answer; everyone gets it; no ack', async () => {
      const reply = await bob.request({ type: 'question_ask', text: '  What is a field?\r\nAnd a ring?  ', request_id: 'ask-1' });
      assertQuestionEvent(reply, 'ask-1');
      q1 = reply.question;
      assert.deepEqual(
        { ...q1, id: undefined, asked_at: undefined },
        { id: undefined, asked_at: undefined, text: 'What is a field?\nAnd a ring?', anonymous: false, by: 'bob', by_name: 'Bob', votes: 0, voted: false, mine: true, state: 'open', pinned: false },
        'trimmed, \\r\\n stored as \\n, open, no votes, not pinned',
      );
      for (const [i, f] of (await nextQuestionOn(others(bob), q1.id)).entries()) {
        assert.deepEqual(f.question, { ...q1, mine: false }, `${others(bob)[i].joined.you.identity}'s copy`);
      }
      await settle(bob);
      assert.ok(!bob.frames.some((f) => f.type === 'ack' && f.request_id === 'ask-1'), 'question_ask gets no ack');
    });

    await t.test('question_ask without request_id: the asker\'s copy carries none', async () => {
      cat.send({ type: 'question_ask', text: 'No id on this one?' });
      const mine = await cat.waitForType('question');
      assertQuestionEvent(mine);
      assert.equal(mine.question.mine, true);
      await nextQuestionOn(others(cat), mine.question.id);
    });

    await t.test('question_upvote: everyone gets the new votes, each with their own voted; a second upvote is a no-op', async () => {
      await cat.act({ type: 'question_upvote', id: q1.id });
      const frames = await nextQuestionOn(all, q1.id);
      for (const [i, f] of frames.entries()) {
        assert.equal(f.question.votes, 1);
        assert.equal(f.question.voted, all[i] === cat, `voted is ${all[i].joined.you.identity}'s own`);
        assert.equal(f.question.mine, all[i] === bob, 'mine is the asker\'s');
      }
      const marks = marksOf(all);
      await cat.act({ type: 'question_upvote', id: q1.id });
      await expectNothingSince(all, marks, ['question'], 'a second upvote changes nothing');
      // One vote per identity, from whichever connection.
      const [cat2] = await rejoin(ctx, relay, room, cat);
      const marks2 = marksOf([ada, bob, dan, cat2]);
      await cat2.act({ type: 'question_upvote', id: q1.id });
      await expectNothingSince([ada, bob, dan, cat2], marks2, ['question'], 'the same identity on a new connection still has its vote');
      all[all.indexOf(cat)] = cat2;
    });

    await t.test('the asker may upvote their own question', async () => {
      await bob.act({ type: 'question_upvote', id: q1.id });
      const frames = await nextQuestionOn(all, q1.id);
      for (const [i, f] of frames.entries()) {
        assert.equal(f.question.votes, 2);
        assert.equal(f.question.voted, ['bob', 'cat'].includes(all[i].joined.you.identity));
      }
    });

    await t.test('members may not close or pin: forbidden, and nothing changes', async () => {
      const cat2 = all[2];
      const marks = marksOf(all);
      assertErrorPrefix(await cat2.request({ type: 'question_close', id: q1.id, outcome: 'answered', request_id: 'c-x' }), 'forbidden', ONLY_PRESENTERS, 'c-x');
      assertErrorPrefix(await cat2.request({ type: 'question_pin', id: q1.id, request_id: 'p-x' }), 'forbidden', ONLY_PRESENTERS, 'p-x');
      assertErrorPrefix(await bob.request({ type: 'question_pin', id: null, request_id: 'p-y' }), 'forbidden', ONLY_PRESENTERS, 'p-y');
      await expectNothingSince(all, marks, ['question'], 'a refused close or pin sends nothing');
    });

    await t.test('unknown ids are not_found; ids of 0 or 65 bytes are invalid_id', async () => {
      assertError(await bob.request({ type: 'question_upvote', id: 'no-such-question', request_id: 'nf1' }), 'not_found', false, 'nf1');
      assertError(await dan.request({ type: 'question_close', id: 'no-such-question', outcome: 'answered', request_id: 'nf2' }), 'not_found', false, 'nf2');
      assertError(await dan.request({ type: 'question_pin', id: 'no-such-question', request_id: 'nf3' }), 'not_found', false, 'nf3');
      const long = 'x'.repeat(65);
      assertError(await bob.request({ type: 'question_upvote', id: long, request_id: 'ii1' }), 'invalid_id', false, 'ii1');
      assertError(await bob.request({ type: 'question_upvote', id: '', request_id: 'ii2' }), 'invalid_id', false, 'ii2');
      assertError(await dan.request({ type: 'question_close', id: long, outcome: 'dismissed', request_id: 'ii3' }), 'invalid_id', false, 'ii3');
      assertError(await dan.request({ type: 'question_pin', id: long, request_id: 'ii4' }), 'invalid_id', false, 'ii4');
    });

    await t.test('malformed requests get bad_message naming the field', async () => {
      assertBadField(await bob.request({ type: 'question_ask', request_id: 'bm1' }), 'text', 'bm1');
      assertBadField(await bob.request({ type: 'question_ask', text: 'x', anonymous: 'yes', request_id: 'bm2' }), 'anonymous', 'bm2');
      assertBadField(await bob.request({ type: 'question_upvote', request_id: 'bm3' }), 'id', 'bm3');
      assertBadField(await dan.request({ type: 'question_close', id: q1.id, outcome: 'maybe', request_id: 'bm4' }), 'outcome', 'bm4');
      assertBadField(await dan.request({ type: 'question_pin', id: 5, request_id: 'bm5' }), 'id', 'bm5');
    });

    let q2;
    await t.test('question_pin: a presenter pins; pinning another unpins the first (its event first); null unpins', async () => {
      q2 = await ask(all[2], 'Second question?');
      await nextQuestionOn(others(all[2]), q2.id);

      await dan.act({ type: 'question_pin', id: q1.id });
      for (const f of await nextQuestionOn(all, q1.id)) assert.equal(f.question.pinned, true);

      let marks = marksOf(all);
      await dan.act({ type: 'question_pin', id: q1.id });
      await expectNothingSince(all, marks, ['question'], 'pinning the pinned question changes nothing');

      await ada.act({ type: 'question_pin', id: q2.id });
      for (const c of all) {
        const [old] = await nextQuestionOn([c], q1.id);
        assert.equal(old.question.pinned, false, 'the question pinned before comes first, unpinned');
        const [now] = await nextQuestionOn([c], q2.id);
        assert.equal(now.question.pinned, true);
        assert.equal(c.questions.pinned()?.id, q2.id);
      }

      await dan.act({ type: 'question_pin', id: null });
      for (const f of await nextQuestionOn(all, q2.id)) assert.equal(f.question.pinned, false);
      marks = marksOf(all);
      await dan.act({ type: 'question_pin', id: null });
      await expectNothingSince(all, marks, ['question'], 'unpinning when none is pinned changes nothing');

      // No `id` at all unpins too.
      await dan.act({ type: 'question_pin', id: q2.id });
      await nextQuestionOn(all, q2.id);
      await dan.act({ type: 'question_pin' });
      for (const f of await nextQuestionOn(all, q2.id)) assert.equal(f.question.pinned, false);
      for (const c of all) assert.equal(c.questions.pinned(), undefined);
    });

    await t.test('question_close: the pinned question is unpinned by it; closing again changes nothing; closed ones take no votes or pin', async () => {
      await dan.act({ type: 'question_pin', id: q1.id });
      await nextQuestionOn(all, q1.id);
      await dan.act({ type: 'question_close', id: q1.id, outcome: 'answered' });
      for (const f of await nextQuestionOn(all, q1.id)) {
        assert.equal(f.question.state, 'answered');
        assert.equal(f.question.pinned, false, 'closing the pinned question unpins it');
        assert.equal(f.question.votes, 2, 'the votes stay');
      }
      for (const c of all) assert.equal(c.questions.pinned(), undefined, 'no question is pinned then');

      const marks = marksOf(all);
      await ada.act({ type: 'question_close', id: q1.id, outcome: 'dismissed' });
      await dan.act({ type: 'question_close', id: q1.id, outcome: 'answered' });
      await expectNothingSince(all, marks, ['question'], 'closing a closed question changes nothing');
      assert.equal(ada.questions.byId(q1.id).state, 'answered', 'the first close counts');

      assertError(await all[3].request({ type: 'question_upvote', id: q1.id, request_id: 'is1' }), 'invalid_state', false, 'is1');
      assertError(await dan.request({ type: 'question_pin', id: q1.id, request_id: 'is2' }), 'invalid_state', false, 'is2');
      await expectNothingSince(all, marks, ['question'], 'refused requests change nothing');

      // A host closes too; `dismissed` is the other outcome.
      await ada.act({ type: 'question_close', id: q2.id, outcome: 'dismissed' });
      for (const f of await nextQuestionOn(all, q2.id)) assert.equal(f.question.state, 'dismissed');
    });

    await t.test('a presenter whose role is taken back can no longer close or pin', async () => {
      const q3 = await ask(bob, 'Third?');
      await nextQuestionOn(others(bob), q3.id);
      await setPresenter(ada, 'dan', false);
      await dan.waitForType('participant_updated', 5000, (f) => f.participant?.identity === 'dan' && f.participant.role === 'member');
      assertErrorPrefix(await dan.request({ type: 'question_close', id: q3.id, outcome: 'answered', request_id: 'rv1' }), 'forbidden', ONLY_PRESENTERS, 'rv1');
      assertErrorPrefix(await dan.request({ type: 'question_pin', id: q3.id, request_id: 'rv2' }), 'forbidden', ONLY_PRESENTERS, 'rv2');
    });

    await t.test('every client\'s list, built from events, is the list a joiner in its place gets', async () => {
      for (const c of all) assertListOrder(c.questions.list, `(${c.joined.you.identity})`);
      const [ada2, ada2Joined] = await rejoin(ctx, relay, room, ada);
      assert.deepEqual(ada2Joined.features.questions, ada.questions.list);
      const [bob2, bob2Joined] = await rejoin(ctx, relay, room, bob);
      assert.deepEqual(bob2Joined.features.questions, bob.questions.list);
      ada2.close();
      bob2.close();
    });
  });
});

test('questions: an anonymous question shows its asker to hosts, presenters and the asker only', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'anon';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    await setPresenter(ada, 'dan', true);
    const [dan] = await enter(ctx, relay, dir, room, 'dan');
    const [bob] = await enter(ctx, relay, dir, room, 'bob');
    const [cat] = await enter(ctx, relay, dir, room, 'cat');
    const all = [ada, dan, bob, cat];

    const secret = await ask(bob, 'Is it fine not to follow at all?', true);
    assert.equal(secret.anonymous, true);
    assert.equal(secret.by, 'bob', 'the asker sees who asked');
    assert.equal(secret.by_name, 'Bob');
    assert.equal(secret.mine, true);
    const [toAda, toDan, toCat] = await nextQuestionOn([ada, dan, cat], secret.id);
    await t.test('the host and presenters see the asker', () => {
      for (const f of [toAda, toDan]) {
        assert.equal(f.question.by, 'bob');
        assert.equal(f.question.by_name, 'Bob');
        assert.equal(f.question.anonymous, true);
        assert.equal(f.question.mine, false);
      }
    });
    await t.test('another student sees null, and that it is anonymous', () => {
      assert.equal(toCat.question.by, null);
      assert.equal(toCat.question.by_name, null);
      assert.equal(toCat.question.anonymous, true);
      assert.deepEqual(shared(toCat.question), shared(secret));
    });

    const open = await ask(cat, 'Will this be on the exam?');
    for (const f of await nextQuestionOn([ada, dan, bob], open.id)) {
      assert.equal(f.question.by, 'cat', 'a question that is not anonymous shows its asker to everyone');
      assert.equal(f.question.by_name, 'Cat');
    }

    await t.test('an upvote keeps each cut: the voter\'s voted, the asker hidden from students', async () => {
      await cat.act({ type: 'question_upvote', id: secret.id });
      const frames = await nextQuestionOn(all, secret.id);
      const byWho = Object.fromEntries(frames.map((f, i) => [all[i].joined.you.identity, f.question]));
      assert.equal(byWho.cat.voted, true);
      assert.equal(byWho.cat.by, null);
      for (const who of ['ada', 'dan', 'bob']) {
        assert.equal(byWho[who].voted, false);
        assert.equal(byWho[who].by, 'bob');
      }
      for (const q of Object.values(byWho)) assert.equal(q.votes, 1);
    });

    await t.test('joined.features.questions is cut the same way for each joiner', async () => {
      const [eve, eveJoined] = await enter(ctx, relay, dir, room, 'eve');
      assert.equal(eveJoined.features.questions.find((q) => q.id === secret.id).by, null, 'a new student');
      await setPresenter(ada, 'fay', true);
      const [, fayJoined] = await enter(ctx, relay, dir, room, 'fay');
      assert.equal(fayJoined.features.questions.find((q) => q.id === secret.id).by, 'bob', 'a new presenter');
      const [, hostJoined] = await enter(ctx, relay, dir, room, 'gus', { host: true });
      assert.equal(hostJoined.features.questions.find((q) => q.id === secret.id).by, 'bob', 'another host');
      const [, bobJoined] = await rejoin(ctx, relay, room, bob);
      const mine = bobJoined.features.questions.find((q) => q.id === secret.id);
      assert.equal(mine.by, 'bob', 'the asker, on a new connection');
      assert.equal(mine.mine, true);
      const [, catJoined] = await rejoin(ctx, relay, room, cat);
      const catsView = catJoined.features.questions.find((q) => q.id === secret.id);
      assert.equal(catsView.by, null);
      assert.equal(catsView.voted, true, 'voted belongs to the identity');
      eve.close();
    });

    await t.test('someone made a presenter sees the asker when they join again', async () => {
      const [cat2] = await rejoin(ctx, relay, room, cat);
      await setPresenter(ada, 'cat', true);
      await cat2.waitForType('participant_updated', 5000, (f) => f.participant?.identity === 'cat' && f.participant.role === 'presenter');
      const [, catJoined] = await rejoin(ctx, relay, room, cat2);
      assert.equal(catJoined.you.role, 'presenter');
      assert.equal(catJoined.features.questions.find((q) => q.id === secret.id).by, 'bob');
    });
  });
});

test('questions: joined lists every question, open and closed, most votes first, then the earliest asked', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'order';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const voters = [];
    for (const v of ['v1', 'v2', 'v3']) voters.push((await enter(ctx, relay, dir, room, v))[0]);
    const [bob] = await enter(ctx, relay, dir, room, 'bob');

    const ids = [];
    for (const text of ['first', 'second', 'third', 'fourth']) {
      ids.push((await ask(bob, text)).id);
      await sleep(20); // apart in asked_at
    }
    const [q1, q2, q3, q4] = ids;
    // q3: 3 votes, q2: 1, q4: 1, q1: 0 → q3, q2, q4 (asked before q4's tie), q1.
    for (const v of voters) await v.act({ type: 'question_upvote', id: q3 });
    await voters[0].act({ type: 'question_upvote', id: q2 });
    await voters[1].act({ type: 'question_upvote', id: q4 });
    // Neither state nor the pin counts in the order.
    await ada.act({ type: 'question_close', id: q3, outcome: 'answered' });
    await ada.act({ type: 'question_pin', id: q1 });

    const [, joined] = await enter(ctx, relay, dir, room, 'late');
    const list = joined.features.questions;
    assert.deepEqual(list.map((q) => q.id), [q3, q2, q4, q1]);
    assert.deepEqual(list.map((q) => q.votes), [3, 1, 1, 0]);
    assert.deepEqual(list.map((q) => q.state), ['answered', 'open', 'open', 'open']);
    assert.deepEqual(list.map((q) => q.pinned), [false, false, false, true]);
    assertListOrder(list, 'in joined');
    // bob's list, built from events (questions.mjs sorts it), is the same apart from `mine`.
    await bob.waitUntil(() => bob.questions.pinned()?.id === q1, 5000, 'the pin event');
    assert.deepEqual(bob.questions.list.map((q) => ({ ...q, mine: false })), list);
    for (const q of bob.questions.list) assert.equal(q.mine, true);
  });
});

// ---------------------------------------------------------------- 3. limits

test('questions: the text rules, the word filter, and 5 questions a minute per person, never a disconnect', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir, { config: 'word_filter = ["darn"]\n' });
    const room = 'limits';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    let [amy] = await enter(ctx, relay, dir, room, 'amy');

    await t.test('refused texts: empty, question_bytes, control characters; none of them counts against the rate', async () => {
      const refusals = [
        ['   \n\t ', null],
        ['a' + 'é'.repeat(MAX_QUESTION_BYTES / 2), 'question_bytes:'],
        ['ding\u0007', null],
        ['one\rtwo', null],
        ['x'.repeat(MAX_QUESTION_BYTES + 1), 'question_bytes:'],
        ['nul\u0000', null],
      ];
      for (const [text, prefix] of refusals) {
        const reply = await tryAsk(amy, text);
        if (prefix) assertErrorPrefix(reply, 'invalid_text', prefix, reply.request_id);
        else assertError(reply, 'invalid_text', false, reply.request_id);
      }
      const bell = await tryAsk(amy, 'ring\u0007');
      assert.match(bell.message, /U\+0007/, 'the message names the control character');
    });

    await t.test('accepted texts: 1000 bytes, trimmed, \\r\\n as \\n, tab kept, the word filter masks', async () => {
      const exact = 'é'.repeat(MAX_QUESTION_BYTES / 2);
      assert.equal(Buffer.byteLength(exact), MAX_QUESTION_BYTES);
      assert.equal((await ask(amy, exact)).text, exact);
      assert.equal((await ask(amy, ` \n${exact}\t \r\n`)).text, exact, 'counted after trimming');
      assert.equal((await ask(amy, 'line one\r\nline\ttwo')).text, 'line one\nline\ttwo');
      const masked = await ask(amy, 'Darn it, why is DARN here?');
      assert.equal(masked.text, '**** it, why is **** here?', 'whole words, whatever their case, one * per character');
      await ada.waitUntil(() => ada.questions.byId(masked.id) !== undefined, 5000, 'ada gets the question');
      assert.equal(ada.questions.byId(masked.id).text, masked.text, 'everyone gets the masked text');
    });

    await t.test('the 6th question within the minute is rate_limited, not fatal, with request_id and retry_after_ms', async () => {
      await ask(amy, 'the fifth'); // the five asked so far used the burst (the refused texts did not)
      const reply = await amy.request({ type: 'question_ask', text: 'the sixth', request_id: 'sixth' });
      assertErrorPrefix(reply, 'rate_limited', 'questions_per_minute:', 'sixth');
      assert.ok(Number.isSafeInteger(reply.retry_after_ms), `retry_after_ms: ${JSON.stringify(reply)}`);
      assert.ok(reply.retry_after_ms > 0 && reply.retry_after_ms <= REFILL_MS, `one more question within 12 s: ${reply.retry_after_ms}`);
      await ada.waitUntil(() => ada.questions.list.length === QUESTIONS_PER_MINUTE, 5000, 'ada holds the five');
      await settle(ada);
      assert.equal(ada.questions.list.length, QUESTIONS_PER_MINUTE, 'the refused question was not asked');
    });

    await t.test('refusals go on for seconds without a disconnect', async () => {
      // Rejections in 3 seconds within 30 s disconnect a client over the signaling rate;
      // the question rate never does. 4 more seconds with refusals here, 5 in all.
      for (let i = 0; i < 4; i++) {
        await sleep(1050);
        const reply = await tryAsk(amy, `again ${i}`);
        assertErrorPrefix(reply, 'rate_limited', 'questions_per_minute:', reply.request_id);
      }
      await settle(amy);
      assert.equal(amy.closeInfo, null, 'still connected');
      assert.deepEqual(amy.frames.filter((f) => f.type === 'error' && f.fatal), [], 'no fatal error');
    });

    await t.test('the limit follows the identity across a reconnect', async () => {
      await amy.leave();
      await sleep(300);
      [amy] = await rejoin(ctx, relay, room, amy);
      const reply = await tryAsk(amy, 'after a reconnect');
      assertErrorPrefix(reply, 'rate_limited', 'questions_per_minute:', reply.request_id);
      // Someone else is not held by amy's limit.
      const [ben] = await enter(ctx, relay, dir, room, 'ben');
      await ask(ben, 'my own first question');
      // After retry_after_ms, one more question is taken.
      await sleep(reply.retry_after_ms + 300);
      const later = await ask(amy, 'after the wait');
      assert.equal(later.mine, true);
    });
  });
});

test('questions: a room holds 500 questions, open and closed; the 501st is limit_reached', { timeout: LONG_TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'full';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });

    // 100 people ask 5 each (the rate is per person), one after another.
    const people = MAX_QUESTIONS_PER_ROOM / QUESTIONS_PER_MINUTE;
    const asked = [];
    for (let batch = 0; batch < people; batch += 10) {
      const tokens = await Promise.all(
        Array.from({ length: 10 }, (_, i) => mintToken(dir, { room, identity: `s${String(batch + i).padStart(3, '0')}`, name: `Student ${batch + i}` })),
      );
      for (const token of tokens) {
        const [c] = await joinAs(ctx, relay, room, token);
        for (let k = 0; k < QUESTIONS_PER_MINUTE; k++) asked.push((await ask(c, `question ${asked.length + 1}`)).id);
        c.close();
        await c.waitClose();
      }
    }
    assert.equal(new Set(asked).size, MAX_QUESTIONS_PER_ROOM, 'every id is unique in the room');
    await ada.waitUntil(() => ada.questions.list.length === MAX_QUESTIONS_PER_ROOM, 20_000, 'ada holds 500 questions');
    // Closing frees nothing.
    await ada.act({ type: 'question_close', id: asked[0], outcome: 'answered' });
    await ada.act({ type: 'question_close', id: asked[1], outcome: 'dismissed' });

    const [extra] = await enter(ctx, relay, dir, room, 'extra');
    await t.test('the 501st question: limit_reached naming questions_per_room', async () => {
      const reply = await extra.request({ type: 'question_ask', text: 'one too many', request_id: 'over' });
      assertErrorPrefix(reply, 'limit_reached', 'questions_per_room:', 'over');
    });
    await t.test('an ask refused for questions_per_room still counts against the rate', async () => {
      for (let i = 1; i < QUESTIONS_PER_MINUTE; i++) assertErrorPrefix(await tryAsk(extra, `over ${i}`), 'limit_reached', 'questions_per_room:');
      assertErrorPrefix(await tryAsk(extra, 'over, sixth'), 'rate_limited', 'questions_per_minute:');
    });
    await t.test('joined lists all 500, in list order', async () => {
      const [, joined] = await enter(ctx, relay, dir, room, 'late');
      const list = joined.features.questions;
      assert.equal(list.length, MAX_QUESTIONS_PER_ROOM);
      assertListOrder(list, 'of 500');
      assert.deepEqual(list.filter((q) => q.state !== 'open').map((q) => q.id).sort(), [asked[0], asked[1]].sort());
    });
  });
});

// ---------------------------------------------------------------- 4. what survives

test('questions: a presenter\'s reconnect, the room ending and a relay restart keep the questions, votes, states and pin', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    let relay = await ctx.relay(dir);
    const room = 'kept';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    await setPresenter(ada, 'dan', true);
    let [dan] = await enter(ctx, relay, dir, room, 'dan');
    const [bob] = await enter(ctx, relay, dir, room, 'bob');
    const [cat] = await enter(ctx, relay, dir, room, 'cat');

    const q1 = (await ask(bob, 'anonymous and pinned', true)).id;
    const q2 = (await ask(cat, 'open with a vote')).id;
    const q3 = (await ask(bob, 'answered')).id;
    const q4 = (await ask(cat, 'dismissed')).id;
    await cat.act({ type: 'question_upvote', id: q1 });
    await dan.act({ type: 'question_upvote', id: q1 });
    await bob.act({ type: 'question_upvote', id: q2 });
    await dan.act({ type: 'question_close', id: q3, outcome: 'answered' });
    await ada.act({ type: 'question_close', id: q4, outcome: 'dismissed' });
    await dan.act({ type: 'question_pin', id: q1 });
    await dan.waitUntil(() => dan.questions.pinned()?.id === q1, 5000, 'dan has every change');
    await cat.waitUntil(() => cat.questions.pinned()?.id === q1, 5000, 'cat has every change');
    await bob.waitUntil(() => bob.questions.pinned()?.id === q1, 5000, 'bob has every change');
    const views = { dan: structuredClone(dan.questions.list), bob: structuredClone(bob.questions.list), cat: structuredClone(cat.questions.list) };
    assert.deepEqual(dan.questions.open().map((q) => q.id), [q1, q2], 'two open: q1 (2 votes), q2 (1 vote)');
    assert.equal(dan.questions.byId(q1).by, 'bob', 'the presenter sees the anonymous asker');
    assert.equal(cat.questions.byId(q1).by, null);

    /** `joined` gives `who` exactly the list it had: the open ones still open, the closed ones closed. */
    function assertKept(joined, who, why) {
      assert.deepEqual(joined.features.questions, views[who], `${who}'s questions ${why}`);
      assert.deepEqual(joined.features.questions.filter((q) => q.state === 'open').map((q) => q.id), [q1, q2], `exactly the open questions ${why}`);
    }

    await t.test('a presenter whose connection dropped gets exactly the same questions on rejoining', async () => {
      dan.terminate();
      const [dan2, joined] = await rejoin(ctx, relay, room, dan);
      assert.equal(joined.you.role, 'presenter');
      assertKept(joined, 'dan', 'after a dropped connection');
      dan = dan2;
    });

    await t.test('the room ending keeps them', async () => {
      await ada.act({ type: 'end_room' });
      for (const c of [ada, dan, bob, cat]) assert.equal((await c.waitClose()).code, 4012);
      const [dan2, joined] = await rejoin(ctx, relay, room, dan);
      assert.equal(joined.you.role, 'presenter');
      assert.deepEqual(joined.features.lecture, { ...DEFAULT_LECTURE, presenters: ['dan'] });
      assertKept(joined, 'dan', 'after end_room');
      dan = dan2;
    });

    await t.test('a relay restart keeps them, the presenters, and who voted', async () => {
      relay.child.kill('SIGTERM');
      await dan.waitClose(5000);
      await relay.exited;
      relay = await ctx.relay(dir);

      const [dan2, danJoined] = await rejoin(ctx, relay, room, dan);
      dan = dan2;
      assert.equal(danJoined.you.role, 'presenter', 'the presenters survive a restart');
      assert.deepEqual(danJoined.features.lecture, { ...DEFAULT_LECTURE, presenters: ['dan'] });
      assertKept(danJoined, 'dan', 'after a restart');
      const [bob2, bobJoined] = await rejoin(ctx, relay, room, bob);
      assertKept(bobJoined, 'bob', 'after a restart');
      assert.equal(bobJoined.features.questions.find((q) => q.id === q1).mine, true);
      const [cat2, catJoined] = await rejoin(ctx, relay, room, cat);
      assertKept(catJoined, 'cat', 'after a restart');

      // Votes are still counted once: cat voted for q1 before the restart.
      const marks = marksOf([dan, bob2, cat2]);
      await cat2.act({ type: 'question_upvote', id: q1 });
      await expectNothingSince([dan, bob2, cat2], marks, ['question'], 'a vote from before the restart still counts');

      // The presenter still runs them: closing the pinned question unpins it.
      await dan.act({ type: 'question_close', id: q1, outcome: 'answered' });
      for (const f of await nextQuestionOn([dan, bob2, cat2], q1)) {
        assert.equal(f.question.state, 'answered');
        assert.equal(f.question.pinned, false);
      }
      // A new question gets an id of its own.
      const q5 = (await ask(bob2, 'after the restart')).id;
      assert.ok(![q1, q2, q3, q4].includes(q5), `a new id: ${q5}`);
      await nextQuestionOn([dan, cat2], q5);
      assert.deepEqual(dan.questions.open().map((q) => q.id), [q2, q5]);
    });
  });
});
