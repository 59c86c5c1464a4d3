import { useEffect, useState } from 'react';
import { setView, type VideoSource, type ViewTile } from '../services/studyhall';
import { VIEW_DEBOUNCE_MS, viewTiles, viewToSend, type TileSighting } from '../state/view';

/** A ref callback for a tile's element (React 19: it returns its cleanup). */
export type TileRef = (element: Element | null) => (() => void) | undefined;

/**
 * Tells the relay which of the other participants' video tiles are on screen, and how
 * large (`set_view`, see state/view.ts). Each such tile's element takes the ref
 * `tileRef(identity, video)`; an IntersectionObserver says whether it is on screen (in the
 * viewport, not scrolled out of its strip, not `display: none`) and a ResizeObserver how
 * large. Once the layout has been still for VIEW_DEBOUNCE_MS the view is sent, when it
 * changed. While the window is hidden the view is empty. A change of `resendKey` (who is
 * in the room, a rejoin) sends the view again even when it is the same.
 *
 * Without the observers (a test's DOM) nothing is sent: the relay then sends everything.
 */
export function useViewReport(resendKey: string): (identity: string, video: VideoSource) => TileRef {
  const [watch] = useState(() => new TileWatch((tiles) => setView(tiles)));
  useEffect(() => {
    watch.start();
    return () => watch.stop();
  }, [watch]);
  useEffect(() => watch.changed(true), [watch, resendKey]);
  return watch.tileRef;
}

/** The tiles registered, what the observers saw of them, and the view last sent. */
class TileWatch {
  private readonly tiles = new Map<Element, TileSighting>();
  private readonly refs = new Map<string, TileRef>();
  private intersection: IntersectionObserver | null = null;
  private resize: ResizeObserver | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private sent: ViewTile[] | null = null;
  private force = false;
  private running = false;

  constructor(private readonly send: (tiles: ViewTile[]) => Promise<unknown>) {}

  /** The (stable) ref for `identity`'s `video` tile. */
  readonly tileRef = (identity: string, video: VideoSource): TileRef => {
    const key = JSON.stringify([identity, video]);
    let ref = this.refs.get(key);
    if (ref === undefined) {
      ref = (element) => {
        if (element === null) return undefined;
        this.add(element, identity, video);
        return () => this.remove(element);
      };
      this.refs.set(key, ref);
    }
    return ref;
  };

  start(): void {
    if (this.running) return;
    if (typeof IntersectionObserver === 'undefined' || typeof ResizeObserver === 'undefined') return;
    this.running = true;
    // A sliver of a tile counts as on screen; merely touching the edge does not (the
    // second threshold makes crossing from one to the other call back).
    this.intersection = new IntersectionObserver((entries) => this.sawIntersections(entries), {
      threshold: [0, 0.01],
    });
    this.resize = new ResizeObserver((entries) => this.sawSizes(entries));
    for (const element of this.tiles.keys()) this.observe(element);
    document.addEventListener('visibilitychange', this.onLayout);
    // The device pixel ratio changes with the zoom and the screen, which resize the window.
    window.addEventListener('resize', this.onLayout);
    this.changed(true);
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.intersection?.disconnect();
    this.resize?.disconnect();
    this.intersection = null;
    this.resize = null;
    document.removeEventListener('visibilitychange', this.onLayout);
    window.removeEventListener('resize', this.onLayout);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Something may have changed: send the view once the layout is still (`force`: even if the same). */
  changed(force = false): void {
    if (force) this.force = true;
    if (!this.running) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), VIEW_DEBOUNCE_MS);
  }

  private readonly onLayout = () => this.changed();

  private add(element: Element, identity: string, video: VideoSource): void {
    this.tiles.set(element, { identity, video, visible: false, width: 0, height: 0 });
    if (this.running) this.observe(element);
  }

  private remove(element: Element): void {
    this.intersection?.unobserve(element);
    this.resize?.unobserve(element);
    if (this.tiles.delete(element)) this.changed();
  }

  private observe(element: Element): void {
    // Both call back at once with what they see now.
    this.intersection?.observe(element);
    this.resize?.observe(element);
  }

  private sawIntersections(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const tile = this.tiles.get(entry.target);
      if (tile) tile.visible = entry.isIntersecting && entry.intersectionRatio > 0;
    }
    this.changed();
  }

  private sawSizes(entries: ResizeObserverEntry[]): void {
    for (const entry of entries) {
      const tile = this.tiles.get(entry.target);
      if (!tile) continue;
      const box = entry.borderBoxSize?.[0];
      tile.width = box ? box.inlineSize : entry.contentRect.width;
      tile.height = box ? box.blockSize : entry.contentRect.height;
    }
    this.changed();
  }

  private flush(): void {
    this.timer = null;
    const next = viewTiles(this.tiles.values(), window.devicePixelRatio, document.visibilityState === 'hidden');
    const view = viewToSend(this.sent, next, this.force);
    this.force = false;
    if (view === null) return;
    this.sent = view;
    this.send(view).catch((error: unknown) => {
      // Benign: the room was left or not joined yet, or the relay is reconnecting (the app
      // keeps the last view it had). Nothing for the user to do; the next change sends again.
      console.debug('set_view failed', error);
      if (this.sent === view) this.sent = null;
    });
  }
}
