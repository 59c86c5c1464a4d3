/**
 * The focus timer's state and rules, apart from its components (`./timer.tsx`). The relay
 * keeps the timer and sends its whole state on every change (`timer`); this side only
 * counts down between changes, on the relay's clock: a phase ends at `run.ends_at` relay
 * time, which is `ends_at - offset` here.
 */
import type {
  FeatureEvent,
  FeatureSnapshot,
  Participant,
  Phase,
  Profile,
  TimerRun,
  TimerSettings,
  TimerState,
} from '../services/types';

export type TimerUiState = {
  /** The timer as the relay last sent it. */
  timer: TimerState;
  /**
   * The relay's clock minus ours, guessed from `timer.now` as the state arrived (the trip
   * is counted as nothing); used until the app has measured the offset.
   */
  guessedOffsetMs: number;
};

export const PHASE_LABELS: Record<Phase, string> = {
  focus: 'Focus',
  short_break: 'Short break',
  long_break: 'Long break',
};

/** Relay clock minus ours, from the relay's `now` at `localNow`; 0 without one. */
export function guessOffset(timer: TimerState, localNow: number): number {
  return timer.now ? timer.now - localNow : 0;
}

export function timerFromSnapshot(features: FeatureSnapshot, localNow: number = Date.now()): TimerUiState {
  return { timer: features.timer, guessedOffsetMs: guessOffset(features.timer, localNow) };
}

export function timerReducer(state: TimerUiState, event: FeatureEvent, localNow: number = Date.now()): TimerUiState {
  switch (event.type) {
    case 'timer':
      // An event older than the state held (queued before a rejoin's snapshot) is stale.
      if (event.timer.now && state.timer.now && event.timer.now < state.timer.now) return state;
      return { timer: event.timer, guessedOffsetMs: guessOffset(event.timer, localNow) };
    default:
      return state;
  }
}

/** The offset to count with: the app's measurement once there is one, else the guess. */
export function offsetFor(state: TimerUiState, measuredOffsetMs: number | null): number {
  return measuredOffsetMs ?? state.guessedOffsetMs;
}

/**
 * Ms left in `run` at local time `localNow`, the relay's clock being `offsetMs` ahead:
 * exact while paused; while running, from the end (never below 0 nor above the phase).
 */
export function remainingMs(run: TimerRun, offsetMs: number, localNow: number): number {
  const left = run.paused || run.ends_at === null ? run.remaining_ms : run.ends_at - (localNow + offsetMs);
  return Math.round(Math.min(run.phase_ms, Math.max(0, left)));
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `mm:ss` (or `h:mm:ss` from an hour), whole seconds rounded up as a countdown shows. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${pad(minutes)}:${pad(seconds)}`;
}

/** Whether this user may start, pause, resume, skip and stop the timer. */
export function canControl(timer: TimerState, isHost: boolean): boolean {
  return isHost || timer.anyone_controls;
}

/** Whether the timer counts down now (not stopped, not paused). */
export function isRunning(timer: TimerState): boolean {
  return timer.run !== null && !timer.run.paused;
}

/**
 * Chat notifications wait during a running focus phase when the host asked for quiet:
 * "shown at the break". A paused phase is not quiet (the room has stopped to talk).
 */
export function quietUntil(state: TimerUiState): string | null {
  const { timer } = state;
  return timer.quiet_during_focus && isRunning(timer) && timer.run?.phase === 'focus' ? 'at the break' : null;
}

/**
 * What a participant's badge says while the timer runs: "Focusing" or "On a break". Only
 * for those who are here (`active`); the away and those on their own break keep their
 * presence badge instead.
 */
export function timerBadge(state: TimerUiState, participant: Participant): string | null {
  const run = state.timer.run;
  if (run === null || run.paused || participant.presence !== 'active') return null;
  return run.phase === 'focus' ? 'Focusing' : 'On a break';
}

/** The phase to chime for when `event` began one, or null (no new phase, or chimes off). */
export function chimeFor(event: FeatureEvent, profile: Profile | null): Phase | null {
  if (event.type !== 'timer' || profile?.timerChime === false) return null;
  if (event.change !== 'started' && event.change !== 'skipped' && event.change !== 'phase_ended') return null;
  return event.timer.run?.phase ?? null;
}

/** The settings form's text, as typed: phases in minutes, and rounds. */
export type SettingsDraft = { focus: string; shortBreak: string; longBreak: string; rounds: string };

type SettingField = {
  key: keyof SettingsDraft;
  setting: keyof TimerSettings;
  label: string;
  /** The relay's range (docs/protocol.md): seconds for phases, a count for rounds. */
  min: number;
  max: number;
  testId: string;
};

/** The relay's ranges (protocol `TimerSettings::RANGES`), checked here first. */
export const SETTING_FIELDS: readonly SettingField[] = [
  { key: 'focus', setting: 'focus_secs', label: 'Focus', min: 60, max: 4 * 3600, testId: 'timer-focus-min' },
  { key: 'shortBreak', setting: 'short_break_secs', label: 'Break', min: 60, max: 3600, testId: 'timer-break-min' },
  { key: 'longBreak', setting: 'long_break_secs', label: 'Long break', min: 60, max: 2 * 3600, testId: 'timer-long-break-min' },
  { key: 'rounds', setting: 'rounds', label: 'Rounds', min: 1, max: 12, testId: 'timer-rounds' },
];

const isRounds = (field: SettingField) => field.setting === 'rounds';

/** The form's text for `settings` (minutes to two decimals at most). */
export function draftOf(settings: TimerSettings): SettingsDraft {
  const minutes = (secs: number) => String(Math.round((secs / 60) * 100) / 100);
  return {
    focus: minutes(settings.focus_secs),
    shortBreak: minutes(settings.short_break_secs),
    longBreak: minutes(settings.long_break_secs),
    rounds: String(settings.rounds),
  };
}

/** The settings the form says, or why they cannot be (the first field out of range). */
export function settingsFromDraft(draft: SettingsDraft): { settings: TimerSettings } | { error: string } {
  const settings: Record<string, number> = {};
  for (const field of SETTING_FIELDS) {
    const text = draft[field.key].trim();
    const value = Number(text);
    const range = isRounds(field)
      ? `${field.min} to ${field.max}`
      : `${field.min / 60} to ${field.max / 60} minutes`;
    if (text === '' || !Number.isFinite(value)) return { error: `${field.label}: enter a number from ${range}.` };
    if (isRounds(field) && !Number.isInteger(value)) return { error: `Rounds: enter a whole number from ${range}.` };
    const stored = isRounds(field) ? value : Math.round(value * 60);
    if (stored < field.min || stored > field.max) return { error: `${field.label} must be from ${range}.` };
    settings[field.setting] = stored;
  }
  return { settings: settings as TimerSettings };
}

/** "25 min focus · 5 min breaks · 15 min long break · 4 rounds". */
export function describeSettings(settings: TimerSettings): string {
  const min = (secs: number) => `${Math.round((secs / 60) * 100) / 100} min`;
  const rounds = settings.rounds === 1 ? '1 round' : `${settings.rounds} rounds`;
  return `${min(settings.focus_secs)} focus · ${min(settings.short_break_secs)} breaks · ${min(settings.long_break_secs)} long break · ${rounds}`;
}

/** Where the timer is, in words: "Stopped", "Focus · round 2 of 4 · paused". */
export function describeRun(timer: TimerState): string {
  const run = timer.run;
  if (run === null) return 'Stopped';
  return `${PHASE_LABELS[run.phase]} · round ${run.round} of ${timer.settings.rounds}${run.paused ? ' · paused' : ''}`;
}
