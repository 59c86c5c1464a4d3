import { afterEach, describe, expect, it, vi } from 'vitest';
import { playChime } from './chime';

type Note = { hz: number; start: number };

/** Enough of WebAudio to see what the chime plays. */
function fakeAudio() {
  const notes: Note[] = [];
  const gains: number[][] = [];
  const contexts: FakeContext[] = [];
  const node = { connect: (next: unknown) => next };
  class FakeContext {
    state = 'suspended';
    currentTime = 10;
    destination = {};
    resumed = false;
    constructor() {
      contexts.push(this);
    }
    resume() {
      this.resumed = true;
      return Promise.resolve();
    }
    close() {
      return Promise.resolve();
    }
    createGain() {
      const ramps: number[] = [];
      gains.push(ramps);
      return { ...node, gain: { setValueAtTime: () => {}, exponentialRampToValueAtTime: (v: number) => ramps.push(v) } };
    }
    createOscillator() {
      const note: Note = { hz: 0, start: 0 };
      notes.push(note);
      return {
        ...node,
        type: '',
        frequency: { setValueAtTime: (hz: number) => (note.hz = hz) },
        onended: null,
        start: (at: number) => (note.start = at),
        stop: () => {},
      };
    }
  }
  return { FakeContext, notes, gains, contexts };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('timer chime', () => {
  it('plays two soft notes, rising for focus and falling for a break', () => {
    const audio = fakeAudio();
    vi.stubGlobal('AudioContext', audio.FakeContext);
    expect(playChime('focus')).toBe(true);
    expect(audio.notes).toHaveLength(2);
    const [first, second] = audio.notes;
    expect(first!.hz).toBeLessThan(second!.hz);
    expect(second!.start).toBeGreaterThan(first!.start);
    expect(audio.contexts[0]!.resumed).toBe(true);

    audio.notes.length = 0;
    playChime('short_break');
    expect(audio.notes[0]!.hz).toBeGreaterThan(audio.notes[1]!.hz);
  });

  it('plays quietly', () => {
    const audio = fakeAudio();
    vi.stubGlobal('AudioContext', audio.FakeContext);
    playChime('long_break');
    expect(audio.gains).toHaveLength(2);
    for (const ramps of audio.gains) {
      expect(Math.max(...ramps)).toBeGreaterThan(0);
      expect(Math.max(...ramps)).toBeLessThanOrEqual(0.1);
    }
  });

  it('does nothing without WebAudio, and never throws', () => {
    vi.stubGlobal('AudioContext', undefined);
    expect(playChime('focus')).toBe(false);
    vi.stubGlobal('AudioContext', function Broken() {
      throw new Error('no audio device');
    });
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(() => playChime('focus')).not.toThrow();
    expect(playChime('focus')).toBe(false);
  });
});
