/**
 * Presence: whether someone is here, away or on a break (docs/protocol.md, `set_presence`).
 * It lives on each participant (`presence`), so this feature keeps no state of its own:
 * the relay echoes a change as `participantUpdated`. The app also sets `away` by itself
 * after some minutes without input, and `active` again at the next input.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Spinner } from '../components/Dialog';
import { describeError, featureRequest, type Presence } from '../services/studyhall';
import type { FeatureSlotProps, ParticipantSlotProps, RoomFeatureUi } from './feature';

/** No state: presence is in the participant list. */
export type PresenceState = null;

/** How long without input before the app says we are away. */
export const AWAY_AFTER_MS = 5 * 60_000;

/** What counts as the user being here. */
const INPUT_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;

export const PRESENCE_LABELS: Record<Presence, string> = {
  active: 'Active',
  away: 'Away',
  on_break: 'On a break',
};

function isPresence(value: string): value is Presence {
  return Object.hasOwn(PRESENCE_LABELS, value);
}

function onInput(listener: () => void): () => void {
  for (const name of INPUT_EVENTS) window.addEventListener(name, listener, { passive: true });
  return () => {
    for (const name of INPUT_EVENTS) window.removeEventListener(name, listener);
  };
}

/**
 * Sets `away` after `delayMs` without input while `presence` is `active`, and `active`
 * again at the next input, but only if it was this hook that set `away`: a presence the
 * user chose stays. `setPresence` sends the change; `presence` is what the relay says.
 * Call `userChose` when the user picks a presence themselves.
 */
export function useAutoAway(
  presence: Presence,
  setPresence: (presence: Presence) => Promise<unknown>,
  delayMs: number = AWAY_AFTER_MS,
): { userChose: () => void } {
  // Whether the away now shown (or asked for) is ours rather than the user's.
  const autoAway = useRef(false);
  const send = useRef(setPresence);
  useEffect(() => {
    send.current = setPresence;
  });

  useEffect(() => {
    if (presence !== 'away') autoAway.current = false;
    let stopped = false;

    if (presence === 'active') {
      let lastInput = Date.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const check = () => {
        const idle = Date.now() - lastInput;
        if (idle < delayMs) {
          timer = setTimeout(check, delayMs - idle);
          return;
        }
        autoAway.current = true;
        send.current('away').catch((error: unknown) => {
          console.warn('setting away failed', error);
          autoAway.current = false;
          if (stopped) return;
          lastInput = Date.now();
          timer = setTimeout(check, delayMs);
        });
      };
      timer = setTimeout(check, delayMs);
      const stop = onInput(() => {
        lastInput = Date.now();
      });
      return () => {
        stopped = true;
        clearTimeout(timer);
        stop();
      };
    }

    if (presence === 'away' && autoAway.current) {
      let sending = false;
      const stop = onInput(() => {
        if (sending || !autoAway.current) return;
        sending = true;
        send.current('active').catch((error: unknown) => {
          console.warn('setting active failed', error);
          sending = false;
        });
      });
      return () => {
        stopped = true;
        stop();
      };
    }
  }, [presence, delayMs]);

  const userChose = useCallback(() => {
    autoAway.current = false;
  }, []);
  return { userChose };
}

const setPresence = (presence: Presence) => featureRequest({ type: 'set_presence', presence });

/** The toolbar's presence choice; also runs the automatic away. */
function PresenceControl({ you, toast }: FeatureSlotProps<PresenceState>) {
  const [pending, setPending] = useState<Presence | null>(null);
  const { userChose } = useAutoAway(you.presence, setPresence);

  function choose(value: string) {
    if (!isPresence(value) || pending !== null) return;
    userChose();
    setPending(value);
    setPresence(value).then(
      () => setPending(null),
      (error: unknown) => {
        setPending(null);
        toast(`Couldn't change your presence: ${describeError(error)}`, 'error');
      },
    );
  }

  const shown = pending ?? you.presence;
  return (
    <label className="tool tool--presence" title="Let the others know whether you are here">
      {pending !== null ? <Spinner /> : <span className={`presence-dot presence-dot--${shown}`} aria-hidden="true" />}
      <select
        className="tool__select"
        value={shown}
        onChange={(e) => choose(e.target.value)}
        disabled={pending !== null}
        aria-label="Your presence"
        aria-busy={pending !== null}
        data-testid="presence"
      >
        {Object.entries(PRESENCE_LABELS).map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** "Away" or "On a break" on a person row; nothing while active. */
function PresenceBadge({ participant }: ParticipantSlotProps<PresenceState>) {
  if (participant.presence === 'active') return null;
  return (
    <span className="badge badge--away" data-testid={`presence-${participant.identity}`}>
      {PRESENCE_LABELS[participant.presence]}
    </span>
  );
}

export const presence: RoomFeatureUi<PresenceState, 'presence'> = {
  key: 'presence',
  fromSnapshot: () => null,
  reduce: (state) => state,
  Toolbar: PresenceControl,
  PersonBadge: PresenceBadge,
};
