import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DesktopAppUnavailableError, describeError, getAppInfo } from './studyhall';

afterEach(clearMocks);

describe('getAppInfo', () => {
  it('calls the app_info command inside the desktop app', async () => {
    // `isTauri()` reads this global, which the Tauri webview sets.
    vi.stubGlobal('isTauri', true);
    const info = { name: 'Studyhall', version: '0.1.0', protocol_version: 1 };
    const commands: string[] = [];
    mockIPC((cmd) => {
      commands.push(cmd);
      return info;
    });

    await expect(getAppInfo()).resolves.toEqual(info);
    expect(commands).toEqual(['app_info']);
  });

  it('rejects with DesktopAppUnavailableError in a plain browser', async () => {
    await expect(getAppInfo()).rejects.toBeInstanceOf(DesktopAppUnavailableError);
  });
});

describe('describeError', () => {
  it('reads errors, strings and serialized Rust errors', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('denied')).toBe('denied');
    expect(describeError({ kind: 'not_found' })).toBe('{"kind":"not_found"}');
  });
});
