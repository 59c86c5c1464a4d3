// The study groups of the fake Tauri shell (fake-tauri.js imports this module in the
// page): the groups this app belongs to as the app keeps them (app `groups/`), with their
// members' presence, schedules and invites, the personal study blocks, appearing offline,
// the calendar (sessions expanded into occurrences in their own time zones, as the
// protocol's `schedule::expand` does for the rules the UI writes: DAILY and WEEKLY with
// BYDAY, INTERVAL, COUNT, UNTIL; cancelled and moved occurrences) and the `.ics` import
// and export. Every change is told to the page as a `groups-changed` event carrying the
// whole view, as the app does.
//
// A test drives the others through `window.__fake.groups`:
//   presence(group, identity, {status, room, focus})  a member's presence changes
//   join(group, identity, name)                       someone joins with the invite
//   remind(reminder)                                  a `session-reminder` event
//   unreachable(group, problem)                       its relay is lost (null: back)
//   view()                                            the view as the app would send it
//
// Config (window.__FAKE_CONFIG__): groups ([{group, you, relay, hostedHere, presence,
// connected, problem}], a group as the protocol writes it and how we see it), blocks
// (StudySession[]), hidden, importReport (what `import_calendar` answers; null: the
// user cancels the file dialog), calendarExport (the path `export_calendar` answers;
// null: cancelled).
// Test-only: never part of the app bundle.

const RELAY = '192.168.1.20:7450';
const DAY_MS = 86_400_000;
const MAX_WINDOW_DAYS = 400;
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

const hex = (n) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, '0')).join('');
const code4 = () => Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'[b % 32]).join('');

// Wall-clock time in a zone (as the app's chrono-tz does), with Intl.
const formatters = new Map();
function partsAt(ms, tz) {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  return { y: p.year, m: p.month, d: p.day, hh: p.hour % 24, mm: p.minute, ss: p.second };
}
function offsetAt(ms, tz) {
  const whole = Math.floor(ms / 1000) * 1000;
  const p = partsAt(whole, tz);
  return Date.UTC(p.y, p.m - 1, p.d, p.hh, p.mm, p.ss) - whole;
}
/** The instant of a wall-clock time in `tz` (a skipped time an hour later, a repeated one the first time). */
function instant(w, tz) {
  for (let extra = 0; extra < 3; extra++) {
    const asUtc = Date.UTC(w.y, w.m - 1, w.d, w.hh + extra, w.mm);
    const offsets = new Set([offsetAt(asUtc - DAY_MS, tz), offsetAt(asUtc, tz), offsetAt(asUtc + DAY_MS, tz)]);
    const fits = [...offsets].map((o) => asUtc - o).filter((t) => offsetAt(t, tz) === asUtc - t);
    if (fits.length) return Math.min(...fits);
  }
  return Date.UTC(w.y, w.m - 1, w.d, w.hh, w.mm);
}
function parseWall(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(text || '');
  return m ? { y: +m[1], m: +m[2], d: +m[3], hh: +m[4], mm: +m[5] } : null;
}
const pad = (n, w = 2) => String(n).padStart(w, '0');
const wallText = (w) => `${pad(w.y, 4)}-${pad(w.m)}-${pad(w.d)}T${pad(w.hh)}:${pad(w.mm)}`;
/** The wall-clock day `n` days after `w`'s, same time. */
function addDays(w, n) {
  const t = new Date(Date.UTC(w.y, w.m - 1, w.d + n));
  return { ...w, y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}
const weekday = (w) => (new Date(Date.UTC(w.y, w.m - 1, w.d)).getUTCDay() + 6) % 7;

/** The protocol's `validate`: the first rule a draft breaks, as the relay words it; else null. */
function draftProblem(draft) {
  const title = String(draft.title ?? '').trim();
  if (!title) return 'a session needs a title';
  if ([...title].length > 100) return 'a title is at most 100 characters';
  if ([...title].some((c) => /\p{Cc}/u.test(c))) return 'a title may not contain control characters';
  if (!parseWall(draft.start)) return `${JSON.stringify(draft.start)} is not a date and time like 2026-12-07T18:00`;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: draft.tz });
  } catch {
    return `${JSON.stringify(draft.tz)} is not a time zone name`;
  }
  if (!Number.isInteger(draft.minutes) || draft.minutes < 5 || draft.minutes > 720) return 'a session lasts 5 to 720 minutes';
  const rule = draft.rrule;
  if (rule) {
    const upper = rule.toUpperCase();
    if (/FREQ=(SECONDLY|MINUTELY|HOURLY)/.test(upper)) return 'a session repeats at most daily (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY)';
    if (/(BYHOUR|BYMINUTE|BYSECOND|BYSETPOS)=/.test(upper)) {
      return 'a session repeats at most daily, at its start time (no BYHOUR, BYMINUTE, BYSECOND or BYSETPOS)';
    }
    if (/[\n\r:]/.test(rule)) return 'a recurrence is one RRULE value, without `RRULE:`';
    if (!/FREQ=(DAILY|WEEKLY)/.test(upper)) return 'recurrence: this fake relay expands DAILY and WEEKLY rules only';
  } else if ((draft.changes || []).length) {
    return 'only a recurring session has occurrences to cancel or move';
  }
  return null;
}

/** The wall-clock starts of a session's rule, from its first up to `lastDay` (a wall time). */
function ruleStarts(start, rule, tz, lastDay) {
  const parts = Object.fromEntries(rule.split(';').map((p) => p.split('=').map((s) => s.trim().toUpperCase())));
  const interval = Number(parts.INTERVAL || 1);
  const count = parts.COUNT ? Number(parts.COUNT) : Infinity;
  let until = Infinity;
  if (parts.UNTIL) {
    const u = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(parts.UNTIL);
    if (u) {
      const wall = { y: +u[1], m: +u[2], d: +u[3], hh: +(u[4] || 23), mm: +(u[5] || 59) };
      until = u[7] === 'Z' ? Date.UTC(wall.y, wall.m - 1, wall.d, wall.hh, wall.mm, +(u[6] || 0)) : instant(wall, tz);
    }
  }
  const days = parts.BYDAY ? parts.BYDAY.split(',').map((d) => WEEKDAYS.indexOf(d)) : [weekday(start)];
  const out = [];
  const firstMonday = addDays(start, -weekday(start));
  for (let i = 0; out.length < count && i < 3 * 366; i++) {
    const day = addDays(start, i);
    if (Date.UTC(day.y, day.m - 1, day.d) > Date.UTC(lastDay.y, lastDay.m - 1, lastDay.d)) break;
    if (instant(day, tz) > until) break;
    if (parts.FREQ === 'DAILY' ? i % interval !== 0 : !days.includes(weekday(day))) continue;
    if (parts.FREQ === 'WEEKLY') {
      const weeks = Math.floor((Date.UTC(day.y, day.m - 1, day.d) - Date.UTC(firstMonday.y, firstMonday.m - 1, firstMonday.d)) / (7 * DAY_MS));
      if (weeks % interval !== 0) continue;
    }
    out.push(day);
  }
  return out;
}

/** A session's occurrences overlapping `[fromMs, toMs)`, as the protocol's `expand` lists them. */
function expand(session, fromMs, toMs) {
  const start = parseWall(session.start);
  const length = session.minutes * 60_000;
  const lastDay = (() => {
    const p = partsAt(toMs + 366 * DAY_MS, session.tz);
    return { y: p.y, m: p.m, d: p.d, hh: 0, mm: 0 };
  })();
  const starts = session.rrule ? ruleStarts(start, session.rrule, session.tz, lastDay) : [start];
  const changes = new Map((session.changes || []).map((c) => [c.occurrence, c.moved_to ?? null]));
  const out = [];
  for (const wall of starts) {
    const own = wallText(wall);
    let at = wall;
    let moved = false;
    if (changes.has(own)) {
      const to = changes.get(own);
      if (to === null) continue;
      at = parseWall(to);
      moved = true;
    }
    const startMs = instant(at, session.tz);
    if (startMs < toMs && startMs + length > fromMs) {
      out.push({ session: session.id, title: session.title, start_ms: startMs, end_ms: startMs + length, occurrence: own, moved });
    }
  }
  return out;
}

/**
 * The groups of the fake app. `shell` is what the shell shares: `me` (the page's
 * identity), `myName()`, `tell(view)` (a `groups-changed` event), `remind(reminder)` (a
 * `session-reminder` event) and `enterRoom(title, media)` (joins the fake room as
 * `join_room` does, resolving with its snapshot).
 */
export function fakeGroups(shell, config = {}) {
  const { me, myName, tell, remind, enterRoom } = shell;
  /** Our groups, as cards without the invite's link and code (made from `group.invite`). */
  const cards = (config.groups || []).map((c) => ({
    relay: RELAY,
    you: me,
    hostedHere: true,
    connected: true,
    problem: null,
    ...structuredClone(c),
    presence: structuredClone(c.presence || c.group.members.map((m) => ({ identity: m.identity, status: 'offline', room: null, focus: null }))),
  }));
  let blocks = structuredClone(config.blocks || []);
  let hidden = config.hidden ?? false;

  const cardOf = (id) => {
    const card = cards.find((c) => c.group.id === id);
    if (!card) throw { kind: 'invalidInput', message: 'You are not in that group.' };
    return card;
  };
  const card = (c) => ({
    ...structuredClone(c),
    owner: c.group.owner === c.you,
    inviteLink: `studyhall://group?relay=${encodeURIComponent(c.relay)}&code=${c.group.invite}`,
    inviteCode: `${c.group.invite}@${c.relay}`,
  });
  const view = () => ({ groups: cards.map(card), blocks: structuredClone(blocks), hidden });
  const changed = () => tell(view());
  /** Our own presence in every group, as the relay tells it back. */
  const setMine = (presence) => {
    for (const c of cards) {
      const i = c.presence.findIndex((p) => p.identity === c.you);
      const mine = { identity: c.you, room: null, focus: null, ...presence(c) };
      if (i >= 0) c.presence[i] = mine;
      else c.presence.push(mine);
    }
  };
  setMine(() => ({ status: hidden ? 'offline' : 'online' }));

  function parseGroupInvite(text) {
    const t = String(text).trim();
    let m = /^studyhall:\/\/group\?relay=([^&]+)&code=(G-[A-Za-z0-9]{4}-[A-Za-z0-9]{4})$/i.exec(t);
    if (m) return { relay: decodeURIComponent(m[1]), code: m[2].toUpperCase() };
    m = /^(G-?[A-Za-z0-9]{4}-?[A-Za-z0-9]{4})@([A-Za-z0-9.-]+:\d+)$/i.exec(t);
    if (m) {
      const raw = m[1].toUpperCase().replace(/-/g, '').slice(1);
      return { relay: m[2], code: `G-${raw.slice(0, 4)}-${raw.slice(4)}` };
    }
    throw {
      kind: 'inviteInvalid',
      message: 'That is not a group invite: it looks like G-K7QX-29FD@192.168.1.20:7450 or a studyhall://group link.',
    };
  }

  function sessionsOf(group) {
    if (group === null) return blocks;
    return cardOf(group).group.sessions;
  }

  const commands = {
    groups_view: () => view(),
    create_group: ({ name, relay }) => {
      const n = String(name ?? '').trim();
      if (!n || [...n].length > 60) throw { kind: 'invalidInput', message: 'name: a group name is 1 to 60 characters' };
      const group = {
        id: `g${hex(6)}`,
        name: n,
        room: `group-${hex(4)}`,
        owner: me,
        members: [{ identity: me, name: myName(), joined_at: Date.now() }],
        sessions: [],
        invite: `G-${code4()}-${code4()}`,
        created_at: Date.now(),
      };
      const c = {
        group,
        you: me,
        relay: relay ?? RELAY,
        hostedHere: relay === null,
        connected: true,
        problem: null,
        presence: [{ identity: me, status: hidden ? 'offline' : 'online', room: null, focus: null }],
      };
      cards.push(c);
      changed();
      return card(c);
    },
    parse_group_invite: ({ text }) => parseGroupInvite(text).code,
    join_group: ({ invite }) => {
      const { relay, code } = parseGroupInvite(invite);
      const known = cards.find((c) => c.group.invite === code);
      if (known) return card(known);
      // A group of Bob's, with Bob online.
      const group = {
        id: `g${hex(6)}`,
        name: 'Bob’s study group',
        room: `group-${hex(4)}`,
        owner: 'bob-2',
        members: [
          { identity: 'bob-2', name: 'Bob', joined_at: Date.now() - DAY_MS },
          { identity: me, name: myName(), joined_at: Date.now() },
        ],
        sessions: [],
        invite: code,
        created_at: Date.now() - DAY_MS,
      };
      const c = {
        group,
        you: me,
        relay,
        hostedHere: false,
        connected: true,
        problem: null,
        presence: [
          { identity: 'bob-2', status: 'online', room: null, focus: null },
          { identity: me, status: hidden ? 'offline' : 'online', room: null, focus: null },
        ],
      };
      cards.push(c);
      changed();
      return card(c);
    },
    leave_group: ({ group }) => {
      cardOf(group);
      cards.splice(
        cards.findIndex((c) => c.group.id === group),
        1,
      );
      changed();
      return null;
    },
    remove_group_member: ({ group, identity }) => {
      const c = cardOf(group);
      if (c.group.owner !== c.you) throw { kind: 'refused', message: 'Only the owner removes members.' };
      c.group.members = c.group.members.filter((m) => m.identity !== identity);
      c.presence = c.presence.filter((p) => p.identity !== identity);
      changed();
      return null;
    },
    new_group_invite: ({ group }) => {
      const c = cardOf(group);
      if (c.group.owner !== c.you) throw { kind: 'refused', message: 'Only the owner makes a new invite.' };
      c.group.invite = `G-${code4()}-${code4()}`;
      changed();
      return card(c);
    },
    add_session: ({ group, draft }) => {
      const problem = draftProblem(draft);
      if (problem) throw { kind: 'invalidInput', message: problem };
      const list = sessionsOf(group);
      const session = { id: hex(4), by: group === null ? '' : cardOf(group).you, ...structuredClone(draft) };
      if (!session.rrule) delete session.rrule;
      if (!session.changes?.length) delete session.changes;
      list.push(session);
      changed();
      return session;
    },
    change_session: ({ group, session, draft }) => {
      if (draft) {
        const problem = draftProblem(draft);
        if (problem) throw { kind: 'invalidInput', message: problem };
      }
      const list = sessionsOf(group);
      const at = list.findIndex((s) => s.id === session);
      if (at < 0) throw { kind: 'invalidInput', message: group === null ? 'That study block is gone.' : 'That session is gone.' };
      if (draft === null) list.splice(at, 1);
      else {
        const next = { id: list[at].id, by: list[at].by, ...structuredClone(draft) };
        if (!next.rrule) delete next.rrule;
        if (!next.changes?.length) delete next.changes;
        list[at] = next;
      }
      if (group === null) blocks = [...list];
      changed();
      return null;
    },
    calendar: ({ fromMs, toMs }) => {
      if (toMs < fromMs) throw { kind: 'invalidInput', message: 'the window ends before it starts' };
      if (toMs - fromMs > MAX_WINDOW_DAYS * DAY_MS) {
        throw { kind: 'invalidInput', message: `occurrences are listed for at most ${MAX_WINDOW_DAYS} days at once` };
      }
      const all = [
        ...cards.flatMap((c) => c.group.sessions.map((s) => [c.group.id, c.group.name, s])),
        ...blocks.map((s) => [null, null, s]),
      ];
      return all
        .flatMap(([group, groupName, s]) => expand(s, fromMs, toMs).map((occurrence) => ({ group, groupName, occurrence })))
        .sort((a, b) => a.occurrence.start_ms - b.occurrence.start_ms);
    },
    set_appear_offline: ({ hidden: h }) => {
      hidden = h;
      setMine((c) => {
        const mine = c.presence.find((p) => p.identity === c.you);
        return h ? { status: 'offline' } : mine?.room ? mine : { status: 'online' };
      });
      changed();
      return null;
    },
    open_group_room: async ({ group, media }) => {
      const c = cardOf(group);
      if (!c.connected) throw { kind: 'relayUnreachable', message: `Can't reach the group's relay (${c.relay}).` };
      const snapshot = await enterRoom(c.group.name, media);
      setMine((other) => (other === c ? { status: 'in_room', room: { room: c.group.room, group: c.group.id } } : { status: 'in_room', room: { room: c.group.room, group: null } }));
      changed();
      return snapshot;
    },
    export_calendar: () => (config.calendarExport === undefined ? '/home/ada/Downloads/studyhall-calendar.ics' : config.calendarExport),
    import_calendar: ({ group }) => {
      const report = config.importReport === undefined ? null : config.importReport;
      if (report === null) return null;
      if (group !== null) cardOf(group);
      return report;
    },
  };

  return {
    commands,
    /** We left the room: online again (or offline, hidden). */
    leftRoom() {
      setMine(() => ({ status: hidden ? 'offline' : 'online' }));
      changed();
    },
    // The test's handles.
    view,
    presence(group, identity, presence) {
      const c = cardOf(group);
      const next = { identity, status: 'offline', room: null, focus: null, ...presence };
      const i = c.presence.findIndex((p) => p.identity === identity);
      if (i >= 0) c.presence[i] = next;
      else c.presence.push(next);
      changed();
    },
    join(group, identity, name) {
      const c = cardOf(group);
      c.group.members.push({ identity, name, joined_at: Date.now() });
      c.presence.push({ identity, status: 'online', room: null, focus: null });
      changed();
    },
    unreachable(group, problem) {
      const c = cardOf(group);
      c.connected = problem === null;
      c.problem = problem;
      changed();
    },
    remind(reminder) {
      remind(reminder);
    },
  };
}
