import { describe, expect, it } from 'vitest';
import { loudest, nextSpeaker, noSpeaker } from './activeSpeaker';

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
