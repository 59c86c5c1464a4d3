/**
 * The host's upload, as the room screen shows it to the host (`host_upload`): what the
 * room hosted on this machine sends now against its budget, and whether the relay has
 * turned video down to stay within it.
 */
import type { HostUpload } from '../services/types';

/** How often the room screen asks, ms. */
export const HOST_UPLOAD_POLL_MS = 3000;

/** Bits per second in Mbit/s, one decimal: 12_345_678 → "12.3". */
export function mbit(bitsPerSecond: number): string {
  const bits = Number.isFinite(bitsPerSecond) ? Math.max(0, bitsPerSecond) : 0;
  return (bits / 1_000_000).toFixed(1);
}

/** "Your upload: 12.3 of 25 Mbit/s"; without a budget (0) "Your upload: 12.3 Mbit/s". */
export function uploadText(upload: HostUpload): string {
  const now = mbit(upload.bitsPerSecond);
  if (!(upload.budgetBitsPerSecond > 0)) return `Your upload: ${now} Mbit/s`;
  // A round budget reads as one: "25", not "25.0".
  const budget = mbit(upload.budgetBitsPerSecond).replace(/\.0$/, '');
  return `Your upload: ${now} of ${budget} Mbit/s`;
}

/** The steps from which the relay pauses video for some tiles (before: smaller video). */
const PAUSING_STEP = 3;

/**
 * What to say when the budget has turned video down (`step` above 0), and its tooltip;
 * null when it has not.
 */
export function uploadNote(upload: HostUpload): { text: string; detail: string } | null {
  if (!(upload.step > 0)) return null;
  const how =
    upload.step >= PAUSING_STEP
      ? "the others get some people's video at lower quality, and for some tiles it is paused"
      : "the others get some people's video at lower quality";
  return {
    text: 'video turned down to stay within your upload',
    detail: `You host this room, so everyone's video goes out over your connection. To stay within your upload, ${how} until there is room again.`,
  };
}
