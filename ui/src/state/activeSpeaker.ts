/**
 * Who is speaking, from media-status levels: the loudest key above a threshold, held for a
 * moment after they pause so the highlight does not flicker between words.
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
