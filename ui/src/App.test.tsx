import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import * as service from './services/studyhall';
import { AppError } from './services/studyhall';
import { handlers, resetHandlers, settings, snapshot } from './test/serviceMock';

vi.mock('./services/studyhall', async (importOriginal) =>
  (await import('./test/serviceMock')).mockService(importOriginal),
);

afterEach(() => {
  cleanup();
  resetHandlers();
});

describe('start screen', () => {
  it('shows the app version and the saved name', async () => {
    render(<App />);
    expect(await screen.findByText('Studyhall 0.1.0 · protocol 1')).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId<HTMLInputElement>('display-name').value).toBe('Ada'));
  });

  it('says once, at start, that an unreadable study record was started afresh', async () => {
    const notice = 'Your study record could not be read (file is not a database), so a new one was started.';
    vi.mocked(service.studySummary).mockResolvedValueOnce({ ...(await service.studySummary()), notice });
    render(<App />);
    const banner = await screen.findByTestId('banner-study');
    expect(banner.textContent).toContain('could not be read');
    fireEvent.click(within(banner).getByText('Dismiss'));
    await waitFor(() => expect(screen.queryByTestId('banner-study')).toBeNull());
    expect(service.dismissStudyNotice).toHaveBeenCalled();
  });

  it('says clearly when the desktop app cannot be reached', async () => {
    vi.mocked(service.getAppInfo).mockRejectedValue(new service.DesktopAppUnavailableError());
    vi.mocked(service.getSettings).mockRejectedValue(new service.DesktopAppUnavailableError());
    render(<App />);
    expect((await screen.findByTestId('settings-error')).textContent).toContain(
      'Not running inside the Studyhall desktop app.',
    );
  });

  it('checks the invite as it is typed and shows why it is wrong', async () => {
    vi.mocked(service.parseInvite).mockImplementation((text) =>
      text.includes('@')
        ? Promise.resolve({ relay: '192.168.1.20:7450', code: 'K7QX-29FD' })
        : Promise.reject(new AppError('inviteInvalid', 'Not an invite link or code.')),
    );
    render(<App />);
    const input = await screen.findByTestId('invite-input');
    await waitFor(() => expect((input as HTMLInputElement).disabled).toBe(false));
    fireEvent.change(input, { target: { value: 'nonsense' } });
    expect(await screen.findByText('Not an invite link or code.')).toBeTruthy();
    fireEvent.change(input, { target: { value: 'K7QX-29FD@192.168.1.20:7450' } });
    expect(await screen.findByText('✓ Room at 192.168.1.20:7450')).toBeTruthy();
  });

  it('puts the invite link the app was opened with into the join field, checked', async () => {
    const link = 'studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD';
    vi.mocked(service.takeLaunchInvite).mockResolvedValueOnce(link);
    vi.mocked(service.parseInvite).mockResolvedValue({ relay: '192.168.1.20:7450', code: 'K7QX-29FD' });
    render(<App />);
    const input = await screen.findByTestId<HTMLInputElement>('invite-input');
    await waitFor(() => expect(input.value).toBe(link));
    expect(await screen.findByText('✓ Room at 192.168.1.20:7450')).toBeTruthy();
    expect(service.parseInvite).toHaveBeenCalledWith(link);
  });

  it('takes an invite link clicked while the app runs', async () => {
    const link = 'studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD';
    vi.mocked(service.parseInvite).mockResolvedValue({ relay: '192.168.1.20:7450', code: 'K7QX-29FD' });
    render(<App />);
    const input = await screen.findByTestId<HTMLInputElement>('invite-input');
    await waitFor(() => expect(handlers.invite.length).toBeGreaterThan(0));
    expect(input.value).toBe('');
    vi.mocked(service.takeLaunchInvite).mockResolvedValueOnce(link);
    act(() => handlers.invite.forEach((h) => h(null)));
    await waitFor(() => expect(input.value).toBe(link));
    expect(await screen.findByText('✓ Room at 192.168.1.20:7450')).toBeTruthy();
  });

  it('refuses a blank name', async () => {
    render(<App />);
    const name = await screen.findByTestId('display-name');
    await waitFor(() => expect((name as HTMLInputElement).value).toBe('Ada'));
    fireEvent.change(name, { target: { value: '   ' } });
    fireEvent.click(screen.getByTestId('host-submit'));
    expect((await screen.findByTestId('name-error')).textContent).toContain('Enter the name');
    expect(service.saveProfile).not.toHaveBeenCalled();
  });

  it('hosts: device setup, host_room, join_room with the link, then the room', async () => {
    const invite = {
      link: 'studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD',
      code: 'K7QX-29FD@192.168.1.20:7450',
      relay: '192.168.1.20:7450',
      room: 'r1',
      expiresAt: Date.now() + 3_600_000,
    };
    vi.mocked(service.hostRoom).mockResolvedValue(invite);
    vi.mocked(service.joinRoom).mockResolvedValue(snapshot({ hosting: invite }));
    render(<App />);
    const title = await screen.findByTestId('host-title');
    await waitFor(() => expect((title as HTMLInputElement).disabled).toBe(false));
    fireEvent.change(title, { target: { value: 'Finals week' } });
    fireEvent.click(screen.getByTestId('host-submit'));
    expect(await screen.findByText('Start “Finals week”')).toBeTruthy();
    expect(await screen.findByTestId('no-devices-note')).toBeTruthy();
    await waitFor(() => expect(service.startPreview).toHaveBeenCalledWith({ kind: 'testPattern' }, { kind: 'tone' }));
    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('setup-continue').disabled).toBe(false));
    fireEvent.click(screen.getByTestId('setup-continue'));
    expect(await screen.findByTestId('room')).toBeTruthy();
    expect(service.stopPreview).toHaveBeenCalled();
    expect(service.hostRoom).toHaveBeenCalledWith('Finals week');
    expect(service.joinRoom).toHaveBeenCalledWith(invite.link, { mic: true, camera: true });
    expect(screen.getByTestId('tile-self')).toBeTruthy();
    expect(screen.getByTestId('tile-bob-2')).toBeTruthy();
    // A study room (the default) is what a room is already: nothing to ask.
    expect(vi.mocked(service.featureRequest).mock.calls.filter(([r]) => r.type === 'set_room_mode')).toEqual([]);

    // An invite link clicked meanwhile is not lost: the room says where it waits.
    act(() => handlers.invite.forEach((h) => h(null)));
    await waitFor(() =>
      expect(screen.getAllByTestId('toast').some((t) => t.textContent?.includes('waiting in the join field'))).toBe(true),
    );
  });

  it('hosts a lecture: the choice reaches the room, which the host makes a lecture once in', async () => {
    const invite = {
      link: 'studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD',
      code: 'K7QX-29FD@192.168.1.20:7450',
      relay: '192.168.1.20:7450',
      room: 'r1',
      expiresAt: Date.now() + 3_600_000,
    };
    vi.mocked(service.hostRoom).mockResolvedValue(invite);
    vi.mocked(service.joinRoom).mockResolvedValue(snapshot({ hosting: invite }));
    render(<App />);
    const title = await screen.findByTestId('host-title');
    await waitFor(() => expect((title as HTMLInputElement).disabled).toBe(false));
    const mode = screen.getByTestId<HTMLSelectElement>('host-mode');
    expect(mode.value).toBe('study');
    fireEvent.change(title, { target: { value: 'Physics 101' } });
    fireEvent.change(mode, { target: { value: 'lecture' } });
    fireEvent.click(screen.getByTestId('host-submit'));
    expect(await screen.findByText('Start “Physics 101” as a lecture')).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('setup-continue').disabled).toBe(false));
    fireEvent.click(screen.getByTestId('setup-continue'));
    expect(await screen.findByTestId('room')).toBeTruthy();
    await waitFor(() => expect(service.featureRequest).toHaveBeenCalledWith({ type: 'set_room_mode', mode: 'lecture' }));
    const modeRequests = vi.mocked(service.featureRequest).mock.calls.filter(([r]) => r.type === 'set_room_mode');
    expect(modeRequests).toHaveLength(1);
  });

  it('says plainly that a locked room takes no new people', async () => {
    vi.mocked(service.parseInvite).mockResolvedValue({ relay: '192.168.1.20:7450', code: 'K7QX-29FD' });
    vi.mocked(service.joinRoom).mockRejectedValueOnce(
      new AppError('roomLocked', 'the room is locked: the host takes no new people now'),
    );
    render(<App />);
    const input = await screen.findByTestId('invite-input');
    await waitFor(() => expect((input as HTMLInputElement).disabled).toBe(false));
    fireEvent.change(input, { target: { value: 'K7QX-29FD@192.168.1.20:7450' } });
    fireEvent.click(screen.getByTestId('join-submit'));
    const go = await screen.findByTestId<HTMLButtonElement>('setup-continue');
    await waitFor(() => expect(go.disabled).toBe(false));
    fireEvent.click(go);
    expect((await screen.findByTestId('setup-error')).textContent).toContain(
      'This room is locked: the host is not taking new people right now.',
    );
  });

  it('joins muted and with the camera off when the check before joining says so', async () => {
    vi.mocked(service.hostRoom).mockResolvedValue({
      link: 'studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD',
      code: 'K7QX-29FD@192.168.1.20:7450',
      relay: '192.168.1.20:7450',
      room: 'r1',
      expiresAt: Date.now() + 3_600_000,
    });
    vi.mocked(service.joinRoom).mockResolvedValue(snapshot());
    render(<App />);
    const title = await screen.findByTestId('host-title');
    await waitFor(() => expect((title as HTMLInputElement).disabled).toBe(false));
    fireEvent.change(title, { target: { value: 'Quiet start' } });
    fireEvent.click(screen.getByTestId('host-submit'));
    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('setup-continue').disabled).toBe(false));
    const mic = screen.getByTestId<HTMLInputElement>('join-mic');
    const camera = screen.getByTestId<HTMLInputElement>('join-camera');
    expect(mic.checked && camera.checked).toBe(true);
    fireEvent.click(mic);
    fireEvent.click(camera);
    fireEvent.click(screen.getByTestId('setup-continue'));
    expect(await screen.findByTestId('room')).toBeTruthy();
    expect(service.joinRoom).toHaveBeenCalledWith(expect.any(String), { mic: false, camera: false });
  });

  it('explains a failed join in plain words and can try again', async () => {
    vi.mocked(service.parseInvite).mockResolvedValue({ relay: '192.168.1.20:7450', code: 'K7QX-29FD' });
    vi.mocked(service.joinRoom)
      .mockRejectedValueOnce(new AppError('relayUnreachable', 'connection refused'))
      .mockResolvedValueOnce(snapshot());
    render(<App />);
    const input = await screen.findByTestId('invite-input');
    await waitFor(() => expect((input as HTMLInputElement).disabled).toBe(false));
    fireEvent.change(input, { target: { value: 'K7QX-29FD@192.168.1.20:7450' } });
    fireEvent.click(screen.getByTestId('join-submit'));
    const go = await screen.findByTestId<HTMLButtonElement>('setup-continue');
    await waitFor(() => expect(go.disabled).toBe(false));
    fireEvent.click(go);
    const error = await screen.findByTestId('setup-error');
    expect(error.textContent).toContain("Can't reach the room's host at 192.168.1.20");
    fireEvent.click(screen.getByTestId('setup-continue'));
    expect(await screen.findByTestId('room')).toBeTruthy();
  });

  it('asks before quitting while others are in our room', async () => {
    render(<App />);
    await screen.findByTestId('display-name');
    act(() => handlers.quit.forEach((h) => h({ othersInRoom: 3 })));
    expect((await screen.findByTestId('quit-dialog')).textContent).toContain(
      '3 people are still in your room. Quit and end the room for everyone?',
    );
    fireEvent.click(screen.getByTestId('confirm-cancel'));
    expect(screen.queryByTestId('quit-dialog')).toBeNull();
    act(() => handlers.quit.forEach((h) => h({ othersInRoom: 1 })));
    fireEvent.click(await screen.findByTestId('confirm-ok'));
    await waitFor(() => expect(service.quitApp).toHaveBeenCalled());
  });

  it('rejoins a recent room through its invite', async () => {
    vi.mocked(service.getSettings).mockResolvedValue(
      settings({
        recentRooms: [
          { room: 'r9', title: 'Chemistry', invite: 'K7QX-29FD@10.0.0.5:7450', relay: '10.0.0.5:7450', lastJoined: Date.now(), hosted: false },
        ],
      }),
    );
    vi.mocked(service.parseInvite).mockResolvedValue({ relay: '10.0.0.5:7450', code: 'K7QX-29FD' });
    render(<App />);
    fireEvent.click(await screen.findByTestId('recent-room'));
    expect(await screen.findByText('Join “Chemistry”')).toBeTruthy();
  });
});
