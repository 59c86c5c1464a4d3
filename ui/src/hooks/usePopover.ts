import { useEffect, useRef, useState } from 'react';

/**
 * A panel that opens from a toolbar control and closes on Escape or a press outside
 * `anchor` (the element holding the control and the panel).
 */
export function usePopover<E extends HTMLElement = HTMLDivElement>() {
  const [open, setOpen] = useState(false);
  const anchor = useRef<E>(null);

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    const onPointer = (e: Event) => {
      if (anchor.current && e.target instanceof Node && !anchor.current.contains(e.target)) setOpen(false);
    };
    window.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onPointer);
    return () => {
      window.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [open]);

  return { open, setOpen, anchor };
}
