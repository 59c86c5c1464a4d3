// Browser tests: the built UI (dist/) in Debian's Chromium, with the Tauri shell replaced by
// fake-tauri.js (injected before the app loads) and, for video, a WebSocket server in this
// process sending real VP8 frames (encoded by Chromium's own VideoEncoder).
//
// Run: npm run test:browser (builds first). CHROMIUM_BIN overrides /usr/bin/chromium.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  env,
  eventually,
  hostRoom,
  open,
  openChat,
  startBrowser,
  stopBrowser,
  waitGone,
  waitVisible,
} from './harness.mjs';
import { startWebSocketServer, videoMessage } from './server.mjs';
import { devices, link, mediaStatus, participant } from '../src/test/fixtures.js';

before(startBrowser);
after(stopBrowser);

describe('start and host', () => {
  it('hosts a room: name, devices, host_room, join_room with the link, invite dialog', async () => {
    const t = await open();
    await eventually(async () => assert.match(await t.text('app-version'), /Studyhall 0\.1\.0-test · protocol 1/));
    await eventually(async () => assert.equal(await t.id('display-name').inputValue(), 'Ada'));
    await t.id('display-name').fill('Ada Lovelace');
    await t.id('host-title').fill('Finals week');
    await t.id('host-submit').click();
    await waitVisible(t.id('no-devices-note'));
    assert.equal(await t.id('select-camera').inputValue(), 'synthetic');
    assert.equal(await t.id('select-microphone').inputValue(), 'synthetic');
    assert.equal(await t.id('select-speaker').inputValue(), 'default');
    await eventually(async () => assert.equal((await t.calls('start_preview')).length >= 1, true));
    assert.deepEqual((await t.calls('start_preview'))[0], { camera: { kind: 'testPattern' }, microphone: { kind: 'tone' } });
    await t.emit('media-status', mediaStatus({ levels: [{ key: 'self', level: 0.6 }] }));
    await eventually(async () => assert.equal(await t.id('mic-level').getAttribute('data-level'), '0.60'));
    await t.id('setup-continue').click();
    await waitVisible(t.id('room'));

    const saved = await t.calls('save_profile');
    assert.equal(saved[0].profile.displayName, 'Ada Lovelace');
    assert.deepEqual(saved.at(-1).profile.camera, { kind: 'testPattern' });
    assert.ok((await t.calls('stop_preview')).length >= 1);
    assert.deepEqual(await t.calls('host_room'), [{ title: 'Finals week' }]);
    assert.deepEqual(await t.calls('join_room'), [
      { invite: 'studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD', media: { mic: true, camera: true } },
    ]);
    assert.equal(await t.text('room-title'), 'Finals week');
    await waitVisible(t.id('tile-self').getByTestId('host-badge'));
    await waitVisible(t.id('tile-bob-2'));
    // The host sees what the room uploads, and when video was turned down for it.
    await eventually(async () => assert.equal(await t.text('host-upload-rate'), 'Your upload: 4.2 of 25 Mbit/s'));
    assert.equal(await t.id('host-upload-note').count(), 0);
    await t.page.evaluate(
      () => (window.__fake.state.hostUpload = { bitsPerSecond: 24_800_000, budgetBitsPerSecond: 25_000_000, heldSmall: 2, paused: 1 }),
    );
    await eventually(
      async () => assert.equal(await t.text('host-upload-note'), 'video turned down to stay within your upload'),
      8000, // the next ask, 3 s on
    );
    assert.equal(await t.text('host-upload-rate'), 'Your upload: 24.8 of 25 Mbit/s');
    assert.match(await t.id('host-upload-note').getAttribute('title'), /2 video tiles .* lower quality and 1 is paused/);
    // The test tone has nothing to suppress: the room's switch says so.
    await t.id('mic-settings').click();
    await waitVisible(t.id('mic-settings-panel'));
    assert.equal(await t.id('room-noise-suppression').isDisabled(), true);
    await t.page.keyboard.press('Escape');
    await waitGone(t.id('mic-settings-panel'));

    await t.id('open-invite').click();
    assert.equal(await t.text('invite-link'), 'studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD');
    assert.equal(await t.text('invite-code'), 'K7QX-29FD@192.168.1.20:7450');
    await t.id('copy-invite-code').click();
    await eventually(async () => assert.equal(await t.text('copy-invite-code'), 'Copied'));
    assert.equal(await t.page.evaluate(() => navigator.clipboard.readText()), 'K7QX-29FD@192.168.1.20:7450');
    await t.page.keyboard.press('Escape');
    await waitGone(t.id('invite-dialog'));

    // Host actions: remove Bob (confirmed), end the room (confirmed).
    await t.id('toggle-people').click();
    await t.id('kick-bob-2').click();
    await t.id('confirm-ok').click();
    await eventually(async () => assert.deepEqual(await t.calls('kick'), [{ identity: 'bob-2' }]));
    await t.id('end-room').click();
    await waitVisible(t.id('end-dialog'));
    await t.id('confirm-ok').click();
    await waitVisible(t.id('banner-ended'));
    assert.equal((await t.calls('stop_hosting')).length, 1);
    await t.done();
  });

  it('joins with an invalid, then a valid invite code', async () => {
    const t = await open();
    await eventually(async () => assert.equal(await t.id('invite-input').isEnabled(), true));
    await t.id('invite-input').fill('not an invite');
    await eventually(async () => assert.match(await t.text('invite-status'), /not a Studyhall invite/));
    await t.id('join-submit').click();
    await eventually(async () => assert.match(await t.text('invite-status'), /not a Studyhall invite/));
    assert.equal(await t.visible('setup-continue'), false);

    await t.id('invite-input').fill('K7QX-29FD@192.168.1.20:7450');
    await eventually(async () => assert.match(await t.text('invite-status'), /Room at 192\.168\.1\.20:7450/));
    await t.id('join-submit').click();
    await waitVisible(t.id('setup-continue'));
    await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
    await t.id('setup-continue').click();
    await waitVisible(t.id('room'));
    assert.deepEqual(await t.calls('join_room'), [{ invite: 'K7QX-29FD@192.168.1.20:7450', media: { mic: true, camera: true } }]);
    assert.equal(await t.visible('open-invite'), false);
    await t.id('leave').click();
    await waitVisible(t.id('join-submit'));
    assert.equal((await t.calls('leave_room')).length, 1);
    await t.done();
  });

  it('shows devices by their labels and opens them by their names', async () => {
    const t = await open({
      devices: devices({
        microphones: [
          { name: 'alsa_input.pci-0000_00_1f.3.analog-stereo', label: 'Built-in Audio Analog Stereo' },
          { name: 'default', label: 'System default' },
        ],
        screens: [{ name: 'screen', label: 'Entire screen (640×480)' }],
        speakers: [{ name: 'default', label: 'System default' }],
      }),
    });
    await eventually(async () => assert.equal(await t.id('display-name').inputValue(), 'Ada'));
    await t.id('open-devices').click();
    await waitVisible(t.id('select-microphone'));
    const options = (testId) =>
      t.id(testId).evaluate((el) => [...el.options].map((o) => [o.value, o.textContent]));
    assert.deepEqual(await options('select-microphone'), [
      ['microphone:alsa_input.pci-0000_00_1f.3.analog-stereo', 'Built-in Audio Analog Stereo'],
      ['microphone:default', 'System default'],
      ['synthetic', 'Test tone'],
    ]);
    assert.deepEqual(await options('select-screen'), [
      ['screen:screen', 'Entire screen (640×480)'],
      ['synthetic', 'Test pattern'],
    ]);
    // ALSA's default is the system default: listed once.
    assert.deepEqual(await options('select-speaker'), [['default', 'System default']]);
    await t.id('select-microphone').selectOption({ label: 'Built-in Audio Analog Stereo' });
    await eventually(async () =>
      assert.deepEqual((await t.calls('start_preview')).at(-1)?.microphone, {
        kind: 'microphone',
        name: 'alsa_input.pci-0000_00_1f.3.analog-stereo',
      }),
    );
    // Noise suppression: on by default for a real microphone, switched at once, saved.
    const noise = t.page.getByRole('switch', { name: 'Noise suppression' });
    assert.equal(await noise.isChecked(), true);
    assert.equal(await noise.isEnabled(), true);
    await noise.uncheck();
    await eventually(async () => assert.deepEqual(await t.calls('set_noise_suppression'), [{ on: false }]));
    await t.id('setup-continue').click();
    await eventually(async () =>
      assert.deepEqual((await t.calls('save_profile')).at(-1)?.profile.microphone, {
        kind: 'microphone',
        name: 'alsa_input.pci-0000_00_1f.3.analog-stereo',
      }),
    );
    assert.equal((await t.calls('save_profile')).at(-1).profile.noiseSuppression, false);
    await t.done();
  });

  it("explains an unreachable host, retries, and can go back", async () => {
    const t = await open();
    await t.fail('join_room', 'relayUnreachable', 'connect to 192.168.1.20:7450: no route to host', 2);
    await eventually(async () => assert.equal(await t.id('invite-input').isEnabled(), true));
    await t.id('invite-input').fill('studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD');
    await t.id('join-submit').click();
    await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
    await t.id('setup-continue').click();
    await eventually(async () =>
      assert.match(await t.text('setup-error'), /Can't reach the room's host at 192\.168\.1\.20; check you're on the same network/),
    );
    assert.equal(await t.text('setup-continue'), 'Try again');
    await t.id('setup-continue').click();
    await eventually(async () => assert.equal((await t.calls('join_room')).length, 2));
    await waitVisible(t.id('setup-error'));
    // The preview runs again after a failed join.
    await eventually(async () => assert.ok((await t.calls('start_preview')).length >= 3));
    await t.id('setup-continue').click();
    await waitVisible(t.id('room'));
    await t.id('leave').click();

    await t.fail('join_room', 'tokenExpired', 'token expired');
    await t.id('invite-input').fill('K7QX-29FD@192.168.1.20:7450');
    await t.id('join-submit').click();
    await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
    await t.id('setup-continue').click();
    await eventually(async () => assert.match(await t.text('setup-error'), /This invite has expired/));
    await t.id('setup-back').click();
    await waitVisible(t.id('join-submit'));
    await t.done();
  });
});

describe('room', () => {
  it('sends chat (sending… then stored, once) and retries a failed send with the same id', async () => {
    const t = await open();
    await hostRoom(t);
    await openChat(t);
    await t.delay('send_chat', 600);
    await t.id('chat-input').fill('Hello everyone');
    await t.id('chat-input').press('Enter');
    await eventually(async () => assert.equal(await t.text('chat-message-status'), 'sending…'));
    await eventually(async () => {
      const messages = t.id('chat-message');
      assert.equal(await messages.count(), 1);
      assert.equal(await messages.first().getAttribute('data-status'), 'sent');
      assert.equal(await messages.first().getByTestId('chat-text').innerText(), 'Hello everyone');
    });
    assert.equal(await t.id('chat-input').inputValue(), '');

    await t.delay('send_chat', 0);
    await t.fail('send_chat', 'timeout', 'The relay did not answer.');
    await t.id('chat-input').fill('Second');
    await t.id('chat-send').click();
    await eventually(async () => assert.equal(await t.text('chat-message-status'), 'not sent'));
    await t.id('chat-retry').click();
    await eventually(async () => {
      assert.equal(await t.id('chat-message').count(), 2);
      assert.equal(await t.page.locator('[data-testid=chat-message][data-status=sent]').count(), 2);
    });
    const sends = await t.calls('send_chat');
    assert.equal(sends.length, 3);
    assert.equal(sends[1].clientMsgId, sends[2].clientMsgId);
    assert.notEqual(sends[0].clientMsgId, sends[1].clientMsgId);

    // Shift+Enter is a newline; the byte counter stops messages over the limit.
    await t.id('chat-input').focus();
    await t.page.keyboard.type('line one');
    await t.page.keyboard.press('Shift+Enter');
    await t.page.keyboard.type('two');
    assert.equal(await t.id('chat-input').inputValue(), 'line one\ntwo');
    await t.id('chat-input').fill('é'.repeat(101));
    assert.match(await t.text('chat-counter'), /Too long: 202 \/ 200/);
    assert.equal(await t.id('chat-send').isDisabled(), true);
    await t.done();
  });

  it('shows people and chat from room events', async () => {
    const t = await open({
      chat: {
        messages: [{ seq: 5, from: 'bob-2', name: 'Bob', text: 'Earlier', ts: Date.now(), clientMsgId: 'b5', deleted: false }],
        hasMore: true,
      },
      olderChat: {
        messages: [{ seq: 2, from: 'bob-2', name: 'Bob', text: 'Much earlier', ts: Date.now(), clientMsgId: 'b2', deleted: false }],
        hasMore: false,
      },
    });
    await hostRoom(t);
    const carol = {
      identity: 'carol-3',
      name: 'Carol Shaw',
      host: false,
      presenter: false,
      you: false,
      media: { mic: true, camera: false, screen: false },
      presence: 'active',
      joinedAt: 3,
    };
    await t.emit('room-event', { type: 'participantJoined', participant: carol });
    await waitVisible(t.id('tile-carol-3'));
    assert.match(await t.text('tile-carol-3'), /CS/);
    await waitVisible(t.id('tile-carol-3').getByTestId('camera-off'));

    await t.emit('room-event', {
      type: 'participantUpdated',
      participant: { ...carol, media: { mic: false, camera: false, screen: false } },
    });
    await waitVisible(t.id('tile-carol-3').getByTestId('mic-off'));

    await t.emit('room-event', {
      type: 'chatMessage',
      message: { seq: 6, from: 'carol-3', name: 'Carol Shaw', text: 'Hi all', ts: Date.now(), clientMsgId: 'c6', deleted: false },
    });
    await eventually(async () => assert.equal(await t.text('chat-unread'), '1'));
    await openChat(t);
    await eventually(async () => assert.equal(await t.id('chat-message').count(), 2));
    await t.id('chat-load-older').click();
    await eventually(async () => assert.equal(await t.id('chat-message').count(), 3));
    assert.deepEqual(await t.calls('load_older_chat'), [{ beforeSeq: 5 }]);
    assert.equal(await t.visible('chat-load-older'), false);
    await t.emit('room-event', { type: 'chatDeleted', seq: 5 });
    await eventually(async () => assert.equal(await t.id('chat-message').count(), 2));
    // The host deletes a message.
    await t.page.locator('[data-testid=chat-message][data-seq="6"]').hover();
    await t.page.locator('[data-testid=chat-message][data-seq="6"] [data-testid=chat-delete]').click();
    await eventually(async () => assert.equal(await t.id('chat-message').count(), 1));
    assert.deepEqual(await t.calls('delete_chat'), [{ seq: 6 }]);

    // Active speaker: the loudest above the threshold.
    await t.emit('media-status', mediaStatus({ levels: [{ key: 'carol-3', level: 0.4 }, { key: 'self', level: 0.01 }] }));
    await eventually(async () => assert.equal(await t.id('tile-carol-3').getAttribute('data-speaking'), 'true'));
    assert.equal(await t.id('tile-self').getAttribute('data-speaking'), 'false');
    // Once the relay says who speaks, it decides: us active, Carol speaking too.
    await t.emit('room-event', { type: 'speakers', active: 'me-1', speaking: ['carol-3', 'me-1'] });
    await eventually(async () => assert.equal(await t.id('tile-self').getAttribute('data-speaking'), 'true'));
    assert.equal(await t.id('tile-carol-3').getAttribute('data-speaking'), 'false');
    assert.equal(await t.id('tile-carol-3').getAttribute('data-talking'), 'true');
    assert.equal(await t.id('tile-bob-2').getAttribute('data-talking'), 'false');

    await t.emit('room-event', { type: 'notice', message: 'The host is recording notes.' });
    await eventually(async () => assert.match(await t.text('toast'), /recording notes/));

    await t.emit('room-event', { type: 'participantLeft', identity: 'carol-3', reason: 'left' });
    await waitGone(t.id('tile-carol-3'));
    await t.done();
  });

  it('toggles mic, camera and screen; a failed toggle reverts and says why', async () => {
    const t = await open();
    await hostRoom(t);
    assert.equal(await t.id('toggle-mic').getAttribute('data-on'), 'true');
    await t.delay('set_media', 400);
    await t.id('toggle-mic').click();
    await eventually(async () => assert.equal(await t.id('toggle-mic').getAttribute('data-pending'), 'true'));
    await eventually(async () => {
      assert.equal(await t.id('toggle-mic').getAttribute('data-pending'), 'false');
      assert.equal(await t.id('toggle-mic').getAttribute('data-on'), 'false');
    });
    await waitVisible(t.id('tile-self').getByTestId('mic-off'));
    assert.deepEqual((await t.calls('set_media'))[0], { update: { mic: false, camera: null, screen: null } });

    await t.delay('set_media', 0);
    await t.fail('set_media', 'deviceUnavailable', 'The camera is in use by another application.');
    await t.id('toggle-camera').click();
    await eventually(async () => assert.match(await t.text('toast'), /Couldn't turn off camera: The camera is in use/));
    assert.equal(await t.id('toggle-camera').getAttribute('data-on'), 'true');

    await t.id('toggle-screen').click();
    await eventually(async () => assert.equal(await t.id('toggle-screen').getAttribute('data-on'), 'true'));
    await waitVisible(t.id('screen-stage'));
    assert.equal(await t.id('screen-stage').locator('canvas').getAttribute('data-track'), 'self:screen');

    // Someone else's share takes the stage.
    await t.emit('room-event', {
      type: 'participantUpdated',
      participant: {
        identity: 'bob-2', name: 'Bob', host: false, presenter: false, you: false,
        media: { mic: true, camera: true, screen: true }, presence: 'active', joinedAt: 2,
      },
    });
    await eventually(async () => assert.equal(await t.id('screen-stage').getAttribute('data-identity'), 'bob-2'));
    assert.equal(await t.id('screen-stage').locator('canvas').getAttribute('data-track'), 'bob-2:screen');
    await t.done();
  });

  it('shows reconnecting and lost banners, rejoins, and leaves when kicked', async () => {
    const t = await open();
    await hostRoom(t);
    await t.emit('room-event', { type: 'connection', state: 'reconnecting', message: null });
    await eventually(async () => assert.match(await t.text('banner-reconnecting'), /Connection lost — reconnecting…/));
    await t.emit('room-event', { type: 'connection', state: 'connected', message: null });
    await waitGone(t.id('banner-reconnecting'));

    await t.emit('room-event', { type: 'connection', state: 'lost', message: 'The host stopped answering.' });
    await eventually(async () => assert.match(await t.text('banner-lost'), /The host stopped answering/));
    await t.fail('join_room', 'relayUnreachable', 'no route');
    await t.id('rejoin').click();
    await eventually(async () => assert.match(await t.text('rejoin-error'), /Can't reach the room's host at 192\.168\.1\.20/));
    await t.id('rejoin').click();
    await waitGone(t.id('banner-lost'));
    assert.equal((await t.calls('join_room')).length, 3);

    await t.emit('room-event', { type: 'kicked', by: 'bob-2', reason: null });
    await eventually(async () => assert.match(await t.text('banner-kicked'), /You were removed from the room by Bob/));
    await waitVisible(t.id('join-submit'));

    // Back to start from a lost connection.
    await hostRoom(t, 'Second');
    await t.emit('room-event', { type: 'connection', state: 'lost', message: null });
    await t.id('back-to-start').click();
    await waitVisible(t.id('join-submit'));

    await hostRoom(t, 'Third');
    await t.emit('room-event', { type: 'roomEnded', reason: 'The host ended the room.' });
    await eventually(async () => assert.match(await t.text('banner-ended'), /The room has ended/));
    await t.done();
  });

  it('shows raised hands on the tiles and in the people panel; the host lowers one', async () => {
    const t = await open();
    await hostRoom(t);
    // Bob raises his hand (the relay's hand_queue, as the app forwards it).
    await t.emit('room-event', {
      type: 'feature',
      event: { type: 'hand_queue', hands: [{ identity: 'bob-2', raised_at: Date.now() }], by: 'bob-2' },
    });
    await waitVisible(t.id('tile-bob-2').getByTestId('hand-bob-2'));
    assert.equal(await t.id('tile-bob-2').getByTestId('hand-bob-2').innerText(), '1');

    // Ours goes up after Bob's once the (fake) relay sends the queue.
    await t.id('toggle-hand').click();
    await eventually(async () => assert.equal(await t.id('toggle-hand').getAttribute('aria-pressed'), 'true'));
    assert.equal(await t.text('toggle-hand'), 'Lower hand');
    assert.equal(await t.id('tile-self').getByTestId('hand-me-1').innerText(), '2');
    // (The whiteboard's sync at join aside.)
    const requests = (await t.calls('feature_request')).filter((c) => !c.request.type.startsWith('board_'));
    assert.deepEqual(requests, [{ request: { type: 'raise_hand' } }]);

    await t.id('toggle-people').click();
    await waitVisible(t.id('hand-queue'));
    const queue = t.id('hand-queue').locator('li');
    assert.deepEqual(await queue.evaluateAll((items) => items.map((li) => li.dataset.testid)), ['queued-bob-2', 'queued-me-1']);
    assert.match(await t.text('queued-bob-2'), /Bob/);
    assert.match(await t.text('queued-me-1'), /Ada \(you\)/);

    // The host lowers Bob's hand.
    await t.id('lower-hand-bob-2').click();
    await eventually(async () =>
      assert.deepEqual((await t.calls('feature_request')).at(-1), { request: { type: 'lower_hand_of', identity: 'bob-2' } }),
    );
    await waitGone(t.id('hand-bob-2'));
    await waitGone(t.id('queued-bob-2'));
    assert.equal(await t.id('tile-self').getByTestId('hand-me-1').innerText(), '1');

    // A refused request says why; the hand stays up.
    await t.fail('feature_request', 'refused', 'The relay refused that.');
    await t.id('toggle-hand').click();
    await eventually(async () => assert.match(await t.text('toast'), /Couldn't lower your hand: The relay refused that\./));
    assert.equal(await t.id('toggle-hand').getAttribute('aria-pressed'), 'true');
    await t.id('lower-hand-me-1').click();
    await eventually(async () => assert.equal(await t.id('hand-queue').innerText().then((s) => s.includes('No hands raised')), true));
    assert.deepEqual((await t.calls('feature_request')).at(-1), { request: { type: 'lower_hand' } });

    // Presence: on a break, as the relay echoes it, on our row.
    await t.id('presence').selectOption('on_break');
    await eventually(async () => assert.equal(await t.text('presence-me-1'), 'On a break'));
    assert.deepEqual((await t.calls('feature_request')).at(-1), { request: { type: 'set_presence', presence: 'on_break' } });
    await t.done();
  });

  it("shows connection bars on the tiles of those who reach us with loss, in the tile's corner", async () => {
    const t = await open({ others: [participant('bob-2', 'Bob', { joinedAt: 2 }), participant('carol-3', 'Carol Shaw', { joinedAt: 3 })] });
    await hostRoom(t);
    await waitVisible(t.id('tile-carol-3'));
    /** Each bar indicator on the page: its tile, lit bars, and whether it sits inside the tile clear of the name. */
    const placed = () =>
      t.page.evaluate(() =>
        [...document.querySelectorAll('[data-testid=link-quality]')].map((el) => {
          const tile = el.closest('.tile');
          const box = el.getBoundingClientRect();
          const outer = tile.getBoundingClientRect();
          const label = tile.querySelector('.tile__label').getBoundingClientRect();
          const apart = (a, b) => a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
          const unlit = getComputedStyle(el.children[2]).backgroundColor;
          return {
            tile: tile.dataset.testid,
            name: el.getAttribute('aria-label'),
            lit: [...el.children].filter((bar) => getComputedStyle(bar).backgroundColor !== unlit).length,
            inside: box.left >= outer.left && box.right <= outer.right && box.top >= outer.top && box.bottom <= outer.bottom,
            clear: apart(box, label),
            seen: box.width > 8 && box.height > 8,
          };
        }),
      );
    const where = { inside: true, clear: true, seen: true };

    await t.emit('media-status', mediaStatus({ links: [link('carol-3', 'poor'), link('bob-2', 'good')] }));
    await eventually(async () =>
      assert.deepEqual(await placed(), [{ tile: 'tile-carol-3', name: 'Poor connection', lit: 1, ...where }]),
    );
    assert.equal(
      await t.id('tile-carol-3').getByTestId('link-quality').getAttribute('title'),
      "Poor connection: 12% of Carol Shaw's audio and video is lost on the way to you; 30% of video frames could not be shown.",
    );

    // Everyone reaches us badly: our own connection, most likely.
    await t.emit('media-status', mediaStatus({ links: [link('carol-3', 'poor'), link('bob-2', 'fair')] }));
    await eventually(async () =>
      assert.deepEqual(await placed(), [
        { tile: 'tile-self', name: 'Poor connection', lit: 1, ...where },
        { tile: 'tile-bob-2', name: 'Fair connection', lit: 2, ...where },
        { tile: 'tile-carol-3', name: 'Poor connection', lit: 1, ...where },
      ]),
    );

    // In the strip beside the whiteboard, the small tiles keep them in place.
    await t.id('board-open').click();
    await waitVisible(t.id('board-stage'));
    await eventually(async () => {
      const strip = await placed();
      assert.equal(strip.length, 3);
      for (const bars of strip) assert.deepEqual({ inside: bars.inside, clear: bars.clear, seen: bars.seen }, where, bars.tile);
    });

    await t.emit('media-status', mediaStatus());
    await waitGone(t.id('link-quality'));
    await t.done();
  });

  it('asks before quitting while others are in the hosted room', async () => {
    const t = await open();
    await hostRoom(t);
    await t.emit('quit-requested', { othersInRoom: 2 });
    await eventually(async () =>
      assert.match(await t.text('quit-dialog'), /2 people are still in your room\. Quit and end the room for everyone\?/),
    );
    await t.id('confirm-cancel').click();
    await waitGone(t.id('quit-dialog'));
    assert.equal((await t.calls('quit_app')).length, 0);
    await t.emit('quit-requested', { othersInRoom: 1 });
    await t.id('confirm-ok').click();
    await eventually(async () => assert.equal((await t.calls('quit_app')).length, 1));
    await t.done();
  });
});

/** VP8 frames made by Chromium's VideoEncoder: moving colour bars, a keyframe every 15. */
async function encodeVp8Frames(count = 45) {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${env.site.url}/blank`);
  const frames = await page.evaluate(async (n) => {
    const out = [];
    const encoder = new VideoEncoder({
      output: (chunk) => {
        const data = new Uint8Array(chunk.byteLength);
        chunk.copyTo(data);
        out.push({ key: chunk.type === 'key', data: Array.from(data) });
      },
      error: (e) => {
        throw e;
      },
    });
    encoder.configure({ codec: 'vp8', width: 160, height: 120, bitrate: 300_000, framerate: 30 });
    const canvas = new OffscreenCanvas(160, 120);
    const ctx = canvas.getContext('2d');
    const colours = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4'];
    for (let i = 0; i < n; i++) {
      colours.forEach((c, j) => {
        ctx.fillStyle = c;
        ctx.fillRect(((j * 30 + i * 4) % 180) - 20, 0, 30, 120);
      });
      const frame = new VideoFrame(canvas, { timestamp: i * 33_333 });
      encoder.encode(frame, { keyFrame: i % 15 === 0 });
      frame.close();
    }
    await encoder.flush();
    encoder.close();
    return out;
  }, count);
  await context.close();
  return frames.map((f) => ({ key: f.key, data: Uint8Array.from(f.data) }));
}

describe('video', () => {
  it('decodes VP8 from the video socket into the tiles (and survives a socket drop)', async () => {
    const frames = await encodeVp8Frames();
    assert.ok(frames[0].key && frames.length === 45);
    const clients = [];
    const ws = await startWebSocketServer((client) => {
      clients.push(client);
      let i = 0;
      const timer = setInterval(() => {
        if (client.closed) return clearInterval(timer);
        const f = frames[i % frames.length];
        const ts = i * 33_333;
        // A garbage message and a delta before any keyframe must be skipped, not fatal.
        if (i === 0) {
          client.send(Buffer.from([9, 9]));
          client.send(videoMessage('bob-2:camera', false, 0, frames[1].data));
        }
        client.send(videoMessage('self:camera', f.key, ts, f.data));
        client.send(videoMessage('bob-2:camera', f.key, ts, f.data));
        i++;
      }, 33);
    });
    try {
      const t = await open({ mediaEndpoint: ws.url });
      await eventually(async () => assert.equal(await t.id('display-name').inputValue(), 'Ada'));
      await t.id('host-submit').click();
      // The self-preview on the setup screen.
      await eventually(async () => assert.ok(Number(await t.id('preview-video').getAttribute('data-frames')) > 5), 8000);
      await t.id('setup-continue').click();
      await waitVisible(t.id('room'));
      const frameCount = (tile) => t.id(tile).locator('canvas').getAttribute('data-frames').then(Number);
      await eventually(async () => {
        assert.ok((await frameCount('tile-self')) > 10);
        assert.ok((await frameCount('tile-bob-2')) > 10);
      }, 8000);
      // Pixels: colour bars, not a blank canvas.
      const stats = await t.id('tile-bob-2').locator('canvas').evaluate((canvas) => {
        const ctx = canvas.getContext('2d');
        const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
        const colours = new Set();
        let nonBlack = 0;
        for (let p = 0; p < data.length; p += 4 * 7) {
          if (data[p] + data[p + 1] + data[p + 2] > 60) nonBlack++;
          colours.add(`${data[p] >> 5},${data[p + 1] >> 5},${data[p + 2] >> 5}`);
        }
        return { width: canvas.width, height: canvas.height, nonBlack, colours: colours.size };
      });
      assert.deepEqual([stats.width, stats.height], [160, 120]);
      assert.ok(stats.nonBlack > 100, `canvas looks blank: ${JSON.stringify(stats)}`);
      assert.ok(stats.colours >= 4, `too few colours: ${JSON.stringify(stats)}`);
      assert.equal(await t.id('tile-bob-2').locator('canvas').evaluate((c) => c.classList.contains('is-live')), true);

      // The socket drops: the hub reconnects and drawing goes on.
      const before = await frameCount('tile-bob-2');
      clients[0].close();
      await eventually(async () => assert.ok(clients.length >= 2), 8000);
      await eventually(async () => assert.ok((await frameCount('tile-bob-2')) > before + 10), 8000);
      await t.done();
    } finally {
      await ws.close();
    }
  });
});
