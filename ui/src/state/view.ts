/**
 * What the room screen tells the relay it shows (`set_view`): the other participants'
 * video tiles on screen now, each with its size in device pixels. The relay sends only
 * their video; the rest is paused until shown again. This is the pure part: building the
 * list from what the observers saw, and deciding whether it is worth sending. The DOM
 * part (the observers, the debounce) is `hooks/useViewReport.ts`.
 */
import type { VideoSource, ViewTile } from '../services/types';

/** The largest tile edge the relay takes, in device pixels (protocol `MAX_TILE_EDGE`). */
export const MAX_TILE_EDGE = 7680;
/** The most tiles one view may name (the relay refuses more). */
export const MAX_VIEW_TILES = 128;
/**
 * Sizes are compared in steps of this many device pixels: a tile a few pixels larger is
 * not worth a view (the relay limits views to 4 a second, and each tile shown again costs
 * its publisher a keyframe).
 */
export const SIZE_STEP = 16;
/** How long the layout stays still before a view is sent (ms), as the protocol asks. */
export const VIEW_DEBOUNCE_MS = 250;

/** One tile as the observers last saw it. */
export type TileSighting = {
  identity: string;
  video: VideoSource;
  /** On screen: intersecting the viewport, after its scroll containers' clipping. */
  visible: boolean;
  /** Its size in CSS pixels (0 when it has no box, e.g. `display: none`). */
  width: number;
  height: number;
};

/** CSS pixels as device pixels: times `ratio`, rounded, within 1..MAX_TILE_EDGE. */
export function devicePixels(css: number, ratio: number): number {
  const scale = Number.isFinite(ratio) && ratio > 0 ? ratio : 1;
  const px = Math.round(css * scale);
  if (Number.isNaN(px)) return 1;
  return Math.min(MAX_TILE_EDGE, Math.max(1, px));
}

/** The step a size falls in; sizes in the same step count as the same. */
export function sizeStep(px: number): number {
  return Math.round(px / SIZE_STEP);
}

const byKey = (a: ViewTile, b: ViewTile) =>
  a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : a.video < b.video ? -1 : a.video > b.video ? 1 : 0;

/**
 * The view to report: the visible tiles with a size, in device pixels (`ratio`: the
 * window's devicePixelRatio), ordered by identity and video so that the same screen gives
 * the same list. A tile seen twice counts once, at its larger size; past MAX_VIEW_TILES
 * the smallest are left out. `hidden` (the window is): nothing is on screen.
 */
export function viewTiles(sightings: Iterable<TileSighting>, ratio: number, hidden: boolean): ViewTile[] {
  if (hidden) return [];
  const tiles = new Map<string, ViewTile>();
  for (const s of sightings) {
    if (!s.visible || !(s.width > 0) || !(s.height > 0)) continue;
    const tile: ViewTile = {
      identity: s.identity,
      video: s.video,
      width: devicePixels(s.width, ratio),
      height: devicePixels(s.height, ratio),
    };
    const key = JSON.stringify([s.identity, s.video]);
    const seen = tiles.get(key);
    if (!seen || area(tile) > area(seen)) tiles.set(key, tile);
  }
  let list = [...tiles.values()];
  if (list.length > MAX_VIEW_TILES) list = list.sort((a, b) => area(b) - area(a)).slice(0, MAX_VIEW_TILES);
  return list.sort(byKey);
}

function area(t: ViewTile): number {
  return t.width * t.height;
}

/** Whether two views show the same tiles at the same sizes (to SIZE_STEP). */
export function sameView(a: readonly ViewTile[], b: readonly ViewTile[]): boolean {
  return (
    a.length === b.length &&
    a.every((t, i) => {
      const u = b[i];
      return (
        u !== undefined &&
        t.identity === u.identity &&
        t.video === u.video &&
        sizeStep(t.width) === sizeStep(u.width) &&
        sizeStep(t.height) === sizeStep(u.height)
      );
    })
  );
}

/**
 * What to send now that the screen shows `next`: `next`, or null when it shows what the
 * view last sent (`sent`, null when none was) showed. `force` sends it anyway (the
 * participants changed, a rejoin).
 */
export function viewToSend(sent: readonly ViewTile[] | null, next: ViewTile[], force: boolean): ViewTile[] | null {
  if (!force && sent !== null && sameView(sent, next)) return null;
  return next;
}
