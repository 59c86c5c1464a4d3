import { describe, expect, it } from 'vitest';
import type { FeatureEvent, Question } from '../services/types';
import { features, question } from '../test/fixtures';
import {
  askedBy,
  compareQuestions,
  draftOf,
  isNews,
  MAX_QUESTION_BYTES,
  pinnedQuestion,
  questionsFromSnapshot,
  questionsReducer,
  splitByState,
  unreadSince,
  type QuestionsState,
} from './questionsState';

const T0 = 1_795_000_000_000;

const event = (q: Question, requestId?: string): FeatureEvent =>
  requestId === undefined ? { type: 'question', question: q } : { type: 'question', request_id: requestId, question: q };

const ids = (state: QuestionsState) => state.list.map((q) => q.id);

function fromList(...list: Question[]): QuestionsState {
  return questionsFromSnapshot(features({ questions: list }));
}

describe('question order', () => {
  it('is most votes first, then the earliest asked, then the id', () => {
    const list = [
      question('q5', 'late, no votes', { asked_at: T0 + 50 }),
      question('q2', 'two votes', { votes: 2, asked_at: T0 + 40 }),
      question('q9', 'early, no votes', { asked_at: T0 + 10 }),
      question('q1', 'two votes, earlier', { votes: 2, asked_at: T0 + 20 }),
      question('q8', 'same time as q9', { asked_at: T0 + 10 }),
    ];
    expect([...list].sort(compareQuestions).map((q) => q.id)).toEqual(['q1', 'q2', 'q8', 'q9', 'q5']);
  });

  it('is kept from the snapshot on, whatever order the snapshot had', () => {
    const state = fromList(question('a', 'a'), question('b', 'b', { votes: 3 }), question('c', 'c', { asked_at: T0 - 1 }));
    expect(ids(state)).toEqual(['b', 'c', 'a']);
  });
});

describe('question events', () => {
  it('add a new question in its place, and replace a known one (which may move)', () => {
    let state = fromList(question('a', 'first', { votes: 1 }), question('b', 'second', { asked_at: T0 + 5 }));
    state = questionsReducer(state, event(question('c', 'third', { asked_at: T0 + 9 })));
    expect(ids(state)).toEqual(['a', 'b', 'c']);
    state = questionsReducer(state, event(question('c', 'third', { asked_at: T0 + 9, votes: 2, voted: true })));
    expect(ids(state)).toEqual(['c', 'a', 'b']);
    expect(state.list[0]).toMatchObject({ votes: 2, voted: true });
    expect(state.list).toHaveLength(3);
  });

  it("leave the state as it is for another feature's event", () => {
    const state = fromList(question('a', 'a'));
    expect(questionsReducer(state, { type: 'hand_queue', hands: [] })).toBe(state);
  });

  it('split into open and closed, and tell which one is pinned', () => {
    let state = fromList(question('a', 'a'), question('b', 'b', { asked_at: T0 + 1 }));
    expect(pinnedQuestion(state)).toBeNull();
    state = questionsReducer(state, event(question('b', 'b', { asked_at: T0 + 1, pinned: true })));
    expect(pinnedQuestion(state)?.id).toBe('b');
    state = questionsReducer(state, event(question('a', 'a', { state: 'dismissed' })));
    const { open, closed } = splitByState(state.list);
    expect(open.map((q) => q.id)).toEqual(['b']);
    expect(closed.map((q) => q.id)).toEqual(['a']);
  });
});

describe('news (the unread count)', () => {
  it("counts others' new questions and what happened to yours; not votes, nor what you asked", () => {
    const mine = question('m', 'mine', { mine: true, by: 'ada-1', by_name: 'Ada' });
    let state = fromList(question('a', 'a'), mine);
    expect(state.news).toBe(0);
    const seen = state.news;

    // Your own new question (the copy answering your ask) is no news.
    state = questionsReducer(state, event(question('n', 'new of mine', { mine: true }), 'r1'));
    // Someone's new question is.
    state = questionsReducer(state, event(question('b', 'from Bob')));
    expect(unreadSince(state, seen)).toBe(1);
    // Votes are not, on yours or on others'.
    state = questionsReducer(state, event({ ...mine, votes: 3 }));
    state = questionsReducer(state, event(question('a', 'a', { votes: 1 })));
    expect(unreadSince(state, seen)).toBe(1);
    // Yours taken up, then answered: one more question with news.
    state = questionsReducer(state, event({ ...mine, votes: 3, pinned: true }));
    state = questionsReducer(state, event({ ...mine, votes: 3, state: 'answered' }));
    expect(unreadSince(state, seen)).toBe(2);
    // Looked at now: nothing new since.
    expect(unreadSince(state, state.news)).toBe(0);
    // Others' questions changing is no news to a student.
    state = questionsReducer(state, event(question('b', 'from Bob', { state: 'dismissed' })));
    expect(unreadSince(state, seen)).toBe(2);
  });

  it('knows what is news to you from what you knew of a question', () => {
    const q = question('a', 'a');
    expect(isNews(undefined, q)).toBe(true);
    expect(isNews(undefined, { ...q, mine: true })).toBe(false);
    expect(isNews(q, { ...q, state: 'answered' })).toBe(false);
    expect(isNews({ ...q, mine: true }, { ...q, mine: true, state: 'dismissed' })).toBe(true);
    expect(isNews({ ...q, mine: true, pinned: true }, { ...q, mine: true, pinned: false })).toBe(false);
  });

  it('carries on across a rejoin, with what changed meanwhile as news', () => {
    const mine = question('m', 'mine', { mine: true });
    let state = fromList(question('a', 'a'), mine);
    state = questionsReducer(state, event(question('b', 'b')));
    const mark = state.news;
    expect(mark).toBe(1);

    const after = questionsFromSnapshot(
      features({ questions: [question('a', 'a', { votes: 4 }), question('b', 'b'), { ...mine, state: 'answered' }, question('c', 'c')] }),
      state,
    );
    expect(ids(after)).toEqual(['a', 'b', 'c', 'm']);
    expect(after.news).toBeGreaterThan(mark);
    expect(unreadSince(after, mark)).toBe(2);
    expect(unreadSince(after, 0)).toBe(3);
  });
});

describe('who asked', () => {
  it('is the name, or "Anonymous" when the relay did not tell it', () => {
    expect(askedBy(question('a', 'a'))).toEqual({ name: 'Bob', anonymous: false });
    expect(askedBy(question('a', 'a', { anonymous: true, by: null, by_name: null }))).toEqual({
      name: 'Anonymous',
      anonymous: false,
    });
  });

  it('is the name marked anonymous for the host and presenters, who are told it', () => {
    expect(askedBy(question('a', 'a', { anonymous: true }))).toEqual({ name: 'Bob', anonymous: true });
  });

  it('is "You" for your own, marked when you asked anonymously', () => {
    expect(askedBy(question('a', 'a', { mine: true }))).toEqual({ name: 'You', anonymous: false });
    expect(askedBy(question('a', 'a', { mine: true, anonymous: true }))).toEqual({ name: 'You', anonymous: true });
  });

  it('falls back to the identity when there is no name', () => {
    expect(askedBy(question('a', 'a', { by_name: null }))).toEqual({ name: 'bob-2', anonymous: false });
  });
});

describe('the ask box', () => {
  it('counts the bytes of the trimmed text in UTF-8, as the relay does', () => {
    expect(draftOf('  why?  ')).toEqual({ text: 'why?', bytes: 4, empty: false, tooLong: false });
    expect(draftOf('   \n ').empty).toBe(true);
    expect(draftOf('é€😀').bytes).toBe(2 + 3 + 4);
    expect(draftOf('x'.repeat(MAX_QUESTION_BYTES)).tooLong).toBe(false);
    expect(draftOf('é'.repeat(MAX_QUESTION_BYTES / 2 + 1)).tooLong).toBe(true);
  });
});
