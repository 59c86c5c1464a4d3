/**
 * Drawing a page on a canvas: strokes as smooth, pressure-shaped outlines
 * (perfect-freehand), lines, arrows, rectangles, ellipses and text, in page units under
 * a transform that maps the page onto the canvas.
 */
import { getStroke } from 'perfect-freehand';
import type { BoardObject, Shape, Style } from '../../services/types';
import {
  arrowHead,
  boxOf,
  PAGE_HEIGHT,
  PAGE_WIDTH,
  TEXT_FONT_SHARE,
  type Viewport,
} from './geometry';

/** How see-through a highlighter is. */
export const HIGHLIGHTER_ALPHA = 0.35;
export const TEXT_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

type StrokeShape = Extract<Shape, { kind: 'pen' | 'highlighter' }>;

/**
 * The outline of a stroke (a polygon, page units). A pen thins and thickens with the
 * pressure (simulated from the speed when every point has the same pressure, as a mouse
 * gives); a highlighter keeps its width.
 */
export function strokeOutline(shape: StrokeShape, style: Style, finished = true): number[][] {
  const points = shape.points.map(([x, y, p]) => [x, y, p / 100]);
  const even = shape.points.every((p) => p[2] === shape.points[0]![2]);
  const pen = shape.kind === 'pen';
  return getStroke(points, {
    size: style.width,
    thinning: pen ? 0.55 : 0,
    smoothing: 0.6,
    streamline: 0.35,
    simulatePressure: pen && even,
    last: finished,
    start: { cap: true, taper: false },
    end: { cap: true, taper: false },
  });
}

/** Anything a path can be traced on: a `Path2D`, or a context's current path. */
type PathSink = Pick<CanvasPath, 'moveTo' | 'quadraticCurveTo' | 'closePath'>;

/** Trace a closed, smoothed path through an outline's points (midpoint to midpoint, corners as control points). */
export function traceOutline(sink: PathSink, outline: readonly number[][]): void {
  const n = outline.length;
  if (n === 0) return;
  const at = (i: number) => outline[i % n]!;
  const mid = (a: readonly number[], b: readonly number[]) => [(a[0]! + b[0]!) / 2, (a[1]! + b[1]!) / 2] as const;
  const start = mid(at(0), at(1));
  sink.moveTo(start[0], start[1]);
  for (let i = 1; i <= n; i++) {
    const corner = at(i);
    const next = mid(corner, at(i + 1));
    sink.quadraticCurveTo(corner[0]!, corner[1]!, next[0], next[1]);
  }
  sink.closePath();
}

// Outlines are worth keeping: objects on the board never change (a change replaces them).
const outlines = new WeakMap<Shape, Path2D>();

/** Fill a stroke's outline (kept as a `Path2D` once finished, where there is one). */
function fillStroke(ctx: CanvasRenderingContext2D, shape: StrokeShape, style: Style, finished: boolean): void {
  if (typeof Path2D === 'undefined') {
    ctx.beginPath();
    traceOutline(ctx, strokeOutline(shape, style, finished));
    ctx.fill();
    return;
  }
  let path = finished ? outlines.get(shape) : undefined;
  if (path === undefined) {
    path = new Path2D();
    traceOutline(path, strokeOutline(shape, style, finished));
    if (finished) outlines.set(shape, path);
  }
  ctx.fill(path);
}

/** The lines of a text and the font they are drawn in. */
export function textLayout(size: number): { font: string; fontSize: number; offset: number } {
  const fontSize = size * TEXT_FONT_SHARE;
  return { font: `${fontSize}px ${TEXT_FONT}`, fontSize, offset: (size - fontSize) / 2 };
}

/** Draw one shape (page units; the context's transform maps them to pixels). */
export function drawShape(ctx: CanvasRenderingContext2D, shape: Shape, style: Style, finished = true): void {
  ctx.save();
  ctx.fillStyle = style.color;
  ctx.strokeStyle = style.color;
  ctx.lineWidth = style.width;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  switch (shape.kind) {
    case 'pen':
    case 'highlighter':
      if (shape.kind === 'highlighter') ctx.globalAlpha = HIGHLIGHTER_ALPHA;
      fillStroke(ctx, shape, style, finished);
      break;
    case 'line':
    case 'arrow': {
      ctx.beginPath();
      ctx.moveTo(shape.from[0], shape.from[1]);
      ctx.lineTo(shape.to[0], shape.to[1]);
      ctx.stroke();
      if (shape.kind === 'arrow' && (shape.from[0] !== shape.to[0] || shape.from[1] !== shape.to[1])) {
        const [left, right] = arrowHead(shape.from, shape.to, style.width);
        ctx.beginPath();
        ctx.moveTo(shape.to[0], shape.to[1]);
        ctx.lineTo(left[0], left[1]);
        ctx.lineTo(right[0], right[1]);
        ctx.closePath();
        ctx.fill();
        ctx.stroke();
      }
      break;
    }
    case 'rect': {
      const [x0, y0, x1, y1] = boxOf(shape.from, shape.to);
      if (style.fill) ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
      else ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
      break;
    }
    case 'ellipse': {
      const [x0, y0, x1, y1] = boxOf(shape.from, shape.to);
      ctx.beginPath();
      ctx.ellipse((x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2, 0, 0, Math.PI * 2);
      if (style.fill) ctx.fill();
      else ctx.stroke();
      break;
    }
    case 'text': {
      const { font, offset } = textLayout(shape.size);
      ctx.font = font;
      ctx.textBaseline = 'top';
      shape.text.split('\n').forEach((line, i) => {
        ctx.fillText(line, shape.at[0], shape.at[1] + i * shape.size + offset);
      });
      break;
    }
  }
  ctx.restore();
}

/** What a scene shows: finished objects, then strokes still being drawn on top. */
export type Scene = {
  objects: readonly BoardObject[];
  /** Drawn on top, as strokes still moving (others' live strokes, our own draft). */
  drafts?: readonly { shape: Shape; style: Style }[];
  /** Objects not to show (being erased). */
  hidden?: ReadonlySet<string>;
};

/**
 * Draw `scene` on a canvas of `width` × `height` CSS pixels at `dpr` device pixels each:
 * `background` (a colour) fills the page, or nothing for a see-through layer; what lies
 * outside the page is left clear.
 */
export function drawScene(
  ctx: CanvasRenderingContext2D,
  size: { width: number; height: number; dpr: number },
  viewport: Viewport,
  scene: Scene,
  background: string | null,
): void {
  const { width, height, dpr } = size;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, width * dpr, height * dpr);
  ctx.setTransform(dpr * viewport.scaleX, 0, 0, dpr * viewport.scaleY, dpr * viewport.left, dpr * viewport.top);
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, PAGE_WIDTH, PAGE_HEIGHT);
  ctx.clip();
  if (background !== null) {
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, PAGE_WIDTH, PAGE_HEIGHT);
  }
  for (const object of scene.objects) {
    if (scene.hidden?.has(object.id)) continue;
    drawShape(ctx, object.shape, object.style);
  }
  for (const draft of scene.drafts ?? []) drawShape(ctx, draft.shape, draft.style, false);
  ctx.restore();
}

/** The 2D context of a canvas, or null where there is none (a test's DOM). */
export function context2d(canvas: HTMLCanvasElement): CanvasRenderingContext2D | null {
  try {
    return canvas.getContext('2d');
  } catch {
    return null;
  }
}
