import { describe, expect, it } from 'vitest';
import { calendarEntry, occurrence } from '../test/fixtures';
import { placeMonth, placeWeek, shiftView, slotAt, viewDays, viewTitle, viewWindow, weekStart } from './calendar';
import { msOfWall } from './zoned';

const BERLIN = 'Europe/Berlin';
const at = (text: string, tz = BERLIN) => {
  const [d = '', t = ''] = text.split('T');
  const [y, m, day] = d.split('-').map(Number) as [number, number, number];
  const [hh, mm] = t.split(':').map(Number) as [number, number];
  return msOfWall({ y, m, d: day, hh, mm }, tz);
};
const entry = (start: string, minutes = 60, group: string | null = 'g1', session = 's1') =>
  calendarEntry(group, group ? 'Algebra' : null, occurrence(session, 'Problem set', at(start), { end_ms: at(start) + minutes * 60_000, occurrence: start }));

describe('the days a view shows', () => {
  it('a week from Monday to Sunday', () => {
    expect(weekStart('2026-12-10')).toBe('2026-12-07');
    expect(weekStart('2026-12-13')).toBe('2026-12-07');
    expect(viewDays('week', '2026-12-10')).toEqual([
      '2026-12-07', '2026-12-08', '2026-12-09', '2026-12-10', '2026-12-11', '2026-12-12', '2026-12-13',
    ]);
  });

  it('a month in whole weeks', () => {
    const december = viewDays('month', '2026-12-10');
    expect(december[0]).toBe('2026-11-30');
    expect(december.at(-1)).toBe('2027-01-03');
    expect(december).toHaveLength(35);
    // February 2027 starts on a Monday and fills four weeks exactly.
    expect(viewDays('month', '2027-02-14')).toHaveLength(28);
    // August 2026 needs six.
    expect(viewDays('month', '2026-08-01')).toHaveLength(42);
  });

  it('moves by a week or a month', () => {
    expect(shiftView('week', '2026-12-10', 1)).toBe('2026-12-14');
    expect(shiftView('week', '2026-12-10', -1)).toBe('2026-11-30');
    expect(shiftView('month', '2026-12-31', 1)).toBe('2027-01-01');
    expect(shiftView('month', '2026-01-31', -1)).toBe('2025-12-01');
  });

  it('asks for the window of its days in the zone, 23 hours shorter or longer across a change', () => {
    const week = viewDays('week', '2026-03-25');
    const { fromMs, toMs } = viewWindow(week, BERLIN);
    expect(fromMs).toBe(Date.UTC(2026, 2, 22, 23));
    expect(toMs - fromMs).toBe(7 * 86_400_000 - 3_600_000);
  });

  it('is titled in the user language', () => {
    expect(viewTitle('month', '2026-12-10', 'en-GB')).toBe('December 2026');
    expect(viewTitle('week', '2026-12-10', 'en-GB')).toMatch(/^7\s*[–-]\s*13 Dec 2026$/);
  });
});

describe('the week view', () => {
  it('puts a daily 18:00 session at 18:00 on every day of the week the clocks change (Berlin)', () => {
    const days = viewDays('week', '2026-03-25');
    const entries = days.map((d) => entry(`${d}T18:00`));
    const placed = placeWeek(entries, days, BERLIN);
    expect(placed.map((p) => p.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(placed.map((p) => [p[0]!.startMin, p[0]!.endMin])).toEqual(Array(7).fill([18 * 60, 19 * 60]));
    // The same in the autumn week.
    const autumn = viewDays('week', '2026-10-25');
    const later = placeWeek(autumn.map((d) => entry(`${d}T18:00`)), autumn, BERLIN);
    expect(later.map((p) => p[0]!.startMin)).toEqual(Array(7).fill(18 * 60));
  });

  it('draws what it sees in the zone the calendar is drawn in', () => {
    const days = viewDays('week', '2026-12-07');
    const placed = placeWeek([entry('2026-12-07T18:00')], days, 'Europe/London');
    expect(placed[0]![0]).toMatchObject({ startMin: 17 * 60, endMin: 18 * 60 });
  });

  it('splits a session across midnight over the two days', () => {
    const days = viewDays('week', '2026-12-07');
    const placed = placeWeek([entry('2026-12-08T23:00', 120)], days, BERLIN);
    expect(placed[1]).toMatchObject([{ startMin: 23 * 60, endMin: 24 * 60, fromBefore: false, goesOn: true }]);
    expect(placed[2]).toMatchObject([{ startMin: 0, endMin: 60, fromBefore: true, goesOn: false }]);
    expect(placed[0]).toEqual([]);
  });

  it('sets overlapping sessions side by side, and the rest full width', () => {
    const days = viewDays('week', '2026-12-07');
    const placed = placeWeek(
      [
        entry('2026-12-07T18:00', 60, 'g1', 'a'),
        entry('2026-12-07T18:30', 60, null, 'b'),
        entry('2026-12-07T19:00', 30, 'g2', 'c'),
        entry('2026-12-07T21:00', 30, 'g1', 'd'),
      ],
      days,
      BERLIN,
    )[0]!;
    expect(placed.map((p) => [p.entry.occurrence.session, p.lane, p.lanes])).toEqual([
      ['a', 0, 2],
      ['b', 1, 2],
      ['c', 0, 2],
      ['d', 0, 1],
    ]);
  });

  it('keeps a short session tall enough to read', () => {
    const days = viewDays('week', '2026-12-07');
    expect(placeWeek([entry('2026-12-07T18:00', 5)], days, BERLIN)[0]![0]).toMatchObject({ startMin: 1080, endMin: 1095 });
  });

  it('turns a click into a half-hour slot', () => {
    expect(slotAt(0)).toEqual({ hh: 0, mm: 0 });
    expect(slotAt(18.75 / 24)).toEqual({ hh: 18, mm: 30 });
    expect(slotAt(1)).toEqual({ hh: 23, mm: 30 });
  });
});

describe('the month view', () => {
  it('lists each occurrence on the day it starts in the zone, earliest first', () => {
    const days = viewDays('month', '2026-12-10');
    const placed = placeMonth(
      [entry('2026-12-07T18:00', 60, 'g1', 'b'), entry('2026-12-07T08:00', 60, null, 'a'), entry('2026-12-31T23:30', 60, 'g1', 'c')],
      days,
      BERLIN,
    );
    const monday = days.indexOf('2026-12-07');
    expect(placed[monday]!.map((e) => e.occurrence.session)).toEqual(['a', 'b']);
    expect(placed[days.indexOf('2026-12-31')]!.map((e) => e.occurrence.session)).toEqual(['c']);
    // In London the last one starts on the 31st too (22:30), in Tokyo on 1 January.
    const tokyo = placeMonth([entry('2026-12-31T23:30')], days, 'Asia/Tokyo');
    expect(tokyo[days.indexOf('2027-01-01')]).toHaveLength(1);
  });

  it('a DST week in Berlin has its sessions on their days', () => {
    const days = viewDays('month', '2026-03-01');
    const placed = placeMonth([entry('2026-03-29T02:30'), entry('2026-03-29T23:30')], days, BERLIN);
    expect(placed[days.indexOf('2026-03-29')]).toHaveLength(2);
  });
});
