/**
 * The calendar's arithmetic: which days a week or a month view shows (weeks start on
 * Monday), the window to ask the app for, and where each occurrence goes: in the week
 * view a block from its start to its end on each day it touches (side by side with those
 * it overlaps), in the month view a line on the day it starts. Everything on the wall
 * clock of the time zone the calendar is drawn in (the user's), so a weekly 18:00
 * session sits at 18:00 in the week the clocks change too.
 */
import type { CalendarEntry } from '../services/types';
import { addDays, dayAt, dayStartMs, minuteOfDay, parseDay, weekdayOf, type DayKey } from './zoned';

export type CalendarView = 'week' | 'month';

/** Minutes in a day as the grid draws it (a day of 23 or 25 hours too). */
export const GRID_MINUTES = 24 * 60;
/** The shortest block drawn, in minutes (so a short session stays readable). */
const MIN_BLOCK = 15;

/** The Monday of `day`'s week. */
export function weekStart(day: DayKey): DayKey {
  return addDays(day, -weekdayOf(day));
}

/** The first of `day`'s month. */
export function monthStart(day: DayKey): DayKey {
  return `${day.slice(0, 7)}-01`;
}

/** The days a view shows: a week (Monday to Sunday), or the whole weeks that hold the month. */
export function viewDays(view: CalendarView, anchor: DayKey): DayKey[] {
  if (view === 'week') {
    const first = weekStart(anchor);
    return Array.from({ length: 7 }, (_, i) => addDays(first, i));
  }
  const first = monthStart(anchor);
  const last = addDays(monthStart(shiftMonth(first, 1)), -1);
  const from = weekStart(first);
  const to = addDays(weekStart(last), 6);
  const days: DayKey[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) days.push(d);
  return days;
}

function shiftMonth(day: DayKey, n: number): DayKey {
  const d = parseDay(day) ?? { y: 1970, m: 1, d: 1 };
  const index = d.y * 12 + (d.m - 1) + n;
  const y = Math.floor(index / 12);
  const m = (index % 12) + 1;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-01`;
}

/** The anchor of the previous (-1) or next (1) week or month. */
export function shiftView(view: CalendarView, anchor: DayKey, step: -1 | 1): DayKey {
  return view === 'week' ? addDays(weekStart(anchor), 7 * step) : shiftMonth(monthStart(anchor), step);
}

/** The window of a view's days in `tz`: `[fromMs, toMs)`, what `calendar()` is asked for. */
export function viewWindow(days: DayKey[], tz: string): { fromMs: number; toMs: number } {
  const first = days[0] ?? '1970-01-01';
  const last = days[days.length - 1] ?? first;
  return { fromMs: dayStartMs(first, tz), toMs: dayStartMs(addDays(last, 1), tz) };
}

/** The view's heading, in the user's language: "7 – 13 Dec 2026" or "December 2026". */
export function viewTitle(view: CalendarView, anchor: DayKey, locale?: string): string {
  const noon = (day: DayKey) => {
    const d = parseDay(day) ?? { y: 1970, m: 1, d: 1 };
    return new Date(Date.UTC(d.y, d.m - 1, d.d, 12));
  };
  if (view === 'month') {
    return new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(noon(anchor));
  }
  const days = viewDays('week', anchor);
  const range = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  return range.formatRange(noon(days[0] ?? anchor), noon(days[6] ?? anchor));
}

/** A stable key for an occurrence on the calendar. */
export function entryKey(entry: CalendarEntry): string {
  return `${entry.group ?? 'me'}:${entry.occurrence.session}:${entry.occurrence.occurrence}`;
}

/** An occurrence's block on one day of the week view. */
export type Placed = {
  entry: CalendarEntry;
  key: string;
  day: DayKey;
  /** Minutes from the day's midnight (wall clock) to the block's top and bottom. */
  startMin: number;
  endMin: number;
  /** Its column among those it overlaps: `lane` of `lanes`. */
  lane: number;
  lanes: number;
  /** Whether it started the day before, or goes on into the next. */
  fromBefore: boolean;
  goesOn: boolean;
};

/** Each occurrence as blocks on the days of a week view, by day (in `days` order). */
export function placeWeek(entries: CalendarEntry[], days: DayKey[], tz: string): Placed[][] {
  return days.map((day) => {
    const from = dayStartMs(day, tz);
    const to = dayStartMs(addDays(day, 1), tz);
    const blocks: Placed[] = [];
    for (const entry of entries) {
      const { start_ms: start, end_ms: end } = entry.occurrence;
      if (!(start < to && end > from) && !(start === end && start >= from && start < to)) continue;
      const fromBefore = start < from;
      const goesOn = end > to;
      const startMin = fromBefore ? 0 : minuteOfDay(start, tz);
      let endMin = goesOn ? GRID_MINUTES : minuteOfDay(end, tz);
      // The repeated hour in autumn can end a block "before" it starts on the wall clock.
      if (endMin <= startMin) endMin = Math.min(GRID_MINUTES, startMin + Math.max(MIN_BLOCK, (end - start) / 60_000));
      blocks.push({
        entry,
        key: entryKey(entry),
        day,
        startMin,
        endMin: Math.min(GRID_MINUTES, Math.max(endMin, startMin + MIN_BLOCK)),
        lane: 0,
        lanes: 1,
        fromBefore,
        goesOn,
      });
    }
    return packLanes(blocks);
  });
}

/**
 * Puts overlapping blocks side by side: each in the first free column of the cluster of
 * blocks it overlaps, every block of a cluster as wide as the cluster has columns.
 */
function packLanes(blocks: Placed[]): Placed[] {
  const sorted = [...blocks].sort(
    (a, b) => a.startMin - b.startMin || b.endMin - a.endMin || a.key.localeCompare(b.key),
  );
  let cluster: Placed[] = [];
  let laneEnds: number[] = [];
  let clusterEnd = -1;
  const close = () => {
    for (const p of cluster) p.lanes = laneEnds.length;
    cluster = [];
    laneEnds = [];
  };
  for (const p of sorted) {
    if (p.startMin >= clusterEnd) close();
    let lane = laneEnds.findIndex((end) => end <= p.startMin);
    if (lane < 0) {
      lane = laneEnds.length;
      laneEnds.push(p.endMin);
    } else laneEnds[lane] = p.endMin;
    p.lane = lane;
    cluster.push(p);
    clusterEnd = Math.max(clusterEnd, p.endMin);
  }
  close();
  return sorted;
}

/** The occurrences starting on each day of a month view (in `days` order), earliest first. */
export function placeMonth(entries: CalendarEntry[], days: DayKey[], tz: string): CalendarEntry[][] {
  const index = new Map(days.map((d, i) => [d, i]));
  const out: CalendarEntry[][] = days.map(() => []);
  const sorted = [...entries].sort(
    (a, b) => a.occurrence.start_ms - b.occurrence.start_ms || entryKey(a).localeCompare(entryKey(b)),
  );
  for (const entry of sorted) {
    const i = index.get(dayAt(entry.occurrence.start_ms, tz));
    if (i !== undefined) out[i]?.push(entry);
  }
  return out;
}

/** The time slot a click at `fraction` (0–1) down a day's column points at, to the half hour. */
export function slotAt(fraction: number): { hh: number; mm: number } {
  const minutes = Math.min(GRID_MINUTES - 30, Math.max(0, Math.floor((fraction * GRID_MINUTES) / 30) * 30));
  return { hh: Math.floor(minutes / 60), mm: minutes % 60 };
}
