/**
 * A PDF's first page, drawn on a canvas by pdf.js (the Materials tab's PDF preview).
 *
 * This module is loaded only when a PDF preview is opened (`import('./pdfPreview')` in
 * materials.tsx), so pdf.js stays out of the main bundle. pdf.js is given the file's
 * bytes only, never an address: it fetches nothing. Its worker is a file of this build
 * (Vite copies it into `assets/`), so it loads from the app's own origin under the
 * window's content policy (tauri.conf.json: a worker falls under `script-src 'self'`).
 */
import { getDocument, GlobalWorkerOptions, PasswordException } from 'pdfjs-dist';
import type { DocumentInitParameters } from 'pdfjs-dist/types/src/display/api';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';
import { pdfPreviewSize } from './materialsState';

GlobalWorkerOptions.workerSrc = workerUrl;

export type RenderedPdf = {
  /** How many pages the PDF has. */
  pages: number;
};

/**
 * Draws page 1 of the PDF `data` on `canvas`, `boxWidth` CSS pixels wide at most (and no
 * wider than `PDF_PREVIEW_MAX_WIDTH`). Rejects when the PDF cannot be read or drawn, or
 * once `signal` aborts (the preview was closed); everything pdf.js held is let go either way.
 */
export async function renderFirstPage(
  data: Uint8Array,
  canvas: HTMLCanvasElement,
  boxWidth: number,
  signal?: AbortSignal,
): Promise<RenderedPdf> {
  signal?.throwIfAborted();
  const params: DocumentInitParameters & { isEvalSupported: false } = {
    // A copy: pdf.js hands its buffer to its worker, which leaves the caller's empty.
    data: data.slice(),
    // Nothing from anywhere but these bytes: no fonts, character maps, colour profiles or
    // decoders fetched (a font the PDF does not embed is drawn with a system font).
    useWorkerFetch: false,
    // No WebAssembly either (the policy has no 'wasm-unsafe-eval'): pdf.js's JavaScript paths.
    useWasm: false,
    // pdf.js's own eval switch (gone in pdf.js 6, where it never evaluates code); the
    // window's policy has no 'unsafe-eval' either way.
    isEvalSupported: false,
    enableXfa: false,
    stopAtErrors: false,
    // Draw on this page's canvas (no second worker for rendering).
    disableWorkerRendering: true,
    verbosity: 0,
  };
  const task = getDocument(params);
  const destroy = () => void task.destroy().catch(() => {});
  let cancel: (() => void) | null = null;
  const stop = () => {
    cancel?.();
    destroy();
  };
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const pdf = await task.promise;
    signal?.throwIfAborted();
    const page = await pdf.getPage(1);
    signal?.throwIfAborted();
    const unit = page.getViewport({ scale: 1 });
    const size = pdfPreviewSize(unit.width, unit.height, boxWidth, window.devicePixelRatio);
    if (size === null) throw new Error('its first page has no size');
    const viewport = page.getViewport({ scale: size.scale });
    canvas.width = size.canvasWidth;
    canvas.height = size.canvasHeight;
    // Its height follows (the stylesheet's `height: auto`), also when a narrower panel shrinks it.
    canvas.style.width = `${size.cssWidth}px`;
    const ratio = size.canvasWidth / size.cssWidth;
    const render = page.render({
      canvas,
      viewport,
      transform: ratio === 1 ? undefined : [ratio, 0, 0, ratio, 0, 0],
      background: '#ffffff',
    });
    cancel = () => render.cancel();
    await render.promise;
    cancel = null;
    signal?.throwIfAborted();
    return { pages: pdf.numPages };
  } catch (error) {
    // pdf.js says "No password given."; the preview asks for none.
    if (error instanceof PasswordException) throw new Error('it is protected by a password.');
    throw error;
  } finally {
    signal?.removeEventListener('abort', stop);
    destroy();
  }
}
