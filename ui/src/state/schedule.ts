/**
 * The schedule dialog's form and the drafts it makes: the checks done here before asking
 * the app (the app's and the relay's checks are the ones that count), the recurrence as
 * an RRULE value built from the dialog's choices and read back from a session's, and the
 * drafts that cancel or move one occurrence of a recurring session.
 */
import type { OccurrenceChange, SessionDraft, StudySession } from '../services/types';
import {
  addDays,
  dayStartMs,
  parseDay,
  parseTime,
  parseWallText,
  wallAt,
  wallOf,
  wallText,
  weekdayOf,
  dayOf,
  timeOf,
  type DayKey,
} from './zoned';

/** The protocol's limits (`schedule.rs`). */
export const MAX_TITLE_CHARS = 100;
export const MIN_MINUTES = 5;
export const MAX_MINUTES = 12 * 60;
/** Most occurrences a "for N times" may ask for (the app lists at most 1000 at once). */
export const MAX_COUNT = 999;

export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * How a session repeats: not at all, every day, every week on the start's weekday, every
 * week on the chosen weekdays, or as its RRULE says (one the dialog cannot show, kept as
 * it is: an imported `FREQ=MONTHLY`, say).
 */
export type RepeatKind = 'none' | 'daily' | 'weekly' | 'weekdays' | 'custom';
/** When a repetition ends: never, after a day, or after a number of times. */
export type RepeatEnd = 'never' | 'until' | 'count';

/** What the schedule dialog holds, as typed. */
export type ScheduleForm = {
  title: string;
  /** `YYYY-MM-DD` and `HH:MM`, wall clock in `tz`. */
  date: string;
  time: string;
  minutes: string;
  repeat: RepeatKind;
  /** For `weekdays`. */
  weekdays: Weekday[];
  end: RepeatEnd;
  /** For `until`: the last day (`YYYY-MM-DD`), in `tz`. */
  until: string;
  /** For `count`. */
  count: string;
  /** The RRULE kept as it is (`custom`). */
  custom: string | null;
  tz: string;
};

export type FormField = 'title' | 'date' | 'time' | 'minutes' | 'weekdays' | 'until' | 'count';
export type FormProblems = Partial<Record<FormField, string>>;

/** A fresh form: an hour from `date` `time` in `tz`, not repeating. */
export function newForm(date: DayKey, time: string, tz: string): ScheduleForm {
  return {
    title: '',
    date,
    time,
    minutes: '60',
    repeat: 'none',
    weekdays: [WEEKDAYS[weekdayOf(date)] ?? 'MO'],
    end: 'never',
    until: '',
    count: '',
    custom: null,
    tz,
  };
}

/** The form showing `session` (to edit the series), its times in the session's own zone. */
export function formOfSession(session: SessionDraft): ScheduleForm {
  const [date = '', time = ''] = session.start.split('T');
  const form: ScheduleForm = { ...newForm(date, time, session.tz), title: session.title, minutes: String(session.minutes) };
  return session.rrule ? { ...form, ...readRrule(session.rrule, date, session.tz) } : form;
}

/** The weekday of a day, as RRULE names it. */
export function weekdayCode(day: DayKey): Weekday {
  return WEEKDAYS[weekdayOf(day)] ?? 'MO';
}

/** `UNTIL` for "until `day`": the end of that day in `tz`, in UTC (as RFC 5545 wants with a zoned start). */
export function untilValue(day: DayKey, tz: string): string {
  const end = dayStartMs(addDays(day, 1), tz) - 1000;
  return new Date(end).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The recurrence the dialog's choices make (null: it does not repeat). */
export function buildRrule(form: ScheduleForm): string | null {
  let rule: string;
  switch (form.repeat) {
    case 'none':
      return null;
    case 'custom':
      return form.custom;
    case 'daily':
      rule = 'FREQ=DAILY';
      break;
    case 'weekly':
      rule = `FREQ=WEEKLY;BYDAY=${weekdayCode(form.date)}`;
      break;
    case 'weekdays':
      rule = `FREQ=WEEKLY;BYDAY=${WEEKDAYS.filter((d) => form.weekdays.includes(d)).join(',')}`;
      break;
  }
  if (form.end === 'until' && parseDay(form.until)) rule += `;UNTIL=${untilValue(form.until, form.tz)}`;
  if (form.end === 'count' && form.count.trim() !== '') rule += `;COUNT=${Number(form.count.trim())}`;
  return rule;
}

/**
 * The dialog's choices that make `rrule` (of a session starting on `date` in `tz`), or a
 * `custom` repeat keeping it as it is when the dialog has no choice for it.
 */
export function readRrule(rrule: string, date: DayKey, tz: string): Partial<ScheduleForm> {
  const custom: Partial<ScheduleForm> = { repeat: 'custom', custom: rrule };
  const parts = new Map<string, string>();
  for (const part of rrule.split(';')) {
    const [key = '', value = ''] = part.split('=');
    if (key.trim() === '' || parts.has(key.toUpperCase())) return custom;
    parts.set(key.trim().toUpperCase(), value.trim().toUpperCase());
  }
  const known = new Set(['FREQ', 'BYDAY', 'UNTIL', 'COUNT', 'INTERVAL', 'WKST']);
  if ([...parts.keys()].some((k) => !known.has(k))) return custom;
  if ((parts.get('INTERVAL') ?? '1') !== '1' || (parts.has('UNTIL') && parts.has('COUNT'))) return custom;
  const out: Partial<ScheduleForm> = { custom: null, end: 'never', until: '', count: '' };
  const until = parts.get('UNTIL');
  if (until !== undefined) {
    const day = untilDay(until, tz);
    if (!day) return custom;
    out.end = 'until';
    out.until = day;
  }
  const count = parts.get('COUNT');
  if (count !== undefined) {
    if (!/^\d+$/.test(count)) return custom;
    out.end = 'count';
    out.count = String(Number(count));
  }
  const byday = parts.get('BYDAY');
  switch (parts.get('FREQ')) {
    case 'DAILY':
      return byday === undefined ? { ...out, repeat: 'daily' } : custom;
    case 'WEEKLY': {
      const days = byday === undefined ? [weekdayCode(date)] : byday.split(',');
      if (!days.every((d): d is Weekday => (WEEKDAYS as readonly string[]).includes(d))) return custom;
      const ordered = WEEKDAYS.filter((d) => days.includes(d));
      if (ordered.length === 1 && ordered[0] === weekdayCode(date)) return { ...out, repeat: 'weekly', weekdays: ordered };
      return { ...out, repeat: 'weekdays', weekdays: ordered };
    }
    default:
      return custom;
  }
}

/** The day an `UNTIL` value ends on in `tz` (`20270131T225959Z` or `20270131`), or null. */
function untilDay(value: string, tz: string): DayKey | null {
  const utc = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (utc) {
    const [y, m, d, hh, mm, ss] = utc.slice(1).map(Number) as [number, number, number, number, number, number];
    return dayOf(wallAt(Date.UTC(y, m - 1, d, hh, mm, ss), tz));
  }
  const local = /^(\d{4})(\d{2})(\d{2})(?:T\d{6})?$/.exec(value);
  if (local) {
    const day = `${local[1]}-${local[2]}-${local[3]}`;
    return parseDay(day) ? day : null;
  }
  return null;
}

/** What is wrong with the form, by field (empty when nothing is). */
export function formProblems(form: ScheduleForm): FormProblems {
  const problems: FormProblems = {};
  const title = form.title.trim();
  if (title === '') problems.title = 'Give the session a title.';
  else if ([...title].length > MAX_TITLE_CHARS) problems.title = `A title is at most ${MAX_TITLE_CHARS} characters.`;
  else if ([...title].some((c) => /\p{Cc}/u.test(c))) problems.title = 'A title may not contain control characters.';
  const day = parseDay(form.date);
  if (!day) problems.date = 'Choose a date.';
  else if (day.y < 2000 || day.y > 2100) problems.date = 'Choose a date between 2000 and 2100.';
  if (!parseTime(form.time)) problems.time = 'Choose a start time.';
  const minutes = Number(form.minutes.trim());
  if (form.minutes.trim() === '' || !Number.isInteger(minutes) || minutes < MIN_MINUTES || minutes > MAX_MINUTES) {
    problems.minutes = `A session lasts ${MIN_MINUTES} to ${MAX_MINUTES} minutes.`;
  }
  if (form.repeat === 'weekdays' && form.weekdays.length === 0) problems.weekdays = 'Choose at least one weekday.';
  if (form.repeat !== 'none' && form.repeat !== 'custom') {
    if (form.end === 'until') {
      if (!parseDay(form.until)) problems.until = 'Choose the last day.';
      else if (day && form.until < form.date) problems.until = 'The last day cannot be before the first.';
    }
    if (form.end === 'count') {
      const count = Number(form.count.trim());
      if (form.count.trim() === '' || !Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
        problems.count = `Enter how many times, 1 to ${MAX_COUNT}.`;
      }
    }
  }
  return problems;
}

/**
 * The draft the form makes, keeping `changes` (the cancelled and moved occurrences of a
 * series being edited) while it still repeats; null with the problems when it cannot.
 */
export function draftOfForm(
  form: ScheduleForm,
  changes: OccurrenceChange[] = [],
): { draft: SessionDraft; problems: null } | { draft: null; problems: FormProblems } {
  const problems = formProblems(form);
  if (Object.keys(problems).length > 0) return { draft: null, problems };
  const wall = wallOf(form.date, form.time);
  const rrule = buildRrule(form);
  const draft: SessionDraft = {
    title: form.title.trim(),
    start: wall ? wallText(wall) : `${form.date}T${form.time}`,
    tz: form.tz,
    minutes: Number(form.minutes.trim()),
    rrule,
    changes: rrule ? changes : [],
  };
  return { draft, problems: null };
}

/**
 * The changes (cancelled or moved occurrences) an edited series keeps: they name
 * occurrences by their wall-clock start, so when the start, the time zone or the rule
 * changes they would point at the wrong ones (a cancelled one coming back), and go.
 */
export function keptChanges(before: SessionDraft, after: SessionDraft): OccurrenceChange[] {
  const same = before.start === after.start && before.tz === after.tz && (before.rrule ?? null) === (after.rrule ?? null);
  return same ? (before.changes ?? []) : [];
}

/** A session's draft (what `changeSession` takes), without its id and author. */
export function draftOf(session: StudySession): SessionDraft {
  return {
    title: session.title,
    start: session.start,
    tz: session.tz,
    minutes: session.minutes,
    rrule: session.rrule ?? null,
    changes: session.changes ?? [],
  };
}

/** The session's draft with one occurrence cancelled (`movedTo` null) or moved (wall clock in the session's zone). */
export function withChange(session: StudySession, occurrence: string, movedTo: string | null): SessionDraft {
  const draft = draftOf(session);
  const others = (draft.changes ?? []).filter((c) => c.occurrence !== occurrence);
  // Moving it back where it was is no change at all.
  const change = movedTo === occurrence ? [] : [{ occurrence, moved_to: movedTo }];
  return { ...draft, changes: [...others, ...change] };
}

/** `YYYY-MM-DD` and `HH:MM` of a wall-clock text (`2026-12-07T18:00`). */
export function splitWall(text: string): { date: string; time: string } {
  const wall = parseWallText(text);
  return wall ? { date: dayOf(wall), time: timeOf(wall) } : { date: '', time: '' };
}

const DAY_NAMES: Record<Weekday, number> = { MO: 0, TU: 1, WE: 2, TH: 3, FR: 4, SA: 5, SU: 6 };

/** A weekday's name in the user's language (`long`: "Monday", `short`: "Mon"). */
export function weekdayName(day: Weekday, width: 'long' | 'short' = 'long', locale?: string): string {
  // 2024-01-01 was a Monday.
  const date = new Date(Date.UTC(2024, 0, 1 + DAY_NAMES[day], 12));
  return new Intl.DateTimeFormat(locale, { weekday: width, timeZone: 'UTC' }).format(date);
}

/** How a session repeats, in words ("Every week on Monday, 10 times"); null when it does not. */
export function repeatSummary(session: SessionDraft, locale?: string): string | null {
  if (!session.rrule) return null;
  const date = session.start.split('T')[0] ?? '';
  const form = readRrule(session.rrule, date, session.tz);
  let text: string;
  switch (form.repeat) {
    case 'daily':
      text = 'Every day';
      break;
    case 'weekly':
    case 'weekdays':
      text = `Every week on ${(form.weekdays ?? []).map((d) => weekdayName(d, 'long', locale)).join(', ')}`;
      break;
    default:
      return `Repeats (${session.rrule})`;
  }
  if (form.end === 'until' && form.until) text += `, until ${form.until}`;
  if (form.end === 'count' && form.count) text += form.count === '1' ? ', once' : `, ${form.count} times`;
  return text;
}
