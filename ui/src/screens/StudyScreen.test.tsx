import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App';
import * as service from '../services/studyhall';
import { AppError } from '../services/studyhall';
import { EXPORT_PATH, resetHandlers, roomTotal, studySummary } from '../test/serviceMock';
import { StudyScreen } from './StudyScreen';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);

// jsdom has no canvas: a stand-in Chart that keeps what it was asked to draw.
const charts = vi.hoisted(() => ({ made: [] as { config: unknown; destroyed: boolean }[] }));
vi.mock('chart.js', () => {
  class Chart {
    static register() {}
    entry: { config: unknown; destroyed: boolean };
    constructor(_canvas: HTMLCanvasElement, config: unknown) {
      this.entry = { config, destroyed: false };
      charts.made.push(this.entry);
    }
    destroy() {
      this.entry.destroyed = true;
    }
  }
  return { Chart, BarController: {}, BarElement: {}, CategoryScale: {}, LinearScale: {}, Tooltip: {} };
});

type BarConfig = { data: { labels: string[]; datasets: { data: number[] }[] } };
const lastChart = () => charts.made.at(-1)!.config as BarConfig;

afterEach(() => {
  cleanup();
  resetHandlers();
  charts.made.length = 0;
});

function renderStudy(onBack = () => {}) {
  render(<StudyScreen onBack={onBack} />);
}

describe('Study page', () => {
  it("shows today against the goal, the streak, the rooms and this week's chart", async () => {
    renderStudy();
    expect((await screen.findByTestId('study-today')).textContent).toBe('1 h 25 min of 2 h');
    expect(screen.getByTestId('study-progress').getAttribute('aria-valuenow')).toBe('71');
    expect(screen.getByTestId('study-streak').textContent).toBe('2 days · best 5 days');
    expect(screen.getByTestId('study-focus').textContent).toBe(
      '2 focus phases finished today · 7 focus phases in the last 7 days',
    );
    expect(screen.getByTestId<HTMLInputElement>('study-goal-input').value).toBe('120');

    const rows = within(screen.getByTestId('study-rooms')).getAllByRole('row');
    expect(rows.map((r) => r.textContent)).toEqual([
      'RoomTodayAll timeFocus phases',
      'Finals week1 h5 h 15 min9',
      'Algebra25 min2 h4',
    ]);

    expect(screen.getByTestId('study-chart').tagName).toBe('CANVAS');
    expect(screen.getByTestId('study-tab-week').getAttribute('aria-selected')).toBe('true');
    // The chart is made in an effect, which may run after the first paint.
    await waitFor(() => expect(charts.made.length).toBeGreaterThan(0));
    expect(lastChart().data.datasets[0]!.data).toEqual([0, 0, 0, 0, 40, 130, 85]);
  });

  it('switches the chart between day, week and month, destroying the old chart', async () => {
    renderStudy();
    await screen.findByTestId('study-chart');
    await waitFor(() => expect(charts.made.length).toBeGreaterThan(0));
    const week = charts.made.at(-1)!;
    fireEvent.click(screen.getByTestId('study-tab-day'));
    expect(week.destroyed).toBe(true);
    expect(lastChart().data.labels).toEqual(['Finals week', 'Algebra']);
    expect(lastChart().data.datasets[0]!.data).toEqual([60, 25]);
    fireEvent.click(screen.getByTestId('study-tab-month'));
    expect(lastChart().data.labels).toHaveLength(30);
    expect(screen.getByTestId('study-tab-month').getAttribute('aria-selected')).toBe('true');
    cleanup();
    expect(charts.made.every((c) => c.destroyed)).toBe(true);
  });

  it('says so when today has no time yet on the day chart', async () => {
    vi.mocked(service.studySummary).mockResolvedValueOnce(studySummary({ todayRooms: [] }));
    renderStudy();
    fireEvent.click(await screen.findByTestId('study-tab-day'));
    expect(screen.getByTestId('study-chart-empty').textContent).toBe('No time in rooms today yet.');
    expect(screen.queryByTestId('study-chart')).toBeNull();
  });

  it('checks the goal before saving it, and shows the new goal', async () => {
    renderStudy();
    const input = await screen.findByTestId<HTMLInputElement>('study-goal-input');
    const save = screen.getByTestId<HTMLButtonElement>('study-goal-save');
    expect(save.disabled).toBe(true);
    for (const bad of ['4', '961', '30.5']) {
      fireEvent.change(input, { target: { value: bad } });
      fireEvent.click(save);
      expect(screen.getByTestId('study-goal-error').textContent).toBe('Enter a whole number of minutes from 5 to 960.');
    }
    expect(service.setStudyGoal).not.toHaveBeenCalled();

    fireEvent.change(input, { target: { value: '60' } });
    expect(screen.queryByTestId('study-goal-error')).toBeNull();
    fireEvent.click(save);
    await waitFor(() => expect(screen.getByTestId('study-today').textContent).toContain('of 1 h'));
    expect(service.setStudyGoal).toHaveBeenCalledWith(60);
    expect(screen.getByTestId('study-today').textContent).toContain('Goal reached');
    expect(input.value).toBe('60');
  });

  it("shows the app's reason when it refuses the goal", async () => {
    vi.mocked(service.setStudyGoal).mockRejectedValueOnce(
      new AppError('invalidInput', 'The daily goal must be between 5 and 960 minutes.'),
    );
    renderStudy();
    const input = await screen.findByTestId('study-goal-input');
    fireEvent.change(input, { target: { value: '90' } });
    fireEvent.click(screen.getByTestId('study-goal-save'));
    expect((await screen.findByTestId('study-goal-error')).textContent).toBe(
      'The daily goal must be between 5 and 960 minutes.',
    );
  });

  it('exports the record as CSV and says where it went', async () => {
    renderStudy();
    fireEvent.click(await screen.findByTestId('study-export'));
    await waitFor(() => expect(screen.getByTestId('study-export-result').textContent).toBe(`Saved to ${EXPORT_PATH}`));

    vi.mocked(service.exportStudyCsv).mockRejectedValueOnce(new AppError('storage', 'Cannot write the file: disk full'));
    fireEvent.click(screen.getByTestId('study-export'));
    await waitFor(() =>
      expect(screen.getByTestId('study-export-result').textContent).toBe("Couldn't export: Cannot write the file: disk full"),
    );
  });

  it('shows the notice that the record started afresh until it is dismissed', async () => {
    const notice = 'Your study record could not be read, so a new one was started.';
    vi.mocked(service.studySummary).mockResolvedValueOnce(studySummary({ notice }));
    renderStudy();
    expect((await screen.findByTestId('study-notice')).textContent).toContain(notice);
    fireEvent.click(screen.getByTestId('study-notice-dismiss'));
    expect(screen.queryByTestId('study-notice')).toBeNull();
    expect(service.dismissStudyNotice).toHaveBeenCalledTimes(1);
  });

  it('has an empty state before any time in rooms', async () => {
    vi.mocked(service.studySummary).mockResolvedValueOnce(
      studySummary({ days: [], rooms: [], todayRooms: [], streakDays: 0, bestStreakDays: 0 }),
    );
    renderStudy();
    expect((await screen.findByTestId('study-empty')).textContent).toContain('Nothing recorded yet');
    expect(screen.getByTestId('study-today').textContent).toBe('0 min of 2 h');
    expect(screen.getByTestId('study-streak').textContent).toBe('0 days · best 0 days');
    expect(screen.queryByTestId('study-chart')).toBeNull();
    expect(screen.queryByTestId('study-rooms')).toBeNull();
    expect(charts.made).toHaveLength(0);
  });

  it('says when the record cannot be read, and tries again', async () => {
    vi.mocked(service.studySummary).mockRejectedValueOnce(new AppError('storage', 'database is locked'));
    renderStudy();
    expect((await screen.findByTestId('study-error')).textContent).toContain('database is locked');
    fireEvent.click(screen.getByText('Try again'));
    expect(await screen.findByTestId('study-today')).toBeTruthy();
  });

  it('names a room without a title by its id', async () => {
    vi.mocked(service.studySummary).mockResolvedValueOnce(studySummary({ rooms: [roomTotal('room-7', '', 600)] }));
    renderStudy();
    expect((await screen.findByTestId('study-room-room-7')).textContent).toContain('room-7');
  });

  it('is opened from the start screen, and its back button returns there', async () => {
    render(<App />);
    fireEvent.click(await screen.findByTestId('open-study'));
    expect(await screen.findByTestId('study-today')).toBeTruthy();
    await act(async () => {
      fireEvent.click(screen.getByTestId('study-back'));
      await Promise.resolve();
    });
    expect(await screen.findByTestId('host-submit')).toBeTruthy();
  });
});
