/**
 * Scheduling: the dialog that adds or edits a session (a group's, or a personal study
 * block), the dialog of one occurrence (cancel or move it, edit or delete its series),
 * and the `.ics` import. The app's and the relay's answers (`invalidInput` naming the
 * problem) show in the dialog that asked.
 */
import { useId, useState } from 'react';
import {
  addSession,
  changeSession,
  describeError,
  importCalendar,
  type CalendarEntry,
  type GroupsChanged,
  type ImportReport,
  type StudySession,
} from '../services/studyhall';
import { maySchedule, sessionOf, whenText } from '../state/groups';
import {
  draftOfForm,
  formOfSession,
  MAX_COUNT,
  MAX_MINUTES,
  MIN_MINUTES,
  keptChanges,
  newForm,
  repeatSummary,
  weekdayCode,
  weekdayName,
  WEEKDAYS,
  withChange,
  type FormField,
  type FormProblems,
  type RepeatEnd,
  type RepeatKind,
  type ScheduleForm,
} from '../state/schedule';
import { isolate } from '../state/text';
import { convertWall, dayOf, localTimeZone, timeOf, wallAt, wallOf, wallText, type DayKey } from '../state/zoned';
import { Dialog, Spinner } from './Dialog';

/** What the schedule dialog is for: a new session (for `target`: a group's id, or null for a block), or a session to edit. */
export type ScheduleRequest =
  | { kind: 'new'; target: string | null; date: DayKey; time: string }
  | { kind: 'edit'; group: string | null; session: StudySession };

const ME = 'me';

/** The groups a session can be for, and "Just me". */
function TargetOptions({ view }: { view: GroupsChanged }) {
  return (
    <>
      {view.groups.map((c) => (
        <option key={c.group.id} value={c.group.id}>
          {c.group.name}
        </option>
      ))}
      <option value={ME}>Just me (study block)</option>
    </>
  );
}

function FieldError({ id, field, problem }: { id: string; field: FormField; problem: string | undefined }) {
  return problem ? (
    <p id={id} className="field-error" role="alert" data-testid={`${field}-error`}>
      {problem}
    </p>
  ) : null;
}

/** Adds a session, or edits one (its whole series). */
export function ScheduleDialog({
  view,
  request,
  onClose,
  onSaved,
}: {
  view: GroupsChanged;
  request: ScheduleRequest;
  onClose: () => void;
  /** Saved: what to tell the user. */
  onSaved: (message: string) => void;
}) {
  const editing = request.kind === 'edit' ? request.session : null;
  const [form, setForm] = useState<ScheduleForm>(() =>
    request.kind === 'edit' ? formOfSession(request.session) : newForm(request.date, request.time, localTimeZone()),
  );
  const [target, setTarget] = useState<string>(() => {
    const t = request.kind === 'edit' ? request.group : request.target;
    return t !== null && view.groups.some((c) => c.group.id === t) ? t : ME;
  });
  const [problems, setProblems] = useState<FormProblems>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const fid = (field: string) => `${id}-${field}`;

  function set<K extends keyof ScheduleForm>(key: K, value: ScheduleForm[K], field?: FormField) {
    setForm((f) => ({ ...f, [key]: value }));
    setError(null);
    if (field) setProblems((p) => ({ ...p, [field]: undefined }));
  }

  async function save() {
    const made = draftOfForm(form, editing?.changes ?? []);
    if (made.problems) {
      setProblems(made.problems);
      return;
    }
    if (editing) made.draft.changes = keptChanges(editing, made.draft);
    setBusy(true);
    setError(null);
    const group = target === ME ? null : target;
    try {
      if (editing) await changeSession(group, editing.id, made.draft);
      else await addSession(group, made.draft);
      onSaved(editing ? `“${isolate(made.draft.title)}” was saved.` : `“${isolate(made.draft.title)}” was added.`);
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  }

  const local = localTimeZone();
  const invalid = (field: FormField) => problems[field] !== undefined;
  const describedBy = (field: FormField) => (invalid(field) ? fid(field) : undefined);
  const repeats = form.repeat !== 'none' && form.repeat !== 'custom';
  return (
    <Dialog
      title={editing ? 'Edit the session' : 'Schedule a session'}
      onClose={busy ? undefined : onClose}
      testId="schedule-dialog"
      actions={
        <>
          <button className="button" onClick={onClose} disabled={busy} data-testid="schedule-cancel">
            Cancel
          </button>
          <button
            type="submit"
            form={fid('form')}
            className="button button--primary"
            disabled={busy}
            aria-busy={busy}
            data-testid="save-session"
          >
            {busy && <Spinner />}
            {editing ? 'Save changes' : 'Add session'}
          </button>
        </>
      }
    >
      <form
        id={fid('form')}
        className="schedule-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <fieldset className="schedule-form__fields" disabled={busy}>
          <div className="schedule-form__wide">
            <label htmlFor={fid('title-input')} className="label">
              Title
            </label>
            <input
              id={fid('title-input')}
              className="input"
              name="title"
              value={form.title}
              maxLength={200}
              placeholder="Problem set"
              aria-invalid={invalid('title')}
              aria-describedby={describedBy('title')}
              onChange={(e) => set('title', e.target.value, 'title')}
              data-autofocus
            />
            <FieldError id={fid('title')} field="title" problem={problems.title} />
          </div>
          <div className="schedule-form__wide">
            <label htmlFor={fid('target')} className="label">
              For
            </label>
            <select
              id={fid('target')}
              className="input"
              name="target"
              value={target}
              disabled={editing !== null}
              onChange={(e) => setTarget(e.target.value)}
            >
              <TargetOptions view={view} />
            </select>
          </div>
          <div>
            <label htmlFor={fid('date-input')} className="label">
              Date
            </label>
            <input
              id={fid('date-input')}
              className="input"
              type="date"
              name="date"
              value={form.date}
              aria-invalid={invalid('date')}
              aria-describedby={describedBy('date')}
              onChange={(e) => set('date', e.target.value, 'date')}
            />
            <FieldError id={fid('date')} field="date" problem={problems.date} />
          </div>
          <div>
            <label htmlFor={fid('time-input')} className="label">
              Starts at
            </label>
            <input
              id={fid('time-input')}
              className="input"
              type="time"
              name="time"
              value={form.time}
              aria-invalid={invalid('time')}
              aria-describedby={describedBy('time')}
              onChange={(e) => set('time', e.target.value, 'time')}
            />
            <FieldError id={fid('time')} field="time" problem={problems.time} />
          </div>
          <div>
            <label htmlFor={fid('minutes-input')} className="label">
              Length (minutes)
            </label>
            <input
              id={fid('minutes-input')}
              className="input"
              type="number"
              inputMode="numeric"
              name="minutes"
              min={MIN_MINUTES}
              max={MAX_MINUTES}
              step={5}
              value={form.minutes}
              aria-invalid={invalid('minutes')}
              aria-describedby={describedBy('minutes')}
              onChange={(e) => set('minutes', e.target.value, 'minutes')}
            />
            <FieldError id={fid('minutes')} field="minutes" problem={problems.minutes} />
          </div>
          <div>
            <label htmlFor={fid('repeat')} className="label">
              Repeat
            </label>
            <select
              id={fid('repeat')}
              className="input"
              name="repeat"
              value={form.repeat}
              onChange={(e) => {
                const repeat = e.target.value as RepeatKind;
                // Chosen weekdays start from the date's own.
                if (repeat === 'weekdays' && form.repeat !== 'weekdays') set('weekdays', [weekdayCode(form.date)]);
                set('repeat', repeat, 'weekdays');
              }}
            >
              <option value="none">Does not repeat</option>
              <option value="daily">Every day</option>
              <option value="weekly">Every week on {weekdayName(weekdayCode(form.date))}</option>
              <option value="weekdays">On chosen weekdays</option>
              {form.custom !== null && <option value="custom">As it was set ({form.custom})</option>}
            </select>
          </div>
          {form.repeat === 'weekdays' && (
            <fieldset
              className="schedule-form__wide schedule-form__weekdays"
              aria-describedby={describedBy('weekdays')}
              data-testid="repeat-weekdays"
            >
              <legend className="label">On</legend>
              {WEEKDAYS.map((d) => (
                <label key={d} className="check">
                  <input
                    type="checkbox"
                    name="weekday"
                    value={d}
                    checked={form.weekdays.includes(d)}
                    onChange={(e) =>
                      set(
                        'weekdays',
                        e.target.checked ? [...form.weekdays, d] : form.weekdays.filter((w) => w !== d),
                        'weekdays',
                      )
                    }
                    data-testid={`weekday-${d}`}
                  />
                  <span title={weekdayName(d)}>{weekdayName(d, 'short')}</span>
                </label>
              ))}
              <FieldError id={fid('weekdays')} field="weekdays" problem={problems.weekdays} />
            </fieldset>
          )}
          {repeats && (
            <div className="schedule-form__wide schedule-form__end">
              <div>
                <label htmlFor={fid('end')} className="label">
                  Ends
                </label>
                <select
                  id={fid('end')}
                  className="input"
                  name="end"
                  value={form.end}
                  onChange={(e) => {
                    set('end', e.target.value as RepeatEnd);
                    setProblems((p) => ({ ...p, until: undefined, count: undefined }));
                  }}
                >
                  <option value="never">Never</option>
                  <option value="until">On a day</option>
                  <option value="count">After a number of times</option>
                </select>
              </div>
              {form.end === 'until' && (
                <div>
                  <label htmlFor={fid('until-input')} className="label">
                    Last day
                  </label>
                  <input
                    id={fid('until-input')}
                    className="input"
                    type="date"
                    name="until"
                    value={form.until}
                    min={form.date}
                    aria-invalid={invalid('until')}
                    aria-describedby={describedBy('until')}
                    onChange={(e) => set('until', e.target.value, 'until')}
                  />
                  <FieldError id={fid('until')} field="until" problem={problems.until} />
                </div>
              )}
              {form.end === 'count' && (
                <div>
                  <label htmlFor={fid('count-input')} className="label">
                    Times
                  </label>
                  <input
                    id={fid('count-input')}
                    className="input"
                    type="number"
                    inputMode="numeric"
                    name="count"
                    min={1}
                    max={MAX_COUNT}
                    value={form.count}
                    aria-invalid={invalid('count')}
                    aria-describedby={describedBy('count')}
                    onChange={(e) => set('count', e.target.value, 'count')}
                  />
                  <FieldError id={fid('count')} field="count" problem={problems.count} />
                </div>
              )}
            </div>
          )}
        </fieldset>
        <p className="muted small schedule-form__tz" data-testid="schedule-tz">
          Times in {form.tz}
          {form.tz === local ? " (this computer's time zone)." : " (the session's own time zone)."}
        </p>
        {error && (
          <p className="banner banner--error" role="alert" data-testid="schedule-error">
            {error}
          </p>
        )}
      </form>
    </Dialog>
  );
}

type OccurrenceMode = 'menu' | 'move' | 'cancel' | 'delete';

/**
 * One occurrence on the calendar: when it is, what it belongs to, and what can be done
 * with it: for a recurring session cancel or move this one, edit or delete the series;
 * for a single one edit or delete it.
 */
export function OccurrenceDialog({
  view,
  entry,
  onClose,
  onEdit,
  onDone,
}: {
  view: GroupsChanged;
  entry: CalendarEntry;
  onClose: () => void;
  /** Edit the session (its series) in the schedule dialog. */
  onEdit: (group: string | null, session: StudySession) => void;
  /** Changed: what to tell the user. */
  onDone: (message: string) => void;
}) {
  const o = entry.occurrence;
  const session = sessionOf(view, { group: entry.group, session: o.session });
  const may = session !== null && maySchedule(view, entry.group, session);
  const recurring = Boolean(session?.rrule);
  const local = localTimeZone();
  const startLocal = wallAt(o.start_ms, local);
  const [mode, setMode] = useState<OccurrenceMode>('menu');
  const [moveDate, setMoveDate] = useState(dayOf(startLocal));
  const [moveTime, setMoveTime] = useState(timeOf(startLocal));
  const [moveError, setMoveError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const when = whenText(o.start_ms, o.end_ms);
  const day = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' }).format(o.start_ms);

  async function change(draft: Parameters<typeof changeSession>[2], message: string) {
    if (!session) return;
    setBusy(true);
    setError(null);
    try {
      await changeSession(entry.group, session.id, draft);
      onDone(message);
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  }

  function move() {
    if (!session) return;
    const wall = wallOf(moveDate, moveTime);
    if (!wall) {
      setMoveError('Choose the new date and time.');
      return;
    }
    const movedTo = wallText(convertWall(wall, local, session.tz));
    void change(withChange(session, o.occurrence, movedTo), `“${isolate(o.title)}” on ${day} was moved.`);
  }

  const title = isolate(o.title);
  const menu = session !== null && may && mode === 'menu';
  let actions: React.ReactNode;
  if (!session || !may || mode === 'menu') {
    actions = (
      <button className="button button--primary" onClick={onClose} data-testid="occurrence-close">
        Close
      </button>
    );
  } else {
    const confirm =
      mode === 'cancel'
        ? {
            label: 'Cancel this one',
            run: () => void change(withChange(session, o.occurrence, null), `“${title}” on ${day} was cancelled.`),
          }
        : mode === 'delete'
          ? { label: recurring ? 'Delete the series' : 'Delete', run: () => void change(null, `“${title}” was deleted.`) }
          : { label: 'Move', run: move };
    actions = (
      <>
        <button className="button" onClick={() => setMode('menu')} disabled={busy} data-testid="occurrence-back">
          Back
        </button>
        <button
          className={`button ${mode === 'move' ? 'button--primary' : 'button--danger'}`}
          onClick={confirm.run}
          disabled={busy}
          aria-busy={busy}
          data-testid="occurrence-confirm"
        >
          {busy && <Spinner />}
          {confirm.label}
        </button>
      </>
    );
  }

  return (
    <Dialog title={o.title} onClose={busy ? undefined : onClose} testId="occurrence-dialog" actions={actions}>
      <p data-testid="occurrence-when">
        {when}
        {o.moved && <span className="badge">moved</span>}
      </p>
      <p className="muted" data-testid="occurrence-owner">
        {entry.groupName !== null ? (
          <>
            Group: <bdi>{entry.groupName}</bdi>
          </>
        ) : (
          'Just me (study block)'
        )}
        {session && recurring && ` · ${repeatSummary(session)}`}
      </p>
      {session && session.tz !== local && (
        <p className="muted small">
          Set in {session.tz}: {session.start.replace('T', ' ')}.
        </p>
      )}
      {menu && (
        <div className="occurrence-actions" role="group" aria-label={recurring ? 'This one or the series' : 'The session'}>
          {recurring ? (
            <>
              <button className="button" onClick={() => setMode('cancel')} data-testid="occurrence-cancel">
                Cancel this one
              </button>
              <button className="button" onClick={() => setMode('move')} data-testid="occurrence-move">
                Move this one
              </button>
              <button className="button" onClick={() => onEdit(entry.group, session)} data-testid="occurrence-edit">
                Edit the series
              </button>
              <button className="button button--danger-text" onClick={() => setMode('delete')} data-testid="occurrence-delete">
                Delete the series
              </button>
            </>
          ) : (
            <>
              <button className="button" onClick={() => onEdit(entry.group, session)} data-testid="occurrence-edit">
                Edit
              </button>
              <button className="button button--danger-text" onClick={() => setMode('delete')} data-testid="occurrence-delete">
                Delete
              </button>
            </>
          )}
        </div>
      )}
      {!session && <p className="muted">This session is not on the schedule any more.</p>}
      {session && !may && (
        <p className="muted small" data-testid="occurrence-readonly">
          Only the group&apos;s owner or whoever added it can change it.
        </p>
      )}
      {mode === 'cancel' && <p>Cancel the session on {day}? The others stay as they are.</p>}
      {mode === 'delete' && (
        <p>{recurring ? 'Delete every session of this series?' : 'Delete this session?'} This cannot be undone.</p>
      )}
      {mode === 'move' && (
        <div className="schedule-form__row">
          <div>
            <label htmlFor={`${id}-date`} className="label">
              New date
            </label>
            <input
              id={`${id}-date`}
              className="input"
              type="date"
              name="move-date"
              value={moveDate}
              disabled={busy}
              onChange={(e) => {
                setMoveDate(e.target.value);
                setMoveError(null);
              }}
              data-autofocus
            />
          </div>
          <div>
            <label htmlFor={`${id}-time`} className="label">
              New time
            </label>
            <input
              id={`${id}-time`}
              className="input"
              type="time"
              name="move-time"
              value={moveTime}
              disabled={busy}
              onChange={(e) => {
                setMoveTime(e.target.value);
                setMoveError(null);
              }}
            />
          </div>
        </div>
      )}
      {moveError && (
        <p className="field-error" role="alert">
          {moveError}
        </p>
      )}
      {error && (
        <p className="banner banner--error" role="alert" data-testid="occurrence-error">
          {error}
        </p>
      )}
    </Dialog>
  );
}

/** Imports an `.ics` file into a group's schedule or as study blocks, and tells what it added and left out. */
export function ImportDialog({ view, onClose }: { view: GroupsChanged; onClose: () => void }) {
  const [target, setTarget] = useState(ME);
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [cancelled, setCancelled] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  async function choose() {
    setBusy(true);
    setError(null);
    setCancelled(false);
    try {
      const got = await importCalendar(target === ME ? null : target, localTimeZone());
      if (got === null) setCancelled(true);
      else setReport(got);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      title="Import a calendar (.ics)"
      onClose={busy ? undefined : onClose}
      testId="import-dialog"
      actions={
        report ? (
          <button className="button button--primary" onClick={onClose} data-testid="import-done">
            Done
          </button>
        ) : (
          <>
            <button className="button" onClick={onClose} disabled={busy}>
              Cancel
            </button>
            <button
              className="button button--primary"
              onClick={() => void choose()}
              disabled={busy}
              aria-busy={busy}
              data-testid="import-choose"
            >
              {busy && <Spinner />}
              Choose a file…
            </button>
          </>
        )
      }
    >
      {!report && (
        <>
          <p className="muted">
            Each event of the file becomes a session. Times without a time zone are read in {localTimeZone()}.
          </p>
          <label htmlFor={`${id}-target`} className="label">
            Add them to
          </label>
          <select
            id={`${id}-target`}
            className="input"
            name="import-target"
            value={target}
            disabled={busy}
            onChange={(e) => setTarget(e.target.value)}
            data-testid="import-target"
          >
            <TargetOptions view={view} />
          </select>
          {cancelled && <p className="muted small">No file was chosen.</p>}
        </>
      )}
      {report && (
        <div data-testid="import-report">
          <p data-testid="import-added">
            {report.added === 0
              ? 'Nothing was added.'
              : report.added === 1
                ? 'Added 1 session.'
                : `Added ${report.added} sessions.`}
          </p>
          {report.skipped.length > 0 && (
            <>
              <p>{report.skipped.length === 1 ? '1 event was left out:' : `${report.skipped.length} events were left out:`}</p>
              <ul className="import-skipped" data-testid="import-skipped">
                {report.skipped.map((line, i) => (
                  <li key={i}>{line}</li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
      {error && (
        <p className="banner banner--error" role="alert" data-testid="import-error">
          {error}
        </p>
      )}
    </Dialog>
  );
}
