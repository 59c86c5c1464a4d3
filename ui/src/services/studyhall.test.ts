import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  addSession,
  AppError,
  calendar,
  changeSession,
  createGroup,
  DesktopAppUnavailableError,
  describeError,
  dismissStudyNotice,
  exportStudyCsv,
  featureRequest,
  exportCalendar,
  getAppInfo,
  groupsView,
  importCalendar,
  isAppError,
  joinGroup,
  joinRoom,
  leaveGroup,
  newGroupInvite,
  onGroupsChanged,
  onRoomEvent,
  onSessionReminder,
  openGroupRoom,
  parseGroupInvite,
  pollDrafts,
  saveExport,
  savePollDrafts,
  removeGroupMember,
  sendChat,
  setAppearOffline,
  setMedia,
  setStudyGoal,
  setView,
  studySummary,
} from './studyhall';
import type { GroupsChanged, RoomEvent, SessionReminder } from './types';

afterEach(clearMocks);

describe('commands', () => {
  it('calls app_info inside the desktop app', async () => {
    vi.stubGlobal('isTauri', true);
    const info = { name: 'Studyhall', version: '0.1.0', protocolVersion: 1 };
    const commands: string[] = [];
    mockIPC((cmd) => {
      commands.push(cmd);
      return info;
    });
    await expect(getAppInfo()).resolves.toEqual(info);
    expect(commands).toEqual(['app_info']);
  });

  it('passes the contract argument names', async () => {
    vi.stubGlobal('isTauri', true);
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return null;
    });
    await sendChat('id-1', 'hi');
    await setMedia({ mic: false, camera: null, screen: null });
    await setView([{ identity: 'bob-2', video: 'camera', width: 640, height: 360 }]);
    await joinRoom('K7QX-29FD@192.168.1.20:7450');
    expect(calls).toEqual([
      ['send_chat', { clientMsgId: 'id-1', text: 'hi' }],
      ['set_media', { update: { mic: false, camera: null, screen: null } }],
      ['set_view', { tiles: [{ identity: 'bob-2', video: 'camera', width: 640, height: 360 }] }],
      ['join_room', { invite: 'K7QX-29FD@192.168.1.20:7450', media: { mic: true, camera: true } }],
    ]);
  });

  it("calls the study record's commands by their contract names", async () => {
    vi.stubGlobal('isTauri', true);
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'export_study_csv') return '/home/ada/Downloads/studyhall-study-2026-12-05.csv';
      if (cmd === 'dismiss_study_notice') return null;
      return { today: '2026-12-05', goalMinutes: 90 };
    });
    await studySummary();
    await expect(setStudyGoal(90)).resolves.toMatchObject({ goalMinutes: 90 });
    await dismissStudyNotice();
    await expect(exportStudyCsv()).resolves.toBe('/home/ada/Downloads/studyhall-study-2026-12-05.csv');
    expect(calls).toEqual([
      ['study_summary', {}],
      ['set_study_goal', { minutes: 90 }],
      ['dismiss_study_notice', {}],
      ['export_study_csv', {}],
    ]);
  });

  it('saves an export by its contract name and arguments, resolving with the path', async () => {
    vi.stubGlobal('isTauri', true);
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return '/home/ada/Downloads/Finals week board (2).pdf';
    });
    await expect(saveExport('Finals week board.pdf', 'JVBERi0=')).resolves.toBe('/home/ada/Downloads/Finals week board (2).pdf');
    expect(calls).toEqual([['save_export', { name: 'Finals week board.pdf', dataBase64: 'JVBERi0=' }]]);
  });

  it('reads and keeps poll drafts by their contract names; a refused draft is an invalidInput AppError', async () => {
    vi.stubGlobal('isTauri', true);
    const draft = { question: 'Ready?', options: ['Yes', 'No'], kind: 'single' as const, anonymous: true };
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'poll_drafts') return [draft];
      if ((args as { drafts: unknown[] }).drafts.length > 1) {
        // What Tauri rejects with: the serialized Rust error.
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { kind: 'invalidInput', message: 'Draft 2: options: a poll has 2 to 10 options (got 1)' };
      }
      return null;
    });
    await expect(pollDrafts()).resolves.toEqual([draft]);
    await expect(savePollDrafts([draft])).resolves.toBeNull();
    const refused = await savePollDrafts([draft, { ...draft, options: ['Yes'] }]).catch((e: unknown) => e);
    expect(isAppError(refused, 'invalidInput')).toBe(true);
    expect(describeError(refused)).toBe('Draft 2: options: a poll has 2 to 10 options (got 1)');
    expect(calls.map(([cmd]) => cmd)).toEqual(['poll_drafts', 'save_poll_drafts', 'save_poll_drafts']);
    expect(calls[1]).toEqual(['save_poll_drafts', { drafts: [draft] }]);
  });

  it('sends a whiteboard request as the protocol writes it', async () => {
    vi.stubGlobal('isTauri', true);
    const calls: unknown[] = [];
    mockIPC((_cmd, args) => {
      calls.push(args);
      return null;
    });
    await featureRequest({ type: 'board_sync', board: 'b1', since: 4 });
    await featureRequest({ type: 'board_erase', page: 'page-1', ids: ['q7x2:1'] });
    expect(calls).toEqual([
      { request: { type: 'board_sync', board: 'b1', since: 4 } },
      { request: { type: 'board_erase', page: 'page-1', ids: ['q7x2:1'] } },
    ]);
  });

  it('sends a timer request as the protocol writes it (snake_case settings)', async () => {
    vi.stubGlobal('isTauri', true);
    const calls: unknown[] = [];
    mockIPC((_cmd, args) => {
      calls.push(args);
      return null;
    });
    const settings = { focus_secs: 3000, short_break_secs: 600, long_break_secs: 1800, rounds: 3 };
    await featureRequest({ type: 'timer_start', settings });
    await featureRequest({ type: 'timer_options', quiet_during_focus: true });
    expect(calls).toEqual([
      { request: { type: 'timer_start', settings } },
      { request: { type: 'timer_options', quiet_during_focus: true } },
    ]);
  });

  it('rejects with an AppError carrying the kind', async () => {
    vi.stubGlobal('isTauri', true);
    mockIPC(() => {
      // What Tauri rejects with: the serialized Rust error, not an Error.
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw { kind: 'relayUnreachable', message: 'no route to 10.0.0.2:7450' };
    });
    const error = await joinRoom('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(isAppError(error, 'relayUnreachable')).toBe(true);
    expect(isAppError(error, 'roomFull')).toBe(false);
    expect((error as AppError).message).toBe('no route to 10.0.0.2:7450');
  });

  it("sends a room feature's request as it is, and its refusal as an AppError", async () => {
    vi.stubGlobal('isTauri', true);
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (calls.length === 2) {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { kind: 'refused', message: 'Only a host can lower hands.' };
      }
      return null;
    });
    await expect(featureRequest({ type: 'raise_hand' })).resolves.toBeNull();
    const error = await featureRequest({ type: 'lower_hand_of', identity: 'bob-2' }).catch((e: unknown) => e);
    expect(isAppError(error, 'refused')).toBe(true);
    expect((error as AppError).message).toBe('Only a host can lower hands.');
    expect(calls).toEqual([
      ['feature_request', { request: { type: 'raise_hand' } }],
      ['feature_request', { request: { type: 'lower_hand_of', identity: 'bob-2' } }],
    ]);
  });

  it('wraps anything else as an internal AppError', async () => {
    vi.stubGlobal('isTauri', true);
    mockIPC(() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw 'boom';
    });
    const error = await joinRoom('x').catch((e: unknown) => e);
    expect(isAppError(error, 'internal')).toBe(true);
    expect((error as AppError).message).toBe('boom');
  });

  it('rejects with DesktopAppUnavailableError in a plain browser', async () => {
    await expect(getAppInfo()).rejects.toBeInstanceOf(DesktopAppUnavailableError);
  });
});

describe('study groups', () => {
  it('calls the group commands by their contract names and arguments', async () => {
    vi.stubGlobal('isTauri', true);
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return null;
    });
    const draft = { title: 'Problem set', start: '2026-12-07T18:00', tz: 'Europe/Berlin', minutes: 60, rrule: 'FREQ=WEEKLY;BYDAY=MO' };
    await groupsView();
    await createGroup('Algebra', null);
    await parseGroupInvite('G-K7QX-29FD@192.168.1.20:7450');
    await joinGroup('G-K7QX-29FD@192.168.1.20:7450');
    await leaveGroup('g1');
    await removeGroupMember('g1', 'bob-2');
    await newGroupInvite('g1');
    await addSession(null, draft);
    await changeSession('g1', 's1', null);
    await calendar(1, 2);
    await setAppearOffline(true);
    await openGroupRoom('g1');
    await exportCalendar();
    await importCalendar('g1', 'Europe/Berlin');
    expect(calls).toEqual([
      ['groups_view', {}],
      ['create_group', { name: 'Algebra', relay: null }],
      ['parse_group_invite', { text: 'G-K7QX-29FD@192.168.1.20:7450' }],
      ['join_group', { invite: 'G-K7QX-29FD@192.168.1.20:7450' }],
      ['leave_group', { group: 'g1' }],
      ['remove_group_member', { group: 'g1', identity: 'bob-2' }],
      ['new_group_invite', { group: 'g1' }],
      ['add_session', { group: null, draft }],
      ['change_session', { group: 'g1', session: 's1', draft: null }],
      ['calendar', { fromMs: 1, toMs: 2 }],
      ['set_appear_offline', { hidden: true }],
      ['open_group_room', { group: 'g1', media: { mic: true, camera: true } }],
      ['export_calendar', {}],
      ['import_calendar', { group: 'g1', tz: 'Europe/Berlin' }],
    ]);
  });

  it("rejects with the app's error, kind and message", async () => {
    vi.stubGlobal('isTauri', true);
    mockIPC(() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw { kind: 'inviteInvalid', message: 'That is not a group invite.' };
    });
    const error = await parseGroupInvite('nonsense').catch((e: unknown) => e);
    expect(isAppError(error, 'inviteInvalid')).toBe(true);
    expect((error as AppError).message).toBe('That is not a group invite.');
  });

  it('delivers groups-changed and session-reminder', async () => {
    vi.stubGlobal('isTauri', true);
    mockIPC(() => null, { shouldMockEvents: true });
    const views: GroupsChanged[] = [];
    const reminders: SessionReminder[] = [];
    const stops = [onGroupsChanged((v) => views.push(v)), onSessionReminder((r) => reminders.push(r))];
    const view = { groups: [], blocks: [], hidden: true };
    const reminder = { group: 'g1', groupName: 'Algebra', session: 's1', title: 'x', startMs: 1, minutes: 4, join: false };
    await vi.waitFor(async () => {
      const { emit } = await import('@tauri-apps/api/event');
      await emit('groups-changed', view);
      await emit('session-reminder', reminder);
      expect(views.at(-1)).toEqual(view);
      expect(reminders.at(-1)).toEqual(reminder);
    });
    stops.forEach((stop) => stop());
  });
});

describe('events', () => {
  it('delivers room-event payloads until unlistened', async () => {
    vi.stubGlobal('isTauri', true);
    mockIPC(() => null, { shouldMockEvents: true });
    const seen: RoomEvent[] = [];
    const stop = onRoomEvent((e) => seen.push(e));
    await vi.waitFor(async () => {
      const { emit } = await import('@tauri-apps/api/event');
      await emit('room-event', { type: 'notice', message: 'hello' });
      expect(seen).toEqual([{ type: 'notice', message: 'hello' }]);
    });
    stop();
    const { emit } = await import('@tauri-apps/api/event');
    await emit('room-event', { type: 'notice', message: 'again' });
    expect(seen).toHaveLength(1);
  });
});

describe('describeError', () => {
  it('reads errors, strings and serialized Rust errors', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('denied')).toBe('denied');
    expect(describeError({ kind: 'timeout', message: 'too slow' })).toBe('too slow');
    expect(describeError({ kind: 'not_found' })).toBe('{"kind":"not_found"}');
  });
});
