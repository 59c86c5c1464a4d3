import { describe, expect, it } from 'vitest';
import type { FeatureEvent, TimerChange, TimerState } from '../services/types';
import { features, participant, raisedHand, settings, timerRun, timerSettings, timerState } from '../test/fixtures';
import {
  canControl,
  chimeFor,
  describeRun,
  describeSettings,
  draftOf,
  formatClock,
  offsetFor,
  quietUntil,
  remainingMs,
  settingsFromDraft,
  timerBadge,
  timerFromSnapshot,
  timerReducer,
  type TimerUiState,
} from './timerState';

const RELAY_NOW = 1_795_000_000_000;

function timerEvent(timer: TimerState, change: TimerChange = 'started', by?: string): FeatureEvent {
  return by === undefined ? { type: 'timer', timer, change } : { type: 'timer', timer, change, by };
}

function running(extra: Partial<TimerState> = {}): TimerUiState {
  return { timer: timerState({ run: timerRun(RELAY_NOW + 60_000), ...extra }), guessedOffsetMs: 0 };
}

describe('timer state', () => {
  it('starts from the snapshot, guessing the clock offset from the relay time it carries', () => {
    const state = timerFromSnapshot(features({ timer: timerState({ now: RELAY_NOW }) }), RELAY_NOW - 1500);
    expect(state.timer.run).toBeNull();
    expect(state.timer.settings).toEqual(timerSettings());
    expect(state.guessedOffsetMs).toBe(1500);
  });

  it('guesses no offset when the relay sent no time', () => {
    expect(timerFromSnapshot(features({ timer: timerState({ now: null }) }), 5).guessedOffsetMs).toBe(0);
  });

  it('takes the whole state from each timer event', () => {
    let state = timerFromSnapshot(features(), RELAY_NOW);
    const started = timerState({ run: timerRun(RELAY_NOW + 1_500_000), now: RELAY_NOW + 10 });
    state = timerReducer(state, timerEvent(started, 'started', 'ada-1'), RELAY_NOW - 990);
    expect(state.timer).toBe(started);
    expect(state.guessedOffsetMs).toBe(1000);
    const stopped = timerState({ now: RELAY_NOW + 20 });
    state = timerReducer(state, timerEvent(stopped, 'stopped', 'ada-1'), RELAY_NOW);
    expect(state.timer.run).toBeNull();
  });

  it("leaves its state as it is for another feature's event", () => {
    const state = timerFromSnapshot(features(), RELAY_NOW);
    expect(timerReducer(state, { type: 'hand_queue', hands: [raisedHand('bob')] })).toBe(state);
  });
});

describe('time left', () => {
  const run = timerRun(RELAY_NOW + 60_000, { phase_ms: 120_000 });

  it("counts to the phase's end on the relay's clock, corrected by the offset", () => {
    // Our clock is 2 s behind the relay's: 10 s before the end is RELAY_NOW + 50 s there.
    expect(remainingMs(run, 2000, RELAY_NOW + 48_000)).toBe(10_000);
    // With no offset the same local time is 12 s before the end.
    expect(remainingMs(run, 0, RELAY_NOW + 48_000)).toBe(12_000);
    // A clock ahead of the relay's: a negative offset.
    expect(remainingMs(run, -3000, RELAY_NOW + 53_000)).toBe(10_000);
  });

  it('never goes below zero nor above the phase', () => {
    expect(remainingMs(run, 0, RELAY_NOW + 90_000)).toBe(0);
    expect(remainingMs(run, -3_600_000, RELAY_NOW)).toBe(120_000);
  });

  it('is exact while paused, whatever the clocks say', () => {
    const paused = { ...run, paused: true, ends_at: null, remaining_ms: 42_500 };
    expect(remainingMs(paused, 0, RELAY_NOW)).toBe(42_500);
    expect(remainingMs(paused, 99_999, RELAY_NOW + 3_600_000)).toBe(42_500);
  });

  it("uses the app's measured offset once there is one, else the guess", () => {
    const state = { ...running(), guessedOffsetMs: 700 };
    expect(offsetFor(state, null)).toBe(700);
    expect(offsetFor(state, -250)).toBe(-250);
    expect(offsetFor(state, 0)).toBe(0);
  });

  it('shows mm:ss, rounded up as a countdown, and hours when there are some', () => {
    expect(formatClock(25 * 60_000)).toBe('25:00');
    expect(formatClock(59_001)).toBe('01:00');
    expect(formatClock(59_000)).toBe('00:59');
    expect(formatClock(1)).toBe('00:01');
    expect(formatClock(0)).toBe('00:00');
    expect(formatClock(4 * 3_600_000)).toBe('4:00:00');
    expect(formatClock(3_600_000 + 65_000)).toBe('1:01:05');
  });
});

describe('who controls the timer', () => {
  it('is the host, or everyone when the host allows it', () => {
    expect(canControl(timerState(), true)).toBe(true);
    expect(canControl(timerState(), false)).toBe(false);
    expect(canControl(timerState({ anyone_controls: true }), false)).toBe(true);
  });
});

describe('badges', () => {
  const ada = participant('ada-1', 'Ada');

  it('say "Focusing" in a focus phase and "On a break" in a break, for those here', () => {
    expect(timerBadge(running(), ada)).toBe('Focusing');
    const shortBreak = running({ run: timerRun(RELAY_NOW + 1, { phase: 'short_break' }) });
    expect(timerBadge(shortBreak, ada)).toBe('On a break');
    const longBreak = running({ run: timerRun(RELAY_NOW + 1, { phase: 'long_break' }) });
    expect(timerBadge(longBreak, ada)).toBe('On a break');
  });

  it('leave the away and those on their own break to their presence badge', () => {
    expect(timerBadge(running(), participant('b', 'B', { presence: 'away' }))).toBeNull();
    expect(timerBadge(running(), participant('c', 'C', { presence: 'on_break' }))).toBeNull();
  });

  it('are not shown while the timer is stopped or paused', () => {
    expect(timerBadge({ timer: timerState(), guessedOffsetMs: 0 }, ada)).toBeNull();
    const paused = running({ run: timerRun(RELAY_NOW, { paused: true, ends_at: null }) });
    expect(timerBadge(paused, ada)).toBeNull();
  });
});

describe('quiet chat', () => {
  it('holds chat notifications during a running focus phase when the host asked for it', () => {
    expect(quietUntil(running({ quiet_during_focus: true }))).toBe('at the break');
    expect(quietUntil(running({ quiet_during_focus: false }))).toBeNull();
  });

  it('lets them through in breaks, while paused and while stopped', () => {
    const quiet = { quiet_during_focus: true };
    expect(quietUntil(running({ ...quiet, run: timerRun(RELAY_NOW, { phase: 'short_break' }) }))).toBeNull();
    expect(quietUntil(running({ ...quiet, run: timerRun(RELAY_NOW, { phase: 'long_break' }) }))).toBeNull();
    expect(quietUntil(running({ ...quiet, run: timerRun(RELAY_NOW, { paused: true, ends_at: null }) }))).toBeNull();
    expect(quietUntil({ timer: timerState(quiet), guessedOffsetMs: 0 })).toBeNull();
  });
});

describe('chime', () => {
  const focus = timerState({ run: timerRun(RELAY_NOW) });
  const breakTime = timerState({ run: timerRun(RELAY_NOW, { phase: 'short_break' }) });

  it('sounds when a phase begins: started, skipped, phase_ended', () => {
    expect(chimeFor(timerEvent(focus, 'started', 'ada-1'), settings())).toBe('focus');
    expect(chimeFor(timerEvent(breakTime, 'skipped', 'ada-1'), settings())).toBe('short_break');
    expect(chimeFor(timerEvent(breakTime, 'phase_ended'), settings())).toBe('short_break');
  });

  it('is silent for pauses, options and stops', () => {
    for (const change of ['paused', 'resumed', 'options', 'stopped'] as const) {
      expect(chimeFor(timerEvent(focus, change, 'ada-1'), settings())).toBeNull();
    }
    expect(chimeFor({ type: 'hand_queue', hands: [] }, settings())).toBeNull();
  });

  it('is silent when the user turned it off', () => {
    expect(chimeFor(timerEvent(focus, 'phase_ended'), settings({ timerChime: false }))).toBeNull();
    expect(chimeFor(timerEvent(focus, 'phase_ended'), null)).toBe('focus');
  });
});

describe('settings form', () => {
  it('shows the settings in minutes', () => {
    expect(draftOf(timerSettings())).toEqual({ focus: '25', shortBreak: '5', longBreak: '15', rounds: '4' });
    expect(draftOf(timerSettings({ focus_secs: 90 })).focus).toBe('1.5');
  });

  it('turns minutes into the seconds the relay takes', () => {
    expect(settingsFromDraft({ focus: '50', shortBreak: '10', longBreak: '30', rounds: '3' })).toEqual({
      settings: { focus_secs: 3000, short_break_secs: 600, long_break_secs: 1800, rounds: 3 },
    });
    expect(settingsFromDraft({ focus: ' 1.5 ', shortBreak: '1', longBreak: '120', rounds: '12' })).toEqual({
      settings: { focus_secs: 90, short_break_secs: 60, long_break_secs: 7200, rounds: 12 },
    });
  });

  it("refuses what the relay would, with the field's range", () => {
    const ok = { focus: '25', shortBreak: '5', longBreak: '15', rounds: '4' };
    expect(settingsFromDraft({ ...ok, focus: '0' })).toEqual({ error: 'Focus must be from 1 to 240 minutes.' });
    expect(settingsFromDraft({ ...ok, focus: '241' })).toEqual({ error: 'Focus must be from 1 to 240 minutes.' });
    expect(settingsFromDraft({ ...ok, shortBreak: '61' })).toEqual({ error: 'Break must be from 1 to 60 minutes.' });
    expect(settingsFromDraft({ ...ok, longBreak: '0.5' })).toEqual({
      error: 'Long break must be from 1 to 120 minutes.',
    });
    expect(settingsFromDraft({ ...ok, rounds: '13' })).toEqual({ error: 'Rounds must be from 1 to 12.' });
    expect(settingsFromDraft({ ...ok, rounds: '2.5' })).toEqual({ error: 'Rounds: enter a whole number from 1 to 12.' });
    expect(settingsFromDraft({ ...ok, focus: '' })).toEqual({ error: 'Focus: enter a number from 1 to 240 minutes.' });
    expect(settingsFromDraft({ ...ok, focus: 'abc' })).toEqual({ error: 'Focus: enter a number from 1 to 240 minutes.' });
  });

  it('describes the settings and the run in words', () => {
    expect(describeSettings(timerSettings())).toBe('25 min focus · 5 min breaks · 15 min long break · 4 rounds');
    expect(describeRun(timerState())).toBe('Stopped');
    expect(describeRun(timerState({ run: timerRun(RELAY_NOW, { round: 2 }) }))).toBe('Focus · round 2 of 4');
    expect(describeRun(timerState({ run: timerRun(RELAY_NOW, { phase: 'long_break', paused: true }) }))).toBe(
      'Long break · round 1 of 4 · paused',
    );
  });
});
