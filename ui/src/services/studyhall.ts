/**
 * The one module that talks to the Tauri shell (docs/app-ipc.md). Components import from
 * here and never from `@tauri-apps/*`, so the UI also runs in a plain browser (or a test)
 * with this module mocked.
 *
 * Every command is a thin typed wrapper around `call`, and every event a thin wrapper
 * around `subscribe`, so switching the internals to the generated bindings
 * (`ui/src/bindings.ts`) touches only this file.
 */
import { invoke, isTauri } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  AppErrorKind,
  AppErrorPayload,
  AppInfo,
  AudioDevice,
  ChatMessage,
  ChatPage,
  DeviceList,
  Invite,
  InviteTarget,
  MediaState,
  MediaStatus,
  MediaUpdate,
  Profile,
  QuitRequested,
  RoomEvent,
  RoomSnapshot,
  Settings,
  VideoDevice,
} from './types';

export type * from './types';

const APP_ERROR_KINDS: readonly AppErrorKind[] = [
  'relayUnreachable',
  'inviteInvalid',
  'inviteNotFound',
  'tokenExpired',
  'roomFull',
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

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  if (!isTauri()) throw new DesktopAppUnavailableError();
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw AppError.from(error);
  }
}

/** Stops listening. */
export type Unlisten = () => void;

function subscribe<T>(event: string, handler: (payload: T) => void): Unlisten {
  if (!isTauri()) return () => {};
  let stopped = false;
  let unlisten: (() => void) | null = null;
  listen<T>(event, (e) => {
    if (!stopped) handler(e.payload);
  }).then(
    (fn) => {
      if (stopped) fn();
      else unlisten = fn;
    },
    (error: unknown) => console.error(`listening to ${event} failed`, error),
  );
  return () => {
    stopped = true;
    unlisten?.();
  };
}

// Commands, in docs/app-ipc.md's order.

export const getAppInfo = (): Promise<AppInfo> => call('app_info');
export const getSettings = (): Promise<Settings> => call('get_settings');
export const saveProfile = (profile: Profile): Promise<Settings> =>
  call('save_profile', { profile });
export const listDevices = (): Promise<DeviceList> => call('list_devices');
export const mediaEndpoint = (): Promise<string> => call('media_endpoint');
export const startPreview = (camera: VideoDevice, microphone: AudioDevice): Promise<null> =>
  call('start_preview', { camera, microphone });
export const stopPreview = (): Promise<null> => call('stop_preview');
export const hostRoom = (title: string): Promise<Invite> => call('host_room', { title });
export const stopHosting = (): Promise<null> => call('stop_hosting');
export const parseInvite = (text: string): Promise<InviteTarget> =>
  call('parse_invite', { text });
export const joinRoom = (invite: string): Promise<RoomSnapshot> =>
  call('join_room', { invite });
export const leaveRoom = (): Promise<null> => call('leave_room');
export const setMedia = (update: MediaUpdate): Promise<MediaState> =>
  call('set_media', { update });
export const sendChat = (clientMsgId: string, text: string): Promise<ChatMessage> =>
  call('send_chat', { clientMsgId, text });
export const loadOlderChat = (beforeSeq: number): Promise<ChatPage> =>
  call('load_older_chat', { beforeSeq });
export const deleteChat = (seq: number): Promise<null> => call('delete_chat', { seq });
export const kick = (identity: string): Promise<null> => call('kick', { identity });
export const quitApp = (): Promise<null> => call('quit_app');

// Events. Each returns a function that stops listening (safe to call at once, as React
// effect cleanups do).

export const onRoomEvent = (handler: (event: RoomEvent) => void): Unlisten =>
  subscribe('room-event', handler);
export const onMediaStatus = (handler: (status: MediaStatus) => void): Unlisten =>
  subscribe('media-status', handler);
export const onQuitRequested = (handler: (request: QuitRequested) => void): Unlisten =>
  subscribe('quit-requested', handler);
