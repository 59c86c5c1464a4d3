import { act, cleanup, render } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as service from '../services/studyhall';
import type { VideoSource } from '../services/types';
import { VIEW_DEBOUNCE_MS } from '../state/view';
import { useViewReport } from './useViewReport';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);

/** The observers the hook made, driven by the test as the browser would. */
class FakeIntersections {
  static last: FakeIntersections | null = null;
  readonly targets = new Set<Element>();
  constructor(private readonly callback: IntersectionObserverCallback) {
    FakeIntersections.last = this;
  }
  observe(el: Element) {
    this.targets.add(el);
  }
  unobserve(el: Element) {
    this.targets.delete(el);
  }
  disconnect() {
    this.targets.clear();
  }
  see(el: Element, ratio: number) {
    const entry = { target: el, isIntersecting: ratio > 0, intersectionRatio: ratio } as unknown as IntersectionObserverEntry;
    this.callback([entry], this as unknown as IntersectionObserver);
  }
}

class FakeSizes {
  static last: FakeSizes | null = null;
  readonly targets = new Set<Element>();
  constructor(private readonly callback: ResizeObserverCallback) {
    FakeSizes.last = this;
  }
  observe(el: Element) {
    this.targets.add(el);
  }
  unobserve(el: Element) {
    this.targets.delete(el);
  }
  disconnect() {
    this.targets.clear();
  }
  size(el: Element, width: number, height: number) {
    const entry = {
      target: el,
      borderBoxSize: [{ inlineSize: width, blockSize: height }],
      contentRect: { width, height },
    } as unknown as ResizeObserverEntry;
    this.callback([entry], this);
  }
}

function Tiles({ tiles, resendKey = '' }: { tiles: [string, VideoSource][]; resendKey?: string }) {
  const tileRef = useViewReport(resendKey);
  return (
    <>
      {tiles.map(([identity, video]) => (
        <div key={`${identity}:${video}`} data-testid={`${identity}:${video}`} ref={tileRef(identity, video)} />
      ))}
    </>
  );
}

const el = (id: string) => document.querySelector(`[data-testid="${id}"]`)!;
const io = () => FakeIntersections.last!;
const ro = () => FakeSizes.last!;
/** Lets `ms` pass (by default, the debounce). */
function wait(ms: number = VIEW_DEBOUNCE_MS) {
  act(() => {
    vi.advanceTimersByTime(ms);
  });
}
const settle = () => wait();
const views = () => vi.mocked(service.setView).mock.calls.map(([tiles]) => tiles);

/** Shows `id` at `width` × `height` CSS pixels. */
function show(id: string, width: number, height: number) {
  act(() => {
    io().see(el(id), 1);
    ro().size(el(id), width, height);
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubGlobal('IntersectionObserver', FakeIntersections);
  vi.stubGlobal('ResizeObserver', FakeSizes);
  vi.stubGlobal('devicePixelRatio', 2);
  vi.mocked(service.setView).mockClear();
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('the view report', () => {
  it('sends the visible tiles in device pixels once the layout is still, and again only when it changes', () => {
    render(<Tiles tiles={[['bob-2', 'camera'], ['cat-3', 'camera'], ['bob-2', 'screen']]} />);
    show('bob-2:camera', 320, 180);
    show('bob-2:screen', 800, 450);
    act(() => {
      ro().size(el('cat-3:camera'), 320, 180); // scrolled out of sight
    });
    wait(VIEW_DEBOUNCE_MS - 1);
    expect(views()).toEqual([]);
    settle();
    expect(views()).toEqual([
      [
        { identity: 'bob-2', video: 'camera', width: 640, height: 360 },
        { identity: 'bob-2', video: 'screen', width: 1600, height: 900 },
      ],
    ]);

    // A few pixels: nothing. Cat scrolled in: a new view.
    show('bob-2:camera', 322, 181);
    settle();
    expect(views()).toHaveLength(1);
    act(() => {
      io().see(el('cat-3:camera'), 0.3);
    });
    settle();
    expect(views()[1]?.map((t) => t.identity)).toEqual(['bob-2', 'bob-2', 'cat-3']);
  });

  it('leaves out a tile with no box, one merely touching the edge, and one no longer drawn', () => {
    const { rerender } = render(<Tiles tiles={[['bob-2', 'camera'], ['cat-3', 'camera'], ['dan-4', 'camera']]} />);
    show('bob-2:camera', 320, 180);
    act(() => {
      io().see(el('cat-3:camera'), 1); // display: none: no size
    });
    act(() => {
      ro().size(el('dan-4:camera'), 320, 180);
      const touching = { target: el('dan-4:camera'), isIntersecting: true, intersectionRatio: 0 };
      (io() as unknown as { callback: IntersectionObserverCallback }).callback(
        [touching as unknown as IntersectionObserverEntry],
        io() as unknown as IntersectionObserver,
      );
    });
    settle();
    expect(views()).toEqual([[{ identity: 'bob-2', video: 'camera', width: 640, height: 360 }]]);

    rerender(<Tiles tiles={[['cat-3', 'camera'], ['dan-4', 'camera']]} />);
    expect(io().targets.size).toBe(2);
    settle();
    expect(views()[1]).toEqual([]);
  });

  it('sends an empty view while the window is hidden, and the real one when it shows again', () => {
    const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('visible');
    render(<Tiles tiles={[['bob-2', 'camera']]} />);
    show('bob-2:camera', 320, 180);
    settle();
    visibility.mockReturnValue('hidden');
    act(() => {
      document.dispatchEvent(new Event('visibilitychange'));
    });
    settle();
    visibility.mockReturnValue('visible');
    act(() => {
      document.dispatchEvent(new Event('visibilitychange'));
    });
    settle();
    const bob = { identity: 'bob-2', video: 'camera', width: 640, height: 360 };
    expect(views()).toEqual([[bob], [], [bob]]);
  });

  it('sends the same view again when the participants change', () => {
    const { rerender } = render(<Tiles tiles={[['bob-2', 'camera']]} resendKey="a" />);
    show('bob-2:camera', 320, 180);
    settle();
    rerender(<Tiles tiles={[['bob-2', 'camera']]} resendKey="a" />);
    settle();
    expect(views()).toHaveLength(1);
    rerender(<Tiles tiles={[['bob-2', 'camera']]} resendKey="b" />);
    settle();
    expect(views()).toHaveLength(2);
    expect(views()[1]).toEqual(views()[0]);
  });

  it('only logs a failed view, and sends it again on the next change', async () => {
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
    vi.mocked(service.setView).mockRejectedValueOnce(new service.AppError('notInRoom', 'Not in a room.'));
    render(<Tiles tiles={[['bob-2', 'camera']]} />);
    show('bob-2:camera', 320, 180);
    settle();
    await act(async () => {
      await Promise.resolve();
    });
    expect(debug).toHaveBeenCalledWith('set_view failed', expect.any(service.AppError));
    // The same layout, seen again: sent, since the last one did not get through.
    show('bob-2:camera', 321, 180);
    settle();
    expect(views()).toHaveLength(2);
  });

  it('sends nothing without the observers', () => {
    vi.stubGlobal('IntersectionObserver', undefined);
    render(<Tiles tiles={[['bob-2', 'camera']]} />);
    wait(5 * VIEW_DEBOUNCE_MS);
    expect(views()).toEqual([]);
  });
});
