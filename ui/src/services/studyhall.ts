/**
 * The one module that talks to the Tauri shell (docs/app-ipc.md). Components import from
 * here and never from `@tauri-apps/*`, so the UI also runs in a plain browser (or a test)
 * with this module mocked.
 *
 * Every command is a thin typed wrapper around `call`, and every event a thin wrapper
 * around `subscribe`, so switching the internals to the generated bindings
 * (`ui/src/bindings.ts`) touches only this file.
 */
import { isTauri } from '@tauri-apps/api/core';
import { getCurrentWebview, type DragDropEvent } from '@tauri-apps/api/webview';
import { commands, events } from '../bindings';
import type {
  AppErrorKind,
  AppErrorPayload,
  AppInfo,
  AudioDevice,
  CalendarEntry,
  ChatMessage,
  ChatPage,
  DeviceList,
  FeatureRequest,
  FileDrop,
  GroupCard,
  GroupsChanged,
  HostUpload,
  ImportReport,
  Invite,
  InviteOpened,
  InviteTarget,
  JoinMedia,
  Material,
  MaterialTransfer,
  MediaState,
  MediaStatus,
  MediaUpdate,
  PollDraft,
  Profile,
  QuitRequested,
  RoomEvent,
  RoomSnapshot,
  SessionDraft,
  SessionReminder,
  Settings,
  StudySession,
  StudySummary,
  TransferKind,
  VideoDevice,
  ViewTile,
} from './types';

export type * from './types';

const APP_ERROR_KINDS: readonly AppErrorKind[] = [
  'relayUnreachable',
  'inviteInvalid',
  'inviteNotFound',
  'tokenExpired',
  'roomFull',
  'roomLocked',
  'kicked',
  'notInRoom',
  'alreadyInRoom',
  'deviceUnavailable',
  'hostingFailed',
  'invalidInput',
  'rateLimited',
  'timeout',
  'refused',
  'storage',
  'internal',
];

/** A failed command: `kind` to branch on, `message` to show. */
export class AppError extends Error {
  readonly kind: AppErrorKind;

  constructor(kind: AppErrorKind, message: string) {
    super(message);
    this.name = 'AppError';
    this.kind = kind;
  }

  /** Any rejection value as an AppError (a serialized Rust AppError keeps its kind). */
  static from(error: unknown): AppError {
    if (error instanceof AppError) return error;
    if (isAppErrorPayload(error)) return new AppError(error.kind, error.message);
    return new AppError('internal', describeError(error));
  }
}

/** Thrown when the UI is not running inside the Studyhall app (e.g. a plain browser tab). */
export class DesktopAppUnavailableError extends AppError {
  constructor() {
    super('internal', 'Not running inside the Studyhall desktop app.');
    this.name = 'DesktopAppUnavailableError';
  }
}

/** Whether a value is the `{kind, message}` a command rejects with. */
export function isAppErrorPayload(value: unknown): value is AppErrorPayload {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, message } = value as Record<string, unknown>;
  return (
    typeof kind === 'string' &&
    (APP_ERROR_KINDS as readonly string[]).includes(kind) &&
    typeof message === 'string'
  );
}

/** Whether `error` is an AppError, optionally of one of `kinds`. */
export function isAppError(error: unknown, ...kinds: AppErrorKind[]): error is AppError {
  return error instanceof AppError && (kinds.length === 0 || kinds.includes(error.kind));
}

/**
 * A readable message for anything a command rejected with: Tauri rejects with whatever the
 * Rust error serialized to, which need not be an `Error`.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  if (isAppErrorPayload(error)) return error.message;
  return JSON.stringify(error) ?? String(error);
}

/** Whether the Tauri shell is there to answer. */
export function isDesktopApp(): boolean {
  return isTauri();
}

type Outcome<T> = { status: 'ok'; data: T } | { status: 'error'; error: AppErrorPayload };

/** Runs a fallible command from the generated bindings; its error becomes an AppError. */
async function call<T>(command: () => Promise<Outcome<T>>): Promise<T> {
  if (!isTauri()) throw new DesktopAppUnavailableError();
  let outcome: Outcome<T>;
  try {
    outcome = await command();
  } catch (error) {
    throw AppError.from(error);
  }
  if (outcome.status === 'error') throw AppError.from(outcome.error);
  return outcome.data;
}

/** Runs a command that cannot fail on the Rust side. */
async function ask<T>(command: () => Promise<T>): Promise<T> {
  if (!isTauri()) throw new DesktopAppUnavailableError();
  try {
    return await command();
  } catch (error) {
    throw AppError.from(error);
  }
}

/** Stops listening. */
export type Unlisten = () => void;

type Listenable<T> = { listen: (cb: (event: { payload: T }) => void) => Promise<() => void> };

function subscribe<T>(name: string, event: Listenable<T>, handler: (payload: T) => void): Unlisten {
  if (!isTauri()) return () => {};
  let stopped = false;
  let unlisten: (() => void) | null = null;
  event
    .listen((e) => {
      if (!stopped) handler(e.payload);
    })
    .then(
      (fn) => {
        if (stopped) fn();
        else unlisten = fn;
      },
      (error: unknown) => console.error(`listening to ${name} failed`, error),
    );
  return () => {
    stopped = true;
    unlisten?.();
  };
}

// Commands, in docs/app-ipc.md's order.

export const getAppInfo = (): Promise<AppInfo> => ask(() => commands.appInfo());
export const getSettings = (): Promise<Settings> => call(() => commands.getSettings());
export const saveProfile = (profile: Profile): Promise<Settings> =>
  call(() => commands.saveProfile(profile));
export const listDevices = (): Promise<DeviceList> => call(() => commands.listDevices());
export const mediaEndpoint = (): Promise<string> => ask(() => commands.mediaEndpoint());
export const startPreview = (camera: VideoDevice, microphone: AudioDevice): Promise<null> =>
  call(() => commands.startPreview(camera, microphone));
export const stopPreview = (): Promise<null> => call(() => commands.stopPreview());
/**
 * Noise suppression on a real microphone on or off, at once (the device check's and the
 * room's) and kept in the saved profile. It is switched before the profile is written, so
 * a `storage` failure means it is in effect but not kept.
 */
export const setNoiseSuppression = (on: boolean): Promise<null> => call(() => commands.setNoiseSuppression(on));
export const hostRoom = (title: string): Promise<Invite> => call(() => commands.hostRoom(title));
export const stopHosting = (): Promise<null> => call(() => commands.stopHosting());
/** What the room hosted on this machine uploads now, and its budget; null when it hosts nothing. */
export const hostUpload = (): Promise<HostUpload | null> => call(() => commands.hostUpload());
export const parseInvite = (text: string): Promise<InviteTarget> =>
  call(() => commands.parseInvite(text));
/** The `studyhall://` link the app was opened with, once (later calls: null). */
export const takeLaunchInvite = (): Promise<string | null> => ask(() => commands.takeLaunchInvite());
/** How a room is entered unless the user chose otherwise: microphone and camera on. */
export const DEFAULT_JOIN_MEDIA: JoinMedia = { mic: true, camera: true };
/** Join with the microphone and camera on, unless `media` says otherwise. */
export const joinRoom = (invite: string, media: JoinMedia = DEFAULT_JOIN_MEDIA): Promise<RoomSnapshot> =>
  call(() => commands.joinRoom(invite, media));
export const leaveRoom = (): Promise<null> => call(() => commands.leaveRoom());
export const setMedia = (update: MediaUpdate): Promise<MediaState> =>
  call(() => commands.setMedia(update));
/**
 * The other participants' video tiles on screen now, with their sizes in device pixels:
 * the relay sends only their video (the rest is paused until shown again; audio always
 * comes). The room screen sends it when its layout settles; `[]` while the window is hidden.
 */
export const setView = (tiles: ViewTile[]): Promise<null> => call(() => commands.setView(tiles));
export const sendChat = (clientMsgId: string, text: string): Promise<ChatMessage> =>
  call(() => commands.sendChat(clientMsgId, text));
export const loadOlderChat = (beforeSeq: number): Promise<ChatPage> =>
  call(() => commands.loadOlderChat(beforeSeq));
export const deleteChat = (seq: number): Promise<null> => call(() => commands.deleteChat(seq));
export const kick = (identity: string): Promise<null> => call(() => commands.kick(identity));
/** A room feature's request (raise a hand, set presence, ...); resolves once the relay acknowledged it. */
export const featureRequest = (request: FeatureRequest): Promise<null> =>
  call(() => commands.featureRequest(request));
/**
 * Saves an export the UI made (a whiteboard page as PNG, the board as PDF, a poll's
 * results as CSV) into Downloads as `name` (made safe; never overwriting:
 * `name (2).png`, ...); resolves with the path. The extension must be png, pdf, svg,
 * json, zip or csv.
 */
export const saveExport = (name: string, dataBase64: string): Promise<string> =>
  call(() => commands.saveExport(name, dataBase64));
/** The poll drafts this app keeps (on this machine), in the order they were saved. */
export const pollDrafts = (): Promise<PollDraft[]> => call(() => commands.pollDrafts());
/**
 * Keeps `drafts` (all of them, in order) in place of the drafts kept. At most 50, each
 * checked as the relay checks a launch: `invalidInput` ("Draft N: …") or `storage`.
 * (The UI sends them trimmed already.)
 */
export const savePollDrafts = (drafts: PollDraft[]): Promise<null> => call(() => commands.savePollDrafts(drafts));
/** Asks the user for a file to share (a native dialog); null when they cancel. */
export const pickMaterialFile = (): Promise<string | null> => call(() => commands.pickMaterialFile());
/**
 * Uploads the file at `path` and shares it with the room; resolves at once with the
 * transfer's id (`onMaterialTransfer` tells how it goes; a refusal names the relay's limit).
 */
export const uploadMaterial = (path: string): Promise<string> => call(() => commands.uploadMaterial(path));
/**
 * Downloads `material` into `directory`, or (null) where the user picks in a save dialog;
 * resolves with the transfer's id, or null when the user cancelled the dialog.
 */
export const downloadMaterial = (material: Material, directory: string | null = null): Promise<string | null> =>
  call(() => commands.downloadMaterial(material, directory));
/** Stops a transfer; false when it had ended already. */
export const cancelTransfer = (id: string, kind: TransferKind, name: string): Promise<boolean> =>
  ask(() => commands.cancelTransfer(id, kind, name));
/** A picture or PDF as a `data:` URL to preview (null for other types and files over 8 MiB). */
export const materialPreview = (material: Material): Promise<string | null> =>
  call(() => commands.materialPreview(material));
export const quitApp = (): Promise<null> => call(() => commands.quitApp());
/** The study record's totals, streaks and daily goal (all local to this machine). */
export const studySummary = (): Promise<StudySummary> => call(() => commands.studySummary());
/** Sets the daily goal (5 to 960 minutes); resolves with the summary under the new goal. */
export const setStudyGoal = (minutes: number): Promise<StudySummary> =>
  call(() => commands.setStudyGoal(minutes));
/** The user has read the notice that the study record was started afresh. */
export const dismissStudyNotice = (): Promise<void> => ask(() => commands.dismissStudyNotice());
/** Writes the study record as CSV (into Downloads); resolves with the file's path. */
export const exportStudyCsv = (): Promise<string> => call(() => commands.exportStudyCsv());

// Study groups (issue #16). Answers and events carrying timestamps are read as the UI's
// types, whose timestamps are plain numbers (`Stamped` in ./types.ts says why).

/** Every group (as a card), the personal study blocks, and whether we appear offline. */
export const groupsView = (): Promise<GroupsChanged> => call(() => commands.groupsView() as Promise<Outcome<GroupsChanged>>);
/**
 * Creates a group: on this computer (`relay` null: the app starts its group relay), or on
 * the relay at `relay` (`host:port`, a school's server).
 */
export const createGroup = (name: string, relay: string | null): Promise<GroupCard> =>
  call(() => commands.createGroup(name, relay) as Promise<Outcome<GroupCard>>);
/** Checks a group invite without joining: the normalized short code (`inviteInvalid` says why not). */
export const parseGroupInvite = (text: string): Promise<string> => call(() => commands.parseGroupInvite(text));
/** Joins by a `studyhall://group?…` link or a `G-XXXX-XXXX@host:port` code. */
export const joinGroup = (invite: string): Promise<GroupCard> => call(() => commands.joinGroup(invite) as Promise<Outcome<GroupCard>>);
/** Leaves a group; for its owner this deletes the group. */
export const leaveGroup = (group: string): Promise<null> => call(() => commands.leaveGroup(group));
/** The owner removes a member. */
export const removeGroupMember = (group: string, identity: string): Promise<null> =>
  call(() => commands.removeGroupMember(group, identity));
/** The owner makes a new invite; the old one stops working. */
export const newGroupInvite = (group: string): Promise<GroupCard> => call(() => commands.newGroupInvite(group) as Promise<Outcome<GroupCard>>);
/** Adds a session to `group`'s schedule, or (`group` null) a personal study block. */
export const addSession = (group: string | null, draft: SessionDraft): Promise<StudySession> =>
  call(() => commands.addSession(group, draft));
/**
 * Replaces a session with `draft`, or removes it (`draft` null). One occurrence of a
 * recurring session is cancelled or moved by sending the draft with `changes` extended.
 */
export const changeSession = (group: string | null, session: string, draft: SessionDraft | null): Promise<null> =>
  call(() => commands.changeSession(group, session, draft));
/** Every occurrence of every session and block in `[fromMs, toMs)` (at most 400 days). */
export const calendar = (fromMs: number, toMs: number): Promise<CalendarEntry[]> =>
  call(() => commands.calendar(fromMs, toMs) as Promise<Outcome<CalendarEntry[]>>);
/** Appear offline to every group (or not). */
export const setAppearOffline = (hidden: boolean): Promise<null> => call(() => commands.setAppearOffline(hidden));
/** Enters the group's standing room (the room screen follows, as after `joinRoom`). */
export const openGroupRoom = (group: string, media: JoinMedia = DEFAULT_JOIN_MEDIA): Promise<RoomSnapshot> =>
  call(() => commands.openGroupRoom(group, media));
/** Writes every session and block as an `.ics` file where the user picks: its path, or null (cancelled). */
export const exportCalendar = (): Promise<string | null> => call(() => commands.exportCalendar());
/**
 * Asks for an `.ics` file and adds its events to `group`'s schedule, or as personal blocks
 * (`group` null); floating times are read in `tz`. Null when the user cancelled.
 */
export const importCalendar = (group: string | null, tz: string): Promise<ImportReport | null> =>
  call(() => commands.importCalendar(group, tz));

// Events. Each returns a function that stops listening (safe to call at once, as React
// effect cleanups do).

export const onRoomEvent = (handler: (event: RoomEvent) => void): Unlisten =>
  subscribe('room-event', events.roomEvent, handler);
export const onMediaStatus = (handler: (status: MediaStatus) => void): Unlisten =>
  subscribe('media-status', events.mediaStatus, handler);
export const onQuitRequested = (handler: (request: QuitRequested) => void): Unlisten =>
  subscribe('quit-requested', events.quitRequested, handler);
/** A file transfer's progress, and its end (`state` other than `running`). */
export const onMaterialTransfer = (handler: (transfer: MaterialTransfer) => void): Unlisten =>
  subscribe('material-transfer', events.materialTransfer, handler);
/**
 * Files dragged over the window and dropped (the webview's drag and drop, which gives the
 * files' paths; the page's own drag events carry none in the app).
 */
export const onFileDrop = (handler: (drop: FileDrop) => void): Unlisten =>
  subscribe<DragDropEvent>('drag-drop', { listen: (cb) => getCurrentWebview().onDragDropEvent(cb) }, (payload) => {
    switch (payload.type) {
      case 'enter':
      case 'drop':
        handler({ type: payload.type, paths: [...payload.paths] });
        break;
      case 'over':
      case 'leave':
        handler({ type: payload.type });
        break;
    }
  });
/** A link clicked while the app runs was handed over: `takeLaunchInvite` has it. */
export const onInviteOpened = (handler: (event: InviteOpened) => void): Unlisten =>
  subscribe('invite-opened', events.inviteOpened, handler);
/** The groups changed (presence, members, schedule, appearing offline): the whole view again. */
export const onGroupsChanged = (handler: (view: GroupsChanged) => void): Unlisten =>
  subscribe('groups-changed', events.groupsChanged as Listenable<GroupsChanged>, handler);
/** A session starts soon; `join`: the user pressed Join on the desktop notification. */
export const onSessionReminder = (handler: (reminder: SessionReminder) => void): Unlisten =>
  subscribe('session-reminder', events.sessionReminder as Listenable<SessionReminder>, handler);
