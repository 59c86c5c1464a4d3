/**
 * Who is speaking. The relay says so (the `speakers` room event); until it has, the UI
 * guesses from media-status levels: the loudest key above a threshold, held for a moment
 * after they pause so the highlight does not flicker between words.
 */

export const SPEAKING_LEVEL = 0.05;
export const SPEAKER_HOLD_MS = 1200;

export type SpeakerState = { key: string | null; lastLoudAt: number };

export const noSpeaker: SpeakerState = { key: null, lastLoudAt: 0 };

/** The key with the highest level above `threshold`, or null. */
export function loudest(
  levels: readonly { key: string; level: number }[],
  threshold: number = SPEAKING_LEVEL,
): string | null {
  let best: string | null = null;
  let bestLevel = threshold;
  for (const { key, level } of levels) {
    if (level > bestLevel) {
      best = key;
      bestLevel = level;
    }
  }
  return best;
}

/** The next active speaker after a media-status update at time `now` (ms). */
export function nextSpeaker(
  state: SpeakerState,
  levels: readonly { key: string; level: number }[],
  now: number,
  threshold: number = SPEAKING_LEVEL,
  holdMs: number = SPEAKER_HOLD_MS,
): SpeakerState {
  if (state.key !== null) {
    const current = levels.find((l) => l.key === state.key);
    // The current speaker keeps the highlight while still talking…
    if (current && current.level > threshold) return { key: state.key, lastLoudAt: now };
    // …and for a short hold after pausing.
    if (now - state.lastLoudAt < holdMs) return state;
  }
  const next = loudest(levels, threshold);
  if (next !== null) return { key: next, lastLoudAt: now };
  return state.key === null ? state : noSpeaker;
}

/**
 * Who speaks as the relay hears it (the `speakers` room event): `speaking`, identities
 * speaking now, and `active`, the room's active speaker (null until someone spoke). Our
 * own identity is among them like anyone's.
 */
export type RelaySpeakers = { active: string | null; speaking: readonly string[] };

/**
 * Who speaks, for the room screen: the relay's word once it has sent one in this room
 * session; until then (a relay that sends none) the guess from media-status levels.
 */
export type Speakers = { relay: RelaySpeakers | null; local: SpeakerState };

export const noSpeakers: Speakers = { relay: null, local: noSpeaker };

export type SpeakersAction =
  /** A media-status update's levels at time `now` (ms): keys are `self` or an identity. */
  | { type: 'levels'; levels: readonly { key: string; level: number }[]; now: number }
  /** A `speakers` room event. */
  | { type: 'relay'; active: string | null; speaking: readonly string[] };

/**
 * The next `Speakers`. Once the relay has spoken, levels change nothing: it decides from
 * then on, and what it said last holds until it says something else (a rejoin keeps it
 * too, so the screen sends nothing here for `resynced`).
 */
export function speakersReducer(state: Speakers, action: SpeakersAction): Speakers {
  switch (action.type) {
    case 'levels': {
      if (state.relay !== null) return state;
      const local = nextSpeaker(state.local, action.levels, action.now);
      return local.key === state.local.key && local.lastLoudAt === state.local.lastLoudAt ? state : { ...state, local };
    }
    case 'relay': {
      const { active, speaking } = action;
      const before = state.relay;
      if (before !== null && before.active === active && sameList(before.speaking, speaking)) return state;
      return { relay: { active, speaking: [...speaking] }, local: noSpeaker };
    }
  }
}

/**
 * What the tiles show, by identity (`you`: our own, which the levels call `self`): the
 * active speaker highlighted, and everyone in `speaking` marked. Guessing from levels
 * names only the active speaker.
 */
export function shownSpeakers(state: Speakers, you: string): { active: string | null; speaking: ReadonlySet<string> } {
  if (state.relay === null) {
    const key = state.local.key;
    return { active: key === 'self' ? you : key, speaking: new Set() };
  }
  return { active: state.relay.active, speaking: new Set(state.relay.speaking) };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
