/**
 * The connection bars on the room's tiles, from media-status `links`: how well each other
 * participant's media reaches us lately. A tile shows bars only when something is wrong
 * (fair or poor); a good or unknown link leaves it clean.
 */
import type { Link, LinkQuality, Participant } from '../services/types';
import { isolate } from './text';

/** What a tile shows: `label` names it (its accessible name), `detail` is its tooltip. */
export type LinkSignal = { quality: Exclude<LinkQuality, 'good'>; label: string; detail: string };

/** Others whose links must all be bad before we blame our own connection. */
export const SELF_MIN_LINKS = 2;

const LABELS: Record<LinkSignal['quality'], string> = { fair: 'Fair connection', poor: 'Poor connection' };

/** The bars for someone else's tile, named `name`: null when their link is good. */
export function remoteSignal(link: Link, name: string): LinkSignal | null {
  if (link.quality === 'good') return null;
  const who = isolate(name);
  const parts: string[] = [];
  if (link.lossPercent > 0) parts.push(`${link.lossPercent}% of ${who}'s audio and video is lost on the way to you`);
  if (link.badFramesPercent > 0) {
    parts.push(`${link.badFramesPercent}% of ${parts.length > 0 ? '' : `${who}'s `}video frames could not be shown`);
  }
  if (parts.length === 0) parts.push(`${who}'s audio and video reach you with some loss`);
  const label = LABELS[link.quality];
  return { quality: link.quality, label, detail: `${label}: ${parts.join('; ')}.` };
}

/**
 * The bars for our own tile: when every other participant we can judge (at least
 * SELF_MIN_LINKS of them) reaches us badly, the trouble is most likely our connection;
 * the worst of them says how bad.
 */
export function selfSignal(links: readonly Link[]): LinkSignal | null {
  if (links.length < SELF_MIN_LINKS || links.some((l) => l.quality === 'good')) return null;
  const quality = links.some((l) => l.quality === 'poor') ? 'poor' : 'fair';
  return {
    quality,
    label: LABELS[quality],
    detail:
      quality === 'poor'
        ? "Your connection seems poor: everyone's media reaches you with loss."
        : "Your connection seems unsteady: everyone's media reaches you with some loss.",
  };
}

/**
 * Each tile's bars, by identity (ours under our own identity): tiles not in the map show
 * none. Links of people no longer in the room are passed over.
 */
export function tileSignals(links: readonly Link[], people: readonly Participant[]): Map<string, LinkSignal> {
  const signals = new Map<string, LinkSignal>();
  const others = new Map(people.filter((p) => !p.you).map((p) => [p.identity, p]));
  const known = links.filter((l) => others.has(l.identity));
  for (const link of known) {
    const person = others.get(link.identity);
    const signal = person ? remoteSignal(link, person.name) : null;
    if (signal) signals.set(link.identity, signal);
  }
  const you = people.find((p) => p.you);
  const own = selfSignal(known);
  if (you && own) signals.set(you.identity, own);
  return signals;
}
