import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { Spinner } from '../components/Dialog';
import { NoiseSuppressionSwitch, useNoiseSuppression } from '../components/NoiseSuppression';
import { playChime } from '../features/chime';
import { useVideoTrack } from '../hooks/useVideoTrack';
import {
  AppError,
  describeError,
  hostRoom,
  joinRoom,
  listDevices,
  onMediaStatus,
  saveProfile,
  startPreview,
  stopHosting,
  stopPreview,
  type AudioDevice,
  type DeviceList,
  type DeviceProblem,
  type Invite,
  type RoomMode,
  type RoomSnapshot,
  type Settings,
  type VideoDevice,
} from '../services/studyhall';
import {
  cameraOptions,
  initialChoice,
  initialSpeaker,
  microphoneOptions,
  screenOptions,
  speakerOptions,
  type Option,
} from '../state/devices';
import { joinErrorText } from '../state/errors';
import { profileOf } from '../state/profile';
import { initials, isolate } from '../state/text';

/** What the setup screen leads to. */
export type SetupIntent =
  | { kind: 'settings' }
  | { kind: 'join'; invite: string; relay: string | null; title: string | null }
  /** `mode`: run it as a study room or a lecture (set once the host is in). */
  | { kind: 'host'; title: string; mode: RoomMode };

/**
 * Runs the self-preview while enabled, one start/stop at a time; `stop()` resolves once
 * the devices are released.
 */
function usePreview(camera: VideoDevice | null, microphone: AudioDevice | null, enabled: boolean) {
  const queue = useRef<Promise<void>>(Promise.resolve());
  const running = useRef(false);
  const [error, setError] = useState<string | null>(null);
  const cameraKey = camera && JSON.stringify(camera);
  const microphoneKey = microphone && JSON.stringify(microphone);

  const stop = useCallback((): Promise<void> => {
    queue.current = queue.current.then(async () => {
      if (!running.current) return;
      running.current = false;
      try {
        await stopPreview();
      } catch (e) {
        console.warn('stop_preview failed', e);
      }
    });
    return queue.current;
  }, []);

  useEffect(() => {
    if (!enabled || cameraKey === null || microphoneKey === null) return;
    let current = true;
    const cam = JSON.parse(cameraKey) as VideoDevice;
    const mic = JSON.parse(microphoneKey) as AudioDevice;
    queue.current = queue.current.then(async () => {
      if (!current) return;
      try {
        await startPreview(cam, mic);
        running.current = true;
        if (current) setError(null);
      } catch (e) {
        if (current) setError(describeError(e));
      }
    });
    return () => {
      current = false;
      void stop();
    };
  }, [cameraKey, microphoneKey, enabled, stop]);

  return { error, stop };
}

export function DeviceSetup({
  settings,
  intent,
  onSettings,
  onBack,
  onJoined,
}: {
  settings: Settings;
  intent: SetupIntent;
  onSettings: (settings: Settings) => void;
  onBack: () => void;
  onJoined: (snapshot: RoomSnapshot, invite: string) => void;
}) {
  const [devices, setDevices] = useState<DeviceList | null>(null);
  const [devicesError, setDevicesError] = useState<string | null>(null);
  const [camera, setCamera] = useState<Option<VideoDevice> | null>(null);
  const [microphone, setMicrophone] = useState<Option<AudioDevice> | null>(null);
  const [screen, setScreen] = useState<Option<Settings['screen']> | null>(null);
  const [speaker, setSpeaker] = useState<Option<string | null> | null>(null);
  const [chime, setChime] = useState(settings.timerChime);
  const [noiseError, setNoiseError] = useState<string | null>(null);
  // Switched at once (the level meter shows it), and saved with the profile on continue.
  const noise = useNoiseSuppression(settings.noiseSuppression, { onError: setNoiseError });
  // Join muted or with the camera off, as the big apps let people choose.
  const [joinMic, setJoinMic] = useState(true);
  const [joinCamera, setJoinCamera] = useState(true);
  const [previewOn, setPreviewOn] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [level, setLevel] = useState(0);
  const [problems, setProblems] = useState<DeviceProblem[]>([]);
  const hosted = useRef<Invite | null>(null);
  const ids = { camera: useId(), microphone: useId(), screen: useId(), speaker: useId() };

  const refresh = useCallback(() => {
    let current = true;
    listDevices().then(
      (list) => {
        if (!current) return;
        setDevices(list);
        setDevicesError(null);
        setCamera((c) => c ?? initialChoice(cameraOptions(list), settings.camera));
        setMicrophone((m) => m ?? initialChoice(microphoneOptions(list), settings.microphone));
        setScreen((s) => s ?? initialChoice(screenOptions(list), settings.screen));
        setSpeaker((s) => s ?? initialSpeaker(speakerOptions(list), settings.speaker));
      },
      (e: unknown) => {
        if (!current) return;
        setDevicesError(describeError(e));
        // Still let people go on with the synthetic sources.
        const none = { cameras: [], microphones: [], screens: [], speakers: [] };
        setDevices((d) => d ?? none);
        setCamera((c) => c ?? initialChoice(cameraOptions(none), settings.camera));
        setMicrophone((m) => m ?? initialChoice(microphoneOptions(none), settings.microphone));
        setScreen((s) => s ?? initialChoice(screenOptions(none), settings.screen));
        setSpeaker((s) => s ?? initialSpeaker(speakerOptions(none), settings.speaker));
      },
    );
    return () => {
      current = false;
    };
    // The saved choices only seed the first selection.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(refresh, [refresh]);

  const preview = usePreview(camera?.device ?? null, microphone?.device ?? null, previewOn);

  useEffect(
    () =>
      onMediaStatus((status) => {
        setLevel(status.levels.find((l) => l.key === 'self')?.level ?? 0);
        setProblems(status.problems);
      }),
    [],
  );

  const { ref: previewCanvas, live: previewLive } = useVideoTrack(previewOn && camera ? 'self:camera' : null);

  async function save(): Promise<Settings | null> {
    if (!camera || !microphone || !screen || !speaker) return null;
    const saved = await saveProfile({
      ...profileOf(settings),
      camera: camera.device,
      microphone: microphone.device,
      screen: screen.device,
      speaker: speaker.device,
      timerChime: chime,
      noiseSuppression: noise.on,
    });
    onSettings(saved);
    return saved;
  }

  async function onContinue() {
    setBusy(true);
    setError(null);
    let relay = intent.kind === 'join' ? intent.relay : null;
    try {
      await save();
      if (intent.kind === 'settings') {
        setPreviewOn(false);
        await preview.stop();
        onBack();
        return;
      }
      setPreviewOn(false);
      await preview.stop();
      let invite: string;
      if (intent.kind === 'host') {
        hosted.current ??= await hostRoom(intent.title);
        invite = hosted.current.link;
        relay = hosted.current.relay;
      } else {
        invite = intent.invite;
      }
      const snapshot = await joinRoom(invite, { mic: joinMic, camera: joinCamera });
      hosted.current = null;
      onJoined(snapshot, invite);
    } catch (e) {
      setError(intent.kind === 'settings' ? describeError(e) : joinErrorText(e, relay));
      setPreviewOn(true);
      setBusy(false);
      if (AppError.from(e).kind === 'deviceUnavailable') refresh();
    }
  }

  async function back() {
    setPreviewOn(false);
    await preview.stop();
    if (hosted.current) {
      hosted.current = null;
      await stopHosting().catch(() => {});
    }
    onBack();
  }

  const noDevices = devices !== null && devices.cameras.length + devices.microphones.length + devices.screens.length === 0;
  const continueLabel =
    intent.kind === 'settings' ? 'Save' : intent.kind === 'host' ? 'Start room' : 'Join now';
  const heading =
    intent.kind === 'settings'
      ? 'Camera & microphone'
      : intent.kind === 'host'
        ? `Start “${isolate(intent.title)}”${intent.mode === 'lecture' ? ' as a lecture' : ''}`
        : intent.title
          ? `Join “${isolate(intent.title)}”`
          : 'Join the room';
  const meter = Math.min(1, Math.sqrt(level));

  return (
    <main className="setup">
      <header className="setup__header">
        <h1>{heading}</h1>
        <p className="muted">
          {intent.kind === 'settings'
            ? 'Choose what the others see and hear.'
            : `Check how you look and sound, ${isolate(settings.displayName)}.`}
        </p>
      </header>
      <div className="setup__body">
        <section className="setup__preview">
          <div className="tile tile--preview" data-testid="preview">
            <canvas
              ref={previewCanvas}
              className={`tile__video ${previewLive ? 'is-live' : ''}`}
              data-testid="preview-video"
            />
            {!previewLive && (
              <div className="tile__placeholder">
                <span className="avatar">{initials(settings.displayName)}</span>
                <span className="muted">{preview.error ? 'No preview' : 'Starting camera…'}</span>
              </div>
            )}
          </div>
          <div className="meter" aria-label="Microphone level" data-testid="mic-level" data-level={level.toFixed(2)}>
            <div className="meter__fill" style={{ width: `${Math.round(meter * 100)}%` }} />
          </div>
          {preview.error && (
            <p className="field-error" role="alert" data-testid="preview-error">
              {preview.error}
            </p>
          )}
          {problems.length > 0 && (
            <ul className="problems" data-testid="device-problems">
              {problems.map((p) => (
                <li key={p.device + p.message}>
                  <strong>{capitalize(p.device)}:</strong> {p.message}
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="card setup__devices">
          {devices === null ? (
            <p className="muted">
              <Spinner /> Looking for devices…
            </p>
          ) : (
            <>
              {noDevices && (
                <p className="note" data-testid="no-devices-note">
                  No camera, microphone or screen was found, so a test pattern and a test tone
                  stand in for them.
                </p>
              )}
              {devicesError && <p className="field-error">Could not list devices: {devicesError}</p>}
              <DeviceSelect
                id={ids.camera}
                label="Camera"
                options={cameraOptions(devices)}
                value={camera}
                onChange={setCamera}
                testId="select-camera"
                none={devices.cameras.length === 0 ? 'No camera found — using a test pattern.' : null}
              />
              <DeviceSelect
                id={ids.microphone}
                label="Microphone"
                options={microphoneOptions(devices)}
                value={microphone}
                onChange={setMicrophone}
                testId="select-microphone"
                none={devices.microphones.length === 0 ? 'No microphone found — using a test tone.' : null}
              />
              <NoiseSuppressionSwitch
                on={noise.on}
                onChange={(on) => {
                  setNoiseError(null);
                  noise.change(on);
                }}
                microphone={microphone?.device}
                testId="setting-noise-suppression"
              />
              {noiseError && (
                <p className="field-error" role="alert" data-testid="noise-suppression-error">
                  {noiseError}
                </p>
              )}
              <DeviceSelect
                id={ids.screen}
                label="Screen to share"
                options={screenOptions(devices)}
                value={screen}
                onChange={setScreen}
                testId="select-screen"
                none={devices.screens.length === 0 ? 'No screen found — sharing shows a test pattern.' : null}
              />
              <DeviceSelect
                id={ids.speaker}
                label="Speaker"
                options={speakerOptions(devices)}
                value={speaker}
                onChange={setSpeaker}
                testId="select-speaker"
                none={null}
              />
              <button className="button button--ghost button--small" onClick={refresh} disabled={busy}>
                Refresh devices
              </button>
            </>
          )}
          <div className="field setup__chime">
            <span className="label">Focus timer</span>
            <div className="setup__chime-row">
              <label className="check">
                <input
                  type="checkbox"
                  checked={chime}
                  onChange={(e) => setChime(e.target.checked)}
                  data-testid="setting-timer-chime"
                />
                Play a soft chime when the focus timer changes phase
              </label>
              <button
                type="button"
                className="button button--ghost button--small"
                onClick={() => playChime('focus')}
                title="Hear the chime"
                data-testid="setting-timer-chime-try"
              >
                Play
              </button>
            </div>
          </div>
        </section>
      </div>

      {error && (
        <div className="banner banner--error" role="alert" data-testid="setup-error">
          {error}
        </div>
      )}

      <footer className="setup__footer">
        <button className="button" onClick={() => void back()} disabled={busy} data-testid="setup-back">
          Back
        </button>
        {intent.kind !== 'settings' && (
          <div className="setup__join-media" role="group" aria-label="Join with">
            <label className="check">
              <input
                type="checkbox"
                checked={joinMic}
                onChange={(e) => setJoinMic(e.target.checked)}
                disabled={busy}
                data-testid="join-mic"
              />
              Microphone on
            </label>
            <label className="check">
              <input
                type="checkbox"
                checked={joinCamera}
                onChange={(e) => setJoinCamera(e.target.checked)}
                disabled={busy}
                data-testid="join-camera"
              />
              Camera on
            </label>
          </div>
        )}
        <button
          className="button button--primary"
          onClick={() => void onContinue()}
          disabled={busy || devices === null}
          aria-busy={busy}
          data-testid="setup-continue"
        >
          {busy && <Spinner />}
          {error && intent.kind !== 'settings' ? 'Try again' : continueLabel}
        </button>
      </footer>
    </main>
  );
}

function DeviceSelect<D>({
  id,
  label,
  options,
  value,
  onChange,
  testId,
  none,
}: {
  id: string;
  label: string;
  options: Option<D>[];
  value: Option<D> | null;
  onChange: (option: Option<D>) => void;
  testId: string;
  none: string | null;
}) {
  return (
    <div className="field">
      <label htmlFor={id} className="label">
        {label}
      </label>
      <select
        id={id}
        className="input"
        value={value?.value ?? ''}
        onChange={(e) => {
          const option = options.find((o) => o.value === e.target.value);
          if (option) onChange(option);
        }}
        data-testid={testId}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {none && <p className="field-status muted">{none}</p>}
    </div>
  );
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
