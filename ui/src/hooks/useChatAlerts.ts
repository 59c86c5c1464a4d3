import { useCallback, useRef, useState } from 'react';

/** How many new messages, in words. */
export function messagesWord(n: number): string {
  return n === 1 ? '1 new message' : `${n} new messages`;
}

/**
 * The chat's count of new messages while the chat is closed. While a room feature asks
 * for quiet (`setQuiet(true)`) new messages are only counted (`held`); when it stops
 * asking they become unread at once, and `announce` tells of them, once.
 *
 * `received` and `setQuiet` are called from the room's event handler, in the order the
 * events came, so a message is held or not by the quiet in force when it arrived.
 */
export function useChatAlerts(initialQuiet: boolean, announce: (text: string) => void) {
  const [unread, setUnread] = useState(0);
  const [held, setHeld] = useState(0);
  const quiet = useRef(initialQuiet);
  // The held count as the handler last left it (the state may not have rendered yet).
  const holding = useRef(0);

  const received = useCallback(() => {
    if (quiet.current) {
      holding.current += 1;
      setHeld(holding.current);
    } else {
      setUnread((n) => n + 1);
    }
  }, []);

  const setQuiet = useCallback(
    (now: boolean) => {
      const was = quiet.current;
      quiet.current = now;
      if (!was || now || holding.current === 0) return;
      const n = holding.current;
      holding.current = 0;
      setHeld(0);
      setUnread((u) => u + n);
      announce(`${messagesWord(n)} in the chat`);
    },
    [announce],
  );

  /** The chat was opened: everything is read, nothing held. */
  const read = useCallback(() => {
    holding.current = 0;
    setHeld(0);
    setUnread(0);
  }, []);

  return { unread, held, received, setQuiet, read };
}
