/**
 * The materials feature's state, without React (docs/protocol.md, "Materials"): the
 * room's shared files as the relay lists them, who may upload, the relay's limits, what
 * is new to this participant; and this app's transfers (uploads and downloads) as the
 * `materialTransfer` events tell of them, by id. Plus the words the UI shows for them
 * (sizes, types, limits).
 *
 * The list changes only with the relay's events ("Keeping the list"): `material_added`
 * replaces a file by id or adds it in `at` order, `material_removed` drops it,
 * `materials_access` says who may upload; a rejoin's snapshot replaces it whole.
 */
import type {
  FeatureEvent,
  FeatureSnapshot,
  Material,
  MaterialTransfer,
  Participant,
  TransferKind,
  TransferState,
} from '../services/types';

/** The largest picture the app previews (the app's `MAX_PREVIEW_BYTES`). */
export const MAX_PREVIEW_BYTES = 8 * 1024 * 1024;

export type MaterialsState = {
  /** Whether the relay keeps files at all (one from before materials sends no limits). */
  available: boolean;
  /** The room's files, oldest first (by `at`). */
  items: Material[];
  /** Everyone may upload, not only the host and presenters. */
  anyoneUploads: boolean;
  /** The relay's limits: one file, the room's files together, uploads at once per person. */
  maxFileBytes: number;
  quotaBytes: number;
  /** What the room's files take now. */
  usedBytes: number;
  uploadsAtOnce: number;
  /**
   * How many times a file new to this list was shared. It only goes up (a rejoin carries
   * it on), so a count of it is a mark to measure what is new since.
   */
  news: number;
  /** The `news` count at which each file still in the room came. */
  newsAt: Readonly<Record<string, number>>;
};

/** `items` ordered by `at`, a file with the same `at` after those already there. */
function insertByTime(items: readonly Material[], material: Material): Material[] {
  const at = items.findIndex((m) => m.at > material.at);
  return at < 0 ? [...items, material] : [...items.slice(0, at), material, ...items.slice(at)];
}

function withNews(state: MaterialsState, ids: string[]): MaterialsState {
  if (ids.length === 0) return state;
  const newsAt = { ...state.newsAt };
  let at = state.news;
  for (const id of ids) newsAt[id] = ++at;
  return { ...state, news: at, newsAt };
}

/**
 * The state at join (every file there counts as seen), or after a rejoin (`previous`):
 * then the files shared while we were away are news, as if their events had come.
 */
export function materialsFromSnapshot(features: FeatureSnapshot, previous?: MaterialsState): MaterialsState {
  // A relay from before materials sends none (or, through the app, all zeros).
  const m = features.materials as Partial<FeatureSnapshot['materials']> | undefined;
  const items = [...(m?.items ?? [])].sort((a, b) => a.at - b.at);
  const base: MaterialsState = {
    available: (m?.max_file_bytes ?? 0) > 0,
    items,
    anyoneUploads: m?.anyone_uploads ?? false,
    maxFileBytes: m?.max_file_bytes ?? 0,
    quotaBytes: m?.quota_bytes ?? 0,
    usedBytes: m?.used_bytes ?? 0,
    uploadsAtOnce: m?.uploads_at_once ?? 0,
    news: 0,
    newsAt: {},
  };
  if (previous === undefined) return base;
  const known = new Set(previous.items.map((x) => x.id));
  const present = new Set(items.map((x) => x.id));
  const newsAt = Object.fromEntries(Object.entries(previous.newsAt).filter(([id]) => present.has(id)));
  const fresh = items.filter((x) => !known.has(x.id)).map((x) => x.id);
  return withNews({ ...base, news: previous.news, newsAt }, fresh);
}

export function materialsReducer(state: MaterialsState, event: FeatureEvent): MaterialsState {
  switch (event.type) {
    case 'material_added': {
      const material = event.material;
      const known = state.items.some((m) => m.id === material.id);
      const items = insertByTime(
        state.items.filter((m) => m.id !== material.id),
        material,
      );
      const next = { ...state, items, usedBytes: event.used_bytes };
      // A repeat is no news (your own files are left out when counting: `unreadSince`).
      return withNews(next, known ? [] : [material.id]);
    }
    case 'material_removed': {
      const newsAt = { ...state.newsAt };
      delete newsAt[event.id];
      return { ...state, items: state.items.filter((m) => m.id !== event.id), usedBytes: event.used_bytes, newsAt };
    }
    case 'materials_access':
      return state.anyoneUploads === event.anyone_uploads ? state : { ...state, anyoneUploads: event.anyone_uploads };
    default:
      return state;
  }
}

/**
 * How many files still in the room came after the mark `seen` (a past `news`), leaving
 * out those `you` (an identity) shared yourself.
 */
export function unreadSince(state: MaterialsState, seen: number, you = ''): number {
  let n = 0;
  for (const m of state.items) {
    const at = state.newsAt[m.id];
    if (at !== undefined && at > seen && m.by !== you) n += 1;
  }
  return n;
}

/** The files, the newest first (as the panel lists them). */
export function newestFirst(state: MaterialsState): Material[] {
  return [...state.items].reverse();
}

export function findMaterial(state: MaterialsState, id: string): Material | null {
  return state.items.find((m) => m.id === id) ?? null;
}

type Role = { isHost: boolean; you: Pick<Participant, 'identity' | 'presenter'> };

/** Whether you may upload: the host and presenters, everyone when the host allows it. */
export function mayUpload(state: MaterialsState, { isHost, you }: Role): boolean {
  return state.available && (isHost || you.presenter || state.anyoneUploads);
}

/** Whether you may delete `material`: the host, presenters and whoever shared it. */
export function mayDelete(material: Pick<Material, 'by'>, { isHost, you }: Role): boolean {
  return isHost || you.presenter || material.by === you.identity;
}

// Words

/** A size in bytes as people read it: `512 bytes`, `2.4 MiB`, `100 MiB`, `1 GiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  if (bytes < 1024) return bytes === 1 ? '1 byte' : `${Math.round(bytes)} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // One decimal below 100 (without a trailing .0), whole numbers above.
  const text = value < 100 ? String(Math.round(value * 10) / 10) : String(Math.round(value));
  return `${text} ${units[unit]}`;
}

/** The room's limits and use: `Up to 100 MiB a file · 12 MiB of 1 GiB used`. */
export function limitsText(state: MaterialsState): string {
  const parts = [`Up to ${formatBytes(state.maxFileBytes)} a file`];
  if (state.quotaBytes > 0) parts.push(`${formatBytes(state.usedBytes)} of ${formatBytes(state.quotaBytes)} used`);
  return parts.join(' · ');
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  'application/pdf': 'PDF',
  'image/png': 'PNG image',
  'image/jpeg': 'JPEG image',
  'image/gif': 'GIF image',
  'image/webp': 'WebP image',
  'image/bmp': 'BMP image',
  'image/avif': 'AVIF image',
  'image/tiff': 'TIFF image',
  'text/plain': 'Text',
  'text/markdown': 'Markdown',
  'application/zip': 'Zip archive',
  'application/msword': 'Word document',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word document',
  'application/vnd.ms-excel': 'Excel spreadsheet',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel spreadsheet',
  'application/vnd.ms-powerpoint': 'PowerPoint slides',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'PowerPoint slides',
  'application/vnd.oasis.opendocument.text': 'OpenDocument text',
  'application/vnd.oasis.opendocument.spreadsheet': 'OpenDocument spreadsheet',
  'application/vnd.oasis.opendocument.presentation': 'OpenDocument slides',
};

/** A file's type in words (from the type the relay found in its content). */
export function typeWords(mime: string): string {
  const bare = mime.split(';')[0]?.trim().toLowerCase() ?? '';
  return TYPE_WORDS[bare] ?? (bare.startsWith('image/') ? 'Image' : bare.startsWith('text/') ? 'Text' : bare || 'File');
}

/** What a file looks like as an icon. */
export type FileKind = 'pdf' | 'image' | 'text' | 'document' | 'archive' | 'other';

export function fileKind(mime: string): FileKind {
  const bare = mime.split(';')[0]?.trim().toLowerCase() ?? '';
  if (bare === 'application/pdf') return 'pdf';
  if (bare.startsWith('image/')) return 'image';
  if (bare.startsWith('text/')) return 'text';
  if (bare === 'application/zip') return 'archive';
  if (bare.startsWith('application/vnd.') || bare === 'application/msword') return 'document';
  return 'other';
}

/** What a preview shows: a picture (an `<img>`), or a PDF's first page (drawn by pdf.js). */
export type PreviewKind = 'image' | 'pdf';

/**
 * How the app previews `material`, or null when it does not: a picture (not SVG, which the
 * relay refuses anyway) or a PDF, of at most 8 MiB (the app reads no more for a preview).
 */
export function previewKind(material: Pick<Material, 'mime' | 'size'>): PreviewKind | null {
  if (!(material.size >= 0 && material.size <= MAX_PREVIEW_BYTES)) return null;
  const bare = material.mime.split(';')[0]?.trim().toLowerCase() ?? '';
  if (bare === 'application/pdf') return 'pdf';
  if (bare.startsWith('image/') && bare !== 'image/svg+xml') return 'image';
  return null;
}

/** Whether the app offers a preview of `material` (`previewKind`). */
export function previewable(material: Pick<Material, 'mime' | 'size'>): boolean {
  return previewKind(material) !== null;
}

/** Whether `url` is a picture as a base64 `data:` URL (the only kind of address an `<img>` preview shows). */
export function isImageDataUrl(url: string): boolean {
  return /^data:image\/[a-z0-9.+-]+;base64,/i.test(url);
}

const PDF_DATA_URL = /^data:application\/pdf(?:;[a-z0-9.+-]+=[^;,]*)*;base64,/i;

/**
 * The bytes of a PDF given as a base64 `data:` URL (what `materialPreview` answers for a
 * PDF); null for anything else (another type, another kind of address, broken base64).
 * Only these bytes reach pdf.js: it is never given an address to fetch.
 */
export function pdfDataUrlBytes(url: string): Uint8Array | null {
  const head = PDF_DATA_URL.exec(url);
  if (head === null) return null;
  const base64 = url.slice(head[0].length).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 === 1) return null;
  let text: string;
  try {
    text = atob(base64);
  } catch {
    return null;
  }
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The widest a PDF page's preview is drawn, in CSS pixels. */
export const PDF_PREVIEW_MAX_WIDTH = 320;

/**
 * How to draw a page `pageWidth` × `pageHeight` (pdf.js units at scale 1) in a box
 * `boxWidth` CSS pixels wide (at most `PDF_PREVIEW_MAX_WIDTH`), on a screen of
 * `pixelRatio`: its size in CSS pixels, the scale for pdf.js, and the canvas's size in
 * device pixels (so it is sharp). Null when either is no size.
 */
export function pdfPreviewSize(
  pageWidth: number,
  pageHeight: number,
  boxWidth: number,
  pixelRatio = 1,
): { cssWidth: number; cssHeight: number; scale: number; canvasWidth: number; canvasHeight: number } | null {
  if (!(pageWidth > 0 && pageHeight > 0) || !Number.isFinite(pageWidth) || !Number.isFinite(pageHeight)) return null;
  const box = Number.isFinite(boxWidth) && boxWidth > 0 ? boxWidth : PDF_PREVIEW_MAX_WIDTH;
  const cssWidth = Math.max(1, Math.floor(Math.min(box, PDF_PREVIEW_MAX_WIDTH)));
  const scale = cssWidth / pageWidth;
  const cssHeight = Math.max(1, Math.round(pageHeight * scale));
  // At most 3 device pixels per CSS pixel: a preview, not a print.
  const ratio = Number.isFinite(pixelRatio) && pixelRatio > 0 ? Math.min(pixelRatio, 3) : 1;
  return {
    cssWidth,
    cssHeight,
    scale,
    canvasWidth: Math.max(1, Math.floor(cssWidth * ratio)),
    canvasHeight: Math.max(1, Math.floor(cssHeight * ratio)),
  };
}

/** Under a PDF's preview: `Page 1 of 12`. */
export function pdfPageText(page: number, pages: number): string {
  return `Page ${page} of ${pages}`;
}

/** When a file was shared: the time today, else the date and time. */
export function sharedAtText(at: number, now: number = Date.now()): string {
  const when = new Date(at);
  const time = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (when.toDateString() === new Date(now).toDateString()) return time;
  return `${when.toLocaleDateString()} ${time}`;
}

// Transfers

/**
 * One of this app's transfers. Uploads the user asked for wait here (`queued`) until
 * fewer than the room's `uploads_at_once` run, then are `starting` until the app gives
 * their id; from then on the `materialTransfer` events tell how they go.
 */
export type Transfer = {
  /** The app's id (given to `cancel_transfer`), or the UI's own (`queued-1`, `failed-1`) before the app gave one. */
  id: string;
  kind: TransferKind;
  name: string;
  done: number;
  total: number;
  state: TransferState | 'queued' | 'starting';
  error: string | null;
  /** Downloads: the file; uploads: the shared file once stored. */
  material: Material | null;
  /** Uploads: the file being sent; downloads: where it is saved. */
  path: string | null;
};

export type TransfersState = {
  /** In the order they were asked for. */
  list: Transfer[];
  /** The last local id handed out (for `queued-N`, `failed-N`). */
  last: number;
};

export const noTransfers: TransfersState = { list: [], last: 0 };

export type TransferAction =
  /** Upload these files (each waits its turn). */
  | { type: 'queue'; paths: string[] }
  /** The queued upload `id` is being handed to the app. */
  | { type: 'starting'; id: string }
  /** The app took the queued upload `queued` as its transfer `id`. */
  | { type: 'started'; queued: string; id: string }
  /** The app refused the queued upload `queued` at once (`upload_material` failed). */
  | { type: 'refused'; queued: string; error: string }
  /** A download the app refused at once (`download_material` failed). */
  | { type: 'downloadRefused'; material: Material; error: string }
  /** A `materialTransfer` event. */
  | { type: 'progress'; transfer: MaterialTransfer }
  /** Forget a transfer (one that ended, or one still waiting). */
  | { type: 'dismiss'; id: string };

/** A file's name from its path (either separator). */
export function baseName(path: string): string {
  const parts = path.split(/[/\\]/).filter((p) => p !== '');
  return parts.at(-1) ?? path;
}

/** Whether a transfer is over (it moves no more). */
export function isFinished(t: Pick<Transfer, 'state'>): boolean {
  return t.state === 'done' || t.state === 'failed' || t.state === 'cancelled';
}

/** Merges an event into what we knew of its transfer (a cancel says only the state). */
function merged(before: Transfer, event: MaterialTransfer): Transfer {
  // A progress report that left before the end must not undo it.
  if (isFinished(before) && event.state === 'running') return before;
  const keepCounts = event.state === 'cancelled' && event.total === 0;
  return {
    ...before,
    kind: event.kind,
    name: event.name || before.name,
    state: event.state,
    done: keepCounts ? before.done : event.done,
    total: keepCounts ? before.total : event.total,
    error: event.error ?? (event.state === 'failed' ? before.error : null),
    material: event.material ?? before.material,
    path: event.path ?? before.path,
  };
}

function fromEvent(event: MaterialTransfer): Transfer {
  return {
    id: event.id,
    kind: event.kind,
    name: event.name,
    done: event.done,
    total: event.total,
    state: event.state,
    error: event.error ?? null,
    material: event.material ?? null,
    path: event.path ?? null,
  };
}

export function transfersReducer(state: TransfersState, action: TransferAction): TransfersState {
  switch (action.type) {
    case 'queue': {
      let last = state.last;
      const added: Transfer[] = action.paths.map((path) => ({
        id: `queued-${++last}`,
        kind: 'upload',
        name: baseName(path),
        done: 0,
        total: 0,
        state: 'queued',
        error: null,
        material: null,
        path,
      }));
      return added.length === 0 ? state : { list: [...state.list, ...added], last };
    }
    case 'starting':
      if (!state.list.some((t) => t.id === action.id && t.state === 'queued')) return state;
      return { ...state, list: state.list.map((t) => (t.id === action.id ? { ...t, state: 'starting' } : t)) };
    case 'started': {
      const queued = state.list.find((t) => t.id === action.queued);
      if (queued === undefined) return state;
      const known = state.list.find((t) => t.id === action.id);
      // Its first event may have come before the answer: it takes the queued one's place.
      const taken: Transfer = known ?? { ...queued, id: action.id, state: 'running' };
      return {
        ...state,
        list: state.list.filter((t) => t.id !== action.id).map((t) => (t.id === action.queued ? taken : t)),
      };
    }
    case 'refused':
      if (!state.list.some((t) => t.id === action.queued)) return state;
      return {
        ...state,
        list: state.list.map((t) => (t.id === action.queued ? { ...t, state: 'failed', error: action.error } : t)),
      };
    case 'downloadRefused': {
      const last = state.last + 1;
      const failed: Transfer = {
        id: `failed-${last}`,
        kind: 'download',
        name: action.material.name,
        done: 0,
        total: action.material.size,
        state: 'failed',
        error: action.error,
        material: action.material,
        path: null,
      };
      return { list: [...state.list, failed], last };
    }
    case 'progress': {
      const event = action.transfer;
      const before = state.list.find((t) => t.id === event.id);
      if (before === undefined) {
        // An upload's first event comes before the app's answer with its id: it is the
        // one starting from the same file.
        const starting = state.list.find((t) => t.state === 'starting' && event.kind === 'upload' && t.path === event.path);
        if (starting !== undefined) {
          return { ...state, list: state.list.map((t) => (t === starting ? merged({ ...t, id: event.id }, event) : t)) };
        }
        return { ...state, list: [...state.list, fromEvent(event)] };
      }
      const after = merged(before, event);
      return after === before ? state : { ...state, list: state.list.map((t) => (t.id === event.id ? after : t)) };
    }
    case 'dismiss':
      if (!state.list.some((t) => t.id === action.id)) return state;
      return { ...state, list: state.list.filter((t) => t.id !== action.id) };
  }
}

/** The uploads, in the order they were asked for. */
export function uploads(state: TransfersState): Transfer[] {
  return state.list.filter((t) => t.kind === 'upload');
}

/** The latest download of the file `materialId`, if any. */
export function downloadOf(state: TransfersState, materialId: string): Transfer | null {
  for (let i = state.list.length - 1; i >= 0; i--) {
    const t = state.list[i];
    if (t !== undefined && t.kind === 'download' && t.material?.id === materialId) return t;
  }
  return null;
}

/**
 * The queued upload to start now, if fewer than `atOnce` run (the relay refuses more:
 * `uploads_at_once`); null when none waits or enough run.
 */
export function nextUpload(state: TransfersState, atOnce: number): Transfer | null {
  const running = state.list.filter((t) => t.kind === 'upload' && (t.state === 'starting' || t.state === 'running'));
  if (running.length >= Math.max(1, atOnce)) return null;
  return state.list.find((t) => t.kind === 'upload' && t.state === 'queued') ?? null;
}

/** How far a transfer got, 0 to 100. */
export function percentDone(t: Pick<Transfer, 'done' | 'total' | 'state'>): number {
  if (t.state === 'done') return 100;
  if (t.total <= 0) return 0;
  return Math.max(0, Math.min(100, (t.done / t.total) * 100));
}

/** `1.2 MiB of 2.4 MiB` (or only what was sent, while the size is not known). */
export function progressText(t: Pick<Transfer, 'done' | 'total'>): string {
  return t.total > 0 ? `${formatBytes(t.done)} of ${formatBytes(t.total)}` : formatBytes(t.done);
}
