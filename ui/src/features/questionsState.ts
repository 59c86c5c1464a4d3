/**
 * The questions feature's state, without React (docs/protocol.md, "Questions"): the list
 * as this participant sees it, kept in the protocol's list order, and what in it is new
 * to them since they last looked.
 *
 * Every `question` event carries one whole question as we see it, so applying it is
 * replacing (or adding) that question; nothing changes before the relay says so.
 */
import type { FeatureEvent, FeatureSnapshot, Question } from '../services/types';
import { utf8ByteLength } from '../state/text';

/** Longest question, in bytes of UTF-8 (protocol `MAX_QUESTION_BYTES`). */
export const MAX_QUESTION_BYTES = 1000;

export type QuestionsState = {
  /** Every question of the room as you see it, open and closed, in list order. */
  list: Question[];
  /**
   * How many times something new came to you: a question someone else asked, your own
   * question answered, dismissed or taken up. It only goes up (a rejoin carries it on),
   * so a count of it is a mark to measure what is new since.
   */
  news: number;
  /** The `news` count at which each question last brought something new. */
  newsAt: Readonly<Record<string, number>>;
};

/** List order (protocol `list_order`): most votes first, then the earliest asked, then id. */
export function compareQuestions(a: Question, b: Question): number {
  return b.votes - a.votes || a.asked_at - b.asked_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Whether `after` is news to you, given what you knew of it (`before`). */
export function isNews(before: Question | undefined, after: Question): boolean {
  // A question you asked yourself is no news to you; votes are not news to anyone.
  if (before === undefined) return !after.mine;
  return after.mine && (before.state !== after.state || (after.pinned && !before.pinned));
}

function withNews(state: QuestionsState, ids: string[]): QuestionsState {
  if (ids.length === 0) return state;
  const news = state.news + ids.length;
  const newsAt = { ...state.newsAt };
  let at = state.news;
  for (const id of ids) newsAt[id] = ++at;
  return { ...state, news, newsAt };
}

/**
 * The state at join, or after a rejoin (`previous`): then what changed while we were
 * away is news, as if its events had come.
 */
export function questionsFromSnapshot(features: FeatureSnapshot, previous?: QuestionsState): QuestionsState {
  const list = [...features.questions].sort(compareQuestions);
  if (previous === undefined) return { list, news: 0, newsAt: {} };
  const known = new Map(previous.list.map((q) => [q.id, q]));
  const fresh = list.filter((q) => isNews(known.get(q.id), q)).map((q) => q.id);
  return withNews({ ...previous, list }, fresh);
}

export function questionsReducer(state: QuestionsState, event: FeatureEvent): QuestionsState {
  if (event.type !== 'question') return state;
  const question = event.question;
  const before = state.list.find((q) => q.id === question.id);
  const list = [...state.list.filter((q) => q.id !== question.id), question].sort(compareQuestions);
  return withNews({ ...state, list }, isNews(before, question) ? [question.id] : []);
}

/** How many questions brought something new after the mark `seen` (a past `news`). */
export function unreadSince(state: QuestionsState, seen: number): number {
  let n = 0;
  for (const at of Object.values(state.newsAt)) if (at > seen) n += 1;
  return n;
}

/** The open questions and the closed ones, each in list order. */
export function splitByState(list: Question[]): { open: Question[]; closed: Question[] } {
  return { open: list.filter((q) => q.state === 'open'), closed: list.filter((q) => q.state !== 'open') };
}

/** The question being answered now, if one is. */
export function pinnedQuestion(state: QuestionsState): Question | null {
  return state.list.find((q) => q.pinned) ?? null;
}

/**
 * Who asked, as you may see it: "You" for your own, the name when the relay told it to you
 * (a host or presenter sees the names of anonymous askers too, `anonymous` then marks it),
 * else "Anonymous".
 */
export function askedBy(q: Question): { name: string; anonymous: boolean } {
  if (q.mine) return { name: 'You', anonymous: q.anonymous };
  const name = q.by_name ?? q.by;
  if (name === null) return { name: 'Anonymous', anonymous: false };
  return { name, anonymous: q.anonymous };
}

/** What the ask box would send, and whether it may. */
export function draftOf(text: string): { text: string; bytes: number; empty: boolean; tooLong: boolean } {
  // The relay trims the text and counts what is left.
  const trimmed = text.trim();
  const bytes = utf8ByteLength(trimmed);
  return { text: trimmed, bytes, empty: trimmed === '', tooLong: bytes > MAX_QUESTION_BYTES };
}

/** The words for a closed question's state. */
export function stateWord(state: Question['state']): string {
  return state === 'answered' ? 'Answered' : state === 'dismissed' ? 'Dismissed' : 'Open';
}
