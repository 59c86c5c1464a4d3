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

/** "1 video tile", "3 video tiles". */
function tiles(n: number): string {
  return n === 1 ? '1 video tile' : `${n} video tiles`;
}

/**
 * What to say when the budget has turned video down (tiles held to the small layer or
 * paused, counted over everyone's screens), and its tooltip; null while everything fits.
 */
export function uploadNote(upload: HostUpload): { text: string; detail: string } | null {
  const small = upload.heldSmall > 0 ? upload.heldSmall : 0;
  const paused = upload.paused > 0 ? upload.paused : 0;
  if (small === 0 && paused === 0) return null;
  const are = (n: number) => (n === 1 ? 'is' : 'are');
  const where = "on the others' screens";
  const how =
    paused === 0
      ? `${tiles(small)} ${where} ${are(small)} shown at lower quality`
      : small === 0
        ? `${tiles(paused)} ${where} ${are(paused)} paused`
        : `${tiles(small)} ${where} ${are(small)} shown at lower quality and ${paused} ${are(paused)} paused`;
  return {
    text: 'video turned down to stay within your upload',
    detail:
      "You host this room, so everyone's video goes out over your connection. To stay within your upload, " +
      `${how} until there is room again.`,
  };
}
