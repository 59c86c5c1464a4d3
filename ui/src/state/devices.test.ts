import { describe, expect, it } from 'vitest';
import type { DeviceList } from '../services/types';
import {
  cameraOptions,
  initialChoice,
  initialSpeaker,
  microphoneOptions,
  screenOptions,
  speakerOptions,
} from './devices';

const none: DeviceList = { cameras: [], microphones: [], screens: [], speakers: [] };
/** Devices whose label is their name (as cameras are listed). */
const same = (...names: string[]) => names.map((name) => ({ name, label: name }));
const some: DeviceList = {
  cameras: same('USB Cam', 'Built-in'),
  microphones: same('Headset'),
  screens: same('HDMI-1'),
  speakers: same('Speakers'),
};

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

  it('shows each device by its label and keeps its name as the device', () => {
    const list: DeviceList = {
      cameras: [{ name: '/dev/video0', label: 'Integrated Camera' }],
      microphones: [
        { name: 'alsa_input.pci-0000_00_1f.3.analog-stereo', label: 'Built-in Audio Analog Stereo' },
        { name: 'default', label: 'System default' },
      ],
      screens: [{ name: 'screen', label: 'Entire screen (640×480)' }],
      speakers: [{ name: 'alsa_output.usb-headset', label: 'USB Headset' }],
    };
    const mic = microphoneOptions(list)[0];
    expect(mic).toEqual({
      value: 'microphone:alsa_input.pci-0000_00_1f.3.analog-stereo',
      label: 'Built-in Audio Analog Stereo',
      device: { kind: 'microphone', name: 'alsa_input.pci-0000_00_1f.3.analog-stereo' },
    });
    expect(microphoneOptions(list)[1]?.device).toEqual({ kind: 'microphone', name: 'default' });
    expect(microphoneOptions(list)[1]?.label).toBe('System default');
    expect(cameraOptions(list)[0]).toEqual({
      value: 'camera:/dev/video0',
      label: 'Integrated Camera',
      device: { kind: 'camera', name: '/dev/video0' },
    });
    expect(screenOptions(list)[0]).toEqual({
      value: 'screen:screen',
      label: 'Entire screen (640×480)',
      device: { kind: 'screen', name: 'screen' },
    });
    expect(speakerOptions(list)[1]).toEqual({
      value: 'speaker:alsa_output.usb-headset',
      label: 'USB Headset',
      device: 'alsa_output.usb-headset',
    });
    // A saved device is found again by its name, not its label.
    const saved = { kind: 'microphone' as const, name: 'alsa_input.pci-0000_00_1f.3.analog-stereo' };
    expect(initialChoice(microphoneOptions(list), saved).label).toBe('Built-in Audio Analog Stereo');
    expect(initialChoice(microphoneOptions(list), { kind: 'microphone', name: 'Built-in Audio Analog Stereo' }).device).toEqual({
      kind: 'microphone',
      name: 'alsa_input.pci-0000_00_1f.3.analog-stereo',
    });
  });

  it('tells apart devices that share a label by their names', () => {
    const card = 'HDA Intel PCH, ALC257 Analog';
    const list: DeviceList = {
      ...none,
      microphones: [
        { name: 'hw:CARD=PCH,DEV=0', label: card },
        { name: 'plughw:CARD=PCH,DEV=0', label: card },
        { name: 'pulse', label: 'pulse' },
      ],
    };
    expect(microphoneOptions(list).map((o) => o.label)).toEqual([
      `${card} (hw:CARD=PCH,DEV=0)`,
      `${card} (plughw:CARD=PCH,DEV=0)`,
      'pulse',
      'Test tone',
    ]);
  });

  it("lists ALSA's default speaker once, as the system default", () => {
    const list: DeviceList = {
      ...none,
      speakers: [
        { name: 'default', label: 'System default' },
        { name: 'hw:CARD=PCH,DEV=0', label: 'HDA Intel PCH, ALC257 Analog' },
      ],
    };
    const options = speakerOptions(list);
    expect(options.map((o) => o.label)).toEqual(['System default', 'HDA Intel PCH, ALC257 Analog']);
    // Saved before it was folded in: still the system default.
    expect(initialSpeaker(options, 'default').device).toBeNull();
  });
});
