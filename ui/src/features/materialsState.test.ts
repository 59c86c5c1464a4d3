import { describe, expect, it } from 'vitest';
import type { FeatureEvent, Material } from '../services/types';
import { features, material, materialsState, materialTransfer, participant } from '../test/fixtures';
import {
  baseName,
  downloadOf,
  fileKind,
  formatBytes,
  isImageDataUrl,
  limitsText,
  materialsFromSnapshot,
  materialsReducer,
  mayDelete,
  mayUpload,
  newestFirst,
  nextUpload,
  noTransfers,
  PDF_PREVIEW_MAX_WIDTH,
  pdfDataUrlBytes,
  pdfPageText,
  pdfPreviewSize,
  percentDone,
  previewable,
  previewKind,
  progressText,
  transfersReducer,
  typeWords,
  unreadSince,
  uploads,
  type MaterialsState,
  type TransferAction,
  type TransfersState,
} from './materialsState';

const T0 = 1_795_000_000_000;
const MiB = 1024 * 1024;

const slides = material('a1', 'Week 1 slides.pdf', { at: T0 });
const notes = material('b2', 'notes.md', { mime: 'text/markdown', size: 1200, at: T0 + 1000, by: 'cat-3', by_name: 'Cat' });
const photo = material('c3', 'board.png', { mime: 'image/png', size: 300_000, at: T0 + 2000 });

function joined(items: Material[] = [slides, notes], extra = {}): MaterialsState {
  return materialsFromSnapshot(features({ materials: materialsState({ items, ...extra }) }));
}

const added = (m: Material, usedBytes: number): FeatureEvent => ({ type: 'material_added', material: m, used_bytes: usedBytes });

const ids = (s: MaterialsState) => s.items.map((m) => m.id);

describe('the list of files', () => {
  it('comes from the snapshot, oldest first, with the limits; everything in it is seen', () => {
    const s = joined([notes, slides]);
    expect(ids(s)).toEqual(['a1', 'b2']);
    expect(s).toMatchObject({
      available: true,
      anyoneUploads: false,
      maxFileBytes: 100 * MiB,
      quotaBytes: 1024 * MiB,
      usedBytes: slides.size + notes.size,
      uploadsAtOnce: 2,
    });
    expect(unreadSince(s, s.news)).toBe(0);
    expect(unreadSince(s, 0)).toBe(0);
    expect(newestFirst(s).map((m) => m.id)).toEqual(['b2', 'a1']);
  });

  it('is unavailable with a relay from before materials (no field, or all zeros)', () => {
    const none = features();
    delete (none as Partial<typeof none>).materials;
    expect(materialsFromSnapshot(none)).toMatchObject({ available: false, items: [], maxFileBytes: 0 });
    const zeros = features({ materials: materialsState({ max_file_bytes: 0, quota_bytes: 0, uploads_at_once: 0 }) });
    expect(materialsFromSnapshot(zeros).available).toBe(false);
  });

  it('adds a shared file in time order, replaces one with the same id, and counts news', () => {
    const s0 = joined();
    const s1 = materialsReducer(s0, added(photo, 5_000_000));
    expect(ids(s1)).toEqual(['a1', 'b2', 'c3']);
    expect(s1.usedBytes).toBe(5_000_000);
    expect(unreadSince(s1, s0.news)).toBe(1);
    // An earlier file (a late event) goes in its place.
    const early = material('d4', 'early.txt', { mime: 'text/plain', at: T0 - 10 });
    const s2 = materialsReducer(s1, added(early, 5_000_100));
    expect(ids(s2)).toEqual(['d4', 'a1', 'b2', 'c3']);
    expect(unreadSince(s2, s0.news)).toBe(2);
    // A repeat (a share sent again) replaces and is no news.
    const renamed = { ...photo, by_name: 'Bobby' };
    const s3 = materialsReducer(s2, added(renamed, 5_000_100));
    expect(ids(s3)).toEqual(['d4', 'a1', 'b2', 'c3']);
    expect(s3.items[3]?.by_name).toBe('Bobby');
    expect(s3.news).toBe(s2.news);
  });

  it('does not count the files you shared yourself', () => {
    const s0 = joined();
    const s1 = materialsReducer(s0, added(photo, 1));
    const s2 = materialsReducer(s1, added({ ...material('f6', 'mine.pdf'), by: 'ada-1' }, 2));
    expect(ids(s2)).toEqual(['a1', 'f6', 'b2', 'c3']);
    expect(unreadSince(s2, s0.news, 'ada-1')).toBe(1);
    expect(unreadSince(s2, s0.news, 'bob-2')).toBe(1);
    expect(unreadSince(s2, s0.news)).toBe(2);
  });

  it('drops a deleted file, takes the bytes used, and no longer counts it as new', () => {
    const s0 = joined();
    const s1 = materialsReducer(s0, added(photo, 10));
    const s2 = materialsReducer(s1, { type: 'material_removed', id: 'c3', by: 'ada-1', used_bytes: 4 });
    expect(ids(s2)).toEqual(['a1', 'b2']);
    expect(s2.usedBytes).toBe(4);
    expect(unreadSince(s2, s0.news)).toBe(0);
    // One it never had: only the bytes change.
    const s3 = materialsReducer(s2, { type: 'material_removed', id: 'zz', by: 'ada-1', used_bytes: 3 });
    expect(ids(s3)).toEqual(['a1', 'b2']);
    expect(s3.usedBytes).toBe(3);
  });

  it('takes who may upload; other events change nothing', () => {
    const s0 = joined();
    const s1 = materialsReducer(s0, { type: 'materials_access', anyone_uploads: true, by: 'ada-1' });
    expect(s1.anyoneUploads).toBe(true);
    expect(materialsReducer(s1, { type: 'materials_access', anyone_uploads: true, by: 'ada-1' })).toBe(s1);
    expect(materialsReducer(s1, { type: 'hand_queue', hands: [] })).toBe(s1);
  });

  it('after a rejoin, counts the files shared while away as news and keeps the count going', () => {
    const s0 = joined();
    const s1 = materialsReducer(s0, added(photo, 10));
    const mark = s1.news;
    const late = material('e5', 'late.zip', { mime: 'application/zip', at: T0 + 5000 });
    // photo was deleted while away; late was shared.
    const s2 = materialsFromSnapshot(features({ materials: materialsState({ items: [slides, notes, late] }) }), s1);
    expect(ids(s2)).toEqual(['a1', 'b2', 'e5']);
    expect(s2.news).toBe(mark + 1);
    expect(unreadSince(s2, mark)).toBe(1);
    expect(unreadSince(s2, s0.news)).toBe(1);
  });
});

describe('who may do what', () => {
  const you = participant('ada-1', 'Ada', { you: true });
  const student = { isHost: false, you };

  it('lets the host and presenters upload, and everyone when the host allows it', () => {
    const s = joined();
    expect(mayUpload(s, student)).toBe(false);
    expect(mayUpload(s, { isHost: true, you })).toBe(true);
    expect(mayUpload(s, { isHost: false, you: { ...you, presenter: true } })).toBe(true);
    expect(mayUpload({ ...s, anyoneUploads: true }, student)).toBe(true);
    expect(mayUpload({ ...s, available: false }, { isHost: true, you })).toBe(false);
  });

  it('lets the host, presenters and the uploader delete', () => {
    expect(mayDelete(slides, student)).toBe(false);
    expect(mayDelete({ ...slides, by: 'ada-1' }, student)).toBe(true);
    expect(mayDelete(slides, { isHost: true, you })).toBe(true);
    expect(mayDelete(slides, { isHost: false, you: { ...you, presenter: true } })).toBe(true);
  });
});

describe('words', () => {
  it('says sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(1023)).toBe('1023 bytes');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(2_483_110)).toBe('2.4 MiB');
    expect(formatBytes(12 * MiB)).toBe('12 MiB');
    expect(formatBytes(100 * MiB)).toBe('100 MiB');
    expect(formatBytes(1024 * MiB)).toBe('1 GiB');
    expect(formatBytes(-1)).toBe('?');
  });

  it("says the room's limits", () => {
    expect(limitsText(joined([], { used_bytes: 12 * MiB }))).toBe('Up to 100 MiB a file · 12 MiB of 1 GiB used');
    expect(limitsText(joined([], { quota_bytes: 0 }))).toBe('Up to 100 MiB a file');
  });

  it('names types by content, and previews pictures and PDFs up to 8 MiB', () => {
    expect(typeWords('application/pdf')).toBe('PDF');
    expect(typeWords('image/png')).toBe('PNG image');
    expect(typeWords('image/x-icon')).toBe('Image');
    expect(typeWords('text/plain; charset=utf-8')).toBe('Text');
    expect(typeWords('application/vnd.openxmlformats-officedocument.presentationml.presentation')).toBe('PowerPoint slides');
    expect(typeWords('application/x-unknown')).toBe('application/x-unknown');
    expect(fileKind('application/pdf')).toBe('pdf');
    expect(fileKind('application/vnd.oasis.opendocument.text')).toBe('document');
    expect(fileKind('application/zip')).toBe('archive');
    expect(previewable(photo)).toBe(true);
    expect(previewable({ ...photo, size: 8 * MiB + 1 })).toBe(false);
    expect(previewable({ ...photo, mime: 'image/svg+xml' })).toBe(false);
    expect(previewKind(photo)).toBe('image');
    expect(previewable(slides)).toBe(true);
    expect(previewKind(slides)).toBe('pdf');
    expect(previewKind({ mime: 'Application/PDF', size: 8 * MiB })).toBe('pdf');
    expect(previewKind({ ...slides, size: 8 * MiB + 1 })).toBeNull();
    expect(previewable({ ...slides, size: 8 * MiB + 1 })).toBe(false);
    // Other documents, text and archives are not previewed.
    expect(previewKind({ mime: 'application/vnd.oasis.opendocument.text', size: 1000 })).toBeNull();
    expect(previewKind({ mime: 'text/plain', size: 10 })).toBeNull();
    expect(previewKind({ mime: 'application/zip', size: 10 })).toBeNull();
    expect(previewKind({ mime: 'application/x-pdf-ish', size: 10 })).toBeNull();
  });
});

describe('previews', () => {
  const pdf = '%PDF-1.4\n%\u00e2\u00e3\n1 0 obj';
  const bytesOf = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

  it('decodes a PDF given as a base64 data: URL, and nothing else', () => {
    expect(pdfDataUrlBytes(`data:application/pdf;base64,${btoa(pdf)}`)).toEqual(bytesOf(pdf));
    // Parameters before base64, any case, line breaks in the base64, no padding.
    expect(pdfDataUrlBytes(`DATA:Application/PDF;name=a.pdf;base64,${btoa(pdf).replace(/(.{8})/g, '$1\n')}`)).toEqual(bytesOf(pdf));
    expect(pdfDataUrlBytes(`data:application/pdf;base64,${btoa('%PDF-').replace(/=+$/, '')}`)).toEqual(bytesOf('%PDF-'));
    expect(pdfDataUrlBytes('data:application/pdf;base64,')).toEqual(new Uint8Array(0));
    // Not a PDF, not base64, not a data: URL: nothing for pdf.js.
    expect(pdfDataUrlBytes(`data:image/png;base64,${btoa(pdf)}`)).toBeNull();
    expect(pdfDataUrlBytes(`data:application/pdf,${pdf}`)).toBeNull();
    expect(pdfDataUrlBytes('data:application/pdf;base64,JVBER!0x')).toBeNull();
    expect(pdfDataUrlBytes('data:application/pdf;base64,JVBER')).toBeNull();
    expect(pdfDataUrlBytes('https://example.com/a.pdf')).toBeNull();
    expect(pdfDataUrlBytes(`blob:https://x/${btoa(pdf)}`)).toBeNull();
  });

  it('shows a picture only as a base64 data: URL', () => {
    expect(isImageDataUrl('data:image/png;base64,iVBORw0KGgo=')).toBe(true);
    expect(isImageDataUrl('data:image/svg+xml;base64,PHN2Zz4=')).toBe(true);
    expect(isImageDataUrl('https://example.com/x.png')).toBe(false);
    expect(isImageDataUrl('data:application/pdf;base64,JVBERi0=')).toBe(false);
  });

  it("draws a PDF's page as wide as the panel, 320 px at most, sharp on a dense screen", () => {
    // A4 (595 × 842) in a wide panel: 320 px wide, its height in proportion.
    expect(pdfPreviewSize(595, 842, 600)).toEqual({
      cssWidth: PDF_PREVIEW_MAX_WIDTH,
      cssHeight: 453,
      scale: 320 / 595,
      canvasWidth: 320,
      canvasHeight: 453,
    });
    // A narrow panel: its width; twice the pixels on a 2× screen, no more than 3×.
    expect(pdfPreviewSize(595, 842, 250.6, 2)).toMatchObject({ cssWidth: 250, cssHeight: 354, canvasWidth: 500, canvasHeight: 708 });
    expect(pdfPreviewSize(595, 842, 250, 5)).toMatchObject({ canvasWidth: 750 });
    // Landscape slides.
    expect(pdfPreviewSize(960, 540, 1000)).toMatchObject({ cssWidth: 320, cssHeight: 180, scale: 1 / 3 });
    // No measured panel (not laid out yet): the widest.
    expect(pdfPreviewSize(595, 842, 0)).toMatchObject({ cssWidth: 320 });
    expect(pdfPreviewSize(595, 842, Number.NaN, Number.NaN)).toMatchObject({ cssWidth: 320, canvasWidth: 320 });
    // A page with no size is not drawn.
    expect(pdfPreviewSize(0, 842, 300)).toBeNull();
    expect(pdfPreviewSize(595, Number.POSITIVE_INFINITY, 300)).toBeNull();
  });

  it('counts the pages under it', () => {
    expect(pdfPageText(1, 1)).toBe('Page 1 of 1');
    expect(pdfPageText(1, 12)).toBe('Page 1 of 12');
  });
});

describe('transfers', () => {
  const run = (actions: TransferAction[], from: TransfersState = noTransfers) => actions.reduce(transfersReducer, from);
  const states = (s: TransfersState) => s.list.map((t) => `${t.id}:${t.state}`);

  it('queue uploads, start no more than the room takes at once, and follow the events', () => {
    let s = run([{ type: 'queue', paths: ['/home/ada/a.pdf', 'C:\\Users\\ada\\b.png', '/home/ada/c.md'] }]);
    expect(s.list.map((t) => t.name)).toEqual(['a.pdf', 'b.png', 'c.md']);
    expect(nextUpload(s, 2)?.id).toBe('queued-1');
    s = run([{ type: 'starting', id: 'queued-1' }], s);
    expect(nextUpload(s, 2)?.id).toBe('queued-2');
    s = run([{ type: 'starting', id: 'queued-2' }], s);
    expect(nextUpload(s, 2)).toBeNull();
    // The app's first event may come before its answer with the id: it takes the place
    // of the upload starting from the same file.
    s = run([{ type: 'progress', transfer: materialTransfer('t1', 'a.pdf', { total: 1000, path: '/home/ada/a.pdf' }) }], s);
    expect(states(s)).toEqual(['t1:running', 'queued-2:starting', 'queued-3:queued']);
    s = run(
      [
        { type: 'started', queued: 'queued-1', id: 't1' },
        { type: 'started', queued: 'queued-2', id: 't2' },
        { type: 'progress', transfer: materialTransfer('t2', 'b.png', { done: 500, total: 2000 }) },
      ],
      s,
    );
    expect(states(s)).toEqual(['t1:running', 't2:running', 'queued-3:queued']);
    expect(percentDone(s.list[1]!)).toBe(25);
    expect(progressText(s.list[1]!)).toBe('500 bytes of 2 KiB');
    s = run([{ type: 'progress', transfer: materialTransfer('t1', 'a.pdf', { done: 1000, total: 1000, state: 'done', material: slides }) }], s);
    expect(s.list[0]?.material?.id).toBe('a1');
    expect(s.list[0]?.path).toBe('/home/ada/a.pdf');
    expect(nextUpload(s, 2)?.id).toBe('queued-3');
    expect(uploads(s)).toHaveLength(3);
  });

  it('keep what a cancel does not say, and ignore a progress report that left before the end', () => {
    let s = run([
      { type: 'progress', transfer: materialTransfer('t1', 'a.pdf', { done: 400, total: 1000, path: '/home/ada/a.pdf' }) },
      { type: 'progress', transfer: materialTransfer('t1', 'a.pdf', { done: 0, total: 0, state: 'cancelled' }) },
    ]);
    expect(s.list[0]).toMatchObject({ state: 'cancelled', done: 400, total: 1000, path: '/home/ada/a.pdf' });
    s = run([{ type: 'progress', transfer: materialTransfer('t1', 'a.pdf', { done: 500, total: 1000 }) }], s);
    expect(s.list[0]?.state).toBe('cancelled');
  });

  it("keep the relay's refusal, and one the app gave at once", () => {
    const message = 'the file is 120000000 bytes; the limit is 104857600 (max_upload_bytes)';
    let s = run([
      { type: 'progress', transfer: materialTransfer('t1', 'big.pdf', { total: 120_000_000 }) },
      { type: 'progress', transfer: materialTransfer('t1', 'big.pdf', { total: 120_000_000, state: 'failed', error: message }) },
      { type: 'queue', paths: ['/gone.pdf'] },
      { type: 'starting', id: 'queued-1' },
      { type: 'refused', queued: 'queued-1', error: 'Cannot read /gone.pdf' },
    ]);
    expect(s.list.map((t) => [t.state, t.error])).toEqual([
      ['failed', message],
      ['failed', 'Cannot read /gone.pdf'],
    ]);
    s = run([{ type: 'dismiss', id: 't1' }], s);
    expect(states(s)).toEqual(['queued-1:failed']);
    expect(run([{ type: 'dismiss', id: 'nope' }], s)).toBe(s);
  });

  it('find the latest download of a file', () => {
    const s = run([
      { type: 'progress', transfer: materialTransfer('d1', slides.name, { kind: 'download', material: slides, state: 'cancelled' }) },
      { type: 'progress', transfer: materialTransfer('u1', 'x.pdf') },
      { type: 'progress', transfer: materialTransfer('d2', slides.name, { kind: 'download', material: slides, path: '/home/ada/Downloads/Week 1 slides.pdf' }) },
      { type: 'downloadRefused', material: notes, error: 'Not in a room.' },
    ]);
    expect(downloadOf(s, 'a1')?.id).toBe('d2');
    expect(downloadOf(s, 'b2')).toMatchObject({ state: 'failed', error: 'Not in a room.' });
    expect(downloadOf(s, 'c3')).toBeNull();
    expect(uploads(s).map((t) => t.id)).toEqual(['u1']);
  });

  it('name a file by the last part of its path', () => {
    expect(baseName('/home/ada/Week 1.pdf')).toBe('Week 1.pdf');
    expect(baseName('C:\\Users\\ada\\notes.md')).toBe('notes.md');
    expect(baseName('plain.txt')).toBe('plain.txt');
  });
});
