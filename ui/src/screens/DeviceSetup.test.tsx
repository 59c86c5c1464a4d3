// The device check's noise suppression switch (the rest of the screen is tested through
// App.test.tsx's host and join flows).
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as service from '../services/studyhall';
import { AppError, type Settings } from '../services/studyhall';
import { devices, resetHandlers, settings } from '../test/serviceMock';
import { DeviceSetup } from './DeviceSetup';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);

afterEach(() => {
  cleanup();
  resetHandlers();
});

const MIC = 'alsa_input.pci-0000_00_1f.3.analog-stereo';
const withMicrophone = () =>
  devices({ microphones: [{ name: MIC, label: 'Built-in Audio Analog Stereo' }] });

/** The device check from the start screen's settings, with a real microphone unless told. */
async function renderSetup(saved: Settings = settings({ microphone: { kind: 'microphone', name: MIC } })) {
  vi.mocked(service.listDevices).mockResolvedValue(withMicrophone());
  const onSettings = vi.fn();
  const onBack = vi.fn();
  render(
    <DeviceSetup settings={saved} intent={{ kind: 'settings' }} onSettings={onSettings} onBack={onBack} onJoined={() => {}} />,
  );
  await screen.findByTestId('select-microphone');
  return { onSettings, onBack };
}

const noiseSwitch = () => screen.getByRole<HTMLInputElement>('switch', { name: 'Noise suppression' });

describe('noise suppression in the device check', () => {
  it('is on by default, next to the microphone, with what it does', async () => {
    await renderSetup();
    const toggle = noiseSwitch();
    expect(toggle.checked).toBe(true);
    expect(toggle.disabled).toBe(false);
    expect(toggle.getAttribute('aria-describedby')).toBe(screen.getByTestId('setting-noise-suppression-hint').id);
    expect(screen.getByTestId('setting-noise-suppression-hint').textContent).toBe(
      'Turns down steady background noise such as fans and keyboards.',
    );
    expect(service.setNoiseSuppression).not.toHaveBeenCalled();
  });

  it('switches at once when flipped, and is saved with the profile', async () => {
    const { onSettings, onBack } = await renderSetup();
    fireEvent.click(noiseSwitch());
    expect(service.setNoiseSuppression).toHaveBeenCalledWith(false);
    expect(noiseSwitch().checked).toBe(false);
    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('setup-continue').disabled).toBe(false));
    fireEvent.click(screen.getByTestId('setup-continue'));
    await waitFor(() => expect(onBack).toHaveBeenCalled());
    expect(service.saveProfile).toHaveBeenCalledWith(
      expect.objectContaining({ noiseSuppression: false, microphone: { kind: 'microphone', name: MIC } }),
    );
    expect(onSettings).toHaveBeenCalledWith(expect.objectContaining({ noiseSuppression: false }));
  });

  it('starts from the saved choice', async () => {
    await renderSetup(settings({ microphone: { kind: 'microphone', name: MIC }, noiseSuppression: false }));
    expect(noiseSwitch().checked).toBe(false);
    fireEvent.click(noiseSwitch());
    expect(service.setNoiseSuppression).toHaveBeenCalledWith(true);
  });

  it('is disabled for the test tone, and says it applies to a real microphone', async () => {
    await renderSetup(settings({ microphone: { kind: 'tone' } }));
    expect(screen.getByTestId<HTMLSelectElement>('select-microphone').value).toBe('synthetic');
    expect(noiseSwitch().disabled).toBe(true);
    expect(screen.getByTestId('setting-noise-suppression-hint').textContent).toContain('real microphone');
    fireEvent.change(screen.getByTestId('select-microphone'), { target: { value: `microphone:${MIC}` } });
    expect(noiseSwitch().disabled).toBe(false);
    expect(screen.getByTestId('setting-noise-suppression-hint').textContent).toContain('fans and keyboards');
  });

  it('goes back and says why when it could not be switched', async () => {
    vi.mocked(service.setNoiseSuppression).mockRejectedValueOnce(new AppError('internal', 'The audio worker is gone.'));
    await renderSetup();
    fireEvent.click(noiseSwitch());
    expect((await screen.findByTestId('noise-suppression-error')).textContent).toBe(
      "Couldn't turn off noise suppression: The audio worker is gone.",
    );
    expect(noiseSwitch().checked).toBe(true);
  });

  it('stays as flipped when only keeping it failed (it is in effect)', async () => {
    vi.mocked(service.setNoiseSuppression).mockRejectedValueOnce(new AppError('storage', 'disk full'));
    await renderSetup();
    fireEvent.click(noiseSwitch());
    expect((await screen.findByTestId('noise-suppression-error')).textContent).toContain("couldn't be saved for next time");
    expect(noiseSwitch().checked).toBe(false);
  });
});
