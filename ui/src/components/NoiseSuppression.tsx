/**
 * The noise suppression switch (RNNoise on a real microphone), in the device check and in
 * the room's microphone settings. Either place switches it at once for the device check
 * and the room alike (`setNoiseSuppression`), and the app keeps it in the profile.
 */
import { useId, useRef, useState } from 'react';
import { usePopover } from '../hooks/usePopover';
import { AppError, describeError, setNoiseSuppression, type AudioDevice, type Profile } from '../services/studyhall';
import { ChevronUpIcon } from './Icons';
import { useToast } from './Toasts';

const HINT = 'Turns down steady background noise such as fans and keyboards.';
const TONE_HINT = 'Applies to a real microphone; the test tone is not changed.';

/** Whether suppression does anything for `microphone` (unknown: assume a real one). */
export function suppressible(microphone: AudioDevice | null | undefined): boolean {
  return microphone?.kind !== 'tone';
}

/**
 * The switch's state: shown as chosen at once, then sent. When the command fails the
 * switch goes back to what is in effect, except for a `storage` failure: the Rust side
 * switches before it writes the profile, so the choice is in effect, only not kept.
 * `onError` gets a sentence to show; `onChanged` the value now in effect.
 */
export function useNoiseSuppression(
  initial: boolean,
  { onError, onChanged }: { onError: (message: string) => void; onChanged?: (on: boolean) => void },
) {
  const [on, setOn] = useState(initial);
  const inEffect = useRef(initial);
  // Only the latest flip decides what the switch shows once its answer comes.
  const latest = useRef(0);

  function change(want: boolean) {
    const request = ++latest.current;
    setOn(want);
    setNoiseSuppression(want).then(
      () => {
        inEffect.current = want;
        onChanged?.(want);
      },
      (error: unknown) => {
        const message = describeError(error);
        if (AppError.from(error).kind === 'storage') {
          inEffect.current = want;
          onChanged?.(want);
          onError(`Noise suppression is ${want ? 'on' : 'off'} now, but couldn't be saved for next time: ${message}`);
          return;
        }
        if (request === latest.current) setOn(inEffect.current);
        onError(`Couldn't turn ${want ? 'on' : 'off'} noise suppression: ${message}`);
      },
    );
  }

  return { on, change };
}

/** The switch and its hint; disabled (with a hint saying why) for the test tone. */
export function NoiseSuppressionSwitch({
  on,
  onChange,
  microphone,
  testId,
}: {
  on: boolean;
  onChange: (on: boolean) => void;
  microphone: AudioDevice | null | undefined;
  testId: string;
}) {
  const hintId = useId();
  const applies = suppressible(microphone);
  return (
    <div className="noise-switch">
      <label className="check">
        <input
          type="checkbox"
          role="switch"
          checked={on}
          onChange={(e) => onChange(e.target.checked)}
          disabled={!applies}
          aria-describedby={hintId}
          data-testid={testId}
        />
        Noise suppression
      </label>
      <p id={hintId} className="noise-switch__hint muted" data-testid={`${testId}-hint`}>
        {applies ? HINT : TONE_HINT}
      </p>
    </div>
  );
}

/**
 * The room toolbar's microphone settings: a small button on the corner of the Mute button
 * (`children`; on it, so the toolbar is no wider) opening a panel with the noise
 * suppression switch. A failure is a toast, as for the other controls.
 */
export function MicSettings({
  profile,
  onNoiseSuppression,
  children,
}: {
  profile: Profile | null;
  /** The value now in effect, for the app's copy of the profile. */
  onNoiseSuppression?: (on: boolean) => void;
  children: React.ReactNode;
}) {
  const { open, setOpen, anchor } = usePopover();
  const toast = useToast();
  const noise = useNoiseSuppression(profile?.noiseSuppression ?? true, {
    onError: (message) => toast(message, 'error'),
    onChanged: onNoiseSuppression,
  });

  return (
    <div className="feature-popover-anchor mic-control" ref={anchor}>
      {children}
      <button
        className={`mic-control__more ${open ? 'is-open' : ''}`}
        onClick={() => setOpen((o) => !o)}
        aria-label="Microphone settings"
        aria-expanded={open}
        aria-haspopup="dialog"
        title="Microphone settings"
        data-testid="mic-settings"
      >
        <ChevronUpIcon />
      </button>
      {open && (
        <section
          className="feature-popover feature-popover--start mic-settings"
          role="dialog"
          aria-label="Microphone settings"
          data-testid="mic-settings-panel"
        >
          <NoiseSuppressionSwitch
            on={noise.on}
            onChange={noise.change}
            microphone={profile?.microphone}
            testId="room-noise-suppression"
          />
        </section>
      )}
    </div>
  );
}
