import { describe, expect, it } from 'vitest';
import {
  convertWall,
  dayAt,
  dayStartMs,
  minuteOfDay,
  msOfWall,
  offsetAt,
  parseDay,
  parseTime,
  parseWallText,
  wallAt,
  wallText,
  weekdayOf,
} from './zoned';

const BERLIN = 'Europe/Berlin';
const H = 3_600_000;

describe('wall clocks in a time zone', () => {
  it('read an instant in a zone', () => {
    const ms = Date.UTC(2026, 11, 7, 17, 0);
    expect(wallText(wallAt(ms, BERLIN))).toBe('2026-12-07T18:00');
    expect(wallText(wallAt(ms, 'America/New_York'))).toBe('2026-12-07T12:00');
    expect(wallText(wallAt(ms, 'UTC'))).toBe('2026-12-07T17:00');
    expect(offsetAt(ms, BERLIN)).toBe(H);
    expect(offsetAt(Date.UTC(2026, 6, 1), BERLIN)).toBe(2 * H);
  });

  it('find the instant of a wall-clock time, in winter and in summer', () => {
    expect(msOfWall({ y: 2026, m: 12, d: 7, hh: 18, mm: 0 }, BERLIN)).toBe(Date.UTC(2026, 11, 7, 17, 0));
    expect(msOfWall({ y: 2026, m: 7, d: 1, hh: 18, mm: 0 }, BERLIN)).toBe(Date.UTC(2026, 6, 1, 16, 0));
    expect(msOfWall({ y: 2026, m: 7, d: 1, hh: 0, mm: 30 }, 'Asia/Kolkata')).toBe(Date.UTC(2026, 5, 30, 19, 0));
  });

  it('take a skipped time an hour later and a repeated one the first time, as the app does', () => {
    // 29 March 2026: Berlin's clocks go from 02:00 to 03:00.
    expect(msOfWall({ y: 2026, m: 3, d: 29, hh: 2, mm: 30 }, BERLIN)).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(wallText(wallAt(Date.UTC(2026, 2, 29, 1, 30), BERLIN))).toBe('2026-03-29T03:30');
    // 25 October 2026: 02:00–03:00 happens twice; the first is still summer time.
    expect(msOfWall({ y: 2026, m: 10, d: 25, hh: 2, mm: 30 }, BERLIN)).toBe(Date.UTC(2026, 9, 25, 0, 30));
  });

  it('know where days start and which weekday they are', () => {
    expect(dayStartMs('2026-03-29', BERLIN)).toBe(Date.UTC(2026, 2, 28, 23, 0));
    expect(dayStartMs('2026-03-30', BERLIN) - dayStartMs('2026-03-29', BERLIN)).toBe(23 * H);
    expect(dayStartMs('2026-10-26', BERLIN) - dayStartMs('2026-10-25', BERLIN)).toBe(25 * H);
    expect(weekdayOf('2026-12-07')).toBe(0);
    expect(weekdayOf('2026-12-13')).toBe(6);
    expect(dayAt(Date.UTC(2026, 11, 7, 23, 30), BERLIN)).toBe('2026-12-08');
    expect(minuteOfDay(Date.UTC(2026, 2, 29, 16, 0), BERLIN)).toBe(18 * 60);
  });

  it('move a wall-clock time between zones', () => {
    const wall = { y: 2026, m: 12, d: 7, hh: 18, mm: 0 };
    expect(wallText(convertWall(wall, BERLIN, 'Europe/London'))).toBe('2026-12-07T17:00');
    expect(convertWall(wall, BERLIN, BERLIN)).toBe(wall);
  });

  it('parse days, times and wall-clock texts, refusing what is not one', () => {
    expect(parseDay('2026-02-28')).toEqual({ y: 2026, m: 2, d: 28 });
    expect(parseDay('2026-02-30')).toBeNull();
    expect(parseDay('26-2-3')).toBeNull();
    expect(parseTime('18:05')).toEqual({ hh: 18, mm: 5 });
    expect(parseTime('24:00')).toBeNull();
    expect(parseWallText('2026-12-07T18:00')).toEqual({ y: 2026, m: 12, d: 7, hh: 18, mm: 0 });
    expect(parseWallText('2026-12-07')).toBeNull();
  });
});
