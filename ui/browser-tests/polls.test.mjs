// Browser tests of polls: the built UI in Debian's Chromium; the Tauri shell faked
// (fake-polls.js keeps the app's drafts, checked as the app checks them, and the room's
// polls as the relay does: one open at a time, a vote counted once, each poll told to the
// page as it may see it).
//
// Run: npm run test:browser (builds first); this file alone after a build:
// node --test browser-tests/polls.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, hostRoom, open, startBrowser, stopBrowser, waitGone, waitVisible } from './harness.mjs';

before(startBrowser);
after(stopBrowser);

const person = (identity, name, extra = {}) => ({
  identity,
  name,
  host: false,
  presenter: false,
  you: false,
  media: { mic: true, camera: false, screen: false },
  presence: 'active',
  joinedAt: 2,
  ...extra,
});

/** Bob hosts the room a guest joins. */
const BOB_HOST = person('bob-2', 'Bob', { host: true });
/** Students of a room we host. */
const STUDENTS = [person('bob-2', 'Bob'), person('cat-3', 'Cat', { joinedAt: 3 }), person('dan-4', 'Dan', { joinedAt: 4 })];

const draft = (question, options = ['Yes', 'No'], extra = {}) => ({ question, options, kind: 'single', anonymous: true, ...extra });

async function joinAsGuest(t) {
  await eventually(async () => assert.equal(await t.id('invite-input').isEnabled(), true));
  await t.id('invite-input').fill('K7QX-29FD@192.168.1.20:7450');
  await t.id('join-submit').click();
  await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
  await t.id('setup-continue').click();
  await waitVisible(t.id('room'));
}

async function openPolls(t) {
  await t.id('toggle-polls').click();
  await waitVisible(t.id('polls-panel'));
}

/** Others act through the fake relay (their roles are not checked). */
const others = {
  launch: (t, d, by) => t.page.evaluate(([x, b]) => window.__fake.polls.launch(x, b), [d, by]),
  vote: (t, identity, id, choices) => t.page.evaluate(([i, p, c]) => window.__fake.polls.vote(i, p, c), [identity, id, choices]),
  close: (t, id, by) => t.page.evaluate(([p, b]) => window.__fake.polls.close(p, b), [id, by]),
};

const pollRequests = async (t) => (await t.calls('feature_request')).map((c) => c.request).filter((r) => r.type.startsWith('poll_'));
const results = (locator) => locator.getByTestId('poll-results').getAttribute('data-results');
const closedPoll = (t, id) => t.page.locator(`[data-testid=poll-closed][data-poll-id="${id}"]`);

/** Waits for a toast (of those shown) that matches `pattern`. */
async function toasted(t, pattern) {
  await eventually(async () => {
    const shown = await t.id('toast').allInnerTexts();
    assert.ok(shown.some((text) => pattern.test(text)), `no toast ${pattern}: ${JSON.stringify(shown)}`);
  });
}

describe('polls', () => {
  it('the host prepares a draft, launches it, watches the votes come in, closes it and exports the results', async () => {
    const t = await open({ others: STUDENTS, pollDrafts: [draft('Ready for the quiz?')] });
    await hostRoom(t);
    await openPolls(t);
    await eventually(async () => assert.deepEqual(await t.id('poll-draft-text').allInnerTexts(), ['Ready for the quiz?']));

    // A new draft: named, three options (one added).
    await t.id('poll-draft-new').click();
    await t.id('poll-draft-question').fill('Which proof do we do next?');
    assert.equal(await t.text('poll-draft-question-bytes'), '26 / 500');
    await t.id('poll-draft-option').nth(0).fill('Induction');
    await t.id('poll-draft-option').nth(1).fill('Contradiction');
    await t.id('poll-draft-add-option').click();
    await t.id('poll-draft-option').nth(2).fill('Construction, maybe');
    await t.id('poll-draft-anonymous').uncheck();
    await t.id('poll-draft-save').click();
    await waitGone(t.id('poll-draft-editor'));
    assert.deepEqual(await t.id('poll-draft-text').allInnerTexts(), ['Ready for the quiz?', 'Which proof do we do next?']);
    const kept = draft('Which proof do we do next?', ['Induction', 'Contradiction', 'Construction, maybe'], { anonymous: false });
    assert.deepEqual(await t.page.evaluate(() => window.__fake.polls.drafts()), [draft('Ready for the quiz?'), kept]);
    assert.equal((await t.calls('poll_drafts')).length, 1);

    await t.id('poll-launch').nth(1).click();
    await waitVisible(t.id('poll-open'));
    assert.equal(await t.id('poll-open').getAttribute('data-poll-id'), 'p1');
    assert.deepEqual(await pollRequests(t), [{ type: 'poll_launch', poll: kept }]);
    // One open poll at a time: every Launch waits, saying why.
    assert.equal(await t.id('poll-launch').nth(0).isDisabled(), true);
    assert.equal(await t.text('poll-launch-blocked'), 'A poll is open: close it before launching another.');
    assert.equal(await results(t.id('poll-open')), '0,0,0');

    // The students vote; the host sees the counts and who chose what as they come.
    await others.vote(t, 'bob-2', 'p1', [0]);
    await others.vote(t, 'cat-3', 'p1', [2]);
    await others.vote(t, 'dan-4', 'p1', [0]);
    // A second vote counts once.
    await others.vote(t, 'bob-2', 'p1', [1]);
    await eventually(async () => assert.equal(await t.id('poll-open').getAttribute('data-votes'), '3'));
    assert.equal(await results(t.id('poll-open')), '2,0,1');
    assert.match(await t.text('poll-results'), /Induction\s+2 · 67%/);
    assert.deepEqual(await t.id('poll-voter').allInnerTexts(), ['Bob: Induction', 'Cat: Construction, maybe', 'Dan: Induction']);

    await t.id('poll-close').click();
    await waitGone(t.id('poll-open'));
    assert.equal(await results(closedPoll(t, 'p1')), '2,0,1');
    assert.equal(await t.id('poll-launch').nth(0).isEnabled(), true);

    await closedPoll(t, 'p1').getByTestId('poll-export').click();
    await toasted(t, /^Saved to \/home\/ada\/Downloads\/poll-p1\.csv/);
    const [saved] = await t.calls('save_export');
    assert.equal(saved.name, 'poll-p1.csv');
    const csv = Buffer.from(saved.dataBase64, 'base64').toString('utf8');
    assert.ok(csv.startsWith('\uFEFFPoll,p1\r\nQuestion,Which proof do we do next?\r\n'), csv);
    assert.match(csv, /\r\nOption,Votes,Percent of voters\r\nInduction,2,66\.7\r\nContradiction,0,0\.0\r\n"Construction, maybe",1,33\.3\r\n/);
    assert.match(csv, /\r\nVoter,Name,Choices\r\nbob-2,Bob,Induction\r\ncat-3,Cat,"Construction, maybe"\r\ndan-4,Dan,Induction\r\n$/);
    await t.done();
  });

  it('a student votes once, waits for the close, then sees the results', async () => {
    const t = await open({ others: [BOB_HOST, person('cat-3', 'Cat', { joinedAt: 3 })] });
    await joinAsGuest(t);
    await t.id('toggle-chat').click();
    await others.launch(t, draft('Break now?', ['Yes', 'In ten minutes', 'No']), 'bob-2');
    // A launch is news on the tab.
    await eventually(async () => assert.equal(await t.text('polls-tab-unread'), '1'));
    await t.id('polls-tab').click();
    await waitVisible(t.id('poll-open'));
    await waitGone(t.id('polls-tab-unread'));
    assert.equal(await t.id('poll-drafts').count(), 0);
    assert.equal(await t.id('poll-close').count(), 0);
    assert.match(await t.text('poll-privacy'), /Anonymous/);

    assert.equal(await t.id('poll-vote').isDisabled(), true);
    await t.id('poll-option').nth(1).check();
    await t.id('poll-vote').click();
    await waitVisible(t.id('poll-your-vote'));
    assert.equal(await t.text('poll-your-vote'), 'You voted: In ten minutes');
    assert.equal(await t.text('poll-results-later'), 'Results when the poll closes.');
    assert.equal(await t.id('poll-option').count(), 0);
    assert.equal(await t.id('poll-results').count(), 0);
    assert.deepEqual(await pollRequests(t), [{ type: 'poll_vote', id: 'p1', choices: [1] }]);

    // Voting again, however sent, changes nothing.
    await t.page.evaluate(() =>
      window.__TAURI_INTERNALS__.invoke('feature_request', { request: { type: 'poll_vote', id: 'p1', choices: [0] } }),
    );
    await others.vote(t, 'cat-3', 'p1', [1]);
    await eventually(async () => assert.equal(await t.id('poll-open').getAttribute('data-votes'), '2'));
    assert.equal(await t.id('poll-results').count(), 0);

    // A student closes nothing: the relay would say so anyway.
    const refused = await t.page.evaluate(() =>
      window.__TAURI_INTERNALS__
        .invoke('feature_request', { request: { type: 'poll_close', id: 'p1' } })
        .then(() => null, (e) => e.message),
    );
    assert.equal(refused, 'only presenters and the host can close polls');

    await t.id('chat-tab').click();
    await others.close(t, 'p1', 'bob-2');
    await eventually(async () => assert.equal(await t.text('polls-tab-unread'), '1'));
    await t.id('polls-tab').click();
    await waitVisible(closedPoll(t, 'p1'));
    assert.equal(await t.id('poll-open').count(), 0);
    assert.equal(await results(closedPoll(t, 'p1')), '0,2,0');
    assert.match(await closedPoll(t, 'p1').innerText(), /You voted: In ten minutes/);
    assert.match(await closedPoll(t, 'p1').innerText(), /In ten minutes \(your vote\)\s+2 · 100%/);
    // A student's export has the results, never who chose what.
    await closedPoll(t, 'p1').getByTestId('poll-export').click();
    await toasted(t, /Saved to \/home\/ada\/Downloads\/poll-p1\.csv/);
    const csv = Buffer.from((await t.calls('save_export'))[0].dataBase64, 'base64').toString('utf8');
    assert.match(csv, /\r\nIn ten minutes,2,100\.0\r\n/);
    assert.doesNotMatch(csv, /Voter,Name/);
    await t.done();
  });

  it('a late joiner sees the open poll, told on the tab, and votes in it', async () => {
    const opened = Date.now() - 60_000;
    const t = await open({
      others: [BOB_HOST],
      polls: [
        {
          id: 'p1',
          question: 'Warm-up: which did you read?',
          options: ['Chapter 1', 'Chapter 2'],
          kind: 'single',
          anonymous: true,
          by: 'bob-2',
          opened_at: opened - 600_000,
          closed_at: opened - 300_000,
          ballots: [{ identity: 'cat-3', name: 'Cat', choices: [0] }],
        },
        {
          id: 'p2',
          question: 'Which topics for the review?',
          options: ['Limits', 'Series', 'Integrals'],
          kind: 'multiple',
          anonymous: false,
          by: 'bob-2',
          opened_at: opened,
          ballots: [
            { identity: 'cat-3', name: 'Cat', choices: [0, 2] },
            { identity: 'dan-4', name: 'Dan', choices: [1] },
          ],
        },
      ],
    });
    await joinAsGuest(t);
    await eventually(async () => assert.equal(await t.text('polls-unread'), '1'));
    await openPolls(t);
    assert.equal(await t.id('poll-open').getAttribute('data-poll-id'), 'p2');
    assert.equal(await t.id('poll-open').getAttribute('data-votes'), '2');
    assert.match(await t.text('poll-privacy'), /Named: the host and presenters see who chose what/);
    // The closed one is everyone's to see; the open one's results wait for the close.
    assert.equal(await results(closedPoll(t, 'p1')), '1,0');
    assert.equal(await t.id('poll-open').getByTestId('poll-results').count(), 0);
    assert.equal(await t.id('poll-voter').count(), 0);

    await t.id('poll-option').nth(2).check();
    await t.id('poll-option').nth(0).check();
    await t.id('poll-vote').click();
    await waitVisible(t.id('poll-your-vote'));
    assert.equal(await t.text('poll-your-vote'), 'You voted: Limits, Integrals');
    assert.deepEqual(await pollRequests(t), [{ type: 'poll_vote', id: 'p2', choices: [0, 2] }]);
    assert.equal(await t.id('poll-open').getAttribute('data-votes'), '3');
    await t.done();
  });

  it('shows the limits of a draft, the app refusing to keep one, and the relay refusing a launch', async () => {
    const full = Array.from({ length: 49 }, (_, i) => draft(`Question ${i + 1}?`));
    const t = await open({ others: STUDENTS, pollDrafts: full });
    await hostRoom(t);
    await openPolls(t);
    await eventually(async () => assert.equal(await t.id('poll-draft').count(), 49));

    await t.id('poll-draft-new').click();
    await t.id('poll-draft-question').fill('é'.repeat(251));
    assert.equal(await t.text('poll-draft-question-bytes'), 'Too long: 502 / 500 bytes');
    assert.equal(await t.id('poll-draft-save').isDisabled(), true);
    await t.id('poll-draft-question').fill('Which one?');
    await t.id('poll-draft-option').nth(0).fill('x'.repeat(201));
    assert.equal(await t.text('poll-draft-option-bytes'), 'Too long: 201 / 200 bytes');
    assert.equal(await t.text('poll-draft-problem'), 'Option 1: Too long: 201 / 200 bytes');
    assert.equal(await t.id('poll-draft-save').isDisabled(), true);
    await t.id('poll-draft-option').nth(0).fill('A');
    assert.equal(await t.text('poll-draft-problem'), 'Option 2: Fill in option 2 or remove it');
    for (let i = 0; i < 8; i++) await t.id('poll-draft-add-option').click();
    assert.equal(await t.id('poll-draft-option').count(), 10);
    assert.equal(await t.id('poll-draft-add-option').isDisabled(), true);
    for (let i = 1; i < 10; i++) await t.id('poll-draft-option').nth(i).fill(String.fromCharCode(65 + i));
    await t.id('poll-draft-kind').selectOption('multiple');

    // The app cannot write its file: the draft stays in the editor, said why.
    await t.fail('save_poll_drafts', 'storage', 'The poll drafts could not be saved: No space left on device');
    await t.id('poll-draft-save').click();
    await eventually(async () =>
      assert.equal(await t.text('poll-draft-error'), 'The poll drafts could not be saved: No space left on device'),
    );
    assert.equal(await t.id('poll-draft-question').inputValue(), 'Which one?');
    await t.id('poll-draft-save').click();
    await waitGone(t.id('poll-draft-editor'));
    assert.equal(await t.id('poll-draft').count(), 50);
    // Fifty is all the app keeps.
    assert.equal(await t.id('poll-draft-new').isDisabled(), true);
    assert.match(await t.id('poll-draft-new').getAttribute('title'), /at most 50 drafts/);
    assert.equal((await t.page.evaluate(() => window.__fake.polls.drafts())).at(-1).options.length, 10);

    // Another presenter launches while our launch is on its way: the relay refuses ours.
    await t.delay('feature_request', 400);
    await t.id('poll-launch').nth(0).click();
    await others.launch(t, draft('Theirs?'), 'bob-2');
    await toasted(t, /^Couldn't launch the poll: poll `p1` is open; close it before launching another/);
    assert.equal(await t.id('poll-open').getAttribute('data-poll-id'), 'p1');
    assert.match(await t.text('poll-open'), /by Bob/);
    assert.equal(await t.id('poll-launch').nth(0).isDisabled(), true);
    await t.done();
  });
});
