import { describe, expect, it } from 'vitest';
import type { FeatureEvent } from '../services/types';
import { features, raisedHand } from '../test/fixtures';
import { handsFromSnapshot, handsReducer, queuePosition } from './hands';

/** An event of some other feature (raise hand is the only one with events today). */
const otherFeatureEvent = { type: 'poll_results', results: [] } as unknown as FeatureEvent;

describe('hands state', () => {
  it('starts from the snapshot, first raised first', () => {
    const state = handsFromSnapshot(features({ hands: [raisedHand('cat', 1), raisedHand('bob', 2)] }));
    expect(state.queue.map((h) => h.identity)).toEqual(['cat', 'bob']);
    expect(queuePosition(state, 'cat')).toBe(1);
    expect(queuePosition(state, 'bob')).toBe(2);
    expect(queuePosition(state, 'ada')).toBeNull();
  });

  it('takes the whole queue from each hand_queue', () => {
    let state = handsFromSnapshot(features());
    state = handsReducer(state, { type: 'hand_queue', hands: [raisedHand('bob', 2)], by: 'bob' });
    state = handsReducer(state, { type: 'hand_queue', hands: [raisedHand('cat', 1), raisedHand('bob', 2)] });
    expect(state.queue).toEqual([raisedHand('cat', 1), raisedHand('bob', 2)]);
    state = handsReducer(state, { type: 'hand_queue', hands: [], by: 'ada' });
    expect(state.queue).toEqual([]);
  });

  it("leaves its state as it is for another feature's event", () => {
    const state = handsFromSnapshot(features({ hands: [raisedHand('cat')] }));
    expect(handsReducer(state, otherFeatureEvent)).toBe(state);
  });
});
