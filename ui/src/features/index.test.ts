import { describe, expect, it } from 'vitest';
import type { FeatureEvent } from '../services/types';
import { features, raisedHand } from '../test/fixtures';
import { FEATURES, featuresFromSnapshot, featuresReducer } from '.';

/** An event no feature here knows (a newer relay's, say). */
const unknownEvent = { type: 'poll_results', results: [] } as unknown as FeatureEvent;

describe('feature registry', () => {
  it('has one key per feature', () => {
    const keys = FEATURES.map((f) => f.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("builds every feature's state from the snapshot, under its key", () => {
    const state = featuresFromSnapshot(features({ hands: [raisedHand('cat')] }));
    expect(Object.keys(state).sort()).toEqual(FEATURES.map((f) => f.key).sort());
    expect(state.hands.queue).toEqual([raisedHand('cat')]);
    expect(state.presence).toBeNull();
  });

  it('hands each event to every feature; the others keep their state', () => {
    const before = featuresFromSnapshot(features());
    const after = featuresReducer(before, { type: 'hand_queue', hands: [raisedHand('bob')], by: 'bob' });
    expect(after).not.toBe(before);
    expect(after.hands.queue).toEqual([raisedHand('bob')]);
    expect(after.presence).toBe(before.presence);
  });

  it('returns the same object when no feature changed', () => {
    const before = featuresFromSnapshot(features({ hands: [raisedHand('cat')] }));
    expect(featuresReducer(before, unknownEvent)).toBe(before);
  });
});
