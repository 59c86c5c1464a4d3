import { act, renderHook } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { messagesWord, useChatAlerts } from './useChatAlerts';

function setup(quiet = false) {
  const announce = vi.fn<(text: string) => void>();
  const hook = renderHook(() => useChatAlerts(quiet, announce));
  const alerts = () => hook.result.current;
  return { announce, alerts };
}

describe('chat alerts', () => {
  it('count new messages as unread', () => {
    const { alerts, announce } = setup();
    act(() => alerts().received());
    act(() => alerts().received());
    expect(alerts().unread).toBe(2);
    expect(alerts().held).toBe(0);
    expect(announce).not.toHaveBeenCalled();
  });

  it('only count quietly while a feature asks for quiet, and tell of them once when it stops', () => {
    const { alerts, announce } = setup();
    act(() => alerts().received());
    act(() => {
      alerts().setQuiet(true);
      alerts().received();
      alerts().received();
      alerts().received();
    });
    expect(alerts().unread).toBe(1);
    expect(alerts().held).toBe(3);
    expect(announce).not.toHaveBeenCalled();

    act(() => alerts().setQuiet(false));
    expect(alerts().held).toBe(0);
    expect(alerts().unread).toBe(4);
    expect(announce.mock.calls).toEqual([['3 new messages in the chat']]);

    // The quiet ending again (another event) does not tell it twice.
    act(() => alerts().setQuiet(false));
    expect(announce).toHaveBeenCalledTimes(1);
  });

  it('hold from the start when the room is quiet as we join', () => {
    const { alerts, announce } = setup(true);
    act(() => alerts().received());
    expect(alerts().held).toBe(1);
    act(() => alerts().setQuiet(false));
    expect(announce.mock.calls).toEqual([['1 new message in the chat']]);
  });

  it('follow the order of events: a message after the quiet ended is not held', () => {
    const { alerts, announce } = setup(true);
    act(() => {
      alerts().received();
      alerts().setQuiet(false);
      alerts().received();
    });
    expect(alerts().unread).toBe(2);
    expect(announce).toHaveBeenCalledTimes(1);
  });

  it('are all read when the chat is opened, held ones too, with nothing to tell later', () => {
    const { alerts, announce } = setup(true);
    act(() => {
      alerts().received();
      alerts().received();
    });
    act(() => alerts().read());
    expect(alerts().held).toBe(0);
    expect(alerts().unread).toBe(0);
    act(() => alerts().setQuiet(false));
    expect(announce).not.toHaveBeenCalled();
  });

  it('say how many in words', () => {
    expect(messagesWord(1)).toBe('1 new message');
    expect(messagesWord(3)).toBe('3 new messages');
  });
});
