import { describe, expect, it } from 'vitest';
import type { FeatureEvent } from '../services/types';
import { features, participant } from '../test/fixtures';
import { lectureFromSnapshot, lectureReducer, presenterNotice } from './lecture';

const lectureEvent = (presenters: string[], by = 'ada-1'): FeatureEvent => ({
  type: 'lecture',
  lecture: { presenters },
  by,
});

describe('lecture state', () => {
  it('starts from the snapshot and takes the whole list from each lecture event', () => {
    let state = lectureFromSnapshot(features({ lecture: { presenters: ['bob-2'] } }));
    expect(state.presenters).toEqual(['bob-2']);
    state = lectureReducer(state, lectureEvent(['bob-2', 'cat-3']));
    expect(state.presenters).toEqual(['bob-2', 'cat-3']);
    expect(lectureReducer(state, { type: 'hand_queue', hands: [] })).toBe(state);
  });
});

describe('presenter notice', () => {
  const host = participant('ada-1', 'Ada', { host: true });
  const bob = participant('bob-2', 'Bob', { you: true });

  it('tells you when the host made you a presenter, or took it back', () => {
    expect(presenterNotice(lectureEvent(['bob-2']), { you: bob, people: [bob, host] })).toBe(
      'Ada made you a presenter: you can draw on the whiteboard and answer questions.',
    );
    const presenting = { ...bob, presenter: true };
    expect(presenterNotice(lectureEvent([]), { you: presenting, people: [presenting, host] })).toBe(
      'Ada took back your presenter role.',
    );
  });

  it('says nothing when your role did not change, or you made the change', () => {
    expect(presenterNotice(lectureEvent(['cat-3']), { you: bob, people: [bob, host] })).toBeNull();
    const ada = { ...host, you: true };
    expect(presenterNotice(lectureEvent(['ada-1'], 'ada-1'), { you: ada, people: [ada] })).toBeNull();
    expect(presenterNotice({ type: 'hand_queue', hands: [] }, { you: bob, people: [bob] })).toBeNull();
  });
});
