import { useCallback, useRef, useState } from 'react';
import { describeError, featureRequest, type FeatureRequest } from '../services/studyhall';

/**
 * Feature requests sent from a few controls, one at a time per control (`key`): which
 * controls wait for the relay's answer, and a toast saying what failed.
 */
export function useFeatureRequests(toast: (message: string, tone?: 'error') => void) {
  const inFlight = useRef(new Set<string>());
  const [pending, setPending] = useState<ReadonlySet<string>>(() => new Set());

  /**
   * Sends `request` for the control `key` (not while its last one waits); resolves true
   * once the relay acknowledged it, false when it failed (`failed` says what could not be
   * done, after "Couldn't") or was not sent.
   */
  const send = useCallback(
    (key: string, request: FeatureRequest, failed: string): Promise<boolean> => {
      if (inFlight.current.has(key)) return Promise.resolve(false);
      inFlight.current.add(key);
      setPending(new Set(inFlight.current));
      const done = () => {
        inFlight.current.delete(key);
        setPending(new Set(inFlight.current));
      };
      return featureRequest(request).then(
        () => {
          done();
          return true;
        },
        (error: unknown) => {
          done();
          toast(`Couldn't ${failed}: ${describeError(error)}`, 'error');
          return false;
        },
      );
    },
    [toast],
  );

  const isPending = useCallback((key: string) => pending.has(key), [pending]);
  return { pending: isPending, send };
}
