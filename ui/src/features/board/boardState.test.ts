import { describe, expect, it, vi } from 'vitest';
import type { BoardChange, BoardEvent, BoardObject, FeatureEvent, Page } from '../../services/types';
import { boardSummary, features } from '../../test/fixtures';
import {
  annotationPages,
  applyChange,
  boardFromSnapshot,
  boardPages,
  boardReducer,
  canDraw,
  FIRST_PAGE,
  isValidId,
  liveOn,
  LIVE_TIMEOUT_MS,
  newObjectId,
  newPageId,
  syncRequest,
  type Applied,
  type Board,
  type BoardUiState,
} from './boardState';

function pen(id: string, n = 3, author = 'ada'): BoardObject {
  return {
    id,
    author,
    shape: { kind: 'pen', points: Array.from({ length: n }, (_, i) => [i * 10, 10, 50] as [number, number, number]) },
    style: { color: '#112233', width: 20 },
  };
}

function newBoard(id = 'b1', seq = 0): Board {
  return { id, seq, access: { everyone: false, drawers: [] }, pages: [{ id: FIRST_PAGE, objects: [] }] };
}

/** Apply, failing the test when the change does not apply. */
function apply(board: Board, change: BoardChange): Applied {
  const result = applyChange(board, change);
  if ('error' in result) throw new Error(result.error);
  return result;
}

const ids = (board: Board, page = FIRST_PAGE) => board.pages.find((p) => p.id === page)?.objects.map((o) => o.id);
const pageIds = (board: Board) => board.pages.map((p) => p.id);

function withObjects(...names: string[]): Board {
  let board = newBoard();
  for (const n of names) board = apply(board, { op: 'add', page: FIRST_PAGE, object: pen(n) }).board;
  return board;
}

describe('applying changes (Board::apply)', () => {
  it('add puts the object on top, and is undone by an erase', () => {
    const { board, inverse } = apply(withObjects('x'), { op: 'add', page: FIRST_PAGE, object: pen('y') });
    expect(ids(board)).toEqual(['x', 'y']);
    expect(inverse).toEqual({ op: 'erase', page: FIRST_PAGE, ids: ['y'] });
  });

  it('update replaces the object in its place; its inverse puts the old one back', () => {
    const before = withObjects('x', 'y', 'z');
    const moved = { ...pen('y'), style: { color: '#ff0000', width: 99 } };
    const { board, inverse } = apply(before, { op: 'update', page: FIRST_PAGE, object: moved });
    expect(ids(board)).toEqual(['x', 'y', 'z']);
    expect(board.pages[0]!.objects[1]).toBe(moved);
    expect(inverse).toEqual({ op: 'update', page: FIRST_PAGE, object: before.pages[0]!.objects[1] });
  });

  it('erase removes the objects, the others keep their order, and restore puts them back in place', () => {
    const before = withObjects('a', 'b', 'c', 'd');
    const { board, inverse } = apply(before, { op: 'erase', page: FIRST_PAGE, ids: ['d', 'b'] });
    expect(ids(board)).toEqual(['a', 'c']);
    expect(inverse).toEqual({
      op: 'restore',
      page: FIRST_PAGE,
      objects: [
        { index: 1, object: before.pages[0]!.objects[1] },
        { index: 3, object: before.pages[0]!.objects[3] },
      ],
    });
    expect(apply(board, inverse).board).toEqual(before);
  });

  it('clear empties the page; restore with indexes past the top puts objects on top', () => {
    const before = withObjects('a', 'b');
    const { board, inverse } = apply(before, { op: 'clear', page: FIRST_PAGE });
    expect(ids(board)).toEqual([]);
    expect(apply(board, inverse).board).toEqual(before);
    const restored = apply(withObjects('x'), { op: 'restore', page: FIRST_PAGE, objects: [{ index: 7, object: pen('q') }] });
    expect(ids(restored.board)).toEqual(['x', 'q']);
    expect(restored.inverse).toEqual({ op: 'erase', page: FIRST_PAGE, ids: ['q'] });
  });

  it('add_page inserts at the index (past the end: at the end), with what it annotates', () => {
    let board = apply(newBoard(), { op: 'add_page', page: 'p2', index: 0 }).board;
    expect(pageIds(board)).toEqual(['p2', FIRST_PAGE]);
    const added = apply(board, { op: 'add_page', page: 'ann', index: 99, annotates: 'bob' });
    board = added.board;
    expect(pageIds(board)).toEqual(['p2', FIRST_PAGE, 'ann']);
    expect(board.pages[2]).toEqual({ id: 'ann', annotates: 'bob', objects: [] });
    expect(added.inverse).toEqual({ op: 'remove_page', page: 'ann' });
    expect(boardPages({ ...boardFromSnapshot(features()), board }).map((p) => p.id)).toEqual(['p2', FIRST_PAGE]);
  });

  it('remove_page takes the page with its objects; restore_page brings it back where it was', () => {
    let board = withObjects('a');
    board = apply(board, { op: 'add_page', page: 'p2', index: 0 }).board;
    const before = board;
    const removed = apply(board, { op: 'remove_page', page: FIRST_PAGE });
    expect(pageIds(removed.board)).toEqual(['p2']);
    expect(removed.inverse).toEqual({ op: 'restore_page', index: 1, page: before.pages[1] });
    expect(apply(removed.board, removed.inverse).board).toEqual(before);
  });

  it('keeps at least one page of the board itself (annotation pages may all go)', () => {
    let board = apply(newBoard(), { op: 'add_page', page: 'ann', index: 1, annotates: 'bob' }).board;
    expect(applyChange(board, { op: 'remove_page', page: FIRST_PAGE })).toHaveProperty('error');
    expect(applyChange(board, { op: 'annotates', page: FIRST_PAGE, annotates: 'bob' })).toHaveProperty('error');
    board = apply(board, { op: 'remove_page', page: 'ann' }).board;
    expect(pageIds(board)).toEqual([FIRST_PAGE]);
  });

  it('move_page takes the page out and puts it at the index of the list without it', () => {
    let board = newBoard();
    for (const p of ['p2', 'p3', 'p4']) board = apply(board, { op: 'add_page', page: p, index: 99 }).board;
    const moved = apply(board, { op: 'move_page', page: FIRST_PAGE, index: 2 });
    expect(pageIds(moved.board)).toEqual(['p2', 'p3', FIRST_PAGE, 'p4']);
    expect(moved.inverse).toEqual({ op: 'move_page', page: FIRST_PAGE, index: 0 });
    expect(pageIds(apply(board, { op: 'move_page', page: 'p2', index: 99 }).board)).toEqual([FIRST_PAGE, 'p3', 'p4', 'p2']);
  });

  it('annotates sets or clears what a page annotates (clearing keeps it as a board page)', () => {
    let board = apply(newBoard(), { op: 'add_page', page: 'ann', index: 1, annotates: 'bob' }).board;
    const kept = apply(board, { op: 'annotates', page: 'ann', annotates: null });
    expect(kept.board.pages[1]).toEqual({ id: 'ann', objects: [] });
    expect(kept.inverse).toEqual({ op: 'annotates', page: 'ann', annotates: 'bob' });
    board = apply(kept.board, kept.inverse).board;
    expect(board.pages[1]!.annotates).toBe('bob');
  });

  it('access replaces who may draw', () => {
    const { board, inverse } = apply(newBoard(), { op: 'access', access: { everyone: false, drawers: ['bob'] } });
    expect(board.access).toEqual({ everyone: false, drawers: ['bob'] });
    expect(inverse).toEqual({ op: 'access', access: { everyone: false, drawers: [] } });
  });

  it('refuses, and changes nothing, what does not fit this board', () => {
    const board = withObjects('a');
    const frozen = structuredClone(board);
    const refused: BoardChange[] = [
      { op: 'add', page: 'nope', object: pen('b') },
      { op: 'add', page: FIRST_PAGE, object: pen('a') },
      { op: 'update', page: FIRST_PAGE, object: pen('zz') },
      { op: 'erase', page: FIRST_PAGE, ids: ['a', 'zz'] },
      { op: 'erase', page: FIRST_PAGE, ids: [] },
      { op: 'clear', page: 'nope' },
      { op: 'restore', page: FIRST_PAGE, objects: [{ index: 0, object: pen('a') }] },
      { op: 'restore', page: FIRST_PAGE, objects: [{ index: 2, object: pen('m') }, { index: 1, object: pen('n') }] },
      { op: 'add_page', page: FIRST_PAGE, index: 0 },
      { op: 'restore_page', index: 0, page: { id: 'p9', objects: [pen('a')] } },
      { op: 'move_page', page: 'nope', index: 0 },
      { op: 'annotates', page: 'nope', annotates: null },
      { op: 'poll' } as unknown as BoardChange,
    ];
    for (const change of refused) expect(applyChange(board, change), JSON.stringify(change)).toHaveProperty('error');
    expect(board).toEqual(frozen);
  });

  it('undoes any sequence by applying the inverses backwards', () => {
    let board = withObjects('x', 'y', 'z');
    board = apply(board, { op: 'add_page', page: 'ann', index: 9, annotates: 'bob' }).board;
    const start = board;
    const changes: BoardChange[] = [
      { op: 'erase', page: FIRST_PAGE, ids: ['y', 'x'] },
      { op: 'add', page: 'ann', object: pen('n') },
      { op: 'update', page: FIRST_PAGE, object: { ...pen('z'), style: { color: '#000000', width: 5 } } },
      { op: 'clear', page: FIRST_PAGE },
      { op: 'add_page', page: 'p2', index: 0 },
      { op: 'move_page', page: FIRST_PAGE, index: 0 },
      { op: 'annotates', page: 'ann', annotates: null },
      { op: 'access', access: { everyone: true, drawers: [] } },
      { op: 'remove_page', page: FIRST_PAGE },
    ];
    const undo: BoardChange[] = [];
    for (const change of changes) {
      const applied = apply(board, change);
      board = applied.board;
      undo.push(applied.inverse);
    }
    while (undo.length > 0) board = apply(board, undo.pop()!).board;
    expect(board).toEqual(start);
  });
});

// Events, as the relay sends them.
const op = (seq: number, change: BoardChange, by = 'bob-2'): FeatureEvent => ({ type: 'board_op', seq, by, at: 1, change });
const add = (seq: number, id: string, page = FIRST_PAGE) => op(seq, { op: 'add', page, object: pen(id) });

function snapshotParts(board: Board, perPart: number): BoardEvent[] {
  // Split as the relay does: a page may go on in the next part under the same id.
  const parts: Page[][] = [[]];
  let count = 0;
  for (const page of board.pages) {
    parts[parts.length - 1]!.push({ ...page, objects: [] });
    for (const object of page.objects) {
      if (count > 0 && count % perPart === 0) parts.push([{ ...page, objects: [] }]);
      const current = parts[parts.length - 1]!;
      current[current.length - 1]!.objects.push(object);
      count += 1;
    }
  }
  return parts.map((pages, part) => ({
    type: 'board_snapshot',
    board: board.id,
    seq: board.seq,
    access: board.access,
    part,
    last: part === parts.length - 1,
    pages,
  }));
}

const joined = (extra = {}) => boardFromSnapshot(features({ board: boardSummary(extra) }));
const feed = (state: BoardUiState, ...events: (FeatureEvent | BoardEvent)[]) =>
  events.reduce((s, e) => boardReducer(s, e, 1000), state);

function loaded(...names: string[]): BoardUiState {
  const board = { ...withObjects(...names), seq: names.length };
  return feed(joined({ seq: names.length }), ...snapshotParts(board, 100));
}

describe('keeping in step', () => {
  it('starts without a board and asks for all of it', () => {
    const state = joined({ seq: 4 });
    expect(state.board).toBeNull();
    expect(state.syncing).toBe(true);
    expect(syncRequest(state)).toEqual({ type: 'board_sync', board: null, since: null });
    expect(boardPages(state)).toEqual([{ id: FIRST_PAGE, objects: 0 }]);
  });

  it('builds the board from snapshot parts, a page going on in the next part', () => {
    let board = withObjects('a', 'b', 'c', 'd', 'e');
    board = apply(board, { op: 'add_page', page: 'p2', index: 1 }).board;
    board = apply(board, { op: 'add', page: 'p2', object: pen('f') }).board;
    board = apply(board, { op: 'add_page', page: 'ann', index: 2, annotates: 'bob-2' }).board;
    board = { ...board, seq: 9, access: { everyone: false, drawers: ['bob-2'] } };
    const parts = snapshotParts(board, 2);
    expect(parts.length).toBe(3);
    expect((parts[1] as { pages: Page[] }).pages[0]!.id).toBe(FIRST_PAGE);

    let state = joined({ seq: 9 });
    state = feed(state, parts[0]!, parts[1]!);
    expect(state.board).toBeNull();
    expect(state.assembly?.next).toBe(2);
    state = feed(state, parts[2]!);
    expect(state.board).toEqual(board);
    expect(state.syncing).toBe(false);
    expect(state.needsSync).toBe(false);
    expect(syncRequest(state)).toEqual({ type: 'board_sync', board: board.id, since: 9 });
    expect(annotationPages(state, 'bob-2').map((p) => p.id)).toEqual(['ann']);
    expect(boardPages(state)).toEqual([
      { id: FIRST_PAGE, objects: 5 },
      { id: 'p2', objects: 1 },
    ]);
  });

  it('asks again when a part comes out of order, and ignores the rest of that answer', () => {
    const parts = snapshotParts({ ...withObjects('a', 'b', 'c'), seq: 3 }, 1);
    let state = feed(joined(), parts[0]!, parts[2]!);
    expect(state.needsSync).toBe(true);
    expect(state.assembly).toBeNull();
    const before = state;
    state = feed(state, parts[1]!);
    expect(state).toBe(before);
    // The new answer starts at part 0 again.
    state = feed(state, ...parts);
    expect(ids(state.board!)).toEqual(['a', 'b', 'c']);
    expect(state.needsSync).toBe(false);
  });

  it('keeps ops that come before the board and applies those after its seq', () => {
    const board = { ...withObjects('a', 'b'), seq: 2 };
    let state = feed(joined({ seq: 1 }), add(2, 'b'), add(3, 'c'), add(4, 'd'));
    expect(state.pending.map((p) => p.seq)).toEqual([2, 3, 4]);
    state = feed(state, ...snapshotParts(board, 10));
    expect(ids(state.board!)).toEqual(['a', 'b', 'c', 'd']);
    expect(state.board!.seq).toBe(4);
    expect(state.pending).toEqual([]);
  });

  it('ignores ops it has, and asks for what it missed on a gap', () => {
    let state = loaded('a', 'b');
    expect(feed(state, add(2, 'b'))).toBe(state);
    state = feed(state, add(3, 'c'));
    expect(state.board!.seq).toBe(3);
    state = feed(state, add(5, 'e'));
    expect(state.needsSync).toBe(true);
    expect(state.board!.seq).toBe(3);
    expect(syncRequest(state)).toEqual({ type: 'board_sync', board: 'b1', since: 3 });
    // The answer: the missed op, then board_synced; the kept one follows.
    state = feed(state, add(4, 'd'), { type: 'board_synced', board: 'b1', seq: 5 });
    expect(ids(state.board!)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(state.board!.seq).toBe(5);
    expect(state.needsSync).toBe(false);
    expect(state.syncing).toBe(false);
  });

  it('asks for the whole board when a change does not apply to its copy', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    let state = loaded('a');
    state = feed(state, op(2, { op: 'erase', page: FIRST_PAGE, ids: ['not-here'] }));
    expect(warn).toHaveBeenCalled();
    expect(state.needsSync).toBe(true);
    expect(ids(state.board!)).toEqual(['a']);
    expect(syncRequest(state)).toEqual({ type: 'board_sync', board: null, since: null });
    state = feed(state, ...snapshotParts({ ...withObjects('b'), seq: 2 }, 10));
    expect(ids(state.board!)).toEqual(['b']);
    expect(state.whole).toBe(false);
  });

  it('keeps its board across a rejoin and asks only for what it missed', () => {
    const before = feed(loaded('a', 'b'), add(3, 'c'));
    const state = boardFromSnapshot(features({ board: boardSummary({ seq: 7 }) }), before);
    expect(state.board).toBe(before.board);
    expect(state.syncing).toBe(true);
    expect(syncRequest(state)).toEqual({ type: 'board_sync', board: 'b1', since: 3 });
    expect(state.summary.seq).toBe(7);
  });

  it('counts changes to the board itself, not the first arrival, annotations or access', () => {
    let state = loaded('a');
    expect(state.revision).toBe(0);
    state = feed(state, add(2, 'b'));
    expect(state.revision).toBe(1);
    state = feed(state, op(3, { op: 'add_page', page: 'ann', index: 9, annotates: 'bob-2' }), add(4, 'n', 'ann'));
    state = feed(state, op(5, { op: 'access', access: { everyone: true, drawers: [] } }));
    expect(state.revision).toBe(1);
    state = feed(state, op(6, { op: 'annotates', page: 'ann', annotates: null }));
    expect(state.revision).toBe(2);
  });

  it('knows who may draw: hosts, everyone when opened, or the people named', () => {
    const ada = { identity: 'ada-1' };
    let state = loaded();
    expect(canDraw(state, ada, true)).toBe(true);
    expect(canDraw(state, ada, false)).toBe(false);
    state = feed(state, op(1, { op: 'access', access: { everyone: false, drawers: ['ada-1'] } }));
    expect(canDraw(state, ada, false)).toBe(true);
    expect(canDraw(joined({ access: { everyone: true, drawers: [] } }), ada, false)).toBe(true);
  });
});

describe('live strokes', () => {
  const live = (from: number, points: [number, number, number][], by = 'bob-2', id = 's1'): FeatureEvent => ({
    type: 'board_live',
    by,
    page: FIRST_PAGE,
    id,
    shape: { kind: 'pen', points },
    style: { color: '#000000', width: 10 },
    from,
  });
  const pointsOf = (state: BoardUiState, key = 'bob-2/s1') => {
    const shape = state.live[key]?.shape;
    return shape && 'points' in shape ? shape.points.map((p) => p[0]) : null;
  };

  it('grow from `from`, replacing what was there, and start afresh from 0', () => {
    let state = loaded();
    state = boardReducer(state, live(0, [[1, 0, 50], [2, 0, 50]]), 1000);
    state = boardReducer(state, live(2, [[3, 0, 50], [4, 0, 50]]), 1010);
    expect(pointsOf(state)).toEqual([1, 2, 3, 4]);
    state = boardReducer(state, live(3, [[9, 0, 50]]), 1020);
    expect(pointsOf(state)).toEqual([1, 2, 3, 9]);
    // Some went missing on the way: these follow what is held.
    state = boardReducer(state, live(10, [[11, 0, 50]]), 1030);
    expect(pointsOf(state)).toEqual([1, 2, 3, 9, 11]);
    state = boardReducer(state, live(0, [[7, 0, 50]]), 1040);
    expect(pointsOf(state)).toEqual([7]);
    expect(liveOn(state, [FIRST_PAGE]).map((l) => l.id)).toEqual(['s1']);
    expect(liveOn(state, ['elsewhere'])).toEqual([]);
  });

  it('are replaced whole for shapes, kept apart per person', () => {
    let state = loaded();
    const rect = (to: [number, number], by = 'bob-2'): FeatureEvent => ({
      type: 'board_live',
      by,
      page: FIRST_PAGE,
      id: 'r1',
      shape: { kind: 'rect', from: [0, 0], to },
      style: { color: '#000000', width: 10 },
      from: 0,
    });
    state = boardReducer(state, rect([10, 10]), 1000);
    state = boardReducer(state, rect([20, 30]), 1010);
    state = boardReducer(state, rect([5, 5], 'cat-3'), 1010);
    expect(state.live['bob-2/r1']?.shape).toEqual({ kind: 'rect', from: [0, 0], to: [20, 30] });
    expect(Object.keys(state.live).sort()).toEqual(['bob-2/r1', 'cat-3/r1']);
    expect(liveOn(state, [FIRST_PAGE], { by: new Set(['cat-3']) }).map((l) => l.by)).toEqual(['cat-3']);
  });

  it('go when the board_op adding the object comes, or after 5 s without news', () => {
    let state = loaded();
    state = boardReducer(state, live(0, [[1, 0, 50]]), 1000);
    state = boardReducer(state, live(0, [[1, 0, 50]], 'cat-3', 'c1'), 1000);
    state = boardReducer(state, add(1, 's1'), 1100);
    expect(Object.keys(state.live)).toEqual(['cat-3/c1']);
    expect(liveOn(state, [FIRST_PAGE], { now: 1000 + LIVE_TIMEOUT_MS - 1 })).toHaveLength(1);
    expect(liveOn(state, [FIRST_PAGE], { now: 1000 + LIVE_TIMEOUT_MS })).toHaveLength(0);
    state = boardReducer(state, live(0, [[1, 0, 50]], 'dan-4', 'd1'), 1000 + LIVE_TIMEOUT_MS);
    expect(Object.keys(state.live)).toEqual(['dan-4/d1']);
  });

  it('leave the state alone for other features’ events', () => {
    const state = loaded();
    expect(boardReducer(state, { type: 'hand_queue', hands: [] })).toBe(state);
  });
});

describe('ids', () => {
  it('are valid and never the same twice', () => {
    const made = new Set(Array.from({ length: 50 }, () => newObjectId()));
    expect(made.size).toBe(50);
    for (const id of [...made, newPageId()]) expect(isValidId(id), id).toBe(true);
    expect(isValidId('with space')).toBe(false);
    expect(isValidId('x'.repeat(65))).toBe(false);
  });
});
