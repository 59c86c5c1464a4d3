/**
 * Helpers for component tests that mock the service module (vi.mock('../services/studyhall')).
 * Captures event handlers so a test can emit room-event / media-status / quit-requested.
 * The answers (settings, participants, snapshots, ...) come from ./fixtures.js, which the
 * browser tests' fake Tauri shell uses too.
 */
import { vi } from 'vitest';
import type * as Service from '../services/studyhall';
import type { FileDrop, InviteOpened, MaterialTransfer, MediaStatus, QuitRequested, RoomEvent } from '../services/types';
import { appInfo, devices, settings, studySummary } from './fixtures';

export {
  attachment,
  boardSummary,
  chatMessage,
  chatPage,
  dayTotal,
  features,
  invite,
  lectureState,
  material,
  materialsState,
  materialTransfer,
  media,
  participant,
  poll,
  pollDraft,
  question,
  raisedHand,
  roomTotal,
  settings,
  snapshot,
  studySummary,
  timerRun,
  timerSettings,
  timerState,
} from './fixtures';

/** Where the mocked `exportStudyCsv` says it wrote the file. */
export const EXPORT_PATH = '/home/ada/Downloads/studyhall-study-2026-12-05.csv';

export type Handlers = {
  room: ((e: RoomEvent) => void)[];
  media: ((s: MediaStatus) => void)[];
  quit: ((q: QuitRequested) => void)[];
  invite: ((i: InviteOpened) => void)[];
  transfer: ((t: MaterialTransfer) => void)[];
  drop: ((d: FileDrop) => void)[];
};

export const handlers: Handlers = { room: [], media: [], quit: [], invite: [], transfer: [], drop: [] };

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
    hostRoom: vi.fn(),
    stopHosting: vi.fn(() => Promise.resolve(null)),
    parseInvite: vi.fn(),
    takeLaunchInvite: vi.fn(() => Promise.resolve(null)),
    joinRoom: vi.fn(),
    leaveRoom: vi.fn(() => Promise.resolve(null)),
    setMedia: vi.fn(),
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
    onRoomEvent: vi.fn(subscribe(handlers.room)),
    onMediaStatus: vi.fn(subscribe(handlers.media)),
    onQuitRequested: vi.fn(subscribe(handlers.quit)),
    onInviteOpened: vi.fn(subscribe(handlers.invite)),
    onMaterialTransfer: vi.fn(subscribe(handlers.transfer)),
    onFileDrop: vi.fn(subscribe(handlers.drop)),
  };
}

export function resetHandlers() {
  handlers.room.length = 0;
  handlers.media.length = 0;
  handlers.quit.length = 0;
  handlers.invite.length = 0;
  handlers.transfer.length = 0;
  handlers.drop.length = 0;
}
