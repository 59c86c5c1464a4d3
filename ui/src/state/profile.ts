import type { Profile, Settings } from '../services/types';

export const MAX_NAME_CHARS = 64;

/** The profile part of the settings. */
export function profileOf(settings: Settings): Profile {
  const { displayName, camera, microphone, screen, speaker, timerChime, noiseSuppression } = settings;
  return { displayName, camera, microphone, screen, speaker, timerChime, noiseSuppression };
}

/** Why a display name cannot be saved, or null when it can. */
export function nameProblem(name: string): string | null {
  if (name.trim() === '') return 'Enter the name the others will see.';
  if (Array.from(name.trim()).length > MAX_NAME_CHARS) return `At most ${MAX_NAME_CHARS} characters.`;
  return null;
}
