/**
 * Questions (Q&A, docs/protocol.md "Questions"), a tab of the room's side panel: anyone
 * asks (anonymously if they like) and upvotes once; presenters and the host answer,
 * dismiss, and pin the question they are answering, which the room's header shows to
 * everyone. The list is the relay's, as this participant sees it (`questionsState.ts`);
 * nothing here changes it before the relay says so.
 */
import { useRef, useState } from 'react';
import { Spinner } from '../components/Dialog';
import { Svg } from '../components/Icons';
import { describeError, featureRequest, type Question, type QuestionRequest } from '../services/studyhall';
import { clockTime } from '../state/text';
import type { FeatureSlotProps, RoomFeatureUi } from './feature';
import {
  askedBy,
  draftOf,
  MAX_QUESTION_BYTES,
  pinnedQuestion,
  questionsFromSnapshot,
  questionsReducer,
  splitByState,
  stateWord,
  unreadSince,
  type QuestionsState,
} from './questionsState';

export function QuestionIcon() {
  return (
    <Svg>
      <path d="M4 5h16v11H10l-4 4v-4H4z" />
      <path d="M10 9a2 2 0 1 1 2.6 1.9c-.4.1-.6.5-.6.9v.2M12 13.6v.1" />
    </Svg>
  );
}

/** Whether you answer questions: the host and the presenters do. */
const moderates = ({ isHost, you }: Pick<FeatureSlotProps<QuestionsState>, 'isHost' | 'you'>) => isHost || you.presenter;

type Action = 'upvote' | 'answer' | 'dismiss' | 'pin' | 'unpin';

const ACTION_WORDS: Record<Action, string> = {
  upvote: 'upvote the question',
  answer: 'mark the question answered',
  dismiss: 'dismiss the question',
  pin: 'pin the question',
  unpin: 'unpin the question',
};

function requestFor(q: Question, action: Action): QuestionRequest {
  switch (action) {
    case 'upvote':
      return { type: 'question_upvote', id: q.id };
    case 'answer':
      return { type: 'question_close', id: q.id, outcome: 'answered' };
    case 'dismiss':
      return { type: 'question_close', id: q.id, outcome: 'dismissed' };
    case 'pin':
      return { type: 'question_pin', id: q.id };
    case 'unpin':
      return { type: 'question_pin', id: null };
  }
}

/** The box to ask in: the text, its size in bytes, anonymity, and the relay's refusal. */
function AskBox() {
  const [text, setText] = useState('');
  const [anonymous, setAnonymous] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const draft = draftOf(text);

  function ask() {
    if (sending || draft.empty || draft.tooLong) return;
    setSending(true);
    setError(null);
    featureRequest({ type: 'question_ask', text: draft.text, anonymous }).then(
      () => {
        setSending(false);
        setText('');
        // (The box was disabled while sending, which took the focus away.)
        requestAnimationFrame(() => input.current?.focus());
      },
      (e: unknown) => {
        setSending(false);
        setError(describeError(e));
        requestAnimationFrame(() => input.current?.focus());
      },
    );
  }

  return (
    <form
      className="questions__ask"
      onSubmit={(e) => {
        e.preventDefault();
        ask();
      }}
    >
      <textarea
        ref={input}
        className="input questions__input"
        rows={2}
        value={text}
        placeholder="Ask a question"
        aria-label="Your question"
        disabled={sending}
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            ask();
          }
        }}
        data-testid="question-input"
      />
      {error !== null && (
        <p className="field-error questions__error" role="alert" data-testid="question-error">
          {error}
        </p>
      )}
      <div className="questions__ask-row">
        <label className="check small" title="Other students will not see that you asked; the host and presenters will">
          <input
            type="checkbox"
            checked={anonymous}
            disabled={sending}
            onChange={(e) => setAnonymous(e.target.checked)}
            data-testid="question-anonymous"
          />
          Ask anonymously
        </label>
        <span
          className={`questions__counter ${draft.tooLong ? 'error' : draft.bytes > MAX_QUESTION_BYTES * 0.8 ? '' : 'muted'}`}
          aria-live="polite"
          data-testid="question-bytes"
        >
          {draft.tooLong ? `Too long: ${draft.bytes} / ${MAX_QUESTION_BYTES} bytes` : `${draft.bytes} / ${MAX_QUESTION_BYTES}`}
        </span>
        <button
          type="submit"
          className="button button--primary button--small"
          disabled={sending || draft.empty || draft.tooLong}
          aria-busy={sending}
          data-testid="question-send"
        >
          {sending && <Spinner />}
          Ask
        </button>
      </div>
    </form>
  );
}

function QuestionItem({
  question: q,
  moderator,
  busy,
  onAct,
}: {
  question: Question;
  moderator: boolean;
  busy: Action | undefined;
  onAct: (action: Action) => void;
}) {
  const asker = askedBy(q);
  const open = q.state === 'open';
  const button = (action: Action, label: string, testId: string, extra = '') => (
    <button
      className={`button button--small ${extra}`}
      onClick={() => onAct(action)}
      disabled={busy !== undefined}
      aria-busy={busy === action}
      data-testid={testId}
    >
      {busy === action && <Spinner />}
      {label}
    </button>
  );
  return (
    <li
      className={`question ${q.pinned ? 'question--pinned' : ''} ${q.mine ? 'question--mine' : ''}`}
      data-testid="question-item"
      data-question-id={q.id}
      data-state={q.state}
      data-votes={q.votes}
      data-pinned={q.pinned}
    >
      <div className="question__meta">
        <span className="question__by" title={asker.name} data-testid="question-by">
          <bdi>{asker.name}</bdi>
          {asker.anonymous && <span className="muted"> (anonymous)</span>}
        </span>
        <time dateTime={new Date(q.asked_at).toISOString()}>{clockTime(q.asked_at)}</time>
        {q.pinned && (
          <span className="badge badge--live" data-testid="question-pinned">
            Answering now
          </span>
        )}
        {!open && (
          <span className={`badge ${q.state === 'answered' ? 'badge--calm' : ''}`} data-testid="question-state">
            {stateWord(q.state)}
          </span>
        )}
      </div>
      <p className="question__text" data-testid="question-text">
        {q.text}
      </p>
      <div className="question__actions">
        <button
          className={`question__vote ${q.voted ? 'is-voted' : ''}`}
          onClick={() => onAct('upvote')}
          disabled={q.voted || !open || busy !== undefined}
          aria-pressed={q.voted}
          aria-label={`${q.voted ? 'You upvoted' : 'Upvote'}: ${q.votes} ${q.votes === 1 ? 'vote' : 'votes'}`}
          title={q.voted ? 'You upvoted this question' : open ? 'Upvote this question' : 'Closed questions take no votes'}
          data-testid="question-upvote"
        >
          {busy === 'upvote' ? <Spinner /> : <span aria-hidden="true">▲</span>}
          <span data-testid="question-votes">{q.votes}</span>
        </button>
        {moderator && open && (
          <span className="question__moderate">
            {q.pinned ? button('unpin', 'Unpin', 'question-pin') : button('pin', 'Pin', 'question-pin', 'button--ghost')}
            {button('answer', 'Answer', 'question-answer')}
            {button('dismiss', 'Dismiss', 'question-dismiss', 'button--ghost')}
          </span>
        )}
      </div>
    </li>
  );
}

/** The questions tab: the open questions, the closed ones folded away, the ask box. */
function QuestionsPanel(props: FeatureSlotProps<QuestionsState>) {
  const { state, toast } = props;
  const moderator = moderates(props);
  const [busy, setBusy] = useState<Readonly<Record<string, Action>>>({});
  const [showClosed, setShowClosed] = useState(false);
  const { open, closed } = splitByState(state.list);

  function act(q: Question, action: Action) {
    if (busy[q.id] !== undefined) return;
    const done = () =>
      setBusy((all) => {
        const rest = { ...all };
        delete rest[q.id];
        return rest;
      });
    setBusy((all) => ({ ...all, [q.id]: action }));
    featureRequest(requestFor(q, action)).then(done, (error: unknown) => {
      done();
      toast(`Couldn't ${ACTION_WORDS[action]}: ${describeError(error)}`, 'error');
    });
  }

  const item = (q: Question) => (
    <QuestionItem key={q.id} question={q} moderator={moderator} busy={busy[q.id]} onAct={(a) => act(q, a)} />
  );

  return (
    <section className="questions" aria-label="Questions" data-testid="questions-panel">
      <div className="questions__scroll">
        {open.length === 0 ? (
          <p className="questions__empty muted" data-testid="questions-empty">
            {closed.length === 0 ? 'No questions yet.' : 'No open questions.'}
            {!moderator && ' Ask one below: the most upvoted come first.'}
          </p>
        ) : (
          <ol className="questions__list" aria-label="Open questions" data-testid="questions-open">
            {open.map(item)}
          </ol>
        )}
        {closed.length > 0 && (
          <div className="questions__closed">
            <button
              className="questions__closed-toggle"
              onClick={() => setShowClosed((s) => !s)}
              aria-expanded={showClosed}
              data-testid="questions-closed-toggle"
            >
              <span aria-hidden="true">{showClosed ? '▾' : '▸'}</span> Closed ({closed.length})
            </button>
            {showClosed && (
              <ol className="questions__list" aria-label="Closed questions" data-testid="questions-closed">
                {closed.map(item)}
              </ol>
            )}
          </div>
        )}
      </div>
      <AskBox />
    </section>
  );
}

/** The question being answered, in the room's header, for everyone. */
function AnsweringNow({ state }: FeatureSlotProps<QuestionsState>) {
  const q = pinnedQuestion(state);
  if (q === null) return null;
  return (
    <div className="answering-now" role="status" data-testid="question-now" data-question-id={q.id} title={q.text}>
      <span className="answering-now__label">Answering now</span>
      <span className="answering-now__text">{q.text}</span>
    </div>
  );
}

export const questions: RoomFeatureUi<QuestionsState, 'questions'> = {
  key: 'questions',
  fromSnapshot: questionsFromSnapshot,
  reduce: questionsReducer,
  Header: AnsweringNow,
  Panel: QuestionsPanel,
  panelLabel: 'Questions',
  PanelIcon: QuestionIcon,
  panelMark: (state) => state.news,
  panelUnread: unreadSince,
};
