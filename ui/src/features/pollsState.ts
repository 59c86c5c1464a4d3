/**
 * The polls feature's state, without React (docs/protocol.md, "Polls"): the room's polls
 * as this participant sees them, first launched first, what in them is new to them, the
 * rules a draft must meet before the app keeps it, and a closed poll's results as CSV.
 *
 * Every `poll` event carries one whole poll as we see it, so applying it is replacing
 * the poll with its id, or adding it at the end; nothing changes before the relay says so.
 */
import type { FeatureEvent, FeatureSnapshot, Poll, PollDraft, PollKind } from '../services/types';
import { utf8ByteLength } from '../state/text';

/** Longest question, in bytes of UTF-8 after trimming (protocol `MAX_POLL_QUESTION_BYTES`). */
export const MAX_POLL_QUESTION_BYTES = 500;
/** Longest option, in bytes of UTF-8 after trimming (protocol `MAX_OPTION_BYTES`). */
export const MAX_OPTION_BYTES = 200;
/** A poll has 2 to 10 options (protocol `MAX_OPTIONS`). */
export const MIN_OPTIONS = 2;
export const MAX_OPTIONS = 10;
/** Drafts the app keeps at most (the app's `MAX_DRAFTS`). */
export const MAX_DRAFTS = 50;

export type PollsState = {
  /** Every poll of the room as you see it, open and closed, first launched first. */
  list: Poll[];
  /**
   * How many times something new came to you: a poll launched (by someone else) or a
   * poll closed, its results then open to all. It only goes up (a rejoin carries it on),
   * so a count of it is a mark to measure what is new since.
   */
  news: number;
  /** The `news` count at which each poll last brought something new. */
  newsAt: Readonly<Record<string, number>>;
};

/** Whether a poll takes votes: a `state` this app does not know counts as closed. */
export function isOpen(poll: Poll): boolean {
  return poll.state === 'open';
}

/** Whether `after` is news to you, given what you knew of the poll (`before`). */
export function isNews(before: Poll | undefined, after: Poll): boolean {
  // Votes are no news; a launch is, and so is a close (its results are then everyone's).
  if (isOpen(after)) return before === undefined;
  return before === undefined || isOpen(before);
}

function withNews(state: PollsState, ids: string[]): PollsState {
  if (ids.length === 0) return state;
  const newsAt = { ...state.newsAt };
  let at = state.news;
  for (const id of ids) newsAt[id] = ++at;
  return { ...state, news: at, newsAt };
}

/**
 * The state at join, or after a rejoin (`previous`): then what changed while we were
 * away is news, as if its events had come. At join the open poll is news when you have
 * not voted in it (a late joiner is to notice it): the panel's mark starts at 0 there
 * (`panelMarkAtJoin`), below it.
 */
export function pollsFromSnapshot(features: FeatureSnapshot, previous?: PollsState): PollsState {
  // A relay from before polls sends none.
  const list = [...(features.polls ?? [])];
  if (previous === undefined) {
    const waiting = list.filter((p) => isOpen(p) && p.your_choices.length === 0).map((p) => p.id);
    return withNews({ list, news: 0, newsAt: {} }, waiting);
  }
  const known = new Map(previous.list.map((p) => [p.id, p]));
  const fresh = list.filter((p) => isNews(known.get(p.id), p)).map((p) => p.id);
  return withNews({ ...previous, list }, fresh);
}

export function pollsReducer(state: PollsState, event: FeatureEvent): PollsState {
  if (event.type !== 'poll') return state;
  const poll = event.poll;
  const before = state.list.find((p) => p.id === poll.id);
  const list = before === undefined ? [...state.list, poll] : state.list.map((p) => (p.id === poll.id ? poll : p));
  // The launcher's own copy (it carries their request's id) is no news to them.
  const mine = event.request_id !== undefined;
  return withNews({ ...state, list }, !mine && isNews(before, poll) ? [poll.id] : []);
}

/** How many polls brought something new after the mark `seen` (a past `news`). */
export function unreadSince(state: PollsState, seen: number): number {
  let n = 0;
  for (const at of Object.values(state.newsAt)) if (at > seen) n += 1;
  return n;
}

/** The poll open now, if one is (a room has at most one). */
export function openPoll(state: PollsState): Poll | null {
  return state.list.find(isOpen) ?? null;
}

/** The closed polls, the last closed first. */
export function closedPolls(state: PollsState): Poll[] {
  return state.list.filter((p) => !isOpen(p)).reverse();
}

/** Whether this app can vote in a poll of `kind` (one it does not know, it cannot). */
export function votable(kind: PollKind): boolean {
  return kind === 'single' || kind === 'multiple';
}

/** Whether you may vote in `poll` now: it is open, of a kind we know, and you have not. */
export function mayVote(poll: Poll): boolean {
  return isOpen(poll) && votable(poll.kind) && poll.your_choices.length === 0;
}

/** The options chosen by `choices` (indexes), in the options' order, by their text. */
export function choiceWords(poll: Pick<Poll, 'options'>, choices: readonly number[]): string[] {
  return [...choices].sort((a, b) => a - b).map((i) => poll.options[i] ?? `option ${i + 1}`);
}

/** One option's result: its text, its votes, and the share of those who voted that chose it. */
export type OptionResult = { option: string; count: number; percent: number; yours: boolean };

/**
 * Each option's result, or null when you may not see them yet. The share is of the
 * people who voted (`votes`), so in a multiple-choice poll they may add up to more
 * than 100.
 */
export function optionResults(poll: Poll): OptionResult[] | null {
  const results = poll.results;
  if (results === null) return null;
  return poll.options.map((option, i) => {
    const count = results[i] ?? 0;
    return {
      option,
      count,
      percent: poll.votes === 0 ? 0 : (count / poll.votes) * 100,
      yours: poll.your_choices.includes(i),
    };
  });
}

// Drafts

/** What a draft's editor holds: the text as typed (the app keeps it trimmed). */
export type DraftForm = {
  question: string;
  options: string[];
  kind: PollKind;
  anonymous: boolean;
};

/** A new draft: no question, two empty options, single choice, anonymous. */
export function emptyDraft(): DraftForm {
  return { question: '', options: ['', ''], kind: 'single', anonymous: true };
}

export function formOf(draft: PollDraft): DraftForm {
  return { question: draft.question, options: [...draft.options], kind: draft.kind, anonymous: draft.anonymous };
}

/** One text of a draft, checked: its size after trimming, and what is wrong with it. */
export type TextCheck = { bytes: number; max: number; error: string | null };

/** The first control character the relay refuses in a text (a line break and a tab pass). */
export function forbiddenControl(text: string): string | null {
  for (const c of text) {
    if (c !== '\n' && c !== '\t' && /\p{Cc}/u.test(c)) return c;
  }
  return null;
}

function checkText(text: string, max: number, empty: string): TextCheck {
  // The relay trims a draft's texts and counts what is left.
  const trimmed = text.trim();
  const bytes = utf8ByteLength(trimmed);
  let error: string | null = null;
  if (trimmed === '') error = empty;
  else if (bytes > max) error = `Too long: ${bytes} / ${max} bytes`;
  else {
    const c = forbiddenControl(trimmed);
    if (c !== null) error = `Holds a control character (U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`;
  }
  return { bytes, max, error };
}

export type DraftCheck = {
  question: TextCheck;
  options: TextCheck[];
  /** What is wrong with the number of options. */
  count: string | null;
  /** The draft as the app keeps it (texts trimmed), or null while something is wrong. */
  draft: PollDraft | null;
  /** The first thing wrong, in words, for a disabled Save. */
  problem: string | null;
};

/** Checks a draft as the relay checks a launch (protocol `check_draft`). */
export function checkDraft(form: DraftForm): DraftCheck {
  const question = checkText(form.question, MAX_POLL_QUESTION_BYTES, 'Write the question');
  const options = form.options.map((o, i) => checkText(o, MAX_OPTION_BYTES, `Fill in option ${i + 1} or remove it`));
  const n = form.options.length;
  const count = n < MIN_OPTIONS || n > MAX_OPTIONS ? `A poll has ${MIN_OPTIONS} to ${MAX_OPTIONS} options (this one has ${n})` : null;
  const firstOption = options.findIndex((o) => o.error !== null);
  const problem =
    question.error !== null
      ? `Question: ${question.error}`
      : count ?? (firstOption >= 0 ? `Option ${firstOption + 1}: ${options[firstOption]?.error}` : null);
  const draft: PollDraft | null =
    problem === null
      ? { question: form.question.trim(), options: form.options.map((o) => o.trim()), kind: form.kind, anonymous: form.anonymous }
      : null;
  return { question, options, count, draft, problem };
}

// Export

/** A CSV field: quoted when it holds a comma, a quote or a line break (quotes doubled). */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * A text someone typed, made safe to open in a spreadsheet: one that would start a
 * formula (`=`, `+`, `@`, `-` before anything but a number, a tab or a carriage return)
 * gets a leading `'`, which spreadsheets take as "this is text".
 */
export function csvText(text: string): string {
  return /^([=+@\t\r]|-(?!\d+(\.\d+)?$))/.test(text) ? `'${text}` : text;
}

function csvRow(fields: (string | number)[]): string {
  return fields.map(csvField).join(',');
}

/** A share as the CSV writes it: one decimal, no sign. */
function percentText(percent: number): string {
  return percent.toFixed(1);
}

/**
 * A poll's results as CSV (RFC 4180, lines ending in CRLF): a few lines about the poll,
 * then a row per option with its votes and its share of those who voted, and, when you
 * may see them (a named poll, for hosts and presenters), a row per voter with what they
 * chose. Null when you may not see the results yet.
 */
export function pollCsv(poll: Poll): string | null {
  const results = optionResults(poll);
  if (results === null) return null;
  const when = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());
  const lines = [
    csvRow(['Poll', poll.id]),
    csvRow(['Question', csvText(poll.question)]),
    csvRow(['Kind', poll.kind === 'multiple' ? 'Multiple choice' : 'Single choice']),
    csvRow(['Anonymous', poll.anonymous ? 'Yes' : 'No']),
    csvRow(['Opened', when(poll.opened_at)]),
    csvRow(['Closed', when(poll.closed_at)]),
    csvRow(['People who voted', poll.votes]),
    '',
    csvRow(['Option', 'Votes', 'Percent of voters']),
    ...results.map((r) => csvRow([csvText(r.option), r.count, percentText(r.percent)])),
  ];
  if (poll.voters !== null) {
    lines.push('', csvRow(['Voter', 'Name', 'Choices']));
    for (const v of poll.voters) {
      lines.push(csvRow([csvText(v.identity), csvText(v.name), csvText(choiceWords(poll, v.choices).join('; '))]));
    }
  }
  return lines.join('\r\n') + '\r\n';
}

/** The file a poll's results are saved as. */
export function csvName(poll: Pick<Poll, 'id'>): string {
  return `poll-${poll.id}.csv`;
}

/**
 * `text` as UTF-8 in base64 (what `save_export` takes), after a byte order mark, so
 * spreadsheets read it as UTF-8.
 */
export function csvBase64(text: string): string {
  const bytes = new TextEncoder().encode(`\uFEFF${text}`);
  let binary = '';
  // In slices: an argument list as long as a large file would overflow the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
