// @ts-check
/**
 * What the UI's two stand-ins for the Rust side answer with: the vitest mock of the
 * service module (./serviceMock.ts) and the fake Tauri shell of the browser tests
 * (../../browser-tests/fake-tauri.js, which loads this file in the page). Plain
 * JavaScript so the page can load it as it is; typed with JSDoc and checked by
 * `npm run typecheck`, so a change to the IPC types (ui/src/bindings.ts) shows up here,
 * once, for both.
 *
 * Every builder returns a fresh object; `extra` overrides fields.
 */

/**
 * @import {
 *   AppInfo, Attachment, BoardSummary, CalendarEntry, ChatMessage, ChatPage, DayTotal, DeviceList,
 *   FeatureSnapshot, Group, GroupCard, GroupMember, GroupsChanged, Invite, LectureState, Link,
 *   LinkQuality, Material, MaterialsState, MaterialTransfer, MediaState, MediaStatus, MemberPresence,
 *   Occurrence, Participant, Poll, PollDraft, Question, RaisedHand, RoomSnapshot, RoomTotal,
 *   SessionReminder, Settings, StudySession, StudySummary, TimerRun, TimerSettings, TimerState,
 * } from '../services/types'
 */

/**
 * @param {Partial<AppInfo>} [extra]
 * @returns {AppInfo}
 */
export function appInfo(extra = {}) {
  return { name: 'Studyhall', version: '0.1.0', protocolVersion: 1, ...extra };
}

/**
 * The saved profile: the test pattern and tone, no recent rooms.
 * @param {Partial<Settings>} [extra]
 * @returns {Settings}
 */
export function settings(extra = {}) {
  return {
    displayName: 'Ada',
    camera: { kind: 'testPattern' },
    microphone: { kind: 'tone' },
    screen: { kind: 'testPattern' },
    speaker: null,
    timerChime: true,
    noiseSuppression: true,
    recentRooms: [],
    ...extra,
  };
}

/**
 * No devices found (the synthetic ones are always there).
 * @param {Partial<DeviceList>} [extra]
 * @returns {DeviceList}
 */
export function devices(extra = {}) {
  return { cameras: [], microphones: [], screens: [], speakers: [], ...extra };
}

/**
 * Mic and camera on, no screen.
 * @param {Partial<MediaState>} [extra]
 * @returns {MediaState}
 */
export function media(extra = {}) {
  return { mic: true, camera: true, screen: false, ...extra };
}

/**
 * A media-status update: no levels, no problems, no links.
 * @param {Partial<MediaStatus>} [extra]
 * @returns {MediaStatus}
 */
export function mediaStatus(extra = {}) {
  return { levels: [], problems: [], links: [], ...extra };
}

/**
 * How `identity`'s media reaches us, with loss and bad frames that fit the quality
 * (good: none; fair: 3% lost, 6% of frames; poor: 12% lost, 30% of frames).
 * @param {string} identity
 * @param {LinkQuality} quality
 * @param {Partial<Link>} [extra]
 * @returns {Link}
 */
export function link(identity, quality, extra = {}) {
  const lost = {
    good: { lossPercent: 0, badFramesPercent: 0 },
    fair: { lossPercent: 3, badFramesPercent: 6 },
    poor: { lossPercent: 12, badFramesPercent: 30 },
  };
  return { identity, quality, ...lost[quality], ...extra };
}

/**
 * Someone else in the room, present, mic and camera on.
 * @param {string} identity
 * @param {string} name
 * @param {Partial<Participant>} [extra]
 * @returns {Participant}
 */
export function participant(identity, name, extra = {}) {
  return {
    identity,
    name,
    host: false,
    presenter: false,
    you: false,
    media: media(),
    presence: 'active',
    joinedAt: 1,
    ...extra,
  };
}

/**
 * @param {Partial<ChatPage>} [extra]
 * @returns {ChatPage}
 */
export function chatPage(extra = {}) {
  return { messages: [], hasMore: false, ...extra };
}

/**
 * A stored chat message from Bob, no attachment.
 * @param {number} seq
 * @param {string} text
 * @param {Partial<ChatMessage>} [extra]
 * @returns {ChatMessage}
 */
export function chatMessage(seq, text, extra = {}) {
  return {
    seq,
    from: 'bob-2',
    name: 'Bob',
    text,
    ts: 1_795_000_000_000,
    clientMsgId: `c${seq}`,
    deleted: false,
    attachment: null,
    ...extra,
  };
}

/**
 * @param {string} identity
 * @param {number} [raisedAt]
 * @returns {RaisedHand}
 */
export function raisedHand(identity, raisedAt = 1_795_000_000_000) {
  return { identity, raised_at: raisedAt };
}

/**
 * The relay's default timer settings: 25 minutes of focus, 5-minute breaks, a 15-minute
 * break after 4 rounds.
 * @param {Partial<TimerSettings>} [extra]
 * @returns {TimerSettings}
 */
export function timerSettings(extra = {}) {
  return { focus_secs: 25 * 60, short_break_secs: 5 * 60, long_break_secs: 15 * 60, rounds: 4, ...extra };
}

/**
 * A stopped timer with the default settings, as a room's snapshot has it until someone
 * starts it.
 * @param {Partial<TimerState>} [extra]
 * @returns {TimerState}
 */
export function timerState(extra = {}) {
  return {
    settings: timerSettings(),
    run: null,
    anyone_controls: false,
    quiet_during_focus: false,
    focus_completed: 0,
    now: 1_795_000_000_000,
    ...extra,
  };
}

/**
 * Round 1's focus phase of 25 minutes, running, ending at `endsAt` (relay clock).
 * @param {number} endsAt
 * @param {Partial<TimerRun>} [extra]
 * @returns {TimerRun}
 */
export function timerRun(endsAt, extra = {}) {
  return {
    phase: 'focus',
    round: 1,
    phase_ms: 25 * 60_000,
    ends_at: endsAt,
    remaining_ms: 25 * 60_000,
    paused: false,
    ...extra,
  };
}

/**
 * What `joined` says of a whiteboard that has had no change yet: one empty page, only
 * hosts draw.
 * @param {Partial<BoardSummary>} [extra]
 * @returns {BoardSummary}
 */
export function boardSummary(extra = {}) {
  return {
    id: 'b0a4d1c9e2f37658',
    seq: 0,
    access: { everyone: false, drawers: [] },
    pages: [{ id: 'page-1', objects: 0 }],
    ...extra,
  };
}

/**
 * An open question with no votes, asked by Bob (not anonymously), as someone else sees it.
 * @param {string} id
 * @param {string} text
 * @param {Partial<Question>} [extra]
 * @returns {Question}
 */
export function question(id, text, extra = {}) {
  return {
    id,
    text,
    asked_at: 1_795_000_000_000,
    anonymous: false,
    by: 'bob-2',
    by_name: 'Bob',
    votes: 0,
    voted: false,
    mine: false,
    state: 'open',
    pinned: false,
    ...extra,
  };
}

/**
 * An open single-choice anonymous poll with three options, launched by Bob, nobody voted,
 * as a student sees it (no results).
 * @param {string} id
 * @param {Partial<Poll>} [extra]
 * @returns {Poll}
 */
export function poll(id, extra = {}) {
  return {
    id,
    question: 'Which proof do we do next?',
    options: ['Induction', 'Contradiction', 'Construction'],
    kind: 'single',
    anonymous: true,
    by: 'bob-2',
    opened_at: 1_795_000_000_000,
    closed_at: null,
    state: 'open',
    votes: 0,
    results: null,
    voters: null,
    your_choices: [],
    ...extra,
  };
}

/**
 * A draft as the app keeps it: two options, single choice, anonymous.
 * @param {string} question
 * @param {Partial<PollDraft>} [extra]
 * @returns {PollDraft}
 */
export function pollDraft(question, extra = {}) {
  return { question, options: ['Yes', 'No'], kind: 'single', anonymous: true, ...extra };
}

/**
 * A file Bob shared: a PDF of 2 483 110 bytes. `id` is used as given (the relay's are 32
 * hex digits).
 * @param {string} id
 * @param {string} name
 * @param {Partial<Material>} [extra]
 * @returns {Material}
 */
export function material(id, name, extra = {}) {
  return {
    id,
    name,
    size: 2_483_110,
    mime: 'application/pdf',
    sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    by: 'bob-2',
    by_name: 'Bob',
    at: 1_795_000_000_000,
    ...extra,
  };
}

/**
 * The chat's short form of a material.
 * @param {Material} m
 * @returns {Attachment}
 */
export function attachment(m) {
  return { id: m.id, name: m.name, size: m.size, mime: m.mime };
}

/**
 * A room's materials as the relay's defaults have them: no files, only the host and
 * presenters upload, 100 MiB a file, 1 GiB a room, 2 uploads at once.
 * @param {Partial<MaterialsState>} [extra]
 * @returns {MaterialsState}
 */
export function materialsState(extra = {}) {
  const items = extra.items ?? [];
  return {
    items,
    anyone_uploads: false,
    max_file_bytes: 104_857_600,
    quota_bytes: 1_073_741_824,
    used_bytes: items.reduce((n, m) => n + m.size, 0),
    uploads_at_once: 2,
    ...extra,
  };
}

/**
 * A transfer as `materialTransfer` tells of it: an upload under way, nothing sent yet.
 * @param {string} id
 * @param {string} name
 * @param {Partial<MaterialTransfer>} [extra]
 * @returns {MaterialTransfer}
 */
export function materialTransfer(id, name, extra = {}) {
  return {
    id,
    kind: 'upload',
    name,
    done: 0,
    total: 1000,
    state: 'running',
    error: null,
    material: null,
    path: null,
    ...extra,
  };
}

/**
 * A study room's lecture state, as a room has it until the host changes something: no
 * presenters, not locked, nobody let speak, no clock.
 * @param {Partial<LectureState>} [extra]
 * @returns {LectureState}
 */
export function lectureState(extra = {}) {
  return {
    presenters: [],
    mode: 'study',
    started_at: null,
    locked: false,
    everyone_speaks: false,
    speakers: [],
    ...extra,
  };
}

/**
 * What the room features hold: no hands raised, the timer stopped, an empty whiteboard,
 * a study room with no presenters, no questions, no polls, no files.
 * @param {Partial<FeatureSnapshot>} [extra]
 * @returns {FeatureSnapshot}
 */
export function features(extra = {}) {
  return {
    hands: [],
    timer: timerState(),
    board: boardSummary(),
    lecture: lectureState(),
    questions: [],
    polls: [],
    materials: materialsState(),
    ...extra,
  };
}

/**
 * A hosted room's invite, as `host_room` returns it.
 * @param {string} relay like `192.168.1.20:7450`
 * @param {string} code like `K7QX-29FD`
 * @param {Partial<Invite>} [extra]
 * @returns {Invite}
 */
export function invite(relay, code, extra = {}) {
  return {
    link: `studyhall://join?relay=${encodeURIComponent(relay)}&code=${code}`,
    code: `${code}@${relay}`,
    relay,
    room: 'r1',
    expiresAt: Date.now() + 3_600_000,
    ...extra,
  };
}

/**
 * The room as `join_room` returns it: Ada (you, the host) and Bob, no chat, no hands.
 * @param {Partial<RoomSnapshot>} [extra]
 * @returns {RoomSnapshot}
 */
export function snapshot(extra = {}) {
  return {
    room: 'r1',
    title: 'Finals week',
    you: participant('ada-1', 'Ada', { you: true, host: true }),
    participants: [participant('bob-2', 'Bob', { joinedAt: 2 })],
    chat: chatPage(),
    hosting: null,
    maxChatBytes: 40,
    features: features(),
    clockOffsetMs: null,
    ...extra,
  };
}

/**
 * One day of the study record.
 * @param {string} day `YYYY-MM-DD`
 * @param {number} seconds
 * @param {Partial<DayTotal>} [extra]
 * @returns {DayTotal}
 */
export function dayTotal(day, seconds, extra = {}) {
  return { day, seconds, focusPhases: 0, focusSeconds: 0, ...extra };
}

/**
 * One room's totals in the study record.
 * @param {string} room
 * @param {string} title
 * @param {number} seconds
 * @param {Partial<RoomTotal>} [extra]
 * @returns {RoomTotal}
 */
export function roomTotal(room, title, seconds, extra = {}) {
  return { room, title, seconds, focusPhases: 0, ...extra };
}

/**
 * The Study page's summary: today is 2026-12-05 (a Saturday), with time on it, the two
 * days before and a week earlier; two rooms; a 2-day streak; a two-hour goal.
 * @param {Partial<StudySummary>} [extra]
 * @returns {StudySummary}
 */
export function studySummary(extra = {}) {
  return {
    today: '2026-12-05',
    days: [
      dayTotal('2026-11-28', 3 * 3600, { focusPhases: 6, focusSeconds: 6 * 1500 }),
      dayTotal('2026-12-03', 40 * 60, { focusPhases: 1, focusSeconds: 1500 }),
      dayTotal('2026-12-04', 2 * 3600 + 10 * 60, { focusPhases: 4, focusSeconds: 4 * 1500 }),
      dayTotal('2026-12-05', 3600 + 25 * 60, { focusPhases: 2, focusSeconds: 2 * 1500 }),
    ],
    rooms: [
      roomTotal('room-1', 'Finals week', 5 * 3600 + 15 * 60, { focusPhases: 9 }),
      roomTotal('room-2', 'Algebra', 2 * 3600, { focusPhases: 4 }),
    ],
    todayRooms: [
      roomTotal('room-1', 'Finals week', 3600, { focusPhases: 2 }),
      roomTotal('room-2', 'Algebra', 25 * 60),
    ],
    streakDays: 2,
    bestStreakDays: 5,
    streakMinSeconds: 600,
    goalMinutes: 120,
    notice: null,
    ...extra,
  };
}

/**
 * A member of a group.
 * @param {string} identity
 * @param {string} name
 * @param {Partial<GroupMember>} [extra]
 * @returns {GroupMember}
 */
export function groupMember(identity, name, extra = {}) {
  return { identity, name, joined_at: 1_795_000_000_000, ...extra };
}

/**
 * A session of a group's schedule (or a personal block, `by` empty): Mondays 18:00 in
 * Berlin for an hour, from 7 December 2026.
 * @param {string} id
 * @param {string} title
 * @param {Partial<StudySession>} [extra]
 * @returns {StudySession}
 */
export function studySession(id, title, extra = {}) {
  return {
    id,
    by: 'ada-1',
    title,
    start: '2026-12-07T18:00',
    tz: 'Europe/Berlin',
    minutes: 60,
    rrule: 'FREQ=WEEKLY;BYDAY=MO',
    ...extra,
  };
}

/**
 * A group: Algebra, owned by Ada, with Bob and Cleo; no sessions.
 * @param {string} id
 * @param {string} name
 * @param {Partial<Group>} [extra]
 * @returns {Group}
 */
export function group(id, name, extra = {}) {
  return {
    id,
    name,
    room: `group-${id}`,
    owner: 'ada-1',
    members: [groupMember('ada-1', 'Ada'), groupMember('bob-2', 'Bob'), groupMember('cleo-3', 'Cleo')],
    sessions: [],
    invite: 'G-K7QX-29FD',
    created_at: 1_795_000_000_000,
    ...extra,
  };
}

/**
 * A member's presence: offline, unless `extra` says otherwise.
 * @param {string} identity
 * @param {Partial<MemberPresence>} [extra]
 * @returns {MemberPresence}
 */
export function memberPresence(identity, extra = {}) {
  return { identity, status: 'offline', room: null, focus: null, ...extra };
}

/**
 * A group's card: we are Ada (its owner), online; the others offline; connected.
 * @param {Group} g
 * @param {Partial<GroupCard>} [extra]
 * @returns {GroupCard}
 */
export function groupCard(g, extra = {}) {
  const relay = '192.168.1.20:7450';
  return {
    group: g,
    relay,
    you: 'ada-1',
    owner: g.owner === (extra.you ?? 'ada-1'),
    hostedHere: true,
    inviteLink: `studyhall://group?relay=${encodeURIComponent(relay)}&code=${g.invite}`,
    inviteCode: `${g.invite}@${relay}`,
    presence: g.members.map((m) => memberPresence(m.identity, { status: m.identity === (extra.you ?? 'ada-1') ? 'online' : 'offline' })),
    connected: true,
    problem: null,
    ...extra,
  };
}

/**
 * The groups as the app tells of them: none, no personal blocks, not hidden.
 * @param {Partial<GroupsChanged>} [extra]
 * @returns {GroupsChanged}
 */
export function groupsChanged(extra = {}) {
  return { groups: [], blocks: [], hidden: false, ...extra };
}

/**
 * One occurrence on the calendar.
 * @param {string} session
 * @param {string} title
 * @param {number} startMs
 * @param {Partial<Occurrence>} [extra]
 * @returns {Occurrence}
 */
export function occurrence(session, title, startMs, extra = {}) {
  return {
    session,
    title,
    start_ms: startMs,
    end_ms: startMs + 3_600_000,
    occurrence: new Date(startMs).toISOString().slice(0, 16),
    moved: false,
    ...extra,
  };
}

/**
 * An occurrence of a group's session (or, `group` null, of a personal block).
 * @param {string | null} group
 * @param {string | null} groupName
 * @param {Occurrence} o
 * @returns {CalendarEntry}
 */
export function calendarEntry(group, groupName, o) {
  return { group, groupName, occurrence: o };
}

/**
 * A reminder: a group's session starting in 4 minutes.
 * @param {Partial<SessionReminder>} [extra]
 * @returns {SessionReminder}
 */
export function sessionReminder(extra = {}) {
  return {
    group: 'g1',
    groupName: 'Algebra',
    session: 's1',
    title: 'Problem set',
    startMs: Date.now() + 4 * 60_000,
    minutes: 4,
    join: false,
    ...extra,
  };
}
