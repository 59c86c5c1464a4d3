// Browser tests of the focus timer and the Study page: the built UI in Debian's Chromium,
// the Tauri shell faked (fake-tauri.js runs the timer as the relay would).
//
// Run: npm run test:browser (builds first).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, hostRoom, open, startBrowser, stopBrowser, waitGone, waitVisible } from './harness.mjs';

before(startBrowser);
after(stopBrowser);

/** What the canvas shows: how many sampled pixels are painted, and in how many colours. */
function canvasStats(locator) {
  return locator.evaluate((canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const colours = new Set();
    let painted = 0;
    let teal = 0;
    for (let p = 0; p < data.length; p += 4 * 3) {
      if (data[p + 3] === 0) continue;
      painted++;
      const [r, g, b] = [data[p], data[p + 1], data[p + 2]];
      // The bars' teal (#0d8080 light, #2bb3a8 dark): green and blue well above red.
      if (g > r + 40 && b > r + 40) teal++;
      colours.add(`${r >> 5},${g >> 5},${b >> 5}`);
    }
    return { width: canvas.width, height: canvas.height, painted, teal, colours: colours.size };
  });
}

describe('study page', () => {
  it('draws the charts, saves the goal, exports and dismisses the notice', async () => {
    const t = await open({ study: { notice: 'Your study record could not be read, so a new one was started.' } });
    await t.id('open-study').click();
    await waitVisible(t.id('study-chart'));
    assert.equal(await t.text('study-today'), '1 h 25 min of 2 h');
    assert.equal(await t.text('study-streak'), '2 days · best 5 days');
    assert.match(await t.text('study-rooms'), /Finals week\s+1 h\s+5 h 15 min\s+9/);

    // The week: bars really drawn on the canvas, not a blank one.
    const week = await eventually(async () => {
      const stats = await canvasStats(t.id('study-chart'));
      assert.ok(stats.width > 100 && stats.height > 100, `canvas too small: ${JSON.stringify(stats)}`);
      assert.ok(stats.teal > 200, `no bars drawn: ${JSON.stringify(stats)}`);
      return stats;
    });
    assert.ok(week.colours >= 3, `too few colours: ${JSON.stringify(week)}`);

    // The day: today's two rooms.
    await t.id('study-tab-day').click();
    assert.equal(await t.id('study-tab-day').getAttribute('aria-selected'), 'true');
    await eventually(async () => {
      const label = await t.id('study-chart').getAttribute('aria-label');
      assert.match(label, /^Today's time per room\. Finals week: 1 h, Algebra: 25 min$/);
      assert.ok((await canvasStats(t.id('study-chart'))).teal > 200);
    });
    await t.id('study-tab-month').click();
    await eventually(async () => assert.match(await t.id('study-chart').getAttribute('aria-label'), /last 30 days/));

    // The goal: checked here first, then saved by the app.
    await t.id('study-goal-input').fill('2000');
    await t.id('study-goal-save').click();
    assert.equal(await t.text('study-goal-error'), 'Enter a whole number of minutes from 5 to 960.');
    await t.id('study-goal-input').fill('60');
    await t.id('study-goal-save').click();
    await eventually(async () => assert.match(await t.text('study-today'), /of 1 h\s*Goal reached/));
    assert.deepEqual(await t.calls('set_study_goal'), [{ minutes: 60 }]);

    await t.id('study-export').click();
    await eventually(async () =>
      assert.equal(await t.text('study-export-result'), 'Saved to /home/ada/Downloads/studyhall-study-2026-12-05.csv'),
    );

    assert.match(await t.text('study-notice'), /could not be read/);
    await t.id('study-notice-dismiss').click();
    await waitGone(t.id('study-notice'));
    assert.equal((await t.calls('dismiss_study_notice')).length, 1);

    await t.id('study-back').click();
    await waitVisible(t.id('host-submit'));
    await t.done();
  });

  it('has an empty state before any time in rooms', async () => {
    const t = await open({ study: { days: [], rooms: [], todayRooms: [], streakDays: 0, bestStreakDays: 0 } });
    await t.id('open-study').click();
    await waitVisible(t.id('study-empty'));
    assert.equal(await t.text('study-today'), '0 min of 2 h');
    assert.equal(await t.id('study-chart').count(), 0);
    await t.done();
  });
});

describe('focus timer', () => {
  const shownRemaining = async (t) => Number(await t.id('timer-remaining').getAttribute('data-remaining-ms'));
  /**
   * At one moment: the ms left the page shows (drawn at most 250 ms before) and the ms
   * left by the fake relay's own clock and end.
   */
  const bothRemaining = (t) =>
    t.page.evaluate(() => {
      const run = window.__fake.state.timer.run;
      const shown = Number(document.querySelector('[data-testid=timer-remaining]').dataset.remainingMs);
      return { shown, relay: run.paused ? run.remaining_ms : run.ends_at - Date.now() };
    });

  it('starts from the panel and counts down in the header, on the relay clock', async () => {
    const t = await open();
    await hostRoom(t);
    assert.equal(await t.id('timer-display').count(), 0);

    await t.id('toggle-timer').click();
    await waitVisible(t.id('timer-panel'));
    assert.equal(await t.id('timer-focus-min').inputValue(), '25');
    await t.id('timer-focus-min').fill('1');
    await t.id('timer-rounds').fill('2');
    await t.id('timer-start').click();
    await waitVisible(t.id('timer-display'));
    assert.deepEqual((await t.calls('feature_request')).at(-1), {
      request: { type: 'timer_start', settings: { focus_secs: 60, short_break_secs: 300, long_break_secs: 900, rounds: 2 } },
    });
    assert.equal(await t.id('timer-phase').textContent(), 'Focus');
    assert.equal(await t.text('timer-round'), 'Round 1 of 2');
    assert.match(await t.text('timer-remaining'), /^(01:00|00:59)$/);

    // It counts down by itself, and agrees with the relay's figure.
    const first = await shownRemaining(t);
    await eventually(async () => assert.equal(await t.text('timer-remaining'), '00:58'), 4000);
    const later = await shownRemaining(t);
    assert.ok(first - later >= 1000, `not counting down: ${first} then ${later}`);
    const { shown, relay } = await bothRemaining(t);
    assert.ok(shown - relay >= 0 && shown - relay < 400, `shown ${shown} ms, relay says ${relay} ms`);

    // Everyone here is focusing.
    assert.equal(await t.id('tile-self').getByTestId('timer-badge-me-1').innerText(), 'Focusing');
    assert.equal(await t.id('tile-bob-2').getByTestId('timer-badge-bob-2').innerText(), 'Focusing');

    // The app measured the relay's clock 20 s ahead: 20 s less is left.
    await t.emit('room-event', { type: 'clockOffset', offsetMs: 20_000 });
    await eventually(async () => {
      const { shown, relay } = await bothRemaining(t);
      assert.ok(Math.abs(relay - 20_000 - shown) < 400, `shown ${shown} ms, relay minus 20 s ${relay - 20_000} ms`);
    });
    await t.emit('room-event', { type: 'clockOffset', offsetMs: 0 });

    // Pause holds the time; resume goes on.
    await t.id('timer-pause').click();
    await eventually(async () => assert.equal(await t.id('timer-display').getAttribute('data-paused'), 'true'));
    const held = await shownRemaining(t);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(await shownRemaining(t), held);
    assert.equal(await t.id('timer-badge-me-1').count(), 0);
    await t.id('timer-resume').click();
    await eventually(async () => assert.equal(await t.id('timer-display').getAttribute('data-paused'), 'false'));

    // Skip to the break (the chime plays; it must not break the page).
    await t.id('timer-skip').click();
    await eventually(async () => assert.equal(await t.id('timer-phase').textContent(), 'Short break'));
    assert.equal(await t.text('timer-remaining'), '05:00');
    assert.equal(await t.id('tile-bob-2').getByTestId('timer-badge-bob-2').innerText(), 'On a break');

    await t.id('timer-stop').click();
    await waitGone(t.id('timer-display'));
    await t.done();
  });

  it('holds chat notifications in a quiet focus phase and tells of them at the break', async () => {
    const t = await open();
    await hostRoom(t);
    await t.id('toggle-timer').click();
    await t.id('timer-quiet').click();
    await eventually(async () => assert.equal(await t.id('timer-quiet').isChecked(), true));
    await t.id('timer-start').click();
    await waitVisible(t.id('timer-display'));
    // Close the panel (Escape) and receive chat from Bob.
    await t.page.keyboard.press('Escape');
    await waitGone(t.id('timer-panel'));
    for (const seq of [1, 2]) {
      await t.emit('room-event', {
        type: 'chatMessage',
        message: { seq, from: 'bob-2', name: 'Bob', text: `q${seq}`, ts: Date.now(), clientMsgId: `q${seq}`, deleted: false },
      });
    }
    await eventually(async () => assert.equal(await t.text('chat-held'), '2 new messages — shown at the break'));
    assert.equal(await t.id('chat-unread').count(), 0);
    assert.equal(await t.id('toast').count(), 0);

    await t.id('toggle-timer').click();
    await t.id('timer-skip').click();
    await eventually(async () => assert.equal(await t.text('chat-unread'), '2'));
    await waitGone(t.id('chat-held'));
    assert.match(await t.text('toast'), /2 new messages in the chat/);
    await t.done();
  });

  it('shows a guest the timer read-only; the refusal of a control is explained', async () => {
    const t = await open({ timer: { anyone_controls: false } });
    await eventually(async () => assert.equal(await t.id('invite-input').isEnabled(), true));
    await t.id('invite-input').fill('K7QX-29FD@192.168.1.20:7450');
    await t.id('join-submit').click();
    await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
    await t.id('setup-continue').click();
    await waitVisible(t.id('room'));
    await t.id('toggle-timer').click();
    assert.equal(await t.text('timer-host-only'), 'Only the host controls the timer.');
    assert.equal(await t.id('timer-start').count(), 0);

    // The host lets everyone control it (as the relay would tell us).
    await t.page.evaluate(() => {
      const timer = { ...window.__fake.state.timer, anyone_controls: true, now: Date.now() };
      window.__fake.emit('room-event', { type: 'feature', event: { type: 'timer', timer, change: 'options', by: 'bob-2' } });
    });
    await waitVisible(t.id('timer-start'));
    await t.fail('feature_request', 'refused', 'rounds must be between 1 and 12 (got 20)');
    await t.id('timer-start').click();
    await eventually(async () => assert.equal(await t.text('timer-error'), 'rounds must be between 1 and 12 (got 20)'));
    await t.id('timer-start').click();
    await waitVisible(t.id('timer-display'));
    await t.done();
  });
});

describe('settings', () => {
  it('saves the timer chime choice with the profile', async () => {
    const t = await open();
    await eventually(async () => assert.equal(await t.id('open-devices').isEnabled(), true));
    await t.id('open-devices').click();
    await waitVisible(t.id('setting-timer-chime'));
    assert.equal(await t.id('setting-timer-chime').isChecked(), true);
    await t.id('setting-timer-chime-try').click();
    await t.id('setting-timer-chime').uncheck();
    await eventually(async () => assert.equal(await t.id('setup-continue').isEnabled(), true));
    await t.id('setup-continue').click();
    await waitVisible(t.id('host-submit'));
    assert.equal((await t.calls('save_profile')).at(-1).profile.timerChime, false);
    await t.done();
  });
});
