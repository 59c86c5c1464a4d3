import { renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Presence } from '../services/types';
import { AWAY_AFTER_MS, useAutoAway } from './presence';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

/** The hook as the toolbar runs it; `relay(p)` is the relay echoing our presence. */
function setup(initial: Presence = 'active', delayMs?: number) {
  const send = vi.fn<(presence: Presence) => Promise<null>>(() => Promise.resolve(null));
  const hook = renderHook(({ presence }: { presence: Presence }) => useAutoAway(presence, send, delayMs), {
    initialProps: { presence: initial },
  });
  return { send, hook, relay: (presence: Presence) => hook.rerender({ presence }) };
}

const input = (type = 'pointermove') => window.dispatchEvent(new Event(type));

describe('automatic away', () => {
  it('sets away after five minutes without input', () => {
    const { send } = setup();
    vi.advanceTimersByTime(AWAY_AFTER_MS - 1);
    expect(send).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(send.mock.calls).toEqual([['away']]);
  });

  it('counts from the last input (pointer, key, wheel, touch)', () => {
    const { send } = setup('active', 1000);
    for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart']) {
      vi.advanceTimersByTime(800);
      input(type);
    }
    vi.advanceTimersByTime(999);
    expect(send).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(send.mock.calls).toEqual([['away']]);
  });

  it('sets active again at the next input when it set away itself, once', () => {
    const { send, relay } = setup('active', 1000);
    vi.advanceTimersByTime(1000);
    expect(send).toHaveBeenCalledWith('away');
    relay('away');
    vi.advanceTimersByTime(60_000);
    expect(send).toHaveBeenCalledTimes(1);
    input('keydown');
    input('pointermove');
    expect(send.mock.calls).toEqual([['away'], ['active']]);
    relay('active');
    input();
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('never overrides a presence the user chose', () => {
    const { send, relay } = setup('on_break', 1000);
    vi.advanceTimersByTime(10_000);
    input('keydown');
    expect(send).not.toHaveBeenCalled();

    // Chosen away (not ours): the next input leaves it.
    relay('active');
    relay('away');
    input('keydown');
    vi.advanceTimersByTime(10_000);
    expect(send).not.toHaveBeenCalled();
  });

  it('leaves "On a break" chosen after an automatic away', () => {
    const { send, relay } = setup('active', 1000);
    vi.advanceTimersByTime(1000);
    relay('away');
    relay('on_break');
    input('keydown');
    relay('away');
    input('keydown');
    expect(send.mock.calls).toEqual([['away']]);
  });

  it('does not come back on input when the user picked a presence meanwhile', () => {
    const { send, hook, relay } = setup('active', 1000);
    vi.advanceTimersByTime(1000);
    hook.result.current.userChose();
    relay('away');
    input('keydown');
    expect(send.mock.calls).toEqual([['away']]);
  });

  it('tries again later when setting away failed', async () => {
    const { send } = setup('active', 1000);
    send.mockRejectedValueOnce(new Error('not in a room'));
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    await vi.advanceTimersByTimeAsync(1000);
    expect(send).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(send.mock.calls).toEqual([['away'], ['away']]);
  });

  it('stops listening when unmounted', () => {
    const { send, hook } = setup('active', 1000);
    hook.unmount();
    vi.advanceTimersByTime(10_000);
    expect(send).not.toHaveBeenCalled();
  });
});
