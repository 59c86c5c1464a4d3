/**
 * Where things are on a whiteboard page: page units (16000 × 9000, the protocol's) against
 * pixels of a canvas, and which objects a point touches (the eraser). Pure, no DOM.
 */
import type { BoardObject, Shape } from '../../services/types';

/** Width of a page in page units (protocol `PAGE_WIDTH`). */
export const PAGE_WIDTH = 16_000;
/** Height of a page in page units (protocol `PAGE_HEIGHT`). */
export const PAGE_HEIGHT = 9_000;
/** Largest pressure of a point (a full press). */
export const MAX_PRESSURE = 100;

/** A point on the page, `[x, y]`, in page units. */
export type Point = readonly [number, number];

/**
 * Where the page is drawn inside a box of pixels: its top-left corner and how many
 * pixels one page unit is, across and down (the same for a board page, which keeps its
 * 16:9; they may differ over a shared screen of another shape).
 */
export type Viewport = { left: number; top: number; scaleX: number; scaleY: number };

/** The page fitted (letterboxed) in a `width` × `height` box, keeping its 16:9, centred. */
export function fitPage(width: number, height: number): Viewport {
  const w = Math.max(0, width);
  const h = Math.max(0, height);
  const scale = Math.min(w / PAGE_WIDTH, h / PAGE_HEIGHT);
  return {
    left: (w - PAGE_WIDTH * scale) / 2,
    top: (h - PAGE_HEIGHT * scale) / 2,
    scaleX: scale,
    scaleY: scale,
  };
}

/**
 * The page stretched over the picture of `aspect` (width / height) as it is shown,
 * letterboxed, in a `width` × `height` box: an annotation page covers the shared screen
 * whatever its shape, so a point means the same place of the screen for everyone.
 */
export function fitOver(width: number, height: number, aspect: number): Viewport {
  const w = Math.max(0, width);
  const h = Math.max(0, height);
  const a = Number.isFinite(aspect) && aspect > 0 ? aspect : PAGE_WIDTH / PAGE_HEIGHT;
  const shownWidth = Math.min(w, h * a);
  const shownHeight = shownWidth / a;
  return {
    left: (w - shownWidth) / 2,
    top: (h - shownHeight) / 2,
    scaleX: shownWidth / PAGE_WIDTH,
    scaleY: shownHeight / PAGE_HEIGHT,
  };
}

/** A page point in pixels of the box. */
export function pageToPixel(v: Viewport, [x, y]: Point): [number, number] {
  return [v.left + x * v.scaleX, v.top + y * v.scaleY];
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** A pixel of the box as a page point: whole page units, clamped to the page. */
export function pixelToPage(v: Viewport, [px, py]: Point): [number, number] {
  const x = v.scaleX > 0 ? (px - v.left) / v.scaleX : 0;
  const y = v.scaleY > 0 ? (py - v.top) / v.scaleY : 0;
  return clampToPage([x, y]);
}

/** A point moved onto the page, in whole page units. */
export function clampToPage([x, y]: Point): [number, number] {
  const fix = (n: number) => (Number.isFinite(n) ? Math.round(n) : 0);
  return [clamp(fix(x), 0, PAGE_WIDTH), clamp(fix(y), 0, PAGE_HEIGHT)];
}

/** A pointer's pressure (0–1; `undefined` or 0 from a mouse) as the protocol's 0–100. */
export function pressureOf(pressure: number | undefined, pointerType?: string): number {
  if (pointerType === 'mouse' || pressure === undefined || !Number.isFinite(pressure) || pressure <= 0) return 50;
  return clamp(Math.round(pressure * MAX_PRESSURE), 0, MAX_PRESSURE);
}

/** Distance from `p` to the segment `a`–`b`. */
export function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const length2 = dx * dx + dy * dy;
  const t = length2 === 0 ? 0 : clamp(((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2, 0, 1);
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

/** Distance from `p` to a line through `points`, in order. */
function distanceToPolyline(p: Point, points: readonly Point[]): number {
  if (points.length === 0) return Infinity;
  if (points.length === 1) return Math.hypot(p[0] - points[0]![0], p[1] - points[0]![1]);
  let best = Infinity;
  for (let i = 1; i < points.length; i++) best = Math.min(best, distanceToSegment(p, points[i - 1]!, points[i]!));
  return best;
}

/** The box between two corners, as `[minX, minY, maxX, maxY]`. */
export function boxOf(from: Point, to: Point): [number, number, number, number] {
  return [Math.min(from[0], to[0]), Math.min(from[1], to[1]), Math.max(from[0], to[0]), Math.max(from[1], to[1])];
}

/** Points around an ellipse in the box between two corners. */
export function ellipsePoints(from: Point, to: Point, steps = 64): Point[] {
  const [x0, y0, x1, y1] = boxOf(from, to);
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const rx = (x1 - x0) / 2;
  const ry = (y1 - y0) / 2;
  const out: Point[] = [];
  for (let i = 0; i <= steps; i++) {
    const a = (i / steps) * Math.PI * 2;
    out.push([cx + rx * Math.cos(a), cy + ry * Math.sin(a)]);
  }
  return out;
}

/** How wide a character of a text is taken to be, as a share of its line height. */
export const TEXT_CHAR_WIDTH = 0.55;
/** The font size of a text, as a share of its line height (`size`). */
export const TEXT_FONT_SHARE = 0.8;

/** The box a text takes: its longest line across, its lines down (an estimate). */
export function textBox(at: Point, text: string, size: number): [number, number, number, number] {
  const lines = text.split('\n');
  const longest = Math.max(...lines.map((l) => [...l].length));
  return [at[0], at[1], at[0] + longest * size * TEXT_CHAR_WIDTH, at[1] + lines.length * size];
}

/** The head of an arrow from `from` to `to`: its two back corners (page units). */
export function arrowHead(from: Point, to: Point, width: number): [Point, Point] {
  const angle = Math.atan2(to[1] - from[1], to[0] - from[0]);
  const length = Math.max(width * 4, 160);
  const spread = Math.PI / 7;
  return [
    [to[0] - length * Math.cos(angle - spread), to[1] - length * Math.sin(angle - spread)],
    [to[0] - length * Math.cos(angle + spread), to[1] - length * Math.sin(angle + spread)],
  ];
}

/** How far `p` is from what `shape` draws (0 inside a filled shape or a text's box). */
export function distanceToShape(p: Point, shape: Shape, fill = false): number {
  switch (shape.kind) {
    case 'pen':
    case 'highlighter':
      return distanceToPolyline(
        p,
        shape.points.map(([x, y]) => [x, y] as const),
      );
    case 'line':
      return distanceToSegment(p, shape.from, shape.to);
    case 'arrow': {
      const [left, right] = arrowHead(shape.from, shape.to, 0);
      return Math.min(
        distanceToSegment(p, shape.from, shape.to),
        distanceToSegment(p, shape.to, left),
        distanceToSegment(p, shape.to, right),
      );
    }
    case 'rect': {
      const [x0, y0, x1, y1] = boxOf(shape.from, shape.to);
      if (fill && p[0] >= x0 && p[0] <= x1 && p[1] >= y0 && p[1] <= y1) return 0;
      return distanceToPolyline(p, [
        [x0, y0],
        [x1, y0],
        [x1, y1],
        [x0, y1],
        [x0, y0],
      ]);
    }
    case 'ellipse': {
      if (fill) {
        const [x0, y0, x1, y1] = boxOf(shape.from, shape.to);
        const rx = (x1 - x0) / 2;
        const ry = (y1 - y0) / 2;
        const nx = rx > 0 ? (p[0] - (x0 + rx)) / rx : 0;
        const ny = ry > 0 ? (p[1] - (y0 + ry)) / ry : 0;
        if (nx * nx + ny * ny <= 1) return 0;
      }
      return distanceToPolyline(p, ellipsePoints(shape.from, shape.to));
    }
    case 'text': {
      const [x0, y0, x1, y1] = textBox(shape.at, shape.text, shape.size);
      const dx = Math.max(x0 - p[0], 0, p[0] - x1);
      const dy = Math.max(y0 - p[1], 0, p[1] - y1);
      return Math.hypot(dx, dy);
    }
  }
}

/** Whether an eraser of `radius` page units at `p` touches `object`. */
export function touches(object: BoardObject, p: Point, radius: number): boolean {
  const half = object.shape.kind === 'text' ? 0 : object.style.width / 2;
  return distanceToShape(p, object.shape, object.style.fill ?? false) <= radius + half;
}

/**
 * The ids of the objects an eraser of `radius` touches on its way from `from` to `to`
 * (a click: the same point twice), top first.
 */
export function hitObjects(objects: readonly BoardObject[], from: Point, to: Point, radius: number): string[] {
  const length = Math.hypot(to[0] - from[0], to[1] - from[1]);
  const steps = Math.max(1, Math.ceil(length / Math.max(1, radius / 2)));
  const samples: Point[] = [];
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    samples.push([from[0] + (to[0] - from[0]) * t, from[1] + (to[1] - from[1]) * t]);
  }
  const hit: string[] = [];
  for (let i = objects.length - 1; i >= 0; i--) {
    const object = objects[i]!;
    if (samples.some((s) => touches(object, s, radius))) hit.push(object.id);
  }
  return hit;
}
