import { describe, expect, it, vi } from 'vitest';
import type { FeatureEvent } from '../services/types';
import { features, participant, poll, question, raisedHand, timerRun, timerState } from '../test/fixtures';
import { timer } from './timer';
import {
  FEATURES,
  featuresFromSnapshot,
  featuresNeedingSync,
  featuresOnEvent,
  featuresQuiet,
  featuresReducer,
  featurePanelMarks,
  featurePanelTabs,
  featurePanelUnread,
  featureStageKeys,
  featureStageLabel,
  featuresSyncRequests,
  type FeatureRoom,
} from '.';

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
    expect(state.timer.timer.run).toBeNull();
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

describe('syncing and stages', () => {
  it("hands each feature its own previous state on a rejoin", () => {
    const spy = vi.spyOn(timer, 'fromSnapshot');
    const before = featuresFromSnapshot(features());
    featuresFromSnapshot(features(), before);
    expect(spy).toHaveBeenLastCalledWith(features(), before.timer);
  });

  it('collects the sync requests of the features that have one, and of those that fell behind', () => {
    const state = featuresFromSnapshot(features());
    expect(featuresSyncRequests(state)).toEqual([{ key: 'board', request: { type: 'board_sync', board: null, since: null } }]);
    expect(featuresNeedingSync(state)).toEqual([]);
    const behind = { ...state, board: { ...state.board, needsSync: true } };
    expect(featuresNeedingSync(behind).map((s) => s.key)).toEqual(['board']);
  });

  it('knows which features have a stage, and what each is called', () => {
    expect(featureStageKeys()).toEqual(['board']);
    expect(featureStageLabel('board')).toBe('Whiteboard');
  });
});

describe('side panel tabs', () => {
  it('are the features with a panel, each counting its news since a mark', () => {
    expect(featurePanelTabs().map(({ key, label, button }) => ({ key, label, button }))).toEqual([
      { key: 'questions', label: 'Questions', button: true },
      { key: 'polls', label: 'Polls', button: true },
      // Only a tab: the toolbar is full.
      { key: 'materials', label: 'Materials', button: false },
    ]);
    const before = featuresFromSnapshot(features());
    const marks = featurePanelMarks(before);
    expect(marks).toEqual({ questions: 0, polls: 0, materials: 0 });
    const after = featuresReducer(before, { type: 'question', question: question('q1', 'Why?') });
    expect(featurePanelUnread(after, 'questions', marks.questions ?? 0)).toBe(1);
    expect(featurePanelUnread(after, 'questions', featurePanelMarks(after).questions ?? 0)).toBe(0);
    expect(featurePanelUnread(after, 'hands', 0)).toBe(0);
  });

  it('start below what a feature says is new at join (the open poll of a late joiner)', () => {
    const joined = featuresFromSnapshot(features({ polls: [poll('p1')], questions: [question('q1', 'Why?')] }));
    const start = featurePanelMarks(joined, true);
    expect(featurePanelUnread(joined, 'polls', start.polls ?? 0)).toBe(1);
    // The rest of what the join brought is seen.
    expect(featurePanelUnread(joined, 'questions', start.questions ?? 0)).toBe(0);
    expect(featurePanelUnread(joined, 'polls', featurePanelMarks(joined).polls ?? 0)).toBe(0);
  });
});

describe('quiet notifications', () => {
  it('are asked for by a feature (the timer in a quiet focus phase), with when they will be shown', () => {
    const quiet = timerState({ quiet_during_focus: true, run: timerRun(Date.now() + 60_000) });
    expect(featuresQuiet(featuresFromSnapshot(features({ timer: quiet })))).toBe('at the break');
    expect(featuresQuiet(featuresFromSnapshot(features()))).toBeNull();
  });
});

describe('side effects of events', () => {
  const room: FeatureRoom = {
    you: participant('ada-1', 'Ada', { you: true }),
    people: [],
    isHost: true,
    toast: () => {},
    relayClockOffsetMs: null,
    profile: null,
    roomTitle: 'Finals week',
    openStage: null,
    toggleStage: () => {},
    openPanel: () => {},
    personActions: () => null,
  };

  it('reach the features that have any, with the room and their own state before the event', () => {
    const onEvent = vi.spyOn(timer as Required<typeof timer>, 'onEvent').mockImplementation(() => {});
    const event: FeatureEvent = { type: 'hand_queue', hands: [] };
    const before = featuresFromSnapshot(features());
    featuresOnEvent(event, room, before);
    expect(onEvent).toHaveBeenCalledWith(event, room, before.timer);
  });

  it("never let a feature's failure reach the room screen", () => {
    vi.spyOn(timer as Required<typeof timer>, 'onEvent').mockImplementation(() => {
      throw new Error('broken');
    });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(() => featuresOnEvent({ type: 'hand_queue', hands: [] }, room, featuresFromSnapshot(features()))).not.toThrow();
    expect(warn).toHaveBeenCalled();
  });
});
