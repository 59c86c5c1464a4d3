// The room's polls as a client keeps them, written only from docs/protocol.md ("Polls":
// "Poll", "Keeping the polls").
//
// The list starts as `joined.features.polls`, first launched first; every `poll` event
// replaces the poll with its `id`, or adds it at the end (a new poll is the last
// launched).

export class PollList {
  constructor() {
    /** Every poll as this participant was told it, first launched first. */
    this.list = [];
  }

  /** `joined.features.polls` (a relay from before polls sends none: no polls). */
  onJoined(polls) {
    this.list = structuredClone(polls ?? []);
  }

  /** A `poll` event's `poll`: replace the one with its id, or add it at the end. */
  onPoll(poll) {
    const copy = structuredClone(poll);
    const i = this.list.findIndex((p) => p.id === copy.id);
    if (i >= 0) this.list[i] = copy;
    else this.list.push(copy);
  }

  byId(id) {
    return this.list.find((p) => p.id === id);
  }

  /** The open poll ("there is at most one"), or undefined. */
  open() {
    return this.list.find((p) => p.state === 'open');
  }
}
