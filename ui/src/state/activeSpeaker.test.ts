import { describe, expect, it } from 'vitest';
import { loudest, nextSpeaker, noSpeaker, noSpeakers, shownSpeakers, speakersReducer } from './activeSpeaker';

describe('loudest', () => {
  it('picks the highest level above the threshold', () => {
    expect(loudest([{ key: 'self', level: 0.2 }, { key: 'bob', level: 0.6 }])).toBe('bob');
    expect(loudest([{ key: 'self', level: 0.04 }])).toBeNull();
    expect(loudest([])).toBeNull();
  });
});

describe('nextSpeaker', () => {
  it('holds the current speaker through short pauses, then switches', () => {
    let s = nextSpeaker(noSpeaker, [{ key: 'ada', level: 0.3 }], 0);
    expect(s.key).toBe('ada');
    // Ada pauses and Bob speaks: Ada keeps the highlight during the hold…
    s = nextSpeaker(s, [{ key: 'ada', level: 0.01 }, { key: 'bob', level: 0.4 }], 500);
    expect(s.key).toBe('ada');
    // …and Bob gets it after.
    s = nextSpeaker(s, [{ key: 'ada', level: 0.01 }, { key: 'bob', level: 0.4 }], 1300);
    expect(s.key).toBe('bob');
  });

  it('keeps a speaker who goes on talking even when someone is louder', () => {
    let s = nextSpeaker(noSpeaker, [{ key: 'ada', level: 0.2 }], 0);
    s = nextSpeaker(s, [{ key: 'ada', level: 0.2 }, { key: 'bob', level: 0.9 }], 5000);
    expect(s.key).toBe('ada');
  });

  it('clears after the hold when nobody speaks', () => {
    let s = nextSpeaker(noSpeaker, [{ key: 'self', level: 0.5 }], 0);
    s = nextSpeaker(s, [{ key: 'self', level: 0 }], 1000);
    expect(s.key).toBe('self');
    s = nextSpeaker(s, [{ key: 'self', level: 0 }], 1300);
    expect(s).toEqual(noSpeaker);
    expect(nextSpeaker(s, [], 2000)).toBe(s);
  });
});

describe("the relay's speakers", () => {
  const levels = (key: string, level: number, now: number) =>
    ({ type: 'levels', levels: [{ key, level }], now }) as const;
  const relay = (active: string | null, ...speaking: string[]) => ({ type: 'relay', active, speaking }) as const;

  it('guess from levels until the first speakers event, our own key shown as our identity', () => {
    let s = speakersReducer(noSpeakers, levels('self', 0.5, 0));
    expect(s.relay).toBeNull();
    expect(shownSpeakers(s, 'ada-1')).toEqual({ active: 'ada-1', speaking: new Set() });
    s = speakersReducer(s, levels('bob-2', 0.5, 2000));
    expect(shownSpeakers(s, 'ada-1').active).toBe('bob-2');
    // Unchanged levels leave the state as it was (no redraw).
    const quiet = speakersReducer(noSpeakers, levels('bob-2', 0, 0));
    expect(quiet).toBe(noSpeakers);
  });

  it('decide from the first speakers event on; levels change nothing after it', () => {
    let s = speakersReducer(noSpeakers, levels('bob-2', 0.5, 0));
    s = speakersReducer(s, relay('cat-3', 'ada-1', 'cat-3'));
    expect(shownSpeakers(s, 'ada-1')).toEqual({ active: 'cat-3', speaking: new Set(['ada-1', 'cat-3']) });
    expect(speakersReducer(s, levels('bob-2', 0.9, 5000))).toBe(s);
    // Nobody speaks now: the active speaker stays, as the relay says.
    s = speakersReducer(s, relay('cat-3'));
    expect(shownSpeakers(s, 'ada-1')).toEqual({ active: 'cat-3', speaking: new Set() });
    // Still the relay's word when it names nobody: the levels do not come back.
    s = speakersReducer(s, relay(null));
    expect(speakersReducer(s, levels('bob-2', 0.9, 9000))).toBe(s);
    expect(shownSpeakers(s, 'ada-1')).toEqual({ active: null, speaking: new Set() });
  });

  it('keep the state for the same word again, and copy the list', () => {
    const speaking = ['ada-1', 'bob-2'];
    const s = speakersReducer(noSpeakers, { type: 'relay', active: 'bob-2', speaking });
    speaking.push('cat-3');
    expect(s.relay?.speaking).toEqual(['ada-1', 'bob-2']);
    expect(speakersReducer(s, relay('bob-2', 'ada-1', 'bob-2'))).toBe(s);
    expect(speakersReducer(s, relay('ada-1', 'ada-1', 'bob-2'))).not.toBe(s);
    expect(speakersReducer(s, relay('bob-2', 'bob-2'))).not.toBe(s);
  });
});
