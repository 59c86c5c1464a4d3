import { describe, expect, it } from 'vitest';
import { link, participant } from '../test/fixtures';
import { remoteSignal, selfSignal, tileSignals } from './linkQuality';

const you = participant('ada-1', 'Ada', { you: true });
const bob = participant('bob-2', 'Bob');
const cat = participant('cat-3', 'Cat');

describe('connection bars', () => {
  it('say in plain words how much of whose media is lost', () => {
    expect(remoteSignal(link('bob-2', 'poor', { lossPercent: 12, badFramesPercent: 30 }), 'Bob')).toEqual({
      quality: 'poor',
      label: 'Poor connection',
      detail: "Poor connection: 12% of Bob's audio and video is lost on the way to you; 30% of video frames could not be shown.",
    });
    expect(remoteSignal(link('bob-2', 'fair', { lossPercent: 3, badFramesPercent: 0 }), 'Bob')?.detail).toBe(
      "Fair connection: 3% of Bob's audio and video is lost on the way to you.",
    );
    expect(remoteSignal(link('bob-2', 'fair', { lossPercent: 0, badFramesPercent: 6 }), 'Bob')?.detail).toBe(
      "Fair connection: 6% of Bob's video frames could not be shown.",
    );
    expect(remoteSignal(link('bob-2', 'good'), 'Bob')).toBeNull();
  });

  it('set a name that overrides the direction apart from the words around it', () => {
    const detail = remoteSignal(link('bob-2', 'poor'), '\u202Eevil')?.detail ?? '';
    expect(detail).toContain("of \u2068\u202Eevil\u2069's audio");
  });

  it('blame our own connection only when at least two others all reach us badly', () => {
    expect(selfSignal([link('bob-2', 'poor')])).toBeNull();
    expect(selfSignal([link('bob-2', 'poor'), link('cat-3', 'good')])).toBeNull();
    expect(selfSignal([link('bob-2', 'fair'), link('cat-3', 'fair')])?.quality).toBe('fair');
    expect(selfSignal([link('bob-2', 'fair'), link('cat-3', 'poor')])).toEqual({
      quality: 'poor',
      label: 'Poor connection',
      detail: "Your connection seems poor: everyone's media reaches you with loss.",
    });
  });

  it('go on the tiles by identity, passing over people who left', () => {
    const people = [you, bob, cat];
    const signals = tileSignals([link('bob-2', 'poor'), link('cat-3', 'good'), link('gone-9', 'poor')], people);
    expect([...signals.keys()]).toEqual(['bob-2']);
    // Two who are here, both bad: ours too. Someone gone does not count towards the two.
    expect([...tileSignals([link('bob-2', 'poor'), link('cat-3', 'fair')], people).keys()].sort()).toEqual([
      'ada-1',
      'bob-2',
      'cat-3',
    ]);
    expect(tileSignals([link('bob-2', 'poor'), link('gone-9', 'poor')], people).has('ada-1')).toBe(false);
  });
});
