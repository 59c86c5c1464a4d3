import { describe, expect, it } from 'vitest';
import { mbit, uploadNote, uploadText } from './hostUpload';

const upload = (bitsPerSecond: number, budgetBitsPerSecond: number, heldSmall = 0, paused = 0) => ({
  bitsPerSecond,
  budgetBitsPerSecond,
  heldSmall,
  paused,
});

describe("the host's upload", () => {
  it('is in Mbit/s with one decimal', () => {
    expect(mbit(12_345_678)).toBe('12.3');
    expect(mbit(12_360_000)).toBe('12.4');
    expect(mbit(25_000_000)).toBe('25.0');
    expect(mbit(40_000)).toBe('0.0');
    expect(mbit(0)).toBe('0.0');
    expect(mbit(-5)).toBe('0.0');
    expect(mbit(Number.NaN)).toBe('0.0');
  });

  it('reads against the budget, a round budget without its decimal', () => {
    expect(uploadText(upload(12_345_678, 25_000_000))).toBe('Your upload: 12.3 of 25 Mbit/s');
    expect(uploadText(upload(2_000_000, 12_500_000))).toBe('Your upload: 2.0 of 12.5 Mbit/s');
    expect(uploadText(upload(12_345_678, 0))).toBe('Your upload: 12.3 Mbit/s');
  });

  it('says when video was turned down, and how much in the tooltip', () => {
    expect(uploadNote(upload(1, 2))).toBeNull();
    const note = (heldSmall: number, paused: number) => uploadNote(upload(24_000_000, 25_000_000, heldSmall, paused));
    expect(note(3, 0)?.text).toBe('video turned down to stay within your upload');
    expect(note(3, 0)?.detail).toBe(
      "You host this room, so everyone's video goes out over your connection. To stay within your upload, " +
        "3 video tiles on the others' screens are shown at lower quality until there is room again.",
    );
    expect(note(1, 0)?.detail).toContain("1 video tile on the others' screens is shown at lower quality until");
    expect(note(0, 2)?.detail).toContain("2 video tiles on the others' screens are paused until");
    expect(note(0, 1)?.detail).toContain("1 video tile on the others' screens is paused until");
    expect(note(4, 1)?.detail).toContain(
      "4 video tiles on the others' screens are shown at lower quality and 1 is paused until",
    );
    expect(note(1, 2)?.detail).toContain('1 video tile on the others\' screens is shown at lower quality and 2 are paused');
  });
});
