// Materials in the room screen, through the feature seam: the tab and its count, the
// list, who may share and delete, uploads (picked or dropped) with their progress, cancel
// and result, downloads, previews, the host's switch, and a shared file's card in chat.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '../components/Toasts';
import { RoomScreen } from '../screens/RoomScreen';
import * as service from '../services/studyhall';
import { renderFirstPage } from './pdfPreview';
import { AppError, type FileDrop, type Material, type MaterialTransfer, type RoomEvent, type RoomSnapshot } from '../services/studyhall';
import {
  attachment,
  chatMessage,
  chatPage,
  features,
  handlers,
  material,
  materialsState,
  materialTransfer,
  participant,
  resetHandlers,
  snapshot,
} from '../test/serviceMock';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);
// pdf.js draws nothing in jsdom: its module is faked here (the browser tests draw real PDFs).
vi.mock('./pdfPreview', () => ({ renderFirstPage: vi.fn() }));

afterEach(() => {
  cleanup();
  resetHandlers();
  vi.clearAllMocks();
});

const T0 = 1_795_000_000_000;
const slides = material('a1', 'Week 1 slides.pdf', { at: T0 });
const notes = material('b2', 'notes.md', { mime: 'text/markdown', size: 1200, at: T0 + 1000 });
const photo = material('c3', 'board.png', { mime: 'image/png', size: 300_000, at: T0 + 2000, by: 'cat-3', by_name: 'Cat' });

/** Ada is a student here; Bob hosts. */
function student(items: Material[] = [slides], extra: Partial<RoomSnapshot> = {}) {
  return snapshot({
    you: participant('ada-1', 'Ada', { you: true, host: false }),
    participants: [participant('bob-2', 'Bob', { host: true, joinedAt: 2 })],
    features: features({ materials: materialsState({ items }) }),
    ...extra,
  });
}

/** Ada hosts. */
const host = (items: Material[] = [slides]) => snapshot({ features: features({ materials: materialsState({ items }) }) });

function renderRoom(snap: RoomSnapshot) {
  render(
    <ToastProvider>
      <RoomScreen snapshot={snap} invite="K7QX-29FD@192.168.1.20:7450" onExit={() => {}} />
    </ToastProvider>,
  );
}

function emit(event: RoomEvent) {
  act(() => handlers.room.forEach((h) => h(event)));
}

function transfer(t: MaterialTransfer) {
  act(() => handlers.transfer.forEach((h) => h(t)));
}

function drag(d: FileDrop) {
  act(() => handlers.drop.forEach((h) => h(d)));
}

const id = (testId: string) => screen.getByTestId(testId);
/** The tab has no toolbar button: open the panel, then the tab. */
const openMaterials = () => {
  if (screen.queryByTestId('side-panel') === null) fireEvent.click(id('toggle-people'));
  fireEvent.click(id('materials-tab'));
};
const item = (materialId: string) => {
  const el = screen.getAllByTestId('material-item').find((x) => x.dataset.materialId === materialId);
  if (el === undefined) throw new Error(`no item ${materialId}`);
  return within(el);
};
const uploadItems = () => screen.queryAllByTestId('upload-item');

describe('the materials tab', () => {
  it('lists the files, newest first, with their type, size, who shared them and when', () => {
    const long = material('d4', `${'a very long name '.repeat(10)}.pdf`, { at: T0 + 3000, by: 'ada-1', by_name: 'Ada' });
    renderRoom(student([slides, photo, long]));
    openMaterials();
    expect(screen.getAllByTestId('material-item').map((el) => el.dataset.materialId)).toEqual(['d4', 'c3', 'a1']);
    const pdf = item('a1');
    expect(pdf.getByTestId('material-name').textContent).toBe('Week 1 slides.pdf');
    expect(pdf.getByTestId('material-type').textContent).toBe('PDF');
    expect(pdf.getByTestId('material-size').textContent).toBe('2.4 MiB');
    expect(pdf.getByTestId('material-by').textContent).toBe('shared by Bob');
    expect(pdf.getByTestId('material-when').getAttribute('datetime')).toBe(new Date(T0).toISOString());
    // A long name is cut on screen; its title holds the whole.
    expect(item('d4').getByTestId('material-name').getAttribute('title')).toBe(long.name);
    expect(item('d4').getByTestId('material-by').textContent).toBe('shared by you');
    // 2.4 MiB twice and 300 kB.
    expect(id('materials-limits').textContent).toBe('Up to 100 MiB a file · 5 MiB of 1 GiB used');
  });

  it('shows a name as text, never as markup', () => {
    const hostile = material('e5', '<img src=x onerror=alert(1)>.pdf');
    renderRoom(student([hostile]));
    openMaterials();
    expect(item('e5').getByTestId('material-name').textContent).toBe('<img src=x onerror=alert(1)>.pdf');
    expect(id('materials-panel').querySelector('img')).toBeNull();
  });

  it('counts the files shared since the tab was last shown (not your own)', () => {
    renderRoom(student());
    // Only a tab, no toolbar button.
    expect(screen.queryByTestId('toggle-materials')).toBeNull();
    fireEvent.click(id('toggle-people'));
    expect(screen.queryByTestId('materials-tab-unread')).toBeNull();
    emit({ type: 'feature', event: { type: 'material_added', material: photo, used_bytes: 1 } });
    expect(id('materials-tab-unread').textContent).toBe('1');
    const mine = material('f6', 'mine.pdf', { by: 'ada-1', by_name: 'Ada' });
    emit({ type: 'feature', event: { type: 'material_added', material: mine, used_bytes: 2 } });
    expect(id('materials-tab-unread').textContent).toBe('1');
    openMaterials();
    expect(screen.queryByTestId('materials-tab-unread')).toBeNull();
    expect(screen.getAllByTestId('material-item')).toHaveLength(3);
    fireEvent.click(id('chat-tab'));
    emit({ type: 'feature', event: { type: 'material_added', material: material('g7', 'next.pdf'), used_bytes: 3 } });
    expect(id('materials-tab-unread').textContent).toBe('1');
    // Deleted before it was seen: no longer new.
    emit({ type: 'feature', event: { type: 'material_removed', id: 'g7', by: 'bob-2', used_bytes: 2 } });
    expect(screen.queryByTestId('materials-tab-unread')).toBeNull();
  });

  it('says so when the relay keeps no files', () => {
    renderRoom(snapshot({ features: features({ materials: materialsState({ max_file_bytes: 0 }) }) }));
    openMaterials();
    expect(id('materials-unavailable')).toBeTruthy();
    expect(screen.queryByTestId('materials-share')).toBeNull();
  });
});

describe('who may share and delete', () => {
  it('a student shares nothing and deletes only their own files, until the host lets everyone share', () => {
    const own = material('h8', 'mine.md', { mime: 'text/markdown', by: 'ada-1', by_name: 'Ada' });
    renderRoom(student([slides, own]));
    openMaterials();
    expect(screen.queryByTestId('materials-share')).toBeNull();
    expect(id('materials-who').textContent).toContain('Only the host and presenters');
    expect(screen.queryByTestId('materials-anyone')).toBeNull();
    expect(item('a1').queryByTestId('material-delete')).toBeNull();
    expect(item('h8').getByTestId('material-delete')).toBeTruthy();
    emit({ type: 'feature', event: { type: 'materials_access', anyone_uploads: true, by: 'bob-2' } });
    expect(id('materials-share')).toBeTruthy();
  });

  it('a presenter shares and deletes any file', () => {
    renderRoom(student([slides], { you: participant('ada-1', 'Ada', { you: true, presenter: true }) }));
    openMaterials();
    expect(id('materials-share')).toBeTruthy();
    expect(item('a1').getByTestId('material-delete')).toBeTruthy();
  });

  it('the host lets everyone share, and deletes a file after confirming', async () => {
    renderRoom(host());
    openMaterials();
    const anyone = screen.getByTestId<HTMLInputElement>('materials-anyone');
    expect(anyone.checked).toBe(false);
    fireEvent.click(anyone);
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'materials_options', anyone_uploads: true });
    // The relay's word sets it.
    await waitFor(() => expect(anyone.disabled).toBe(false));
    expect(anyone.checked).toBe(false);
    emit({ type: 'feature', event: { type: 'materials_access', anyone_uploads: true, by: 'ada-1' } });
    expect(anyone.checked).toBe(true);

    fireEvent.click(item('a1').getByTestId('material-delete'));
    expect(id('material-delete-dialog').textContent).toContain('Week 1 slides.pdf');
    vi.mocked(service.featureRequest).mockRejectedValueOnce(new AppError('refused', 'not_found: no such file'));
    fireEvent.click(id('confirm-ok'));
    await waitFor(() => expect(within(id('material-delete-dialog')).getByRole('alert').textContent).toBe('not_found: no such file'));
    fireEvent.click(id('confirm-ok'));
    await waitFor(() => expect(screen.queryByTestId('material-delete-dialog')).toBeNull());
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'material_delete', id: 'a1' });
    emit({ type: 'feature', event: { type: 'material_removed', id: 'a1', by: 'ada-1', used_bytes: 0 } });
    expect(id('materials-empty')).toBeTruthy();
  });
});

describe('uploads', () => {
  it('pick a file, show its progress, then that it was shared', async () => {
    vi.mocked(service.pickMaterialFile).mockResolvedValueOnce('/home/ada/Week 2.pdf');
    vi.mocked(service.uploadMaterial).mockResolvedValueOnce('t1');
    renderRoom(host());
    openMaterials();
    fireEvent.click(id('materials-share'));
    await waitFor(() => expect(service.uploadMaterial).toHaveBeenCalledWith('/home/ada/Week 2.pdf'));
    transfer(materialTransfer('t1', 'Week 2.pdf', { total: 4000, path: '/home/ada/Week 2.pdf' }));
    transfer(materialTransfer('t1', 'Week 2.pdf', { done: 1000, total: 4000 }));
    const [up] = uploadItems();
    expect(up?.dataset.transferId).toBe('t1');
    expect(within(up!).getByTestId('upload-name').textContent).toBe('Week 2.pdf');
    expect(within(up!).getByTestId('transfer-progress').getAttribute('aria-valuenow')).toBe('25');
    expect(within(up!).getByTestId('transfer-progress-text').textContent).toBe('Sending · 1000 bytes of 3.9 KiB');
    const shared = material('i9', 'Week 2.pdf', { by: 'ada-1', size: 4000 });
    transfer(materialTransfer('t1', 'Week 2.pdf', { done: 4000, total: 4000, state: 'done', material: shared }));
    expect(within(uploadItems()[0]!).getByTestId('transfer-result').textContent).toBe('Shared with the room');
    fireEvent.click(within(uploadItems()[0]!).getByTestId('transfer-dismiss'));
    expect(uploadItems()).toHaveLength(0);
  });

  it("can be cancelled, and show the relay's refusal", async () => {
    vi.mocked(service.pickMaterialFile).mockResolvedValueOnce('/home/ada/a.pdf').mockResolvedValueOnce('/home/ada/big.pdf');
    vi.mocked(service.uploadMaterial).mockResolvedValueOnce('t1').mockResolvedValueOnce('t2');
    renderRoom(host());
    openMaterials();
    fireEvent.click(id('materials-share'));
    await waitFor(() => expect(service.uploadMaterial).toHaveBeenCalledTimes(1));
    transfer(materialTransfer('t1', 'a.pdf', { done: 10, total: 100 }));
    fireEvent.click(within(uploadItems()[0]!).getByTestId('transfer-cancel'));
    expect(service.cancelTransfer).toHaveBeenCalledWith('t1', 'upload', 'a.pdf');
    transfer(materialTransfer('t1', 'a.pdf', { done: 0, total: 0, state: 'cancelled' }));
    expect(within(uploadItems()[0]!).getByTestId('transfer-result').textContent).toBe('Cancelled: nothing was shared.');

    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('materials-share').disabled).toBe(false));
    fireEvent.click(id('materials-share'));
    await waitFor(() => expect(service.uploadMaterial).toHaveBeenCalledTimes(2));
    const message = 'the file is 120000000 bytes; the limit is 104857600 (max_upload_bytes)';
    transfer(materialTransfer('t2', 'big.pdf', { total: 120_000_000, state: 'failed', error: message }));
    expect(within(uploadItems()[1]!).getByTestId('transfer-error').textContent).toBe(`Couldn't share it: ${message}`);
  });

  it('dropped on the window: an overlay while dragging, then no more at once than the room takes', async () => {
    let n = 0;
    vi.mocked(service.uploadMaterial).mockImplementation(() => Promise.resolve(`t${++n}`));
    renderRoom(host());
    drag({ type: 'enter', paths: ['/a.pdf', '/b.pdf', '/c.pdf'] });
    expect(id('materials-drop').textContent).toContain('these 3 files');
    expect(id('materials-drop').textContent).toContain('Up to 100 MiB a file');
    drag({ type: 'leave' });
    expect(screen.queryByTestId('materials-drop')).toBeNull();
    drag({ type: 'enter', paths: ['/a.pdf', '/b.pdf', '/c.pdf'] });
    drag({ type: 'drop', paths: ['/a.pdf', '/b.pdf', '/c.pdf'] });
    expect(screen.queryByTestId('materials-drop')).toBeNull();
    // The panel opens on the uploads.
    expect(id('side-panel').dataset.tab).toBe('materials');
    await waitFor(() => expect(uploadItems().map((el) => el.dataset.state)).toEqual(['running', 'running', 'queued']));
    expect(service.uploadMaterial).toHaveBeenCalledTimes(2);
    // One ends: the waiting one starts.
    transfer(materialTransfer('t1', 'a.pdf', { state: 'done', done: 1000, material: slides }));
    await waitFor(() => expect(service.uploadMaterial).toHaveBeenCalledTimes(3));
    expect(vi.mocked(service.uploadMaterial).mock.calls.map(([p]) => p)).toEqual(['/a.pdf', '/b.pdf', '/c.pdf']);
  });

  it('a waiting upload cancelled is forgotten; a drop where you may not share is refused', async () => {
    vi.mocked(service.uploadMaterial).mockImplementation(() => new Promise(() => {}));
    renderRoom(host());
    drag({ type: 'drop', paths: ['/a.pdf', '/b.pdf', '/c.pdf'] });
    await waitFor(() => expect(uploadItems().map((el) => el.dataset.state)).toEqual(['starting', 'starting', 'queued']));
    fireEvent.click(within(uploadItems()[2]!).getByTestId('transfer-cancel'));
    expect(uploadItems()).toHaveLength(2);
    expect(service.cancelTransfer).not.toHaveBeenCalled();
    cleanup();
    resetHandlers();

    renderRoom(student());
    drag({ type: 'enter', paths: ['/a.pdf'] });
    expect(id('materials-drop').textContent).toContain('Only the host and presenters');
    drag({ type: 'drop', paths: ['/a.pdf'] });
    expect(await screen.findByText('Only the host and presenters share files in this room.')).toBeTruthy();
    expect(service.uploadMaterial).toHaveBeenCalledTimes(2);
  });
});

describe('downloads and previews', () => {
  it('download where the user picks, with progress, Cancel, and where it was saved', async () => {
    vi.mocked(service.downloadMaterial).mockResolvedValueOnce('d1');
    renderRoom(student());
    openMaterials();
    fireEvent.click(item('a1').getByTestId('material-download'));
    expect(service.downloadMaterial).toHaveBeenCalledWith(slides, null);
    const down = (extra: Partial<MaterialTransfer>) =>
      transfer(materialTransfer('d1', slides.name, { kind: 'download', material: slides, total: slides.size, path: '/home/ada/Downloads/Week 1 slides.pdf', ...extra }));
    down({ done: slides.size / 2 });
    expect(item('a1').getByTestId('transfer-progress').getAttribute('aria-valuenow')).toBe('50');
    expect(item('a1').queryByTestId('material-download')).toBeNull();
    fireEvent.click(item('a1').getByTestId('transfer-cancel'));
    expect(service.cancelTransfer).toHaveBeenCalledWith('d1', 'download', slides.name);
    transfer(materialTransfer('d1', slides.name, { kind: 'download', done: 0, total: 0, state: 'cancelled' }));
    expect(item('a1').getByTestId('transfer-result').textContent).toContain('Download it again to resume');
    expect(item('a1').getByTestId('material-download').textContent).toBe('Resume download');

    vi.mocked(service.downloadMaterial).mockResolvedValueOnce('d2');
    await waitFor(() => expect(item('a1').getByTestId<HTMLButtonElement>('material-download').disabled).toBe(false));
    fireEvent.click(item('a1').getByTestId('material-download'));
    await waitFor(() => expect(service.downloadMaterial).toHaveBeenCalledTimes(2));
    transfer(materialTransfer('d2', slides.name, { kind: 'download', material: slides, state: 'done', done: slides.size, total: slides.size, path: '/home/ada/Downloads/Week 1 slides.pdf' }));
    expect(item('a1').getByTestId('transfer-result').textContent).toBe('Saved to /home/ada/Downloads/Week 1 slides.pdf');
  });

  it('a download refused or failed says why; a cancelled save dialog changes nothing', async () => {
    renderRoom(student());
    openMaterials();
    fireEvent.click(item('a1').getByTestId('material-download'));
    await waitFor(() => expect(item('a1').getByTestId<HTMLButtonElement>('material-download').disabled).toBe(false));
    expect(item('a1').queryByTestId('material-download-status')).toBeNull();
    vi.mocked(service.downloadMaterial).mockRejectedValueOnce(new AppError('notInRoom', 'Not in a room.'));
    fireEvent.click(item('a1').getByTestId('material-download'));
    expect((await waitFor(() => item('a1').getByTestId('transfer-error'))).textContent).toBe("Couldn't download it: Not in a room.");
    vi.mocked(service.downloadMaterial).mockResolvedValueOnce('d3');
    fireEvent.click(item('a1').getByTestId('material-download'));
    await waitFor(() => expect(service.downloadMaterial).toHaveBeenCalledTimes(3));
    transfer(materialTransfer('d3', slides.name, { kind: 'download', material: slides, state: 'failed', error: 'the download does not match its checksum' }));
    expect(item('a1').getByTestId('transfer-error').textContent).toBe("Couldn't download it: the download does not match its checksum");
  });

  it('previews a picture when asked', async () => {
    vi.mocked(service.materialPreview).mockResolvedValueOnce('data:image/png;base64,iVBORw0KGgo=');
    renderRoom(student([notes, photo]));
    openMaterials();
    // Text is not previewed.
    expect(item('b2').queryByTestId('material-preview')).toBeNull();
    fireEvent.click(item('c3').getByTestId('material-preview'));
    const img = await waitFor(() => item('c3').getByTestId<HTMLImageElement>('material-preview-img'));
    expect(service.materialPreview).toHaveBeenCalledWith(photo);
    expect(img.getAttribute('src')).toBe('data:image/png;base64,iVBORw0KGgo=');
    expect(img.alt).toBe('Preview of board.png');
    fireEvent.click(item('c3').getByTestId('material-preview-hide'));
    expect(item('c3').queryByTestId('material-preview-img')).toBeNull();
    // Anything but a picture's data: URL is not shown.
    vi.mocked(service.materialPreview).mockResolvedValueOnce('https://example.com/x.png');
    fireEvent.click(item('c3').getByTestId('material-preview'));
    await waitFor(() => expect(item('c3').getByTestId('material-no-preview')).toBeTruthy());
    expect(renderFirstPage).not.toHaveBeenCalled();
  });

  it("previews a PDF's first page, with its page count; one that cannot be read says why", async () => {
    const pdf = '%PDF-1.7\n1 0 obj';
    vi.mocked(service.materialPreview).mockResolvedValue(`data:application/pdf;base64,${btoa(pdf)}`);
    let finish: (pages: number) => void = () => {};
    vi.mocked(renderFirstPage).mockImplementationOnce(
      () => new Promise((resolve) => (finish = (pages) => resolve({ pages }))),
    );
    renderRoom(student([slides]));
    openMaterials();
    fireEvent.click(item('a1').getByTestId('material-preview'));
    await waitFor(() => expect(renderFirstPage).toHaveBeenCalledTimes(1));
    expect(service.materialPreview).toHaveBeenCalledWith(slides);
    // pdf.js gets the file's bytes (never an address) and the canvas, to draw as wide as the panel.
    const [data, canvas, width, signal] = vi.mocked(renderFirstPage).mock.calls[0] ?? [];
    expect(data).toEqual(Uint8Array.from(pdf, (c) => c.charCodeAt(0)));
    expect(canvas).toBe(item('a1').getByTestId('material-preview-canvas'));
    expect(typeof width).toBe('number');
    expect(signal?.aborted).toBe(false);
    expect(item('a1').getByTestId('material-preview-drawing').textContent).toContain('Drawing the first page');
    expect(item('a1').getByTestId<HTMLCanvasElement>('material-preview-canvas').hidden).toBe(true);
    act(() => finish(12));
    expect((await waitFor(() => item('a1').getByTestId('material-preview-pages'))).textContent).toBe('Page 1 of 12');
    const drawn = item('a1').getByTestId<HTMLCanvasElement>('material-preview-canvas');
    expect(drawn.hidden).toBe(false);
    expect(drawn.getAttribute('role')).toBe('img');
    expect(drawn.getAttribute('aria-label')).toBe('Preview of Week 1 slides.pdf, page 1');
    expect(item('a1').queryByTestId('material-preview-drawing')).toBeNull();
    fireEvent.click(item('a1').getByTestId('material-preview-hide'));
    expect(item('a1').queryByTestId('material-preview-canvas')).toBeNull();

    // pdf.js cannot read it: the reason, and no canvas.
    vi.mocked(renderFirstPage).mockRejectedValueOnce(new Error('Invalid PDF structure.'));
    fireEvent.click(item('a1').getByTestId('material-preview'));
    const error = await waitFor(() => item('a1').getByTestId('material-preview-pdf-error'));
    expect(error.textContent).toBe('This PDF could not be shown: Invalid PDF structure.');
    expect(error.getAttribute('role')).toBe('alert');
    expect(item('a1').getByTestId<HTMLCanvasElement>('material-preview-canvas').hidden).toBe(true);
    expect(item('a1').queryByTestId('material-preview-pages')).toBeNull();
    fireEvent.click(item('a1').getByTestId('material-preview-hide'));
    vi.mocked(renderFirstPage).mockRejectedValueOnce(new Error('Failed to fetch dynamically imported module'));
    fireEvent.click(item('a1').getByTestId('material-preview'));
    expect((await waitFor(() => item('a1').getByTestId('material-preview-pdf-error'))).textContent).toBe(
      'This PDF could not be shown: Failed to fetch dynamically imported module.',
    );
    fireEvent.click(item('a1').getByTestId('material-preview-hide'));

    // Hidden while it draws: the drawing is stopped.
    vi.mocked(renderFirstPage).mockImplementationOnce(() => new Promise(() => {}));
    const calls = vi.mocked(renderFirstPage).mock.calls.length;
    fireEvent.click(item('a1').getByTestId('material-preview'));
    await waitFor(() => expect(renderFirstPage).toHaveBeenCalledTimes(calls + 1));
    const stop = vi.mocked(renderFirstPage).mock.calls[calls]?.[3];
    fireEvent.click(item('a1').getByTestId('material-preview-hide'));
    expect(stop?.aborted).toBe(true);

    // Not a PDF's data: URL after all: nothing for pdf.js.
    vi.mocked(service.materialPreview).mockResolvedValueOnce('data:text/html;base64,PGI+aGk8L2I+');
    fireEvent.click(item('a1').getByTestId('material-preview'));
    await waitFor(() => expect(item('a1').getByTestId('material-no-preview')).toBeTruthy());
    expect(renderFirstPage).toHaveBeenCalledTimes(calls + 1);
  });

  it('offers no preview of a PDF over 8 MiB', () => {
    renderRoom(student([{ ...slides, size: 8 * 1024 * 1024 + 1 }]));
    openMaterials();
    expect(item('a1').queryByTestId('material-preview')).toBeNull();
  });
});

describe('a shared file in chat', () => {
  it('is a card with its name, type, size and a Download button; gone once deleted', async () => {
    const message = chatMessage(7, 'Week 1 slides.pdf', { clientMsgId: `material-${slides.id}`, attachment: attachment(slides) });
    renderRoom(student([slides], { chat: chatPage({ messages: [chatMessage(6, 'hello'), message] }) }));
    fireEvent.click(id('toggle-chat'));
    const card = within(id('chat-attachment'));
    expect(card.getByTestId('attachment-name').textContent).toBe('Week 1 slides.pdf');
    expect(card.getByTestId('attachment-name').getAttribute('title')).toBe('Week 1 slides.pdf');
    expect(card.getByTestId('attachment-meta').textContent).toBe('PDF · 2.4 MiB');
    // The plain message keeps its text; the file's message shows the card in its place.
    expect(screen.getAllByTestId('chat-text').map((el) => el.textContent)).toEqual(['hello']);
    vi.mocked(service.downloadMaterial).mockResolvedValueOnce('d1');
    fireEvent.click(card.getByTestId('material-download'));
    expect(service.downloadMaterial).toHaveBeenCalledWith(slides, null);
    await waitFor(() => expect(service.downloadMaterial).toHaveBeenCalledTimes(1));
    transfer(materialTransfer('d1', slides.name, { kind: 'download', material: slides, done: 100, total: slides.size }));
    expect(card.getByTestId('transfer-progress')).toBeTruthy();
    emit({ type: 'feature', event: { type: 'material_removed', id: slides.id, by: 'bob-2', used_bytes: 0 } });
    expect(card.getByTestId('attachment-gone').textContent).toBe('No longer shared.');
    expect(card.queryByTestId('material-download')).toBeNull();
  });
});
