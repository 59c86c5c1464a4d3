/**
 * The calendar: every group's sessions and the personal study blocks, in a week or a
 * month, in the user's time zone; a colour per group, blocks in a style of their own.
 * A free slot (or Add) schedules a session; an occurrence opens what can be done with it.
 * Import and export as `.ics`.
 *
 * Drawn with CSS grid rather than a calendar library: FullCalendar (v6, the one kept up)
 * injects its styles as `<style>` elements at run time, which the window's
 * Content-Security-Policy (`style-src 'self'`, tauri.conf.json) refuses, and which the
 * hostile-content tests count as injected; a week and a month of blocks are a few dozen
 * lines here (state/calendar.ts does the placing).
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Spinner } from '../components/Dialog';
import { BackIcon, ChevronLeftIcon, ChevronRightIcon, PlusIcon } from '../components/Icons';
import { ImportDialog, OccurrenceDialog, ScheduleDialog, type ScheduleRequest } from '../components/ScheduleDialog';
import { useToast } from '../components/Toasts';
import { useTicking } from '../hooks/useTicking';
import {
  calendar,
  describeError,
  exportCalendar,
  type CalendarEntry,
  type GroupsChanged,
} from '../services/studyhall';
import {
  entryKey,
  GRID_MINUTES,
  placeMonth,
  placeWeek,
  shiftView,
  slotAt,
  viewDays,
  viewTitle,
  viewWindow,
  type CalendarView,
} from '../state/calendar';
import { groupColours } from '../state/groups';
import { dayAt, localTimeZone, minuteOfDay, parseDay, type DayKey } from '../state/zoned';

type Load = { status: 'loading' } | { status: 'ready'; entries: CalendarEntry[] } | { status: 'failed'; message: string };
type Dialogs = { kind: 'schedule'; request: ScheduleRequest } | { kind: 'occurrence'; entry: CalendarEntry } | { kind: 'import' } | null;

/** Most occurrences a month's day lists before "+N more". */
const DAY_SHOWN = 3;
/** The hour the week view is scrolled to at first. */
const FIRST_HOUR = 7;

const hourText = (hh: number) => `${String(hh).padStart(2, '0')}:00`;

export function CalendarScreen({ view, onBack }: { view: GroupsChanged | null; onBack: () => void }) {
  const tz = localTimeZone();
  const [mode, setMode] = useState<CalendarView>('week');
  const [anchor, setAnchor] = useState<DayKey>(() => dayAt(Date.now(), tz));
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [dialog, setDialog] = useState<Dialogs>(null);
  const toast = useToast();
  useTicking(true, 60_000);
  // The countdowns (and today) read the clock each time they are drawn.
  // eslint-disable-next-line react-hooks/purity
  const now = Date.now();
  const today = dayAt(now, tz);

  const days = useMemo(() => viewDays(mode, anchor), [mode, anchor]);
  const { fromMs, toMs } = useMemo(() => viewWindow(days, tz), [days, tz]);
  // Asked again whenever a schedule changes (the app's view carries every session).
  const schedules = JSON.stringify([view?.groups.map((c) => c.group.sessions), view?.blocks]);

  useEffect(() => {
    let current = true;
    calendar(fromMs, toMs).then(
      (entries) => current && setLoad({ status: 'ready', entries }),
      (e: unknown) => current && setLoad({ status: 'failed', message: describeError(e) }),
    );
    return () => {
      current = false;
    };
  }, [fromMs, toMs, schedules, attempt]);

  const colours = useMemo(() => groupColours(view), [view]);
  const entries = load.status === 'ready' ? load.entries : [];
  const colourOf = useCallback(
    (e: CalendarEntry) => (e.group === null ? 'cal-entry--me' : `cal-colour--${colours.get(e.group) ?? 0}`),
    [colours],
  );

  const schedule = (date: DayKey, time: string) => setDialog({ kind: 'schedule', request: { kind: 'new', target: null, date, time } });
  const closeDialog = () => setDialog(null);
  const saved = (message: string) => {
    setDialog(null);
    toast(message);
  };
  const ready = view !== null;

  return (
    <main className="study calendar" data-testid="calendar">
      <header className="study__header">
        <button className="button button--ghost button--small" onClick={onBack} data-testid="calendar-back">
          <BackIcon /> Back
        </button>
        <div>
          <h1 className="study__title">Calendar</h1>
          <p className="muted study__tagline">Your groups&apos; sessions and your study blocks, in {tz}.</p>
        </div>
      </header>

      <div className="calendar__toolbar">
        <div className="calendar__nav">
          <button
            className="button button--small"
            onClick={() => setAnchor((a) => shiftView(mode, a, -1))}
            aria-label={mode === 'week' ? 'Previous week' : 'Previous month'}
            data-testid="calendar-prev"
          >
            <ChevronLeftIcon />
          </button>
          <button className="button button--small" onClick={() => setAnchor(today)} data-testid="calendar-today">
            Today
          </button>
          <button
            className="button button--small"
            onClick={() => setAnchor((a) => shiftView(mode, a, 1))}
            aria-label={mode === 'week' ? 'Next week' : 'Next month'}
            data-testid="calendar-next"
          >
            <ChevronRightIcon />
          </button>
          <h2 className="calendar__title" aria-live="polite" data-testid="calendar-title">
            {viewTitle(mode, anchor)}
          </h2>
          {load.status === 'loading' && <Spinner />}
        </div>
        <div className="tabs" role="tablist" aria-label="Calendar view">
          {(['week', 'month'] as const).map((m) => (
            <button
              key={m}
              role="tab"
              className={`tabs__tab ${m === mode ? 'tabs__tab--active' : ''}`}
              aria-selected={m === mode}
              onClick={() => setMode(m)}
              data-testid={`calendar-view-${m}`}
            >
              {m === 'week' ? 'Week' : 'Month'}
            </button>
          ))}
        </div>
        <div className="calendar__actions">
          <button
            className="button button--small button--primary"
            onClick={() => schedule(today < days[0]! || today > days[days.length - 1]! ? days[0]! : today, nextHour(now))}
            disabled={!ready}
            data-testid="schedule-session"
          >
            <PlusIcon /> Add
          </button>
          <button className="button button--small" onClick={() => setDialog({ kind: 'import' })} disabled={!ready} data-testid="import-calendar">
            Import .ics
          </button>
          <ExportButton />
        </div>
      </div>

      {view && (view.groups.length > 0 || view.blocks.length > 0) && (
        <ul className="calendar__legend" aria-label="Colours">
          {view.groups.map((c) => (
            <li key={c.group.id} className="calendar__legend-item" title={c.group.name}>
              <span className={`calendar__swatch cal-colour--${colours.get(c.group.id) ?? 0}`} aria-hidden="true" />
              <bdi>{c.group.name}</bdi>
            </li>
          ))}
          <li className="calendar__legend-item">
            <span className="calendar__swatch cal-entry--me" aria-hidden="true" />
            Just me
          </li>
        </ul>
      )}

      {load.status === 'failed' && (
        <div className="banner banner--error" role="alert" data-testid="calendar-error">
          <span>Could not load the calendar: {load.message}</span>
          <button className="button button--small" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </div>
      )}

      {mode === 'week' ? (
        <WeekGrid
          days={days}
          entries={entries}
          tz={tz}
          today={today}
          now={now}
          colourOf={colourOf}
          onSlot={ready ? schedule : null}
          onEntry={(entry) => setDialog({ kind: 'occurrence', entry })}
        />
      ) : (
        <MonthGrid
          days={days}
          month={anchor.slice(0, 7)}
          entries={entries}
          tz={tz}
          today={today}
          colourOf={colourOf}
          onDay={ready ? (day) => schedule(day, '18:00') : null}
          onMore={(day) => {
            setAnchor(day);
            setMode('week');
          }}
          onEntry={(entry) => setDialog({ kind: 'occurrence', entry })}
        />
      )}
      {load.status === 'ready' && entries.length === 0 && (
        <p className="muted calendar__empty" data-testid="calendar-empty">
          Nothing scheduled {mode === 'week' ? 'this week' : 'this month'}. Click a free time, or Add, to schedule a session.
        </p>
      )}

      {view && dialog?.kind === 'schedule' && (
        <ScheduleDialog view={view} request={dialog.request} onClose={closeDialog} onSaved={saved} />
      )}
      {view && dialog?.kind === 'occurrence' && (
        <OccurrenceDialog
          view={view}
          entry={dialog.entry}
          onClose={closeDialog}
          onEdit={(group, session) => setDialog({ kind: 'schedule', request: { kind: 'edit', group, session } })}
          onDone={saved}
        />
      )}
      {view && dialog?.kind === 'import' && <ImportDialog view={view} onClose={closeDialog} />}
    </main>
  );
}

function nextHour(now: number): string {
  return hourText((new Date(now).getHours() + 1) % 24);
}

const dayFormat = (options: Intl.DateTimeFormatOptions) => {
  const f = new Intl.DateTimeFormat(undefined, { ...options, timeZone: 'UTC' });
  return (day: DayKey) => {
    const d = parseDay(day) ?? { y: 1970, m: 1, d: 1 };
    return f.format(new Date(Date.UTC(d.y, d.m - 1, d.d, 12)));
  };
};
const weekdayShort = dayFormat({ weekday: 'short' });
const dayLong = dayFormat({ weekday: 'long', day: 'numeric', month: 'long' });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const hourFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', timeZone: 'UTC' });
/** An hour as the user's language writes it ("18", "6 PM"). */
const hourLabel = (hh: number) => hourFormat.format(Date.UTC(2024, 0, 1, hh));

function entryLabel(e: CalendarEntry): string {
  const o = e.occurrence;
  const time = `${timeFormat.format(o.start_ms)}–${timeFormat.format(o.end_ms)}`;
  return `${o.title} · ${e.groupName ?? 'Just me'} · ${time}`;
}

function WeekGrid({
  days,
  entries,
  tz,
  today,
  now,
  colourOf,
  onSlot,
  onEntry,
}: {
  days: DayKey[];
  entries: CalendarEntry[];
  tz: string;
  today: DayKey;
  now: number;
  colourOf: (e: CalendarEntry) => string;
  onSlot: ((day: DayKey, time: string) => void) | null;
  onEntry: (e: CalendarEntry) => void;
}) {
  const placed = useMemo(() => placeWeek(entries, days, tz), [entries, days, tz]);
  const scroller = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = (FIRST_HOUR / 24) * el.scrollHeight;
  }, []);
  const hours = Array.from({ length: 24 }, (_, h) => h);
  const nowMinute = minuteOfDay(now, tz);
  return (
    <div className="week" data-testid="calendar-week">
      <div className="week__head">
        <span />
        {days.map((d) => (
          <span key={d} className={`week__day-head ${d === today ? 'week__day-head--today' : ''}`} title={dayLong(d)}>
            <span className="muted">{weekdayShort(d)}</span> <strong>{Number(d.slice(8))}</strong>
          </span>
        ))}
      </div>
      <div className="week__scroll" ref={scroller}>
        <div className="week__body">
          <div className="week__hours" aria-hidden="true">
            {hours.map((h) => (
              <span key={h} className="week__hour">
                {h === 0 ? '' : hourLabel(h)}
              </span>
            ))}
          </div>
          {days.map((d, i) => (
            <div key={d} className={`week__col ${d === today ? 'week__col--today' : ''}`} data-day={d}>
              {onSlot &&
                hours.map((h) => (
                  <button
                    key={h}
                    className="week__slot"
                    tabIndex={-1}
                    aria-label={`Schedule a session on ${dayLong(d)} at ${hourText(h)}`}
                    onClick={(e) => {
                      // Half hours: where in the hour the click was.
                      const r = e.currentTarget.getBoundingClientRect();
                      const fraction = r.height > 0 ? (h + (e.clientY - r.top) / r.height) / 24 : h / 24;
                      const slot = slotAt(fraction);
                      onSlot(d, `${String(slot.hh).padStart(2, '0')}:${String(slot.mm).padStart(2, '0')}`);
                    }}
                    data-testid="calendar-slot"
                    data-time={hourText(h)}
                  />
                ))}
              {d === today && (
                <span className="week__now" style={{ top: `${(nowMinute / GRID_MINUTES) * 100}%` }} aria-hidden="true" />
              )}
              {(placed[i] ?? []).map((p) => (
                <button
                  key={p.key}
                  className={`cal-entry ${colourOf(p.entry)} ${p.fromBefore ? 'cal-entry--from-before' : ''} ${p.goesOn ? 'cal-entry--goes-on' : ''}`}
                  style={{
                    top: `${(p.startMin / GRID_MINUTES) * 100}%`,
                    height: `${((p.endMin - p.startMin) / GRID_MINUTES) * 100}%`,
                    left: `${(p.lane / p.lanes) * 100}%`,
                    width: `${100 / p.lanes}%`,
                  }}
                  title={entryLabel(p.entry)}
                  onClick={() => onEntry(p.entry)}
                  data-testid="calendar-entry"
                  data-session={p.entry.occurrence.session}
                  data-group={p.entry.group ?? ''}
                  data-start={`${p.day} ${String(Math.floor(p.startMin / 60)).padStart(2, '0')}:${String(p.startMin % 60).padStart(2, '0')}`}
                >
                  <span className="cal-entry__title">
                    <bdi>{p.entry.occurrence.title}</bdi>
                  </span>
                  <span className="cal-entry__time">{timeFormat.format(p.entry.occurrence.start_ms)}</span>
                </button>
              ))}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}

function MonthGrid({
  days,
  month,
  entries,
  tz,
  today,
  colourOf,
  onDay,
  onMore,
  onEntry,
}: {
  days: DayKey[];
  /** `YYYY-MM`: days outside it are drawn muted. */
  month: string;
  entries: CalendarEntry[];
  tz: string;
  today: DayKey;
  colourOf: (e: CalendarEntry) => string;
  onDay: ((day: DayKey) => void) | null;
  onMore: (day: DayKey) => void;
  onEntry: (e: CalendarEntry) => void;
}) {
  const placed = useMemo(() => placeMonth(entries, days, tz), [entries, days, tz]);
  return (
    <div className="month" data-testid="calendar-month">
      <div className="month__head">
        {days.slice(0, 7).map((d) => (
          <span key={d}>{weekdayShort(d)}</span>
        ))}
      </div>
      <div className="month__grid">
        {days.map((d, i) => {
          const list = placed[i] ?? [];
          return (
            <div
              key={d}
              className={`month__day ${d.startsWith(month) ? '' : 'month__day--other'} ${d === today ? 'month__day--today' : ''}`}
              data-day={d}
            >
              {onDay ? (
                <button
                  className="month__date"
                  onClick={() => onDay(d)}
                  aria-label={`Schedule a session on ${dayLong(d)}`}
                  title={`Schedule a session on ${dayLong(d)}`}
                  data-testid="calendar-day"
                >
                  {Number(d.slice(8))}
                </button>
              ) : (
                <span className="month__date">{Number(d.slice(8))}</span>
              )}
              <ul className="month__list">
                {list.slice(0, DAY_SHOWN).map((e) => (
                  <li key={entryKey(e)}>
                    <button
                      className={`cal-chip ${colourOf(e)}`}
                      title={entryLabel(e)}
                      onClick={() => onEntry(e)}
                      data-testid="calendar-entry"
                      data-session={e.occurrence.session}
                      data-group={e.group ?? ''}
                    >
                      <span className="cal-chip__time">{timeFormat.format(e.occurrence.start_ms)}</span>{' '}
                      <bdi>{e.occurrence.title}</bdi>
                    </button>
                  </li>
                ))}
                {list.length > DAY_SHOWN && (
                  <li>
                    <button className="month__more" onClick={() => onMore(d)} data-testid="calendar-more">
                      +{list.length - DAY_SHOWN} more
                    </button>
                  </li>
                )}
              </ul>
            </div>
          );
        })}
      </div>
    </div>
  );
}

function ExportButton() {
  const [state, setState] = useState<{ status: 'idle' | 'saving' } | { status: 'saved'; path: string } | { status: 'failed'; message: string }>({
    status: 'idle',
  });
  return (
    <>
      <button
        className="button button--small"
        onClick={() => {
          setState({ status: 'saving' });
          exportCalendar().then(
            (path) => setState(path === null ? { status: 'idle' } : { status: 'saved', path }),
            (e: unknown) => setState({ status: 'failed', message: describeError(e) }),
          );
        }}
        disabled={state.status === 'saving'}
        aria-busy={state.status === 'saving'}
        data-testid="export-calendar"
      >
        {state.status === 'saving' && <Spinner />}
        Export .ics
      </button>
      <span className="calendar__export" aria-live="polite" data-testid="export-calendar-result">
        {state.status === 'saved' && (
          <span className="ok">
            Saved to <code className="study__path">{state.path}</code>
          </span>
        )}
        {state.status === 'failed' && <span className="error">Couldn&apos;t export: {state.message}</span>}
      </span>
    </>
  );
}
