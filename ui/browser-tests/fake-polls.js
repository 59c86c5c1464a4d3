// The polls of the fake Tauri shell (fake-tauri.js imports this module in the page): the
// poll drafts the app keeps (`poll_drafts`, `save_poll_drafts`, in memory, checked as the
// app checks them) and the room's polls as the relay keeps them (protocol `polls.rs`,
// relay `room/features/polls.rs`): presenters and hosts launch and close, one open poll
// at a time, everyone votes once, and each is told of a poll as they see it (results to
// presenters and hosts live and to everyone once closed, who chose what only to
// presenters and hosts of a named poll). The page is the only one listening, so it is
// told its own cut.
//
// Config (window.__FAKE_CONFIG__): pollDrafts (PollDraft[]), polls (as the relay stores
// them: {id, question, options, kind, anonymous, by, opened_at, closed_at, ballots:
// [{identity, name, choices}]}).
// Test-only: never part of the app bundle.

// The relay's limits (protocol `polls.rs`) and the app's (`features/drafts.rs`).
const MAX_POLL_QUESTION_BYTES = 500;
const MAX_OPTION_BYTES = 200;
const MAX_OPTIONS = 10;
const MAX_CLOSED_POLLS = 20;
const MAX_DRAFTS = 50;

const bytes = (text) => new TextEncoder().encode(text).length;

/** The relay's `check_draft`: [kind the app reports, message], or null when it passes. */
function draftProblem(draft) {
  const text = (what, s, max) => {
    if (typeof s !== 'string' || s.trim() === '') return ['invalidInput', `${what} is empty`];
    if (bytes(s) > max) return ['invalidInput', `${what}: at most ${max} bytes (got ${bytes(s)})`];
    const control = [...s].find((c) => c !== '\n' && c !== '\t' && /\p{Cc}/u.test(c));
    if (control !== undefined) {
      const code = control.codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
      return ['invalidInput', `${what} holds the control character U+${code}`];
    }
    return null;
  };
  const question = text('poll_question_bytes: the question', draft.question, MAX_POLL_QUESTION_BYTES);
  if (question) return question;
  const options = Array.isArray(draft.options) ? draft.options : [];
  if (options.length < 2 || options.length > MAX_OPTIONS) {
    return ['refused', `options: a poll has 2 to ${MAX_OPTIONS} options (got ${options.length})`];
  }
  for (const [i, option] of options.entries()) {
    const problem = text(`option_bytes: option ${i}`, option, MAX_OPTION_BYTES);
    if (problem) return problem;
  }
  return null;
}

/** A draft with its texts trimmed and its defaults filled in, as the relay and the app take it. */
function trimDraft(draft) {
  return {
    question: String(draft.question ?? '').trim(),
    options: (draft.options || []).map((o) => String(o).trim()),
    kind: draft.kind || 'single',
    anonymous: draft.anonymous ?? true,
  };
}

/**
 * The polls of a fake room. `shell` is what the shell shares: `me` (the page's identity),
 * `myName()`, `nameOf(identity)`, `presents(identity)` (a host or a presenter now) and
 * `tell(event)` (a feature event to the page).
 */
export function fakePolls(shell, config = {}) {
  const { me, myName, nameOf, presents, tell } = shell;
  /** The room's polls as stored, first launched first. */
  const polls = structuredClone(config.polls || []).map((p) => ({ closed_at: null, ballots: [], ...p }));
  let next = polls.reduce((n, p) => Math.max(n, Number(String(p.id).replace(/^p/, '')) || 0), 0);
  let drafts = structuredClone(config.pollDrafts || []);

  const isOpen = (p) => p.closed_at === null;

  /** A poll as the page sees it (the relay's `StoredPoll::view`). */
  function view(p) {
    const seesResults = presents(me) || !isOpen(p);
    const counts = p.options.map((_, i) => p.ballots.filter((b) => b.choices.includes(i)).length);
    const mine = p.ballots.find((b) => b.identity === me);
    return {
      id: p.id,
      question: p.question,
      options: [...p.options],
      kind: p.kind,
      anonymous: p.anonymous,
      by: p.by,
      opened_at: p.opened_at,
      closed_at: p.closed_at,
      state: isOpen(p) ? 'open' : 'closed',
      votes: p.ballots.length,
      results: seesResults ? counts : null,
      voters: presents(me) && !p.anonymous ? p.ballots.map((b) => ({ identity: b.identity, name: b.name, choices: [...b.choices] })) : null,
      your_choices: mine ? [...mine.choices] : [],
    };
  }

  function told(p, requestId) {
    const event = { type: 'poll', poll: view(p) };
    if (requestId) event.request_id = requestId;
    tell(event);
  }

  function find(id) {
    const p = polls.find((x) => x.id === id);
    if (!p) throw { kind: 'refused', message: `no poll \`${id}\` in this room` };
    return p;
  }

  /** Forgets the oldest closed polls beyond the last 20. */
  function trim() {
    while (polls.filter((p) => !isOpen(p)).length > MAX_CLOSED_POLLS) {
      polls.splice(
        polls.findIndex((p) => !isOpen(p)),
        1,
      );
    }
  }

  function launch(draft, by = me) {
    if (by === me && !presents(me)) throw { kind: 'refused', message: 'only presenters and the host can launch polls' };
    const trimmed = trimDraft(draft);
    const problem = draftProblem(trimmed);
    if (problem) throw { kind: problem[0], message: problem[1] };
    const open = polls.find(isOpen);
    if (open) throw { kind: 'refused', message: `poll \`${open.id}\` is open; close it before launching another` };
    next += 1;
    const p = { id: `p${next}`, ...trimmed, by, opened_at: Date.now(), closed_at: null, ballots: [] };
    polls.push(p);
    trim();
    // The launcher's copy answers its request.
    told(p, by === me ? `req-${p.id}` : undefined);
    return p.id;
  }

  function vote(identity, id, choices, name = identity === me ? myName() : nameOf(identity)) {
    const p = find(id);
    if (!isOpen(p)) throw { kind: 'refused', message: `poll \`${id}\` is closed` };
    if (!Array.isArray(choices) || choices.length === 0) throw { kind: 'refused', message: 'choices: choose at least one option' };
    if (p.kind === 'single' && choices.length > 1) throw { kind: 'refused', message: 'choices: this poll takes one option' };
    const seen = new Set();
    for (const c of choices) {
      if (!Number.isInteger(c) || c < 0 || c >= p.options.length) {
        throw { kind: 'refused', message: `choices: option ${c} does not exist (the poll has ${p.options.length})` };
      }
      if (seen.has(c)) throw { kind: 'refused', message: `choices: option ${c} is chosen twice` };
      seen.add(c);
    }
    // Voting twice counts once.
    if (p.ballots.some((b) => b.identity === identity)) return null;
    p.ballots.push({ identity, name, choices: [...choices].sort((a, b) => a - b) });
    told(p);
    return null;
  }

  function close(id, by = me) {
    if (by === me && !presents(me)) throw { kind: 'refused', message: 'only presenters and the host can close polls' };
    const p = find(id);
    if (!isOpen(p)) return null;
    p.closed_at = Date.now();
    trim();
    told(p);
    return null;
  }

  return {
    /** The polls in `joined.features.polls`. */
    snapshot: () => polls.map(view),
    /** The page's feature requests. */
    requests: {
      poll_launch: ({ poll }) => launch(poll),
      poll_vote: ({ id, choices }) => vote(me, id, choices),
      poll_close: ({ id }) => close(id),
    },
    /** The app's commands for the drafts. */
    commands: {
      poll_drafts: () => structuredClone(drafts),
      save_poll_drafts: ({ drafts: given }) => {
        if (given.length > MAX_DRAFTS) throw { kind: 'invalidInput', message: `At most ${MAX_DRAFTS} poll drafts are kept.` };
        // The app keeps drafts trimmed, each checked as the relay would check it.
        const trimmed = given.map(trimDraft);
        for (const [i, draft] of trimmed.entries()) {
          const problem = draftProblem(draft);
          if (problem) throw { kind: 'invalidInput', message: `Draft ${i + 1}: ${problem[1]}` };
        }
        drafts = trimmed;
        return null;
      },
    },
    // What a test drives as other participants (their roles are not checked: the test
    // says what they may do; the rest of the relay's rules are).
    launch,
    vote,
    close,
    /** The drafts kept, and the polls as stored (for a test to read). */
    drafts: () => structuredClone(drafts),
    stored: () => structuredClone(polls),
  };
}
