import { describe, expect, it } from 'vitest';
import { studySession } from '../test/fixtures';
import {
  buildRrule,
  draftOf,
  draftOfForm,
  formOfSession,
  formProblems,
  keptChanges,
  newForm,
  readRrule,
  repeatSummary,
  untilValue,
  withChange,
  type ScheduleForm,
} from './schedule';

const BERLIN = 'Europe/Berlin';
/** A form for Monday 7 December 2026, 18:00 in Berlin, titled. */
const form = (extra: Partial<ScheduleForm> = {}): ScheduleForm => ({
  ...newForm('2026-12-07', '18:00', BERLIN),
  title: 'Problem set',
  ...extra,
});

describe('the recurrence the dialog makes', () => {
  it('none, daily, weekly on the chosen day, weekly on chosen weekdays (in week order)', () => {
    expect(buildRrule(form())).toBeNull();
    expect(buildRrule(form({ repeat: 'daily' }))).toBe('FREQ=DAILY');
    expect(buildRrule(form({ repeat: 'weekly' }))).toBe('FREQ=WEEKLY;BYDAY=MO');
    expect(buildRrule(form({ repeat: 'weekly', date: '2026-12-10' }))).toBe('FREQ=WEEKLY;BYDAY=TH');
    expect(buildRrule(form({ repeat: 'weekdays', weekdays: ['TH', 'MO', 'SU'] }))).toBe('FREQ=WEEKLY;BYDAY=MO,TH,SU');
  });

  it('ends on a day (its end, in UTC, as iCalendar wants with a zoned start) or after a count', () => {
    expect(untilValue('2027-01-31', BERLIN)).toBe('20270131T225959Z');
    expect(untilValue('2027-07-31', BERLIN)).toBe('20270731T215959Z');
    expect(buildRrule(form({ repeat: 'weekly', end: 'until', until: '2027-01-31' }))).toBe(
      'FREQ=WEEKLY;BYDAY=MO;UNTIL=20270131T225959Z',
    );
    expect(buildRrule(form({ repeat: 'daily', end: 'count', count: ' 10 ' }))).toBe('FREQ=DAILY;COUNT=10');
    // An end without a repeat does nothing.
    expect(buildRrule(form({ end: 'count', count: '3' }))).toBeNull();
  });

  it('keeps a rule it cannot show as it is', () => {
    expect(buildRrule(form({ repeat: 'custom', custom: 'FREQ=MONTHLY;BYMONTHDAY=1' }))).toBe('FREQ=MONTHLY;BYMONTHDAY=1');
  });

  it('is read back into the same choices', () => {
    for (const f of [
      form({ repeat: 'daily' }),
      form({ repeat: 'weekly' }),
      form({ repeat: 'weekdays', weekdays: ['MO', 'WE', 'FR'] }),
      form({ repeat: 'weekly', end: 'until', until: '2027-01-31' }),
      form({ repeat: 'weekdays', weekdays: ['TU', 'TH'], end: 'count', count: '12' }),
    ]) {
      const rrule = buildRrule(f)!;
      const back = readRrule(rrule, f.date, f.tz);
      expect({ ...f, ...back }, rrule).toEqual(f);
    }
  });

  it('reads what other calendars write, and keeps what it cannot show', () => {
    expect(readRrule('FREQ=WEEKLY', '2026-12-09', BERLIN)).toMatchObject({ repeat: 'weekly', weekdays: ['WE'] });
    expect(readRrule('freq=weekly;byday=mo;wkst=mo', '2026-12-07', BERLIN)).toMatchObject({ repeat: 'weekly' });
    expect(readRrule('FREQ=DAILY;UNTIL=20270131', '2026-12-07', BERLIN)).toMatchObject({ end: 'until', until: '2027-01-31' });
    for (const rule of ['FREQ=MONTHLY', 'FREQ=WEEKLY;INTERVAL=2', 'FREQ=WEEKLY;BYDAY=1MO', 'FREQ=DAILY;BYHOUR=9', 'FREQ=DAILY;COUNT=x']) {
      expect(readRrule(rule, '2026-12-07', BERLIN)).toEqual({ repeat: 'custom', custom: rule });
    }
  });

  it('says how a session repeats', () => {
    expect(repeatSummary(studySession('s1', 'x'), 'en')).toBe('Every week on Monday');
    expect(repeatSummary(studySession('s1', 'x', { rrule: 'FREQ=DAILY;COUNT=5' }), 'en')).toBe('Every day, 5 times');
    expect(repeatSummary(studySession('s1', 'x', { rrule: 'FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20270131T225959Z' }), 'en')).toBe(
      'Every week on Monday, Thursday, until 2027-01-31',
    );
    expect(repeatSummary(studySession('s1', 'x', { rrule: 'FREQ=MONTHLY' }), 'en')).toBe('Repeats (FREQ=MONTHLY)');
    expect(repeatSummary(studySession('s1', 'x', { rrule: undefined }), 'en')).toBeNull();
  });
});

describe('the form', () => {
  it('names each problem by its field', () => {
    expect(formProblems(form())).toEqual({});
    expect(
      formProblems(
        form({ title: '  ', date: '2026-02-30', time: '25:00', minutes: '4', repeat: 'weekdays', weekdays: [], end: 'count', count: '0' }),
      ),
    ).toEqual({
      title: 'Give the session a title.',
      date: 'Choose a date.',
      time: 'Choose a start time.',
      minutes: 'A session lasts 5 to 720 minutes.',
      weekdays: 'Choose at least one weekday.',
      count: 'Enter how many times, 1 to 999.',
    });
    expect(formProblems(form({ title: 'x'.repeat(101) })).title).toBe('A title is at most 100 characters.');
    expect(formProblems(form({ title: 'a\u0007b' })).title).toBe('A title may not contain control characters.');
    expect(formProblems(form({ minutes: '721' })).minutes).toBeDefined();
    expect(formProblems(form({ minutes: '30.5' })).minutes).toBeDefined();
    expect(formProblems(form({ repeat: 'daily', end: 'until', until: '2026-12-01' })).until).toBe(
      'The last day cannot be before the first.',
    );
    expect(formProblems(form({ repeat: 'daily', end: 'until', until: '' })).until).toBe('Choose the last day.');
  });

  it('makes a draft, keeping the changes of a series only while it repeats', () => {
    const changes = [{ occurrence: '2026-12-14T18:00', moved_to: null }];
    expect(draftOfForm(form({ title: ' Problem set ', repeat: 'weekly', minutes: '90' }), changes)).toEqual({
      draft: {
        title: 'Problem set',
        start: '2026-12-07T18:00',
        tz: BERLIN,
        minutes: 90,
        rrule: 'FREQ=WEEKLY;BYDAY=MO',
        changes,
      },
      problems: null,
    });
    expect(draftOfForm(form(), changes).draft?.changes).toEqual([]);
    expect(draftOfForm(form({ title: '' }))).toEqual({ draft: null, problems: { title: 'Give the session a title.' } });
  });

  it('shows a session as it was made, in its own zone', () => {
    const session = studySession('s1', 'Problem set', { rrule: 'FREQ=WEEKLY;BYDAY=MO,WE', minutes: 45, tz: 'America/New_York' });
    expect(formOfSession(session)).toMatchObject({
      title: 'Problem set',
      date: '2026-12-07',
      time: '18:00',
      minutes: '45',
      repeat: 'weekdays',
      weekdays: ['MO', 'WE'],
      tz: 'America/New_York',
    });
  });
});

describe('changing one occurrence', () => {
  const session = studySession('s1', 'Problem set', { changes: [{ occurrence: '2026-12-14T18:00', moved_to: null }] });

  it('cancels one, replacing an earlier change of it', () => {
    expect(withChange(session, '2026-12-21T18:00', null).changes).toEqual([
      { occurrence: '2026-12-14T18:00', moved_to: null },
      { occurrence: '2026-12-21T18:00', moved_to: null },
    ]);
    expect(withChange(session, '2026-12-14T18:00', '2026-12-15T19:00').changes).toEqual([
      { occurrence: '2026-12-14T18:00', moved_to: '2026-12-15T19:00' },
    ]);
  });

  it('moving one back where it was is no change', () => {
    expect(withChange(session, '2026-12-14T18:00', '2026-12-14T18:00').changes).toEqual([]);
  });

  it("keeps the rest of the session's draft", () => {
    const changed = withChange(session, '2026-12-21T18:00', null);
    expect({ ...changed, changes: [] }).toEqual({ ...draftOf(session), changes: [] });
  });
});

describe('keptChanges', () => {
  const series = {
    title: 'Problem set',
    start: '2026-12-07T18:00',
    tz: 'Europe/Berlin',
    minutes: 60,
    rrule: 'FREQ=WEEKLY',
    changes: [{ occurrence: '2026-12-14T18:00', moved_to: null }],
  };
  it('keeps cancelled and moved occurrences while the series keeps its start, zone and rule', () => {
    expect(keptChanges(series, { ...series, title: 'Renamed', minutes: 90 })).toEqual(series.changes);
  });
  it('drops them when the start, the zone or the rule changes (they would name other occurrences)', () => {
    expect(keptChanges(series, { ...series, start: '2026-12-07T19:00' })).toEqual([]);
    expect(keptChanges(series, { ...series, tz: 'UTC' })).toEqual([]);
    expect(keptChanges(series, { ...series, rrule: 'FREQ=DAILY' })).toEqual([]);
  });
});
