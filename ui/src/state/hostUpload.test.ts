import { describe, expect, it } from 'vitest';
import { mbit, uploadNote, uploadText } from './hostUpload';

const upload = (bitsPerSecond: number, budgetBitsPerSecond: number, step = 0) => ({
  bitsPerSecond,
  budgetBitsPerSecond,
  step,
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

  it('says when video was turned down, and how far in the tooltip', () => {
    expect(uploadNote(upload(1, 2, 0))).toBeNull();
    const smaller = uploadNote(upload(24_000_000, 25_000_000, 1));
    expect(smaller?.text).toBe('video turned down to stay within your upload');
    expect(smaller?.detail).toContain('at lower quality');
    expect(smaller?.detail).not.toContain('paused');
    expect(uploadNote(upload(24_000_000, 25_000_000, 3))?.detail).toContain('for some tiles it is paused');
    expect(uploadNote(upload(24_000_000, 25_000_000, 5))?.detail).toContain('for some tiles it is paused');
  });
});
