/**
 * Saving the board: a page as a PNG picture (1920 × 1080, on white), or every page of
 * the board (not the annotation pages) as a PDF, one landscape page each (jsPDF, loaded
 * only when asked for). The bytes go to the app as base64, which saves them in Downloads.
 */
import type { BoardObject } from '../../services/types';
import { PAGE_HEIGHT, PAGE_WIDTH } from './geometry';
import { context2d, drawScene } from './render';

/** The size of an exported page, in pixels. */
export const EXPORT_WIDTH = 1920;
export const EXPORT_HEIGHT = 1080;
/** A PDF page: 16:9 in points (13.33 × 7.5 inches, as widescreen slides are). */
const PDF_WIDTH_PT = 960;
const PDF_HEIGHT_PT = 540;

/** The part of a `data:` URL after `base64,`. */
export function base64Of(dataUrl: string): string {
  const at = dataUrl.indexOf('base64,');
  if (at < 0) throw new Error('The picture could not be made.');
  return dataUrl.slice(at + 'base64,'.length);
}

/** A file name for an export: the room's title and what it is (`Finals week board page 2.png`). */
export function exportName(roomTitle: string, what: string): string {
  const title = roomTitle.trim() || 'Studyhall';
  return `${title} ${what}`;
}

/** One page drawn off-screen on white, as a `data:image/png` URL. */
export function renderPagePng(objects: readonly BoardObject[], width = EXPORT_WIDTH, height = EXPORT_HEIGHT): string {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = context2d(canvas);
  if (!ctx) throw new Error('This window cannot draw pictures.');
  const viewport = { left: 0, top: 0, scaleX: width / PAGE_WIDTH, scaleY: height / PAGE_HEIGHT };
  drawScene(ctx, { width, height, dpr: 1 }, viewport, { objects }, '#ffffff');
  return canvas.toDataURL('image/png');
}

/** A page as PNG bytes in base64. */
export function pagePngBase64(objects: readonly BoardObject[]): string {
  return base64Of(renderPagePng(objects));
}

/** Pages (their objects, in order) as a PDF in base64, one landscape page each. */
export async function boardPdfBase64(pages: readonly (readonly BoardObject[])[]): Promise<string> {
  const { jsPDF } = await import('jspdf');
  const pdf = new jsPDF({ orientation: 'landscape', unit: 'pt', format: [PDF_WIDTH_PT, PDF_HEIGHT_PT], compress: true });
  pages.forEach((objects, i) => {
    if (i > 0) pdf.addPage([PDF_WIDTH_PT, PDF_HEIGHT_PT], 'landscape');
    pdf.addImage(renderPagePng(objects), 'PNG', 0, 0, PDF_WIDTH_PT, PDF_HEIGHT_PT, undefined, 'FAST');
  });
  return base64Of(pdf.output('datauristring'));
}
