/**
 * The whiteboard: pages the room draws on together, shown large on the stage, and
 * annotations drawn over shared screens. The relay orders and keeps every change; the
 * state and its rules are in `./boardState.ts`.
 */
import { useState } from 'react';
import { featureRequest, describeError } from '../../services/studyhall';
import type { Page } from '../../services/types';
import type { FeatureSlotProps, RoomFeatureUi } from '../feature';
import { isolate } from '../../state/text';
import { Annotations } from './Annotations';
import { BoardStage } from './BoardStage';
import {
  allAnnotationPages,
  boardFromSnapshot,
  boardReducer,
  canDraw,
  syncRequest,
  type BoardUiState,
} from './boardState';
import { WhiteboardIcon } from './BoardTools';

export type { BoardUiState } from './boardState';

/** The key of the whiteboard among the room features. */
export const BOARD_KEY = 'board';

/**
 * The toolbar's Whiteboard button: opens and closes the stage, with a dot when the board
 * changed since the user last looked. Under it, the question what to do with the
 * annotations of a share that ended.
 */
function BoardButton(props: FeatureSlotProps<BoardUiState>) {
  const { state, openStage, toggleStage } = props;
  const open = openStage === BOARD_KEY;
  const [seen, setSeen] = useState(state.revision);
  // Looking at the board sees every change as it comes.
  if (open && seen !== state.revision) setSeen(state.revision);
  const changed = !open && state.revision !== seen;
  // An annotation page whose share has ended (or whose sharer left), for those who may draw.
  const ended = canDraw(state, props.you, props.isHost || props.you.presenter)
    ? allAnnotationPages(state).find(
        (p) => !props.people.some((person) => person.identity === p.annotates && person.media.screen),
      )
    : undefined;
  return (
    <div className="feature-popover-anchor">
      <button
        className={`tool ${open ? 'tool--active' : ''}`}
        onClick={() => toggleStage(BOARD_KEY)}
        aria-pressed={open}
        title={open ? 'Close the whiteboard' : 'Open the whiteboard'}
        data-testid="board-open"
        data-changed={changed}
      >
        <WhiteboardIcon />
        <span>Whiteboard</span>
        {changed && <span className="tool__dot" data-testid="board-changed" aria-label="changed" />}
      </button>
      {ended && <KeepAnnotations key={ended.id} {...props} page={ended} />}
    </div>
  );
}

/** "Keep the annotations as a whiteboard page?", for an annotation page whose share has ended. */
function KeepAnnotations({ state, people, toast, page }: FeatureSlotProps<BoardUiState> & { page: Page }) {
  const [busy, setBusy] = useState(false);
  const sharer = people.find((p) => p.identity === page.annotates);
  const whose = sharer ? (sharer.you ? 'your' : `${isolate(sharer.name)}'s`) : 'the';

  function answer(keep: boolean) {
    if (busy) return;
    setBusy(true);
    const request = keep ? { type: 'board_keep_page' as const, page: page.id } : { type: 'board_remove_page' as const, page: page.id };
    featureRequest(request).then(
      () => {
        setBusy(false);
        if (keep) {
          // Kept where it is in the list: after the board's pages before it.
          const all = state.board?.pages ?? [];
          const before = all.slice(0, Math.max(0, all.findIndex((p) => p.id === page.id)));
          toast(`The annotations are page ${before.filter((p) => !p.annotates).length + 1} of the whiteboard now.`);
        }
      },
      (error: unknown) => {
        setBusy(false);
        toast(`Couldn't ${keep ? 'keep' : 'discard'} the annotations: ${describeError(error)}`, 'error');
      },
    );
  }

  return (
    <section className="feature-popover board-keep" role="dialog" aria-label="Annotations" data-testid="board-keep-prompt" data-page={page.id}>
      <p className="board-keep__question">
        The annotations over {whose} screen ({page.objects.length} {page.objects.length === 1 ? 'mark' : 'marks'}) are still here.
        Keep the annotations as a whiteboard page?
      </p>
      <div className="board-keep__actions">
        <button type="button" className="button button--small" onClick={() => answer(false)} disabled={busy} data-testid="board-discard">
          Discard
        </button>
        <button type="button" className="button button--primary button--small" onClick={() => answer(true)} disabled={busy} data-testid="board-keep">
          Keep
        </button>
      </div>
    </section>
  );
}

export const board: RoomFeatureUi<BoardUiState, 'board'> = {
  key: 'board',
  fromSnapshot: (features, previous) => boardFromSnapshot(features, previous),
  reduce: (state, event) => boardReducer(state, event),
  syncRequest,
  needsSync: (state) => state.needsSync,
  Toolbar: BoardButton,
  Stage: BoardStage,
  stageLabel: 'Whiteboard',
  ShareOverlay: Annotations,
};
