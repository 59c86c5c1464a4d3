import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '../../components/Toasts';
import { RoomScreen } from '../../screens/RoomScreen';
import * as service from '../../services/studyhall';
import { AppError, type BoardObject, type FeatureRequest, type Page, type RoomEvent, type RoomSnapshot } from '../../services/studyhall';
import { boardSummary, features, handlers, media, participant, resetHandlers, snapshot } from '../../test/serviceMock';
import { LIVE_INTERVAL_MS } from './drawing';

vi.mock('../../services/studyhall', async (importOriginal) =>
  (await import('../../test/serviceMock')).mockService(importOriginal),
);

vi.mock('jspdf', () => ({
  jsPDF: class {
    pages = 1;
    addPage() {
      this.pages += 1;
    }
    addImage() {}
    output() {
      return `data:application/pdf;filename=generated.pdf;base64,PDF${this.pages}`;
    }
  },
}));

/** Every canvas box is 1600 × 900 pixels: one pixel is ten page units. */
function layOut() {
  vi.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockReturnValue({
    x: 0,
    y: 0,
    left: 0,
    top: 0,
    width: 1600,
    height: 900,
    right: 1600,
    bottom: 900,
    toJSON: () => ({}),
  });
}

let getContext: ReturnType<typeof vi.fn>;

beforeEach(() => {
  // The test DOM has no 2D canvas; drawing is tested apart from it.
  getContext = vi.fn(() => null);
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(getContext as never);
});

afterEach(() => {
  cleanup();
  resetHandlers();
});

function renderRoom(snap: RoomSnapshot = snapshot()) {
  render(
    <ToastProvider>
      <RoomScreen snapshot={snap} invite="K7QX-29FD@192.168.1.20:7450" onExit={() => {}} />
    </ToastProvider>,
  );
}

function emit(event: RoomEvent) {
  act(() => handlers.room.forEach((h) => h(event)));
}

const id = (testId: string) => screen.getByTestId(testId);

function stroke(objectId: string, x = 100): BoardObject {
  return {
    id: objectId,
    author: 'bob-2',
    shape: { kind: 'pen', points: [[x, 100, 50], [x + 50, 150, 50]] },
    style: { color: '#1d4ed8', width: 30 },
  };
}

/** The relay's answer to a sync: the whole board in one part. */
function sendBoard(pages: Page[], seq: number, access = { everyone: false, drawers: [] as string[] }) {
  emit({
    type: 'feature',
    event: { type: 'board_snapshot', board: 'b1', seq, access, part: 0, last: true, pages },
  });
}

function sendOp(seq: number, change: Extract<RoomEvent, { type: 'feature' }>['event'] extends infer E ? (E extends { type: 'board_op'; change: infer C } ? C : never) : never) {
  emit({ type: 'feature', event: { type: 'board_op', seq, by: 'bob-2', at: 1, change } });
}

const sent = () => vi.mocked(service.featureRequest).mock.calls.map(([request]) => request);
const sentOf = (type: string) => sent().filter((r) => r.type === type);

function openBoard() {
  fireEvent.click(id('board-open'));
  return id('board-stage');
}

describe('keeping the whiteboard in step', () => {
  it('asks for the whole board after the snapshot, and only for what it missed after a rejoin', async () => {
    renderRoom();
    await waitFor(() => expect(sentOf('board_sync')).toEqual([{ type: 'board_sync', board: null, since: null }]));
    sendBoard([{ id: 'page-1', objects: [stroke('s1')] }], 5);

    emit({ type: 'resynced', snapshot: snapshot({ features: features({ board: boardSummary({ id: 'b1', seq: 9 }) }) }) });
    await waitFor(() => expect(sentOf('board_sync')).toHaveLength(2));
    expect(sentOf('board_sync')[1]).toEqual({ type: 'board_sync', board: 'b1', since: 5 });
  });

  it('asks again when a change went missing', async () => {
    renderRoom();
    await waitFor(() => expect(sentOf('board_sync')).toHaveLength(1));
    sendBoard([{ id: 'page-1', objects: [] }], 2);
    sendOp(3, { op: 'add', page: 'page-1', object: stroke('a') });
    expect(sentOf('board_sync')).toHaveLength(1);
    sendOp(5, { op: 'add', page: 'page-1', object: stroke('c') });
    await waitFor(() => expect(sentOf('board_sync')).toHaveLength(2));
    expect(sentOf('board_sync')[1]).toEqual({ type: 'board_sync', board: 'b1', since: 3 });
  });

  it('asks again a little later when the sync failed', async () => {
    vi.useFakeTimers();
    try {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      vi.mocked(service.featureRequest).mockRejectedValueOnce(new AppError('rateLimited', 'slow down'));
      renderRoom();
      await act(async () => {
        await vi.advanceTimersByTimeAsync(10);
      });
      expect(sentOf('board_sync')).toHaveLength(1);
      expect(warn).toHaveBeenCalled();
      await act(async () => {
        await vi.advanceTimersByTimeAsync(3_000);
      });
      expect(sentOf('board_sync')).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the whiteboard stage', () => {
  it('opens from the toolbar, large beside the cameras, loading until the board came', async () => {
    renderRoom();
    expect(screen.queryByTestId('board-stage')).toBeNull();
    const stage = openBoard();
    expect(id('board-open').getAttribute('aria-pressed')).toBe('true');
    expect(id('tiles').className).toBe('strip');
    expect(id('board-loading').textContent).toContain('Loading the whiteboard…');
    expect(within(stage).getByTestId('board-canvas').tagName).toBe('CANVAS');
    expect(stage.dataset.boardLoaded).toBe('false');

    await waitFor(() => expect(sentOf('board_sync')).toHaveLength(1));
    sendBoard([{ id: 'page-1', objects: [stroke('s1'), stroke('s2')] }], 7);
    expect(screen.queryByTestId('board-loading')).toBeNull();
    expect(stage.dataset.boardSeq).toBe('7');
    expect(stage.dataset.boardObjects).toBe('2');
    expect(stage.dataset.boardPage).toBe('page-1');
    sendOp(8, { op: 'erase', page: 'page-1', ids: ['s1'] });
    expect(stage.dataset.boardSeq).toBe('8');
    expect(stage.dataset.boardObjects).toBe('1');

    fireEvent.click(id('board-close'));
    expect(screen.queryByTestId('board-stage')).toBeNull();
    expect(id('tiles').className).toBe('grid');
  });

  it('shows a dot on the button when the board changed since the user last looked', () => {
    renderRoom();
    sendBoard([{ id: 'page-1', objects: [] }], 1);
    expect(screen.queryByTestId('board-changed')).toBeNull();
    sendOp(2, { op: 'add', page: 'page-1', object: stroke('a') });
    expect(id('board-changed')).toBeTruthy();
    openBoard();
    expect(screen.queryByTestId('board-changed')).toBeNull();
    sendOp(3, { op: 'add', page: 'page-1', object: stroke('b') });
    fireEvent.click(id('board-open'));
    expect(screen.queryByTestId('board-changed')).toBeNull();
    // An annotation or who may draw is no change to the board.
    sendOp(4, { op: 'access', access: { everyone: true, drawers: [] } });
    expect(screen.queryByTestId('board-changed')).toBeNull();
  });

  it('lets the user switch between the whiteboard and a shared screen', () => {
    renderRoom(snapshot({ participants: [participant('bob-2', 'Bob', { joinedAt: 2, media: media({ screen: true }) })] }));
    expect(id('screen-stage')).toBeTruthy();
    openBoard();
    expect(screen.queryByTestId('screen-stage')).toBeNull();
    fireEvent.click(id('stage-show-screen'));
    expect(id('screen-stage')).toBeTruthy();
    expect(screen.queryByTestId('board-stage')).toBeNull();
    expect(id('board-open').getAttribute('aria-pressed')).toBe('false');
    fireEvent.click(id('stage-show-feature'));
    expect(id('board-stage')).toBeTruthy();
    expect(id('stage-show-feature').textContent).toBe('Whiteboard');
  });

  it('draws a stroke: live messages with the new points as the pen moves, then one board_add', () => {
    layOut();
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    renderRoom();
    sendBoard([{ id: 'page-1', objects: [] }], 0);
    openBoard();
    const canvas = id('board-canvas');
    fireEvent.pointerDown(canvas, { clientX: 100, clientY: 100, pointerId: 1, pointerType: 'mouse', button: 0 });
    for (let i = 1; i <= 8; i++) {
      now += LIVE_INTERVAL_MS / 2;
      fireEvent.pointerMove(canvas, { clientX: 100 + i * 10, clientY: 100 + i, pointerId: 1, pointerType: 'mouse' });
    }
    fireEvent.pointerUp(canvas, { clientX: 180, clientY: 108, pointerId: 1, pointerType: 'mouse' });

    const live = sentOf('board_live') as Extract<FeatureRequest, { type: 'board_live' }>[];
    expect(live.map((l) => l.from)).toEqual([0, 3, 5, 7]);
    const adds = sentOf('board_add') as Extract<FeatureRequest, { type: 'board_add' }>[];
    expect(adds).toHaveLength(1);
    const [added] = adds;
    expect(added!.page).toBe('page-1');
    expect(live.every((l) => l.id === added!.object.id)).toBe(true);
    expect(added!.object.shape).toEqual({
      kind: 'pen',
      points: Array.from({ length: 9 }, (_, i) => [1000 + i * 100, 1000 + i * 10, 50]),
    });
    expect(added!.object.style).toEqual({ color: '#111827', width: 48 });
  });

  it('adds a rectangle, a text typed where clicked, and erases what the eraser touched', () => {
    layOut();
    renderRoom();
    sendBoard([{ id: 'page-1', objects: [stroke('s1', 5000)] }], 1);
    openBoard();
    const canvas = id('board-canvas');
    fireEvent.click(id('board-tool-rect'));
    expect(id('board-tool-rect').getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(id('board-fill'));
    fireEvent.pointerDown(canvas, { clientX: 10, clientY: 20, pointerId: 1, button: 0 });
    fireEvent.pointerMove(canvas, { clientX: 110, clientY: 220, pointerId: 1 });
    fireEvent.pointerUp(canvas, { pointerId: 1 });
    expect(sentOf('board_add').at(-1)).toMatchObject({
      object: { shape: { kind: 'rect', from: [100, 200], to: [1100, 2200] }, style: { fill: true } },
    });

    fireEvent.click(id('board-tool-text'));
    fireEvent.pointerDown(canvas, { clientX: 300, clientY: 400, pointerId: 1, button: 0 });
    const input = id('board-text-input');
    fireEvent.change(input, { target: { value: 'x² + y²' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(sentOf('board_add').at(-1)).toMatchObject({
      object: { shape: { kind: 'text', at: [3000, 4000], text: 'x² + y²', size: 450 } },
    });
    expect(screen.queryByTestId('board-text-input')).toBeNull();

    fireEvent.click(id('board-tool-eraser'));
    // Dragged across the stroke (x 5000–5050, y 100–150) without an event on it.
    fireEvent.pointerDown(canvas, { clientX: 400, clientY: 12, pointerId: 1, button: 0 });
    fireEvent.pointerMove(canvas, { clientX: 600, clientY: 12, pointerId: 1 });
    fireEvent.pointerUp(canvas, { pointerId: 1 });
    expect(sentOf('board_erase')).toEqual([{ type: 'board_erase', page: 'page-1', ids: ['s1'] }]);
  });

  it('undoes and redoes from the buttons and the keyboard, and clears a page after asking', () => {
    renderRoom();
    sendBoard([{ id: 'page-1', objects: [stroke('s1')] }], 1);
    openBoard();
    fireEvent.click(id('board-undo'));
    fireEvent.click(id('board-redo'));
    fireEvent.keyDown(window, { key: 'z', ctrlKey: true });
    fireEvent.keyDown(window, { key: 'Z', ctrlKey: true, shiftKey: true });
    fireEvent.keyDown(window, { key: 'y', ctrlKey: true });
    expect(sent().map((r) => r.type).filter((t) => t !== 'board_sync')).toEqual([
      'board_undo',
      'board_redo',
      'board_undo',
      'board_redo',
      'board_redo',
    ]);

    fireEvent.click(id('board-clear'));
    fireEvent.click(within(id('board-clear-dialog')).getByTestId('confirm-cancel'));
    expect(sentOf('board_clear')).toEqual([]);
    fireEvent.click(id('board-clear'));
    fireEvent.click(within(id('board-clear-dialog')).getByTestId('confirm-ok'));
    expect(sentOf('board_clear')).toEqual([{ type: 'board_clear', page: 'page-1' }]);
  });

  it("says in a toast why the relay refused", async () => {
    renderRoom();
    sendBoard([{ id: 'page-1', objects: [] }], 0);
    openBoard();
    vi.mocked(service.featureRequest).mockRejectedValueOnce(new AppError('refused', 'nothing of yours to undo'));
    fireEvent.click(id('board-undo'));
    expect((await screen.findByTestId('toast')).textContent).toContain("Couldn't undo: nothing of yours to undo");
  });

  it('picks a tool by its key, but not while typing', () => {
    renderRoom();
    sendBoard([{ id: 'page-1', objects: [] }], 1);
    openBoard();
    fireEvent.keyDown(window, { key: 'r' });
    expect(id('board-tool-rect').getAttribute('aria-pressed')).toBe('true');
    fireEvent.keyDown(window, { key: 'E' });
    expect(id('board-tool-eraser').getAttribute('aria-pressed')).toBe('true');
    const input = document.createElement('input');
    document.body.appendChild(input);
    fireEvent.keyDown(input, { key: 'p' });
    expect(id('board-tool-eraser').getAttribute('aria-pressed')).toBe('true');
    input.remove();
  });

  it('follows the page where someone else draws, until you choose one; Follow takes you back', () => {
    renderRoom();
    sendBoard(
      [
        { id: 'page-1', objects: [] },
        { id: 'p2', objects: [] },
        { id: 'p3', objects: [] },
      ],
      1,
    );
    const stage = openBoard();
    expect(stage.dataset.boardPage).toBe('page-1');
    // Bob turns to page 3 and draws: we see page 3.
    sendOp(2, { op: 'add', page: 'p3', object: stroke('b1') });
    expect(stage.dataset.boardPage).toBe('p3');
    expect(screen.queryByTestId('board-follow')).toBeNull();
    // We look back at page 1; Bob's next stroke on page 2 does not move us.
    fireEvent.click(id('board-page-1'));
    sendOp(3, { op: 'add', page: 'p2', object: stroke('b2') });
    expect(stage.dataset.boardPage).toBe('page-1');
    expect(id('board-follow').textContent).toContain('Follow');
    fireEvent.click(id('board-follow'));
    expect(stage.dataset.boardPage).toBe('p2');
    expect(screen.queryByTestId('board-follow')).toBeNull();
  });

  it('lists the board’s pages (not annotation pages), and adds, moves and removes them', () => {
    renderRoom();
    sendBoard(
      [
        { id: 'page-1', objects: [stroke('a')] },
        { id: 'ann', annotates: 'bob-2', objects: [] },
        { id: 'p2', objects: [] },
      ],
      4,
    );
    const stage = openBoard();
    expect(screen.queryByTestId('board-page-3')).toBeNull();
    expect(id('board-page-label').textContent).toBe('Page 1 of 2');
    fireEvent.click(id('board-page-next'));
    expect(stage.dataset.boardPage).toBe('p2');
    expect(id('board-page-2').getAttribute('aria-current')).toBe('page');

    fireEvent.click(id('board-page-left'));
    expect(sentOf('board_move_page')).toEqual([{ type: 'board_move_page', page: 'p2', index: 0 }]);
    sendOp(5, { op: 'move_page', page: 'p2', index: 0 });
    expect(stage.dataset.boardPage).toBe('p2');
    expect(id('board-page-label').textContent).toBe('Page 1 of 2');
    // p2 is at 0, page-1 at 1: after page-1 is index 1 once p2 is taken out.
    fireEvent.click(id('board-page-right'));
    expect(sentOf('board_move_page')[1]).toEqual({ type: 'board_move_page', page: 'p2', index: 1 });

    fireEvent.click(id('board-page-add'));
    const [addPage] = sentOf('board_add_page') as Extract<FeatureRequest, { type: 'board_add_page' }>[];
    expect(addPage).toMatchObject({ type: 'board_add_page', index: 1, annotates: null });
    expect(addPage!.page).toMatch(/^page-[a-z0-9]+-[a-z0-9]+$/);
    sendOp(6, { op: 'add_page', page: addPage!.page, index: 1 });
    expect(stage.dataset.boardPage).toBe(addPage!.page);
    expect(id('board-page-label').textContent).toBe('Page 2 of 3');

    fireEvent.click(id('board-page-remove'));
    fireEvent.click(within(id('board-remove-dialog')).getByTestId('confirm-ok'));
    expect(sentOf('board_remove_page')).toEqual([{ type: 'board_remove_page', page: addPage!.page }]);
    sendOp(7, { op: 'remove_page', page: addPage!.page });
    expect(id('board-page-label').textContent).toBe('Page 2 of 2');
  });

  it('is read-only, with a note, for those who may not draw', () => {
    renderRoom(snapshot({ you: participant('ada-1', 'Ada', { you: true, host: false }) }));
    sendBoard([{ id: 'page-1', objects: [] }], 0);
    openBoard();
    expect(id('board-readonly').textContent).toBe('Only hosts and presenters draw here.');
    expect(screen.queryByTestId('board-tool-pen')).toBeNull();
    expect(screen.queryByTestId('board-page-add')).toBeNull();
    expect(screen.queryByTestId('board-access')).toBeNull();
    sendOp(1, { op: 'access', access: { everyone: false, drawers: ['cat-3'] } });
    expect(id('board-readonly').textContent).toBe('Only hosts, presenters and the people a host chose draw here.');
    sendOp(2, { op: 'access', access: { everyone: false, drawers: ['ada-1'] } });
    expect(screen.queryByTestId('board-readonly')).toBeNull();
    expect(id('board-tool-pen')).toBeTruthy();
  });

  it('lets a host open drawing to everyone or to people chosen', () => {
    renderRoom(
      snapshot({
        participants: [participant('bob-2', 'Bob', { joinedAt: 2 }), participant('cat-3', 'Cat', { joinedAt: 3 })],
      }),
    );
    sendBoard([{ id: 'page-1', objects: [] }], 0);
    openBoard();
    fireEvent.click(id('board-access'));
    expect(id('board-access-hosts')).toHaveProperty('checked', true);
    fireEvent.click(id('board-access-everyone'));
    expect(sentOf('board_set_access').at(-1)).toEqual({ type: 'board_set_access', access: { everyone: true, drawers: [] } });
    sendOp(1, { op: 'access', access: { everyone: true, drawers: [] } });
    fireEvent.click(id('board-access-chosen'));
    expect(sentOf('board_set_access').at(-1)).toEqual({ type: 'board_set_access', access: { everyone: false, drawers: [] } });
    sendOp(2, { op: 'access', access: { everyone: false, drawers: [] } });
    fireEvent.click(id('board-drawer-cat-3'));
    expect(sentOf('board_set_access').at(-1)).toEqual({
      type: 'board_set_access',
      access: { everyone: false, drawers: ['cat-3'] },
    });
  });

  it('saves the page as PNG and the board as PDF, and says where', async () => {
    getContext.mockReturnValue(fakeContext());
    vi.spyOn(HTMLCanvasElement.prototype, 'toDataURL').mockReturnValue('data:image/png;base64,UE5H');
    renderRoom();
    sendBoard(
      [
        { id: 'page-1', objects: [stroke('a')] },
        { id: 'ann', annotates: 'bob-2', objects: [] },
        { id: 'p2', objects: [] },
      ],
      3,
    );
    openBoard();
    fireEvent.click(id('board-save'));
    fireEvent.click(id('board-save-png'));
    await waitFor(() => expect(service.saveExport).toHaveBeenCalledWith('Finals week board page 1.png', 'UE5H'));
    expect((await screen.findByText(/Saved to/)).textContent).toBe('Saved to /home/ada/Downloads/Finals week board page 1.png');

    await waitFor(() => expect(id('board-save')).toHaveProperty('disabled', false));
    fireEvent.click(id('board-save'));
    fireEvent.click(id('board-save-pdf'));
    // Two pages of the board (the annotation page is not one).
    await waitFor(() => expect(service.saveExport).toHaveBeenCalledWith('Finals week board.pdf', 'PDF2'));

    await waitFor(() => expect(id('board-save')).toHaveProperty('disabled', false));
    vi.mocked(service.saveExport).mockClear();
    fireEvent.click(id('board-save'));
    fireEvent.click(id('board-save-pngs'));
    await waitFor(() => expect(service.saveExport).toHaveBeenCalledTimes(2));
    expect(vi.mocked(service.saveExport).mock.calls.map(([name]) => name)).toEqual([
      'Finals week board page 1.png',
      'Finals week board page 2.png',
    ]);
    expect((await screen.findByText(/Saved 2 pictures/)).textContent).toContain('the last is');
  });
});

describe('annotations over a shared screen', () => {
  const sharing = () =>
    snapshot({ participants: [participant('bob-2', 'Bob', { joinedAt: 2, media: media({ screen: true }) })] });

  it('lets a drawer annotate: the first stroke makes the annotation page, then goes on it', async () => {
    layOut();
    renderRoom(sharing());
    sendBoard([{ id: 'page-1', objects: [] }], 0);
    const layer = within(id('screen-stage')).getByTestId('annotations-bob-2');
    fireEvent.click(within(layer).getByTestId('annotate-toggle'));
    fireEvent.click(within(layer).getByTestId('board-tool-line'));
    const canvas = within(layer).getByTestId('annotation-canvas');
    fireEvent.pointerDown(canvas, { clientX: 10, clientY: 10, pointerId: 1, button: 0 });
    fireEvent.pointerMove(canvas, { clientX: 1590, clientY: 890, pointerId: 1 });
    fireEvent.pointerUp(canvas, { pointerId: 1 });

    const [made] = sentOf('board_add_page') as Extract<FeatureRequest, { type: 'board_add_page' }>[];
    expect(made).toMatchObject({ index: null, annotates: 'bob-2' });
    await waitFor(() => expect(sentOf('board_add')).toHaveLength(1));
    expect(sentOf('board_add')[0]).toMatchObject({
      page: made!.page,
      object: { shape: { kind: 'line', from: [100, 100], to: [15900, 8900] } },
    });

    // Once there, the next stroke goes straight on it.
    sendOp(1, { op: 'add_page', page: made!.page, index: 1, annotates: 'bob-2' });
    fireEvent.pointerDown(canvas, { clientX: 20, clientY: 10, pointerId: 1, button: 0 });
    fireEvent.pointerMove(canvas, { clientX: 40, clientY: 30, pointerId: 1 });
    fireEvent.pointerUp(canvas, { pointerId: 1 });
    expect(sentOf('board_add_page')).toHaveLength(1);
    expect(sentOf('board_add')).toHaveLength(2);
  });

  it('shows the annotations to everyone, and no Annotate to those who may not draw', () => {
    renderRoom(snapshot({ ...sharing(), you: participant('ada-1', 'Ada', { you: true, host: false }) }));
    sendBoard(
      [
        { id: 'page-1', objects: [] },
        { id: 'ann', annotates: 'bob-2', objects: [stroke('n1'), stroke('n2')] },
      ],
      2,
    );
    const layer = within(id('screen-stage')).getByTestId('annotations-bob-2');
    expect(layer.dataset.annotationObjects).toBe('2');
    expect(within(layer).queryByTestId('annotate-toggle')).toBeNull();
  });

  it('asks a drawer whether to keep the annotations once the share ended', () => {
    renderRoom();
    sendBoard(
      [
        { id: 'page-1', objects: [] },
        { id: 'ann', annotates: 'bob-2', objects: [stroke('n1')] },
      ],
      2,
    );
    expect(id('board-keep-prompt').textContent).toContain('Keep the annotations as a whiteboard page?');
    fireEvent.click(id('board-keep'));
    expect(sentOf('board_keep_page')).toEqual([{ type: 'board_keep_page', page: 'ann' }]);
    sendOp(3, { op: 'annotates', page: 'ann', annotates: null });
    expect(screen.queryByTestId('board-keep-prompt')).toBeNull();

    sendOp(4, { op: 'add_page', page: 'ann2', index: 9, annotates: 'bob-2' });
    expect(id('board-keep-prompt').dataset.page).toBe('ann2');
    fireEvent.click(id('board-discard'));
    expect(sentOf('board_remove_page')).toEqual([{ type: 'board_remove_page', page: 'ann2' }]);
  });

  it('does not ask while the share goes on', () => {
    renderRoom(sharing());
    sendBoard(
      [
        { id: 'page-1', objects: [] },
        { id: 'ann', annotates: 'bob-2', objects: [stroke('n1')] },
      ],
      2,
    );
    expect(screen.queryByTestId('board-keep-prompt')).toBeNull();
  });
});

/** A 2D context that draws nothing. */
function fakeContext(): CanvasRenderingContext2D {
  return new Proxy({} as CanvasRenderingContext2D, {
    get: (target, key): unknown => (key in target ? (Reflect.get(target, key) as unknown) : () => {}),
    set: (target, key, value) => Reflect.set(target, key, value),
  });
}
