// Browser tests of the lecture room's questions and presenters: the built UI in Debian's
// Chromium; the Tauri shell faked (fake-tauri.js keeps the questions as the relay would:
// each told to the page as it sees it, votes once, presenters and the host alone answer,
// dismiss and pin, the relay's limits; and the presenters, which a host names).
//
// Run: npm run test:browser (builds first); this file alone after a build:
// node --test browser-tests/questions.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, hostRoom, open, startBrowser, stopBrowser, waitGone, waitVisible } from './harness.mjs';

before(startBrowser);
after(stopBrowser);

/** Bob hosts the room a guest joins. */
const BOB_HOST = {
  identity: 'bob-2',
  name: 'Bob',
  host: true,
  presenter: false,
  you: false,
  media: { mic: true, camera: false, screen: false },
  presence: 'active',
  joinedAt: 2,
};

/** A question as the (fake) relay stores it. */
const stored = (id, text, extra = {}) => ({
  id,
  text,
  asked_at: Date.now() - 60_000,
  anonymous: false,
  by: 'cat-3',
  by_name: 'Cat',
  voters: [],
  state: 'open',
  ...extra,
});

async function joinAsGuest(t) {
  await eventually(async () => assert.equal(await t.id('invite-input').isEnabled(), true));
  await t.id('invite-input').fill('K7QX-29FD@192.168.1.20:7450');
  await t.id('join-submit').click();
  await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
  await t.id('setup-continue').click();
  await waitVisible(t.id('room'));
}

async function openQuestions(t) {
  await t.id('toggle-questions').click();
  await waitVisible(t.id('questions-panel'));
}

/** Others act through the fake relay (not checked against their roles). */
const others = {
  ask: (t, by, name, text, anonymous = false) =>
    t.page.evaluate(([b, n, x, a]) => window.__fake.questions.ask(b, n, x, a), [by, name, text, anonymous]),
  upvote: (t, id, by) => t.page.evaluate(([i, b]) => window.__fake.questions.upvote(i, b), [id, by]),
  close: (t, id, outcome, by) => t.page.evaluate(([i, o, b]) => window.__fake.questions.close(i, o, b), [id, outcome, by]),
  pin: (t, id, by) => t.page.evaluate(([i, b]) => window.__fake.questions.pin(i, b), [id, by]),
  setPresenter: (t, identity, presenter, by) =>
    t.page.evaluate(([i, p, b]) => window.__fake.lecture.set(i, p, b), [identity, presenter, by]),
};

const item = (t, id) => t.page.locator(`[data-testid=question-item][data-question-id="${id}"]`);
/** The ids of the questions listed, in order (open ones, then closed ones when shown). */
const listed = (t) => t.id('question-item').evaluateAll((els) => els.map((el) => el.dataset.questionId));
const questionRequests = async (t) =>
  (await t.calls('feature_request')).map((c) => c.request).filter((r) => r.type.startsWith('question_') || r.type === 'set_presenter');

async function ask(t, text, { anonymous = false } = {}) {
  await t.id('question-input').fill(text);
  if (anonymous) await t.id('question-anonymous').check();
  await t.id('question-send').click();
}

describe('questions', () => {
  it('a student asks (anonymously), upvotes once, and sees the list by votes; closed ones fold away', async () => {
    const t = await open({ others: [BOB_HOST] });
    await joinAsGuest(t);
    await openQuestions(t);
    assert.match(await t.text('questions-empty'), /No questions yet/);

    await t.id('question-input').fill('Why is the sky blue?');
    assert.equal(await t.text('question-bytes'), '20 / 1000');
    await t.id('question-anonymous').check();
    await t.id('question-send').click();
    await waitVisible(item(t, 'q1'));
    assert.equal(await t.id('question-input').inputValue(), '');
    assert.equal(await item(t, 'q1').getByTestId('question-by').innerText(), 'You (anonymous)');
    assert.deepEqual(await questionRequests(t), [{ type: 'question_ask', text: 'Why is the sky blue?', anonymous: true }]);

    // Cat asks anonymously, Dan by name: the student sees Cat's only as "Anonymous".
    const cat = await others.ask(t, 'cat-3', 'Cat', 'What is Rayleigh scattering?', true);
    const dan = await others.ask(t, 'dan-4', 'Dan', 'Is this on the exam?');
    await eventually(async () => assert.deepEqual(await listed(t), ['q1', cat, dan]));
    assert.equal(await item(t, cat).getByTestId('question-by').innerText(), 'Anonymous');
    assert.equal(await item(t, dan).getByTestId('question-by').innerText(), 'Dan');

    // One vote each: the button is spent once the relay counted ours.
    await item(t, cat).getByTestId('question-upvote').click();
    await eventually(async () => assert.equal(await item(t, cat).getAttribute('data-votes'), '1'));
    assert.equal(await item(t, cat).getByTestId('question-upvote').isDisabled(), true);
    assert.equal(await item(t, cat).getByTestId('question-upvote').getAttribute('aria-pressed'), 'true');
    // Two others upvote Dan's: it goes first.
    await others.upvote(t, dan, 'eve-5');
    await others.upvote(t, dan, 'fay-6');
    await others.upvote(t, dan, 'fay-6');
    await eventually(async () => assert.deepEqual(await listed(t), [dan, cat, 'q1']));
    assert.equal(await item(t, dan).getAttribute('data-votes'), '2');
    // A second upvote, however sent, changes nothing.
    await t.page.evaluate((id) => window.__TAURI_INTERNALS__.invoke('feature_request', { request: { type: 'question_upvote', id } }), cat);
    assert.equal(await item(t, cat).getAttribute('data-votes'), '1');

    // A student has no presenter's actions, and the relay would refuse them anyway.
    assert.equal(await t.id('question-answer').count(), 0);
    assert.equal(await t.id('question-pin').count(), 0);
    const refused = await t.page.evaluate((id) =>
      window.__TAURI_INTERNALS__
        .invoke('feature_request', { request: { type: 'question_close', id, outcome: 'answered' } })
        .then(() => null, (e) => e.message),
    cat);
    assert.equal(refused, 'only presenters and the host can answer or dismiss questions');

    // The host takes up Cat's: everyone sees which one is being answered.
    await others.pin(t, cat, 'bob-2');
    await eventually(async () => assert.equal(await item(t, cat).getAttribute('data-pinned'), 'true'));
    assert.equal(await item(t, cat).getByTestId('question-pinned').innerText(), 'Answering now');
    assert.match(await t.text('question-now'), /What is Rayleigh scattering\?/);

    // The host answers ours while we look at the chat: the questions' tab counts it.
    await t.id('chat-tab').click();
    await others.close(t, 'q1', 'answered', 'bob-2');
    await eventually(async () => assert.equal(await t.text('questions-tab-unread'), '1'));
    assert.equal(await t.text('questions-unread'), '1');
    await t.id('questions-tab').click();
    await waitGone(t.id('questions-tab-unread'));
    await waitGone(item(t, 'q1'));
    assert.match(await t.text('questions-closed-toggle'), /Closed \(1\)/i);
    await t.id('questions-closed-toggle').click();
    await waitVisible(item(t, 'q1'));
    assert.equal(await item(t, 'q1').getAttribute('data-state'), 'answered');
    assert.equal(await item(t, 'q1').getByTestId('question-state').innerText(), 'Answered');
    assert.equal(await item(t, 'q1').getByTestId('question-upvote').isDisabled(), true);
    await t.done();
  });

  it('the host sees who asked, answers, dismisses and pins; the header shows the pinned one', async () => {
    const t = await open({
      questions: [
        stored('s1', 'Can you repeat the last slide?', { anonymous: true, voters: ['dan-4'] }),
        stored('s2', 'Off topic: lunch?', { by: 'dan-4', by_name: 'Dan', asked_at: Date.now() - 30_000 }),
      ],
    });
    await hostRoom(t);
    await openQuestions(t);
    assert.deepEqual(await listed(t), ['s1', 's2']);
    assert.equal(await item(t, 's1').getByTestId('question-by').innerText(), 'Cat (anonymous)');

    await item(t, 's1').getByTestId('question-pin').click();
    await eventually(async () => assert.equal(await item(t, 's1').getAttribute('data-pinned'), 'true'));
    assert.equal(await item(t, 's1').getByTestId('question-pin').innerText(), 'Unpin');
    assert.match(await t.text('question-now'), /Can you repeat the last slide\?/);
    // Pinning another unpins the first.
    await item(t, 's2').getByTestId('question-pin').click();
    await eventually(async () => assert.equal(await item(t, 's2').getAttribute('data-pinned'), 'true'));
    assert.equal(await item(t, 's1').getAttribute('data-pinned'), 'false');
    await item(t, 's2').getByTestId('question-pin').click();
    await waitGone(t.id('question-now'));

    await item(t, 's2').getByTestId('question-dismiss').click();
    await waitGone(item(t, 's2'));
    await item(t, 's1').getByTestId('question-answer').click();
    await waitGone(item(t, 's1'));
    assert.match(await t.text('questions-empty'), /No open questions/);
    await t.id('questions-closed-toggle').click();
    await eventually(async () => assert.deepEqual(await listed(t), ['s1', 's2']));
    assert.equal(await item(t, 's1').getAttribute('data-state'), 'answered');
    assert.equal(await item(t, 's2').getAttribute('data-state'), 'dismissed');
    assert.deepEqual(
      (await questionRequests(t)).map((r) => [r.type, r.id, r.outcome]),
      [
        ['question_pin', 's1', undefined],
        ['question_pin', 's2', undefined],
        ['question_pin', null, undefined],
        ['question_close', 's2', 'dismissed'],
        ['question_close', 's1', 'answered'],
      ],
    );
    await t.done();
  });

  it('stops a question that is too long; shows the relay refusing a flood and a full room', async () => {
    const full = Array.from({ length: 496 }, (_, i) => stored(`s${i}`, `Question ${i}`, { asked_at: Date.now() - 100_000 + i }));
    const t = await open({ others: [BOB_HOST], questions: full });
    await joinAsGuest(t);
    await openQuestions(t);
    await eventually(async () => assert.equal(await t.id('question-item').count(), 496));

    await t.id('question-input').fill('é'.repeat(501));
    assert.equal(await t.text('question-bytes'), 'Too long: 1002 / 1000 bytes');
    assert.equal(await t.id('question-send').isDisabled(), true);
    await t.id('question-input').press('Enter');
    assert.deepEqual(await questionRequests(t), []);

    // Five a minute: the sixth is refused, with when to ask again; the text stays.
    for (let i = 1; i <= 4; i++) {
      await ask(t, `Mine ${i}`);
      await waitVisible(item(t, `q${i}`));
    }
    // The room is full now (500): the relay says so.
    await ask(t, 'One too many for the room');
    await eventually(async () => assert.equal(await t.text('question-error'), 'questions_per_room: a room keeps at most 500'));
    assert.equal(await t.id('question-input').inputValue(), 'One too many for the room');
    await ask(t, 'And another');
    await eventually(async () => assert.match(await t.text('question-error'), /^questions_per_minute: at most 5 a minute; ask again in \d+ s$/));
    assert.equal(await t.id('question-input').inputValue(), 'And another');
    assert.equal(await t.id('question-send').isEnabled(), true);
    await t.done();
  });
});

describe('presenters', () => {
  it('the host makes one from the people tab; everyone sees the badge', async () => {
    const t = await open();
    await hostRoom(t);
    await t.id('toggle-people').click();
    const bob = t.id('person-bob-2');
    assert.equal(await t.id('person-self').getByTestId('make-presenter').count(), 0);
    await bob.getByTestId('make-presenter').click();
    await waitVisible(bob.getByTestId('presenter-badge'));
    await waitVisible(t.id('tile-bob-2').getByTestId('presenter-badge'));
    assert.equal(await bob.getByTestId('make-presenter').innerText(), 'Stop presenting');
    await bob.getByTestId('make-presenter').click();
    await waitGone(bob.getByTestId('presenter-badge'));
    assert.deepEqual(await questionRequests(t), [
      { type: 'set_presenter', identity: 'bob-2', presenter: true },
      { type: 'set_presenter', identity: 'bob-2', presenter: false },
    ]);
    await t.done();
  });

  it('a student made presenter answers questions and draws; taken back, the relay refuses', async () => {
    const t = await open({ others: [BOB_HOST], questions: [stored('s1', 'How do I start?'), stored('s2', 'Where are the notes?')] });
    await joinAsGuest(t);
    await openQuestions(t);
    assert.equal(await t.id('question-answer').count(), 0);

    await others.setPresenter(t, 'me-1', true, 'bob-2');
    await eventually(async () => assert.match(await t.text('toast'), /Bob made you a presenter/));
    await waitVisible(item(t, 's1').getByTestId('question-answer'));
    await item(t, 's1').getByTestId('question-answer').click();
    await waitGone(item(t, 's1'));
    // Presenters draw on the whiteboard as the host does.
    await t.id('board-open').click();
    await waitVisible(t.id('board-tool-pen'));
    assert.equal(await t.id('board-readonly').count(), 0);
    await t.id('board-open').click();

    // The host takes it back while our request is on its way: the relay refuses it.
    await t.delay('feature_request', 400);
    await item(t, 's2').getByTestId('question-dismiss').click();
    await others.setPresenter(t, 'me-1', false, 'bob-2');
    await eventually(async () =>
      assert.ok(
        (await t.id('toast').allInnerTexts()).some((s) =>
          s.includes("Couldn't dismiss the question: only presenters and the host can answer or dismiss questions"),
        ),
      ),
    );
    await waitGone(t.id('question-dismiss'));
    assert.equal(await item(t, 's2').getAttribute('data-state'), 'open');
    await t.done();
  });
});

describe('side panel', () => {
  it('counts new people, messages and questions on the tabs until each is shown', async () => {
    const t = await open();
    await hostRoom(t);
    await t.id('toggle-chat').click();
    await waitVisible(t.id('chat-input'));
    await t.emit('room-event', {
      type: 'participantJoined',
      participant: { ...BOB_HOST, identity: 'cat-3', name: 'Cat', host: false, joinedAt: 3 },
    });
    await others.ask(t, 'cat-3', 'Cat', 'Hello?');
    await eventually(async () => assert.equal(await t.text('people-tab-unread'), '1'));
    assert.equal(await t.text('questions-tab-unread'), '1');
    assert.equal(await t.id('chat-tab-unread').count(), 0);

    await t.id('people-tab').click();
    await waitVisible(t.id('person-cat-3'));
    await waitGone(t.id('people-tab-unread'));
    await t.emit('room-event', {
      type: 'chatMessage',
      message: { seq: 7, from: 'cat-3', name: 'Cat', text: 'hi', ts: Date.now(), clientMsgId: 'c7', deleted: false },
    });
    await eventually(async () => assert.equal(await t.text('chat-tab-unread'), '1'));
    assert.equal(await t.text('chat-unread'), '1');
    // Arrow keys move between the tabs.
    await t.id('people-tab').press('ArrowRight');
    await waitVisible(t.id('questions-panel'));
    await waitGone(t.id('questions-tab-unread'));
    await t.id('questions-tab').press('ArrowLeft');
    await waitVisible(t.id('people-list'));
    await t.done();
  });
});
