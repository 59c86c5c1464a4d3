/**
 * What the groups' cards and the group page show, from the app's `GroupsChanged` and the
 * local clock: each member's presence in words (and its dot), the members in order (in a
 * room first, then online, then offline; by name within each), how many are online, who
 * is in the group's room, the room button's words, the sessions coming up, and the
 * reminders' words.
 */
import type {
  CalendarEntry,
  FocusPresence,
  GroupCard,
  GroupsChanged,
  MemberPresence,
  PresenceStatus,
  SessionReminder,
  StudySession,
} from '../services/types';
import { isolate } from './text';

/** The presence dot's look. */
export type Dot = 'offline' | 'online' | 'room' | 'focus' | 'break';

/** One member as the group page lists them. */
export type MemberRow = {
  identity: string;
  name: string;
  you: boolean;
  owner: boolean;
  status: PresenceStatus;
  /** In this group's own room. */
  inGroupRoom: boolean;
  /** "Online", "In the group's room", "Focusing · 12 min left", … */
  label: string;
  /** Where someone focusing is (null otherwise): "In the group's room", "In room …". */
  where: string | null;
  dot: Dot;
};

const MINUTE_MS = 60_000;

/** Whole minutes left until `endsAt` (rounded up: 30 s left is "1 min"); 0 once it has passed. */
export function minutesLeft(endsAt: number, now: number): number {
  return Math.max(0, Math.ceil((endsAt - now) / MINUTE_MS));
}

/** "Focusing · 12 min left", "On a break · 3 min left", "Focusing · paused". */
export function focusLabel(focus: FocusPresence, now: number): string {
  const what = focus.phase === 'focus' ? 'Focusing' : 'On a break';
  if (focus.ends_at === null) return `${what} · paused`;
  const left = minutesLeft(focus.ends_at, now);
  return left === 0 ? what : `${what} · ${left} min left`;
}

/** Where a member in a room is: this group's room, another of our groups' rooms, or some room. */
function whereLabel(presence: MemberPresence, group: string, groupNames: ReadonlyMap<string, string>): string {
  const room = presence.room;
  if (!room) return 'In a room';
  if (room.group === group) return "In the group's room";
  const other = room.group ? groupNames.get(room.group) : undefined;
  return `In room ${isolate(other ?? room.room)}`;
}

/** A member's presence in words and as a dot (offline when the app has not heard of them). */
export function presenceOf(
  presence: MemberPresence | undefined,
  group: string,
  now: number,
  groupNames: ReadonlyMap<string, string> = new Map(),
): Pick<MemberRow, 'status' | 'inGroupRoom' | 'label' | 'where' | 'dot'> {
  if (!presence || presence.status === 'offline') {
    return { status: 'offline', inGroupRoom: false, label: 'Offline', where: null, dot: 'offline' };
  }
  if (presence.status === 'online') {
    return { status: 'online', inGroupRoom: false, label: 'Online', where: null, dot: 'online' };
  }
  const inGroupRoom = presence.room?.group === group;
  const where = whereLabel(presence, group, groupNames);
  if (presence.focus) {
    return {
      status: 'in_room',
      inGroupRoom,
      label: focusLabel(presence.focus, now),
      where,
      dot: presence.focus.phase === 'focus' ? 'focus' : 'break',
    };
  }
  return { status: 'in_room', inGroupRoom, label: where, where: null, dot: 'room' };
}

const RANK: Record<PresenceStatus, number> = { in_room: 0, online: 1, offline: 2 };

/** Names in the user's language's order, then identities (two of the same name keep their order). */
function byName(a: { name: string; identity: string }, b: { name: string; identity: string }): number {
  return a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.identity.localeCompare(b.identity);
}

/**
 * The group's members with their presence: in a room first, then online, then offline; by
 * name within each. `hidden`: we appear offline (our own row says so).
 */
export function memberRows(
  card: GroupCard,
  now: number,
  groupNames?: ReadonlyMap<string, string>,
  hidden = false,
): MemberRow[] {
  const presence = new Map(card.presence.map((p) => [p.identity, p]));
  return card.group.members
    .map((m) => {
      const you = m.identity === card.you;
      const shown = presenceOf(presence.get(m.identity), card.group.id, now, groupNames);
      return {
        identity: m.identity,
        name: m.name,
        you,
        owner: m.identity === card.group.owner,
        ...shown,
        label: you && hidden && shown.status === 'offline' ? 'Appearing offline' : shown.label,
      };
    })
    .sort((a, b) => RANK[a.status] - RANK[b.status] || byName(a, b));
}

/** The names of the groups we belong to, by id. */
export function groupNames(view: GroupsChanged | null): Map<string, string> {
  return new Map((view?.groups ?? []).map((c) => [c.group.id, c.group.name]));
}

/** What a group's card says of it. */
export type CardSummary = {
  online: number;
  total: number;
  /** "3 of 8 online" */
  countText: string;
  /** Who is in the group's room now (names, in order). */
  inRoom: string[];
  /** How many members are focusing (in any room). */
  focusing: number;
};

export function cardSummary(card: GroupCard, now: number): CardSummary {
  const rows = memberRows(card, now);
  const online = rows.filter((r) => r.status !== 'offline').length;
  return {
    online,
    total: rows.length,
    countText: `${online} of ${rows.length} online`,
    inRoom: rows.filter((r) => r.inGroupRoom).map((r) => r.name),
    focusing: rows.filter((r) => r.dot === 'focus').length,
  };
}

/** How many members are in the group's own room. */
export function inGroupRoomCount(card: GroupCard): number {
  return card.presence.filter((p) => p.status === 'in_room' && p.room?.group === card.group.id).length;
}

/** The room button: "Open the room" when nobody is there, else "Join the room (N there)". */
export function roomButtonLabel(there: number): string {
  return there === 0 ? 'Open the room' : `Join the room (${there} there)`;
}

/** The group's occurrences that have not ended by `now`, soonest first. */
export function upcomingFor(entries: CalendarEntry[], group: string, now: number): CalendarEntry[] {
  return entries
    .filter((e) => e.group === group && e.occurrence.end_ms > now)
    .sort((a, b) => a.occurrence.start_ms - b.occurrence.start_ms);
}

/** The session an occurrence on the calendar belongs to (a group's, or a personal block). */
export function sessionOf(view: GroupsChanged | null, entry: Pick<CalendarEntry, 'group'> & { session: string }): StudySession | null {
  if (!view) return null;
  const list = entry.group === null ? view.blocks : view.groups.find((c) => c.group.id === entry.group)?.group.sessions;
  return list?.find((s) => s.id === entry.session) ?? null;
}

/** Whether we may change a group's session: its owner, or whoever added it; a personal block always. */
export function maySchedule(view: GroupsChanged | null, group: string | null, session: StudySession | null): boolean {
  if (group === null) return true;
  const card = view?.groups.find((c) => c.group.id === group);
  if (!card) return false;
  return card.owner || session === null || session.by === card.you;
}

/** A short colour index (0–7) for each group, in the order the app lists them. */
export function groupColours(view: GroupsChanged | null): Map<string, number> {
  return new Map((view?.groups ?? []).map((c, i) => [c.group.id, i % 8]));
}

/** "Problem set (Algebra) starts in 4 min", "Reading starts now". */
export function reminderText(r: SessionReminder): string {
  const what = r.groupName ? `${isolate(r.title)} (${isolate(r.groupName)})` : isolate(r.title);
  return r.minutes <= 0 ? `${what} starts now` : `${what} starts in ${r.minutes} min`;
}

/** "1 member", "8 members" */
export function membersText(n: number): string {
  return n === 1 ? '1 member' : `${n} members`;
}

/** Longest group name, in characters (protocol `MAX_GROUP_NAME_CHARS`). */
export const MAX_GROUP_NAME_CHARS = 60;

/** Why `name` cannot name a group, or null when it can. */
export function groupNameProblem(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed === '') return 'Give the group a name.';
  if ([...trimmed].length > MAX_GROUP_NAME_CHARS) return `A group name is at most ${MAX_GROUP_NAME_CHARS} characters.`;
  if ([...trimmed].some((c) => /\p{Cc}/u.test(c))) return 'A group name may not contain control characters.';
  return null;
}

/** Why `relay` is not a server address (`host:port`), or null when it is. */
export function relayProblem(relay: string): string | null {
  const t = relay.trim();
  if (t === '') return "Enter the server's address, like school.example:7450.";
  if (!/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(t) || Number(t.slice(t.lastIndexOf(':') + 1)) > 65535) {
    return 'A server address is a host and a port, like school.example:7450.';
  }
  return null;
}

/** The view with `card` in it (replacing the group's old card), for a command's answer ahead of its event. */
export function withCard(view: GroupsChanged, card: GroupCard): GroupsChanged {
  const known = view.groups.some((c) => c.group.id === card.group.id);
  return {
    ...view,
    groups: known ? view.groups.map((c) => (c.group.id === card.group.id ? card : c)) : [...view.groups, card],
  };
}

/** The view without the group `id` (left or deleted), ahead of the app's event. */
export function withoutGroup(view: GroupsChanged, id: string): GroupsChanged {
  return { ...view, groups: view.groups.filter((c) => c.group.id !== id) };
}

/** "Mon 7 Dec, 18:00–19:00" in the user's zone and language (the end's day too when it differs). */
export function whenText(startMs: number, endMs: number, locale?: string, tz?: string): string {
  const day = new Intl.DateTimeFormat(locale, { weekday: 'short', day: 'numeric', month: 'short', timeZone: tz });
  const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone: tz });
  const sameDay = day.format(startMs) === day.format(endMs);
  return sameDay
    ? `${day.format(startMs)}, ${time.format(startMs)}–${time.format(endMs)}`
    : `${day.format(startMs)}, ${time.format(startMs)} – ${day.format(endMs)}, ${time.format(endMs)}`;
}
