// The focus timer in the room screen, through the feature seam: the header's countdown,
// the toolbar's panel, the badges, the chime and quiet chat.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '../components/Toasts';
import { RoomScreen } from '../screens/RoomScreen';
import * as service from '../services/studyhall';
import { AppError, type Profile, type RoomEvent, type RoomSnapshot, type TimerChange, type TimerState } from '../services/studyhall';
import { profileOf } from '../state/profile';
import {
  features,
  handlers,
  participant,
  resetHandlers,
  settings,
  snapshot,
  timerRun,
  timerSettings,
  timerState,
} from '../test/serviceMock';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);

const T0 = 1_795_000_000_000;

afterEach(() => {
  cleanup();
  resetHandlers();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function renderRoom(snap: RoomSnapshot = snapshot(), profile: Profile | null = profileOf(settings())) {
  render(
    <ToastProvider>
      <RoomScreen snapshot={snap} invite="K7QX-29FD@192.168.1.20:7450" profile={profile} onExit={() => {}} />
    </ToastProvider>,
  );
}

function emit(event: RoomEvent) {
  act(() => handlers.room.forEach((h) => h(event)));
}

function timerEvent(timer: TimerState, change: TimerChange, by: string | null = 'ada-1'): RoomEvent {
  const event = by === null ? { type: 'timer' as const, timer, change } : { type: 'timer' as const, timer, change, by };
  return { type: 'feature', event };
}

/** A running focus phase of `minutes`, as the relay sends it at relay time `now`. */
function focusing(now: number, minutes = 25, extra: Partial<TimerState> = {}): TimerState {
  const ms = minutes * 60_000;
  return timerState({
    settings: timerSettings({ focus_secs: minutes * 60 }),
    run: timerRun(now + ms, { phase_ms: ms, remaining_ms: ms }),
    now,
    ...extra,
  });
}

function chat(seq: number, from = 'bob-2'): RoomEvent {
  return {
    type: 'chatMessage',
    message: { seq, from, name: 'Bob', text: `message ${seq}`, ts: T0, clientMsgId: `c${seq}`, deleted: false, attachment: null },
  };
}

const id = (testId: string) => screen.getByTestId(testId);
const remaining = () => Number(id('timer-remaining').dataset.remainingMs);
const openPanel = () => fireEvent.click(id('toggle-timer'));

describe('timer display', () => {
  it('counts down in the header, 4 times a second, on the relay clock', () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    renderRoom();
    expect(screen.queryByTestId('timer-display')).toBeNull();

    emit(timerEvent(focusing(T0, 50), 'started'));
    expect(id('timer-phase').textContent).toBe('Focus');
    expect(id('timer-round').textContent).toBe('Round 1 of 4');
    expect(id('timer-remaining').textContent).toBe('50:00');
    expect(remaining()).toBe(3_000_000);

    act(() => {
      vi.advanceTimersByTime(250);
    });
    expect(remaining()).toBe(2_999_750);
    expect(id('timer-remaining').textContent).toBe('50:00');
    act(() => {
      vi.advanceTimersByTime(750);
    });
    expect(id('timer-remaining').textContent).toBe('49:59');

    // The app measured the relay's clock 5 s ahead of ours: 5 s less is left.
    emit({ type: 'clockOffset', offsetMs: 5000 });
    expect(remaining()).toBe(2_994_000);
    expect(id('timer-remaining').textContent).toBe('49:54');
  });

  it("guesses the relay's clock from the state's time until the app has measured it", () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    // The relay's `now` is 2 s ahead of our clock as the state arrives.
    renderRoom(snapshot({ features: features({ timer: focusing(T0 + 2000, 10) }) }));
    expect(remaining()).toBe(600_000);
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(remaining()).toBe(599_000);
    // Measured: 1.5 s ahead, not 2.
    emit({ type: 'clockOffset', offsetMs: 1500 });
    expect(remaining()).toBe(599_500);
    // Never more than the phase, however far off the clocks are.
    emit({ type: 'clockOffset', offsetMs: -60_000 });
    expect(remaining()).toBe(600_000);
  });

  it('holds still while paused, and shows it', () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    const paused = focusing(T0, 25, {});
    paused.run = { ...paused.run!, paused: true, ends_at: null, remaining_ms: 754_321 };
    renderRoom(snapshot({ features: features({ timer: paused }) }));
    expect(id('timer-display').textContent).toContain('paused');
    expect(remaining()).toBe(754_321);
    act(() => {
      vi.advanceTimersByTime(10_000);
    });
    expect(remaining()).toBe(754_321);
    expect(id('timer-remaining').textContent).toBe('12:35');
  });

  it('shows breaks and rounds, and goes when the timer stops', () => {
    renderRoom();
    const state = focusing(Date.now(), 25);
    state.run = timerRun(Date.now() + 300_000, { phase: 'short_break', round: 3, phase_ms: 300_000 });
    emit(timerEvent(state, 'phase_ended', null));
    expect(id('timer-phase').textContent).toBe('Short break');
    expect(id('timer-round').textContent).toBe('Round 3 of 4');
    emit(timerEvent(timerState({ now: Date.now() }), 'stopped'));
    expect(screen.queryByTestId('timer-display')).toBeNull();
  });
});

describe('timer panel', () => {
  it('lets the host start with the settings typed, prefilled from the current ones', async () => {
    renderRoom();
    openPanel();
    expect(id('timer-panel').textContent).toContain('Stopped');
    expect(screen.getByTestId<HTMLInputElement>('timer-focus-min').value).toBe('25');
    expect(screen.getByTestId<HTMLInputElement>('timer-break-min').value).toBe('5');
    expect(screen.getByTestId<HTMLInputElement>('timer-long-break-min').value).toBe('15');
    expect(screen.getByTestId<HTMLInputElement>('timer-rounds').value).toBe('4');
    expect(screen.queryByTestId('timer-pause')).toBeNull();

    fireEvent.change(id('timer-focus-min'), { target: { value: '50' } });
    fireEvent.change(id('timer-rounds'), { target: { value: '3' } });
    fireEvent.click(id('timer-start'));
    expect(service.featureRequest).toHaveBeenCalledWith({
      type: 'timer_start',
      settings: { focus_secs: 3000, short_break_secs: 300, long_break_secs: 900, rounds: 3 },
    });
    expect(screen.getByTestId<HTMLButtonElement>('timer-start').disabled).toBe(true);
    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('timer-start').disabled).toBe(false));

    emit(timerEvent(focusing(Date.now(), 50, { settings: timerSettings({ focus_secs: 3000, rounds: 3 }) }), 'started'));
    expect(id('timer-status').textContent).toBe('Focus · round 1 of 3');
    expect(id('timer-start').textContent).toBe('Restart');
    expect(screen.getByTestId<HTMLInputElement>('timer-focus-min').value).toBe('50');
  });

  it('checks the settings before sending them', () => {
    renderRoom();
    openPanel();
    fireEvent.change(id('timer-focus-min'), { target: { value: '0' } });
    fireEvent.click(id('timer-start'));
    expect(id('timer-error').textContent).toBe('Focus must be from 1 to 240 minutes.');
    fireEvent.change(id('timer-focus-min'), { target: { value: '25' } });
    expect(screen.queryByTestId('timer-error')).toBeNull();
    fireEvent.change(id('timer-rounds'), { target: { value: '20' } });
    fireEvent.click(id('timer-start'));
    expect(id('timer-error').textContent).toBe('Rounds must be from 1 to 12.');
    expect(service.featureRequest).not.toHaveBeenCalled();
  });

  it("shows the relay's reason when it refuses the settings", async () => {
    vi.mocked(service.featureRequest).mockRejectedValueOnce(
      new AppError('refused', 'focus_secs must be between 60s and 14400s (got 30s)'),
    );
    renderRoom();
    openPanel();
    fireEvent.click(id('timer-start'));
    expect((await screen.findByTestId('timer-error')).textContent).toBe(
      'focus_secs must be between 60s and 14400s (got 30s)',
    );
  });

  it('pauses, resumes, skips and stops a running timer', async () => {
    renderRoom(snapshot({ features: features({ timer: focusing(Date.now()) }) }));
    openPanel();
    fireEvent.click(id('timer-pause'));
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'timer_pause' });
    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('timer-skip').disabled).toBe(false));
    const paused = focusing(Date.now());
    paused.run = { ...paused.run!, paused: true, ends_at: null };
    emit(timerEvent(paused, 'paused'));
    expect(screen.queryByTestId('timer-pause')).toBeNull();
    fireEvent.click(id('timer-resume'));
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'timer_resume' });
    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('timer-skip').disabled).toBe(false));
    fireEvent.click(id('timer-skip'));
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'timer_skip' });
    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('timer-stop').disabled).toBe(false));
    fireEvent.click(id('timer-stop'));
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'timer_stop' });
  });

  it('says in a toast why a control failed', async () => {
    vi.mocked(service.featureRequest).mockRejectedValueOnce(new AppError('refused', 'the timer is stopped: start it first'));
    renderRoom(snapshot({ features: features({ timer: focusing(Date.now()) }) }));
    openPanel();
    fireEvent.click(id('timer-skip'));
    expect((await screen.findByTestId('toast')).textContent).toContain(
      "Couldn't skip to the next phase: the timer is stopped: start it first",
    );
  });

  it('gives the host the room options, as the relay confirms them', async () => {
    renderRoom();
    openPanel();
    const anyone = screen.getByTestId<HTMLInputElement>('timer-anyone');
    const quiet = screen.getByTestId<HTMLInputElement>('timer-quiet');
    expect(anyone.checked).toBe(false);
    fireEvent.click(anyone);
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'timer_options', anyone_controls: true });
    await waitFor(() => expect(quiet.disabled).toBe(false));
    expect(anyone.checked).toBe(false);
    emit(timerEvent(timerState({ anyone_controls: true, now: Date.now() }), 'options'));
    expect(anyone.checked).toBe(true);
    fireEvent.click(quiet);
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'timer_options', quiet_during_focus: true });
  });

  it('shows the others the state read-only, and closes with Escape', () => {
    renderRoom(
      snapshot({
        you: participant('ada-1', 'Ada', { you: true, host: false }),
        features: features({ timer: focusing(Date.now()) }),
      }),
    );
    openPanel();
    const panel = id('timer-panel');
    expect(panel.textContent).toContain('Focus · round 1 of 4');
    expect(panel.textContent).toContain('25 min focus · 5 min breaks · 15 min long break · 4 rounds');
    expect(id('timer-host-only').textContent).toBe('Only the host controls the timer.');
    for (const control of ['timer-start', 'timer-pause', 'timer-skip', 'timer-stop', 'timer-anyone', 'timer-quiet']) {
      expect(screen.queryByTestId(control)).toBeNull();
    }
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('timer-panel')).toBeNull();
  });

  it('lets everyone control it when the host allows, but only the host change the options', () => {
    renderRoom(
      snapshot({
        you: participant('ada-1', 'Ada', { you: true, host: false }),
        features: features({ timer: focusing(Date.now(), 25, { anyone_controls: true }) }),
      }),
    );
    openPanel();
    expect(screen.getByTestId('timer-start')).toBeTruthy();
    expect(screen.getByTestId('timer-pause')).toBeTruthy();
    expect(screen.queryByTestId('timer-host-only')).toBeNull();
    expect(screen.queryByTestId('timer-anyone')).toBeNull();
    expect(screen.queryByTestId('timer-quiet')).toBeNull();
  });
});

describe('timer badges', () => {
  it('show who is focusing or on a break; the away keep their presence badge', () => {
    renderRoom(
      snapshot({
        participants: [
          participant('bob-2', 'Bob', { joinedAt: 2 }),
          participant('cat-3', 'Cat', { joinedAt: 3, presence: 'away' }),
        ],
      }),
    );
    expect(screen.queryByTestId('timer-badge-ada-1')).toBeNull();
    emit(timerEvent(focusing(Date.now()), 'started'));
    expect(within(id('tile-self')).getByTestId('timer-badge-ada-1').textContent).toBe('Focusing');
    expect(within(id('tile-bob-2')).getByTestId('timer-badge-bob-2').textContent).toBe('Focusing');
    expect(within(id('tile-cat-3')).queryByTestId('timer-badge-cat-3')).toBeNull();

    fireEvent.click(id('toggle-people'));
    expect(within(id('person-bob-2')).getByTestId('timer-badge-bob-2').textContent).toBe('Focusing');
    expect(within(id('person-cat-3')).getByTestId('presence-cat-3').textContent).toBe('Away');
    expect(within(id('person-cat-3')).queryByTestId('timer-badge-cat-3')).toBeNull();

    const breakTime = focusing(Date.now());
    breakTime.run = timerRun(Date.now() + 300_000, { phase: 'short_break' });
    emit(timerEvent(breakTime, 'phase_ended', null));
    expect(within(id('person-bob-2')).getByTestId('timer-badge-bob-2').textContent).toBe('On a break');
    emit(timerEvent(timerState({ now: Date.now() }), 'stopped'));
    expect(screen.queryAllByTestId(/^timer-badge-/)).toHaveLength(0);
  });
});

describe('timer chime', () => {
  function countChimes() {
    const made = { count: 0 };
    vi.stubGlobal(
      'AudioContext',
      class {
        constructor() {
          made.count += 1;
          // No audio here: the chime gives up quietly after counting.
          throw new Error('no audio device in tests');
        }
      },
    );
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    return made;
  }

  it('plays when a phase begins, not for pauses or options', () => {
    const chimes = countChimes();
    renderRoom();
    emit(timerEvent(focusing(Date.now()), 'started'));
    expect(chimes.count).toBe(1);
    emit(timerEvent(focusing(Date.now()), 'options'));
    emit(timerEvent(focusing(Date.now()), 'resumed'));
    expect(chimes.count).toBe(1);
    emit(timerEvent(focusing(Date.now()), 'phase_ended', null));
    emit(timerEvent(focusing(Date.now()), 'skipped'));
    expect(chimes.count).toBe(3);
  });

  it('stays silent when the user turned it off', () => {
    const chimes = countChimes();
    renderRoom(snapshot(), profileOf(settings({ timerChime: false })));
    emit(timerEvent(focusing(Date.now()), 'started'));
    expect(chimes.count).toBe(0);
  });

  it('does not break the room where there is no audio at all', () => {
    vi.stubGlobal('AudioContext', undefined);
    renderRoom();
    emit(timerEvent(focusing(Date.now()), 'started'));
    expect(id('timer-display')).toBeTruthy();
  });
});

describe('quiet chat during focus', () => {
  const quietFocus = () => focusing(Date.now(), 25, { quiet_during_focus: true });

  it('counts new messages quietly in focus and tells of them once at the break', async () => {
    renderRoom(snapshot({ features: features({ timer: quietFocus() }) }));
    emit(chat(1));
    expect(screen.queryByTestId('chat-unread')).toBeNull();
    expect(id('chat-held').textContent).toBe('1 new message — shown at the break');
    emit(chat(2));
    emit(chat(3));
    expect(id('chat-held').textContent).toBe('3 new messages — shown at the break');
    expect(screen.queryByTestId('toast')).toBeNull();

    const breakTime = quietFocus();
    breakTime.run = timerRun(Date.now() + 300_000, { phase: 'short_break' });
    emit(timerEvent(breakTime, 'phase_ended', null));
    expect(screen.queryByTestId('chat-held')).toBeNull();
    expect(id('chat-unread').textContent).toBe('3');
    expect((await screen.findByTestId('toast')).textContent).toContain('3 new messages in the chat');

    // In the break, messages are counted as usual.
    emit(chat(4));
    expect(id('chat-unread').textContent).toBe('4');
    expect(screen.getAllByTestId('toast')).toHaveLength(1);
  });

  it('is not quiet unless the host asked, nor while paused', () => {
    renderRoom(snapshot({ features: features({ timer: focusing(Date.now()) }) }));
    emit(chat(1));
    expect(id('chat-unread').textContent).toBe('1');
    const paused = quietFocus();
    paused.run = { ...paused.run!, paused: true, ends_at: null };
    emit(timerEvent(paused, 'paused'));
    emit(chat(2));
    expect(id('chat-unread').textContent).toBe('2');
    expect(screen.queryByTestId('chat-held')).toBeNull();
  });

  it('starts holding when the host turns it on, and opening the chat reads the held ones', () => {
    renderRoom(snapshot({ features: features({ timer: focusing(Date.now()) }) }));
    emit(timerEvent(quietFocus(), 'options'));
    emit(chat(1));
    expect(id('chat-held').textContent).toBe('1 new message — shown at the break');
    fireEvent.click(id('toggle-chat'));
    expect(screen.queryByTestId('chat-held')).toBeNull();
    // Our own messages and those seen in the open chat never count.
    emit(chat(2));
    emit(chat(3, 'ada-1'));
    fireEvent.click(id('toggle-chat'));
    emit(timerEvent(timerState({ quiet_during_focus: true, now: Date.now() }), 'stopped'));
    expect(screen.queryByTestId('chat-unread')).toBeNull();
    expect(screen.queryByTestId('toast')).toBeNull();
  });
});
