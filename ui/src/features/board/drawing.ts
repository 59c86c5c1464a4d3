/**
 * What drawing with a tool sends: while the pointer moves, `board_live` about every
 * `LIVE_INTERVAL_MS` (for a stroke only the points drawn since the last one, `from` being
 * the index of the first; any other shape whole), and when it is lifted the finished
 * object, once, for `board_add`. Pure apart from the callbacks it is given.
 */
import type { BoardObject, BoardRequest, Shape, Style } from '../../services/types';
import { MAX_POINTS } from './boardState';
import { clampToPage, hitObjects, type Point } from './geometry';

/** The tools of the board. */
export type Tool = 'pen' | 'highlighter' | 'eraser' | 'line' | 'arrow' | 'rect' | 'ellipse' | 'text';

/** The tools that draw with the pointer (the eraser and text work otherwise). */
export type DrawTool = Exclude<Tool, 'eraser' | 'text'>;

export const TOOLS: readonly { tool: Tool; label: string; key: string }[] = [
  { tool: 'pen', label: 'Pen', key: 'p' },
  { tool: 'highlighter', label: 'Highlighter', key: 'h' },
  { tool: 'eraser', label: 'Eraser', key: 'e' },
  { tool: 'line', label: 'Line', key: 'l' },
  { tool: 'arrow', label: 'Arrow', key: 'a' },
  { tool: 'rect', label: 'Rectangle', key: 'r' },
  { tool: 'ellipse', label: 'Ellipse', key: 'o' },
  { tool: 'text', label: 'Text', key: 't' },
];

export const isDrawTool = (tool: Tool): tool is DrawTool => tool !== 'eraser' && tool !== 'text';

/**
 * How often a stroke being drawn is sent to the others: about 30 times a second, as the
 * protocol asks. `board_live` has its own limit at the relay (40 a second), apart from
 * the signalling rate every other frame counts against.
 */
export const LIVE_INTERVAL_MS = 33;

/** Colours offered (the protocol's `#rrggbb`). */
export const PALETTE: readonly { color: string; name: string }[] = [
  { color: '#111827', name: 'Black' },
  { color: '#dc2626', name: 'Red' },
  { color: '#ea580c', name: 'Orange' },
  { color: '#ca8a04', name: 'Yellow' },
  { color: '#16a34a', name: 'Green' },
  { color: '#1d4ed8', name: 'Blue' },
  { color: '#7c3aed', name: 'Purple' },
  { color: '#ffffff', name: 'White' },
];

/** Line widths offered, in page units (a page is 16000 across), with the text size that goes with each. */
export const WIDTHS: readonly { width: number; textSize: number; name: string }[] = [
  { width: 24, textSize: 300, name: 'Fine' },
  { width: 48, textSize: 450, name: 'Medium' },
  { width: 96, textSize: 650, name: 'Bold' },
  { width: 192, textSize: 900, name: 'Heavy' },
];

/** A highlighter is this many times as wide as the pen of the same setting. */
export const HIGHLIGHTER_SCALE = 4;
/** The eraser's reach around the pointer, in page units. */
export const ERASER_RADIUS = 90;

/** The style an object drawn with `tool` gets. */
export function styleFor(tool: Tool, color: string, width: number, fill: boolean): Style {
  const w = tool === 'highlighter' ? Math.min(1000, width * HIGHLIGHTER_SCALE) : width;
  const style: Style = { color, width: Math.max(1, Math.min(1000, Math.round(w))) };
  if (fill && (tool === 'rect' || tool === 'ellipse')) style.fill = true;
  return style;
}

/** Whether `text` is a colour the protocol takes (`#rrggbb`). */
export const isColor = (text: string) => /^#[0-9a-fA-F]{6}$/.test(text);

/** A stroke point: on the page, whole units, pressure 0–100. */
export type PenPoint = readonly [number, number, number];

type Draft = {
  page: string;
  id: string;
  tool: DrawTool;
  style: Style;
  /** Stroke points so far (pen, highlighter). */
  points: [number, number, number][];
  /** A shape's two corners (line, arrow, rect, ellipse). */
  from: [number, number];
  to: [number, number];
  /** Points of the stroke already sent as `board_live`; for a shape, 1 once sent as it is now. */
  sent: number;
  lastLiveAt: number;
  /** Whether the shape changed since it was last sent. */
  dirty: boolean;
};

export type DrawingEnv = {
  /** Send a `board_live` (no answer awaited). */
  live: (request: Extract<BoardRequest, { type: 'board_live' }>) => void;
  /** Add a finished object to `page` (`board_add`). */
  add: (page: string, object: BoardObject) => void;
  newId: () => string;
  now: () => number;
  /** Who draws (the relay sets it anyway). */
  author: string;
  liveIntervalMs?: number;
};

const isStroke = (tool: DrawTool) => tool === 'pen' || tool === 'highlighter';

function shapeOf(d: Draft): Shape {
  switch (d.tool) {
    case 'pen':
    case 'highlighter':
      return { kind: d.tool, points: d.points };
    default:
      return { kind: d.tool, from: d.from, to: d.to };
  }
}

/**
 * One pointer drawing with a tool: `begin` at pointer down, `move` for each pointer
 * move, `end` at pointer up. It sends what the others should see as it goes, and adds
 * the finished object (a stroke longer than the protocol's 2000 points is finished there
 * and goes on as a new stroke).
 */
export class Drawing {
  private draft: Draft | null = null;

  constructor(private readonly env: DrawingEnv) {}

  /** The object being drawn, for showing it at once; null when idle. */
  get current(): { page: string; object: BoardObject } | null {
    const d = this.draft;
    if (d === null) return null;
    return { page: d.page, object: { id: d.id, author: this.env.author, shape: shapeOf(d), style: d.style } };
  }

  get active(): boolean {
    return this.draft !== null;
  }

  begin(tool: DrawTool, page: string, style: Style, point: PenPoint): void {
    const [x, y] = clampToPage([point[0], point[1]]);
    this.draft = {
      page,
      id: this.env.newId(),
      tool,
      style,
      points: isStroke(tool) ? [[x, y, point[2]]] : [],
      from: [x, y],
      to: [x, y],
      sent: 0,
      lastLiveAt: this.env.now(),
      dirty: true,
    };
  }

  move(point: PenPoint): void {
    const d = this.draft;
    if (d === null) return;
    const [x, y] = clampToPage([point[0], point[1]]);
    if (isStroke(d.tool)) {
      const last = d.points[d.points.length - 1];
      if (last && last[0] === x && last[1] === y) return;
      if (d.points.length >= MAX_POINTS) this.split();
      this.draft!.points.push([x, y, point[2]]);
    } else {
      if (d.to[0] === x && d.to[1] === y) return;
      d.to = [x, y];
      d.dirty = true;
    }
    const now = this.env.now();
    const draft = this.draft!;
    if (now - draft.lastLiveAt >= (this.env.liveIntervalMs ?? LIVE_INTERVAL_MS)) this.sendLive(now);
  }

  /** Lift the pointer: the finished object is added (nothing for a shape of no size). */
  end(): void {
    const d = this.draft;
    this.draft = null;
    if (d === null) return;
    if (!isStroke(d.tool) && d.from[0] === d.to[0] && d.from[1] === d.to[1]) return;
    this.env.add(d.page, { id: d.id, author: this.env.author, shape: shapeOf(d), style: d.style });
  }

  /** Give up the drawing (nothing is added; the others' preview goes stale). */
  cancel(): void {
    this.draft = null;
  }

  /** Send what the others have not seen yet. */
  private sendLive(now: number): void {
    const d = this.draft;
    if (d === null) return;
    d.lastLiveAt = now;
    const kind = d.tool;
    if (kind === 'pen' || kind === 'highlighter') {
      if (d.sent >= d.points.length) return;
      const from = d.sent;
      d.sent = d.points.length;
      this.env.live({
        type: 'board_live',
        page: d.page,
        id: d.id,
        shape: { kind, points: d.points.slice(from) },
        style: d.style,
        from,
      });
    } else if (d.dirty) {
      d.dirty = false;
      this.env.live({ type: 'board_live', page: d.page, id: d.id, shape: shapeOf(d), style: d.style, from: 0 });
    }
  }

  /** A stroke at the most points: add it, and go on from its last point as a new one. */
  private split(): void {
    const d = this.draft!;
    const last = d.points[d.points.length - 1]!;
    this.env.add(d.page, { id: d.id, author: this.env.author, shape: shapeOf(d), style: d.style });
    this.draft = { ...d, id: this.env.newId(), points: [[last[0], last[1], last[2]]], sent: 0 };
  }
}

/**
 * An eraser dragged over a page: the ids it touched so far, top first, each once. A
 * click touches what is under it.
 */
export class Erasing {
  private last: Point | null = null;
  readonly ids: string[] = [];

  constructor(private readonly radius: number = ERASER_RADIUS) {}

  /** The pointer is at `point` over `objects`; returns whether it touched anything new. */
  at(objects: readonly BoardObject[], point: Point): boolean {
    const from = this.last ?? point;
    this.last = point;
    let added = false;
    for (const id of hitObjects(objects, from, point, this.radius)) {
      if (!this.ids.includes(id)) {
        this.ids.push(id);
        added = true;
      }
    }
    return added;
  }
}

/** A text as the protocol takes it: no control characters but newlines, no `\r`; null when blank. */
export function cleanText(text: string): string | null {
  // eslint-disable-next-line no-control-regex
  const cleaned = text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, '');
  if (cleaned.trim() === '') return null;
  // The protocol's limit is 2000 bytes of UTF-8.
  let out = cleaned;
  while (new TextEncoder().encode(out).length > 2000) out = [...out].slice(0, -1).join('');
  return out;
}
