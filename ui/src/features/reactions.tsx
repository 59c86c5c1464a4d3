/**
 * Reactions (docs/protocol.md, "Reactions"): a few emoji anyone sends from the toolbar,
 * shown floating on the sender's tile for a few seconds. The relay keeps none of them and
 * sends each to everyone, the sender too (`reaction`); over its rate it refuses one with
 * `rate_limited`, which is said quietly (a toast, not an error).
 */
import { useEffect, useState } from 'react';
import { Svg } from '../components/Icons';
import { usePopover } from '../hooks/usePopover';
import { describeError, featureRequest, isAppError, type FeatureEvent, type Reaction } from '../services/studyhall';
import type { FeatureSlotProps, ParticipantSlotProps, RoomFeatureUi } from './feature';

/** How long a reaction floats on a tile. */
export const REACTION_SHOW_MS = 3_000;
/** Most reactions floating on one tile at once (a burst shows its newest). */
export const REACTIONS_PER_TILE = 3;

/** The reactions there are, in the order the toolbar offers them. */
export const REACTIONS: readonly { reaction: Reaction; emoji: string; label: string }[] = [
  { reaction: 'thumbs_up', emoji: '👍', label: 'Thumbs up' },
  { reaction: 'clap', emoji: '👏', label: 'Clap' },
  { reaction: 'laugh', emoji: '😂', label: 'Laugh' },
  { reaction: 'question', emoji: '❓', label: 'Question' },
  { reaction: 'party', emoji: '🎉', label: 'Party' },
];

const EMOJI: Record<string, string> = Object.fromEntries(REACTIONS.map((r) => [r.reaction, r.emoji]));

/** One reaction received: who, which, and when it came (local clock). */
export type ShownReaction = { id: number; identity: string; reaction: Reaction; at: number };

export type ReactionsState = {
  /** The reactions still floating (or just done), oldest first. */
  shown: ShownReaction[];
  /** The next reaction's id (keys its float, so a repeat floats again). */
  next: number;
};

export function reactionsFromSnapshot(): ReactionsState {
  return { shown: [], next: 1 };
}

/**
 * Takes a `reaction` at local time `localNow`: it joins those shown, and those done by
 * then, and the sender's beyond the newest few, go.
 */
export function reactionsReducer(state: ReactionsState, event: FeatureEvent, localNow: number = Date.now()): ReactionsState {
  if (event.type !== 'reaction') return state;
  const fresh = state.shown.filter((r) => localNow - r.at < REACTION_SHOW_MS);
  const theirs = fresh.filter((r) => r.identity === event.identity);
  const dropped = new Set(theirs.slice(0, Math.max(0, theirs.length - (REACTIONS_PER_TILE - 1))).map((r) => r.id));
  const added = { id: state.next, identity: event.identity, reaction: event.reaction, at: localNow };
  return { shown: [...fresh.filter((r) => !dropped.has(r.id)), added], next: state.next + 1 };
}

/** The reactions of `identity` floating at local time `localNow`, oldest first. */
export function floating(state: ReactionsState, identity: string, localNow: number): ShownReaction[] {
  return state.shown.filter((r) => r.identity === identity && localNow - r.at < REACTION_SHOW_MS);
}

function SmileIcon() {
  return (
    <Svg>
      <circle cx="12" cy="12" r="9" />
      <path d="M8.5 14.5a4.5 4.5 0 0 0 7 0M9 9.5h.01M15 9.5h.01" />
    </Svg>
  );
}

/** The toolbar's reactions button, and the five emoji it opens. */
function ReactButton({ toast }: FeatureSlotProps<ReactionsState>) {
  const { open, setOpen, anchor } = usePopover();

  function react(reaction: Reaction) {
    featureRequest({ type: 'react', reaction }).catch((error: unknown) => {
      // Over the relay's rate: no harm done, just slow down.
      if (isAppError(error, 'rateLimited')) toast('Too many reactions at once: wait a moment.');
      else toast(`Couldn't send the reaction: ${describeError(error)}`, 'error');
    });
  }

  return (
    <div className="feature-popover-anchor" ref={anchor}>
      <button
        className={`tool ${open ? 'tool--active' : ''}`}
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        aria-haspopup="true"
        data-testid="react-button"
        title="Send a reaction"
      >
        <SmileIcon />
        <span>React</span>
      </button>
      {open && (
        <div className="feature-popover reactions-menu" role="group" aria-label="Reactions" data-testid="reactions-menu">
          {REACTIONS.map(({ reaction, emoji, label }) => (
            <button
              key={reaction}
              className="reactions-menu__item"
              onClick={() => react(reaction)}
              aria-label={label}
              title={label}
              data-testid={`react-${reaction}`}
            >
              {emoji}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

/** The reactions floating on a participant's tile; each goes after `REACTION_SHOW_MS`. */
function TileReactions({ state, participant }: ParticipantSlotProps<ReactionsState>) {
  // The time they were last drawn against; moved on when the oldest is done.
  const [now, setNow] = useState(() => Date.now());
  const newest = state.shown.at(-1);
  // A new reaction is drawn against its own time (it came after `now`).
  const at = Math.max(now, newest?.at ?? 0);
  const shown = floating(state, participant.identity, at);
  const first = shown[0];

  useEffect(() => {
    if (first === undefined) return;
    const timer = setTimeout(() => setNow(Date.now()), Math.max(0, first.at + REACTION_SHOW_MS - Date.now()));
    return () => clearTimeout(timer);
  }, [first]);

  return shown.map((r, i) => (
    <span
      key={r.id}
      className="tile-reaction"
      style={{ left: `${i * 1.6}rem` }}
      role="img"
      aria-label={`${participant.name} reacted: ${REACTIONS.find((x) => x.reaction === r.reaction)?.label ?? r.reaction}`}
      data-testid="tile-reaction"
      data-reaction={r.reaction}
    >
      {EMOJI[r.reaction] ?? '•'}
    </span>
  ));
}

export const reactions: RoomFeatureUi<ReactionsState, 'reactions'> = {
  key: 'reactions',
  fromSnapshot: reactionsFromSnapshot,
  reduce: (state, event) => reactionsReducer(state, event),
  Toolbar: ReactButton,
  TileBadge: TileReactions,
};
