/**
 * Polls (docs/protocol.md, "Polls"), a tab of the room's side panel. Presenters and the
 * host prepare drafts (`./pollDrafts.tsx`), launch one at a time, watch the results come
 * in (and, in a named poll, who chose what) and close it. Everyone votes once in the open
 * poll and sees the results when it closes; a closed poll's results save as CSV. The
 * polls are the relay's, as this participant sees them (`pollsState.ts`); nothing here
 * changes them before the relay says so.
 */
import { Fragment, useState } from 'react';
import { Spinner } from '../components/Dialog';
import { Svg } from '../components/Icons';
import { useFeatureRequests } from '../hooks/useFeatureRequests';
import { describeError, saveExport, type Participant, type Poll } from '../services/studyhall';
import { clockTime } from '../state/text';
import type { FeatureSlotProps, RoomFeatureUi } from './feature';
import { PollDrafts } from './pollDrafts';
import {
  choiceWords,
  closedPolls,
  csvBase64,
  csvName,
  mayVote,
  openPoll,
  optionResults,
  pollCsv,
  pollsFromSnapshot,
  pollsReducer,
  unreadSince,
  votable,
  type PollsState,
} from './pollsState';

type Toast = (message: string, tone?: 'error') => void;

export function PollIcon() {
  return (
    <Svg>
      <path d="M4 20h16" />
      <rect x="5" y="11" width="3.5" height="6" rx="1" />
      <rect x="10.25" y="5" width="3.5" height="12" rx="1" />
      <rect x="15.5" y="8" width="3.5" height="9" rx="1" />
    </Svg>
  );
}

/** Whether you run polls: the host and the presenters do. */
const runsPolls = ({ isHost, you }: Pick<FeatureSlotProps<PollsState>, 'isHost' | 'you'>) => isHost || you.presenter;

/** Who launched a poll, in words. */
function launcher(poll: Poll, you: Participant, people: Participant[]): string {
  if (poll.by === you.identity) return 'you';
  return people.find((p) => p.identity === poll.by)?.name ?? 'a presenter';
}

const kindWords = (poll: Poll) => (poll.kind === 'multiple' ? 'Choose one or more' : 'Choose one');

/** Each option's votes, its share of those who voted, and a bar of that share. */
function PollResults({ poll }: { poll: Poll }) {
  const results = optionResults(poll);
  if (results === null) return null;
  return (
    <ol className="poll-results" aria-label="Results" data-testid="poll-results" data-results={results.map((r) => r.count).join(',')}>
      {results.map((r, i) => {
        const percent = Math.round(r.percent);
        return (
          <li key={i} className={`poll-result ${r.yours ? 'is-yours' : ''}`}>
            <div className="poll-result__label">
              <span className="poll-result__option">
                {r.option}
                {r.yours && <span className="poll-result__yours"> (your vote)</span>}
              </span>
              <span className="poll-result__count">
                {r.count} · {percent}%
              </span>
            </div>
            <div className="poll-result__bar" aria-hidden="true">
              <span style={{ width: `${Math.min(100, r.percent)}%` }} />
            </div>
          </li>
        );
      })}
    </ol>
  );
}

/** Who chose what (a named poll, for presenters and the host). */
function PollVoters({ poll }: { poll: Poll }) {
  if (poll.voters === null) return null;
  return (
    <details className="poll-voters" open={poll.state === 'open'}>
      <summary>Who voted what ({poll.voters.length})</summary>
      {poll.voters.length === 0 ? (
        <p className="small muted">Nobody has voted yet.</p>
      ) : (
        <ul className="poll-voters__list" data-testid="poll-voters">
          {poll.voters.map((v) => (
            <li key={v.identity} data-testid="poll-voter" data-identity={v.identity}>
              <strong>
                <bdi>{v.name}</bdi>
              </strong>
              : {choiceWords(poll, v.choices).map((c, i) => (
                <Fragment key={i}>
                  {i > 0 && ', '}
                  <bdi>{c}</bdi>
                </Fragment>
              ))}
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

/** The open poll's options to choose from, and the Vote button. */
function VoteForm({ poll, toast }: { poll: Poll; toast: Toast }) {
  const { pending, send } = useFeatureRequests(toast);
  const [chosen, setChosen] = useState<readonly number[]>([]);
  const single = poll.kind === 'single';
  const busy = pending('vote');

  function choose(i: number, on: boolean) {
    if (single) setChosen([i]);
    else setChosen((all) => (on ? [...all.filter((c) => c !== i), i] : all.filter((c) => c !== i)));
  }

  return (
    <form
      className="poll-vote"
      onSubmit={(e) => {
        e.preventDefault();
        if (chosen.length === 0 || busy) return;
        void send('vote', { type: 'poll_vote', id: poll.id, choices: [...chosen].sort((a, b) => a - b) }, 'vote');
      }}
    >
      <fieldset className="poll-vote__options" disabled={busy}>
        <legend className="small muted">{kindWords(poll)}</legend>
        {poll.options.map((option, i) => (
          <label key={i} className="poll-vote__option">
            <input
              type={single ? 'radio' : 'checkbox'}
              name={`poll-${poll.id}`}
              checked={chosen.includes(i)}
              onChange={(e) => choose(i, e.target.checked)}
              data-testid="poll-option"
            />
            <span>{option}</span>
          </label>
        ))}
      </fieldset>
      <button
        type="submit"
        className="button button--primary button--small"
        disabled={chosen.length === 0 || busy}
        aria-busy={busy}
        title={chosen.length === 0 ? 'Choose an option first' : 'You vote once; it cannot be changed'}
        data-testid="poll-vote"
      >
        {busy && <Spinner />}
        Vote
      </button>
    </form>
  );
}

/** The open poll: voting, your vote, and for presenters the results as they come and Close. */
function OpenPoll({ poll, room }: { poll: Poll; room: FeatureSlotProps<PollsState> }) {
  const { toast, you, people } = room;
  const runs = runsPolls(room);
  const { pending, send } = useFeatureRequests(toast);
  const closing = pending('close');

  return (
    <article className="poll poll--open" aria-label="Open poll" data-testid="poll-open" data-poll-id={poll.id} data-votes={poll.votes}>
      <div className="poll__meta">
        <span className="badge badge--live">Open</span>
        <span>
          by {launcher(poll, you, people)} at {clockTime(poll.opened_at)}
        </span>
        <span data-testid="poll-votes">{poll.votes === 1 ? '1 voted' : `${poll.votes} voted`}</span>
      </div>
      <p className="poll__question" data-testid="poll-question">
        {poll.question}
      </p>
      <p className="poll__privacy small muted" data-testid="poll-privacy">
        {poll.anonymous
          ? 'Anonymous: nobody sees who chose what.'
          : 'Named: the host and presenters see who chose what.'}
      </p>
      {mayVote(poll) && <VoteForm key={poll.id} poll={poll} toast={toast} />}
      {!votable(poll.kind) && <p className="small muted">This app cannot vote in this kind of poll.</p>}
      {poll.your_choices.length > 0 && (
        <p className="poll__yours" data-testid="poll-your-vote">
          You voted: {choiceWords(poll, poll.your_choices).join(', ')}
        </p>
      )}
      {poll.results === null ? (
        poll.your_choices.length > 0 && (
          <p className="small muted" data-testid="poll-results-later">
            Results when the poll closes.
          </p>
        )
      ) : (
        <>
          <PollResults poll={poll} />
          <PollVoters poll={poll} />
        </>
      )}
      {runs && (
        <div className="poll__actions">
          <button
            className="button button--small"
            onClick={() => void send('close', { type: 'poll_close', id: poll.id }, 'close the poll')}
            disabled={closing}
            aria-busy={closing}
            title="Stop the voting; everyone then sees the results"
            data-testid="poll-close"
          >
            {closing && <Spinner />}
            Close poll
          </button>
        </div>
      )}
    </article>
  );
}

/** A closed poll: its results, who chose what (when you may see it), and the CSV export. */
function ClosedPoll({ poll, toast }: { poll: Poll; toast: Toast }) {
  const [saving, setSaving] = useState(false);
  const csv = pollCsv(poll);

  function exportCsv() {
    if (csv === null || saving) return;
    setSaving(true);
    saveExport(csvName(poll), csvBase64(csv)).then(
      (path) => {
        setSaving(false);
        toast(`Saved to ${path}`);
      },
      (error: unknown) => {
        setSaving(false);
        toast(`Couldn't save the results: ${describeError(error)}`, 'error');
      },
    );
  }

  return (
    <li className="poll poll--closed" data-testid="poll-closed" data-poll-id={poll.id} data-votes={poll.votes}>
      <div className="poll__meta">
        <span className="badge">Closed</span>
        {poll.closed_at !== null && <span>at {clockTime(poll.closed_at)}</span>}
        <span>{poll.votes === 1 ? '1 voted' : `${poll.votes} voted`}</span>
      </div>
      <p className="poll__question">{poll.question}</p>
      {poll.your_choices.length > 0 && (
        <p className="poll__yours small">You voted: {choiceWords(poll, poll.your_choices).join(', ')}</p>
      )}
      {poll.results === null ? <p className="small muted">No results to show.</p> : <PollResults poll={poll} />}
      <PollVoters poll={poll} />
      <div className="poll__actions">
        <button
          className="button button--ghost button--small"
          onClick={exportCsv}
          disabled={csv === null || saving}
          aria-busy={saving}
          title="Save the results as a spreadsheet (CSV) in Downloads"
          data-testid="poll-export"
        >
          {saving && <Spinner />}
          Export CSV
        </button>
      </div>
    </li>
  );
}

/** The polls tab: the open poll, the drafts (presenters and the host), the closed polls. */
function PollsPanel(props: FeatureSlotProps<PollsState>) {
  const { state, toast } = props;
  const runs = runsPolls(props);
  const open = openPoll(state);
  const closed = closedPolls(state);

  return (
    <section className="polls" aria-label="Polls" data-testid="polls-panel">
      {open !== null && <OpenPoll poll={open} room={props} />}
      {runs && <PollDrafts open={open} toast={toast} />}
      {open === null && closed.length === 0 && !runs && (
        <p className="polls__empty muted" data-testid="polls-empty">
          No polls yet. When the host or a presenter asks the room, the poll shows here.
        </p>
      )}
      {closed.length > 0 && (
        <div className="polls__closed">
          <h3 className="feature-section__title">Closed polls</h3>
          <ol className="polls__list" aria-label="Closed polls">
            {closed.map((p) => (
              <ClosedPoll key={p.id} poll={p} toast={toast} />
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}

export const polls: RoomFeatureUi<PollsState, 'polls'> = {
  key: 'polls',
  fromSnapshot: pollsFromSnapshot,
  reduce: pollsReducer,
  Panel: PollsPanel,
  panelLabel: 'Polls',
  PanelIcon: PollIcon,
  panelMark: (state) => state.news,
  panelUnread: unreadSince,
  // The open poll a late joiner has not voted in is new to them (see pollsFromSnapshot).
  panelMarkAtJoin: () => 0,
};
