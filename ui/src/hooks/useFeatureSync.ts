import { useCallback, useEffect, useRef, useState } from 'react';
import { featuresNeedingSync, featuresSyncRequests, type FeaturesState, type SyncRequest } from '../features';
import { describeError, featureRequest } from '../services/studyhall';

/** A sync that failed is sent again after this, doubling up to `SYNC_RETRY_MAX_MS`. */
export const SYNC_RETRY_MS = 3_000;
export const SYNC_RETRY_MAX_MS = 60_000;
/**
 * A feature still behind this long after its sync was answered asks again (the answer's
 * events and the request's answer reach the screen separately, in either order).
 */
export const SYNC_RECHECK_MS = 1_000;

/**
 * Sends the room features' sync requests (`RoomFeatureUi.syncRequest`): every feature's
 * once the screen is up and again whenever `round` goes up (a rejoin brought a new
 * snapshot), and one feature's when it falls behind (`needsSync` turns on, or is still on
 * a while after its last sync was answered). A send that failed is tried again later.
 *
 * `features` is the state drawn now; `latest` gives the state as the events so far leave
 * it (ahead of the next render), for what is asked right after a snapshot.
 */
export function useFeatureSync(
  features: FeaturesState,
  latest: () => FeaturesState,
  round: number,
  active: () => boolean,
): void {
  const inFlight = useRef(new Map<string, number>());
  const failed = useRef(new Map<string, { failures: number; due: number }>());
  const needed = useRef(new Set<string>());
  const answered = useRef(new Set<string>());
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  const [tick, setTick] = useState(0);

  const later = useCallback((ms: number) => {
    const timer = setTimeout(() => {
      timers.current.delete(timer);
      setTick((t) => t + 1);
    }, ms);
    timers.current.add(timer);
  }, []);

  const send = useCallback(
    ({ key, request }: SyncRequest) => {
      const flights = inFlight.current;
      flights.set(key, (flights.get(key) ?? 0) + 1);
      const landed = () => {
        const left = (flights.get(key) ?? 1) - 1;
        if (left > 0) flights.set(key, left);
        else flights.delete(key);
      };
      featureRequest(request).then(
        () => {
          landed();
          failed.current.delete(key);
          answered.current.add(key);
          if (active()) later(SYNC_RECHECK_MS);
        },
        (error: unknown) => {
          landed();
          if (!active()) return;
          const failures = (failed.current.get(key)?.failures ?? 0) + 1;
          const wait = Math.min(SYNC_RETRY_MAX_MS, SYNC_RETRY_MS * 2 ** (failures - 1));
          failed.current.set(key, { failures, due: Date.now() + wait });
          console.warn(`${key}: sync failed (${describeError(error)}); trying again in ${wait / 1000} s`);
          later(wait);
        },
      );
    },
    [active, later],
  );

  // Every feature's sync, once the screen is up (not in the middle of joining's render).
  useEffect(() => {
    const timer = setTimeout(() => {
      if (!active()) return;
      for (const sync of featuresSyncRequests(latest())) send(sync);
    }, 0);
    return () => clearTimeout(timer);
  }, [round, send, latest, active]);

  // Features that fell behind, and syncs due again after failing.
  useEffect(() => {
    if (!active()) return;
    const needing = featuresNeedingSync(features);
    for (const sync of needing) {
      if (inFlight.current.has(sync.key)) continue;
      if (needed.current.has(sync.key) && !answered.current.has(sync.key)) continue;
      answered.current.delete(sync.key);
      send(sync);
    }
    needed.current = new Set(needing.map((s) => s.key));
    for (const key of answered.current) if (!needed.current.has(key)) answered.current.delete(key);
    const now = Date.now();
    for (const sync of featuresSyncRequests(features)) {
      const failure = failed.current.get(sync.key);
      if (failure && !inFlight.current.has(sync.key) && now >= failure.due) send(sync);
    }
  }, [features, tick, send, active]);

  useEffect(() => {
    const pending = timers.current;
    return () => {
      pending.forEach(clearTimeout);
      pending.clear();
    };
  }, []);
}
