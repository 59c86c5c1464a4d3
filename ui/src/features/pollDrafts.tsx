/**
 * The poll drafts of presenters and the host, prepared before (or during) the lecture and
 * kept by the app on this machine (`poll_drafts`, `save_poll_drafts`): the list, the
 * editor, and "Launch". The drafts are read once, the first time they are shown, and
 * then kept here as last saved, with the draft being edited, so switching tabs loses
 * nothing; the app being their only writer, what is kept here is what it holds.
 */
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { Spinner } from '../components/Dialog';
import { useFeatureRequests } from '../hooks/useFeatureRequests';
import { describeError, pollDrafts, savePollDrafts, type Poll, type PollDraft, type PollKind } from '../services/studyhall';
import {
  checkDraft,
  emptyDraft,
  formOf,
  MAX_DRAFTS,
  MAX_OPTIONS,
  MIN_OPTIONS,
  type DraftForm,
  type TextCheck,
} from './pollsState';

/** The draft being edited: the one it replaces (null for a new one) and what is typed. */
type Editing = { original: PollDraft | null; form: DraftForm; error: string | null };

type DraftBook = {
  status: 'idle' | 'loading' | 'ready' | 'failed';
  /** The drafts as the app keeps them, in order. */
  drafts: readonly PollDraft[];
  loadError: string | null;
  /** A save is on its way (one at a time). */
  saving: boolean;
  editing: Editing | null;
};

const FRESH: DraftBook = { status: 'idle', drafts: [], loadError: null, saving: false, editing: null };

let book: DraftBook = FRESH;
const listeners = new Set<() => void>();

function update(change: (b: DraftBook) => DraftBook) {
  book = change(book);
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Reads the drafts from the app, unless they were read (or are being read). */
function load() {
  if (book.status === 'loading' || book.status === 'ready') return;
  update((b) => ({ ...b, status: 'loading', loadError: null }));
  pollDrafts().then(
    (drafts) => update((b) => ({ ...b, status: 'ready', drafts })),
    (error: unknown) => update((b) => ({ ...b, status: 'failed', loadError: describeError(error) })),
  );
}

/** Keeps `drafts` in the app in place of those kept; throws what the app said. */
async function keep(drafts: PollDraft[]): Promise<void> {
  update((b) => ({ ...b, saving: true }));
  try {
    await savePollDrafts(drafts);
    update((b) => ({ ...b, drafts, saving: false }));
  } catch (error) {
    update((b) => ({ ...b, saving: false }));
    throw error;
  }
}

/** Forgets the drafts read (tests start each with none). */
export function forgetPollDrafts() {
  book = FRESH;
}

function edit(form: DraftForm) {
  update((b) => (b.editing === null ? b : { ...b, editing: { ...b.editing, form, error: null } }));
}

async function saveEditing() {
  const editing = book.editing;
  if (editing === null || book.saving) return;
  const draft = checkDraft(editing.form).draft;
  if (draft === null) return;
  const at = editing.original === null ? -1 : book.drafts.indexOf(editing.original);
  // (A draft deleted while it was being edited comes back as a new one.)
  const drafts = at < 0 ? [...book.drafts, draft] : book.drafts.map((d, i) => (i === at ? draft : d));
  try {
    await keep(drafts);
    update((b) => ({ ...b, editing: null }));
  } catch (error) {
    update((b) => (b.editing === null ? b : { ...b, editing: { ...b.editing, error: describeError(error) } }));
  }
}

/** A text's size against its limit, and what is wrong with it once it is too long. */
function Counter({ check, testId }: { check: TextCheck; testId: string }) {
  const over = check.bytes > check.max;
  return (
    <span
      className={`poll-draft__counter ${over ? 'error' : check.bytes > check.max * 0.8 ? '' : 'muted'}`}
      aria-live="polite"
      data-testid={testId}
    >
      {over ? `Too long: ${check.bytes} / ${check.max} bytes` : `${check.bytes} / ${check.max}`}
    </span>
  );
}

/**
 * What is wrong with a text beside it: neither being empty (said next to Save, as the
 * first problem) nor too long (its counter says so), so a control character.
 */
function fieldError(check: TextCheck): string | null {
  return check.error !== null && check.bytes > 0 && check.bytes <= check.max ? check.error : null;
}

function DraftEditor({ editing, saving }: { editing: Editing; saving: boolean }) {
  const { form } = editing;
  const check = checkDraft(form);
  const questionInput = useRef<HTMLTextAreaElement>(null);
  const optionInputs = useRef<(HTMLInputElement | null)[]>([]);
  const focusOption = useRef<number | null>(null);

  useEffect(() => questionInput.current?.focus(), []);
  useEffect(() => {
    if (focusOption.current === null) return;
    optionInputs.current[focusOption.current]?.focus();
    focusOption.current = null;
  });

  const setOption = (i: number, text: string) => edit({ ...form, options: form.options.map((o, j) => (j === i ? text : o)) });
  const addOption = () => {
    if (form.options.length >= MAX_OPTIONS) return;
    focusOption.current = form.options.length;
    edit({ ...form, options: [...form.options, ''] });
  };
  const removeOption = (i: number) => edit({ ...form, options: form.options.filter((_, j) => j !== i) });
  const questionError = fieldError(check.question);

  return (
    <form
      className="poll-draft-editor"
      aria-label={editing.original === null ? 'New poll draft' : 'Edit poll draft'}
      onSubmit={(e) => {
        e.preventDefault();
        void saveEditing();
      }}
      data-testid="poll-draft-editor"
    >
      <label className="label" htmlFor="poll-draft-question">
        Question
      </label>
      <textarea
        ref={questionInput}
        id="poll-draft-question"
        className="input poll-draft-editor__question"
        rows={2}
        value={form.question}
        placeholder="What do you want to ask?"
        disabled={saving}
        aria-invalid={questionError !== null}
        onChange={(e) => edit({ ...form, question: e.target.value })}
        data-testid="poll-draft-question"
      />
      <div className="poll-draft-editor__hint">
        {questionError !== null && (
          <span className="field-error" data-testid="poll-draft-question-error">
            {questionError}
          </span>
        )}
        <Counter check={check.question} testId="poll-draft-question-bytes" />
      </div>

      <fieldset className="poll-draft-editor__options" disabled={saving}>
        <legend className="label">
          Options <span className="muted small">({MIN_OPTIONS} to {MAX_OPTIONS})</span>
        </legend>
        {form.options.map((option, i) => {
          const optionCheck = check.options[i];
          const error = optionCheck === undefined ? null : fieldError(optionCheck);
          return (
            <div key={i} className="poll-draft-editor__option">
              <div className="poll-draft-editor__option-row">
                <input
                  ref={(el) => {
                    optionInputs.current[i] = el;
                  }}
                  className="input"
                  value={option}
                  placeholder={`Option ${i + 1}`}
                  aria-label={`Option ${i + 1}`}
                  aria-invalid={error !== null}
                  onChange={(e) => setOption(i, e.target.value)}
                  data-testid="poll-draft-option"
                />
                <button
                  type="button"
                  className="button button--ghost button--small"
                  onClick={() => removeOption(i)}
                  disabled={form.options.length <= MIN_OPTIONS}
                  aria-label={`Remove option ${i + 1}`}
                  title={form.options.length <= MIN_OPTIONS ? `A poll has at least ${MIN_OPTIONS} options` : undefined}
                  data-testid="poll-draft-remove-option"
                >
                  ×
                </button>
              </div>
              {optionCheck !== undefined && (error !== null || optionCheck.bytes > optionCheck.max * 0.8) && (
                <div className="poll-draft-editor__hint">
                  {error !== null && (
                    <span className="field-error" data-testid="poll-draft-option-error">
                      {error}
                    </span>
                  )}
                  <Counter check={optionCheck} testId="poll-draft-option-bytes" />
                </div>
              )}
            </div>
          );
        })}
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={addOption}
          disabled={form.options.length >= MAX_OPTIONS}
          title={form.options.length >= MAX_OPTIONS ? `A poll has at most ${MAX_OPTIONS} options` : undefined}
          data-testid="poll-draft-add-option"
        >
          + Add option
        </button>
      </fieldset>

      <div className="poll-draft-editor__settings">
        <label className="check small">
          <span>Votes</span>
          <select
            className="input poll-draft-editor__kind"
            value={form.kind}
            disabled={saving}
            onChange={(e) => edit({ ...form, kind: e.target.value as PollKind })}
            data-testid="poll-draft-kind"
          >
            <option value="single">One choice</option>
            <option value="multiple">One or more choices</option>
          </select>
        </label>
        <label className="check small" title="Named: you and the presenters see who chose what; students never do">
          <input
            type="checkbox"
            checked={form.anonymous}
            disabled={saving}
            onChange={(e) => edit({ ...form, anonymous: e.target.checked })}
            data-testid="poll-draft-anonymous"
          />
          Anonymous
        </label>
      </div>

      {editing.error !== null && (
        <p className="field-error" role="alert" data-testid="poll-draft-error">
          {editing.error}
        </p>
      )}
      <div className="poll-draft-editor__actions">
        {check.problem !== null && (
          <span className="small muted poll-draft-editor__problem" data-testid="poll-draft-problem">
            {check.problem}
          </span>
        )}
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={() => update((b) => ({ ...b, editing: null }))}
          disabled={saving}
          data-testid="poll-draft-cancel"
        >
          Cancel
        </button>
        <button
          type="submit"
          className="button button--primary button--small"
          disabled={saving || check.draft === null}
          aria-busy={saving}
          data-testid="poll-draft-save"
        >
          {saving && <Spinner />}
          Save draft
        </button>
      </div>
    </form>
  );
}

function describeDraft(d: PollDraft): string {
  const kind = d.kind === 'multiple' ? 'one or more choices' : 'one choice';
  return `${d.options.length} options · ${kind} · ${d.anonymous ? 'anonymous' : 'named'}`;
}

/**
 * The drafts section of the polls tab, for presenters and the host: the drafts, a new
 * one or one being edited, and "Launch" on each, held while a poll is open.
 */
export function PollDrafts({ open, toast }: { open: Poll | null; toast: (message: string, tone?: 'error') => void }) {
  const current = useSyncExternalStore(subscribe, () => book);
  const { pending, send } = useFeatureRequests(toast);
  // The draft whose launch is on its way (one at a time).
  const [launched, setLaunched] = useState<PollDraft | null>(null);
  useEffect(load, []);

  const { status, drafts, editing, saving } = current;
  const full = drafts.length >= MAX_DRAFTS;
  const launching = pending('launch');
  const blocked = open === null ? null : 'A poll is open: close it before launching another.';

  function launch(draft: PollDraft) {
    setLaunched(draft);
    void send('launch', { type: 'poll_launch', poll: draft }, 'launch the poll');
  }

  function remove(draft: PollDraft) {
    if (saving) return;
    if (editing?.original === draft) update((b) => ({ ...b, editing: null }));
    keep(drafts.filter((d) => d !== draft)).catch((error: unknown) =>
      toast(`Couldn't delete the draft: ${describeError(error)}`, 'error'),
    );
  }

  return (
    <section className="poll-drafts" aria-label="Poll drafts" data-testid="poll-drafts">
      <div className="poll-section__head">
        <h3 className="feature-section__title">Drafts</h3>
        <button
          className="button button--small"
          onClick={() => update((b) => ({ ...b, editing: { original: null, form: emptyDraft(), error: null } }))}
          disabled={status !== 'ready' || saving || editing?.original === null || full}
          title={full ? `The app keeps at most ${MAX_DRAFTS} drafts: delete one first` : undefined}
          data-testid="poll-draft-new"
        >
          New draft
        </button>
      </div>
      {status === 'loading' && (
        <p className="small muted" data-testid="poll-drafts-loading">
          <Spinner /> Reading your drafts…
        </p>
      )}
      {status === 'failed' && (
        <div className="poll-drafts__failed">
          <p className="field-error" role="alert" data-testid="poll-drafts-error">
            {current.loadError}
          </p>
          <button className="button button--small" onClick={load} data-testid="poll-drafts-retry">
            Try again
          </button>
        </div>
      )}
      {editing !== null && <DraftEditor key={editing.original === null ? 'new' : drafts.indexOf(editing.original)} editing={editing} saving={saving} />}
      {status === 'ready' && drafts.length === 0 && editing === null && (
        <p className="small muted" data-testid="poll-drafts-empty">
          No drafts yet. Prepare a poll now and launch it when the time comes.
        </p>
      )}
      {blocked !== null && drafts.length > 0 && (
        <p className="small muted" data-testid="poll-launch-blocked">
          {blocked}
        </p>
      )}
      {drafts.length > 0 && (
        <ol className="poll-drafts__list" aria-label="Drafts">
          {drafts.map((d, i) => {
            const editingThis = editing?.original === d;
            const busy = launching && launched === d;
            return (
              <li key={i} className={`poll-draft ${editingThis ? 'is-editing' : ''}`} data-testid="poll-draft">
                <p className="poll-draft__question" data-testid="poll-draft-text">
                  {d.question}
                </p>
                <p className="poll-draft__meta small muted">{describeDraft(d)}</p>
                <div className="poll-draft__actions">
                  <button
                    className="button button--primary button--small"
                    onClick={() => launch(d)}
                    disabled={blocked !== null || launching}
                    aria-busy={busy}
                    title={blocked ?? 'Ask the room now'}
                    data-testid="poll-launch"
                  >
                    {busy && <Spinner />}
                    Launch
                  </button>
                  <button
                    className="button button--small"
                    onClick={() => update((b) => ({ ...b, editing: { original: d, form: formOf(d), error: null } }))}
                    disabled={saving || editingThis}
                    data-testid="poll-draft-edit"
                  >
                    Edit
                  </button>
                  <button
                    className="button button--ghost button--small button--danger-text"
                    onClick={() => remove(d)}
                    disabled={saving}
                    data-testid="poll-draft-delete"
                  >
                    Delete
                  </button>
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
