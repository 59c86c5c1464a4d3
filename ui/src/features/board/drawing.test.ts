import { describe, expect, it } from 'vitest';
import type { BoardObject, BoardRequest } from '../../services/types';
import { MAX_POINTS } from './boardState';
import { cleanText, Drawing, Erasing, LIVE_INTERVAL_MS, styleFor } from './drawing';

type Live = Extract<BoardRequest, { type: 'board_live' }>;

/** A drawing with a clock the test moves, and what it sent. */
function setup() {
  const sent: { live: Live[]; added: { page: string; object: BoardObject }[] } = { live: [], added: [] };
  let now = 0;
  let n = 0;
  const drawing = new Drawing({
    live: (request) => sent.live.push(request),
    add: (page, object) => sent.added.push({ page, object }),
    newId: () => `id-${++n}`,
    now: () => now,
    author: 'ada-1',
  });
  return {
    drawing,
    sent,
    tick: (ms: number) => {
      now += ms;
    },
  };
}

const style = { color: '#1d4ed8', width: 30 };
const pointsOf = (shape: { kind: string }) => ('points' in shape ? (shape.points as number[][]) : []);

describe('drawing a stroke', () => {
  it('sends the new points as board_live about every interval, `from` counting those sent, then one board_add', () => {
    const { drawing, sent, tick } = setup();
    drawing.begin('pen', 'page-1', style, [100, 100, 50]);
    for (let i = 1; i <= 12; i++) {
      tick(LIVE_INTERVAL_MS / 4);
      drawing.move([100 + i * 10, 100, 40 + i]);
    }
    expect(sent.live.map((l) => l.from)).toEqual([0, 5, 9]);
    expect(sent.live.map((l) => pointsOf(l.shape).length)).toEqual([5, 4, 4]);
    expect(sent.live.every((l) => l.id === 'id-1' && l.page === 'page-1' && l.shape.kind === 'pen')).toBe(true);
    // Together they are the stroke, in order.
    expect(sent.live.flatMap((l) => pointsOf(l.shape)).map((p) => p[0])).toEqual(
      Array.from({ length: 13 }, (_, i) => 100 + i * 10),
    );
    expect(sent.added).toEqual([]);

    drawing.end();
    expect(sent.added).toHaveLength(1);
    const [{ page, object }] = sent.added as [{ page: string; object: BoardObject }];
    expect(page).toBe('page-1');
    expect(object.id).toBe('id-1');
    expect(object.style).toEqual(style);
    expect(pointsOf(object.shape)).toHaveLength(13);
    expect(pointsOf(object.shape)[12]).toEqual([220, 100, 52]);
    expect(drawing.active).toBe(false);
  });

  it('clamps points to the page and skips a point that did not move', () => {
    const { drawing, sent } = setup();
    drawing.begin('highlighter', 'p', style, [-40, 20000, 50]);
    drawing.move([-40, 20000, 50]);
    drawing.move([16_500.6, 3, 70]);
    drawing.end();
    expect(pointsOf(sent.added[0]!.object.shape)).toEqual([
      [0, 9000, 50],
      [16000, 3, 70],
    ]);
    expect(sent.added[0]!.object.shape.kind).toBe('highlighter');
  });

  it('finishes a stroke at 2000 points and goes on as a new one from its last point', () => {
    const { drawing, sent } = setup();
    drawing.begin('pen', 'p', style, [0, 0, 50]);
    for (let i = 1; i < MAX_POINTS + 10; i++) drawing.move([i % 16000, Math.floor(i / 16000), 50]);
    drawing.end();
    expect(sent.added.map((a) => a.object.id)).toEqual(['id-1', 'id-2']);
    const first = pointsOf(sent.added[0]!.object.shape);
    const second = pointsOf(sent.added[1]!.object.shape);
    expect(first).toHaveLength(MAX_POINTS);
    expect(second[0]).toEqual(first[first.length - 1]);
    expect(second).toHaveLength(11);
  });

  it('is a dot when the pointer did not move', () => {
    const { drawing, sent } = setup();
    drawing.begin('pen', 'p', style, [50, 60, 50]);
    drawing.end();
    expect(pointsOf(sent.added[0]!.object.shape)).toEqual([[50, 60, 50]]);
  });
});

describe('drawing a shape', () => {
  it('sends the whole shape live (from 0) when it changed, and adds it once', () => {
    const { drawing, sent, tick } = setup();
    drawing.begin('rect', 'p', { ...style, fill: true }, [10, 20, 50]);
    tick(LIVE_INTERVAL_MS);
    drawing.move([100, 200, 50]);
    tick(LIVE_INTERVAL_MS);
    drawing.move([100, 200, 50]);
    tick(LIVE_INTERVAL_MS);
    drawing.move([300, 400, 50]);
    expect(sent.live.map((l) => [l.from, l.shape])).toEqual([
      [0, { kind: 'rect', from: [10, 20], to: [100, 200] }],
      [0, { kind: 'rect', from: [10, 20], to: [300, 400] }],
    ]);
    expect(drawing.current?.object.shape).toEqual({ kind: 'rect', from: [10, 20], to: [300, 400] });
    drawing.end();
    expect(sent.added.map((a) => a.object)).toEqual([
      { id: 'id-1', author: 'ada-1', shape: { kind: 'rect', from: [10, 20], to: [300, 400] }, style: { ...style, fill: true } },
    ]);
  });

  it('adds nothing for a click (a shape of no size) or a cancelled drawing', () => {
    const { drawing, sent } = setup();
    drawing.begin('arrow', 'p', style, [10, 20, 50]);
    drawing.end();
    drawing.begin('line', 'p', style, [10, 20, 50]);
    drawing.move([30, 40, 50]);
    drawing.cancel();
    drawing.end();
    expect(sent.added).toEqual([]);
  });
});

describe('the eraser', () => {
  const line = (id: string, x: number): BoardObject => ({
    id,
    author: 'a',
    shape: { kind: 'line', from: [x, 0], to: [x, 9000] },
    style,
  });

  it('collects each object it went over once, along its way', () => {
    const objects = [line('a', 1000), line('b', 2000), line('c', 3000)];
    const eraser = new Erasing(40);
    expect(eraser.at(objects, [500, 100])).toBe(false);
    expect(eraser.at(objects, [2500, 100])).toBe(true);
    expect(eraser.at(objects, [2000, 300])).toBe(false);
    expect(eraser.ids).toEqual(['b', 'a']);
  });
});

describe('styles and text', () => {
  it('widens the highlighter and fills only rectangles and ellipses', () => {
    expect(styleFor('pen', '#111827', 30, true)).toEqual({ color: '#111827', width: 30 });
    expect(styleFor('highlighter', '#ca8a04', 30, false)).toEqual({ color: '#ca8a04', width: 120 });
    expect(styleFor('highlighter', '#ca8a04', 400, false).width).toBe(1000);
    expect(styleFor('ellipse', '#111827', 30, true)).toEqual({ color: '#111827', width: 30, fill: true });
  });

  it('keeps text the protocol takes: newlines, no other control characters, not blank', () => {
    expect(cleanText('a\r\nb\tc\u0007')).toBe('a\nbc');
    expect(cleanText('  \n ')).toBeNull();
    expect(new TextEncoder().encode(cleanText('é'.repeat(1500))!).length).toBeLessThanOrEqual(2000);
  });
});
