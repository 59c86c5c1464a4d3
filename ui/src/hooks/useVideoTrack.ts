import { useCallback, useSyncExternalStore } from 'react';
import { videoHub } from '../services/video';

/**
 * Draws track `key` (e.g. `self:camera`, `alice:screen`) into a canvas. Returns the
 * canvas's ref and whether frames are arriving (false: show a placeholder instead).
 * The canvas carries `data-frames`, the number of frames drawn (refreshed ~4×/s).
 */
export function useVideoTrack(key: string | null): {
  ref: (canvas: HTMLCanvasElement | null) => (() => void) | undefined;
  live: boolean;
} {
  const ref = useCallback(
    (canvas: HTMLCanvasElement | null) => {
      if (!canvas || key === null) return undefined;
      return videoHub().attach(key, canvas);
    },
    [key],
  );
  const subscribe = useCallback(
    (listener: () => void) => (key === null ? () => {} : videoHub().subscribe(key, listener)),
    [key],
  );
  const live = useSyncExternalStore(subscribe, () => (key === null ? false : videoHub().isLive(key)));
  return { ref, live };
}
