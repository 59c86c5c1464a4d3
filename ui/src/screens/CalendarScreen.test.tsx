import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '../components/Toasts';
import * as service from '../services/studyhall';
import { AppError, type CalendarEntry, type GroupsChanged } from '../services/studyhall';
import { viewDays, viewWindow } from '../state/calendar';
import { weekdayCode } from '../state/schedule';
import { addDays, dayAt, localTimeZone, msOfWall, wallAt, wallText } from '../state/zoned';
import {
  CALENDAR_PATH,
  calendarEntry,
  group,
  groupCard,
  groupsChanged,
  occurrence,
  resetHandlers,
  studySession,
} from '../test/serviceMock';
import { CalendarScreen } from './CalendarScreen';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);

afterEach(() => {
  cleanup();
  resetHandlers();
});

const tz = localTimeZone();
const today = dayAt(Date.now(), tz);
const week = viewDays('week', today);
/** The instant of `hh:mm` on `day`, on this computer's wall clock. */
const at = (day: string, hh: number, mm = 0) => {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return msOfWall({ y, m, d, hh, mm }, tz);
};

/** Two groups (Algebra ours, Chemistry Bob's); a weekly Algebra session and a single block. */
function view(): GroupsChanged {
  const start = wallAt(at(week[0]!, 18), tz);
  const weekly = studySession('s1', 'Problem set', { start: wallText(start), tz, rrule: `FREQ=WEEKLY;BYDAY=${weekdayCode(week[0]!)}` });
  const lab = studySession('s2', 'Lab report', { start: wallText(start), tz, rrule: undefined, by: 'bob-2' });
  const block = studySession('b1', 'Reading', { by: '', start: `${week[2]}T09:00`, tz, rrule: undefined });
  return groupsChanged({
    groups: [
      groupCard(group('g1', 'Algebra', { sessions: [weekly] })),
      groupCard(group('g2', 'Chemistry', { owner: 'bob-2', sessions: [lab] }), { owner: false }),
    ],
    blocks: [block],
  });
}

function entries(v: GroupsChanged): CalendarEntry[] {
  const weekly = v.groups[0]!.group.sessions[0]!;
  const lab = v.groups[1]!.group.sessions[0]!;
  return [
    calendarEntry('g1', 'Algebra', occurrence('s1', 'Problem set', at(week[0]!, 18), { occurrence: weekly.start })),
    calendarEntry('g2', 'Chemistry', occurrence('s2', 'Lab report', at(week[0]!, 18, 30), { occurrence: lab.start })),
    calendarEntry(null, null, occurrence('b1', 'Reading', at(week[2]!, 9), { occurrence: `${week[2]}T09:00` })),
  ];
}

async function renderCalendar(v: GroupsChanged = view()) {
  vi.mocked(service.calendar).mockResolvedValue(entries(v));
  const onBack = vi.fn();
  render(
    <ToastProvider>
      <CalendarScreen view={v} onBack={onBack} />
    </ToastProvider>,
  );
  await waitFor(() => expect(screen.getAllByTestId('calendar-entry')).toHaveLength(3));
  return { onBack, view: v };
}

const entry = (session: string) => screen.getAllByTestId('calendar-entry').find((e) => e.dataset.session === session)!;

describe('the calendar', () => {
  it('shows this week, asking for its window, with a colour per group and blocks of their own', async () => {
    await renderCalendar();
    const { fromMs, toMs } = viewWindow(week, tz);
    expect(service.calendar).toHaveBeenCalledWith(fromMs, toMs);
    const grid = screen.getByTestId('calendar-week');
    const columns = grid.querySelectorAll('.week__col');
    expect([...columns].map((c) => (c as HTMLElement).dataset.day)).toEqual(week);
    // Side by side where they overlap, on the day and at the time they start.
    expect(entry('s1').dataset.start).toBe(`${week[0]} 18:00`);
    expect(entry('s1').closest('.week__col')).toBe(columns[0]);
    expect(entry('s1').style.top).toBe(`${(18 / 24) * 100}%`);
    expect(entry('s1').style.width).toBe('50%');
    expect(entry('s2').style.left).toBe('50%');
    expect(entry('b1').closest('.week__col')).toBe(columns[2]);
    expect(entry('s1').className).toContain('cal-colour--0');
    expect(entry('s2').className).toContain('cal-colour--1');
    expect(entry('b1').className).toContain('cal-entry--me');
    expect(entry('s1').title).toMatch(/^Problem set · Algebra · /);
  });

  it('switches to the month, and moves by months and weeks', async () => {
    await renderCalendar();
    fireEvent.click(screen.getByTestId('calendar-view-month'));
    const month = await screen.findByTestId('calendar-month');
    const days = viewDays('month', today);
    const window = viewWindow(days, tz);
    await waitFor(() => expect(service.calendar).toHaveBeenLastCalledWith(window.fromMs, window.toMs));
    await waitFor(() => expect(within(month).getAllByTestId('calendar-entry')).toHaveLength(3));
    const cell = within(month).getAllByTestId('calendar-entry')[0]!.closest('.month__day') as HTMLElement;
    expect(cell.dataset.day).toBe(week[0]);
    expect(within(cell).getAllByTestId('calendar-entry').map((e) => e.dataset.session)).toEqual(['s1', 's2']);

    const before = vi.mocked(service.calendar).mock.calls.length;
    fireEvent.click(screen.getByTestId('calendar-next'));
    await waitFor(() => expect(vi.mocked(service.calendar).mock.calls.length).toBe(before + 1));
    const [nextFrom] = vi.mocked(service.calendar).mock.lastCall!;
    expect(nextFrom).toBeGreaterThan(window.fromMs + 20 * 86_400_000);
    fireEvent.click(screen.getByTestId('calendar-today'));
    fireEvent.click(screen.getByTestId('calendar-view-week'));
    fireEvent.click(screen.getByTestId('calendar-prev'));
    const previous = viewWindow(viewDays('week', addDays(week[0]!, -7)), tz);
    await waitFor(() => expect(vi.mocked(service.calendar).mock.lastCall).toEqual([previous.fromMs, previous.toMs]));
  });

  it('a free slot opens the schedule dialog at that day and time, for "Just me" in the local zone', async () => {
    await renderCalendar();
    const column = screen.getByTestId('calendar-week').querySelectorAll('.week__col')[3]!;
    const slot = within(column as HTMLElement).getAllByTestId('calendar-slot').find((s) => s.dataset.time === '14:00')!;
    fireEvent.click(slot);
    const dialog = screen.getByTestId('schedule-dialog');
    expect(within(dialog).getByLabelText<HTMLInputElement>('Date').value).toBe(week[3]);
    expect(within(dialog).getByLabelText<HTMLInputElement>('Starts at').value).toBe('14:00');
    expect(within(dialog).getByRole<HTMLSelectElement>('combobox', { name: 'For' }).value).toBe('me');
    expect(screen.getByTestId('schedule-tz').textContent).toBe(`Times in ${tz} (this computer's time zone).`);
  });

  it('adds a weekly session on chosen weekdays, a number of times, as an RRULE', async () => {
    await renderCalendar();
    fireEvent.click(screen.getByTestId('schedule-session'));
    const dialog = screen.getByTestId('schedule-dialog');
    const field = (name: string) => dialog.querySelector(`[name=${name}]`) as HTMLInputElement;
    fireEvent.change(field('title'), { target: { value: 'Flashcards' } });
    fireEvent.change(field('target'), { target: { value: 'g1' } });
    fireEvent.change(field('date'), { target: { value: '2027-01-04' } });
    fireEvent.change(field('time'), { target: { value: '07:30' } });
    fireEvent.change(field('minutes'), { target: { value: '45' } });
    fireEvent.change(field('repeat'), { target: { value: 'weekdays' } });
    fireEvent.click(screen.getByTestId('weekday-MO'));
    fireEvent.click(screen.getByTestId('save-session'));
    expect(screen.getByTestId('weekdays-error').textContent).toBe('Choose at least one weekday.');
    fireEvent.click(screen.getByTestId('weekday-WE'));
    fireEvent.click(screen.getByTestId('weekday-FR'));
    fireEvent.change(field('end'), { target: { value: 'count' } });
    fireEvent.change(field('count'), { target: { value: '12' } });
    fireEvent.click(screen.getByTestId('save-session'));
    await waitFor(() => expect(screen.queryByTestId('schedule-dialog')).toBeNull());
    expect(service.addSession).toHaveBeenCalledWith('g1', {
      title: 'Flashcards',
      start: '2027-01-04T07:30',
      tz,
      minutes: 45,
      rrule: 'FREQ=WEEKLY;BYDAY=WE,FR;COUNT=12',
      changes: [],
    });
    expect(screen.getByTestId('toast').textContent).toContain('“Flashcards” was added.');
  });

  it('shows each problem next to its field, and the relay reason in the dialog', async () => {
    vi.mocked(service.addSession).mockRejectedValueOnce(
      new AppError('invalidInput', 'a session repeats at most daily, at its start time (no BYHOUR, BYMINUTE, BYSECOND or BYSETPOS)'),
    );
    await renderCalendar();
    fireEvent.click(screen.getByTestId('schedule-session'));
    const dialog = screen.getByTestId('schedule-dialog');
    const field = (name: string) => dialog.querySelector(`[name=${name}]`) as HTMLInputElement;
    fireEvent.change(field('minutes'), { target: { value: '1000' } });
    fireEvent.click(screen.getByTestId('save-session'));
    expect(screen.getByTestId('title-error').textContent).toBe('Give the session a title.');
    expect(screen.getByTestId('minutes-error').textContent).toBe('A session lasts 5 to 720 minutes.');
    expect(field('title').getAttribute('aria-invalid')).toBe('true');
    expect(service.addSession).not.toHaveBeenCalled();
    fireEvent.change(field('title'), { target: { value: 'Essay' } });
    fireEvent.change(field('minutes'), { target: { value: '60' } });
    expect(screen.queryByTestId('title-error')).toBeNull();
    fireEvent.click(screen.getByTestId('save-session'));
    expect((await screen.findByTestId('schedule-error')).textContent).toContain('at most daily, at its start time');
    expect(screen.getByTestId<HTMLButtonElement>('save-session').disabled).toBe(false);
  });

  it('a recurring occurrence: cancel this one', async () => {
    const { view: v } = await renderCalendar();
    fireEvent.click(entry('s1'));
    const dialog = screen.getByTestId('occurrence-dialog');
    expect(within(dialog).getByTestId('occurrence-owner').textContent).toMatch(/^Group: Algebra · Every week on /);
    fireEvent.click(screen.getByTestId('occurrence-cancel'));
    fireEvent.click(screen.getByTestId('occurrence-confirm'));
    await waitFor(() => expect(screen.queryByTestId('occurrence-dialog')).toBeNull());
    const session = v.groups[0]!.group.sessions[0]!;
    expect(service.changeSession).toHaveBeenCalledWith('g1', 's1', {
      title: 'Problem set',
      start: session.start,
      tz,
      minutes: 60,
      rrule: session.rrule,
      changes: [{ occurrence: session.start, moved_to: null }],
    });
  });

  it('a recurring occurrence: move this one (local time, named in the session zone)', async () => {
    const v = view();
    v.groups[0]!.group.sessions[0] = { ...v.groups[0]!.group.sessions[0]!, tz: 'Pacific/Kiritimati' };
    await renderCalendar(v);
    fireEvent.click(entry('s1'));
    fireEvent.click(screen.getByTestId('occurrence-move'));
    const dialog = screen.getByTestId('occurrence-dialog');
    const date = dialog.querySelector('[name=move-date]') as HTMLInputElement;
    const time = dialog.querySelector('[name=move-time]') as HTMLInputElement;
    expect([date.value, time.value]).toEqual([week[0], '18:00']);
    fireEvent.change(date, { target: { value: week[1] } });
    fireEvent.change(time, { target: { value: '19:15' } });
    fireEvent.click(screen.getByTestId('occurrence-confirm'));
    await waitFor(() => expect(service.changeSession).toHaveBeenCalled());
    const draft = vi.mocked(service.changeSession).mock.lastCall![2]!;
    const movedTo = wallText(wallAt(at(week[1]!, 19, 15), 'Pacific/Kiritimati'));
    expect(draft.changes).toEqual([{ occurrence: v.groups[0]!.group.sessions[0].start, moved_to: movedTo }]);
  });

  it('a recurring occurrence: edit the series keeps its changes; delete the series asks first', async () => {
    const v = view();
    const changes = [{ occurrence: '2030-01-07T18:00', moved_to: null }];
    v.groups[0]!.group.sessions[0] = { ...v.groups[0]!.group.sessions[0]!, changes };
    await renderCalendar(v);
    fireEvent.click(entry('s1'));
    fireEvent.click(screen.getByTestId('occurrence-edit'));
    const dialog = screen.getByTestId('schedule-dialog');
    expect((dialog.querySelector('[name=repeat]') as HTMLSelectElement).value).toBe('weekly');
    expect((dialog.querySelector('[name=target]') as HTMLSelectElement).disabled).toBe(true);
    fireEvent.change(dialog.querySelector('[name=minutes]')!, { target: { value: '90' } });
    fireEvent.click(screen.getByTestId('save-session'));
    await waitFor(() => expect(service.changeSession).toHaveBeenCalled());
    expect(vi.mocked(service.changeSession).mock.lastCall).toEqual(['g1', 's1', expect.objectContaining({ minutes: 90, changes })]);

    fireEvent.click(entry('s1'));
    fireEvent.click(screen.getByTestId('occurrence-delete'));
    expect(screen.getByTestId('occurrence-dialog').textContent).toContain('Delete every session of this series?');
    fireEvent.click(screen.getByTestId('occurrence-confirm'));
    await waitFor(() => expect(vi.mocked(service.changeSession).mock.lastCall).toEqual(['g1', 's1', null]));
  });

  it("a single one: edit or delete; another member's session is read-only", async () => {
    await renderCalendar();
    fireEvent.click(entry('b1'));
    expect(screen.queryByTestId('occurrence-cancel')).toBeNull();
    expect(screen.getByTestId('occurrence-edit').textContent).toBe('Edit');
    fireEvent.click(screen.getByTestId('occurrence-delete'));
    fireEvent.click(screen.getByTestId('occurrence-confirm'));
    await waitFor(() => expect(vi.mocked(service.changeSession).mock.lastCall).toEqual([null, 'b1', null]));

    fireEvent.click(entry('s2'));
    expect(screen.getByTestId('occurrence-readonly').textContent).toBe("Only the group's owner or whoever added it can change it.");
    expect(screen.queryByTestId('occurrence-edit')).toBeNull();
  });

  it('shows a refusal of a change in the occurrence dialog', async () => {
    vi.mocked(service.changeSession).mockRejectedValueOnce(new AppError('refused', 'Only the owner changes this session.'));
    await renderCalendar();
    fireEvent.click(entry('s1'));
    fireEvent.click(screen.getByTestId('occurrence-cancel'));
    fireEvent.click(screen.getByTestId('occurrence-confirm'));
    expect((await screen.findByTestId('occurrence-error')).textContent).toBe('Only the owner changes this session.');
  });

  it('imports an .ics file into a group and shows what was added and left out', async () => {
    vi.mocked(service.importCalendar)
      .mockResolvedValueOnce(null)
      .mockResolvedValueOnce({ added: 3, skipped: ['"Party": all-day events are not study sessions', '"Gym": it has no end or duration'] });
    await renderCalendar();
    fireEvent.click(screen.getByTestId('import-calendar'));
    fireEvent.change(screen.getByTestId('import-target'), { target: { value: 'g2' } });
    fireEvent.click(screen.getByTestId('import-choose'));
    expect(await screen.findByText('No file was chosen.')).toBeTruthy();
    fireEvent.click(screen.getByTestId('import-choose'));
    expect((await screen.findByTestId('import-added')).textContent).toBe('Added 3 sessions.');
    expect(within(screen.getByTestId('import-skipped')).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      '"Party": all-day events are not study sessions',
      '"Gym": it has no end or duration',
    ]);
    expect(service.importCalendar).toHaveBeenLastCalledWith('g2', tz);
    fireEvent.click(screen.getByTestId('import-done'));
    expect(screen.queryByTestId('import-dialog')).toBeNull();
  });

  it('exports an .ics file and says where; a cancelled save says nothing', async () => {
    await renderCalendar();
    fireEvent.click(screen.getByTestId('export-calendar'));
    await waitFor(() => expect(screen.getByTestId('export-calendar-result').textContent).toBe(`Saved to ${CALENDAR_PATH}`));
    vi.mocked(service.exportCalendar).mockResolvedValueOnce(null);
    fireEvent.click(screen.getByTestId('export-calendar'));
    await waitFor(() => expect(screen.getByTestId('export-calendar-result').textContent).toBe(''));
  });

  it('asks again when a schedule changes, and says when nothing is scheduled', async () => {
    const { view: v } = await renderCalendar();
    const calls = vi.mocked(service.calendar).mock.calls.length;
    vi.mocked(service.calendar).mockResolvedValue([]);
    cleanup();
    render(
      <ToastProvider>
        <CalendarScreen view={{ ...v, blocks: [] }} onBack={() => {}} />
      </ToastProvider>,
    );
    expect((await screen.findByTestId('calendar-empty')).textContent).toMatch(/^Nothing scheduled this week\./);
    expect(vi.mocked(service.calendar).mock.calls.length).toBe(calls + 1);
  });

  it('says when the calendar cannot be loaded, and tries again', async () => {
    vi.mocked(service.calendar).mockRejectedValueOnce(new AppError('storage', 'disk on fire'));
    render(
      <ToastProvider>
        <CalendarScreen view={view()} onBack={() => {}} />
      </ToastProvider>,
    );
    expect((await screen.findByTestId('calendar-error')).textContent).toContain('disk on fire');
    vi.mocked(service.calendar).mockResolvedValue(entries(view()));
    await act(async () => {
      fireEvent.click(screen.getByText('Try again'));
      await Promise.resolve();
    });
    await waitFor(() => expect(screen.getAllByTestId('calendar-entry')).toHaveLength(3));
  });
});
