/**
 * The room's gallery (the grid of video tiles when nothing is shown large), in pages of
 * at most TILES_PER_PAGE tiles, as Zoom's gallery: our own tile first on page 1, then
 * the others in the order they joined. Nobody moves between pages for speaking, so the
 * tiles stay where people last saw them. Tiles on other pages are not drawn, so the
 * relay need not send their video.
 */

/** The most tiles on one page: a 3 × 3 grid. */
export const TILES_PER_PAGE = 9;

/** How many pages `tiles` tiles fill (at least one). */
export function pageCount(tiles: number, perPage: number = TILES_PER_PAGE): number {
  return Math.max(1, Math.ceil(tiles / Math.max(1, perPage)));
}

/** `page` (counted from 0) kept within the `pages` there are. */
export function clampPage(page: number, pages: number): number {
  if (!Number.isFinite(page)) return 0;
  return Math.min(Math.max(0, Math.trunc(page)), Math.max(1, pages) - 1);
}

export type GalleryPage<T> = {
  /** The tiles on this page, in order. */
  tiles: T[];
  /** The page shown, from 0 (the one asked for, clamped: people may have left). */
  page: number;
  pages: number;
};

/** Page `page` of the gallery of `you` and `others` (in the order they joined). */
export function galleryPage<T>(
  you: T,
  others: readonly T[],
  page: number,
  perPage: number = TILES_PER_PAGE,
): GalleryPage<T> {
  const all = [you, ...others];
  const size = Math.max(1, perPage);
  const pages = pageCount(all.length, size);
  const shown = clampPage(page, pages);
  return { tiles: all.slice(shown * size, (shown + 1) * size), page: shown, pages };
}
