/**
 * The whiteboard's tools: the tool buttons, colours, widths and fill, undo and redo; the
 * pen settings they make; and the requests drawing sends, with a preview of our own
 * objects until the relay's `board_op` brings them.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Svg } from '../../components/Icons';
import { describeError, featureRequest } from '../../services/studyhall';
import type { BoardObject, BoardRequest } from '../../services/types';
import type { FeatureRoom } from '../feature';
import type { BoardUiState } from './boardState';
import type { CanvasActions, Pen } from './BoardCanvas';
import { isColor, PALETTE, styleFor, TOOLS, WIDTHS, type Tool } from './drawing';

const TOOL_ICONS: Record<Tool, ReactNode> = {
  pen: <path d="M4 20l4-1 11-11-3-3L5 16l-1 4zM14 6l3 3" />,
  highlighter: (
    <>
      <path d="M9 15l-2 5h5l1-3M9 15l7-11 4 3-7 10z" />
      <path d="M4 21h16" opacity="0.5" />
    </>
  ),
  eraser: (
    <>
      <path d="M8 20h12M4.5 15.5l9-9a2 2 0 0 1 2.8 0l2.2 2.2a2 2 0 0 1 0 2.8L12 18H7z" />
      <path d="M9 11l5 5" />
    </>
  ),
  line: <path d="M5 19L19 5" />,
  arrow: <path d="M5 19L19 5M10 5h9v9" />,
  rect: <rect x="4" y="6" width="16" height="12" rx="1" />,
  ellipse: <ellipse cx="12" cy="12" rx="8.5" ry="6.5" />,
  text: <path d="M5 6V4h14v2M12 4v16M9 20h6" />,
};

export const UndoIcon = () => (
  <Svg>
    <path d="M9 14L4 9l5-5" />
    <path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11" />
  </Svg>
);
export const RedoIcon = () => (
  <Svg>
    <path d="M15 14l5-5-5-5" />
    <path d="M20 9H9.5a5.5 5.5 0 0 0 0 11H13" />
  </Svg>
);
export const WhiteboardIcon = () => (
  <Svg>
    <rect x="3" y="4" width="18" height="13" rx="1.5" />
    <path d="M8 21l2-4M16 21l-2-4M7 12.5c1.5-3 3-3 4 0s2.5 3 4 0" />
  </Svg>
);

/** The pen as the user set it. */
export type PenSettings = { tool: Tool; color: string; width: number; fill: boolean };

export const DEFAULT_PEN: PenSettings = { tool: 'pen', color: '#111827', width: 1, fill: false };

/** The pen to draw with for these settings. */
export function penOf(settings: PenSettings): Pen {
  const w = WIDTHS[settings.width] ?? WIDTHS[1]!;
  return { tool: settings.tool, style: styleFor(settings.tool, settings.color, w.width, settings.fill), textSize: w.textSize };
}

/** Tools, colours, widths, fill, undo and redo, in a row. */
export function ToolBar({
  settings,
  onChange,
  onUndo,
  onRedo,
  compact,
  children,
}: {
  settings: PenSettings;
  onChange: (settings: PenSettings) => void;
  onUndo: () => void;
  onRedo: () => void;
  compact?: boolean;
  children?: ReactNode;
}) {
  const set = (change: Partial<PenSettings>) => onChange({ ...settings, ...change });
  const custom = !PALETTE.some((p) => p.color === settings.color);
  const shape = settings.tool === 'rect' || settings.tool === 'ellipse';
  return (
    <div className={`board-tools ${compact ? 'board-tools--compact' : ''}`} role="toolbar" aria-label="Drawing tools">
      <div className="board-tools__group" role="group" aria-label="Tool">
        {TOOLS.map(({ tool, label, key }) => (
          <button
            key={tool}
            type="button"
            className={`board-tool ${settings.tool === tool ? 'is-on' : ''}`}
            aria-pressed={settings.tool === tool}
            title={`${label} (${key.toUpperCase()})`}
            aria-label={label}
            onClick={() => set({ tool })}
            data-testid={`board-tool-${tool}`}
          >
            <Svg>{TOOL_ICONS[tool]}</Svg>
          </button>
        ))}
      </div>
      <div className="board-tools__group" role="group" aria-label="Colour">
        {PALETTE.map(({ color, name }) => (
          <button
            key={color}
            type="button"
            className={`board-swatch ${settings.color === color ? 'is-on' : ''}`}
            style={{ background: color }}
            aria-pressed={settings.color === color}
            title={name}
            aria-label={name}
            onClick={() => set({ color })}
            data-testid={`board-color-${color.slice(1)}`}
          />
        ))}
        <label className={`board-swatch board-swatch--custom ${custom ? 'is-on' : ''}`} title="Another colour">
          <input
            type="color"
            value={settings.color}
            aria-label="Another colour"
            onChange={(e) => isColor(e.target.value) && set({ color: e.target.value.toLowerCase() })}
            data-testid="board-color-custom"
          />
        </label>
      </div>
      <div className="board-tools__group" role="group" aria-label="Width">
        {WIDTHS.map(({ name, width }, i) => (
          <button
            key={name}
            type="button"
            className={`board-tool board-width ${settings.width === i ? 'is-on' : ''}`}
            aria-pressed={settings.width === i}
            title={name}
            aria-label={`${name} width`}
            onClick={() => set({ width: i })}
            data-testid={`board-width-${i}`}
          >
            <span className="board-width__dot" style={{ width: 3 + Math.sqrt(width) * 1.4, height: 3 + Math.sqrt(width) * 1.4 }} />
          </button>
        ))}
        {shape && (
          <button
            type="button"
            className={`board-tool ${settings.fill ? 'is-on' : ''}`}
            aria-pressed={settings.fill}
            title="Fill rectangles and ellipses"
            onClick={() => set({ fill: !settings.fill })}
            data-testid="board-fill"
          >
            <Svg>
              <rect x="5" y="5" width="14" height="14" rx="1" fill={settings.fill ? 'currentColor' : 'none'} />
            </Svg>
          </button>
        )}
      </div>
      <div className="board-tools__group" role="group" aria-label="Undo and redo">
        <button type="button" className="board-tool" title="Undo your last change (Ctrl+Z)" aria-label="Undo" onClick={onUndo} data-testid="board-undo">
          <UndoIcon />
        </button>
        <button
          type="button"
          className="board-tool"
          title="Redo what you undid (Ctrl+Shift+Z)"
          aria-label="Redo"
          onClick={onRedo}
          data-testid="board-redo"
        >
          <RedoIcon />
        </button>
      </div>
      {children}
    </div>
  );
}

/** Whether an object with this id is on the board held. */
function onBoard(state: BoardUiState, id: string): boolean {
  return state.board?.pages.some((p) => p.objects.some((o) => o.id === id)) ?? false;
}

/**
 * Sending what drawing does, with our own objects shown at once: a finished object is
 * previewed until the relay's `board_op` brings it (or taken away when refused), and
 * erased objects are hidden until theirs comes. Failures are told in a toast with the
 * relay's reason.
 */
export function useBoardActions(room: FeatureRoom, state: BoardUiState) {
  const { toast } = room;
  const [awaiting, setAwaiting] = useState<{ page: string; object: BoardObject }[]>([]);
  const [erasing, setErasing] = useState<ReadonlySet<string>>(() => new Set());
  const held = useRef(state);
  useEffect(() => {
    held.current = state;
  });

  // What the relay's ops settled (the answer to a request may come before or after its
  // op): an object of ours on the board is previewed no more, so it does not come back
  // as a preview once erased; an erased object gone from the board is hidden no more, so
  // an undo that restores it shows it.
  if (awaiting.some((a) => onBoard(state, a.object.id))) {
    setAwaiting(awaiting.filter((a) => !onBoard(state, a.object.id)));
  }
  if ([...erasing].some((id) => !onBoard(state, id))) {
    setErasing(new Set([...erasing].filter((id) => onBoard(state, id))));
  }

  /** Send `request`; on failure say why ("Couldn't <words>: <reason>"). Resolves with whether it was done. */
  const send = useCallback(
    (request: BoardRequest, words: string): Promise<boolean> =>
      featureRequest(request).then(
        () => true,
        (error: unknown) => {
          toast(`Couldn't ${words}: ${describeError(error)}`, 'error');
          return false;
        },
      ),
    [toast],
  );

  const add = useCallback(
    (page: string, object: BoardObject) => {
      setAwaiting((all) => [...all.filter((a) => !onBoard(held.current, a.object.id)), { page, object }]);
      void send({ type: 'board_add', page, object }, object.shape.kind === 'text' ? 'add the text' : 'draw that').then(
        (done) => {
          if (!done || onBoard(held.current, object.id)) setAwaiting((all) => all.filter((a) => a.object.id !== object.id));
        },
      );
    },
    [send],
  );

  const live = useCallback((request: BoardRequest) => {
    // Live strokes are best effort: the finished object says what went wrong, if anything.
    featureRequest(request).catch(() => {});
  }, []);

  /** Erase `ids`, each on its page. */
  const erase = useCallback(
    (byPage: Map<string, string[]>) => {
      const all = [...byPage.values()].flat();
      if (all.length === 0) return;
      setErasing((gone) => new Set([...gone, ...all]));
      for (const [page, ids] of byPage) {
        void send({ type: 'board_erase', page, ids }, 'erase that').then((done) => {
          if (!done) setErasing((gone) => new Set([...gone].filter((id) => !ids.includes(id))));
        });
      }
    },
    [send],
  );

  const undo = useCallback(() => void send({ type: 'board_undo' }, 'undo'), [send]);
  const redo = useCallback(() => void send({ type: 'board_redo' }, 'redo'), [send]);

  /** Our objects for `pages` not on the board yet. */
  const previews = useCallback(
    (pages: readonly string[]) =>
      awaiting.filter((a) => pages.includes(a.page) && !onBoard(state, a.object.id)).map((a) => a.object),
    [awaiting, state],
  );

  return { send, add, live, erase, undo, redo, previews, erasing };
}

/** Canvas actions drawing on one page (the eraser's ids are all on it). */
export function useCanvasActions(
  actions: ReturnType<typeof useBoardActions>,
  pageOfObject: (id: string) => string | null,
): CanvasActions {
  const { add, live, erase } = actions;
  return useMemo(
    () => ({
      add,
      live,
      erase: (ids: string[]) => {
        const byPage = new Map<string, string[]>();
        for (const id of ids) {
          const page = pageOfObject(id);
          if (page !== null) byPage.set(page, [...(byPage.get(page) ?? []), id]);
        }
        erase(byPage);
      },
    }),
    [add, live, erase, pageOfObject],
  );
}

/** Ctrl+Z undoes, Ctrl+Shift+Z and Ctrl+Y redo (not while typing), while `active`. */
export function useUndoKeys(active: boolean, undo: () => void, redo: () => void): void {
  useEffect(() => {
    if (!active) return;
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey) return;
      const target = e.target;
      if (
        target instanceof HTMLElement &&
        (target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement)
      ) {
        return;
      }
      const key = e.key.toLowerCase();
      if (key === 'z' && !e.shiftKey) {
        e.preventDefault();
        undo();
      } else if ((key === 'z' && e.shiftKey) || key === 'y') {
        e.preventDefault();
        redo();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [active, undo, redo]);
}
