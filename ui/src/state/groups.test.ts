import { describe, expect, it } from 'vitest';
import {
  calendarEntry,
  group,
  groupCard,
  groupMember,
  groupsChanged,
  memberPresence,
  occurrence,
  sessionReminder,
  studySession,
} from '../test/fixtures';
import {
  cardSummary,
  focusLabel,
  groupColours,
  inGroupRoomCount,
  maySchedule,
  memberRows,
  minutesLeft,
  presenceOf,
  reminderText,
  roomButtonLabel,
  sessionOf,
  upcomingFor,
} from './groups';

const NOW = 1_796_000_000_000;
const MIN = 60_000;

describe('presence in words', () => {
  it('offline, online, in the group room or another', () => {
    expect(presenceOf(undefined, 'g1', NOW)).toMatchObject({ label: 'Offline', dot: 'offline', status: 'offline' });
    expect(presenceOf(memberPresence('b', { status: 'online' }), 'g1', NOW)).toMatchObject({ label: 'Online', dot: 'online' });
    expect(
      presenceOf(memberPresence('b', { status: 'in_room', room: { room: 'group-g1', group: 'g1' } }), 'g1', NOW),
    ).toMatchObject({ label: "In the group's room", dot: 'room', inGroupRoom: true });
    expect(
      presenceOf(memberPresence('b', { status: 'in_room', room: { room: 'r-7', group: null } }), 'g1', NOW),
    ).toMatchObject({ label: 'In room r-7', inGroupRoom: false });
    expect(
      presenceOf(memberPresence('b', { status: 'in_room', room: { room: 'group-g2', group: 'g2' } }), 'g1', NOW, new Map([['g2', 'Chemistry']])),
    ).toMatchObject({ label: 'In room Chemistry', inGroupRoom: false });
  });

  it('focusing or on a break, counting down on the local clock', () => {
    const focusing = memberPresence('b', {
      status: 'in_room',
      room: { room: 'group-g1', group: 'g1' },
      focus: { phase: 'focus', ends_at: NOW + 12 * MIN },
    });
    expect(presenceOf(focusing, 'g1', NOW)).toMatchObject({
      label: 'Focusing · 12 min left',
      where: "In the group's room",
      dot: 'focus',
      inGroupRoom: true,
    });
    expect(presenceOf(focusing, 'g1', NOW + 11.5 * MIN).label).toBe('Focusing · 1 min left');
    expect(presenceOf(focusing, 'g1', NOW + 13 * MIN).label).toBe('Focusing');
    expect(focusLabel({ phase: 'short_break', ends_at: NOW + 3 * MIN - 1 }, NOW)).toBe('On a break · 3 min left');
    expect(focusLabel({ phase: 'long_break', ends_at: null }, NOW)).toBe('On a break · paused');
    expect(focusLabel({ phase: 'focus', ends_at: null }, NOW)).toBe('Focusing · paused');
    expect(minutesLeft(NOW + 30_000, NOW)).toBe(1);
    expect(minutesLeft(NOW - 30_000, NOW)).toBe(0);
  });
});

describe('the members', () => {
  const g = group('g1', 'Algebra', {
    members: [
      groupMember('ada-1', 'Ada'),
      groupMember('zoe', 'zoë'),
      groupMember('bob-2', 'Bob'),
      groupMember('cleo-3', 'Cleo'),
      groupMember('dan', 'Dan'),
      groupMember('eve', 'Eve'),
      groupMember('ann', 'ann'),
    ],
  });
  const card = groupCard(g, {
    you: 'bob-2',
    presence: [
      memberPresence('ada-1', { status: 'online' }),
      memberPresence('zoe', { status: 'in_room', room: { room: 'group-g1', group: 'g1' } }),
      memberPresence('bob-2', { status: 'online' }),
      memberPresence('cleo-3', { status: 'in_room', room: { room: 'other', group: null }, focus: { phase: 'focus', ends_at: NOW + 5 * MIN } }),
      memberPresence('dan', { status: 'in_room', room: { room: 'group-g1', group: 'g1' } }),
      // eve: nothing heard yet
      memberPresence('ann', { status: 'offline' }),
    ],
  });

  it('come in a room first, then online, then offline, by name within each', () => {
    const rows = memberRows(card, NOW);
    expect(rows.map((r) => [r.name, r.status])).toEqual([
      ['Cleo', 'in_room'],
      ['Dan', 'in_room'],
      ['zoë', 'in_room'],
      ['Ada', 'online'],
      ['Bob', 'online'],
      ['ann', 'offline'],
      ['Eve', 'offline'],
    ]);
    expect(rows.find((r) => r.you)?.identity).toBe('bob-2');
    expect(rows.find((r) => r.owner)?.identity).toBe('ada-1');
  });

  it('say when we appear offline', () => {
    const hidden = { ...card, presence: card.presence.map((p) => (p.identity === 'bob-2' ? { ...p, status: 'offline' as const } : p)) };
    expect(memberRows(hidden, NOW, undefined, true).find((r) => r.you)?.label).toBe('Appearing offline');
    expect(memberRows(hidden, NOW).find((r) => r.you)?.label).toBe('Offline');
  });

  it('are counted for the card, with who is in the room and how many focus', () => {
    expect(cardSummary(card, NOW)).toEqual({ online: 5, total: 7, countText: '5 of 7 online', inRoom: ['Dan', 'zoë'], focusing: 1 });
    expect(inGroupRoomCount(card)).toBe(2);
  });

  it('make the room button say whether anyone is there', () => {
    expect(roomButtonLabel(0)).toBe('Open the room');
    expect(roomButtonLabel(2)).toBe('Join the room (2 there)');
  });
});

describe('sessions', () => {
  it('coming up for a group: not ended, soonest first, that group only', () => {
    const entries = [
      calendarEntry('g1', 'Algebra', occurrence('b', 'B', NOW + 120 * MIN)),
      calendarEntry('g1', 'Algebra', occurrence('a', 'A', NOW - 30 * MIN)),
      calendarEntry('g1', 'Algebra', occurrence('old', 'Old', NOW - 120 * MIN)),
      calendarEntry('g2', 'Chem', occurrence('c', 'C', NOW + 10 * MIN)),
      calendarEntry(null, null, occurrence('d', 'D', NOW + 10 * MIN)),
    ];
    expect(upcomingFor(entries, 'g1', NOW).map((e) => e.occurrence.session)).toEqual(['a', 'b']);
  });

  it('are found from their occurrence, and may be changed by the owner or whoever added them', () => {
    const mine = studySession('s1', 'Mine', { by: 'bob-2' });
    const theirs = studySession('s2', 'Theirs', { by: 'cleo-3' });
    const block = studySession('b1', 'Reading', { by: '' });
    const view = groupsChanged({
      groups: [groupCard(group('g1', 'Algebra', { sessions: [mine, theirs] }), { you: 'bob-2', owner: false })],
      blocks: [block],
    });
    expect(sessionOf(view, { group: 'g1', session: 's2' })).toBe(theirs);
    expect(sessionOf(view, { group: null, session: 'b1' })).toBe(block);
    expect(sessionOf(view, { group: 'g9', session: 's2' })).toBeNull();
    expect(maySchedule(view, 'g1', mine)).toBe(true);
    expect(maySchedule(view, 'g1', theirs)).toBe(false);
    expect(maySchedule(view, null, block)).toBe(true);
    const owned = groupsChanged({ groups: [groupCard(group('g1', 'Algebra', { sessions: [theirs] }))] });
    expect(maySchedule(owned, 'g1', theirs)).toBe(true);
  });

  it('of each group have a colour of their own', () => {
    const view = groupsChanged({ groups: [groupCard(group('g1', 'A')), groupCard(group('g2', 'B'))] });
    expect([...groupColours(view)]).toEqual([
      ['g1', 0],
      ['g2', 1],
    ]);
  });
});

describe('reminders', () => {
  it('say what starts when, naming the group', () => {
    expect(reminderText(sessionReminder())).toBe('Problem set (Algebra) starts in 4 min');
    expect(reminderText(sessionReminder({ group: null, groupName: null, title: 'Reading', minutes: 1 }))).toBe('Reading starts in 1 min');
    expect(reminderText(sessionReminder({ minutes: 0 }))).toBe('Problem set (Algebra) starts now');
    expect(reminderText(sessionReminder({ title: '\u202Eevil' }))).toBe('\u2068\u202Eevil\u2069 (Algebra) starts in 4 min');
  });
});

describe('checks before asking the app', () => {
  it('a group name', async () => {
    const { groupNameProblem } = await import('./groups');
    expect(groupNameProblem(' Algebra ')).toBeNull();
    expect(groupNameProblem('  ')).toBe('Give the group a name.');
    expect(groupNameProblem('x'.repeat(61))).toBe('A group name is at most 60 characters.');
    expect(groupNameProblem('a\nb')).toBe('A group name may not contain control characters.');
  });

  it("a server's address", async () => {
    const { relayProblem } = await import('./groups');
    expect(relayProblem('school.example:7450')).toBeNull();
    expect(relayProblem('10.0.0.5:7450')).toBeNull();
    expect(relayProblem('[fe80::1]:7450')).toBeNull();
    expect(relayProblem('')).toMatch(/Enter the server/);
    expect(relayProblem('school.example')).toMatch(/host and a port/);
    expect(relayProblem('school.example:99999')).toMatch(/host and a port/);
  });
});

describe('the view', () => {
  it('takes in a card a command answered with, and drops a group left', async () => {
    const { withCard, withoutGroup } = await import('./groups');
    const a = groupCard(group('g1', 'A'));
    const view = groupsChanged({ groups: [a] });
    const renamed = groupCard(group('g1', 'A2'));
    const b = groupCard(group('g2', 'B'));
    expect(withCard(view, renamed).groups).toEqual([renamed]);
    expect(withCard(view, b).groups).toEqual([a, b]);
    expect(withoutGroup(withCard(view, b), 'g1').groups).toEqual([b]);
  });

  it('says when an occurrence is', async () => {
    const { whenText } = await import('./groups');
    const start = Date.UTC(2026, 11, 7, 17, 0);
    expect(whenText(start, start + 3_600_000, 'en-GB', 'Europe/Berlin')).toBe('Mon 7 Dec, 18:00–19:00');
    expect(whenText(start + 5 * 3_600_000, start + 7 * 3_600_000, 'en-GB', 'Europe/Berlin')).toBe(
      'Mon 7 Dec, 23:00 – Tue 8 Dec, 01:00',
    );
  });
});
