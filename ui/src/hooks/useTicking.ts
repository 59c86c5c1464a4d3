import { useEffect, useState } from 'react';

/** Draws the component again every `intervalMs` while `active` (a clock on screen). */
export function useTicking(active: boolean, intervalMs: number): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!active) return;
    const id = setInterval(() => setTick((t) => t + 1), intervalMs);
    return () => clearInterval(id);
  }, [active, intervalMs]);
}
