import { describe, expect, it } from 'vitest';
import type { FeatureEvent, LectureState } from '../services/types';
import { features, lectureState, participant } from '../test/fixtures';
import {
  elapsedMs,
  formatElapsed,
  lectureFromSnapshot,
  lectureNotice,
  lectureReducer,
  mayTurnOn,
  speakingControl,
  startModeRequest,
  whyOff,
} from './lectureState';

const lectureEvent = (lecture: Partial<LectureState>, by = 'ada-1'): FeatureEvent => ({
  type: 'lecture',
  lecture: lectureState(lecture),
  by,
});

const LECTURE = lectureState({ mode: 'lecture', started_at: 1_795_000_000_000 });
const host = participant('ada-1', 'Ada', { host: true });
const bob = participant('bob-2', 'Bob', { you: true });
const presenter = participant('cat-3', 'Cat', { presenter: true });

describe('lecture state', () => {
  it('starts from the snapshot and takes the whole state from each lecture event', () => {
    let state = lectureFromSnapshot(features({ lecture: lectureState({ presenters: ['bob-2'] }) }));
    expect(state.presenters).toEqual(['bob-2']);
    expect(state.mode).toBe('study');
    state = lectureReducer(state, lectureEvent({ presenters: ['bob-2', 'cat-3'], mode: 'lecture', locked: true }));
    expect(state).toEqual(lectureState({ presenters: ['bob-2', 'cat-3'], mode: 'lecture', locked: true }));
    expect(lectureReducer(state, { type: 'hand_queue', hands: [] })).toBe(state);
  });
});

describe('who may turn what on', () => {
  it('is everyone, everything, in a study room', () => {
    expect(mayTurnOn(lectureState(), bob)).toEqual({ mic: true, camera: true, screen: true });
    expect(whyOff(lectureState(), bob, 'mic')).toBeNull();
  });

  it('in a lecture: hosts and presenters all; students speak when let, and never share', () => {
    expect(mayTurnOn(LECTURE, host)).toEqual({ mic: true, camera: true, screen: true });
    expect(mayTurnOn(LECTURE, presenter)).toEqual({ mic: true, camera: true, screen: true });
    expect(mayTurnOn(LECTURE, bob)).toEqual({ mic: false, camera: false, screen: false });
    expect(whyOff(LECTURE, bob, 'mic')).toBe('Raise your hand to speak');
    expect(whyOff(LECTURE, bob, 'camera')).toBe('Raise your hand to speak');
    expect(whyOff(LECTURE, bob, 'screen')).toMatch(/only presenters and the host share/);
    const letBob = { ...LECTURE, speakers: ['bob-2'] };
    expect(mayTurnOn(letBob, bob)).toEqual({ mic: true, camera: true, screen: false });
    expect(mayTurnOn({ ...LECTURE, everyone_speaks: true }, bob)).toEqual({ mic: true, camera: true, screen: false });
  });
});

describe("a host's speaking control", () => {
  it('is "let" or "stop" for each student in a lecture while not everyone speaks', () => {
    const student = participant('dan-4', 'Dan');
    expect(speakingControl(LECTURE, student)).toBe('let');
    expect(speakingControl({ ...LECTURE, speakers: ['dan-4'] }, student)).toBe('stop');
    expect(speakingControl({ ...LECTURE, everyone_speaks: true }, student)).toBeNull();
    expect(speakingControl(lectureState(), student)).toBeNull();
    expect(speakingControl(LECTURE, presenter)).toBeNull();
    expect(speakingControl(LECTURE, host)).toBeNull();
    expect(speakingControl(LECTURE, bob)).toBeNull();
  });
});

describe('the mode a host chose when starting the room', () => {
  it('is asked for only when the room is not run so already', () => {
    expect(startModeRequest('lecture', lectureState())).toEqual({ type: 'set_room_mode', mode: 'lecture' });
    expect(startModeRequest('lecture', LECTURE)).toBeNull();
    expect(startModeRequest('study', lectureState())).toBeNull();
  });
});

describe("the lecture's clock", () => {
  it('counts up from the start on the relay clock, never below zero', () => {
    const start = 1_795_000_000_000;
    expect(elapsedMs(start, null, start + 65_000)).toBe(65_000);
    // The relay is 2 s ahead: its start was 2 s earlier here.
    expect(elapsedMs(start, 2_000, start + 65_000)).toBe(67_000);
    expect(elapsedMs(start, -5_000, start + 1_000)).toBe(0);
  });

  it('shows whole seconds gone, as mm:ss or h:mm:ss', () => {
    expect(formatElapsed(0)).toBe('00:00');
    expect(formatElapsed(999)).toBe('00:00');
    expect(formatElapsed(65_900)).toBe('01:05');
    expect(formatElapsed(3_600_000 + 61_000)).toBe('1:01:01');
  });
});

describe('lecture notices', () => {
  const people = [bob, host];

  it('tell you when the host made you a presenter, or took it back', () => {
    expect(lectureNotice(lectureEvent({ presenters: ['bob-2'] }), { you: bob, people }, lectureState())).toBe(
      'Ada made you a presenter: you can draw on the whiteboard and answer questions.',
    );
    const presenting = { ...bob, presenter: true };
    expect(
      lectureNotice(lectureEvent({}), { you: presenting, people: [presenting, host] }, lectureState({ presenters: ['bob-2'] })),
    ).toBe('Ada took back your presenter role.');
  });

  it('tell a student the room became a lecture, and a study room again', () => {
    expect(lectureNotice(lectureEvent({ mode: 'lecture' }), { you: bob, people }, lectureState())).toBe(
      'Ada made this room a lecture: your microphone and camera stay off until the host lets you speak (raise your hand).',
    );
    expect(lectureNotice(lectureEvent({}), { you: bob, people }, LECTURE)).toBe(
      'Ada made this a study room again: everyone may speak.',
    );
    const cat = { ...presenter, you: true };
    const withCat = { presenters: ['cat-3'] };
    expect(
      lectureNotice(lectureEvent({ ...withCat, mode: 'lecture' }), { you: cat, people: [cat, host] }, lectureState(withCat)),
    ).toBe('Ada made this room a lecture.');
  });

  it('tell a student they may speak now, and when that was taken back', () => {
    const allowed = lectureEvent({ mode: 'lecture', speakers: ['bob-2'] });
    expect(lectureNotice(allowed, { you: bob, people }, LECTURE)).toBe('You may speak now.');
    expect(lectureNotice(lectureEvent({ mode: 'lecture', everyone_speaks: true }), { you: bob, people }, LECTURE)).toBe(
      'You may speak now.',
    );
    expect(lectureNotice(lectureEvent({ mode: 'lecture' }), { you: bob, people }, { ...LECTURE, speakers: ['bob-2'] })).toBe(
      'Ada took back your turn to speak: your microphone and camera are off.',
    );
    // Someone else let speak: nothing for you.
    expect(lectureNotice(lectureEvent({ mode: 'lecture', speakers: ['dan-4'] }), { you: bob, people }, LECTURE)).toBeNull();
  });

  it('say nothing when nothing of yours changed, or you made the change', () => {
    expect(lectureNotice(lectureEvent({ presenters: ['cat-3'] }), { you: bob, people }, lectureState())).toBeNull();
    expect(lectureNotice(lectureEvent({ locked: true }), { you: bob, people }, lectureState())).toBeNull();
    const ada = { ...host, you: true };
    expect(lectureNotice(lectureEvent({ mode: 'lecture' }, 'ada-1'), { you: ada, people: [ada] }, lectureState())).toBeNull();
    expect(lectureNotice({ type: 'hand_queue', hands: [] }, { you: bob, people }, lectureState())).toBeNull();
  });
});
