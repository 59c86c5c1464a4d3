// The room's whiteboard as a client keeps it, written only from docs/protocol.md
// ("Whiteboard": "Changes", "Keeping in step", `board_live` relay → client).
//
// A board is {id, seq, access, pages}; a page is {id, annotates?, objects}; an object is a
// BoardObject as the relay sent it. The client never changes its board by itself: it
// applies the relay's `board_op`s, in `seq` order, and replaces it with the one a
// `board_snapshot` answer builds.

/** A change that does not apply to this board (it names a page or object we don't have, or an unknown `op`). */
export class BoardMismatch extends Error {}

const clone = (v) => structuredClone(v);

function pageIndex(board, id) {
  return board.pages.findIndex((p) => p.id === id);
}

function needPage(board, id, change) {
  const i = pageIndex(board, id);
  if (i < 0) throw new BoardMismatch(`no page ${JSON.stringify(id)} for ${JSON.stringify(change)}`);
  return board.pages[i];
}

/** Insert at `index`, or at the end when `index` is past it ("An index past the end puts it at the end"). */
function insertAt(list, index, item) {
  list.splice(Math.min(index, list.length), 0, item);
}

/**
 * Apply one change to `board` exactly as the table of "Changes" says. Throws a
 * BoardMismatch when the change names a page or object the board does not have, or is
 * an `op` this client does not know ("Treat an op you do not know the same way").
 * Does not touch `board.seq`.
 */
export function applyChange(board, change) {
  switch (change?.op) {
    case 'add': {
      // "put object on top of page page (at the end of its stack)"
      needPage(board, change.page, change).objects.push(clone(change.object));
      return;
    }
    case 'update': {
      // "on page page, replace the object whose id is object.id with object, in the same place in the stack"
      const page = needPage(board, change.page, change);
      const i = page.objects.findIndex((o) => o.id === change.object.id);
      if (i < 0) throw new BoardMismatch(`no object ${change.object.id} on page ${change.page}`);
      page.objects[i] = clone(change.object);
      return;
    }
    case 'erase': {
      // "remove the objects with these ids from page page. The others keep their order"
      const page = needPage(board, change.page, change);
      const have = new Set(page.objects.map((o) => o.id));
      for (const id of change.ids) if (!have.has(id)) throw new BoardMismatch(`no object ${id} on page ${change.page}`);
      const gone = new Set(change.ids);
      page.objects = page.objects.filter((o) => !gone.has(o.id));
      return;
    }
    case 'clear': {
      // "remove every object of page page"
      needPage(board, change.page, change).objects = [];
      return;
    }
    case 'restore': {
      // "objects is an array of {index, object}, lowest index first. Take them in that
      // order, and insert each object at position index of the page's stack as it is at
      // that moment (0 is the bottom). An index past the top puts the object on top"
      const page = needPage(board, change.page, change);
      for (const { index, object } of change.objects) insertAt(page.objects, index, clone(object));
      return;
    }
    case 'add_page': {
      // "insert an empty page with id page at position index of the list of pages. An
      // index past the end puts it at the end. annotates is absent for an ordinary page"
      const page = { id: change.page, objects: [] };
      if (change.annotates !== undefined && change.annotates !== null) page.annotates = change.annotates;
      insertAt(board.pages, change.index, page);
      return;
    }
    case 'remove_page': {
      // "remove page page and every object on it"
      needPage(board, change.page, change);
      board.pages.splice(pageIndex(board, change.page), 1);
      return;
    }
    case 'restore_page': {
      // "insert page, a whole Page with its objects, at position index of the list of pages"
      insertAt(board.pages, change.index, clone(change.page));
      return;
    }
    case 'move_page': {
      // "take page page out of the list, then insert it at position index of the list without it"
      const page = needPage(board, change.page, change);
      board.pages.splice(pageIndex(board, change.page), 1);
      insertAt(board.pages, change.index, page);
      return;
    }
    case 'annotates': {
      // "set page page's annotates to the value, a string or null. null makes it an ordinary page"
      const page = needPage(board, change.page, change);
      if (change.annotates === null) delete page.annotates;
      else page.annotates = change.annotates;
      return;
    }
    case 'access': {
      // "replace the board's BoardAccess"
      board.access = clone(change.access);
      return;
    }
    default:
      throw new BoardMismatch(`unknown op ${JSON.stringify(change?.op)}`);
  }
}

/** The BoardSummary ("joined.features.board") of a board. */
export function summaryOf(board) {
  return {
    id: board.id,
    seq: board.seq,
    access: clone(board.access),
    pages: board.pages.map((p) => (p.annotates === undefined ? { id: p.id, objects: p.objects.length } : { id: p.id, annotates: p.annotates, objects: p.objects.length })),
  };
}

/**
 * One client's copy of the board, kept in step as "Keeping in step" says (its JavaScript,
 * nearly word for word), plus a record of what happened for the tests to check.
 */
export class BoardReplica {
  constructor(send) {
    /** How to send a frame (a `board_sync` after a gap or a part out of order). */
    this.send = send;
    this.board = null; // {id, seq, access, pages}
    this.building = null; // a snapshot being assembled
    this.syncing = true; // from joining until the answer is complete
    this.kept = []; // board_op events that arrived meanwhile
    /** joined.features.board of the latest join. */
    this.summary = null;
    /** Things that went wrong: gaps, parts out of order, changes that did not apply. */
    this.problems = [];
    /** Completed answers to board_sync: {kind: 'snapshot', parts} or {kind: 'synced', frame}. */
    this.answers = [];
    this._parts = [];
    /** Live previews by `${by} ${id}`: {by, id, page, shape, style, at}. */
    this.previews = new Map();
  }

  /** On `joined`: a new connection; keep the copy, and hold the ops until a sync is answered. */
  onJoined(summary) {
    this.summary = summary ?? null;
    this.syncing = true;
    this.kept = [];
    this.building = null;
    this._parts = [];
    this.previews.clear();
  }

  /** The `board_sync` frame to send now: with `board` and `since` when we hold a copy. */
  syncFrame() {
    return this.board ? { type: 'board_sync', board: this.board.id, since: this.board.seq } : { type: 'board_sync' };
  }

  onBoardOp(op) {
    if (this.syncing) {
      this.kept.push(op);
      return;
    }
    if (op.seq <= this.board.seq) return;
    if (op.seq > this.board.seq + 1) {
      this.problems.push(`gap: op ${op.seq} after ${this.board.seq}`);
      this.kept.push(op);
      this.syncing = true;
      this.send({ type: 'board_sync', board: this.board.id, since: this.board.seq });
      return;
    }
    try {
      applyChange(this.board, op.change);
    } catch (e) {
      if (!(e instanceof BoardMismatch)) throw e;
      // "your board has gone wrong: ask for the whole board again, with board_sync without since"
      this.problems.push(`op ${op.seq} does not apply: ${e.message}`);
      this.syncing = true;
      this.kept = [];
      this.send({ type: 'board_sync' });
      return;
    }
    this.board.seq = op.seq;
    // "Drop the preview when a board_op brings an object with its id"
    const obj = op.change?.object;
    if (obj) for (const [key, p] of this.previews) if (p.id === obj.id) this.previews.delete(key);
  }

  _answered() {
    this.syncing = false;
    const ops = this.kept.sort((a, b) => a.seq - b.seq);
    this.kept = [];
    for (const op of ops) this.onBoardOp(op);
  }

  onSnapshot(part) {
    if (part.part === 0) {
      this.building = { id: part.board, seq: part.seq, access: clone(part.access), pages: [] };
      this._parts = [];
    } else if (!this.building) return;
    else if (part.part !== this.building.next) {
      this.problems.push(`snapshot part ${part.part} where ${this.building.next} was expected`);
      this.building = null;
      this.send({ type: 'board_sync' });
      return;
    }
    this._parts.push(part);
    for (const page of clone(part.pages)) {
      const last = this.building.pages[this.building.pages.length - 1];
      if (last && last.id === page.id) last.objects.push(...page.objects);
      else this.building.pages.push(page);
    }
    this.building.next = part.part + 1;
    if (part.last) {
      const { next, ...whole } = this.building;
      this.board = whole;
      this.building = null;
      this.answers.push({ kind: 'snapshot', parts: this._parts });
      this._parts = [];
      this._answered();
    }
  }

  onSynced(frame) {
    this.answers.push({ kind: 'synced', frame });
    if (!this.board || frame.board !== this.board.id) {
      // Only a client that sent its board's id and seq gets this; ours went wrong.
      this.problems.push(`board_synced for ${frame.board} while holding ${this.board?.id}`);
      this.kept = [];
      this.send({ type: 'board_sync' });
      return;
    }
    this._answered();
    if (this.board && this.board.seq !== frame.seq) this.problems.push(`board_synced at ${frame.seq} but the board is at ${this.board.seq}`);
  }

  /** `board_live` from someone else, as "board_live (relay → client)" says. */
  onLive(live) {
    const key = `${live.by} ${live.id}`;
    const kind = live.shape?.kind;
    const stroke = kind === 'pen' || kind === 'highlighter';
    const prev = this.previews.get(key);
    if (live.from === 0 || !prev || !stroke) {
      // "from 0 starts the preview afresh"; "For the other kinds, replace the shape."
      this.previews.set(key, { by: live.by, id: live.id, page: live.page, shape: clone(live.shape), style: clone(live.style), at: Date.now() });
      return;
    }
    // "keep the preview's first from points and add these after them ... when from is
    // past the points you hold, add these after them all the same."
    prev.shape.points = prev.shape.points.slice(0, live.from).concat(clone(live.shape.points));
    prev.style = clone(live.style);
    prev.page = live.page;
    prev.at = Date.now();
  }

  /** "Drop the preview ... when by leaves". */
  onLeft(identity) {
    for (const [key, p] of this.previews) if (p.by === identity) this.previews.delete(key);
  }
}
