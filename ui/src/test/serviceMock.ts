/**
 * Helpers for component tests that mock the service module (vi.mock('../services/studyhall')).
 * Captures event handlers so a test can emit room-event / media-status / quit-requested.
 * The answers (settings, participants, snapshots, ...) come from ./fixtures.js, which the
 * browser tests' fake Tauri shell uses too.
 */
import { vi } from 'vitest';
import type * as Service from '../services/studyhall';
import type {
  FileDrop,
  GroupsChanged,
  InviteOpened,
  MaterialTransfer,
  MediaStatus,
  QuitRequested,
  RoomEvent,
  SessionReminder,
} from '../services/types';
import { appInfo, devices, groupsChanged, settings, snapshot, studySummary } from './fixtures';

export {
  attachment,
  boardSummary,
  calendarEntry,
  chatMessage,
  chatPage,
  dayTotal,
  devices,
  features,
  group,
  groupCard,
  groupMember,
  groupsChanged,
  invite,
  lectureState,
  link,
  material,
  materialsState,
  materialTransfer,
  media,
  mediaStatus,
  memberPresence,
  occurrence,
  participant,
  poll,
  pollDraft,
  question,
  raisedHand,
  roomTotal,
  sessionReminder,
  settings,
  snapshot,
  studySession,
  studySummary,
  timerRun,
  timerSettings,
  timerState,
} from './fixtures';

/** Where the mocked `exportStudyCsv` says it wrote the file. */
export const EXPORT_PATH = '/home/ada/Downloads/studyhall-study-2026-12-05.csv';
/** Where the mocked `exportCalendar` says it wrote the file. */
export const CALENDAR_PATH = '/home/ada/Downloads/studyhall-calendar.ics';

export type Handlers = {
  room: ((e: RoomEvent) => void)[];
  media: ((s: MediaStatus) => void)[];
  quit: ((q: QuitRequested) => void)[];
  invite: ((i: InviteOpened) => void)[];
  transfer: ((t: MaterialTransfer) => void)[];
  drop: ((d: FileDrop) => void)[];
  groups: ((g: GroupsChanged) => void)[];
  reminder: ((r: SessionReminder) => void)[];
};

export const handlers: Handlers = {
  room: [],
  media: [],
  quit: [],
  invite: [],
  transfer: [],
  drop: [],
  groups: [],
  reminder: [],
};

/** The mocked module's factory body: real AppError & helpers, vi.fn() commands. */
export async function mockService(importOriginal: () => Promise<typeof Service>) {
  const actual = await importOriginal();
  const subscribe =
    <T,>(list: ((x: T) => void)[]) =>
    (handler: (x: T) => void) => {
      list.push(handler);
      return () => {
        const i = list.indexOf(handler);
        if (i >= 0) list.splice(i, 1);
      };
    };
  return {
    ...actual,
    getAppInfo: vi.fn(() => Promise.resolve(appInfo())),
    getSettings: vi.fn(() => Promise.resolve(settings())),
    saveProfile: vi.fn((p: Service.Profile) => Promise.resolve({ ...settings(), ...p })),
    listDevices: vi.fn(() => Promise.resolve(devices())),
    mediaEndpoint: vi.fn(() => new Promise<string>(() => {})),
    startPreview: vi.fn(() => Promise.resolve(null)),
    stopPreview: vi.fn(() => Promise.resolve(null)),
    setNoiseSuppression: vi.fn(() => Promise.resolve(null)),
    hostRoom: vi.fn(),
    stopHosting: vi.fn(() => Promise.resolve(null)),
    hostUpload: vi.fn(() => Promise.resolve(null as Service.HostUpload | null)),
    parseInvite: vi.fn(),
    takeLaunchInvite: vi.fn(() => Promise.resolve(null)),
    joinRoom: vi.fn(),
    leaveRoom: vi.fn(() => Promise.resolve(null)),
    setMedia: vi.fn(),
    setView: vi.fn(() => Promise.resolve(null)),
    sendChat: vi.fn(),
    loadOlderChat: vi.fn(),
    deleteChat: vi.fn(() => Promise.resolve(null)),
    kick: vi.fn(() => Promise.resolve(null)),
    featureRequest: vi.fn(() => Promise.resolve(null)),
    saveExport: vi.fn((name: string) => Promise.resolve(`/home/ada/Downloads/${name}`)),
    pollDrafts: vi.fn(() => Promise.resolve([] as Service.PollDraft[])),
    savePollDrafts: vi.fn(() => Promise.resolve(null)),
    pickMaterialFile: vi.fn(() => Promise.resolve(null as string | null)),
    uploadMaterial: vi.fn((path: string) => Promise.resolve(`t-${path}`)),
    downloadMaterial: vi.fn(() => Promise.resolve(null as string | null)),
    cancelTransfer: vi.fn(() => Promise.resolve(true)),
    materialPreview: vi.fn(() => Promise.resolve(null as string | null)),
    quitApp: vi.fn(() => Promise.resolve(null)),
    studySummary: vi.fn(() => Promise.resolve(studySummary())),
    setStudyGoal: vi.fn((minutes: number) => Promise.resolve(studySummary({ goalMinutes: minutes }))),
    dismissStudyNotice: vi.fn(() => Promise.resolve()),
    exportStudyCsv: vi.fn(() => Promise.resolve(EXPORT_PATH)),
    groupsView: vi.fn(() => Promise.resolve(groupsChanged())),
    createGroup: vi.fn(),
    parseGroupInvite: vi.fn((text: string) => Promise.resolve(text.trim().split('@')[0]!.toUpperCase())),
    joinGroup: vi.fn(),
    leaveGroup: vi.fn(() => Promise.resolve(null)),
    removeGroupMember: vi.fn(() => Promise.resolve(null)),
    newGroupInvite: vi.fn(),
    addSession: vi.fn((_group: string | null, draft: Service.SessionDraft) =>
      Promise.resolve({ id: 'new-1', by: 'ada-1', ...draft }),
    ),
    changeSession: vi.fn(() => Promise.resolve(null)),
    calendar: vi.fn(() => Promise.resolve([] as Service.CalendarEntry[])),
    setAppearOffline: vi.fn(() => Promise.resolve(null)),
    openGroupRoom: vi.fn(() => Promise.resolve(snapshot())),
    exportCalendar: vi.fn(() => Promise.resolve(CALENDAR_PATH as string | null)),
    importCalendar: vi.fn(() => Promise.resolve(null as Service.ImportReport | null)),
    onRoomEvent: vi.fn(subscribe(handlers.room)),
    onMediaStatus: vi.fn(subscribe(handlers.media)),
    onQuitRequested: vi.fn(subscribe(handlers.quit)),
    onInviteOpened: vi.fn(subscribe(handlers.invite)),
    onMaterialTransfer: vi.fn(subscribe(handlers.transfer)),
    onFileDrop: vi.fn(subscribe(handlers.drop)),
    onGroupsChanged: vi.fn(subscribe(handlers.groups)),
    onSessionReminder: vi.fn(subscribe(handlers.reminder)),
  };
}

export function resetHandlers() {
  handlers.room.length = 0;
  handlers.media.length = 0;
  handlers.quit.length = 0;
  handlers.invite.length = 0;
  handlers.transfer.length = 0;
  handlers.drop.length = 0;
  handlers.groups.length = 0;
  handlers.reminder.length = 0;
}
