import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { DesktopAppUnavailableError, getAppInfo } from './services/studyhall';

vi.mock('./services/studyhall', async (importOriginal) => ({
  ...(await importOriginal<typeof import('./services/studyhall')>()),
  getAppInfo: vi.fn(),
}));

afterEach(cleanup);

describe('App start screen', () => {
  it('shows the app and protocol versions from the desktop app', async () => {
    vi.mocked(getAppInfo).mockResolvedValue({
      name: 'Studyhall',
      version: '0.1.0',
      protocol_version: 1,
    });

    render(<App />);

    expect(screen.getByRole('heading', { name: 'Studyhall' })).toBeTruthy();
    expect(screen.getByText('Study together on video')).toBeTruthy();
    expect(await screen.findByText('Version 0.1.0 · protocol 1')).toBeTruthy();
  });

  it('says clearly when the desktop app cannot be reached', async () => {
    vi.mocked(getAppInfo).mockRejectedValue(new DesktopAppUnavailableError());

    render(<App />);

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Not running inside the Studyhall desktop app.');
  });
});
