/** Choices on the device setup screen: each option is a select value and the device it means. */
import type { AudioDevice, DeviceList, ScreenDevice, VideoDevice } from '../services/types';

export type Option<D> = { value: string; label: string; device: D };

export const TEST_PATTERN = 'synthetic';
export const DEFAULT_SPEAKER = 'default';

export function cameraOptions(list: DeviceList): Option<VideoDevice>[] {
  return [
    ...list.cameras.map((name) => ({ value: `camera:${name}`, label: name, device: { kind: 'camera' as const, name } })),
    { value: TEST_PATTERN, label: 'Test pattern', device: { kind: 'testPattern' } },
  ];
}

export function microphoneOptions(list: DeviceList): Option<AudioDevice>[] {
  return [
    ...list.microphones.map((name) => ({
      value: `microphone:${name}`,
      label: name,
      device: { kind: 'microphone' as const, name },
    })),
    { value: TEST_PATTERN, label: 'Test tone', device: { kind: 'tone' } },
  ];
}

export function screenOptions(list: DeviceList): Option<ScreenDevice>[] {
  return [
    ...list.screens.map((name) => ({ value: `screen:${name}`, label: name, device: { kind: 'screen' as const, name } })),
    { value: TEST_PATTERN, label: 'Test pattern', device: { kind: 'testPattern' } },
  ];
}

export function speakerOptions(list: DeviceList): Option<string | null>[] {
  return [
    { value: DEFAULT_SPEAKER, label: 'System default', device: null },
    ...list.speakers.map((name) => ({ value: `speaker:${name}`, label: name, device: name })),
  ];
}

type Named = { kind: string; name?: string | null };

/**
 * The option to select for a saved device: the same device if it is there now; the first
 * real device for "the default one" (name null) or one that is gone; the synthetic one
 * when there are no real devices (always last in the list).
 */
export function initialChoice<D extends Named>(options: Option<D>[], saved: D): Option<D> {
  const synthetic = options[options.length - 1] as Option<D>;
  const real = options.slice(0, -1);
  if (saved.kind === synthetic.device.kind) return synthetic;
  const same = real.find((o) => o.device.name === saved.name);
  return same ?? real[0] ?? synthetic;
}

export function initialSpeaker(options: Option<string | null>[], saved: string | null): Option<string | null> {
  return options.find((o) => o.device === saved) ?? (options[0] as Option<string | null>);
}
