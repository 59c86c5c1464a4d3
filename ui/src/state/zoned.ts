/**
 * Wall-clock time in a named time zone, with nothing but `Intl`: what an instant reads as
 * in a zone, and the instant a wall-clock time in a zone is. Sessions are kept as a
 * wall-clock start in their own zone (`2026-12-07T18:00` in `Europe/Berlin`), the
 * calendar is drawn in the user's zone, and both must agree across daylight-saving
 * changes, whatever zone this computer (or a test) runs in.
 */
import { addDays } from './study';

/** A wall-clock time: `m` 1–12. */
export type Wall = { y: number; m: number; d: number; hh: number; mm: number };
/** A calendar day, `YYYY-MM-DD`. */
export type DayKey = string;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The user's time zone (IANA name), as this computer is set up. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Whether `tz` is a time zone name this browser knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    const options: Intl.DateTimeFormatOptions = {
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    };
    // An unknown zone reads as UTC rather than breaking the calendar.
    f = isTimeZone(tz)
      ? new Intl.DateTimeFormat('en-US', { ...options, timeZone: tz })
      : new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' });
    formatters.set(tz, f);
  }
  return f;
}

/** What the instant `ms` reads as in `tz`, to the second. */
function partsAt(ms: number, tz: string): Wall & { ss: number } {
  const out = { y: 1970, m: 1, d: 1, hh: 0, mm: 0, ss: 0 };
  for (const p of formatter(tz).formatToParts(new Date(ms))) {
    const v = Number(p.value);
    if (p.type === 'year') out.y = v;
    else if (p.type === 'month') out.m = v;
    else if (p.type === 'day') out.d = v;
    else if (p.type === 'hour') out.hh = v % 24;
    else if (p.type === 'minute') out.mm = v;
    else if (p.type === 'second') out.ss = v;
  }
  return out;
}

/** What the instant `ms` reads as on a wall clock in `tz` (to the minute). */
export function wallAt(ms: number, tz: string): Wall {
  const { y, m, d, hh, mm } = partsAt(ms, tz);
  return { y, m, d, hh, mm };
}

/** How far `tz` is ahead of UTC at the instant `ms`, in ms. */
export function offsetAt(ms: number, tz: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  const p = partsAt(whole, tz);
  return Date.UTC(p.y, p.m - 1, p.d, p.hh, p.mm, p.ss) - whole;
}

/**
 * The instant a wall-clock time in `tz` is. As the app's Rust side resolves it: a time
 * that does not exist (skipped by the change to summer time) is taken an hour later; one
 * that happens twice (the hour repeated in autumn), the first time.
 */
export function msOfWall(wall: Wall, tz: string): number {
  for (let hours = 0; hours < 3; hours++) {
    const asUtc = Date.UTC(wall.y, wall.m - 1, wall.d, wall.hh + hours, wall.mm);
    // The zone's offsets around then (changes are months apart: at most two).
    const offsets = new Set([offsetAt(asUtc - DAY_MS, tz), offsetAt(asUtc, tz), offsetAt(asUtc + DAY_MS, tz)]);
    const fits = [...offsets].map((o) => asUtc - o).filter((t) => offsetAt(t, tz) === asUtc - t);
    if (fits.length > 0) return Math.min(...fits);
  }
  // No zone skips three hours; read it as UTC rather than fail.
  return Date.UTC(wall.y, wall.m - 1, wall.d, wall.hh, wall.mm);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYY-MM-DD` of a wall-clock time. */
export function dayOf(wall: Wall): DayKey {
  return `${pad(wall.y, 4)}-${pad(wall.m)}-${pad(wall.d)}`;
}

/** `HH:MM` of a wall-clock time. */
export function timeOf(wall: Wall): string {
  return `${pad(wall.hh)}:${pad(wall.mm)}`;
}

/** `YYYY-MM-DDTHH:MM`: how sessions and their changes name a wall-clock time. */
export function wallText(wall: Wall): string {
  return `${dayOf(wall)}T${timeOf(wall)}`;
}

/** A `YYYY-MM-DD` day, or null when it is not one (`2026-02-30` is not). */
export function parseDay(text: string): { y: number; m: number; d: number } | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!match) return null;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return { y, m, d };
}

/** An `HH:MM` time (24-hour clock), or null. */
export function parseTime(text: string): { hh: number; mm: number } | null {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!match) return null;
  const [hh, mm] = [Number(match[1]), Number(match[2])];
  return hh < 24 && mm < 60 ? { hh, mm } : null;
}

/** A day and a time as a wall-clock time, or null when either is not valid. */
export function wallOf(day: string, time: string): Wall | null {
  const d = parseDay(day);
  const t = parseTime(time);
  return d && t ? { ...d, ...t } : null;
}

/** A `YYYY-MM-DDTHH:MM` text as a wall-clock time, or null. */
export function parseWallText(text: string): Wall | null {
  const [day = '', time = ''] = text.split('T');
  return wallOf(day, time);
}

/** The instant a day begins in `tz` (its midnight, or the first minute it has). */
export function dayStartMs(day: DayKey, tz: string): number {
  const d = parseDay(day) ?? { y: 1970, m: 1, d: 1 };
  return msOfWall({ ...d, hh: 0, mm: 0 }, tz);
}

/** The day of the week: 0 Monday … 6 Sunday. */
export function weekdayOf(day: DayKey): number {
  const d = parseDay(day) ?? { y: 1970, m: 1, d: 1 };
  return (new Date(Date.UTC(d.y, d.m - 1, d.d)).getUTCDay() + 6) % 7;
}

/** The day `ms` falls on in `tz`. */
export function dayAt(ms: number, tz: string): DayKey {
  return dayOf(wallAt(ms, tz));
}

/** Minutes since the day's midnight on the wall clock of `tz` (0–1439). */
export function minuteOfDay(ms: number, tz: string): number {
  const w = wallAt(ms, tz);
  return w.hh * 60 + w.mm;
}

/** A wall-clock time moved from one zone to another (the same instant). */
export function convertWall(wall: Wall, from: string, to: string): Wall {
  return from === to ? wall : wallAt(msOfWall(wall, from), to);
}

export { addDays, DAY_MS, MINUTE_MS };
