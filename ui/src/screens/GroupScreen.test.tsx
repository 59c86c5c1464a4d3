import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App';
import * as service from '../services/studyhall';
import { AppError, type GroupsChanged } from '../services/studyhall';
import {
  calendarEntry,
  group,
  groupCard,
  groupMember,
  groupsChanged,
  handlers,
  memberPresence,
  occurrence,
  resetHandlers,
  sessionReminder,
  snapshot,
} from '../test/serviceMock';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);

afterEach(() => {
  cleanup();
  resetHandlers();
  vi.useRealTimers();
});

const MIN = 60_000;

/** Algebra (ours, Ada owns it) with Bob in its room focusing, Cleo online, Dan offline; Chemistry (Bob's). */
function twoGroups(now = Date.now()): GroupsChanged {
  const algebra = group('g1', 'Algebra', {
    members: [groupMember('ada-1', 'Ada'), groupMember('bob-2', 'Bob'), groupMember('cleo-3', 'Cleo'), groupMember('dan-4', 'Dan')],
  });
  const chemistry = group('g2', 'Chemistry', { owner: 'bob-2', invite: 'G-CHEM-0001' });
  return groupsChanged({
    groups: [
      groupCard(algebra, {
        presence: [
          memberPresence('ada-1', { status: 'online' }),
          memberPresence('bob-2', {
            status: 'in_room',
            room: { room: 'group-g1', group: 'g1' },
            focus: { phase: 'focus', ends_at: now + 12 * MIN },
          }),
          memberPresence('cleo-3', { status: 'online' }),
          memberPresence('dan-4'),
        ],
      }),
      groupCard(chemistry, { owner: false, hostedHere: false }),
    ],
  });
}

async function renderStart(view: GroupsChanged = groupsChanged()) {
  vi.mocked(service.groupsView).mockResolvedValue(view);
  render(<App />);
  await screen.findByTestId('groups-section');
  await waitFor(() => expect(screen.queryByTestId('groups-loading')).toBeNull());
}

async function openGroup(name: string) {
  const card = screen.getAllByTestId('group-card').find((c) => c.textContent?.includes(name));
  fireEvent.click(card!);
  return screen.findByTestId('group-page');
}

const rows = () =>
  screen.getAllByTestId('member-row').map((r) => [r.dataset.identity, r.dataset.status, within(r).getByTestId('member-status').textContent]);

describe('study groups on the start screen', () => {
  it('has an empty state', async () => {
    await renderStart();
    expect(screen.getByTestId('groups-empty').textContent).toBe('No groups yet — create one or join with an invite.');
    expect(screen.getByTestId<HTMLInputElement>('appear-offline').checked).toBe(false);
  });

  it('shows each group: how many are online, who is in the room, who focuses', async () => {
    await renderStart(twoGroups());
    const cards = screen.getAllByTestId('group-card');
    expect(cards.map((c) => c.dataset.group)).toEqual(['g1', 'g2']);
    expect(within(cards[0]!).getByTestId('group-card-count').textContent).toBe('3 of 4 online');
    expect(within(cards[0]!).getByTestId('group-card-activity').textContent).toBe('In the room: Bob');
    expect(within(cards[0]!).getByTestId('group-card-focusing').textContent).toBe('1 focusing');
    expect(within(cards[1]!).getByTestId('group-card-count').textContent).toBe('1 of 3 online');
    expect(cards[1]!.textContent).toContain('Nobody in the room');
  });

  it('follows the groups-changed event', async () => {
    await renderStart(twoGroups());
    const view = twoGroups();
    view.groups[1]!.presence = view.groups[1]!.group.members.map((m) => memberPresence(m.identity, { status: 'online' }));
    act(() => handlers.groups.forEach((h) => h(view)));
    expect(within(screen.getAllByTestId('group-card')[1]!).getByTestId('group-card-count').textContent).toBe('3 of 3 online');
  });

  it("says calmly when a group's relay cannot be reached", async () => {
    const view = twoGroups();
    view.groups[1] = { ...view.groups[1]!, connected: false, problem: "Can't reach 10.0.0.9:7450" };
    await renderStart(view);
    expect(screen.getByTestId('group-card-problem').textContent).toBe("Can't reach 10.0.0.9:7450 — showing what was seen last.");
  });

  it('creates a group on this computer or on a server, checking the name first', async () => {
    const made = groupCard(group('g9', 'Physics', { members: [groupMember('ada-1', 'Ada')] }));
    vi.mocked(service.createGroup).mockResolvedValue(made);
    await renderStart();
    fireEvent.click(screen.getByTestId('new-group'));
    fireEvent.click(screen.getByTestId('create-group'));
    expect(screen.getByTestId('group-name-error').textContent).toBe('Give the group a name.');
    fireEvent.change(screen.getByTestId('group-name'), { target: { value: '  Physics ' } });
    fireEvent.click(screen.getByTestId('group-where-server'));
    fireEvent.change(screen.getByTestId('group-relay'), { target: { value: 'school.example' } });
    fireEvent.click(screen.getByTestId('create-group'));
    expect(screen.getByTestId('group-relay-error').textContent).toMatch(/host and a port/);
    expect(service.createGroup).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId('group-where-here'));
    fireEvent.click(screen.getByTestId('create-group'));
    await screen.findByTestId('group-page');
    expect(service.createGroup).toHaveBeenCalledWith('Physics', null);
    expect(screen.getByTestId('group-invite-code').textContent).toBe('G-K7QX-29FD');
    expect(screen.getByTestId('group-invite-full').textContent).toBe('G-K7QX-29FD@192.168.1.20:7450');
  });

  it("shows the app's reason when creating fails", async () => {
    vi.mocked(service.createGroup).mockRejectedValue(new AppError('hostingFailed', 'Could not start the group relay: port in use.'));
    await renderStart();
    fireEvent.click(screen.getByTestId('new-group'));
    fireEvent.change(screen.getByTestId('group-name'), { target: { value: 'Physics' } });
    fireEvent.click(screen.getByTestId('create-group'));
    expect((await screen.findByTestId('new-group-error')).textContent).toBe('Could not start the group relay: port in use.');
    expect(screen.getByTestId<HTMLButtonElement>('create-group').disabled).toBe(false);
  });

  it('checks a group invite as it is typed, and joins', async () => {
    vi.mocked(service.parseGroupInvite).mockImplementation((text) =>
      text.startsWith('G-') ? Promise.resolve('G-K7QX-29FD') : Promise.reject(new AppError('inviteInvalid', 'Not a group invite.')),
    );
    const joined = groupCard(group('g5', 'History', { owner: 'bob-2' }), { owner: false });
    vi.mocked(service.joinGroup).mockResolvedValue(joined);
    await renderStart();
    fireEvent.click(screen.getByTestId('join-group'));
    const input = screen.getByTestId('group-invite-input');
    fireEvent.change(input, { target: { value: 'nonsense' } });
    expect(await screen.findByText('Not a group invite.')).toBeTruthy();
    expect(screen.getByTestId<HTMLButtonElement>('join-group-submit').disabled).toBe(true);
    fireEvent.change(input, { target: { value: ' G-k7qx-29fd@192.168.1.20:7450 ' } });
    expect(await screen.findByText('✓ Group invite G-K7QX-29FD')).toBeTruthy();
    fireEvent.click(screen.getByTestId('join-group-submit'));
    await screen.findByTestId('group-page');
    expect(service.joinGroup).toHaveBeenCalledWith('G-k7qx-29fd@192.168.1.20:7450');
    expect(screen.getByTestId('group-name').textContent).toBe('History');
  });

  it('opens the join dialog with a group link the app was opened with', async () => {
    vi.mocked(service.takeLaunchInvite).mockResolvedValueOnce('studyhall://group?relay=192.168.1.20%3A7450&code=G-K7QX-29FD');
    await renderStart();
    const input = await screen.findByTestId<HTMLInputElement>('group-invite-input');
    expect(input.value).toBe('studyhall://group?relay=192.168.1.20%3A7450&code=G-K7QX-29FD');
    expect(screen.getByTestId<HTMLInputElement>('invite-input').value).toBe('');
  });

  it('appears offline, and says why not when it cannot', async () => {
    await renderStart();
    fireEvent.click(screen.getByTestId('appear-offline'));
    expect(service.setAppearOffline).toHaveBeenCalledWith(true);
    act(() => handlers.groups.forEach((h) => h(groupsChanged({ hidden: true }))));
    expect(screen.getByTestId<HTMLInputElement>('appear-offline').checked).toBe(true);
    vi.mocked(service.setAppearOffline).mockRejectedValueOnce(new AppError('relayUnreachable', 'No relay.'));
    fireEvent.click(screen.getByTestId('appear-offline'));
    expect((await screen.findByTestId('appear-offline-error')).textContent).toBe('No relay.');
  });
});

describe('the group page', () => {
  it('lists the members in a room first, then online, then offline, with their presence', async () => {
    const now = Date.now();
    await renderStart(twoGroups(now));
    await openGroup('Algebra');
    expect(screen.getByTestId('group-summary').textContent).toBe('3 of 4 online · 4 members · on this computer');
    expect(rows()).toEqual([
      ['bob-2', 'in_room', expect.stringMatching(/^Focusing · 1[12] min left · In the group's room$/)],
      ['ada-1', 'online', 'Online'],
      ['cleo-3', 'online', 'Online'],
      ['dan-4', 'offline', 'Offline'],
    ]);
    const me = screen.getAllByTestId('member-row')[1]!;
    expect(me.textContent).toContain('(you)');
    expect(me.textContent).toContain('Owner');
    expect(screen.getByTestId('group-room').textContent).toBe('Join the room (1 there)');
  });

  it('counts down on the local clock, and shows a pause', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const now = Date.now();
    await renderStart(twoGroups(now));
    await openGroup('Algebra');
    expect(within(screen.getAllByTestId('member-row')[0]!).getByTestId('member-status').textContent).toMatch(/^Focusing · 12 min left/);
    await act(async () => {
      vi.advanceTimersByTime(3 * MIN);
      await Promise.resolve();
    });
    expect(within(screen.getAllByTestId('member-row')[0]!).getByTestId('member-status').textContent).toMatch(/^Focusing · 9 min left/);
    const paused = twoGroups(now);
    paused.groups[0]!.presence[1] = { ...paused.groups[0]!.presence[1]!, focus: { phase: 'short_break', ends_at: null } };
    act(() => handlers.groups.forEach((h) => h(paused)));
    expect(within(screen.getAllByTestId('member-row')[0]!).getByTestId('member-status').textContent).toBe(
      "On a break · paused · In the group's room",
    );
  });

  it('opens the room when nobody is there, and enters it as after joining', async () => {
    const view = twoGroups();
    view.groups[0]!.presence[1] = memberPresence('bob-2', { status: 'online' });
    await renderStart(view);
    await openGroup('Algebra');
    expect(screen.getByTestId('group-room').textContent).toBe('Open the room');
    fireEvent.click(screen.getByTestId('group-join-camera'));
    fireEvent.click(screen.getByTestId('group-room'));
    await screen.findByTestId('room');
    expect(service.openGroupRoom).toHaveBeenCalledWith('g1', { mic: true, camera: false });
  });

  it('shows why the room cannot be opened, next to the button', async () => {
    vi.mocked(service.openGroupRoom).mockRejectedValueOnce(new AppError('relayUnreachable', "Can't reach the group's relay."));
    await renderStart(twoGroups());
    await openGroup('Algebra');
    fireEvent.click(screen.getByTestId('group-room'));
    expect((await screen.findByTestId('group-room-error')).textContent).toBe("Can't reach the group's relay.");
    expect(screen.getByTestId<HTMLButtonElement>('group-room').disabled).toBe(false);
  });

  it('back from the group room: leaving returns to the group page', async () => {
    await renderStart(twoGroups());
    await openGroup('Algebra');
    fireEvent.click(screen.getByTestId('group-room'));
    await screen.findByTestId('room');
    fireEvent.click(screen.getByTestId('leave'));
    await screen.findByTestId('group-page');
  });

  it('shows the invite; its owner makes a new one after saying the old one stops working', async () => {
    const renewed = groupCard(group('g1', 'Algebra', { invite: 'G-NEW1-NEW2' }));
    vi.mocked(service.newGroupInvite).mockResolvedValue(renewed);
    await renderStart(twoGroups());
    await openGroup('Algebra');
    expect(screen.getByTestId('group-invite-code').textContent).toBe('G-K7QX-29FD');
    expect(screen.getByTestId('group-invite-link').textContent).toBe(
      'studyhall://group?relay=192.168.1.20%3A7450&code=G-K7QX-29FD',
    );
    fireEvent.click(screen.getByTestId('group-new-invite'));
    expect(screen.getByTestId('group-confirm').textContent).toContain('G-K7QX-29FD) stops working');
    fireEvent.click(screen.getByTestId('confirm-ok'));
    await waitFor(() => expect(screen.getByTestId('group-invite-code').textContent).toBe('G-NEW1-NEW2'));
    expect(service.newGroupInvite).toHaveBeenCalledWith('g1');
  });

  it('lets its owner remove a member after asking', async () => {
    await renderStart(twoGroups());
    await openGroup('Algebra');
    expect(screen.queryByTestId('remove-member-ada-1')).toBeNull();
    fireEvent.click(screen.getByTestId('remove-member-dan-4'));
    expect(screen.getByTestId('group-confirm').textContent).toContain('Remove Dan?');
    fireEvent.click(screen.getByTestId('confirm-ok'));
    await waitFor(() => expect(screen.queryByTestId('group-confirm')).toBeNull());
    expect(service.removeGroupMember).toHaveBeenCalledWith('g1', 'dan-4');
  });

  it('its owner deletes it, saying it is deleted for everyone', async () => {
    await renderStart(twoGroups());
    await openGroup('Algebra');
    fireEvent.click(screen.getByTestId('group-leave'));
    const dialog = screen.getByTestId('group-confirm');
    expect(dialog.textContent).toContain('Delete “Algebra”?');
    expect(dialog.textContent).toContain('deletes it for everyone');
    fireEvent.click(within(dialog).getByTestId('confirm-ok'));
    await screen.findByTestId('groups-section');
    expect(service.leaveGroup).toHaveBeenCalledWith('g1');
    expect(screen.getAllByTestId('group-card').map((c) => c.dataset.group)).toEqual(['g2']);
  });

  it('a member leaves it; a failure shows in the dialog', async () => {
    vi.mocked(service.leaveGroup).mockRejectedValueOnce(new AppError('relayUnreachable', 'No relay.'));
    await renderStart(twoGroups());
    await openGroup('Chemistry');
    expect(screen.queryByTestId('group-new-invite')).toBeNull();
    expect(screen.queryByTestId('remove-member-bob-2')).toBeNull();
    fireEvent.click(screen.getByTestId('group-leave'));
    expect(screen.getByTestId('group-confirm').textContent).toContain('Leave “Chemistry”?');
    fireEvent.click(screen.getByTestId('confirm-ok'));
    expect(await within(screen.getByTestId('group-confirm')).findByText('No relay.')).toBeTruthy();
  });

  it('says so when we are no longer in the group', async () => {
    await renderStart(twoGroups());
    await openGroup('Chemistry');
    act(() => handlers.groups.forEach((h) => h(groupsChanged({ groups: [twoGroups().groups[0]!] }))));
    expect(screen.getByTestId('group-gone').textContent).toBe('You are not in this group any more.');
  });

  it('lists the next sessions of this group, and schedules one', async () => {
    const now = Date.now();
    vi.mocked(service.calendar).mockResolvedValue([
      calendarEntry('g1', 'Algebra', occurrence('s2', 'Exam prep', now + 3 * 86_400_000)),
      calendarEntry('g1', 'Algebra', occurrence('s1', 'Problem set', now + 86_400_000)),
      calendarEntry('g2', 'Chemistry', occurrence('s3', 'Lab report', now + 86_400_000)),
      calendarEntry(null, null, occurrence('b1', 'Reading', now + 86_400_000)),
    ]);
    await renderStart(twoGroups());
    await openGroup('Algebra');
    await waitFor(() => expect(screen.getAllByTestId('upcoming-session')).toHaveLength(2));
    expect(screen.getAllByTestId('upcoming-session').map((e) => e.dataset.session)).toEqual(['s1', 's2']);
    const [from, to] = vi.mocked(service.calendar).mock.calls[0]!;
    expect(to - from).toBe(14 * 86_400_000);

    fireEvent.click(screen.getByTestId('schedule-session'));
    const dialog = screen.getByTestId('schedule-dialog');
    expect(within(dialog).getByRole<HTMLSelectElement>('combobox', { name: 'For' }).value).toBe('g1');
    fireEvent.change(within(dialog).getByLabelText('Title'), { target: { value: 'Proofs' } });
    fireEvent.click(screen.getByTestId('save-session'));
    await waitFor(() => expect(screen.queryByTestId('schedule-dialog')).toBeNull());
    expect(service.addSession).toHaveBeenCalledWith('g1', expect.objectContaining({ title: 'Proofs', rrule: null }));
    expect(screen.getByTestId('toast').textContent).toContain('“Proofs” was added.');
  });

  it('has an empty state for the schedule', async () => {
    await renderStart(twoGroups());
    await openGroup('Algebra');
    expect((await screen.findByTestId('upcoming-empty')).textContent).toBe('Nothing scheduled in the next two weeks.');
  });

  it('shows a member named with markup as text', async () => {
    const view = twoGroups();
    const evil = '<img src=x onerror=alert(1)>';
    view.groups[0]!.group.members[3] = groupMember('dan-4', evil);
    view.groups[0]!.group.name = '<b>Algebra</b>';
    await renderStart(view);
    expect(screen.getAllByTestId('group-card-name')[0]!.textContent).toBe('<b>Algebra</b>');
    await openGroup('<b>Algebra</b>');
    expect(document.querySelector('img')).toBeNull();
    expect(document.querySelector('b')).toBeNull();
    const row = screen.getAllByTestId('member-row').find((r) => r.dataset.identity === 'dan-4')!;
    expect(within(row).getByTestId('member-name').textContent).toBe(evil);
    expect(row.querySelector('[title]')?.getAttribute('title')).toBe(evil);
  });
});

describe('reminders', () => {
  it('show a toast with Join for a group session, which opens its room', async () => {
    await renderStart(twoGroups());
    act(() => handlers.reminder.forEach((h) => h(sessionReminder())));
    const toast = await screen.findByTestId('toast');
    expect(toast.textContent).toContain('Problem set (Algebra) starts in 4 min');
    fireEvent.click(within(toast).getByTestId('reminder-join'));
    await screen.findByTestId('room');
    expect(service.openGroupRoom).toHaveBeenCalledWith('g1', { mic: true, camera: true });
  });

  it('of a study block have no Join', async () => {
    await renderStart();
    act(() => handlers.reminder.forEach((h) => h(sessionReminder({ group: null, groupName: null, title: 'Reading' }))));
    const toast = await screen.findByTestId('toast');
    expect(toast.textContent).toContain('Reading starts in 4 min');
    expect(within(toast).queryByTestId('reminder-join')).toBeNull();
  });

  it("open the room at once when Join was pressed on the desktop's notification", async () => {
    await renderStart(twoGroups());
    act(() => handlers.reminder.forEach((h) => h(sessionReminder({ join: true }))));
    await screen.findByTestId('room');
    expect(screen.queryByTestId('toast')).toBeNull();
  });

  it('only show the toast while in a room', async () => {
    vi.mocked(service.openGroupRoom).mockResolvedValue(snapshot({ room: 'group-g2', title: 'Chemistry' }));
    await renderStart(twoGroups());
    await openGroup('Chemistry');
    fireEvent.click(screen.getByTestId('group-room'));
    await screen.findByTestId('room');
    act(() => handlers.reminder.forEach((h) => h(sessionReminder({ join: true }))));
    expect((await screen.findByTestId('toast')).textContent).toContain('Problem set (Algebra) starts in 4 min');
    expect(service.openGroupRoom).toHaveBeenCalledTimes(1);
  });

  it('say why the room could not be opened', async () => {
    vi.mocked(service.openGroupRoom).mockRejectedValueOnce(new AppError('relayUnreachable', 'No relay.'));
    await renderStart(twoGroups());
    act(() => handlers.reminder.forEach((h) => h(sessionReminder({ join: true }))));
    expect((await screen.findByRole('alert')).textContent).toContain("Couldn't open the room of Algebra: No relay.");
  });
});
