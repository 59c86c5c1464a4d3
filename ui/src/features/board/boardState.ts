/**
 * The whiteboard's state and rules, apart from its components. The relay orders every
 * change of the board and sends it to everyone as a `board_op`; this side applies them
 * in order (`applyChange`, a port of the protocol's `Board::apply`), fetches the board
 * with `board_sync` (the whole board in `board_snapshot` parts, or only the changes it
 * missed), and shows others' strokes while they draw (`board_live`). See
 * docs/protocol.md, "Whiteboard".
 *
 * Pure: no DOM, no clock but the `now` passed in.
 */
import type {
  BoardAccess,
  BoardChange,
  BoardEvent,
  BoardObject,
  BoardOp,
  BoardRequest,
  BoardSummary,
  FeatureEvent,
  FeatureSnapshot,
  Page,
  Participant,
  Placed,
  Shape,
  Style,
} from '../../services/types';

/** The id of the page a new board starts with. */
export const FIRST_PAGE = 'page-1';
/** Most points in one stroke (protocol `MAX_POINTS`). */
export const MAX_POINTS = 2_000;
/** Longest object or page id, in bytes. */
export const MAX_ID_LEN = 64;
/** A stroke someone is drawing is dropped when nothing came for it this long. */
export const LIVE_TIMEOUT_MS = 5_000;

/** A whole board, as the relay holds it (and sends it in `board_snapshot` parts). */
export type Board = {
  id: string;
  /** The sequence number of the last change applied. */
  seq: number;
  access: BoardAccess;
  /** In order, annotation pages included. */
  pages: Page[];
};

/** A stroke or shape someone else is drawing now (not on the board yet). */
export type LiveStroke = {
  by: string;
  page: string;
  id: string;
  shape: Shape;
  style: Style;
  /** When it last grew (local clock, ms). */
  at: number;
};

export type BoardUiState = {
  /** What `joined` said: id, seq, access and pages (with counts, no objects). */
  summary: BoardSummary;
  /** The whole board once a sync brought it; null until then. */
  board: Board | null;
  /** A `board_snapshot` being put together, with the next part expected. */
  assembly: { board: Board; next: number } | null;
  /** Ops kept while a sync is answered (or before the board came), applied after it. */
  pending: BoardOp[];
  /** A sync was asked for and is not complete yet: ops are kept, not applied. */
  syncing: boolean;
  /**
   * The board must be asked for (again): an op came out of sequence, a change did not
   * apply, or a snapshot part came out of order. Cleared when a sync's answer completes.
   */
  needsSync: boolean;
  /** The board held went wrong (a change did not apply): ask for it whole. */
  whole: boolean;
  /** Others' strokes being drawn, by `${by}/${id}`. */
  live: Readonly<Record<string, LiveStroke>>;
  /**
   * Goes up whenever the board's own pages change (not its annotation pages, not who
   * may draw), for "changed since you last looked".
   */
  revision: number;
  /**
   * Where someone last drew or changed something on the board's own pages (an op, or a
   * stroke being drawn): the page a viewer who follows is shown.
   */
  activity: { page: string; by: string } | null;
};

/** The board page a change is on (annotation pages and page moves aside). */
function pageOfChange(change: BoardChange): string | null {
  switch (change.op) {
    case 'add':
    case 'update':
    case 'erase':
    case 'clear':
    case 'restore':
    case 'add_page':
      return change.page;
    case 'restore_page':
      return change.page.id;
    default:
      return null;
  }
}

/** `state` with `page` as where `by` was last active, when it is one of the board's own pages. */
function active(state: BoardUiState, page: string | null, by: string): BoardUiState {
  if (page === null) return state;
  const pages = state.board?.pages ?? state.summary.pages;
  const found = pages.find((p) => p.id === page);
  if (!found || (found.annotates !== undefined && found.annotates !== null)) return state;
  if (state.activity?.page === page && state.activity.by === by) return state;
  return { ...state, activity: { page, by } };
}

const emptyAccess = (): BoardAccess => ({ everyone: false, drawers: [] });

function summaryOf(features: FeatureSnapshot): BoardSummary {
  // A relay from before the whiteboard sends no `board`: an empty one.
  const board = (features as Partial<FeatureSnapshot>).board;
  return board ?? { id: '', seq: 0, access: emptyAccess(), pages: [] };
}

/**
 * The state at join. After a rejoin `previous` is the state held before: its board is
 * kept, so the sync that follows brings only what was missed.
 */
export function boardFromSnapshot(features: FeatureSnapshot, previous?: BoardUiState): BoardUiState {
  return {
    summary: summaryOf(features),
    board: previous?.board ?? null,
    assembly: null,
    pending: [],
    syncing: true,
    needsSync: false,
    whole: previous?.whole ?? false,
    live: {},
    revision: previous?.revision ?? 0,
    activity: previous?.activity ?? null,
  };
}

/**
 * The request that brings this board up to date: only the changes after our `seq` when
 * we hold a board we trust, else the whole board (`board` and `since` null).
 */
export function syncRequest(state: BoardUiState): BoardRequest {
  const held = state.board !== null && !state.whole ? state.board : null;
  return { type: 'board_sync', board: held?.id ?? null, since: held?.seq ?? null };
}

/** Who may draw, as last known. */
export function accessOf(state: BoardUiState): BoardAccess {
  return state.board?.access ?? state.summary.access;
}

/**
 * Whether `you` may draw: hosts and presenters always (`presents`), others when the access
 * names them or everyone.
 */
export function canDraw(state: BoardUiState, you: Pick<Participant, 'identity'>, presents: boolean): boolean {
  const access = accessOf(state);
  return presents || access.everyone || access.drawers.includes(you.identity);
}

/** A page of the board's own (not drawn over a screen share). */
const isBoardPage = (page: { annotates?: string | null }) => page.annotates === undefined || page.annotates === null;

/** The board's own pages, in order, with how many objects each holds (from the summary until the board came). */
export function boardPages(state: BoardUiState): { id: string; objects: number }[] {
  if (state.board) return state.board.pages.filter(isBoardPage).map((p) => ({ id: p.id, objects: p.objects.length }));
  return state.summary.pages.filter(isBoardPage).map((p) => ({ id: p.id, objects: p.objects }));
}

/** The annotation pages drawn over `identity`'s screen share, in order. */
export function annotationPages(state: BoardUiState, identity: string): Page[] {
  return state.board?.pages.filter((p) => p.annotates === identity) ?? [];
}

/** Every annotation page, whoever it annotates. */
export function allAnnotationPages(state: BoardUiState): Page[] {
  return state.board?.pages.filter((p) => !isBoardPage(p)) ?? [];
}

/** A page of the board held, by id. */
export function pageOf(state: BoardUiState, id: string): Page | null {
  return state.board?.pages.find((p) => p.id === id) ?? null;
}

/**
 * Others' strokes being drawn on one of `pages`, oldest first: those still fresh at `now`
 * (when given) and by someone in `by` (when given).
 */
export function liveOn(
  state: BoardUiState,
  pages: readonly string[],
  options: { now?: number; by?: ReadonlySet<string> } = {},
): LiveStroke[] {
  const { now, by } = options;
  return Object.values(state.live)
    .filter(
      (l) =>
        pages.includes(l.page) && (now === undefined || now - l.at < LIVE_TIMEOUT_MS) && (by === undefined || by.has(l.by)),
    )
    .sort((a, b) => a.at - b.at);
}

/** Whether a live stroke is still fresh at `now`. */
export const isFresh = (stroke: LiveStroke, now: number) => now - stroke.at < LIVE_TIMEOUT_MS;

// Applying changes: a port of the protocol's `Board::apply` (protocol/src/board.rs). The
// relay has checked every change it sends (ids, limits, ranges), so only what depends on
// our copy of the board is checked here: a change that does not fit it means our copy
// went wrong, and is refused with a reason rather than applied in part.

/** The board after a change, and the change that undoes it (as `Board::apply` returns it). */
export type Applied = { board: Board; inverse: BoardChange };
/** Why a change did not apply to this board. */
export type NotApplied = { error: string };

const refuse = (error: string): NotApplied => ({ error });

function pageIndex(board: Board, id: string): number {
  return board.pages.findIndex((p) => p.id === id);
}

function hasObject(board: Board, id: string): boolean {
  return board.pages.some((p) => p.objects.some((o) => o.id === id));
}

function objectIds(board: Board): Set<string> {
  return new Set(board.pages.flatMap((p) => p.objects.map((o) => o.id)));
}

function countBoardPages(board: Board): number {
  return board.pages.filter(isBoardPage).length;
}

/** `board` with page `index` replaced. */
function withPage(board: Board, index: number, page: Page): Board {
  const pages = board.pages.slice();
  pages[index] = page;
  return { ...board, pages };
}

/** A page as the relay writes it: `annotates` only when set. */
function makePage(id: string, annotates: string | null | undefined, objects: BoardObject[]): Page {
  return annotates === undefined || annotates === null ? { id, objects } : { id, annotates, objects };
}

function insertPage(board: Board, index: number, page: Page): Board | NotApplied {
  if (board.pages.some((p) => p.id === page.id)) return refuse(`a page "${page.id}" is already on the board`);
  const pages = board.pages.slice();
  pages.splice(Math.min(index, pages.length), 0, page);
  return { ...board, pages };
}

const isRefusal = (x: Board | NotApplied): x is NotApplied => 'error' in x;

/**
 * Apply `change` to `board` as the protocol's `Board::apply` does, or say why it does not
 * apply (a page or object this board lacks, an id it already has, ...). Never changes
 * `board` itself.
 */
export function applyChange(board: Board, change: BoardChange): Applied | NotApplied {
  const noPage = (id: string) => refuse(`no page "${id}" on the board`);
  switch (change.op) {
    case 'add': {
      const p = pageIndex(board, change.page);
      if (p < 0) return noPage(change.page);
      if (hasObject(board, change.object.id)) return refuse(`an object "${change.object.id}" is already on the board`);
      const page = board.pages[p]!;
      return {
        board: withPage(board, p, { ...page, objects: [...page.objects, change.object] }),
        inverse: { op: 'erase', page: change.page, ids: [change.object.id] },
      };
    }
    case 'update': {
      const p = pageIndex(board, change.page);
      if (p < 0) return noPage(change.page);
      const page = board.pages[p]!;
      const i = page.objects.findIndex((o) => o.id === change.object.id);
      if (i < 0) return refuse(`no object "${change.object.id}" on that page`);
      const objects = page.objects.slice();
      const old = objects[i]!;
      objects[i] = change.object;
      return { board: withPage(board, p, { ...page, objects }), inverse: { op: 'update', page: change.page, object: old } };
    }
    case 'erase': {
      const p = pageIndex(board, change.page);
      if (p < 0) return noPage(change.page);
      if (change.ids.length === 0) return refuse('erase names no object');
      const page = board.pages[p]!;
      const missing = change.ids.find((id) => !page.objects.some((o) => o.id === id));
      if (missing !== undefined) return refuse(`no object "${missing}" on that page`);
      const erasing = new Set(change.ids);
      const removed: Placed[] = [];
      const kept: BoardObject[] = [];
      page.objects.forEach((object, index) => {
        if (erasing.has(object.id)) removed.push({ index, object });
        else kept.push(object);
      });
      return {
        board: withPage(board, p, { ...page, objects: kept }),
        inverse: { op: 'restore', page: change.page, objects: removed },
      };
    }
    case 'clear': {
      const p = pageIndex(board, change.page);
      if (p < 0) return noPage(change.page);
      const page = board.pages[p]!;
      return {
        board: withPage(board, p, { ...page, objects: [] }),
        inverse: { op: 'restore', page: change.page, objects: page.objects.map((object, index) => ({ index, object })) },
      };
    }
    case 'restore': {
      const p = pageIndex(board, change.page);
      if (p < 0) return noPage(change.page);
      if (change.objects.length === 0) return refuse('restore names no object');
      const ids = objectIds(board);
      for (let i = 0; i < change.objects.length; i++) {
        const placed = change.objects[i]!;
        if (i > 0 && placed.index <= change.objects[i - 1]!.index) return refuse('restored objects must be lowest first');
        if (ids.has(placed.object.id)) return refuse(`an object "${placed.object.id}" is already on the board`);
        ids.add(placed.object.id);
      }
      const page = board.pages[p]!;
      const objects = page.objects.slice();
      for (const placed of change.objects) objects.splice(Math.min(placed.index, objects.length), 0, placed.object);
      return {
        board: withPage(board, p, { ...page, objects }),
        inverse: { op: 'erase', page: change.page, ids: change.objects.map((o) => o.object.id) },
      };
    }
    case 'add_page': {
      const next = insertPage(board, change.index, makePage(change.page, change.annotates, []));
      if (isRefusal(next)) return next;
      return { board: next, inverse: { op: 'remove_page', page: change.page } };
    }
    case 'restore_page': {
      const ids = objectIds(board);
      const objects = change.page.objects ?? [];
      for (const object of objects) {
        if (ids.has(object.id)) return refuse(`an object "${object.id}" is already on the board`);
        ids.add(object.id);
      }
      const next = insertPage(board, change.index, makePage(change.page.id, change.page.annotates, objects));
      if (isRefusal(next)) return next;
      return { board: next, inverse: { op: 'remove_page', page: change.page.id } };
    }
    case 'remove_page': {
      const p = pageIndex(board, change.page);
      if (p < 0) return noPage(change.page);
      const removed = board.pages[p]!;
      if (isBoardPage(removed) && countBoardPages(board) === 1) {
        return refuse('a board keeps at least one page (clear it instead)');
      }
      const pages = board.pages.slice();
      pages.splice(p, 1);
      return { board: { ...board, pages }, inverse: { op: 'restore_page', index: p, page: removed } };
    }
    case 'move_page': {
      const p = pageIndex(board, change.page);
      if (p < 0) return noPage(change.page);
      const pages = board.pages.slice();
      const [moved] = pages.splice(p, 1);
      pages.splice(Math.min(change.index, pages.length), 0, moved!);
      return { board: { ...board, pages }, inverse: { op: 'move_page', page: change.page, index: p } };
    }
    case 'annotates': {
      const p = pageIndex(board, change.page);
      if (p < 0) return noPage(change.page);
      const page = board.pages[p]!;
      const annotates = change.annotates ?? null;
      if (annotates !== null && isBoardPage(page) && countBoardPages(board) === 1) {
        return refuse('a board keeps at least one page');
      }
      return {
        board: withPage(board, p, makePage(page.id, annotates, page.objects)),
        inverse: { op: 'annotates', page: change.page, annotates: page.annotates ?? null },
      };
    }
    case 'access': {
      const access: BoardAccess = { everyone: change.access.everyone ?? false, drawers: change.access.drawers ?? [] };
      return { board: { ...board, access }, inverse: { op: 'access', access: board.access } };
    }
    default: {
      // A newer relay's change: this board cannot follow it (ask for the whole board).
      const unknown: { op?: unknown } = change;
      return refuse(`a change this app does not know ("${String(unknown.op)}")`);
    }
  }
}

/** Whether `change` changed the board's own pages (not only an annotation page or the access). */
function touchesBoardPages(before: Board, after: Board, change: BoardChange): boolean {
  const pageIn = (board: Board, id: string) => board.pages.find((p) => p.id === id);
  switch (change.op) {
    case 'access':
      return false;
    case 'add_page':
      return change.annotates === undefined || change.annotates === null;
    case 'restore_page':
      return isBoardPage(change.page);
    case 'remove_page':
    case 'move_page': {
      const page = pageIn(before, change.page);
      return page !== undefined && isBoardPage(page);
    }
    case 'annotates': {
      const old = pageIn(before, change.page);
      const now = pageIn(after, change.page);
      return (old !== undefined && isBoardPage(old)) || (now !== undefined && isBoardPage(now));
    }
    default: {
      const page = pageIn(after, change.page);
      return page !== undefined && isBoardPage(page);
    }
  }
}

/** The id of the object a change puts on the board, if any. */
function addedObject(change: BoardChange): string | null {
  return change.op === 'add' ? change.object.id : null;
}

/** Live strokes without those gone stale at `now` and without `exceptId`. */
function freshLive(live: BoardUiState['live'], now: number, exceptId: string | null): BoardUiState['live'] {
  let changed = false;
  const kept: Record<string, LiveStroke> = {};
  for (const [key, stroke] of Object.entries(live)) {
    if (now - stroke.at >= LIVE_TIMEOUT_MS || stroke.id === exceptId) changed = true;
    else kept[key] = stroke;
  }
  return changed ? kept : live;
}

/** Keep `op` to apply later, in sequence order, once. */
function keep(pending: BoardOp[], op: BoardOp): BoardOp[] {
  if (pending.some((p) => p.seq === op.seq)) return pending;
  return [...pending, op].sort((a, b) => a.seq - b.seq);
}

/**
 * Apply the kept ops to the board now held (after a sync's answer completed): those at
 * or below its `seq` are skipped; a gap keeps the rest and asks for a sync again.
 */
function applyPending(state: BoardUiState): BoardUiState {
  let next: BoardUiState = { ...state, pending: [] };
  const ops = state.pending;
  for (let i = 0; i < ops.length; i++) {
    next = takeOp(next, ops[i]!);
    if (next.syncing) {
      // A gap (or a change that did not apply): keep what is left for the next answer.
      return { ...next, pending: ops.slice(i).reduce(keep, next.pending) };
    }
  }
  return next;
}

/** Take one `board_op` (while not syncing). */
function takeOp(state: BoardUiState, op: BoardOp): BoardUiState {
  const board = state.board;
  if (board === null || state.syncing) return { ...state, pending: keep(state.pending, op) };
  if (op.seq <= board.seq) return state;
  if (op.seq !== board.seq + 1) {
    // Some went missing: keep this one and ask for what came between.
    return { ...state, pending: keep(state.pending, op), syncing: true, needsSync: true };
  }
  const applied = applyChange(board, op.change);
  if ('error' in applied) {
    // Our copy went wrong: ask for the whole board. It stays shown meanwhile.
    console.warn(`whiteboard: op ${op.seq} does not apply (${applied.error}); fetching the whole board`);
    return { ...state, pending: keep(state.pending, op), syncing: true, needsSync: true, whole: true };
  }
  const changed = touchesBoardPages(board, applied.board, op.change);
  return {
    ...state,
    board: { ...applied.board, seq: op.seq },
    revision: changed ? state.revision + 1 : state.revision,
  };
}

/** Put a page of a snapshot part onto the board being assembled. */
function assemble(board: Board, pages: readonly Page[]): Board {
  const out = board.pages.slice();
  for (const page of pages) {
    const last = out[out.length - 1];
    const objects = page.objects ?? [];
    if (last && last.id === page.id) out[out.length - 1] = { ...last, objects: [...last.objects, ...objects] };
    else out.push(makePage(page.id, page.annotates, objects));
  }
  return { ...board, pages: out };
}

function takeSnapshot(state: BoardUiState, event: Extract<BoardEvent, { type: 'board_snapshot' }>): BoardUiState {
  let assembly = state.assembly;
  if (event.part === 0) {
    const access: BoardAccess = { everyone: event.access.everyone ?? false, drawers: event.access.drawers ?? [] };
    assembly = { board: { id: event.board, seq: event.seq, access, pages: [] }, next: 0 };
  }
  if (assembly === null || event.part !== assembly.next) {
    // Out of order: drop what was built and ask again (once: the rest of a dropped
    // answer is ignored while the new request is on its way).
    if (assembly === null && state.needsSync) return state;
    return { ...state, assembly: null, syncing: true, needsSync: true };
  }
  const built = assemble(assembly.board, event.pages);
  if (!event.last) return { ...state, assembly: { board: built, next: assembly.next + 1 }, syncing: true };
  // The board's first arrival is no change to tell of; a new copy after a rejoin is,
  // unless it is the one held.
  const old = state.board;
  const same = old === null || (old.id === built.id && old.seq === built.seq);
  return applyPending({
    ...state,
    board: built,
    assembly: null,
    syncing: false,
    needsSync: false,
    whole: false,
    revision: same ? state.revision : state.revision + 1,
  });
}

function takeSynced(state: BoardUiState, event: Extract<BoardEvent, { type: 'board_synced' }>): BoardUiState {
  if (state.board === null || state.board.id !== event.board || state.whole) {
    // An answer for a board we do not hold: ask for the whole one.
    return { ...state, syncing: true, needsSync: true, whole: true };
  }
  const next = applyPending({ ...state, syncing: false, needsSync: false });
  if (!next.syncing && next.board !== null && next.board.seq < event.seq) {
    // The answer said more than came: ask again.
    return { ...next, syncing: true, needsSync: true };
  }
  return next;
}

function takeLive(state: BoardUiState, event: Extract<BoardEvent, { type: 'board_live' }>, now: number): BoardUiState {
  const live = freshLive(state.live, now, null);
  const key = `${event.by}/${event.id}`;
  const held = live[key];
  let shape: Shape = event.shape;
  if (
    event.from > 0 &&
    held &&
    (event.shape.kind === 'pen' || event.shape.kind === 'highlighter') &&
    held.shape.kind === event.shape.kind
  ) {
    // The points from `from` on replace those held there (some may have been dropped
    // on the way: then they simply follow the ones held).
    shape = { kind: event.shape.kind, points: [...held.shape.points.slice(0, event.from), ...event.shape.points] };
  }
  const stroke: LiveStroke = { by: event.by, page: event.page, id: event.id, shape, style: event.style, at: now };
  return { ...state, live: { ...live, [key]: stroke } };
}

/** The next state after a room feature's event; the same object for others' events. */
export function boardReducer(state: BoardUiState, event: FeatureEvent, now: number = Date.now()): BoardUiState {
  switch (event.type) {
    case 'board_op': {
      const op: BoardOp = { seq: event.seq, by: event.by, at: event.at, change: event.change };
      // The stroke someone was drawing is on the board now: its preview goes.
      const live = Object.keys(state.live).length === 0 ? state.live : freshLive(state.live, now, addedObject(op.change));
      const before = live === state.live ? state : { ...state, live };
      const next = takeOp(before, op);
      // An op already held changes nothing, not even where someone is active.
      return next === before ? before : active(next, pageOfChange(op.change), op.by);
    }
    case 'board_snapshot':
      return takeSnapshot(state, event);
    case 'board_synced':
      return takeSynced(state, event);
    case 'board_live':
      return active(takeLive(state, event, now), event.page, event.by);
    default:
      return state;
  }
}

// Ids the client makes. Ids are 1–64 of letters, digits, `-`, `_`, `.` and `:`; object
// ids are unique on the whole board and never reused, so each is this app run's random
// prefix with a counter.

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomPart(length: number): string {
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => ID_CHARS[b % ID_CHARS.length]).join('');
}

const runPrefix = `${Date.now().toString(36)}-${randomPart(5)}`;
let idCounter = 0;

/** A new object id, unique on the board (`lx9k2a-q7x2f:14`). */
export function newObjectId(): string {
  idCounter += 1;
  return `${runPrefix}:${idCounter}`;
}

/** A new page id (`page-lx9k2a-q7x2f`). */
export function newPageId(): string {
  return `page-${Date.now().toString(36)}-${randomPart(5)}`;
}

/** Whether `id` is a valid object or page id. */
export function isValidId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_LEN && /^[A-Za-z0-9._:-]+$/.test(id);
}
