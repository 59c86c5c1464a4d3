// End-to-end tests of polls, and of the larger limit of messages carrying SDP, written
// only from docs/protocol.md ("Polls" and what it refers to: the grant table, `ack`,
// `joined.features`, `end_room`, the errors, Limits). Each client keeps the room's polls
// with polls.mjs ("Keeping the polls"); the tests check those copies against the relay's
// `joined` lists.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { withCleanup, assertError, assertBadField, settle, enter, rejoin } from './harness.mjs';

const TEST_TIMEOUT = 60_000;
const LONG_TEST_TIMEOUT = 120_000;

/** How a refused launch and a refused close read ("Who may launch, vote and close"). */
const LAUNCH_FORBIDDEN = 'only presenters and the host can launch polls';
const CLOSE_FORBIDDEN = 'only presenters and the host can close polls';
/** "Poll limits". */
const MAX_QUESTION_BYTES = 500;
const MAX_OPTION_BYTES = 200;
const MAX_OPTIONS = 10;
const CLOSED_POLLS_KEPT = 20;

// ---------------------------------------------------------------- assertions

/** A Poll has every documented field with the right type, and holds together. */
function assertPoll(p) {
  const at = JSON.stringify(p);
  assert.equal(typeof p.id, 'string', `id: ${at}`);
  assert.match(p.id, /^p[1-9][0-9]*$/, `ids are "p1", "p2", ...: ${at}`);
  assert.equal(typeof p.question, 'string', `question: ${at}`);
  assert.ok(Array.isArray(p.options) && p.options.length >= 2 && p.options.length <= MAX_OPTIONS, `2 to 10 options: ${at}`);
  p.options.forEach((o) => assert.equal(typeof o, 'string', `an option is a string: ${at}`));
  assert.ok(['single', 'multiple'].includes(p.kind), `kind: ${at}`);
  assert.equal(typeof p.anonymous, 'boolean', `anonymous: ${at}`);
  assert.equal(typeof p.by, 'string', `by: ${at}`);
  assert.ok(Number.isSafeInteger(p.opened_at), `opened_at: ${at}`);
  assert.ok(Math.abs(p.opened_at - Date.now()) < 10 * 60_000, `opened_at is ms since the epoch: ${at}`);
  assert.ok(['open', 'closed'].includes(p.state), `state: ${at}`);
  if (p.state === 'open') assert.equal(p.closed_at, null, `closed_at is null while open: ${at}`);
  else assert.ok(Number.isSafeInteger(p.closed_at) && p.closed_at >= p.opened_at, `closed_at once closed: ${at}`);
  assert.ok(Number.isSafeInteger(p.votes) && p.votes >= 0, `votes: ${at}`);
  if (p.results !== null) {
    assert.ok(Array.isArray(p.results) && p.results.length === p.options.length, `a count per option: ${at}`);
    const sum = p.results.reduce((a, b) => a + b, 0);
    if (p.kind === 'single') assert.equal(sum, p.votes, `single choice: the results add up to the votes: ${at}`);
    else assert.ok(sum >= p.votes, `multiple choice: the results add up to the votes or more: ${at}`);
  }
  if (p.voters !== null) {
    assert.equal(p.anonymous, false, `voters only in a named poll: ${at}`);
    assert.equal(p.voters.length, p.votes, `one voter per vote: ${at}`);
    for (const v of p.voters) {
      assert.equal(typeof v.identity, 'string', `voter identity: ${at}`);
      assert.equal(typeof v.name, 'string', `voter name: ${at}`);
      assertChoices(v.choices, p, at);
    }
  }
  assert.ok(Array.isArray(p.your_choices), `your_choices: ${at}`);
  if (p.your_choices.length > 0) assertChoices(p.your_choices, p, at);
}

/** Indexes into the options, ascending, one for a single-choice poll. */
function assertChoices(choices, p, at) {
  assert.ok(Array.isArray(choices) && choices.length >= 1, `choices: ${at}`);
  if (p.kind === 'single') assert.equal(choices.length, 1, `one choice in a single-choice poll: ${at}`);
  choices.forEach((c, i) => {
    assert.ok(Number.isSafeInteger(c) && c >= 0 && c < p.options.length, `a choice is an option's index: ${at}`);
    if (i > 0) assert.ok(choices[i - 1] < c, `choices in ascending order: ${at}`);
  });
}

/**
 * The documented cut ("What each participant sees of a poll"): `results` for hosts and
 * presenters always, for everyone once closed; `voters` for hosts and presenters of a
 * named poll only.
 */
function assertCut(p, presents, why = '') {
  const at = `${why}: ${JSON.stringify(p)}`;
  if (presents || p.state === 'closed') assert.notEqual(p.results, null, `results are shown ${at}`);
  else assert.equal(p.results, null, `results wait for the close ${at}`);
  if (presents && !p.anonymous) assert.notEqual(p.voters, null, `a named poll shows hosts and presenters who chose what ${at}`);
  else assert.equal(p.voters, null, `nobody else sees who chose what ${at}`);
}

/** A `poll` event: the documented shape; `request_id` only when expected. */
function assertPollEvent(f, request_id) {
  assert.equal(f.type, 'poll', `a poll event: ${JSON.stringify(f)}`);
  assertPoll(f.poll);
  if (request_id === undefined) assert.ok(!('request_id' in f), `only the launcher's copy carries request_id: ${JSON.stringify(f)}`);
  else assert.equal(f.request_id, request_id, `the launcher's copy carries the request_id: ${JSON.stringify(f)}`);
}

/** A non-fatal error whose message begins with `prefix`. */
function assertErrorPrefix(frame, code, prefix, request_id) {
  assertError(frame, code, false, request_id);
  assert.ok(frame.message.startsWith(prefix), `the message begins with ${JSON.stringify(prefix)}: ${JSON.stringify(frame.message)}`);
}

/** The part of a poll that is the same for every viewer. */
function shared(p) {
  const { id, question, options, kind, anonymous, by, opened_at, closed_at, state, votes } = p;
  return { id, question, options, kind, anonymous, by, opened_at, closed_at, state, votes };
}

/** The next `poll` event on each client, all about poll `id`; returns their polls in client order. */
async function nextPollOn(clients, id) {
  const polls = [];
  for (const c of clients) {
    const f = await c.waitForType('poll');
    assertPollEvent(f);
    assert.equal(f.poll.id, id, `the next poll event is about ${id}: ${JSON.stringify(f)}`);
    polls.push(f.poll);
  }
  return polls;
}

/** Launch `draft`; resolves with the launcher's own `poll` event (which is the answer), or the error. */
function launch(c, draft, request_id) {
  return c.request({ type: 'poll_launch', poll: draft, ...(request_id === undefined ? {} : { request_id }) });
}

/** Launch `draft` and expect it to be taken; resolves with the new Poll as the launcher sees it. */
async function launched(c, draft) {
  const request_id = c.requestId('l');
  const reply = await launch(c, draft, request_id);
  assertPollEvent(reply, request_id);
  return reply.poll;
}

const vote = (c, id, choices) => c.request({ type: 'poll_vote', id, choices });
const close = (c, id) => c.request({ type: 'poll_close', id });

/** Each client's frame count after a ping round trip. */
async function settledMarks(clients) {
  await settle(...clients);
  return clients.map((c) => c.frames.length);
}

/** After a ping round trip on each client, none got a frame of these types since `marks`. */
async function expectNothingSince(clients, marks, types, why) {
  await settle(...clients);
  clients.forEach((c, i) => {
    const late = c.frames.slice(marks[i]).filter((f) => types.includes(f.type));
    assert.deepEqual(late, [], why);
  });
}

// ---------------------------------------------------------------- 1. the life of a poll

test('polls: presenters and hosts launch and close, everyone votes once, each sees their own cut', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'stats';
    const [ada, adaJoined] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    assert.deepEqual(adaJoined.features.polls, [], 'no poll launched yet: an empty list');
    await ada.act({ type: 'set_presenter', identity: 'bob', presenter: true });
    const [bob, bobJoined] = await enter(ctx, relay, dir, room, 'bob');
    assert.equal(bobJoined.you.role, 'presenter');
    const [cat] = await enter(ctx, relay, dir, room, 'cat');
    const [dan] = await enter(ctx, relay, dir, room, 'dan');
    const all = [ada, bob, cat, dan];
    const presents = new Map([[ada, true], [bob, true], [cat, false], [dan, false]]);
    const draft = { question: '  Which proof do we do next?\n', options: [' Induction ', 'Contradiction', '\tConstruction'], kind: 'single', anonymous: false };
    let id;

    await t.test('a student cannot launch: forbidden, and nobody hears of it', async () => {
      const marks = await settledMarks(all);
      const reply = await launch(cat, draft, 'c1');
      assertError(reply, 'forbidden', false, 'c1');
      assert.equal(reply.message, LAUNCH_FORBIDDEN);
      await expectNothingSince(all, marks, ['poll'], 'a refused launch sends no poll');
    });

    await t.test('a presenter launches: its own copy, with the request_id, is the answer; no ack', async () => {
      const before = Date.now();
      const reply = await launch(bob, draft, 'b1');
      assertPollEvent(reply, 'b1');
      const p = reply.poll;
      id = p.id;
      assert.equal(id, 'p1', "a room's first poll");
      assert.equal(p.question, 'Which proof do we do next?', 'the question is trimmed');
      assert.deepEqual(p.options, ['Induction', 'Contradiction', 'Construction'], 'each option is trimmed');
      assert.deepEqual(
        { kind: p.kind, anonymous: p.anonymous, by: p.by, state: p.state, closed_at: p.closed_at, votes: p.votes, your_choices: p.your_choices },
        { kind: 'single', anonymous: false, by: 'bob', state: 'open', closed_at: null, votes: 0, your_choices: [] },
      );
      assert.ok(p.opened_at >= before - 2000 && p.opened_at <= Date.now() + 2000, `opened_at is now: ${p.opened_at}`);
      assert.deepEqual(p.results, [0, 0, 0], 'a presenter sees the results, all 0');
      assert.deepEqual(p.voters, [], 'a named poll: the presenter sees the (empty) list of voters');
      const others = await nextPollOn([ada, cat, dan], id);
      others.forEach((q, i) => assert.deepEqual(shared(q), shared(p), `everyone is told the same poll (${i})`));
      assert.deepEqual(others[0].results, [0, 0, 0], 'the host sees the results');
      assertCut(others[0], true, 'the host');
      assertCut(others[1], false, 'cat');
      assertCut(others[2], false, 'dan');
      await settle(bob);
      assert.deepEqual(bob.pending('ack').filter((f) => f.request_id === 'b1'), [], 'poll_launch gets no ack');
      for (const c of all) assert.equal(c.polls.open()?.id, id, 'every copy has the open poll');
    });

    await t.test('one open poll at a time: another launch is invalid_state, naming the open one', async () => {
      const marks = await settledMarks(all);
      const reply = await launch(ada, { question: 'Coffee?', options: ['yes', 'no'] }, 'a1');
      assertError(reply, 'invalid_state', false, 'a1');
      assert.match(reply.message, /`p1`/, `the message names the open poll: ${reply.message}`);
      await expectNothingSince(all, marks, ['poll'], 'a refused launch sends no poll');
    });

    await t.test('a vote counts once: everyone hears the new count, each with their cut', async () => {
      assert.deepEqual(await cat.act({ type: 'poll_vote', id, choices: [0], request_id: 'v1' }), { type: 'ack', request_id: 'v1' });
      const seen = await nextPollOn(all, id);
      seen.forEach((p, i) => {
        assert.equal(p.votes, 1, 'one vote');
        assertCut(p, presents.get(all[i]), all[i] === cat ? 'cat' : `viewer ${i}`);
      });
      assert.deepEqual(seen[0].results, [1, 0, 0]);
      assert.deepEqual(seen[0].voters, [{ identity: 'cat', name: 'Cat', choices: [0] }], 'the host sees who chose what');
      assert.deepEqual(seen[2].your_choices, [0], "the voter's copy carries its vote");
      assert.deepEqual(seen[3].your_choices, [], "dan's copy carries his own (none)");

      // A second vote, other choices or not: ack, nothing changes, no event.
      const marks = await settledMarks(all);
      assert.deepEqual(await cat.act({ type: 'poll_vote', id, choices: [1], request_id: 'v2' }), { type: 'ack', request_id: 'v2' });
      assert.deepEqual(await cat.act({ type: 'poll_vote', id, choices: [0], request_id: 'v3' }), { type: 'ack', request_id: 'v3' });
      await expectNothingSince(all, marks, ['poll'], 'a second vote sends no poll');
      assert.deepEqual(ada.polls.byId(id).results, [1, 0, 0], 'the first vote counts');
    });

    await t.test('a vote that does not fit the poll is refused with the documented codes', async () => {
      const marks = await settledMarks(all);
      assertErrorPrefix(await vote(dan, id, []), 'out_of_range', 'choices:');
      assertErrorPrefix(await vote(dan, id, [0, 1]), 'out_of_range', 'choices:');
      assertErrorPrefix(await vote(dan, id, [3]), 'out_of_range', 'choices:');
      assertErrorPrefix(await vote(dan, id, [1, 1]), 'out_of_range', 'choices:');
      assertBadField(await vote(dan, id, [-1]), 'choices');
      assertBadField(await vote(dan, id, ['0']), 'choices');
      assertBadField(await dan.request({ type: 'poll_vote', id }), 'choices');
      const unknown = await vote(dan, 'p9', [0]);
      assertError(unknown, 'not_found', false);
      assert.match(unknown.message, /`p9`/);
      // Checked like any vote even from someone who voted: out_of_range, not ack.
      assertErrorPrefix(await vote(cat, id, [7]), 'out_of_range', 'choices:');
      await expectNothingSince(all, marks, ['poll'], 'refused votes send no poll');
      assert.equal(ada.polls.byId(id).votes, 1);
    });

    await t.test('presenters and hosts vote too', async () => {
      await dan.act({ type: 'poll_vote', id, choices: [1] });
      await nextPollOn(all, id);
      await ada.act({ type: 'poll_vote', id, choices: [0] });
      const seen = await nextPollOn(all, id);
      assert.deepEqual(seen[1].results, [2, 1, 0], 'bob sees the results live');
      assert.deepEqual(seen[1].voters.map((v) => v.identity), ['cat', 'dan', 'ada'], 'voters, first vote first');
      assert.deepEqual(seen[0].your_choices, [0]);
      assert.equal(seen[2].results, null, 'cat still waits for the close');
      assert.equal(seen[2].votes, 3, 'but sees how many voted');
    });

    await t.test('a student cannot close; a host closes a presenter\'s poll; everyone sees the results', async () => {
      const marks = await settledMarks(all);
      const refused = await close(cat, id);
      assertError(refused, 'forbidden', false);
      assert.equal(refused.message, CLOSE_FORBIDDEN);
      await expectNothingSince(all, marks, ['poll'], 'a refused close sends no poll');

      assert.deepEqual(await ada.act({ type: 'poll_close', id, request_id: 'x1' }), { type: 'ack', request_id: 'x1' });
      const seen = await nextPollOn(all, id);
      seen.forEach((p, i) => {
        assert.equal(p.state, 'closed');
        assert.deepEqual(p.results, [2, 1, 0], `everyone sees the results once closed (${i})`);
        assertCut(p, presents.get(all[i]), `viewer ${i}`);
      });
      assert.equal(seen[2].voters, null, 'students never see who chose what');
      assert.equal(seen[1].voters.length, 3, 'presenters still do');
      for (const c of all) assert.equal(c.polls.open(), undefined, 'no open poll now');
    });

    await t.test('closing it again: ack, no event; voting in it: invalid_state', async () => {
      const marks = await settledMarks(all);
      assert.deepEqual(await bob.act({ type: 'poll_close', id, request_id: 'x2' }), { type: 'ack', request_id: 'x2' });
      const late = await vote(bob, id, [2]);
      assertError(late, 'invalid_state', false);
      assert.match(late.message, /`p1`/);
      assertError(await close(bob, 'p9'), 'not_found', false);
      assertBadField(await bob.request({ type: 'poll_close' }), 'id');
      await expectNothingSince(all, marks, ['poll'], 'nothing changed');
    });

    await t.test('a late joiner gets the poll as it may see it, and the copies agree with joined', async () => {
      const [eve, eveJoined] = await enter(ctx, relay, dir, room, 'eve');
      assert.equal(eveJoined.features.polls.length, 1);
      const p = eveJoined.features.polls[0];
      assertPoll(p);
      assertCut(p, false, 'eve');
      assert.deepEqual(p.results, [2, 1, 0]);
      assert.deepEqual(p.your_choices, []);
      for (const c of all) {
        const [again, joined] = await rejoin(ctx, relay, room, c);
        assert.deepEqual(c.polls.list, joined.features.polls, `${joined.you.identity}'s copy is the room's`);
        assert.deepEqual(again.polls.list, joined.features.polls);
      }
      await eve.leave();
    });
  });
});

// ---------------------------------------------------------------- 2. kinds, defaults, reconnects

test('polls: multiple choice, anonymous by default, ids in launch order; a reconnect finds its vote', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'survey';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    let [cat] = await enter(ctx, relay, dir, room, 'cat');
    const [dan] = await enter(ctx, relay, dir, room, 'dan');

    await t.test('a multiple-choice poll with no `anonymous` is anonymous: nobody sees who', async () => {
      const p = await launched(ada, { question: 'Which topics for the review?', options: ['limits', 'series', 'integrals', 'proofs'], kind: 'multiple' });
      assert.equal(p.id, 'p1');
      assert.equal(p.kind, 'multiple');
      assert.equal(p.anonymous, true, 'anonymous unless it says false');
      assert.equal(p.voters, null, 'an anonymous poll: not even the host sees who');
      await nextPollOn([cat, dan], 'p1');

      await cat.act({ type: 'poll_vote', id: 'p1', choices: [3, 0, 2] });
      const [toAda, toCat] = await nextPollOn([ada, cat], 'p1');
      assert.deepEqual(toCat.your_choices, [0, 2, 3], 'choices in any order, given back in ascending order');
      assert.deepEqual(toAda.results, [1, 0, 1, 1]);
      assert.equal(toAda.voters, null);
      await nextPollOn([dan], 'p1');
      await dan.act({ type: 'poll_vote', id: 'p1', choices: [2] });
      const [afterDan] = await nextPollOn([ada], 'p1');
      assert.equal(afterDan.votes, 2, 'votes counts people');
      assert.deepEqual(afterDan.results, [1, 0, 2, 1], 'results count choices: they add up to more');
      await nextPollOn([cat, dan], 'p1');
    });

    await t.test('a voter who comes back on a new connection finds its vote, and cannot vote again', async () => {
      cat.terminate();
      const [cat2, joined] = await rejoin(ctx, relay, room, cat);
      cat = cat2;
      assert.deepEqual(joined.features.polls.map((p) => [p.id, p.state, p.votes, p.your_choices]), [['p1', 'open', 2, [0, 2, 3]]]);
      assert.equal(joined.features.polls[0].results, null, 'still open: a student sees no results');
      const marks = await settledMarks([ada, cat, dan]);
      await cat.act({ type: 'poll_vote', id: 'p1', choices: [1] });
      await expectNothingSince([ada, cat, dan], marks, ['poll'], 'a second vote sends no poll');
    });

    await t.test('someone made a presenter sees the results in the next event about the poll', async () => {
      await ada.act({ type: 'set_presenter', identity: 'dan', presenter: true });
      await dan.waitFor((f) => f.type === 'participant_updated' && f.participant.identity === 'dan' && f.participant.role === 'presenter', 5000, 'dan a presenter');
      assert.equal(dan.polls.byId('p1').results, null, 'the role change does not send the polls again');
      await ada.act({ type: 'poll_close', id: 'p1' });
      const [toDan, toCat] = await nextPollOn([dan, cat], 'p1');
      assert.deepEqual(toDan.results, [1, 0, 2, 1]);
      assert.deepEqual(toCat.results, [1, 0, 2, 1]);
      await nextPollOn([ada], 'p1');
    });

    await t.test('a draft with no `kind` is single choice; the next id is "p2"; a launch without request_id gets a copy without one', async () => {
      ada.send({ type: 'poll_launch', poll: { question: 'Break now?', options: ['yes', 'in ten minutes'] } });
      const [toAda, toCat] = await nextPollOn([ada, cat], 'p2');
      assert.deepEqual([toAda.kind, toAda.anonymous], ['single', true]);
      assert.equal(toCat.results, null);
      await nextPollOn([dan], 'p2');
      assert.deepEqual(cat.polls.list.map((p) => [p.id, p.state]), [['p1', 'closed'], ['p2', 'open']], 'first launched first');
      const [, joined] = await enter(ctx, relay, dir, room, 'eve');
      assert.deepEqual(joined.features.polls.map((p) => [p.id, p.state]), [['p1', 'closed'], ['p2', 'open']], 'joined: first launched first');
      assertErrorPrefix(await vote(cat, 'p2', [0, 1]), 'out_of_range', 'choices:');
    });
  });
});

// ---------------------------------------------------------------- 3. the draft's rules

test('polls: the draft is checked in the documented order, against the documented limits; the word filter masks it', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir, { config: 'word_filter = ["darn"]\n' });
    const room = 'rules';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const [cat] = await enter(ctx, relay, dir, room, 'cat');
    const options = (n, f = (i) => `option ${i}`) => Array.from({ length: n }, (_, i) => f(i));
    const ok = { question: 'Which?', options: ['a', 'b'] };

    await t.test('refused drafts get invalid_text, out_of_range or bad_message, and nobody hears of them', async () => {
      const marks = await settledMarks([ada, cat]);
      const refused = async (draft, code, prefix) => {
        const reply = await launch(ada, draft, ada.requestId('bad'));
        assertErrorPrefix(reply, code, prefix);
        return reply;
      };
      await refused({ ...ok, question: 'é'.repeat(MAX_QUESTION_BYTES / 2) + 'x' }, 'invalid_text', 'poll_question_bytes:');
      await refused({ ...ok, question: ' \n\t ' }, 'invalid_text', 'poll_question_bytes:');
      const bell = await refused({ ...ok, question: 'ring\u0007' }, 'invalid_text', 'poll_question_bytes:');
      assert.match(bell.message, /U\+0007/, 'the message names the control character');
      const one = await refused({ ...ok, options: ['only'] }, 'out_of_range', 'options:');
      assert.equal(one.message, 'options: a poll has 2 to 10 options (got 1)');
      await refused({ ...ok, options: [] }, 'out_of_range', 'options:');
      await refused({ ...ok, options: options(MAX_OPTIONS + 1) }, 'out_of_range', 'options:');
      await refused({ ...ok, options: ['a', 'b'.repeat(MAX_OPTION_BYTES + 1)] }, 'invalid_text', 'option_bytes: option 1');
      await refused({ ...ok, options: ['a', 'b', '   '] }, 'invalid_text', 'option_bytes: option 2');
      await refused({ ...ok, options: ['a\u0000', 'b'] }, 'invalid_text', 'option_bytes: option 0');
      // The first failure is the answer: the question, then the count, then each option.
      await refused({ question: '', options: ['only'] }, 'invalid_text', 'poll_question_bytes:');
      await refused({ question: 'q', options: ['   '] }, 'out_of_range', 'options:');
      await refused({ question: 'q', options: ['a', '', 'x'.repeat(MAX_OPTION_BYTES + 1)] }, 'invalid_text', 'option_bytes: option 1');

      assertBadField(await ada.request({ type: 'poll_launch' }), 'poll');
      assertBadField(await launch(ada, { ...ok, kind: 'ranked' }), 'poll');
      assertError(await launch(ada, { options: ['a', 'b'] }), 'bad_message', false);
      assertError(await launch(ada, { question: 'q', options: 'a,b' }), 'bad_message', false);
      assertError(await launch(ada, { ...ok, anonymous: 'no' }), 'bad_message', false);
      await expectNothingSince([ada, cat], marks, ['poll'], 'refused launches send no poll');
      assert.deepEqual(ada.polls.list, []);
    });

    await t.test('the limits themselves are allowed, counted in bytes after trimming; newline and tab are allowed', async () => {
      const question = `  ${'é'.repeat(MAX_QUESTION_BYTES / 2)}  `;
      const opts = options(MAX_OPTIONS, (i) => (i === 0 ? `\n${'o'.repeat(MAX_OPTION_BYTES)}\t` : `line ${i}\n\tindented`));
      const p = await launched(ada, { question, options: opts });
      assert.equal(p.question, 'é'.repeat(MAX_QUESTION_BYTES / 2));
      assert.equal(p.options.length, MAX_OPTIONS);
      assert.equal(p.options[0], 'o'.repeat(MAX_OPTION_BYTES));
      assert.equal(p.options[1], 'line 1\n\tindented', 'newline and tab inside are kept');
      await nextPollOn([cat], p.id);
      await ada.act({ type: 'poll_close', id: p.id });
      await nextPollOn([ada, cat], p.id);
    });

    await t.test('with a poll open, a bad draft still gets its own error', async () => {
      const p = await launched(ada, ok);
      await nextPollOn([cat], p.id);
      assertErrorPrefix(await launch(ada, { ...ok, options: ['x'] }), 'out_of_range', 'options:');
      assertError(await launch(ada, ok), 'invalid_state', false);
      await ada.act({ type: 'poll_close', id: p.id });
      await nextPollOn([ada, cat], p.id);
    });

    await t.test("the room's word filter masks the question and the options", async () => {
      const p = await launched(ada, { question: 'Darn, which one?', options: ['darn', 'the other darn one'] });
      assert.equal(p.question, '****, which one?');
      assert.deepEqual(p.options, ['****', 'the other **** one']);
      const [toCat] = await nextPollOn([cat], p.id);
      assert.deepEqual([toCat.question, toCat.options], [p.question, p.options]);
    });
  });
});

// ---------------------------------------------------------------- 4. durability

test('polls: a poll outlives reconnects, the room emptying and a restart; end_room closes it, votes kept; ids go on', { timeout: LONG_TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    let relay = await ctx.relay(dir);
    const room = 'course';
    let [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    await ada.act({ type: 'set_presenter', identity: 'bob', presenter: true });
    let [bob] = await enter(ctx, relay, dir, room, 'bob');
    let [cat] = await enter(ctx, relay, dir, room, 'cat');
    const p = await launched(bob, { question: 'Mean or median?', options: ['mean', 'median'], anonymous: false });
    await nextPollOn([ada, cat], p.id);
    await cat.act({ type: 'poll_vote', id: p.id, choices: [1] });
    await nextPollOn([ada, bob, cat], p.id);

    await t.test('the room empties and the relay restarts: the poll is still open, with its vote', async () => {
      for (const c of [ada, bob, cat]) await c.leave();
      relay.child.kill('SIGTERM');
      await relay.exited;
      relay = await ctx.relay(dir);
      let joined;
      [bob, joined] = await rejoin(ctx, relay, room, bob);
      assert.equal(joined.you.role, 'presenter');
      const kept = joined.features.polls;
      assert.equal(kept.length, 1);
      assert.deepEqual(
        { id: kept[0].id, state: kept[0].state, votes: kept[0].votes, results: kept[0].results, voters: kept[0].voters, opened_at: kept[0].opened_at },
        { id: p.id, state: 'open', votes: 1, results: [0, 1], voters: [{ identity: 'cat', name: 'Cat', choices: [1] }], opened_at: p.opened_at },
      );
      [cat, joined] = await rejoin(ctx, relay, room, cat);
      assert.deepEqual(joined.features.polls[0].your_choices, [1]);
      assert.equal(joined.features.polls[0].results, null);
      const marks = await settledMarks([bob, cat]);
      await cat.act({ type: 'poll_vote', id: p.id, choices: [0] });
      await expectNothingSince([bob, cat], marks, ['poll'], 'still voted: nothing changes');
    });

    await t.test('end_room closes the open poll, keeping its votes; the next joined shows it closed to everyone', async () => {
      [ada] = await rejoin(ctx, relay, room, ada);
      const before = Date.now();
      await ada.act({ type: 'end_room' });
      for (const c of [ada, bob, cat]) {
        await c.waitForType('room_ended');
        assert.equal((await c.waitClose()).code, 4012);
      }
      let joined;
      [cat, joined] = await rejoin(ctx, relay, room, cat);
      const q = joined.features.polls[0];
      assertPoll(q);
      assert.equal(q.state, 'closed');
      assert.ok(q.closed_at >= before - 2000 && q.closed_at <= Date.now() + 2000, `closed_at is when the room ended: ${q.closed_at}`);
      assert.deepEqual(q.results, [0, 1], 'everyone sees the results now');
      assert.equal(q.voters, null);
      assert.deepEqual(q.your_choices, [1]);
    });

    await t.test('a poll launched after all that is "p2": ids are not given twice', async () => {
      [bob] = await rejoin(ctx, relay, room, bob);
      const next = await launched(bob, { question: 'Again?', options: ['yes', 'no'] });
      assert.equal(next.id, 'p2');
      const [toCat] = await nextPollOn([cat], 'p2');
      assert.deepEqual(cat.polls.list.map((x) => [x.id, x.state]), [['p1', 'closed'], ['p2', 'open']]);
      assert.equal(toCat.results, null);
    });
  });
});

test('polls: a room keeps its open poll and its last 20 closed ones', { timeout: LONG_TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'many';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const n = CLOSED_POLLS_KEPT + 1;
    for (let i = 1; i <= n; i++) {
      const p = await launched(ada, { question: `Poll ${i}?`, options: ['a', 'b'] });
      assert.equal(p.id, `p${i}`);
      await ada.act({ type: 'poll_close', id: p.id });
    }
    const open = await launched(ada, { question: 'The open one?', options: ['a', 'b'] });
    const ids = (from, to) => Array.from({ length: to - from + 1 }, (_, k) => `p${from + k}`);
    let [, joined] = await enter(ctx, relay, dir, room, 'cat');
    assert.deepEqual(joined.features.polls.map((p) => p.id), ids(n + 1 - CLOSED_POLLS_KEPT, n + 1), 'the open poll and the last 20 closed, first launched first');
    assert.equal(joined.features.polls.at(-1).state, 'open');
    await ada.act({ type: 'poll_close', id: open.id });
    [, joined] = await enter(ctx, relay, dir, room, 'dan');
    assert.deepEqual(joined.features.polls.map((p) => p.id), ids(n + 2 - CLOSED_POLLS_KEPT, n + 1), 'closing one more forgets the oldest');
    assert.ok(joined.features.polls.every((p) => p.state === 'closed'));
  });
});

// ---------------------------------------------------------------- 5. messages carrying SDP

/**
 * A frame of exactly `bytes` bytes (ASCII): `frame` with its string field `field` (empty
 * when missing) followed by as many `x` as it takes.
 */
function frameOfSize(frame, field, bytes) {
  const start = frame[field] ?? '';
  const pad = bytes - Buffer.byteLength(JSON.stringify({ ...frame, [field]: start }));
  assert.ok(pad >= 0, `${bytes} bytes leave room for ${field}`);
  const text = JSON.stringify({ ...frame, [field]: start + 'x'.repeat(pad) });
  assert.equal(Buffer.byteLength(text), bytes);
  return text;
}

/** The fatal `message_too_large` that names both limits, then close 1009. */
async function assertTooLarge(c, max, maxSdp, why) {
  const error = await c.waitForType('error');
  assertError(error, 'message_too_large', true);
  assert.ok(error.message.includes(String(max)) && error.message.includes(String(maxSdp)), `the message names both limits (${why}): ${error.message}`);
  assert.equal((await c.waitClose()).code, 1009, `close 1009 (${why})`);
}

test('limits: publish_offer and subscribe_answer may be 4 × max_message_bytes; other messages may not', { timeout: TEST_TIMEOUT }, async (t) => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'big';
    const [ada, joined] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const max = joined.limits.max_message_bytes;
    const maxSdp = joined.limits.max_sdp_message_bytes;
    assert.equal(max, 65536, 'the default max_message_bytes');
    assert.equal(maxSdp, 4 * max, 'max_sdp_message_bytes is 4 × max_message_bytes');
    const between = Math.floor((max + maxSdp) / 2);

    /** Send a frame of `bytes` with a request_id; it must get a non-fatal answer, not message_too_large. */
    const taken = async (c, frame, bytes) => {
      const request_id = c.requestId('big');
      c.sendRaw(frameOfSize({ ...frame, request_id }, 'sdp', bytes));
      const reply = await c.waitFor((f) => f.request_id === request_id, 5000, `the answer to ${frame.type}`);
      if (reply.type === 'error') {
        assert.notEqual(reply.code, 'message_too_large', `a ${frame.type} of ${bytes} bytes is not too large: ${JSON.stringify(reply)}`);
        assert.equal(reply.fatal, false, `a junk SDP is refused without closing: ${JSON.stringify(reply)}`);
      }
      await c.ping(1);
      assert.equal(c.closeInfo, null, 'the connection stays open');
      return reply;
    };

    await t.test('a subscribe_answer and a publish_offer between the two limits are taken (the junk SDP refused for itself)', async () => {
      await taken(ada, { type: 'subscribe_answer', sdp: 'v=0\r\n' }, between);
      await taken(ada, { type: 'publish_offer', sdp: 'v=0\r\n', tracks: [{ mid: '0', source: 'microphone' }] }, between);
      await taken(ada, { type: 'subscribe_answer', sdp: 'v=0\r\n' }, maxSdp);
    });

    await t.test('any other message up to max_message_bytes is taken; above it is message_too_large, close 1009', async () => {
      const [bob] = await enter(ctx, relay, dir, room, 'bob');
      bob.sendRaw(frameOfSize({ type: 'ping', nonce: 7 }, 'pad', max));
      await bob.waitFor((f) => f.type === 'pong' && f.nonce === 7, 5000, 'the pong');
      bob.sendRaw(frameOfSize({ type: 'ping', nonce: 8 }, 'pad', max + 1));
      await assertTooLarge(bob, max, maxSdp, 'a ping of max + 1');
    });

    await t.test('a chat_send of the same size as the taken subscribe_answer is message_too_large', async () => {
      const [cat] = await enter(ctx, relay, dir, room, 'cat');
      cat.sendRaw(frameOfSize({ type: 'chat_send', client_msg_id: 'big-1', request_id: 'c1' }, 'text', between));
      await assertTooLarge(cat, max, maxSdp, 'a chat_send between the limits');
    });

    await t.test('a subscribe_answer above max_sdp_message_bytes is message_too_large', async () => {
      const [dan] = await enter(ctx, relay, dir, room, 'dan');
      dan.sendRaw(frameOfSize({ type: 'subscribe_answer', sdp: 'v=0\r\n', request_id: 's1' }, 'sdp', maxSdp + 1));
      await assertTooLarge(dan, max, maxSdp, 'a subscribe_answer of max_sdp + 1');
    });
  });
});
