/**
 * The one module that talks to the Tauri shell. Components import from here and never
 * from `@tauri-apps/*`, so the UI also runs in a plain browser (or a test) with this
 * module mocked.
 */
import { invoke, isTauri } from '@tauri-apps/api/core';

/** The app's identity, as returned by the `app_info` command. */
export interface AppInfo {
  /** Product name, "Studyhall". */
  name: string;
  /** App version (the Cargo package version). */
  version: string;
  /** Signaling protocol version the app speaks. */
  protocol_version: number;
}

/** Thrown when the UI is not running inside the Studyhall app (e.g. a plain browser tab). */
export class DesktopAppUnavailableError extends Error {
  constructor() {
    super('Not running inside the Studyhall desktop app.');
    this.name = 'DesktopAppUnavailableError';
  }
}

/** Name and versions of the running app. */
export async function getAppInfo(): Promise<AppInfo> {
  if (!isTauri()) {
    throw new DesktopAppUnavailableError();
  }
  return invoke<AppInfo>('app_info');
}

/**
 * A readable message for anything a command rejected with: Tauri rejects with whatever the
 * Rust error serialized to, which need not be an `Error`.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  if (typeof error === 'string') {
    return error;
  }
  return JSON.stringify(error) ?? String(error);
}
