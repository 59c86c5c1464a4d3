import { describe, expect, it } from 'vitest';
import { dayTotal, roomTotal, studySummary } from '../test/fixtures';
import {
  addDays,
  chartSeries,
  dayLabel,
  focusPhasesIn,
  formatDuration,
  goalProblem,
  isEmpty,
  lastDays,
  today,
} from './study';

describe('durations', () => {
  it('read as hours and minutes', () => {
    expect(formatDuration(3600 + 25 * 60)).toBe('1 h 25 min');
    expect(formatDuration(25 * 60)).toBe('25 min');
    expect(formatDuration(2 * 3600)).toBe('2 h');
    expect(formatDuration(2 * 3600 + 59)).toBe('2 h');
    expect(formatDuration(30)).toBe('< 1 min');
    expect(formatDuration(0)).toBe('0 min');
  });
});

describe('days', () => {
  it('move on the calendar, across months, years and DST changes', () => {
    expect(addDays('2026-12-05', -1)).toBe('2026-12-04');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30');
    expect(addDays('2026-10-25', -29)).toBe('2026-09-26');
  });

  it('missing from the record count as zero', () => {
    const week = lastDays(studySummary(), 7);
    expect(week.map((d) => d.day)).toEqual([
      '2026-11-29',
      '2026-11-30',
      '2026-12-01',
      '2026-12-02',
      '2026-12-03',
      '2026-12-04',
      '2026-12-05',
    ]);
    expect(week.map((d) => d.seconds)).toEqual([0, 0, 0, 0, 2400, 7800, 5100]);
    expect(lastDays(studySummary(), 30)).toHaveLength(30);
    expect(lastDays(studySummary(), 30)[22]).toEqual(dayTotal('2026-11-28', 3 * 3600, { focusPhases: 6, focusSeconds: 9000 }));
  });

  it("give today's totals, zero before any time today", () => {
    expect(today(studySummary()).seconds).toBe(5100);
    expect(today(studySummary({ days: [dayTotal('2026-12-04', 60)] }))).toEqual(dayTotal('2026-12-05', 0));
  });

  it('are labelled by weekday for a week and by date for a month', () => {
    expect(dayLabel('2026-12-05', 'week', 'en-GB')).toBe('Sat 5');
    expect(dayLabel('2026-12-05', 'month', 'en-GB')).toBe('5 Dec');
  });
});

describe('charts', () => {
  it("show today's time per room for a day", () => {
    const series = chartSeries(studySummary(), 'day');
    expect(series.labels).toEqual(['Finals week', 'Algebra']);
    expect(series.minutes).toEqual([60, 25]);
  });

  it('show minutes per day for a week and a month, zero-filled', () => {
    const week = chartSeries(studySummary(), 'week', 'en-GB');
    expect(week.labels).toHaveLength(7);
    expect(week.labels.at(-1)).toBe('Sat 5');
    expect(week.minutes).toEqual([0, 0, 0, 0, 40, 130, 85]);
    const month = chartSeries(studySummary(), 'month', 'en-GB');
    expect(month.minutes).toHaveLength(30);
    expect(month.minutes.reduce((a, b) => a + b)).toBe(180 + 40 + 130 + 85);
  });

  it('name a room by its id when it has no title', () => {
    const summary = studySummary({ todayRooms: [roomTotal('room-9', '', 90)] });
    expect(chartSeries(summary, 'day').labels).toEqual(['room-9']);
  });
});

describe('the record', () => {
  it('is empty with no days and no rooms', () => {
    expect(isEmpty(studySummary({ days: [], rooms: [], todayRooms: [] }))).toBe(true);
    expect(isEmpty(studySummary())).toBe(false);
  });

  it('counts focus phases over the last days', () => {
    expect(focusPhasesIn(studySummary(), 1)).toBe(2);
    expect(focusPhasesIn(studySummary(), 7)).toBe(7);
    expect(focusPhasesIn(studySummary(), 30)).toBe(13);
  });
});

describe('the daily goal', () => {
  it('is a whole number of minutes from 5 to 960', () => {
    expect(goalProblem('120')).toBeNull();
    expect(goalProblem(' 5 ')).toBeNull();
    expect(goalProblem('960')).toBeNull();
    for (const bad of ['4', '961', '12.5', '', 'two hours', '-10']) {
      expect(goalProblem(bad)).toBe('Enter a whole number of minutes from 5 to 960.');
    }
  });
});
