/**
 * The focus timer's chime: two soft sine notes (WebAudio), rising as a focus phase
 * begins and falling as a break does, so the room hears which one without looking.
 */
import type { Phase } from '../services/types';

/** C5 and G5: a fifth, soft together, easy to tell up from down. */
const LOW_HZ = 523.25;
const HIGH_HZ = 783.99;
/** Peak gain of a note: well under a voice in the room. */
const PEAK = 0.08;
const NOTE_GAP_S = 0.22;
const NOTE_S = 0.9;

type AudioContextClass = new () => AudioContext;

function audioContextClass(): AudioContextClass | null {
  const scope = globalThis as { AudioContext?: AudioContextClass; webkitAudioContext?: AudioContextClass };
  return scope.AudioContext ?? scope.webkitAudioContext ?? null;
}

/**
 * Plays the chime for a phase that just began; false when there is no audio (a test, a
 * browser without WebAudio). Never throws: a chime is not worth an error.
 */
export function playChime(phase: Phase): boolean {
  const Context = audioContextClass();
  if (Context === null) return false;
  try {
    // A context per chime, closed after it: chimes are minutes apart, and an idle open
    // context keeps the audio device awake.
    const context = new Context();
    if (context.state === 'suspended') context.resume().catch(() => {});
    const notes = phase === 'focus' ? [LOW_HZ, HIGH_HZ] : [HIGH_HZ, LOW_HZ];
    const start = context.currentTime + 0.02;
    notes.forEach((hz, i) => {
      const at = start + i * NOTE_GAP_S;
      const oscillator = context.createOscillator();
      oscillator.type = 'sine';
      oscillator.frequency.setValueAtTime(hz, at);
      const gain = context.createGain();
      // A soft attack and a long exponential fade, like a struck bell far away.
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(PEAK, at + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + NOTE_S);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(at);
      oscillator.stop(at + NOTE_S + 0.05);
      if (i === notes.length - 1) oscillator.onended = () => void context.close().catch(() => {});
    });
    return true;
  } catch (error) {
    console.warn('cannot play the timer chime', error);
    return false;
  }
}
