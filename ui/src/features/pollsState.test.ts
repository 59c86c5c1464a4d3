import { describe, expect, it } from 'vitest';
import type { FeatureEvent, Poll } from '../services/types';
import { features, poll } from '../test/fixtures';
import {
  checkDraft,
  closedPolls,
  csvBase64,
  csvField,
  csvName,
  csvText,
  emptyDraft,
  forbiddenControl,
  isNews,
  mayVote,
  MAX_OPTION_BYTES,
  MAX_POLL_QUESTION_BYTES,
  openPoll,
  optionResults,
  pollCsv,
  pollsFromSnapshot,
  pollsReducer,
  unreadSince,
  type PollsState,
} from './pollsState';

const T0 = 1_795_000_000_000;

const event = (p: Poll, requestId?: string): FeatureEvent =>
  requestId === undefined ? { type: 'poll', poll: p } : { type: 'poll', request_id: requestId, poll: p };

const ids = (state: PollsState) => state.list.map((p) => p.id);

const closed = (id: string, extra: Partial<Poll> = {}) =>
  poll(id, { state: 'closed', closed_at: T0 + 60_000, votes: 3, results: [2, 1, 0], ...extra });

function fromList(...list: Poll[]): PollsState {
  return pollsFromSnapshot(features({ polls: list }));
}

describe('poll events', () => {
  it('replace the poll with their id, or add it at the end (first launched first)', () => {
    let state = fromList(closed('p1'), closed('p2'));
    state = pollsReducer(state, event(poll('p3')));
    expect(ids(state)).toEqual(['p1', 'p2', 'p3']);
    state = pollsReducer(state, event(poll('p3', { votes: 1, your_choices: [2] })));
    expect(ids(state)).toEqual(['p1', 'p2', 'p3']);
    expect(state.list[2]).toMatchObject({ votes: 1, your_choices: [2] });
    // A poll told again (it came in the snapshot and as an event while joining).
    state = pollsReducer(state, event(closed('p1', { votes: 4 })));
    expect(ids(state)).toEqual(['p1', 'p2', 'p3']);
    expect(state.list[0]?.votes).toBe(4);
  });

  it("leave the state as it is for another feature's event", () => {
    const state = fromList(poll('p1'));
    expect(pollsReducer(state, { type: 'hand_queue', hands: [] })).toBe(state);
  });

  it('find the open poll, and list the closed ones last closed first', () => {
    const state = fromList(closed('p1'), closed('p2'), poll('p3'));
    expect(openPoll(state)?.id).toBe('p3');
    expect(closedPolls(state).map((p) => p.id)).toEqual(['p2', 'p1']);
    // A state this app does not know counts as closed.
    const odd = fromList(poll('p4', { state: 'archived' as Poll['state'] }));
    expect(openPoll(odd)).toBeNull();
    expect(closedPolls(odd)).toHaveLength(1);
  });
});

describe('what is new', () => {
  it('is a launch and a close; votes are not, nor the launcher their own launch', () => {
    expect(isNews(undefined, poll('p1'))).toBe(true);
    expect(isNews(poll('p1'), poll('p1', { votes: 2 }))).toBe(false);
    expect(isNews(poll('p1'), closed('p1'))).toBe(true);
    expect(isNews(closed('p1'), closed('p1', { votes: 5 }))).toBe(false);

    let state = fromList();
    const seen = state.news;
    state = pollsReducer(state, event(poll('p1')));
    expect(unreadSince(state, seen)).toBe(1);
    state = pollsReducer(state, event(poll('p1', { votes: 1 })));
    expect(unreadSince(state, seen)).toBe(1);
    // Launched and closed while not looking: one poll that is new.
    state = pollsReducer(state, event(closed('p1')));
    expect(unreadSince(state, seen)).toBe(1);
    const looked = state.news;
    expect(unreadSince(state, looked)).toBe(0);
    // Our own launch comes with our request's id.
    state = pollsReducer(state, event(poll('p2'), 'req-7'));
    expect(unreadSince(state, looked)).toBe(0);
    state = pollsReducer(state, event(closed('p2')));
    expect(unreadSince(state, looked)).toBe(1);
  });

  it('at join is the open poll you have not voted in; closed ones are not', () => {
    expect(fromList(closed('p1')).news).toBe(0);
    const waiting = fromList(closed('p1'), poll('p2'));
    expect(unreadSince(waiting, 0)).toBe(1);
    expect(unreadSince(waiting, waiting.news)).toBe(0);
    expect(unreadSince(fromList(poll('p2', { your_choices: [0] })), 0)).toBe(0);
  });

  it('after a rejoin is what changed while away', () => {
    const before = fromList(closed('p1'), poll('p2'));
    const mark = before.news;
    const after = pollsFromSnapshot(features({ polls: [closed('p1'), closed('p2'), poll('p3')] }), before);
    expect(ids(after)).toEqual(['p1', 'p2', 'p3']);
    expect(unreadSince(after, mark)).toBe(2);
    expect(after.news).toBeGreaterThan(before.news);
  });
});

describe('voting and results', () => {
  it('is once, in an open poll of a kind this app knows', () => {
    expect(mayVote(poll('p1'))).toBe(true);
    expect(mayVote(poll('p1', { your_choices: [1] }))).toBe(false);
    expect(mayVote(closed('p1'))).toBe(false);
    expect(mayVote(poll('p1', { kind: 'ranked' as Poll['kind'] }))).toBe(false);
  });

  it('shows each option with its share of those who voted, and yours', () => {
    expect(optionResults(poll('p1'))).toBeNull();
    const multiple = poll('p1', { kind: 'multiple', votes: 4, results: [3, 2, 0], your_choices: [0, 1] });
    expect(optionResults(multiple)).toEqual([
      { option: 'Induction', count: 3, percent: 75, yours: true },
      { option: 'Contradiction', count: 2, percent: 50, yours: true },
      { option: 'Construction', count: 0, percent: 0, yours: false },
    ]);
    expect(optionResults(poll('p1', { results: [0, 0, 0] }))?.map((r) => r.percent)).toEqual([0, 0, 0]);
  });
});

describe('drafts', () => {
  const form = (question: string, options: string[]) => ({ ...emptyDraft(), question, options });

  it('are kept trimmed, with 2 to 10 options, each within its limit in bytes', () => {
    const ok = checkDraft({ ...form('  Ready?  ', [' Yes', 'No ']), kind: 'multiple', anonymous: false });
    expect(ok.problem).toBeNull();
    expect(ok.draft).toEqual({ question: 'Ready?', options: ['Yes', 'No'], kind: 'multiple', anonymous: false });

    const fresh = checkDraft(emptyDraft());
    expect(fresh.draft).toBeNull();
    expect(fresh.problem).toBe('Question: Write the question');

    // 'é' is two bytes: 251 of them is 502.
    const long = checkDraft(form('é'.repeat(251), ['a', 'b']));
    expect(long.question).toEqual({ bytes: 502, max: MAX_POLL_QUESTION_BYTES, error: 'Too long: 502 / 500 bytes' });
    expect(checkDraft(form(`  ${'q'.repeat(500)}  `, ['a', 'b'])).problem).toBeNull();

    const option = checkDraft(form('Q', ['a', 'x'.repeat(MAX_OPTION_BYTES + 1)]));
    expect(option.options[1]?.error).toBe('Too long: 201 / 200 bytes');
    expect(option.problem).toBe('Option 2: Too long: 201 / 200 bytes');
    expect(checkDraft(form('Q', ['a', '   '])).problem).toBe('Option 2: Fill in option 2 or remove it');

    expect(checkDraft(form('Q', ['a'])).problem).toBe('A poll has 2 to 10 options (this one has 1)');
    expect(checkDraft(form('Q', Array.from({ length: 11 }, (_, i) => `o${i}`))).count).toMatch(/this one has 11/);
    expect(checkDraft(form('Q', Array.from({ length: 10 }, (_, i) => `o${i}`))).problem).toBeNull();
  });

  it('refuse the control characters the relay refuses, not line breaks and tabs', () => {
    expect(forbiddenControl('two\nlines\tand a tab')).toBeNull();
    expect(forbiddenControl('bell\u0007')).toBe('\u0007');
    expect(checkDraft(form('Q\u0000', ['a', 'b'])).problem).toBe('Question: Holds a control character (U+0000)');
  });
});

describe('CSV', () => {
  it('quotes fields with commas, quotes and line breaks', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField(12)).toBe('12');
    expect(csvField('a, b')).toBe('"a, b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rlf')).toBe('"cr\rlf"');
  });

  it('keeps typed text from starting a spreadsheet formula, but not a negative number', () => {
    expect(csvText('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvText('@me')).toBe("'@me");
    expect(csvText('+1 idea')).toBe("'+1 idea");
    expect(csvText('-1')).toBe('-1');
    expect(csvText('-2.5')).toBe('-2.5');
    expect(csvText('-cmd')).toBe("'-cmd");
    expect(csvText('Induction')).toBe('Induction');
  });

  it('has the poll, a row per option, and a row per voter when you may see who', () => {
    const named = closed('p3', {
      question: 'Which "proof", next?',
      options: ['Induction', 'Contra,diction', 'Con\nstruction'],
      anonymous: false,
      opened_at: Date.UTC(2026, 11, 5, 14, 0),
      closed_at: Date.UTC(2026, 11, 5, 14, 5),
      votes: 3,
      results: [2, 1, 0],
      voters: [
        { identity: 'cat-3', name: 'Cat', choices: [0] },
        { identity: 'dan-4', name: '=Dan, "the" man', choices: [1] },
        { identity: 'eve-5', name: 'Eve', choices: [0] },
      ],
    });
    expect(pollCsv(named)?.split('\r\n')).toEqual([
      'Poll,p3',
      'Question,"Which ""proof"", next?"',
      'Kind,Single choice',
      'Anonymous,No',
      'Opened,2026-12-05T14:00:00.000Z',
      'Closed,2026-12-05T14:05:00.000Z',
      'People who voted,3',
      '',
      'Option,Votes,Percent of voters',
      'Induction,2,66.7',
      '"Contra,diction",1,33.3',
      '"Con\nstruction",0,0.0',
      '',
      'Voter,Name,Choices',
      'cat-3,Cat,Induction',
      `dan-4,"'=Dan, ""the"" man","Contra,diction"`,
      'eve-5,Eve,Induction',
      '',
    ]);
    expect(csvName(named)).toBe('poll-p3.csv');

    const multiple = closed('p4', { kind: 'multiple', votes: 2, results: [2, 1, 0], voters: [{ identity: 'cat-3', name: 'Cat', choices: [2, 0] }] });
    expect(pollCsv(multiple)).toContain('\r\nKind,Multiple choice\r\n');
    expect(pollCsv(multiple)).toContain('\r\ncat-3,Cat,Induction; Construction\r\n');
    // A student's copy has no voters; an open poll's results a student may not see yet.
    expect(pollCsv(closed('p5'))).not.toContain('Voter,');
    expect(pollCsv(poll('p6'))).toBeNull();
  });

  it('goes to the app as UTF-8 in base64, after a byte order mark', () => {
    const bytes = Uint8Array.from(atob(csvBase64('é,1\r\n')), (c) => c.charCodeAt(0));
    expect([...bytes]).toEqual([0xef, 0xbb, 0xbf, 0xc3, 0xa9, 0x2c, 0x31, 0x0d, 0x0a]);
    // Large enough to need more than one slice.
    const big = 'x'.repeat(100_000);
    expect(atob(csvBase64(big)).length).toBe(100_003);
  });
});
