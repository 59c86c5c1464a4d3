/** Choices on the device setup screen: each option is a select value and the device it means. */
import type { AudioDevice, Device, DeviceList, ScreenDevice, VideoDevice } from '../services/types';

/** `value`: the select's value; `label`: what people see; `device`: what the settings keep. */
export type Option<D> = { value: string; label: string; device: D };

export const TEST_PATTERN = 'synthetic';
export const DEFAULT_SPEAKER = 'default';

/** The name ALSA lists its default device by: the speakers' "System default" is it. */
const ALSA_DEFAULT = 'default';

/**
 * The devices of one kind as options: the device's label to see, its name for all else
 * (the value, the device the settings keep). Labels that several devices share (one
 * sound card listed as several ALSA devices) get the name too, so each option can be
 * told apart.
 */
function listed<D>(devices: readonly Device[], kind: string, device: (name: string) => D): Option<D>[] {
  const seen = new Map<string, number>();
  for (const d of devices) seen.set(d.label, (seen.get(d.label) ?? 0) + 1);
  return devices.map((d) => ({
    value: `${kind}:${d.name}`,
    label: (seen.get(d.label) ?? 0) > 1 && d.label !== d.name ? `${d.label} (${d.name})` : d.label,
    device: device(d.name),
  }));
}

export function cameraOptions(list: DeviceList): Option<VideoDevice>[] {
  return [
    ...listed(list.cameras, 'camera', (name) => ({ kind: 'camera' as const, name })),
    { value: TEST_PATTERN, label: 'Test pattern', device: { kind: 'testPattern' } },
  ];
}

export function microphoneOptions(list: DeviceList): Option<AudioDevice>[] {
  return [
    ...listed(list.microphones, 'microphone', (name) => ({ kind: 'microphone' as const, name })),
    { value: TEST_PATTERN, label: 'Test tone', device: { kind: 'tone' } },
  ];
}

export function screenOptions(list: DeviceList): Option<ScreenDevice>[] {
  return [
    ...listed(list.screens, 'screen', (name) => ({ kind: 'screen' as const, name })),
    { value: TEST_PATTERN, label: 'Test pattern', device: { kind: 'testPattern' } },
  ];
}

/**
 * "System default" (null: whatever the system plays to) first, then each speaker. ALSA's
 * own `default` is that same choice, so it is not listed twice.
 */
export function speakerOptions(list: DeviceList): Option<string | null>[] {
  return [
    { value: DEFAULT_SPEAKER, label: 'System default', device: null },
    ...listed(
      list.speakers.filter((d) => d.name !== ALSA_DEFAULT),
      'speaker',
      (name) => name,
    ),
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
