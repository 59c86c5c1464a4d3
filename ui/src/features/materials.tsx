/**
 * Materials (docs/protocol.md, "Materials"): files shared with the room. A tab of the
 * side panel lists them (name, size, who shared it and when, its type, a preview of a
 * picture or of a PDF's first page) with a Download button each; the host, presenters
 * and whoever shared a file delete it. The host, presenters, and everyone once the host
 * allows it, share a file from the "Share a file" button or by dropping it on the window
 * (which opens the tab). Each shared file is also a chat message, drawn as a card with
 * its own Download button.
 *
 * The bytes never pass through here: the app uploads and downloads them (`uploadMaterial`,
 * `downloadMaterial`) and tells of each transfer with `materialTransfer` events, which
 * this feature's `Provider` follows for the panel and the chat cards alike. The list is
 * the relay's (`materialsState.ts`); nothing here changes it before the relay says so.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { ConfirmDialog, Spinner } from '../components/Dialog';
import { Svg } from '../components/Icons';
import { useFeatureRequests } from '../hooks/useFeatureRequests';
import {
  cancelTransfer,
  describeError,
  downloadMaterial,
  featureRequest,
  materialPreview,
  onFileDrop,
  onMaterialTransfer,
  pickMaterialFile,
  uploadMaterial,
  type Material,
} from '../services/studyhall';
import { isolate } from '../state/text';
import type { FeatureSlotProps, MessageSlotProps, ProviderSlotProps, RoomFeatureUi } from './feature';
import {
  downloadOf,
  fileKind,
  findMaterial,
  formatBytes,
  isFinished,
  isImageDataUrl,
  limitsText,
  materialsFromSnapshot,
  materialsReducer,
  mayDelete,
  mayUpload,
  newestFirst,
  nextUpload,
  noTransfers,
  pdfDataUrlBytes,
  pdfPageText,
  percentDone,
  previewKind,
  progressText,
  sharedAtText,
  transfersReducer,
  typeWords,
  unreadSince,
  uploads,
  type FileKind,
  type MaterialsState,
  type PreviewKind,
  type Transfer,
  type TransferAction,
  type TransfersState,
} from './materialsState';

export const MATERIALS_KEY = 'materials';

type Toast = (message: string, tone?: 'error') => void;

export function MaterialsIcon() {
  return (
    <Svg>
      <path d="M3.5 7.5a2 2 0 0 1 2-2h4l2 2.2h7a2 2 0 0 1 2 2V17a2 2 0 0 1-2 2h-13a2 2 0 0 1-2-2z" />
      <path d="M12 11v5M9.8 13.2 12 11l2.2 2.2" />
    </Svg>
  );
}

/** A file's icon: a page, marked by what it holds. */
function FileIcon({ kind }: { kind: FileKind }) {
  return (
    <span className={`file-icon file-icon--${kind}`} aria-hidden="true">
      <Svg>
        <path d="M6.5 3h7.5l4 4v13.5a.5.5 0 0 1-.5.5h-11a.5.5 0 0 1-.5-.5V3.5a.5.5 0 0 1 .5-.5z" />
        <path d="M14 3v4h4" />
        {kind === 'image' && <path d="m8 18 3-3.5 2 2 1.5-1.5L17 18M10 11.5h.01" />}
        {(kind === 'pdf' || kind === 'text' || kind === 'document') && <path d="M9 11h6M9 14h6M9 17h4" />}
        {kind === 'archive' && <path d="M11 7h1M12 9h1M11 11h1M12 13h1M11 15.5h2v2h-2z" />}
      </Svg>
    </span>
  );
}

// What the Provider shares with the panel and the chat cards.

type MaterialsRuntime = {
  transfers: TransfersState;
  /** Upload these files (each waits its turn: the relay takes a few at once per person). */
  share: (paths: string[]) => void;
  /** Download `material` where the user picks; resolves once the save dialog is answered. */
  download: (material: Material) => Promise<void>;
  /** Stop a transfer (a queued upload is only forgotten). */
  cancel: (transfer: Transfer) => void;
  /** Forget a transfer that ended. */
  dismiss: (id: string) => void;
};

const MaterialsContext = createContext<MaterialsRuntime | null>(null);

/** What the room's Provider shares; null outside a room (a component test). */
function useMaterials(): MaterialsRuntime | null {
  return useContext(MaterialsContext);
}

/**
 * Follows this app's transfers, uploads the files the user shares (no more at once than
 * the relay takes) and, while files are dragged over the window, covers the room with a
 * drop target.
 */
function MaterialsProvider(props: ProviderSlotProps<MaterialsState>) {
  const { state, toast, openPanel, children } = props;
  const [transfers, setTransfers] = useState<TransfersState>(noTransfers);
  // The transfers as every action so far leaves them (the state above mirrors it), so an
  // upload starts exactly when a place is free, whatever order the answers come in.
  const latest = useRef<TransfersState>(noTransfers);
  const limit = useRef(state.uploadsAtOnce);
  const [dragging, setDragging] = useState<number | null>(null);
  const allowed = mayUpload(state, props);
  const drop = useRef({ allowed, available: state.available, toast, openPanel });
  useEffect(() => {
    limit.current = state.uploadsAtOnce;
    drop.current = { allowed, available: state.available, toast, openPanel };
  });

  const apply = useCallback((action: TransferAction) => {
    latest.current = transfersReducer(latest.current, action);
    setTransfers(latest.current);
  }, []);

  const pump = useCallback(() => {
    for (;;) {
      const next = nextUpload(latest.current, limit.current);
      if (next === null || next.path === null) return;
      const queued = next.id;
      apply({ type: 'starting', id: queued });
      uploadMaterial(next.path).then(
        (id) => {
          apply({ type: 'started', queued, id });
          pump();
        },
        (error: unknown) => {
          apply({ type: 'refused', queued, error: describeError(error) });
          pump();
        },
      );
    }
  }, [apply]);

  const share = useCallback(
    (paths: string[]) => {
      if (paths.length === 0) return;
      apply({ type: 'queue', paths });
      pump();
    },
    [apply, pump],
  );

  useEffect(
    () =>
      onMaterialTransfer((transfer) => {
        apply({ type: 'progress', transfer });
        if (transfer.state !== 'running') pump();
      }),
    [apply, pump],
  );

  useEffect(
    () =>
      onFileDrop((event) => {
        const { allowed: may, available, toast: say, openPanel: open } = drop.current;
        if (!available) return;
        switch (event.type) {
          case 'enter':
            // Only files (a drag of text in the page carries no paths).
            setDragging(event.paths.length > 0 ? event.paths.length : null);
            break;
          case 'over':
            break;
          case 'leave':
            setDragging(null);
            break;
          case 'drop':
            setDragging(null);
            if (event.paths.length === 0) break;
            if (!may) {
              say('Only the host and presenters share files in this room.', 'error');
              break;
            }
            share(event.paths);
            open(MATERIALS_KEY);
            break;
        }
      }),
    [share],
  );

  const download = useCallback(
    async (material: Material) => {
      try {
        // The app asks where to save it; null: the user cancelled the dialog.
        await downloadMaterial(material, null);
      } catch (error) {
        apply({ type: 'downloadRefused', material, error: describeError(error) });
      }
    },
    [apply],
  );

  const cancel = useCallback(
    (t: Transfer) => {
      if (t.state === 'queued') {
        apply({ type: 'dismiss', id: t.id });
        return;
      }
      // False: it had ended already; its last event says how.
      cancelTransfer(t.id, t.kind, t.name).catch((error: unknown) =>
        toast(`Couldn't stop ${t.kind === 'upload' ? 'sending' : 'downloading'} ${isolate(t.name)}: ${describeError(error)}`, 'error'),
      );
    },
    [apply, toast],
  );

  const dismiss = useCallback((id: string) => apply({ type: 'dismiss', id }), [apply]);

  const runtime = useMemo<MaterialsRuntime>(
    () => ({ transfers, share, download, cancel, dismiss }),
    [transfers, share, download, cancel, dismiss],
  );

  return (
    <MaterialsContext.Provider value={runtime}>
      {children}
      {dragging !== null && (
        <div className={`materials-drop ${allowed ? '' : 'materials-drop--refused'}`} role="status" data-testid="materials-drop">
          <div className="materials-drop__box">
            <MaterialsIcon />
            {allowed ? (
              <>
                <strong>Drop to share {dragging === 1 ? 'this file' : `these ${dragging} files`} with the room</strong>
                <span className="small">{limitsText(state)}</span>
              </>
            ) : (
              <strong>Only the host and presenters share files in this room</strong>
            )}
          </div>
        </div>
      )}
    </MaterialsContext.Provider>
  );
}

// Transfers

/** A transfer's progress and Cancel, or how it ended. */
function TransferStatus({ transfer: t, runtime }: { transfer: Transfer; runtime: MaterialsRuntime }) {
  const upload = t.kind === 'upload';
  if (t.state === 'queued') {
    return (
      <div className="transfer__row">
        <span className="small muted" data-testid="transfer-waiting">
          Waiting for another upload to finish
        </span>
        <button className="button button--ghost button--small" onClick={() => runtime.cancel(t)} data-testid="transfer-cancel">
          Cancel
        </button>
      </div>
    );
  }
  if (t.state === 'starting' || t.state === 'running') {
    const percent = percentDone(t);
    return (
      <div className="transfer__running">
        <div
          className="transfer__bar"
          role="progressbar"
          aria-label={`${upload ? 'Sending' : 'Downloading'} ${t.name}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(percent)}
          data-testid="transfer-progress"
          data-done={t.done}
          data-total={t.total}
        >
          <span style={{ width: `${percent}%` }} />
        </div>
        <div className="transfer__row">
          <span className="small muted" data-testid="transfer-progress-text">
            {t.state === 'starting' ? 'Starting…' : `${upload ? 'Sending' : 'Downloading'} · ${progressText(t)}`}
          </span>
          <button
            className="button button--ghost button--small"
            onClick={() => runtime.cancel(t)}
            disabled={t.state === 'starting'}
            data-testid="transfer-cancel"
          >
            Cancel
          </button>
        </div>
      </div>
    );
  }
  const close = upload && (
    <button
      className="transfer__dismiss"
      onClick={() => runtime.dismiss(t.id)}
      aria-label={`Dismiss ${t.name}`}
      title="Dismiss"
      data-testid="transfer-dismiss"
    >
      ×
    </button>
  );
  if (t.state === 'failed') {
    return (
      <div className="transfer__row">
        <p className="field-error transfer__error" role="alert" data-testid="transfer-error">
          {upload ? "Couldn't share it: " : "Couldn't download it: "}
          {t.error ?? 'it failed'}
        </p>
        {close}
      </div>
    );
  }
  if (t.state === 'cancelled') {
    return (
      <div className="transfer__row">
        <span className="small muted" data-testid="transfer-result">
          {upload ? 'Cancelled: nothing was shared.' : 'Download stopped. Download it again to resume.'}
        </span>
        {close}
      </div>
    );
  }
  return (
    <div className="transfer__row">
      <span className="small ok transfer__result" data-testid="transfer-result" title={upload ? undefined : (t.path ?? undefined)}>
        {upload ? 'Shared with the room' : `Saved to ${t.path ?? 'your computer'}`}
      </span>
      {close}
    </div>
  );
}

/** An upload of yours: its name, then its progress or how it ended. */
function UploadItem({ transfer: t, runtime }: { transfer: Transfer; runtime: MaterialsRuntime }) {
  return (
    <li className={`transfer transfer--${t.state}`} data-testid="upload-item" data-transfer-id={t.id} data-state={t.state}>
      <span className="transfer__name" title={t.name} data-testid="upload-name">
        {t.name}
      </span>
      <TransferStatus transfer={t} runtime={runtime} />
    </li>
  );
}

/** A file's Download button, with its download's progress or result below. */
function DownloadControl({ material, runtime, compact = false }: { material: Material; runtime: MaterialsRuntime; compact?: boolean }) {
  const [asking, setAsking] = useState(false);
  const transfer = downloadOf(runtime.transfers, material.id);
  const running = transfer !== null && !isFinished(transfer);

  function start() {
    if (asking || running) return;
    setAsking(true);
    void runtime.download(material).finally(() => setAsking(false));
  }

  return (
    <>
      {!running && (
        <button
          className={`button button--small ${compact ? '' : 'button--primary'}`}
          onClick={start}
          disabled={asking}
          aria-busy={asking}
          title={`Save ${material.name} on this computer`}
          data-testid="material-download"
        >
          {asking && <Spinner />}
          {transfer?.state === 'cancelled' ? 'Resume download' : transfer?.state === 'done' ? 'Download again' : 'Download'}
        </button>
      )}
      {transfer !== null && (
        <div className="transfer transfer--inline" data-testid="material-download-status" data-state={transfer.state}>
          <TransferStatus transfer={transfer} runtime={runtime} />
        </div>
      )}
    </>
  );
}

// The panel

/** What a preview shows once the app answered. */
type Shown = { kind: 'image'; url: string } | { kind: 'pdf'; data: Uint8Array } | { kind: 'none' };

/** The app's answer for `kind`: only a picture or a PDF as a `data:` URL is shown (never another address). */
function shownFrom(kind: PreviewKind, url: string | null): Shown {
  if (url === null) return { kind: 'none' };
  if (kind === 'image') return isImageDataUrl(url) ? { kind: 'image', url } : { kind: 'none' };
  const data = pdfDataUrlBytes(url);
  return data === null ? { kind: 'none' } : { kind: 'pdf', data };
}

/** How a PDF's first page is drawn: under way, drawn (with its page count), or why not. */
type PdfDrawing = { state: 'drawing' } | { state: 'drawn'; pages: number } | { state: 'failed'; error: string };

/**
 * A PDF's first page on a canvas, as wide as the panel (at most 320 px), with its page
 * count under it. pdf.js is loaded only now (`pdfPreview.ts`, a chunk of its own).
 */
function PdfPage({ data, name }: { data: Uint8Array; name: string }) {
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [drawing, setDrawing] = useState<PdfDrawing>({ state: 'drawing' });

  useEffect(() => {
    const target = canvas.current;
    if (target === null) return;
    const width = box.current?.clientWidth ?? 0;
    const stop = new AbortController();
    import('./pdfPreview')
      .then(({ renderFirstPage }) => renderFirstPage(data, target, width, stop.signal))
      .then(
        ({ pages }) => {
          if (!stop.signal.aborted) setDrawing({ state: 'drawn', pages });
        },
        (error: unknown) => {
          if (!stop.signal.aborted) setDrawing({ state: 'failed', error: pdfError(error) });
        },
      );
    return () => stop.abort();
  }, [data]);

  return (
    <div className="material__pdf" ref={box} data-testid="material-preview-pdf" data-state={drawing.state}>
      <canvas
        ref={canvas}
        className="material__preview-canvas"
        hidden={drawing.state !== 'drawn'}
        role="img"
        aria-label={`Preview of ${name}, page 1`}
        data-testid="material-preview-canvas"
      />
      {drawing.state === 'drawing' && (
        <span className="small muted material__pdf-status" data-testid="material-preview-drawing">
          <Spinner /> Drawing the first page…
        </span>
      )}
      {drawing.state === 'drawn' && (
        <span className="small muted material__pdf-status" data-testid="material-preview-pages">
          {pdfPageText(1, drawing.pages)}
        </span>
      )}
      {drawing.state === 'failed' && (
        <p className="field-error material__error" role="alert" data-testid="material-preview-pdf-error">
          This PDF could not be shown: {drawing.error}
        </p>
      )}
    </div>
  );
}

/** Why pdf.js could not draw a PDF, in a sentence (its messages end without a stop, or with one). */
function pdfError(error: unknown): string {
  const text = (error instanceof Error ? error.message : describeError(error)).trim() || 'it could not be read';
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** A picture's or a PDF's preview, fetched when asked for (the app reads it from the relay each time). */
function Preview({ material, kind }: { material: Material; kind: PreviewKind }) {
  const [shown, setShown] = useState<Shown | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  function show() {
    if (loading) return;
    setLoading(true);
    setError(null);
    materialPreview(material).then(
      (url) => {
        setLoading(false);
        setShown(shownFrom(kind, url));
      },
      (e: unknown) => {
        setLoading(false);
        setError(describeError(e));
      },
    );
  }

  if (shown !== null) {
    return (
      <div className="material__preview">
        {shown.kind === 'none' ? (
          <p className="small muted" data-testid="material-no-preview">
            No preview for this file.
          </p>
        ) : shown.kind === 'image' ? (
          <img className="material__preview-img" src={shown.url} alt={`Preview of ${material.name}`} data-testid="material-preview-img" />
        ) : (
          <PdfPage data={shown.data} name={material.name} />
        )}
        <button className="button button--ghost button--small" onClick={() => setShown(null)} data-testid="material-preview-hide">
          Hide preview
        </button>
      </div>
    );
  }
  return (
    <>
      <button
        className="button button--ghost button--small"
        onClick={show}
        disabled={loading}
        aria-busy={loading}
        title={kind === 'pdf' ? 'Show the first page' : undefined}
        data-testid="material-preview"
      >
        {loading && <Spinner />}
        Preview
      </button>
      {error !== null && (
        <p className="field-error material__error" role="alert" data-testid="material-preview-error">
          {error}
        </p>
      )}
    </>
  );
}

function MaterialItem({
  material: m,
  room,
  runtime,
  onDelete,
}: {
  material: Material;
  room: FeatureSlotProps<MaterialsState>;
  runtime: MaterialsRuntime | null;
  onDelete: (m: Material) => void;
}) {
  const yours = m.by === room.you.identity;
  const deletable = mayDelete(m, room);
  const preview = previewKind(m);
  return (
    <li className={`material ${yours ? 'material--mine' : ''}`} data-testid="material-item" data-material-id={m.id}>
      <div className="material__head">
        <FileIcon kind={fileKind(m.mime)} />
        <span className="material__name" title={m.name} data-testid="material-name">
          {m.name}
        </span>
      </div>
      <div className="material__meta">
        <span data-testid="material-type">{typeWords(m.mime)}</span>
        <span data-testid="material-size" title={`${m.size} bytes`}>
          {formatBytes(m.size)}
        </span>
        <span title={yours ? undefined : m.by_name} data-testid="material-by">
          {yours ? 'shared by you' : `shared by ${m.by_name}`}
        </span>
        <time dateTime={new Date(m.at).toISOString()} data-testid="material-when">
          {sharedAtText(m.at)}
        </time>
      </div>
      <div className="material__actions">
        {runtime !== null && <DownloadControl material={m} runtime={runtime} />}
        {preview !== null && <Preview key={m.id} material={m} kind={preview} />}
        {deletable && (
          <button
            className="button button--ghost button--small material__delete"
            onClick={() => onDelete(m)}
            title="Delete this file for everyone"
            data-testid="material-delete"
          >
            Delete
          </button>
        )}
      </div>
    </li>
  );
}

/** The host's switch: everyone may share files, or only the host and presenters. */
function AccessSwitch({ state, toast }: { state: MaterialsState; toast: Toast }) {
  const { pending, send } = useFeatureRequests(toast);
  const busy = pending('access');
  return (
    <label className="check small materials__access" title="Otherwise only you and the presenters share files">
      <input
        type="checkbox"
        checked={state.anyoneUploads}
        disabled={busy}
        onChange={(e) =>
          void send('access', { type: 'materials_options', anyone_uploads: e.target.checked }, 'change who may share files')
        }
        data-testid="materials-anyone"
      />
      Everyone may share files
      {busy && <Spinner />}
    </label>
  );
}

/** The materials tab: sharing (with the limits), your uploads, the room's files. */
function MaterialsPanel(props: FeatureSlotProps<MaterialsState>) {
  const { state, toast, isHost } = props;
  const runtime = useMaterials();
  const [picking, setPicking] = useState(false);
  const [deleting, setDeleting] = useState<Material | null>(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const allowed = mayUpload(state, props);
  const files = newestFirst(state);
  const mine = runtime === null ? [] : uploads(runtime.transfers);

  function pick() {
    if (picking || runtime === null) return;
    setPicking(true);
    pickMaterialFile().then(
      (path) => {
        setPicking(false);
        if (path !== null) runtime.share([path]);
      },
      (error: unknown) => {
        setPicking(false);
        toast(`Couldn't open the file picker: ${describeError(error)}`, 'error');
      },
    );
  }

  function closeDelete() {
    setDeleting(null);
    setDeleteBusy(false);
    setDeleteError(null);
  }

  function confirmDelete(m: Material) {
    setDeleteBusy(true);
    setDeleteError(null);
    featureRequest({ type: 'material_delete', id: m.id }).then(closeDelete, (error: unknown) => {
      setDeleteBusy(false);
      setDeleteError(describeError(error));
    });
  }

  return (
    <section className="materials" aria-label="Materials" data-testid="materials-panel">
      {!state.available ? (
        <p className="materials__empty muted" data-testid="materials-unavailable">
          This room's relay does not keep shared files.
        </p>
      ) : (
        <>
          <div className="materials__share">
            <div className="materials__share-row">
              {allowed ? (
                <button
                  className="button button--primary button--small"
                  onClick={pick}
                  disabled={picking || runtime === null}
                  aria-busy={picking}
                  title="Pick a file to share, or drop files on the window"
                  data-testid="materials-share"
                >
                  {picking && <Spinner />}
                  Share a file
                </button>
              ) : (
                <span className="small muted" data-testid="materials-who">
                  Only the host and presenters share files here.
                </span>
              )}
              {isHost && <AccessSwitch state={state} toast={toast} />}
            </div>
            <p className="materials__limits small muted" data-testid="materials-limits">
              {limitsText(state)}
            </p>
          </div>
          {runtime !== null && mine.length > 0 && (
            <div className="materials__uploads">
              <h3 className="feature-section__title">Your uploads</h3>
              <ol className="materials__list" aria-label="Your uploads" data-testid="materials-uploads">
                {mine.map((t) => (
                  <UploadItem key={t.id} transfer={t} runtime={runtime} />
                ))}
              </ol>
            </div>
          )}
          {files.length === 0 ? (
            <p className="materials__empty muted" data-testid="materials-empty">
              No files yet.
              {allowed && ' Share one with the button above, or drop it on the window.'}
            </p>
          ) : (
            <ol className="materials__list" aria-label="The room's files" data-testid="materials-list">
              {files.map((m) => (
                <MaterialItem
                  key={m.id}
                  material={m}
                  room={props}
                  runtime={runtime}
                  onDelete={(x) => {
                    setDeleteError(null);
                    setDeleting(x);
                  }}
                />
              ))}
            </ol>
          )}
        </>
      )}
      {deleting !== null && (
        <ConfirmDialog
          testId="material-delete-dialog"
          title="Delete this file?"
          message={
            <>
              <span className="materials__dialog-name">{deleting.name}</span> is deleted for everyone. Its chat message stays,
              but it can no longer be downloaded.
            </>
          }
          confirmLabel="Delete"
          danger
          busy={deleteBusy}
          error={deleteError}
          onConfirm={() => confirmDelete(deleting)}
          onCancel={closeDelete}
        />
      )}
    </section>
  );
}

// Chat

/** A shared file in chat: its card, with a Download button while the room still has it. */
function AttachmentCard({ message, state }: MessageSlotProps<MaterialsState>) {
  const runtime = useMaterials();
  const a = message.attachment;
  if (a === null || a === undefined) return null;
  const material = findMaterial(state, a.id);
  return (
    <div className="attachment" data-testid="chat-attachment" data-material-id={a.id}>
      <div className="attachment__head">
        <FileIcon kind={fileKind(a.mime)} />
        <div className="attachment__text">
          <span className="attachment__name" title={a.name} data-testid="attachment-name">
            {a.name}
          </span>
          <span className="attachment__meta" data-testid="attachment-meta">
            {typeWords(a.mime)} · {formatBytes(a.size)}
          </span>
        </div>
      </div>
      {material === null ? (
        <p className="small muted attachment__gone" data-testid="attachment-gone">
          No longer shared.
        </p>
      ) : (
        runtime !== null && (
          <div className="attachment__actions">
            <DownloadControl material={material} runtime={runtime} compact />
          </div>
        )
      )}
    </div>
  );
}

export const materials: RoomFeatureUi<MaterialsState, 'materials'> = {
  key: MATERIALS_KEY,
  fromSnapshot: materialsFromSnapshot,
  reduce: materialsReducer,
  Panel: MaterialsPanel,
  panelLabel: 'Materials',
  // Only a tab: the toolbar is full at the window's default width (1200 px), and another
  // button there moves its popovers (reactions, the timer) off the screen. A shared file
  // also comes as a chat message, which the chat's button counts.
  panelButton: false,
  panelMark: (state) => state.news,
  panelUnread: unreadSince,
  Provider: MaterialsProvider,
  MessageAttachment: AttachmentCard,
};

