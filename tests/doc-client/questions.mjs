// The room's questions as a client keeps them, written only from docs/protocol.md
// ("Questions": "Question", "Order", "Keeping the list").
//
// The list starts as `joined.features.questions`; every `question` event replaces the
// question with its `id`, or adds it; the list is kept in list order.

/**
 * The documented list order: most `votes` first, then the earliest `asked_at`, then by
 * `id` compared as strings.
 */
export function listOrder(a, b) {
  return b.votes - a.votes || a.asked_at - b.asked_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class QuestionList {
  constructor() {
    /** Every question as this participant was told it, in list order. */
    this.list = [];
  }

  /** `joined.features.questions` (a relay from before questions sends none: no questions). */
  onJoined(questions) {
    this.list = structuredClone(questions ?? []);
    this.list.sort(listOrder);
  }

  /** A `question` event's `question`: replace the one with its id, or add it; re-sort. */
  onQuestion(question) {
    const copy = structuredClone(question);
    const i = this.list.findIndex((q) => q.id === copy.id);
    if (i >= 0) this.list[i] = copy;
    else this.list.push(copy);
    this.list.sort(listOrder);
  }

  byId(id) {
    return this.list.find((q) => q.id === id);
  }

  /** The open questions, in list order. */
  open() {
    return this.list.filter((q) => q.state === 'open');
  }

  /** The pinned question, or undefined. */
  pinned() {
    return this.list.find((q) => q.pinned);
  }
}
