// Browser tests of study groups (issue #16): the built UI in Debian's Chromium, the Tauri
// shell faked (fake-groups.js keeps the groups, their presence and schedules as the app
// would, and tells the page of each change with a `groups-changed` event).
//
// Run: npm run test:browser (builds first); this file alone after a build:
// node --test browser-tests/groups.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, open, startBrowser, stopBrowser, waitGone, waitVisible } from './harness.mjs';

before(startBrowser);
after(stopBrowser);

/** The page's today (`YYYY-MM-DD`, its own time zone). */
const pageToday = (t) =>
  t.page.evaluate(() => {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  });

/** The id of the fake app's first group. */
const firstGroup = (t) => t.page.evaluate(() => window.__fake.groups.view().groups[0].group.id);

const memberStatus = (t, identity) => t.page.locator(`[data-testid=member-row][data-identity="${identity}"]`);

describe('study groups', () => {
  it('create a group, see the invite, a member comes online and into the room, schedule weekly, a reminder', async () => {
    const t = await open();
    await waitVisible(t.id('groups-empty'));
    assert.equal(await t.text('groups-empty'), 'No groups yet — create one or join with an invite.');

    // Create a group on this computer.
    await t.id('new-group').click();
    await waitVisible(t.id('new-group-dialog'));
    await t.id('create-group').click();
    assert.equal(await t.text('group-name-error'), 'Give the group a name.');
    await t.id('group-name').fill('Algebra');
    await t.id('create-group').click();
    await waitVisible(t.id('group-page'));
    assert.deepEqual(await t.calls('create_group'), [{ name: 'Algebra', relay: null }]);
    assert.equal(await t.text('group-name'), 'Algebra');
    const code = await t.text('group-invite-code');
    assert.match(code, /^G-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    assert.equal(await t.text('group-invite-full'), `${code}@192.168.1.20:7450`);
    assert.equal(await t.text('group-invite-link'), `studyhall://group?relay=192.168.1.20%3A7450&code=${code}`);
    assert.equal(await t.text('group-room'), 'Open the room');
    assert.equal(await memberStatus(t, 'me-1').getAttribute('data-status'), 'online');

    // Bob joins and comes online; then he is in the group's room, focusing.
    const group = await firstGroup(t);
    await t.page.evaluate((g) => window.__fake.groups.join(g, 'bob-2', 'Bob'), group);
    await eventually(async () => assert.equal(await memberStatus(t, 'bob-2').getAttribute('data-status'), 'online'));
    assert.equal(await t.text('group-summary'), '2 of 2 online · 2 members · on this computer');
    await t.page.evaluate(
      ([g, room]) =>
        window.__fake.groups.presence(g, 'bob-2', {
          status: 'in_room',
          room: { room, group: g },
          focus: { phase: 'focus', ends_at: Date.now() + 12 * 60_000 },
        }),
      [group, await t.page.evaluate(() => window.__fake.groups.view().groups[0].group.room)],
    );
    await eventually(async () => assert.equal(await t.text('group-room'), 'Join the room (1 there)'));
    assert.equal(await memberStatus(t, 'bob-2').getAttribute('data-status'), 'in_room');
    assert.match(await memberStatus(t, 'bob-2').getByTestId('member-status').innerText(), /^Focusing · 1[12] min left · In the group's room$/);
    // In a room first.
    assert.deepEqual(
      await t.page.locator('[data-testid=member-row]').evaluateAll((rows) => rows.map((r) => r.dataset.identity)),
      ['bob-2', 'me-1'],
    );

    // Schedule a weekly session from today, 18:00.
    const today = await pageToday(t);
    await t.id('schedule-session').click();
    const dialog = t.id('schedule-dialog');
    await waitVisible(dialog);
    await dialog.locator('[name=title]').fill('Problem set');
    await dialog.locator('[name=date]').fill(today);
    await dialog.locator('[name=time]').fill('18:00');
    await dialog.locator('[name=minutes]').fill('60');
    await dialog.locator('[name=repeat]').selectOption('weekly');
    await t.id('save-session').click();
    await waitGone(dialog);
    const [{ group: target, draft }] = await t.calls('add_session');
    assert.equal(target, group);
    assert.equal(draft.start, `${today}T18:00`);
    assert.match(draft.rrule, /^FREQ=WEEKLY;BYDAY=(MO|TU|WE|TH|FR|SA|SU)$/);
    await eventually(async () => assert.ok((await t.id('upcoming-session').count()) >= 1));
    // Between 18:00 and 19:00 the session is on: a "now" line comes before its time.
    assert.match(await t.id('upcoming-session').first().innerText(), /^Problem set\n(?:now\n)?.*(18:00|06:00 PM)/);

    // The week and the month show it, in the group's colour.
    await t.id('group-calendar').click();
    await waitVisible(t.id('calendar-week'));
    const inWeek = t.id('calendar-week').getByTestId('calendar-entry');
    await eventually(async () => assert.equal(await inWeek.count(), 1));
    assert.equal(await inWeek.getAttribute('data-start'), `${today} 18:00`);
    assert.match(await inWeek.getAttribute('class'), /cal-colour--0/);
    assert.equal(await inWeek.locator('xpath=ancestor::*[@data-day][1]').getAttribute('data-day'), today);
    await t.id('calendar-view-month').click();
    await waitVisible(t.id('calendar-month'));
    const todayCell = t.page.locator(`[data-testid=calendar-month] .month__day[data-day="${today}"]`);
    await eventually(async () => assert.equal(await todayCell.getByTestId('calendar-entry').count(), 1));
    assert.match(await todayCell.getByTestId('calendar-entry').innerText(), /(18:00|06:00 PM)\s+Problem set/);
    // Weekly: a week later too (when the month shows it).
    assert.ok((await t.id('calendar-month').getByTestId('calendar-entry').count()) >= 2);

    // Cancel next week's one (in the week view, a week on).
    await t.id('calendar-view-week').click();
    await t.id('calendar-next').click();
    const nextWeek = t.id('calendar-week').getByTestId('calendar-entry');
    await eventually(async () => assert.equal(await nextWeek.count(), 1));
    await nextWeek.click();
    await t.id('occurrence-cancel').click();
    await t.id('occurrence-confirm').click();
    await waitGone(t.id('occurrence-dialog'));
    await eventually(async () => assert.equal(await nextWeek.count(), 0));
    assert.equal((await t.calls('change_session')).at(-1).draft.changes.length, 1);

    // A reminder, with Join: into the group's room; leaving it goes back to the group.
    await t.id('calendar-back').click();
    await waitVisible(t.id('group-page'));
    await t.page.evaluate(
      (g) =>
        window.__fake.groups.remind({
          group: g,
          groupName: 'Algebra',
          session: 's1',
          title: 'Problem set',
          startMs: Date.now() + 4 * 60_000,
          minutes: 4,
          join: false,
        }),
      group,
    );
    const toast = t.page.getByTestId('toast').filter({ hasText: 'Problem set (Algebra) starts in 4 min' });
    await waitVisible(toast);
    await toast.getByTestId('reminder-join').click();
    await waitVisible(t.id('room'));
    assert.deepEqual((await t.calls('open_group_room')).at(-1), { group, media: { mic: true, camera: true } });
    await t.id('leave').click();
    await waitVisible(t.id('group-page'));
    await eventually(async () => assert.equal(await memberStatus(t, 'me-1').getAttribute('data-status'), 'online'));

    // The start screen's card.
    await t.id('group-back').click();
    const card = t.id('group-card');
    await waitVisible(card);
    assert.equal(await card.getByTestId('group-card-count').innerText(), '2 of 2 online');
    assert.equal(await card.getByTestId('group-card-activity').innerText(), 'In the room: Bob');
    assert.equal(await card.getByTestId('group-card-focusing').innerText(), '1 focusing');
    await t.done();
  });

  it('join with an invite (checked as it is typed), appear offline, a relay lost', async () => {
    const t = await open();
    await waitVisible(t.id('groups-empty'));
    await t.id('join-group').click();
    await t.id('group-invite-input').fill('K7QX-29FD@192.168.1.20:7450');
    await eventually(async () => assert.match(await t.text('group-invite-status'), /^That is not a group invite/));
    assert.equal(await t.id('join-group-submit').isDisabled(), true);
    await t.id('group-invite-input').fill('g-k7qx-29fd@192.168.1.20:7450');
    await eventually(async () => assert.equal(await t.text('group-invite-status'), '✓ Group invite G-K7QX-29FD'));
    await t.id('join-group-submit').click();
    await waitVisible(t.id('group-page'));
    assert.equal(await t.text('group-invite-code'), 'G-K7QX-29FD');
    // Not the owner: no new invite, no removing; leave rather than delete.
    assert.equal(await t.id('group-new-invite').count(), 0);
    assert.equal(await t.text('group-leave'), 'Leave group');

    await t.id('group-back').click();
    await t.id('appear-offline').check();
    await eventually(async () => assert.deepEqual(await t.calls('set_appear_offline'), [{ hidden: true }]));
    await eventually(async () => assert.equal(await t.id('group-card').getByTestId('group-card-count').innerText(), '1 of 2 online'));

    const group = await firstGroup(t);
    await t.page.evaluate((g) => window.__fake.groups.unreachable(g, "Can't reach 192.168.1.20:7450"), group);
    await eventually(async () =>
      assert.equal(await t.text('group-card-problem'), "Can't reach 192.168.1.20:7450 — showing what was seen last."),
    );
    await t.done();
  });

  it("shows the relay's refusal of a session in the dialog, and a member named with markup as text", async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const t = await open({
      groups: [
        {
          group: {
            id: 'g1',
            name: 'Algebra',
            room: 'group-g1',
            owner: 'me-1',
            members: [
              { identity: 'me-1', name: 'Ada', joined_at: 1 },
              { identity: 'x-1', name: evil, joined_at: 2 },
            ],
            sessions: [],
            invite: 'G-K7QX-29FD',
            created_at: 1,
          },
        },
      ],
    });
    let dialogs = 0;
    t.page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    await t.id('group-card').click();
    await waitVisible(t.id('group-page'));
    assert.equal(await memberStatus(t, 'x-1').getByTestId('member-name').textContent(), evil);
    assert.equal(await t.page.locator('img').count(), 0);

    await t.fail('add_session', 'invalidInput', 'a session lasts 5 to 720 minutes');
    await t.id('schedule-session').click();
    await t.id('schedule-dialog').locator('[name=title]').fill('Essay');
    await t.id('save-session').click();
    await eventually(async () => assert.equal(await t.text('schedule-error'), 'a session lasts 5 to 720 minutes'));
    assert.equal(dialogs, 0);
    await t.done();
  });

  it('imports and exports .ics files', async () => {
    const t = await open({ importReport: { added: 2, skipped: ['"Party": all-day events are not study sessions'] } });
    await t.id('open-calendar').click();
    await waitVisible(t.id('calendar-week'));
    await t.id('export-calendar').click();
    await eventually(async () =>
      assert.equal(await t.text('export-calendar-result'), 'Saved to /home/ada/Downloads/studyhall-calendar.ics'),
    );
    await t.id('import-calendar').click();
    await t.id('import-choose').click();
    await eventually(async () => assert.equal(await t.text('import-added'), 'Added 2 sessions.'));
    assert.equal(await t.text('import-skipped'), '"Party": all-day events are not study sessions');
    assert.equal((await t.calls('import_calendar'))[0].group, null);
    await t.id('import-done').click();
    await t.done();
  });
});
