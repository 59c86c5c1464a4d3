/**
 * The lecture (docs/protocol.md, "Lecture"): who presents, whether the room is a study
 * room or a lecture, who may speak, whether it takes new people, and the lecture's clock.
 * The relay sends the whole state on each change (`lecture`), and a
 * `participant_updated` to each participant whose role or media it changed, so the room
 * shows roles and microphones from the participants; this keeps the state itself and
 * shows it: the header's badges and clock, a host's controls in the people panel, "let
 * speak" beside each student, and a toast when a change concerns you. The rules are in
 * `./lectureState.ts`; the toolbar's microphone and camera follow `mayTurnOn`.
 */
import { Spinner } from '../components/Dialog';
import { useFeatureRequests } from '../hooks/useFeatureRequests';
import { useTicking } from '../hooks/useTicking';
import { featureRequest, type LectureState } from '../services/studyhall';
import type { FeatureSlotProps, ParticipantSlotProps, RoomFeatureUi } from './feature';
import {
  elapsedMs,
  formatElapsed,
  lectureFromSnapshot,
  lectureNotice,
  lectureReducer,
  maySpeak,
  presents,
  speakingControl,
} from './lectureState';

/** How often the lecture's clock is drawn again: twice a second, so no second is skipped. */
const CLOCK_TICK_MS = 500;

/** How long the lecture has run, counting up on the relay's clock. */
function LectureClock({ startedAt, offsetMs }: { startedAt: number; offsetMs: number | null }) {
  useTicking(true, CLOCK_TICK_MS);
  // A clock reads the time each time it is drawn.
  // eslint-disable-next-line react-hooks/purity
  const shown = formatElapsed(elapsedMs(startedAt, offsetMs, Date.now()));
  return (
    <span
      className="lecture-clock"
      role="timer"
      aria-label={`Lecture running for ${shown}`}
      title={`Started at ${new Date(startedAt - (offsetMs ?? 0)).toLocaleTimeString()}`}
      data-testid="lecture-clock"
      data-started-at={startedAt}
    >
      {shown}
    </span>
  );
}

/** "Lecture" and its clock while the room is one; "Locked" while it takes no new people. */
function LectureHeader({ state, relayClockOffsetMs }: FeatureSlotProps<LectureState>) {
  const lecture = state.mode === 'lecture';
  if (!lecture && !state.locked) return null;
  return (
    <div className="lecture-header" data-testid="lecture-header">
      {lecture && (
        <span className="badge badge--lecture" data-testid="lecture-badge">
          Lecture
        </span>
      )}
      {lecture && state.started_at !== null && (
        <LectureClock startedAt={state.started_at} offsetMs={relayClockOffsetMs} />
      )}
      {state.locked && (
        <span className="badge badge--locked" title="No new people can join" data-testid="room-locked-badge">
          Locked
        </span>
      )}
    </div>
  );
}

/** A host's controls of the room, at the top of the people panel. */
function RoomControls({ state, isHost, toast }: FeatureSlotProps<LectureState>) {
  const { pending, send } = useFeatureRequests(toast);
  if (!isHost) return null;
  const lecture = state.mode === 'lecture';

  const control = (
    key: string,
    testId: string,
    label: string,
    onClick: () => void,
    extra: { pressed?: boolean; disabled?: boolean; title?: string } = {},
  ) => {
    const busy = pending(key);
    return (
      <button
        className={`button button--small ${extra.pressed ? 'is-on' : ''}`}
        onClick={onClick}
        disabled={busy || extra.disabled}
        aria-busy={busy}
        aria-pressed={extra.pressed}
        title={extra.title}
        data-testid={testId}
      >
        {busy && <Spinner />}
        {label}
      </button>
    );
  };

  return (
    <section className="feature-section" aria-label="Moderation" data-testid="room-controls">
      <h3 className="feature-section__title">Moderation</h3>
      <p className="moderation__summary small muted" data-testid="room-mode" data-mode={state.mode}>
        {lecture
          ? state.everyone_speaks
            ? 'A lecture: every student may speak.'
            : 'A lecture: students speak when you let them.'
          : 'A study room: everyone may speak and share.'}
      </p>
      <div className="moderation">
        {control(
          'mode',
          'lecture-mode-toggle',
          lecture ? 'Back to study room' : 'Make it a lecture',
          () =>
            void send(
              'mode',
              { type: 'set_room_mode', mode: lecture ? 'study' : 'lecture' },
              lecture ? 'make this a study room' : 'make this room a lecture',
            ),
          {
            title: lecture
              ? 'Everyone may speak, show their camera and share their screen again'
              : 'Students join muted and speak when you let them; only presenters and you share a screen',
          },
        )}
        {control(
          'speak',
          'allow-everyone',
          state.everyone_speaks ? 'Stop everyone speaking' : 'Let everyone speak',
          () =>
            void send(
              'speak',
              { type: 'allow_speaking', identity: null, allowed: !state.everyone_speaks },
              state.everyone_speaks ? 'stop everyone speaking' : 'let everyone speak',
            ),
          {
            pressed: state.everyone_speaks,
            disabled: !lecture,
            title: lecture ? undefined : 'In a study room everyone may speak',
          },
        )}
        {control('mute', 'mute-all', 'Mute everyone', () => {
          void send('mute', { type: 'mute_all' }, 'mute everyone').then((ok) => {
            if (ok) toast('Everyone but you and the presenters is muted.');
          });
        }, { title: 'Turn off the microphone of everyone but hosts and presenters' })}
        {control(
          'lock',
          'lock-room',
          state.locked ? 'Unlock room' : 'Lock room',
          () => void send('lock', { type: 'lock_room', locked: !state.locked }, state.locked ? 'unlock the room' : 'lock the room'),
          {
            pressed: state.locked,
            title: state.locked ? 'Let new people join again' : 'No new people join; those here can still reconnect',
          },
        )}
      </div>
    </section>
  );
}

/** "May speak" under a student's name while the host lets them speak, one by one. */
function SpeakerBadge({ state, participant }: ParticipantSlotProps<LectureState>) {
  if (state.mode !== 'lecture' || state.everyone_speaks || presents(participant)) return null;
  if (!maySpeak(state, participant.identity)) return null;
  return (
    <span className="badge badge--calm" data-testid="may-speak">
      May speak
    </span>
  );
}

/**
 * A host's "Let speak" / "Stop" for a student in a lecture. Letting them speak also
 * lowers their hand: the hand asked for exactly this.
 */
function SpeakAction({ state, participant, isHost, toast }: ParticipantSlotProps<LectureState>) {
  const { pending, send } = useFeatureRequests(toast);
  const control = isHost ? speakingControl(state, participant) : null;
  if (control === null) return null;
  const allow = control === 'let';
  const { identity, name } = participant;
  const busy = pending('speak');

  function onClick() {
    void send(
      'speak',
      { type: 'allow_speaking', identity, allowed: allow },
      allow ? `let ${name} speak` : `stop ${name} speaking`,
    ).then((ok) => {
      // A hand that is down makes this a no-op; a failure leaves only a hand up.
      if (ok && allow) {
        featureRequest({ type: 'lower_hand_of', identity }).catch((error: unknown) =>
          console.warn(`lowering the hand of ${identity} failed`, error),
        );
      }
    });
  }

  return (
    <button
      className="person__action"
      onClick={onClick}
      disabled={busy}
      aria-busy={busy}
      title={allow ? `Let ${name} turn on their microphone and camera` : `Turn ${name}'s microphone and camera off`}
      data-testid={`let-speak-${identity}`}
      data-allowed={!allow}
    >
      {busy && <Spinner />}
      {allow ? 'Let speak' : 'Stop'}
    </button>
  );
}

export const lecture: RoomFeatureUi<LectureState, 'lecture'> = {
  key: 'lecture',
  fromSnapshot: lectureFromSnapshot,
  reduce: lectureReducer,
  onEvent: (event, room, before) => {
    const notice = lectureNotice(event, room, before);
    if (notice !== null) room.toast(notice);
  },
  Header: LectureHeader,
  PeopleSection: RoomControls,
  PersonBadge: SpeakerBadge,
  PersonActions: SpeakAction,
};
