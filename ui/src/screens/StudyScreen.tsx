/**
 * The Study page: time spent in rooms (as this computer recorded it), today against the
 * daily goal, the streak, charts per day, week and month, totals per room and a CSV
 * export. Everything here is local; nothing is sent anywhere.
 */
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { BarChart } from '../components/BarChart';
import { Spinner } from '../components/Dialog';
import { BackIcon } from '../components/Icons';
import {
  describeError,
  dismissStudyNotice,
  exportStudyCsv,
  setStudyGoal,
  studySummary,
  type StudySummary,
} from '../services/studyhall';
import {
  chartSeries,
  focusPhasesIn,
  formatDuration,
  GOAL_MAX,
  GOAL_MIN,
  goalProblem,
  isEmpty,
  today,
  type ChartTab,
} from '../state/study';

type Load =
  | { status: 'loading' }
  | { status: 'ready'; summary: StudySummary }
  | { status: 'failed'; message: string };

export function StudyScreen({ onBack }: { onBack: () => void }) {
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let current = true;
    studySummary().then(
      (summary) => current && setLoad({ status: 'ready', summary }),
      (error: unknown) => current && setLoad({ status: 'failed', message: describeError(error) }),
    );
    return () => {
      current = false;
    };
  }, [attempt]);

  return (
    <main className="study" data-testid="study">
      <header className="study__header">
        <button className="button button--ghost button--small" onClick={onBack} data-testid="study-back">
          <BackIcon /> Back
        </button>
        <div>
          <h1 className="study__title">Study</h1>
          <p className="muted study__tagline">Your time in rooms, as this computer recorded it. Nothing is sent anywhere.</p>
        </div>
      </header>
      {load.status === 'loading' && (
        <p className="muted" data-testid="study-loading">
          <Spinner /> Loading your study record…
        </p>
      )}
      {load.status === 'failed' && (
        <div className="banner banner--error" role="alert" data-testid="study-error">
          <span>Could not read the study record: {load.message}</span>
          <button
            className="button button--small"
            onClick={() => {
              setLoad({ status: 'loading' });
              setAttempt((n) => n + 1);
            }}
          >
            Try again
          </button>
        </div>
      )}
      {load.status === 'ready' && (
        <StudyRecord summary={load.summary} onSummary={(summary) => setLoad({ status: 'ready', summary })} />
      )}
    </main>
  );
}

function StudyRecord({ summary, onSummary }: { summary: StudySummary; onSummary: (s: StudySummary) => void }) {
  const empty = isEmpty(summary);
  return (
    <>
      {summary.notice && <RecordNotice notice={summary.notice} onDismissed={() => onSummary({ ...summary, notice: null })} />}
      <div className="study__top">
        <TodayCard summary={summary} onSummary={onSummary} />
        <StreakCard summary={summary} />
      </div>
      {empty ? (
        <section className="card study__empty" data-testid="study-empty">
          <h2 className="card__title">Nothing recorded yet</h2>
          <p className="muted">
            Time you spend in rooms is counted here, with the focus phases you finish on the room&apos;s
            timer. Join or host a room to start.
          </p>
        </section>
      ) : (
        <>
          <ChartCard summary={summary} />
          <RoomsCard summary={summary} />
        </>
      )}
      <ExportRow />
    </>
  );
}

/** The record could not be read and was started afresh: say so until dismissed. */
function RecordNotice({ notice, onDismissed }: { notice: string; onDismissed: () => void }) {
  return (
    <div className="banner banner--warning study__notice" role="status" data-testid="study-notice">
      <span>{notice}</span>
      <button
        className="button button--ghost button--small"
        onClick={() => {
          onDismissed();
          dismissStudyNotice().catch((error: unknown) => console.warn('dismissing the study notice failed', error));
        }}
        data-testid="study-notice-dismiss"
      >
        Dismiss
      </button>
    </div>
  );
}

/** Today against the goal, and the goal's editor. */
function TodayCard({ summary, onSummary }: { summary: StudySummary; onSummary: (s: StudySummary) => void }) {
  const [draft, setDraft] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const day = today(summary);
  const goalSeconds = summary.goalMinutes * 60;
  const fraction = goalSeconds > 0 ? Math.min(1, day.seconds / goalSeconds) : 0;
  const shown = draft ?? String(summary.goalMinutes);

  async function save(e: FormEvent) {
    e.preventDefault();
    const problem = goalProblem(shown);
    if (problem) {
      setError(problem);
      return;
    }
    setSaving(true);
    setError(null);
    try {
      onSummary(await setStudyGoal(Number(shown.trim())));
      setDraft(null);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSaving(false);
    }
  }

  return (
    <section className="card study__today">
      <h2 className="card__title">Today</h2>
      <p className="study__big" data-testid="study-today">
        <strong>{formatDuration(day.seconds)}</strong>
        <span className="muted"> of {formatDuration(goalSeconds)}</span>
        {fraction >= 1 && <span className="badge badge--calm">Goal reached</span>}
      </p>
      <div
        className="meter study__meter"
        role="progressbar"
        aria-label="Today's time against the daily goal"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction * 100)}
        data-testid="study-progress"
      >
        <div className="meter__fill" style={{ width: `${Math.round(fraction * 100)}%` }} />
      </div>
      <p className="muted small" data-testid="study-focus">
        {phases(day.focusPhases)} finished today · {phases(focusPhasesIn(summary, 7))} in the last 7 days
      </p>
      <form className="study__goal" onSubmit={(e) => void save(e)} noValidate>
        <label htmlFor={inputId} className="label">
          Daily goal (minutes)
        </label>
        <div className="study__goal-row">
          <input
            id={inputId}
            className="input"
            type="number"
            inputMode="numeric"
            min={GOAL_MIN}
            max={GOAL_MAX}
            step={1}
            value={shown}
            onChange={(e) => {
              setDraft(e.target.value);
              setError(null);
            }}
            disabled={saving}
            aria-invalid={error !== null}
            data-testid="study-goal-input"
          />
          <button
            type="submit"
            className="button button--primary"
            disabled={saving || draft === null}
            aria-busy={saving}
            data-testid="study-goal-save"
          >
            {saving && <Spinner />}
            Save goal
          </button>
        </div>
        {error && (
          <p className="field-error" role="alert" data-testid="study-goal-error">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}

function phases(n: number): string {
  return n === 1 ? '1 focus phase' : `${n} focus phases`;
}

function days(n: number): string {
  return n === 1 ? '1 day' : `${n} days`;
}

function StreakCard({ summary }: { summary: StudySummary }) {
  return (
    <section className="card study__streak">
      <h2 className="card__title">Streak</h2>
      <p className="study__big" data-testid="study-streak">
        <strong>{days(summary.streakDays)}</strong>
        <span className="muted"> · best {days(summary.bestStreakDays)}</span>
      </p>
      <p className="muted small">
        A day counts with at least {formatDuration(summary.streakMinSeconds)} in rooms.
      </p>
    </section>
  );
}

const TABS: { tab: ChartTab; label: string }[] = [
  { tab: 'day', label: 'Day' },
  { tab: 'week', label: 'Week' },
  { tab: 'month', label: 'Month' },
];

function ChartCard({ summary }: { summary: StudySummary }) {
  const [tab, setTab] = useState<ChartTab>('week');
  const series = useMemo(() => chartSeries(summary, tab), [summary, tab]);
  const panelId = useId();
  return (
    <section className="card study__chart">
      <div className="study__chart-head">
        <h2 className="card__title">{series.title}</h2>
        <div className="tabs" role="tablist" aria-label="Chart period">
          {TABS.map(({ tab: t, label }) => (
            <button
              key={t}
              role="tab"
              className={`tabs__tab ${t === tab ? 'tabs__tab--active' : ''}`}
              aria-selected={t === tab}
              aria-controls={panelId}
              onClick={() => setTab(t)}
              data-testid={`study-tab-${t}`}
            >
              {label}
            </button>
          ))}
        </div>
      </div>
      <div id={panelId} role="tabpanel" data-tab={tab}>
        {series.labels.length === 0 ? (
          <p className="muted study__chart-empty" data-testid="study-chart-empty">
            No time in rooms today yet.
          </p>
        ) : (
          <BarChart series={series} goalMinutes={tab === 'day' ? undefined : summary.goalMinutes} testId="study-chart" />
        )}
      </div>
    </section>
  );
}

function RoomsCard({ summary }: { summary: StudySummary }) {
  const todayByRoom = new Map(summary.todayRooms.map((r) => [r.room, r.seconds]));
  return (
    <section className="card">
      <h2 className="card__title">Rooms</h2>
      <table className="study__table" data-testid="study-rooms">
        <thead>
          <tr>
            <th scope="col">Room</th>
            <th scope="col">Today</th>
            <th scope="col">All time</th>
            <th scope="col">Focus phases</th>
          </tr>
        </thead>
        <tbody>
          {summary.rooms.map((r) => (
            <tr key={r.room} data-testid={`study-room-${r.room}`}>
              <th scope="row" title={r.title || r.room}>
                {r.title || r.room}
              </th>
              <td>{formatDuration(todayByRoom.get(r.room) ?? 0)}</td>
              <td>{formatDuration(r.seconds)}</td>
              <td>{r.focusPhases}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

type Export = { status: 'idle' } | { status: 'saving' } | { status: 'saved'; path: string } | { status: 'failed'; message: string };

function ExportRow() {
  const [state, setState] = useState<Export>({ status: 'idle' });

  function exportCsv() {
    setState({ status: 'saving' });
    exportStudyCsv().then(
      (path) => setState({ status: 'saved', path }),
      (error: unknown) => setState({ status: 'failed', message: describeError(error) }),
    );
  }

  return (
    <div className="study__export">
      <button
        className="button"
        onClick={exportCsv}
        disabled={state.status === 'saving'}
        aria-busy={state.status === 'saving'}
        data-testid="study-export"
      >
        {state.status === 'saving' && <Spinner />}
        Export CSV
      </button>
      <span aria-live="polite" data-testid="study-export-result">
        {state.status === 'saved' && (
          <span className="ok">
            Saved to <code className="study__path">{state.path}</code>
          </span>
        )}
        {state.status === 'failed' && <span className="error">Couldn&apos;t export: {state.message}</span>}
      </span>
    </div>
  );
}
