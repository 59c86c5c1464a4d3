import { describe, expect, it } from 'vitest';
import { cameraOptions, initialChoice, initialSpeaker, microphoneOptions, speakerOptions } from './devices';

const none = { cameras: [], microphones: [], screens: [], speakers: [] };
const some = { cameras: ['USB Cam', 'Built-in'], microphones: ['Headset'], screens: ['HDMI-1'], speakers: ['Speakers'] };

describe('device choices', () => {
  it('falls back to the synthetic sources when nothing is found', () => {
    expect(initialChoice(cameraOptions(none), { kind: 'camera', name: 'USB Cam' }).device).toEqual({ kind: 'testPattern' });
    expect(initialChoice(microphoneOptions(none), { kind: 'microphone', name: null }).device).toEqual({ kind: 'tone' });
  });

  it('keeps the saved device when it is there, else the first one', () => {
    expect(initialChoice(cameraOptions(some), { kind: 'camera', name: 'Built-in' }).label).toBe('Built-in');
    expect(initialChoice(cameraOptions(some), { kind: 'camera', name: 'Gone' }).label).toBe('USB Cam');
    expect(initialChoice(cameraOptions(some), { kind: 'camera', name: null }).label).toBe('USB Cam');
    expect(initialChoice(cameraOptions(some), { kind: 'testPattern' }).label).toBe('Test pattern');
  });

  it('offers the system default speaker as null', () => {
    const options = speakerOptions(some);
    expect(initialSpeaker(options, null).label).toBe('System default');
    expect(initialSpeaker(options, 'Speakers').device).toBe('Speakers');
    expect(initialSpeaker(options, 'Gone').device).toBeNull();
  });
});
