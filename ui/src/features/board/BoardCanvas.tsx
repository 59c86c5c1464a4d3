/**
 * A canvas showing one page (or a layer of annotations) and, given tools, drawing on it.
 * It keeps the page fitted to its box at the screen's pixel density, draws the objects,
 * the strokes others are drawing and our own as it grows, and turns the pointer into
 * what the tools do (see ./drawing.ts); the text tool opens a small input where clicked.
 */
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import type { BoardObject, BoardRequest, Style } from '../../services/types';
import { isFresh, newObjectId, type LiveStroke } from './boardState';
import { cleanText, Drawing, Erasing, isDrawTool, type Tool } from './drawing';
import { fitOver, fitPage, PAGE_HEIGHT, PAGE_WIDTH, pixelToPage, pressureOf, type Viewport } from './geometry';
import { context2d, drawScene, textLayout } from './render';

/** The tool in hand and how it draws. */
export type Pen = { tool: Tool; style: Style; textSize: number };

/** What drawing on the canvas does. */
export type CanvasActions = {
  /** A finished object for `page` (`board_add`). */
  add: (page: string, object: BoardObject) => void;
  /** A stroke being drawn (`board_live`). */
  live: (request: Extract<BoardRequest, { type: 'board_live' }>) => void;
  /** Objects the eraser went over. */
  erase: (ids: string[]) => void;
};

type Size = { width: number; height: number; dpr: number };

export function BoardCanvas({
  page,
  objects,
  live,
  hidden,
  background,
  aspect,
  pen,
  actions,
  author,
  testId,
  className,
  label,
}: {
  /** The page drawn on (null: nothing to draw on yet). */
  page: string | null;
  objects: readonly BoardObject[];
  /** Others' strokes being drawn here. */
  live: readonly LiveStroke[];
  /** Objects not shown (erased, waiting for the relay). */
  hidden?: ReadonlySet<string>;
  /** The page's colour; null for a see-through layer. */
  background: string | null;
  /**
   * The shape of the picture the page covers (width / height), read when drawing; absent
   * for a board page, which keeps its 16:9 inside the box.
   */
  aspect?: () => number;
  /** The tool in hand; null when this user may not draw (or is not drawing). */
  pen: Pen | null;
  actions: CanvasActions;
  author: string;
  testId?: string;
  className?: string;
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const size = useRef<Size>({ width: 0, height: 0, dpr: 1 });
  const frame = useRef<number | null>(null);
  const erasing = useRef<Erasing | null>(null);
  // A text being typed (one at a time; a click elsewhere with the text tool adds it and
  // starts another). The ref follows it for handlers that run before the next render.
  const [text, setText] = useState<TextDraft | null>(null);
  const typing = useRef<TextDraft | null>(null);
  const textKey = useRef(0);
  const putText = (draft: TextDraft | null) => {
    typing.current = draft;
    setText(draft);
  };

  // What the next frame draws and what the handlers act on: the latest props.
  const latest = useRef({ page, objects, live, hidden, background, aspect, pen, actions, author });
  const drawing = useRef<Drawing | null>(null);

  // The canvas covers the page exactly (fitted into the box by `layOut`), so a fraction
  // of the canvas is that fraction of the page.
  const viewport = (): Viewport => {
    const { width, height } = size.current;
    return { left: 0, top: 0, scaleX: width / PAGE_WIDTH, scaleY: height / PAGE_HEIGHT };
  };

  const draw = () => {
    frame.current = null;
    const el = canvas.current;
    if (!el) return;
    const ctx = context2d(el);
    if (!ctx) return;
    const { objects: shown, live: all, hidden: gone, background: paper } = latest.current;
    const now = Date.now();
    const others = all.filter((l) => isFresh(l, now));
    const own = drawing.current?.current;
    const erased = erasing.current?.ids ?? [];
    const hide = erased.length > 0 ? new Set([...(gone ?? []), ...erased]) : gone;
    drawScene(
      ctx,
      size.current,
      viewport(),
      { objects: shown, hidden: hide, drafts: [...others, ...(own ? [own.object] : [])] },
      paper,
    );
  };

  const requestDraw = () => {
    if (frame.current !== null) return;
    if (typeof requestAnimationFrame === 'undefined') {
      draw();
      return;
    }
    frame.current = requestAnimationFrame(draw);
  };

  useLayoutEffect(() => {
    latest.current = { page, objects, live, hidden, background, aspect, pen, actions, author };
    requestDraw();
  });

  // One drawing at a time, its callbacks reaching the latest actions.
  useEffect(() => {
    drawing.current = new Drawing({
      add: (p, object) => latest.current.actions.add(p, object),
      live: (request) => latest.current.actions.live(request),
      newId: newObjectId,
      now: () => performance.now(),
      author: latest.current.author,
    });
    return () => {
      drawing.current?.end();
      drawing.current = null;
    };
  }, []);

  // Fit the canvas to the page's place in its box, at the screen's density, again on
  // every resize: a board page keeps its 16:9 (the box's colour around it); a layer of
  // annotations covers the shared picture, whatever its shape.
  useEffect(() => {
    const el = canvas.current;
    const holder = box.current;
    if (!el || !holder) return;
    const resize = () => {
      const rect = holder.getBoundingClientRect();
      const a = latest.current.aspect;
      const fit = a ? fitOver(rect.width, rect.height, a()) : fitPage(rect.width, rect.height);
      const width = PAGE_WIDTH * fit.scaleX;
      const height = PAGE_HEIGHT * fit.scaleY;
      el.style.left = `${fit.left}px`;
      el.style.top = `${fit.top}px`;
      el.style.width = `${width}px`;
      el.style.height = `${height}px`;
      const dpr = window.devicePixelRatio || 1;
      size.current = { width, height, dpr };
      const w = Math.max(1, Math.round(width * dpr));
      const h = Math.max(1, Math.round(height * dpr));
      if (el.width !== w) el.width = w;
      if (el.height !== h) el.height = h;
      draw();
    };
    resize();
    window.addEventListener('resize', resize);
    const observer = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(resize);
    observer?.observe(holder);
    // The window moved to a screen of another density (no resize comes with that).
    let density: MediaQueryList | null = null;
    const onDensity = () => {
      resize();
      watchDensity();
    };
    const watchDensity = () => {
      density?.removeEventListener('change', onDensity);
      density = typeof window.matchMedia === 'function' ? window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`) : null;
      density?.addEventListener('change', onDensity);
    };
    watchDensity();
    // Others' strokes go stale, and the picture under an annotation layer may change
    // shape without a resize: look again now and then.
    const poll = setInterval(() => {
      if (latest.current.aspect) resize();
      else if (latest.current.live.length > 0) requestDraw();
    }, 1000);
    return () => {
      window.removeEventListener('resize', resize);
      observer?.disconnect();
      density?.removeEventListener('change', onDensity);
      clearInterval(poll);
      if (frame.current !== null && typeof cancelAnimationFrame !== 'undefined') cancelAnimationFrame(frame.current);
      frame.current = null;
    };
    // Set up once; what is drawn is read from `latest` each time.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const pointAt = (e: { clientX: number; clientY: number }): [number, number] => {
    const rect = canvas.current?.getBoundingClientRect();
    return pixelToPage(viewport(), [e.clientX - (rect?.left ?? 0), e.clientY - (rect?.top ?? 0)]);
  };

  function onPointerDown(e: PointerEvent<HTMLCanvasElement>) {
    const { pen: hand, page: target } = latest.current;
    if (!hand || target === null) return;
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    e.preventDefault();
    const [x, y] = pointAt(e);
    if (hand.tool === 'text') {
      if (typing.current) commitText(typing.current.key);
      const rect = box.current?.getBoundingClientRect();
      textKey.current += 1;
      putText({
        key: textKey.current,
        at: [x, y],
        left: e.clientX - (rect?.left ?? 0),
        top: e.clientY - (rect?.top ?? 0),
        linePx: hand.textSize * viewport().scaleY,
        value: '',
      });
      return;
    }
    try {
      // Moves outside the canvas still draw (a pointer made up by a script cannot be captured).
      e.currentTarget.setPointerCapture(e.pointerId);
    } catch {
      // Drawn all the same, as long as it stays over the canvas.
    }
    if (hand.tool === 'eraser') {
      erasing.current = new Erasing();
      erasing.current.at(visibleObjects(), [x, y]);
    } else if (isDrawTool(hand.tool)) {
      drawing.current?.begin(hand.tool, target, hand.style, [x, y, pressureOf(e.pressure, e.pointerType)]);
    }
    requestDraw();
  }

  function visibleObjects(): readonly BoardObject[] {
    const { objects: all, hidden: gone } = latest.current;
    return gone && gone.size > 0 ? all.filter((o) => !gone.has(o.id)) : all;
  }

  function onPointerMove(e: PointerEvent<HTMLCanvasElement>) {
    if (erasing.current) {
      if (erasing.current.at(visibleObjects(), pointAt(e))) requestDraw();
      return;
    }
    const d = drawing.current;
    if (!d?.active) return;
    const native = e.nativeEvent;
    const events = typeof native.getCoalescedEvents === 'function' ? native.getCoalescedEvents() : [];
    for (const ev of events.length > 0 ? events : [native]) {
      const [x, y] = pointAt(ev);
      d.move([x, y, pressureOf(ev.pressure, ev.pointerType)]);
    }
    requestDraw();
  }

  function onPointerUp() {
    const eraser = erasing.current;
    if (eraser) {
      erasing.current = null;
      if (eraser.ids.length > 0) latest.current.actions.erase([...eraser.ids]);
    }
    drawing.current?.end();
    requestDraw();
  }

  /** Add the text being typed as `key` (once; a text replaced since is left alone). */
  function commitText(key: number) {
    const draft = typing.current;
    if (draft === null || draft.key !== key) return;
    putText(null);
    const { page: target, pen: hand } = latest.current;
    const value = cleanText(draft.value);
    if (value === null || target === null || !hand) return;
    latest.current.actions.add(target, {
      id: newObjectId(),
      author: latest.current.author,
      shape: { kind: 'text', at: draft.at, text: value, size: hand.textSize },
      style: { color: hand.style.color, width: Math.max(1, Math.min(1000, hand.style.width)) },
    });
  }

  const drawingNow = pen !== null && page !== null;
  return (
    <div ref={box} className={`board-canvas ${className ?? ''}`}>
      <canvas
        ref={canvas}
        className={`board-canvas__canvas ${drawingNow ? `is-drawing board-canvas__canvas--${pen.tool}` : ''}`}
        data-testid={testId}
        aria-label={label}
        role="img"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        style={{ pointerEvents: drawingNow ? 'auto' : 'none' }}
      />
      {text && pen && (
        <TextBox
          key={text.key}
          draft={text}
          color={pen.style.color}
          onChange={(value) => typing.current?.key === text.key && putText({ ...text, value })}
          onDone={(keep) => (keep ? commitText(text.key) : typing.current?.key === text.key && putText(null))}
        />
      )}
    </div>
  );
}

/** A text being typed: where on the page, where in the box, its line height on screen. */
type TextDraft = { key: number; at: [number, number]; left: number; top: number; linePx: number; value: string };

/**
 * The small input a text is typed in, where the text tool clicked: Enter adds the text,
 * Shift+Enter starts a new line, Escape drops it; leaving it adds it too.
 */
function TextBox({
  draft,
  color,
  onChange,
  onDone,
}: {
  draft: TextDraft;
  color: string;
  onChange: (value: string) => void;
  onDone: (keep: boolean) => void;
}) {
  const input = useRef<HTMLTextAreaElement>(null);
  // Focused once the click that placed it is over (its default action would blur it).
  useEffect(() => {
    const focus = () => input.current?.focus();
    if (typeof requestAnimationFrame === 'undefined') {
      focus();
      return;
    }
    const frame = requestAnimationFrame(focus);
    return () => cancelAnimationFrame(frame);
  }, []);

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      onDone(true);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onDone(false);
    }
  }

  const { font } = textLayout(draft.linePx);
  return (
    <textarea
      ref={input}
      className="board-text-input"
      data-testid="board-text-input"
      aria-label="Text to add (Enter adds it, Shift+Enter starts a new line)"
      placeholder="Type, then Enter"
      value={draft.value}
      onChange={(e) => onChange(e.target.value)}
      onKeyDown={onKeyDown}
      onBlur={() => onDone(true)}
      rows={Math.max(1, draft.value.split('\n').length)}
      style={{ left: draft.left, top: draft.top, color, font, lineHeight: `${draft.linePx}px` }}
    />
  );
}
