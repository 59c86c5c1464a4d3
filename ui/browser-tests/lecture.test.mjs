// Browser tests of the lecture room: study room or lecture, who may speak, mute all, the
// lock, lowering every hand, reactions and the lecture's clock. The built UI in Debian's
// Chromium; the Tauri shell faked (fake-tauri.js runs the lecture as the relay would: the
// whole state to everyone on each change, students' sources turned off and refused, a
// locked room refusing newcomers, reactions to everyone over a rate).
//
// Run: npm run test:browser (builds first); this file alone after a build:
// node --test browser-tests/lecture.test.mjs

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
  media: { mic: true, camera: true, screen: false },
  presence: 'active',
  joinedAt: 2,
  ...extra,
});

/** Bob hosts the room a guest joins. */
const BOB_HOST = person('bob-2', 'Bob', { host: true });
/** The students and the presenter of a room we host. */
const CAT = person('cat-3', 'Cat', { joinedAt: 3 });
const DAN = person('dan-4', 'Dan', { joinedAt: 4 });
const EVE = person('eve-5', 'Eve', { joinedAt: 5 });

async function hostLecture(t, title = 'Physics 101') {
  await eventually(async () => assert.equal(await t.id('display-name').inputValue(), 'Ada'));
  await t.id('host-title').fill(title);
  assert.equal(await t.id('host-mode').inputValue(), 'study');
  await t.id('host-mode').selectOption('lecture');
  await t.id('host-submit').click();
  await waitVisible(t.id('setup-continue'));
  assert.match(await t.page.locator('h1').first().innerText(), /as a lecture/);
  await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
  await t.id('setup-continue').click();
  await waitVisible(t.id('room'));
}

async function joinAsGuest(t) {
  await eventually(async () => assert.equal(await t.id('invite-input').isEnabled(), true));
  await t.id('invite-input').fill('K7QX-29FD@192.168.1.20:7450');
  await t.id('join-submit').click();
  await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
  await t.id('setup-continue').click();
}

async function openPeople(t) {
  await t.id('toggle-people').click();
  await waitVisible(t.id('people-list'));
}

const toasts = (t) => t.id('toast').allInnerTexts();
const requests = async (t, type) => (await t.calls('feature_request')).map((c) => c.request).filter((r) => r.type === type);
/** Another host (Bob) changes the lecture through the fake relay. */
const asBob = (t, request) => t.page.evaluate((r) => window.__fake.lecture.request(r, 'bob-2'), request);
const mmss = /^\d\d:\d\d$/;

describe('hosting a lecture', () => {
  it('the host chooses a lecture: the room becomes one, with its badge and a clock that ticks', async () => {
    const t = await open({ others: [CAT] });
    await hostLecture(t);
    await waitVisible(t.id('lecture-badge'));
    assert.deepEqual(await requests(t, 'set_room_mode'), [{ type: 'set_room_mode', mode: 'lecture' }]);
    const clock = t.id('lecture-clock');
    const startedAt = Number(await clock.getAttribute('data-started-at'));
    assert.ok(Math.abs(Date.now() - startedAt) < 10_000, `started at ${startedAt}`);
    const first = await clock.innerText();
    assert.match(first, mmss);
    await eventually(async () => assert.notEqual(await clock.innerText(), first), 3000);
    // The host speaks and shares as ever; the student was let in muted.
    assert.equal(await t.id('toggle-mic').isEnabled(), true);
    assert.equal(await t.id('toggle-screen').isEnabled(), true);
    assert.equal(await t.id('tile-cat-3').getAttribute('data-mic'), 'false');
    assert.equal(await t.id('tile-cat-3').getAttribute('data-camera'), 'false');

    // Back to a study room: the badge and clock go.
    await openPeople(t);
    assert.equal(await t.id('room-mode').getAttribute('data-mode'), 'lecture');
    await t.id('lecture-mode-toggle').click();
    await waitGone(t.id('lecture-badge'));
    assert.equal(await t.id('room-mode').getAttribute('data-mode'), 'study');
    assert.equal(await t.id('lecture-clock').count(), 0);
    await t.done();
  });

  it("shows an old lecture's clock from its start, in hours", async () => {
    const startedAt = Date.now() - (3600 + 2 * 60 + 5) * 1000;
    const t = await open({ others: [BOB_HOST], lecture: { mode: 'lecture', started_at: startedAt } });
    await joinAsGuest(t);
    await waitVisible(t.id('lecture-clock'));
    assert.equal(await t.id('lecture-clock').getAttribute('data-started-at'), String(startedAt));
    assert.match(await t.text('lecture-clock'), /^1:02:0\d$/);
    await t.done();
  });
});

describe('a student in a lecture', () => {
  it('joins muted, asks with a raised hand, is let speak, then stopped', async () => {
    const t = await open({ others: [BOB_HOST], lecture: { mode: 'lecture', started_at: Date.now() - 90_000 } });
    await joinAsGuest(t);
    await waitVisible(t.id('room'));
    const mic = t.id('toggle-mic');
    const camera = t.id('toggle-camera');
    const share = t.id('toggle-screen');
    assert.equal(await mic.getAttribute('data-on'), 'false');
    assert.equal(await camera.getAttribute('data-on'), 'false');
    assert.equal(await mic.isDisabled(), true);
    assert.equal(await camera.isDisabled(), true);
    assert.equal(await share.isDisabled(), true);
    assert.equal(await mic.getAttribute('title'), 'Raise your hand to speak');
    assert.match(await share.getAttribute('title'), /only presenters and the host share/);
    assert.equal(await t.id('room-controls').count(), 0);

    // The relay refuses anyway what the toolbar does not offer.
    const refused = await t.page.evaluate(() =>
      window.__TAURI_INTERNALS__
        .invoke('set_media', { update: { mic: true, camera: null, screen: null } })
        .then(() => null, (e) => e.message),
    );
    assert.match(refused, /the microphone stays off until the host lets you speak/);

    await t.id('toggle-hand').click();
    await eventually(async () => assert.equal(await t.id('toggle-hand').getAttribute('aria-pressed'), 'true'));
    await asBob(t, { type: 'allow_speaking', identity: 'me-1', allowed: true });
    await eventually(async () => assert.ok((await toasts(t)).some((x) => x.includes('You may speak now.'))));
    assert.equal(await mic.isEnabled(), true);
    assert.equal(await share.isDisabled(), true);
    await mic.click();
    await eventually(async () => assert.equal(await mic.getAttribute('data-on'), 'true'));

    // Taking it back turns the microphone off, and locks it again.
    await asBob(t, { type: 'allow_speaking', identity: 'me-1', allowed: false });
    await eventually(async () => assert.equal(await mic.getAttribute('data-on'), 'false'));
    assert.equal(await mic.isDisabled(), true);
    assert.ok((await toasts(t)).some((x) => x.includes('Bob took back your turn to speak')));

    // Everyone may speak: so may she.
    await asBob(t, { type: 'allow_speaking', identity: null, allowed: true });
    await eventually(async () => assert.equal(await mic.isEnabled(), true));
    await camera.click();
    await eventually(async () => assert.equal(await camera.getAttribute('data-on'), 'true'));
    // ... until the host stops everyone speaking: the relay turns her camera off.
    await asBob(t, { type: 'allow_speaking', identity: null, allowed: false });
    await eventually(async () => assert.equal(await camera.getAttribute('data-on'), 'false'));
    assert.equal(await camera.isDisabled(), true);
    await t.done();
  });

  it('cannot get into a locked room, and is told why', async () => {
    const t = await open({ others: [BOB_HOST], lecture: { locked: true } });
    await joinAsGuest(t);
    await eventually(async () =>
      assert.match(await t.text('setup-error'), /This room is locked: the host is not taking new people right now/),
    );
    assert.equal(await t.id('room').count(), 0);
    await t.done();
  });
});

describe("a host's moderation", () => {
  it('lets a raised hand speak from the queue, lowers every hand, mutes everyone and locks the room', async () => {
    const presenter = { ...DAN, presenter: true };
    const t = await open({
      others: [CAT, presenter, EVE],
      presenters: ['dan-4'],
      hands: [
        { identity: 'cat-3', raised_at: Date.now() - 20_000 },
        { identity: 'eve-5', raised_at: Date.now() - 10_000 },
      ],
    });
    await hostRoom(t);
    await openPeople(t);
    // A study room: nobody to let speak.
    assert.equal(await t.id('let-speak-cat-3').count(), 0);
    assert.equal(await t.id('allow-everyone').isDisabled(), true);
    await t.id('lecture-mode-toggle').click();
    await waitVisible(t.id('lecture-badge'));
    // The students were turned off; the presenter was not.
    await eventually(async () => assert.equal(await t.id('tile-cat-3').getAttribute('data-mic'), 'false'));
    assert.equal(await t.id('tile-dan-4').getAttribute('data-mic'), 'true');

    // Cat's hand: let her speak from the queue; her hand goes down.
    const queue = t.id('hand-queue');
    await queue.getByTestId('let-speak-cat-3').click();
    await waitGone(t.id('queued-cat-3'));
    assert.deepEqual(await requests(t, 'allow_speaking'), [{ type: 'allow_speaking', identity: 'cat-3', allowed: true }]);
    await eventually(async () =>
      assert.equal(await t.id('person-cat-3').getByTestId('let-speak-cat-3').innerText(), 'Stop'),
    );
    assert.equal(await t.id('person-cat-3').getByTestId('may-speak').innerText(), 'May speak');
    assert.equal(await t.id('person-dan-4').getByTestId('let-speak-dan-4').count(), 0);

    // Every hand down at once.
    await t.id('lower-all-hands').click();
    await waitGone(t.id('queued-eve-5'));
    assert.match(await queue.innerText(), /No hands raised/);
    assert.equal(await t.id('lower-all-hands').count(), 0);

    // Mute everyone: all but the host and presenters.
    await t.page.evaluate(() => {
      // Cat turns her microphone on, as she may now.
      const cat = window.__fake.state.others.find((p) => p.identity === 'cat-3');
      cat.media = { ...cat.media, mic: true };
      window.__fake.emit('room-event', { type: 'participantUpdated', participant: cat });
    });
    await eventually(async () => assert.equal(await t.id('tile-cat-3').getAttribute('data-mic'), 'true'));
    await t.id('mute-all').click();
    await eventually(async () => assert.equal(await t.id('tile-cat-3').getAttribute('data-mic'), 'false'));
    assert.equal(await t.id('tile-dan-4').getAttribute('data-mic'), 'true');
    assert.equal(await t.id('tile-self').getAttribute('data-mic'), 'true');
    await eventually(async () => assert.ok((await toasts(t)).some((x) => x.includes('Everyone but you and the presenters is muted.'))));

    // Let everyone speak, then stop it.
    await t.id('allow-everyone').click();
    await eventually(async () => assert.equal(await t.id('allow-everyone').getAttribute('aria-pressed'), 'true'));
    assert.equal(await t.id('let-speak-cat-3').count(), 0);
    await t.id('allow-everyone').click();
    await eventually(async () => assert.equal(await t.id('allow-everyone').getAttribute('aria-pressed'), 'false'));
    assert.equal(await t.id('person-cat-3').getByTestId('let-speak-cat-3').innerText(), 'Let speak');

    // Lock: the badge shows; unlock: it goes.
    await t.id('lock-room').click();
    await waitVisible(t.id('room-locked-badge'));
    assert.equal(await t.text('room-locked-badge'), 'Locked');
    assert.equal(await t.id('lock-room').innerText(), 'Unlock room');
    await t.id('lock-room').click();
    await waitGone(t.id('room-locked-badge'));
    await t.done();
  });
});

describe('reactions', () => {
  it("float on the sender's tile for a few seconds; too many at once are refused quietly", async () => {
    const t = await open({ others: [CAT] });
    await hostRoom(t);
    await t.id('react-button').click();
    await waitVisible(t.id('reactions-menu'));
    assert.deepEqual(await t.id('reactions-menu').getByRole('button').allInnerTexts(), ['👍', '👏', '😂', '❓', '🎉']);
    await t.id('react-party').click();
    const mine = t.id('tile-self').getByTestId('tile-reaction');
    await waitVisible(mine);
    assert.equal(await mine.first().getAttribute('data-reaction'), 'party');
    assert.deepEqual(await requests(t, 'react'), [{ type: 'react', reaction: 'party' }]);

    // Cat's reaction shows on her tile only.
    await t.page.evaluate(() => window.__fake.reactions.react('cat-3', 'clap'));
    const hers = t.id('tile-cat-3').getByTestId('tile-reaction');
    await waitVisible(hers);
    assert.equal(await hers.first().getAttribute('data-reaction'), 'clap');
    assert.equal(await hers.first().innerText(), '👏');
    // Gone after about 3 seconds.
    await waitGone(hers, 5000);
    await waitGone(mine, 5000);

    // Over the relay's burst: a quiet word, not an error.
    for (let i = 0; i < 10; i++) await t.id('react-thumbs_up').click();
    await eventually(async () =>
      assert.ok((await toasts(t)).some((x) => x.startsWith('Too many reactions at once: wait a moment.'))),
    );
    assert.equal(await t.page.locator('[data-testid=toast][role=alert]').count(), 0);
    assert.ok((await t.id('tile-self').getByTestId('tile-reaction').count()) <= 3);
    await t.done();
  });
});
