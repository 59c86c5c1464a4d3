/**
 * Raise hand: one queue of raised hands per room, first raised first (docs/protocol.md,
 * "Raise hand"). The relay sends the whole queue on every change (`hand_queue`), so the
 * state is simply its latest copy; nothing here changes it before the relay says so. A
 * host lowers one hand or every hand (`lower_all_hands`).
 */
import { useState } from 'react';
import { Spinner } from '../components/Dialog';
import { Svg } from '../components/Icons';
import { useFeatureRequests } from '../hooks/useFeatureRequests';
import {
  describeError,
  featureRequest,
  type FeatureEvent,
  type FeatureSnapshot,
  type HandRequest,
  type RaisedHand,
} from '../services/studyhall';
import { isolate } from '../state/text';
import type { FeatureSlotProps, ParticipantSlotProps, RoomFeatureUi } from './feature';

export type HandsState = {
  /** Raised hands, first raised first. */
  queue: RaisedHand[];
};

export function handsFromSnapshot(features: FeatureSnapshot): HandsState {
  return { queue: features.hands };
}

export function handsReducer(state: HandsState, event: FeatureEvent): HandsState {
  switch (event.type) {
    case 'hand_queue':
      return { queue: event.hands };
    default:
      return state;
  }
}

/** Where `identity`'s hand is in the queue, from 1; null when it is down. */
export function queuePosition(state: HandsState, identity: string): number | null {
  const i = state.queue.findIndex((h) => h.identity === identity);
  return i < 0 ? null : i + 1;
}

function HandIcon() {
  return (
    <Svg>
      <path d="M8 12.5V6a1.5 1.5 0 0 1 3 0v5M11 10.5V4.5a1.5 1.5 0 0 1 3 0v6M14 10.5V6a1.5 1.5 0 0 1 3 0v6" />
      <path d="M17 11a1.5 1.5 0 0 1 3 0v3a7 7 0 0 1-7 7h-.6a6 6 0 0 1-4.8-2.4l-3.2-4.3a1.5 1.5 0 0 1 2.3-1.9L8 14" />
    </Svg>
  );
}

/** The toolbar's raise / lower button. */
function RaiseHandButton({ state, you, toast }: FeatureSlotProps<HandsState>) {
  const [pending, setPending] = useState(false);
  const raised = queuePosition(state, you.identity) !== null;

  function toggle() {
    if (pending) return;
    setPending(true);
    featureRequest(raised ? { type: 'lower_hand' } : { type: 'raise_hand' }).then(
      () => setPending(false),
      (error: unknown) => {
        setPending(false);
        toast(`Couldn't ${raised ? 'lower' : 'raise'} your hand: ${describeError(error)}`, 'error');
      },
    );
  }

  const label = raised ? 'Lower hand' : 'Raise hand';
  return (
    <button
      className={`tool ${raised ? 'tool--attention' : ''}`}
      onClick={toggle}
      aria-pressed={raised}
      aria-busy={pending}
      disabled={pending}
      data-testid="toggle-hand"
      data-pending={pending}
      title={raised ? 'Lower your hand' : 'Raise your hand to ask to speak'}
    >
      {pending ? <Spinner /> : <HandIcon />}
      <span>{label}</span>
    </button>
  );
}

/** A hand and the place in the queue, on a raised hand's tile. */
function HandBadge({ state, participant }: ParticipantSlotProps<HandsState>) {
  const position = queuePosition(state, participant.identity);
  if (position === null) return null;
  const words = `Hand raised, number ${position} in the queue`;
  return (
    <span className="feature-badge" role="img" aria-label={words} title={words} data-testid={`hand-${participant.identity}`}>
      <HandIcon />
      {position}
    </span>
  );
}

/**
 * The queue in the people panel. A host can lower any hand, or all of them, and gets the
 * other features' actions beside each (in a lecture: "Let speak").
 */
function HandQueue({ state, you, people, isHost, toast, personActions }: FeatureSlotProps<HandsState>) {
  const [lowering, setLowering] = useState<ReadonlySet<string>>(new Set());
  const everyHand = useFeatureRequests(toast);
  const byIdentity = new Map(people.map((p) => [p.identity, p]));
  const nameOf = (identity: string) => byIdentity.get(identity)?.name ?? identity;

  function lower(identity: string) {
    if (lowering.has(identity)) return;
    const request: HandRequest =
      identity === you.identity ? { type: 'lower_hand' } : { type: 'lower_hand_of', identity };
    const done = () =>
      setLowering((all) => {
        const rest = new Set(all);
        rest.delete(identity);
        return rest;
      });
    setLowering((all) => new Set(all).add(identity));
    featureRequest(request).then(done, (error: unknown) => {
      done();
      toast(`Couldn't lower the hand of ${isolate(nameOf(identity))}: ${describeError(error)}`, 'error');
    });
  }

  const loweringAll = everyHand.pending('all');
  return (
    <section className="feature-section" aria-label="Raised hands" data-testid="hand-queue">
      <div className="feature-section__head">
        <h3 className="feature-section__title">Raised hands</h3>
        {isHost && state.queue.length > 0 && (
          <button
            className="button button--small button--ghost"
            onClick={() => void everyHand.send('all', { type: 'lower_all_hands' }, 'lower every hand')}
            disabled={loweringAll}
            aria-busy={loweringAll}
            data-testid="lower-all-hands"
          >
            {loweringAll && <Spinner />}
            Lower all
          </button>
        )}
      </div>
      {state.queue.length === 0 ? (
        <p className="feature-section__empty muted">No hands raised</p>
      ) : (
        <ol className="feature-list">
          {state.queue.map((hand, i) => {
            const busy = lowering.has(hand.identity);
            const person = byIdentity.get(hand.identity);
            return (
              <li
                key={hand.identity}
                className="feature-list__item"
                title={`Raised at ${new Date(hand.raised_at).toLocaleTimeString()}`}
                data-testid={`queued-${hand.identity}`}
              >
                <span className="feature-list__position" aria-hidden="true">
                  {i + 1}
                </span>
                <span className="feature-list__name" title={nameOf(hand.identity)}>
                  <bdi data-testid="queued-name">{nameOf(hand.identity)}</bdi>
                  {hand.identity === you.identity && <span className="muted"> (you)</span>}
                </span>
                {person && <span className="feature-list__actions">{personActions(person)}</span>}
                {isHost && (
                  <button
                    className="button button--small"
                    onClick={() => lower(hand.identity)}
                    disabled={busy}
                    aria-busy={busy}
                    data-testid={`lower-hand-${hand.identity}`}
                  >
                    {busy && <Spinner />}
                    Lower
                  </button>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}

export const hands: RoomFeatureUi<HandsState, 'hands'> = {
  key: 'hands',
  fromSnapshot: handsFromSnapshot,
  reduce: handsReducer,
  Toolbar: RaiseHandButton,
  TileBadge: HandBadge,
  PeopleSection: HandQueue,
};
