/**
 * The whiteboard, large: the page fitted to the stage, the tools for those who may draw
 * (a note for those who may not), the pages, who may draw besides hosts and presenters,
 * and saving the page as PNG or the board as PDF.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ConfirmDialog, Spinner } from '../../components/Dialog';
import { describeError, saveExport } from '../../services/studyhall';
import type { BoardAccess, Participant } from '../../services/types';
import type { FeatureSlotProps } from '../feature';
import { BoardCanvas } from './BoardCanvas';
import {
  accessOf,
  boardPages,
  canDraw,
  liveOn,
  newPageId,
  pageOf,
  type BoardUiState,
} from './boardState';
import { DEFAULT_PEN, penOf, ToolBar, useBoardActions, useCanvasActions, useUndoKeys, type PenSettings } from './BoardTools';
import { TOOLS } from './drawing';
import { boardPdfBase64, exportName, pagePngBase64 } from './export';

/** The page shown: the one chosen (by id), else the one at its place. */
type Chosen = { id: string; index: number };

/**
 * The `index` of a `board_move_page` that moves page `id` one place among the board's
 * own pages (`step` -1: before the one before it; 1: after the one after it), in the
 * list of all pages, annotation pages counted; null when it is at that end already.
 */
export function moveIndex(all: readonly { id: string; annotates?: string | null }[], id: string, step: -1 | 1): number | null {
  const own = all.map((p, i) => ({ ...p, i })).filter((p) => p.annotates === undefined || p.annotates === null);
  const at = own.findIndex((p) => p.id === id);
  const neighbour = own[at + step];
  if (at < 0 || neighbour === undefined) return null;
  // The page is taken out, then put in at `index`: at the index of the one before it
  // goes before that one; the index of the one after it is one less once this page is
  // out, so that index goes after it.
  return neighbour.i;
}

/** The pages list of the board, annotation pages included (for page indexes). */
function allPages(state: BoardUiState): { id: string; annotates?: string | null }[] {
  return state.board?.pages ?? state.summary.pages;
}

export function BoardStage(props: FeatureSlotProps<BoardUiState>) {
  const { state, you, isHost, people, toast, roomTitle, toggleStage } = props;
  const [settings, setSettings] = useState<PenSettings>(DEFAULT_PEN);
  const [chosen, setChosen] = useState<Chosen | null>(null);
  // A page we added, shown as soon as the relay's op brings it.
  const [added, setAdded] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<'clear' | 'remove' | null>(null);
  const [menu, setMenu] = useState<'save' | 'access' | null>(null);
  const [saving, setSaving] = useState<'png' | 'pdf' | null>(null);
  const actions = useBoardActions(props, state);
  const { previews } = actions;
  const mayDraw = canDraw(state, you, isHost || you.presenter);
  useUndoKeys(mayDraw, actions.undo, actions.redo);
  // A tool's key picks it (P pen, H highlighter, E eraser, ...), unless one is typing.
  useEffect(() => {
    if (!mayDraw) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const target = e.target;
      if (
        target instanceof HTMLElement &&
        (target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement)
      ) {
        return;
      }
      const picked = TOOLS.find((t) => t.key === e.key.toLowerCase());
      if (picked) setSettings((s) => (s.tool === picked.tool ? s : { ...s, tool: picked.tool }));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [mayDraw]);
  const menus = useRef<HTMLDivElement>(null);

  // A menu closes with Escape or a click elsewhere.
  useEffect(() => {
    if (menu === null) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setMenu(null);
    };
    const onPointer = (e: Event) => {
      if (menus.current && e.target instanceof Node && !menus.current.contains(e.target)) setMenu(null);
    };
    window.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onPointer);
    return () => {
      window.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [menu]);

  // A viewer follows the page where others draw (a lecturer turning to a new page)
  // until they choose or add a page themselves; "Follow" takes them back.
  const [follow, setFollow] = useState(true);
  const activity = state.activity;
  const followed = activity !== null && activity.by !== you.identity ? activity : null;
  const pages = boardPages(state);
  let index = 0;
  if (added !== null && pages.some((p) => p.id === added)) index = pages.findIndex((p) => p.id === added);
  else if (follow && followed !== null && pages.some((p) => p.id === followed.page)) {
    index = pages.findIndex((p) => p.id === followed.page);
  } else if (chosen !== null) {
    const found = pages.findIndex((p) => p.id === chosen.id);
    index = found >= 0 ? found : Math.max(0, Math.min(chosen.index, pages.length - 1));
  }
  const current = pages[index] ?? null;
  const page = current ? pageOf(state, current.id) : null;
  const currentId = current?.id ?? null;
  // Our objects not on the board yet are shown on top, as they will be.
  const own = currentId !== null ? previews([currentId]) : [];
  const objects = own.length > 0 ? [...(page?.objects ?? []), ...own] : (page?.objects ?? []);
  const here = useMemo(() => new Set(people.map((p) => p.identity)), [people]);
  const live = current ? liveOn(state, [current.id], { by: here }) : [];
  const onPage = page?.objects;
  const pageOfObject = useCallback(
    (objectId: string) => (onPage?.some((o) => o.id === objectId) ? currentId : null),
    [onPage, currentId],
  );
  const canvasActions = useCanvasActions(actions, pageOfObject);
  const loaded = state.board !== null;
  const access = accessOf(state);

  const followName = followed ? (people.find((p) => p.identity === followed.by)?.name ?? followed.by) : null;

  const choose = (i: number) => {
    const p = pages[i];
    if (!p) return;
    setChosen({ id: p.id, index: i });
    setAdded(null);
    setFollow(false);
  };

  function addPage() {
    if (!current) return;
    const id = newPageId();
    const at = allPages(state).findIndex((p) => p.id === current.id);
    // This page stays shown until the new one is there.
    setChosen({ id: current.id, index });
    setAdded(id);
    setFollow(false);
    void actions.send({ type: 'board_add_page', page: id, index: at + 1, annotates: null }, 'add a page').then((done) => {
      if (!done) setAdded(null);
    });
  }

  function movePage(step: -1 | 1) {
    if (!current) return;
    const to = moveIndex(allPages(state), current.id, step);
    if (to === null) return;
    setChosen({ id: current.id, index: index + step });
    void actions.send({ type: 'board_move_page', page: current.id, index: to }, 'move the page');
  }

  function removePage() {
    setConfirm(null);
    if (!current) return;
    // Once it is gone, the page that takes its place is shown.
    setChosen({ id: current.id, index });
    setAdded(null);
    void actions.send({ type: 'board_remove_page', page: current.id }, 'remove the page');
  }

  function clearPage() {
    setConfirm(null);
    if (!current) return;
    void actions.send({ type: 'board_clear', page: current.id }, 'clear the page');
  }

  async function save(kind: 'png' | 'pngs' | 'pdf') {
    if (!state.board || saving !== null) return;
    setMenu(null);
    setSaving(kind === 'pdf' ? 'pdf' : 'png');
    const own = state.board.pages.filter((p) => !p.annotates);
    try {
      let saved: string;
      if (kind === 'png') {
        const data = pagePngBase64(page?.objects ?? []);
        saved = `Saved to ${await saveExport(exportName(roomTitle, `board page ${index + 1}.png`), data)}`;
      } else if (kind === 'pngs') {
        // One picture per page, one after the other (each is a few hundred kB).
        let last = '';
        for (const [i, p] of own.entries()) {
          last = await saveExport(exportName(roomTitle, `board page ${i + 1}.png`), pagePngBase64(p.objects));
        }
        saved = `Saved ${own.length} ${own.length === 1 ? 'picture' : 'pictures'}; the last is ${last}`;
      } else {
        saved = `Saved to ${await saveExport(exportName(roomTitle, 'board.pdf'), await boardPdfBase64(own.map((p) => p.objects)))}`;
      }
      toast(saved);
    } catch (error) {
      toast(`Couldn't save the ${kind === 'png' ? 'page' : 'board'}: ${describeError(error)}`, 'error');
    } finally {
      setSaving(null);
    }
  }

  const readOnlyNote =
    access.drawers.length > 0
      ? 'Only hosts, presenters and the people a host chose draw here.'
      : 'Only hosts and presenters draw here.';

  return (
    <section
      className="board-stage"
      aria-label="Whiteboard"
      data-testid="board-stage"
      data-board-seq={state.board?.seq ?? state.summary.seq}
      data-board-objects={page ? page.objects.length : (current?.objects ?? 0)}
      data-board-page={current?.id ?? ''}
      data-board-loaded={loaded}
      data-board-live={live.length}
    >
      <div className="board-stage__bar">
        {mayDraw ? (
          <ToolBar settings={settings} onChange={setSettings} onUndo={actions.undo} onRedo={actions.redo}>
            <div className="board-tools__group">
              <button
                type="button"
                className="board-tool board-tool--text"
                onClick={() => setConfirm('clear')}
                disabled={!current || (page?.objects.length ?? current.objects) === 0}
                title="Erase everything on this page"
                data-testid="board-clear"
              >
                Clear page
              </button>
            </div>
          </ToolBar>
        ) : (
          <p className="board-stage__note" data-testid="board-readonly">
            {readOnlyNote}
          </p>
        )}
        <div className="board-stage__actions" ref={menus}>
          {isHost && (
            <div className="board-menu-anchor">
              <button
                type="button"
                className={`board-tool board-tool--text ${menu === 'access' ? 'is-on' : ''}`}
                aria-expanded={menu === 'access'}
                onClick={() => setMenu((m) => (m === 'access' ? null : 'access'))}
                data-testid="board-access"
              >
                Who draws
              </button>
              {menu === 'access' && (
                <AccessPanel access={access} people={people} onSet={(next) => void actions.send({ type: 'board_set_access', access: next }, 'change who draws')} />
              )}
            </div>
          )}
          <div className="board-menu-anchor">
            <button
              type="button"
              className={`board-tool board-tool--text ${menu === 'save' ? 'is-on' : ''}`}
              aria-expanded={menu === 'save'}
              onClick={() => setMenu((m) => (m === 'save' ? null : 'save'))}
              disabled={!loaded || saving !== null}
              data-testid="board-save"
            >
              {saving !== null && <Spinner />}
              Save
            </button>
            {menu === 'save' && (
              <div className="board-menu" role="menu">
                <button type="button" role="menuitem" className="board-menu__item" onClick={() => void save('png')} data-testid="board-save-png">
                  Save page as PNG
                </button>
                <button type="button" role="menuitem" className="board-menu__item" onClick={() => void save('pngs')} data-testid="board-save-pngs">
                  Save every page as PNG
                </button>
                <button type="button" role="menuitem" className="board-menu__item" onClick={() => void save('pdf')} data-testid="board-save-pdf">
                  Save board as PDF
                </button>
              </div>
            )}
          </div>
          <button
            type="button"
            className="board-tool"
            onClick={() => toggleStage('board')}
            aria-label="Close the whiteboard"
            title="Close the whiteboard"
            data-testid="board-close"
          >
            ×
          </button>
        </div>
      </div>

      <div className="board-stage__paper">
        <BoardCanvas
          page={currentId}
          objects={objects}
          live={live}
          hidden={actions.erasing}
          background="#ffffff"
          pen={mayDraw && loaded ? penOf(settings) : null}
          actions={canvasActions}
          author={you.identity}
          testId="board-canvas"
          label={current ? `Whiteboard, page ${index + 1} of ${pages.length}` : 'Whiteboard'}
        />
        {!loaded && (
          <div className="board-stage__loading" role="status" data-testid="board-loading">
            <Spinner /> Loading the whiteboard…
            {state.assembly !== null && state.assembly.next > 0 && <span className="muted"> (part {state.assembly.next + 1})</span>}
          </div>
        )}
      </div>

      <div className="board-stage__pages" role="navigation" aria-label="Pages">
        <button type="button" className="board-tool" onClick={() => choose(index - 1)} disabled={index <= 0} aria-label="Previous page" data-testid="board-page-prev">
          ‹
        </button>
        <ol className="board-pages">
          {pages.map((p, i) => (
            <li key={p.id}>
              <button
                type="button"
                className={`board-page ${i === index ? 'is-on' : ''}`}
                aria-current={i === index ? 'page' : undefined}
                onClick={() => choose(i)}
                data-testid={`board-page-${i + 1}`}
                data-page={p.id}
              >
                {i + 1}
              </button>
            </li>
          ))}
        </ol>
        <button
          type="button"
          className="board-tool"
          onClick={() => choose(index + 1)}
          disabled={index >= pages.length - 1}
          aria-label="Next page"
          data-testid="board-page-next"
        >
          ›
        </button>
        <span className="board-stage__page-label muted" data-testid="board-page-label">
          Page {pages.length === 0 ? 0 : index + 1} of {pages.length}
        </span>
        {!follow && followed !== null && followed.page !== currentId && (
          <button
            type="button"
            className="board-tool board-tool--text"
            onClick={() => setFollow(true)}
            data-testid="board-follow"
            title={`Show the page ${followName} is on, and keep following`}
          >
            Follow {followName}
          </button>
        )}
        {mayDraw && (
          <span className="board-stage__page-actions">
            <button type="button" className="board-tool board-tool--text" onClick={addPage} disabled={!loaded} data-testid="board-page-add" title="Add a page after this one">
              + Page
            </button>
            <button type="button" className="board-tool" onClick={() => movePage(-1)} disabled={!loaded || index <= 0} aria-label="Move this page left" title="Move this page left" data-testid="board-page-left">
              ←
            </button>
            <button
              type="button"
              className="board-tool"
              onClick={() => movePage(1)}
              disabled={!loaded || index >= pages.length - 1}
              aria-label="Move this page right"
              title="Move this page right"
              data-testid="board-page-right"
            >
              →
            </button>
            <button
              type="button"
              className="board-tool board-tool--text board-tool--danger"
              onClick={() => setConfirm('remove')}
              disabled={!loaded || pages.length <= 1}
              title={pages.length <= 1 ? 'A board keeps at least one page' : 'Remove this page'}
              data-testid="board-page-remove"
            >
              Remove page
            </button>
          </span>
        )}
      </div>

      {confirm === 'clear' && (
        <ConfirmDialog
          testId="board-clear-dialog"
          title="Clear this page?"
          message={`Everything on page ${index + 1} is erased, for everyone. Undo brings it back.`}
          confirmLabel="Clear page"
          danger
          onConfirm={clearPage}
          onCancel={() => setConfirm(null)}
        />
      )}
      {confirm === 'remove' && (
        <ConfirmDialog
          testId="board-remove-dialog"
          title={`Remove page ${index + 1}?`}
          message="The page and everything on it go, for everyone. Undo brings it back."
          confirmLabel="Remove page"
          danger
          onConfirm={removePage}
          onCancel={() => setConfirm(null)}
        />
      )}
    </section>
  );
}

type Mode = 'hosts' | 'everyone' | 'chosen';

/** A host's choice of who draws besides hosts and presenters: nobody, everyone, or people named. */
function AccessPanel({
  access,
  people,
  onSet,
}: {
  access: BoardAccess;
  people: Participant[];
  onSet: (access: BoardAccess) => void;
}) {
  const given: Mode = access.everyone ? 'everyone' : access.drawers.length > 0 ? 'chosen' : 'hosts';
  // "People I choose" with nobody ticked yet is the same access as "only hosts".
  const [picking, setPicking] = useState(false);
  const mode: Mode = given === 'hosts' && picking ? 'chosen' : given;
  const others = people.filter((p) => !p.host && !p.presenter && !p.you);

  function setMode(next: Mode) {
    setPicking(next === 'chosen');
    if (next === 'hosts') onSet({ everyone: false, drawers: [] });
    else if (next === 'everyone') onSet({ everyone: true, drawers: access.drawers });
    else if (access.everyone) onSet({ everyone: false, drawers: access.drawers });
  }

  function toggle(identity: string) {
    const drawers = access.drawers.includes(identity)
      ? access.drawers.filter((d) => d !== identity)
      : [...access.drawers, identity];
    onSet({ everyone: false, drawers });
  }

  const option = (value: Mode, label: string) => (
    <label className="check">
      <input type="radio" name="board-access" checked={mode === value} onChange={() => setMode(value)} data-testid={`board-access-${value}`} />
      {label}
    </label>
  );

  return (
    <section className="board-menu board-access" role="dialog" aria-label="Who may draw" data-testid="board-access-panel">
      <h3 className="feature-section__title">Who may draw</h3>
      {option('hosts', 'Only hosts and presenters')}
      {option('everyone', 'Everyone in the room')}
      {option('chosen', 'Hosts, presenters and the people I choose')}
      {mode === 'chosen' && (
        <ul className="board-access__people">
          {others.length === 0 && <li className="muted small">Nobody else is here yet.</li>}
          {others.map((p) => (
            <li key={p.identity}>
              <label className="check">
                <input
                  type="checkbox"
                  checked={access.drawers.includes(p.identity)}
                  onChange={() => toggle(p.identity)}
                  data-testid={`board-drawer-${p.identity}`}
                />
                <bdi className="board-access__name" title={p.name}>
                  {p.name}
                </bdi>
              </label>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
