/**
 * The Study page's arithmetic: durations in words, the last days zero-filled (the record
 * lists only days with time), the charts' series and the daily goal's range.
 */
import type { DayTotal, StudySummary } from '../services/types';

/** The daily goal's range in minutes (the app's `GOAL_RANGE`). */
export const GOAL_MIN = 5;
export const GOAL_MAX = 960;

export type ChartTab = 'day' | 'week' | 'month';

/** "1 h 25 min", "25 min", "2 h", "< 1 min", "0 min" (whole minutes, rounded down). */
export function formatDuration(seconds: number): string {
  if (seconds > 0 && seconds < 60) return '< 1 min';
  const minutes = Math.floor(Math.max(0, seconds) / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

const DAY_MS = 86_400_000;

/** `day` (`YYYY-MM-DD`) moved by `n` days, on the calendar (no time zone involved). */
export function addDays(day: string, n: number): string {
  const [y = 1970, m = 1, d = 1] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d) + n * DAY_MS).toISOString().slice(0, 10);
}

/** The `count` days up to and including today, oldest first; days without time are 0. */
export function lastDays(summary: StudySummary, count: number): DayTotal[] {
  const byDay = new Map(summary.days.map((d) => [d.day, d]));
  return Array.from({ length: count }, (_, i) => {
    const day = addDays(summary.today, i - count + 1);
    return byDay.get(day) ?? { day, seconds: 0, focusPhases: 0, focusSeconds: 0 };
  });
}

/** Today's totals (zero when today has none yet). */
export function today(summary: StudySummary): DayTotal {
  return lastDays(summary, 1)[0] ?? { day: summary.today, seconds: 0, focusPhases: 0, focusSeconds: 0 };
}

/** Whether the record has nothing to show yet. */
export function isEmpty(summary: StudySummary): boolean {
  return summary.days.length === 0 && summary.rooms.length === 0;
}

/** Why `text` is not a daily goal, or null when it is. */
export function goalProblem(text: string): string | null {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(value) || value < GOAL_MIN || value > GOAL_MAX) {
    return `Enter a whole number of minutes from ${GOAL_MIN} to ${GOAL_MAX}.`;
  }
  return null;
}

/** A day as a chart labels it, in the user's language: "Sat 5" for a week, "5 Dec" for a month. */
export function dayLabel(day: string, tab: Exclude<ChartTab, 'day'>, locale?: string): string {
  const [y = 1970, m = 1, d = 1] = day.split('-').map(Number);
  // Local noon of that calendar day: the same weekday whatever the time zone.
  const date = new Date(y, m - 1, d, 12);
  const options: Intl.DateTimeFormatOptions =
    tab === 'week' ? { weekday: 'short', day: 'numeric' } : { day: 'numeric', month: 'short' };
  return new Intl.DateTimeFormat(locale, options).format(date);
}

export type ChartSeries = {
  /** What the chart shows, for its label. */
  title: string;
  labels: string[];
  /** Minutes for each label. */
  minutes: number[];
  /** Seconds for each label (for tooltips). */
  seconds: number[];
};

const toMinutes = (seconds: number) => Math.round((seconds / 60) * 10) / 10;

/** The chart for a tab: today's time per room, or minutes per day over 7 or 30 days. */
export function chartSeries(summary: StudySummary, tab: ChartTab, locale?: string): ChartSeries {
  if (tab === 'day') {
    const rooms = summary.todayRooms;
    return {
      title: "Today's time per room",
      labels: rooms.map((r) => r.title || r.room),
      minutes: rooms.map((r) => toMinutes(r.seconds)),
      seconds: rooms.map((r) => r.seconds),
    };
  }
  const days = lastDays(summary, tab === 'week' ? 7 : 30);
  return {
    title: tab === 'week' ? 'Minutes per day, last 7 days' : 'Minutes per day, last 30 days',
    labels: days.map((d) => dayLabel(d.day, tab, locale)),
    minutes: days.map((d) => toMinutes(d.seconds)),
    seconds: days.map((d) => d.seconds),
  };
}

/** Focus phases completed over the last `count` days. */
export function focusPhasesIn(summary: StudySummary, count: number): number {
  return lastDays(summary, count).reduce((sum, d) => sum + d.focusPhases, 0);
}
