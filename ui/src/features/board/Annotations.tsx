/**
 * Annotations over a shared screen: everyone sees the annotation pages drawn over a
 * sharer's screen; those who may draw turn "Annotate" on to draw there with the
 * board's tools. The page is made on first use (`board_add_page` with `annotates`), and
 * one already there for that sharer is used.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { BoardObject } from '../../services/types';
import type { ParticipantSlotProps } from '../feature';
import { BoardCanvas, type CanvasActions } from './BoardCanvas';
import { annotationPages, canDraw, liveOn, newPageId, type BoardUiState } from './boardState';
import { DEFAULT_PEN, penOf, ToolBar, useBoardActions, useCanvasActions, useUndoKeys, type PenSettings } from './BoardTools';
import { PAGE_HEIGHT, PAGE_WIDTH } from './geometry';

export function Annotations(props: ParticipantSlotProps<BoardUiState>) {
  const { state, participant, you, isHost, people } = props;
  const mayDraw = canDraw(state, you, isHost || you.presenter);
  const [on, setOn] = useState(false);
  const [settings, setSettings] = useState<PenSettings>({ ...DEFAULT_PEN, color: '#dc2626' });
  // The id the page gets if we are the first to annotate this share.
  const [plannedPage] = useState(newPageId);
  const creating = useRef<Promise<boolean> | null>(null);
  // Whether that page was seen on the board: gone again, it was discarded (made anew on next use).
  const plannedSeen = useRef(false);
  const holder = useRef<HTMLDivElement>(null);
  const actions = useBoardActions(props, state);
  const annotating = on && mayDraw;
  useUndoKeys(annotating, actions.undo, actions.redo);

  const pages = annotationPages(state, participant.identity);
  const target = pages[0]?.id ?? plannedPage;
  const pageIds = useMemo(() => [...pages.map((p) => p.id), plannedPage], [pages, plannedPage]);
  const { previews } = actions;
  const objects = useMemo(() => {
    const held: BoardObject[] = pages.flatMap((p) => p.objects);
    return [...held, ...previews(pageIds)];
  }, [pages, previews, pageIds]);
  const here = useMemo(() => new Set(people.map((p) => p.identity)), [people]);
  const live = liveOn(state, pageIds, { by: here });

  const { add, send } = actions;
  const plannedHeld = pages.some((p) => p.id === plannedPage);
  useEffect(() => {
    if (plannedHeld) plannedSeen.current = true;
  });
  const pageOfObject = useCallback(
    (id: string) => pages.find((p) => p.objects.some((o) => o.id === id))?.id ?? null,
    [pages],
  );
  const base = useCanvasActions(actions, pageOfObject);
  const identity = participant.identity;
  const canvasActions: CanvasActions = useMemo(
    () => ({
      ...base,
      // The first stroke over this share makes its annotation page, then goes on it.
      add: (page: string, object: BoardObject) => {
        if (page !== plannedPage || plannedHeld) {
          add(page, object);
          return;
        }
        if (plannedSeen.current) {
          plannedSeen.current = false;
          creating.current = null;
        }
        creating.current ??= send({ type: 'board_add_page', page, index: null, annotates: identity }, 'start annotating');
        const made = creating.current;
        void made.then((done) => {
          if (done) add(page, object);
          else if (creating.current === made) creating.current = null;
        });
      },
    }),
    [base, add, send, plannedPage, plannedHeld, identity],
  );

  // The shape of the shared picture: the annotations cover it, whatever its shape.
  const aspect = useCallback(() => {
    const video = holder.current?.closest('.stage')?.querySelector<HTMLCanvasElement>('canvas.stage__video');
    // Until frames come the canvas has its default size, not the picture's.
    const showing = video?.classList.contains('is-live') && video.width > 0 && video.height > 0;
    return video && showing ? video.width / video.height : PAGE_WIDTH / PAGE_HEIGHT;
  }, []);

  if (pages.length === 0 && !mayDraw) return null;
  // A canvas over the share only when there is something on it, or someone draws.
  const showing = annotating || objects.length > 0 || live.length > 0;
  return (
    <div
      ref={holder}
      className={`annotations ${annotating ? 'annotations--on' : ''}`}
      data-testid={`annotations-${participant.identity}`}
      data-annotation-objects={objects.length}
    >
      {showing && <BoardCanvas
        page={annotating ? target : null}
        objects={objects}
        live={live}
        hidden={actions.erasing}
        background={null}
        aspect={aspect}
        pen={annotating ? penOf(settings) : null}
        actions={canvasActions}
        author={you.identity}
        testId="annotation-canvas"
        label={`Annotations over ${participant.you ? 'your' : `${participant.name}'s`} screen`}
      />}
      {mayDraw && (
        <div className="annotations__controls">
          {annotating && (
            <ToolBar settings={settings} onChange={setSettings} onUndo={actions.undo} onRedo={actions.redo} compact />
          )}
          <button
            type="button"
            className={`annotations__toggle ${annotating ? 'is-on' : ''}`}
            aria-pressed={annotating}
            onClick={() => setOn((o) => !o)}
            data-testid="annotate-toggle"
            title={annotating ? 'Stop annotating' : 'Draw over this screen; everyone sees it'}
          >
            {annotating ? 'Done' : 'Annotate'}
          </button>
        </div>
      )}
    </div>
  );
}
