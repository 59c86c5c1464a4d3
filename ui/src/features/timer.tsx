/**
 * The focus timer: the room studies to one clock, focus phases and breaks (a pomodoro).
 * The relay keeps it and sends its whole state on every change (`timer`); here it is
 * shown in the room's header, counting down on the relay's clock, controlled from a
 * toolbar panel, and on everyone's tile. The rules are in `./timerState.ts`.
 */
import { useState, type FormEvent } from 'react';
import { Spinner } from '../components/Dialog';
import { Svg } from '../components/Icons';
import { usePopover } from '../hooks/usePopover';
import { useTicking } from '../hooks/useTicking';
import { describeError, featureRequest, type TimerRequest } from '../services/studyhall';
import { playChime } from './chime';
import type { FeatureSlotProps, ParticipantSlotProps, RoomFeatureUi } from './feature';
import {
  canControl,
  chimeFor,
  describeRun,
  describeSettings,
  draftOf,
  formatClock,
  offsetFor,
  PHASE_LABELS,
  quietUntil,
  remainingMs,
  SETTING_FIELDS,
  settingsFromDraft,
  timerBadge,
  timerFromSnapshot,
  timerReducer,
  type SettingsDraft,
  type TimerUiState,
} from './timerState';

export type { TimerUiState } from './timerState';

/** How often a running countdown is drawn again: often enough that seconds never skip. */
const TICK_MS = 250;

function TimerIcon() {
  return (
    <Svg>
      <circle cx="12" cy="13" r="8" />
      <path d="M12 9v4l2.5 2.5M9.5 2.5h5M12 2.5V5" />
    </Svg>
  );
}

const RING_R = 17;
const RING_C = 2 * Math.PI * RING_R;

/** The phase's time left as a closing ring. */
function ProgressRing({ left }: { left: number }) {
  return (
    <svg className="timer-ring" viewBox="0 0 40 40" aria-hidden="true">
      <circle className="timer-ring__track" cx="20" cy="20" r={RING_R} />
      <circle
        className="timer-ring__left"
        cx="20"
        cy="20"
        r={RING_R}
        strokeDasharray={RING_C}
        strokeDashoffset={RING_C * (1 - Math.min(1, Math.max(0, left)))}
        transform="rotate(-90 20 20)"
      />
    </svg>
  );
}

/** The countdown in the room's header, while the timer runs or is paused. */
function TimerDisplay({ state, relayClockOffsetMs }: FeatureSlotProps<TimerUiState>) {
  const { timer } = state;
  const run = timer.run;
  useTicking(run !== null && !run.paused, TICK_MS);
  if (run === null) return null;
  // A countdown reads the clock each time it is drawn (4 times a second while running).
  // eslint-disable-next-line react-hooks/purity
  const left = remainingMs(run, offsetFor(state, relayClockOffsetMs), Date.now());
  const phase = PHASE_LABELS[run.phase];
  const round = `Round ${run.round} of ${timer.settings.rounds}`;
  return (
    <div
      className={`timer-display timer-display--${run.phase} ${run.paused ? 'timer-display--paused' : ''}`}
      role="timer"
      aria-label={`${phase}, ${round.toLowerCase()}, ${formatClock(left)} left${run.paused ? ', paused' : ''}`}
      data-testid="timer-display"
      data-phase={run.phase}
      data-paused={run.paused}
    >
      <ProgressRing left={run.phase_ms > 0 ? left / run.phase_ms : 0} />
      <div className="timer-display__text">
        <span className="timer-display__phase">
          <span data-testid="timer-phase">{phase}</span>
          {run.paused && <span className="timer-display__paused"> · paused</span>}
        </span>
        <span className="timer-display__time" data-testid="timer-remaining" data-remaining-ms={left}>
          {formatClock(left)}
        </span>
        <span className="timer-display__round" data-testid="timer-round">
          {round}
        </span>
      </div>
    </div>
  );
}

type Action = 'start' | 'pause' | 'resume' | 'skip' | 'stop' | 'anyone' | 'quiet';

const ACTION_WORDS: Record<Action, string> = {
  start: 'start the timer',
  pause: 'pause the timer',
  resume: 'resume the timer',
  skip: 'skip to the next phase',
  stop: 'stop the timer',
  anyone: 'change who controls the timer',
  quiet: 'change quiet chat',
};

/** The toolbar's timer button and its panel. */
function TimerControl(props: FeatureSlotProps<TimerUiState>) {
  const { open, setOpen, anchor } = usePopover();

  const running = props.state.timer.run !== null;
  return (
    <div className="feature-popover-anchor" ref={anchor}>
      <button
        className={`tool ${open ? 'tool--active' : ''}`}
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        aria-haspopup="dialog"
        data-testid="toggle-timer"
        data-running={running}
        title="The room's focus timer"
      >
        <TimerIcon />
        <span>Timer</span>
        {running && !open && <span className="tool__dot" aria-hidden="true" />}
      </button>
      {open && <TimerPanel {...props} />}
    </div>
  );
}

/** Start, pause, skip and stop for those allowed; the state, read-only, for the others. */
function TimerPanel({ state, isHost, toast }: FeatureSlotProps<TimerUiState>) {
  const { timer } = state;
  const run = timer.run;
  const [pending, setPending] = useState<Action | null>(null);
  // The form's text once edited; until then it follows the room's settings.
  const [draft, setDraft] = useState<SettingsDraft | null>(null);
  const [startError, setStartError] = useState<string | null>(null);
  const shown = draft ?? draftOf(timer.settings);
  const control = canControl(timer, isHost);
  const busy = pending !== null;

  function send(action: Action, request: TimerRequest, onError?: (message: string) => void) {
    if (busy) return;
    setPending(action);
    featureRequest(request).then(
      () => {
        setPending(null);
        if (action === 'start') setDraft(null);
      },
      (error: unknown) => {
        setPending(null);
        const message = describeError(error);
        if (onError) onError(message);
        else toast(`Couldn't ${ACTION_WORDS[action]}: ${message}`, 'error');
      },
    );
  }

  function start(e: FormEvent) {
    e.preventDefault();
    const parsed = settingsFromDraft(shown);
    if ('error' in parsed) {
      setStartError(parsed.error);
      return;
    }
    setStartError(null);
    send('start', { type: 'timer_start', settings: parsed.settings }, setStartError);
  }

  const actionButton = (action: Action, label: string, request: TimerRequest, title: string, extra = '') => (
    <button
      type="button"
      className={`button button--small ${extra}`}
      onClick={() => send(action, request)}
      disabled={busy}
      aria-busy={pending === action}
      title={title}
      data-testid={`timer-${action}`}
    >
      {pending === action && <Spinner />}
      {label}
    </button>
  );

  return (
    <section className="feature-popover timer-panel" role="dialog" aria-label="Focus timer" data-testid="timer-panel">
      <h3 className="feature-section__title">Focus timer</h3>
      <p className="timer-panel__status" data-testid="timer-status">
        {describeRun(timer)}
        {timer.focus_completed > 0 && (
          <span className="muted">
            {' '}
            · {timer.focus_completed} focus {timer.focus_completed === 1 ? 'phase' : 'phases'} done
          </span>
        )}
      </p>

      {control ? (
        <>
          <form className="timer-panel__form" onSubmit={start} noValidate>
            <div className="timer-panel__fields">
              {SETTING_FIELDS.map((field) => (
                <label key={field.key} className="timer-panel__field">
                  <span className="label">
                    {field.label}
                    {field.setting !== 'rounds' && <span className="muted"> (min)</span>}
                  </span>
                  <input
                    className="input"
                    type="number"
                    inputMode={field.setting === 'rounds' ? 'numeric' : 'decimal'}
                    min={field.setting === 'rounds' ? field.min : field.min / 60}
                    max={field.setting === 'rounds' ? field.max : field.max / 60}
                    step={field.setting === 'rounds' ? 1 : 'any'}
                    value={shown[field.key]}
                    onChange={(e) => {
                      setDraft({ ...shown, [field.key]: e.target.value });
                      setStartError(null);
                    }}
                    disabled={busy}
                    aria-invalid={startError !== null}
                    data-testid={field.testId}
                  />
                </label>
              ))}
            </div>
            {startError && (
              <p className="field-error" role="alert" data-testid="timer-error">
                {startError}
              </p>
            )}
            <button
              type="submit"
              className="button button--primary button--small"
              disabled={busy}
              aria-busy={pending === 'start'}
              title={run ? 'Start again from round 1 with these settings' : 'Start round 1'}
              data-testid="timer-start"
            >
              {pending === 'start' && <Spinner />}
              {run ? 'Restart' : 'Start'}
            </button>
          </form>
          {run && (
            <div className="timer-panel__actions">
              {run.paused
                ? actionButton('resume', 'Resume', { type: 'timer_resume' }, 'Go on counting down')
                : actionButton('pause', 'Pause', { type: 'timer_pause' }, 'Hold the time left')}
              {actionButton('skip', 'Skip', { type: 'timer_skip' }, 'End this phase and begin the next')}
              {actionButton('stop', 'Stop', { type: 'timer_stop' }, 'Stop the timer for everyone', 'button--danger-text')}
            </div>
          )}
        </>
      ) : (
        <>
          <p className="timer-panel__settings">{describeSettings(timer.settings)}</p>
          <p className="muted small" data-testid="timer-host-only">
            Only the host controls the timer.
          </p>
        </>
      )}

      {isHost ? (
        <div className="timer-panel__options">
          <label className="check">
            <input
              type="checkbox"
              checked={timer.anyone_controls}
              onChange={() => send('anyone', { type: 'timer_options', anyone_controls: !timer.anyone_controls })}
              disabled={busy}
              aria-busy={pending === 'anyone'}
              data-testid="timer-anyone"
            />
            Let everyone control the timer
            {pending === 'anyone' && <Spinner />}
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={timer.quiet_during_focus}
              onChange={() =>
                send('quiet', { type: 'timer_options', quiet_during_focus: !timer.quiet_during_focus })
              }
              disabled={busy}
              aria-busy={pending === 'quiet'}
              data-testid="timer-quiet"
            />
            Quiet chat during focus
            {pending === 'quiet' && <Spinner />}
          </label>
        </div>
      ) : (
        (timer.anyone_controls || timer.quiet_during_focus) && (
          <p className="muted small">
            {timer.anyone_controls && 'The host lets everyone control the timer. '}
            {timer.quiet_during_focus && 'Chat notifications wait for the breaks.'}
          </p>
        )
      )}
    </section>
  );
}

/** "Focusing" or "On a break" on the tile of everyone here, while the timer runs. */
function TimerTileBadge({ state, participant }: ParticipantSlotProps<TimerUiState>) {
  const label = timerBadge(state, participant);
  if (label === null) return null;
  return (
    <span className="feature-badge feature-badge--calm" data-testid={`timer-badge-${participant.identity}`}>
      {label}
    </span>
  );
}

/** The same on a person's row in the people panel. */
function TimerPersonBadge({ state, participant }: ParticipantSlotProps<TimerUiState>) {
  const label = timerBadge(state, participant);
  if (label === null) return null;
  return (
    <span className="badge badge--calm" data-testid={`timer-badge-${participant.identity}`}>
      {label}
    </span>
  );
}

export const timer: RoomFeatureUi<TimerUiState, 'timer'> = {
  key: 'timer',
  fromSnapshot: (features) => timerFromSnapshot(features),
  reduce: (state, event) => timerReducer(state, event),
  onEvent: (event, room) => {
    const phase = chimeFor(event, room.profile);
    if (phase !== null) playChime(phase);
  },
  quietNotifications: quietUntil,
  Header: TimerDisplay,
  Toolbar: TimerControl,
  TileBadge: TimerTileBadge,
  PersonBadge: TimerPersonBadge,
};
