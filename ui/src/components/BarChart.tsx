/**
 * A bar chart drawn by Chart.js on a canvas. Only the parts a bar chart needs are
 * registered, so the bundle leaves the rest of Chart.js out.
 */
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef } from 'react';
import { formatDuration, type ChartSeries } from '../state/study';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

function cssColor(element: Element, name: string, fallback: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim() || fallback;
}

/**
 * `series` as bars of minutes; with `goalMinutes`, bars that reach it are drawn full and
 * the others lighter. A new `series` object draws a new chart (memoize it); the chart is
 * destroyed with the component.
 */
export function BarChart({
  series,
  goalMinutes,
  testId,
}: {
  series: ChartSeries;
  goalMinutes?: number;
  testId?: string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const element = canvas.current;
    if (!element) return;
    const full = cssColor(element, '--teal', '#0d8080');
    const light = cssColor(element, '--teal-soft', 'rgba(13, 128, 128, 0.12)');
    const muted = cssColor(element, '--muted', '#5b6f6e');
    const grid = cssColor(element, '--border', '#d9e3e2');
    const reached = (minutes: number) => goalMinutes === undefined || minutes >= goalMinutes;
    const chart = new Chart(element, {
      type: 'bar',
      data: {
        labels: series.labels,
        datasets: [
          {
            label: series.title,
            data: series.minutes,
            backgroundColor: series.minutes.map((m) => (reached(m) ? full : light)),
            borderColor: full,
            borderWidth: series.minutes.map((m) => (reached(m) ? 0 : 1)),
            borderRadius: 6,
            maxBarThickness: 48,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        // Drawn at once: the page is a record, not a show.
        animation: false,
        plugins: {
          tooltip: {
            callbacks: { label: (item) => formatDuration(series.seconds[item.dataIndex] ?? 0) },
          },
        },
        scales: {
          x: { grid: { display: false }, ticks: { color: muted, autoSkip: true, maxRotation: 0 } },
          y: {
            beginAtZero: true,
            grid: { color: grid },
            ticks: { color: muted, precision: 0 },
            title: { display: true, text: 'minutes', color: muted },
          },
        },
      },
    });
    return () => chart.destroy();
  }, [series, goalMinutes]);

  const words = series.labels.map((label, i) => `${label}: ${formatDuration(series.seconds[i] ?? 0)}`).join(', ');
  return (
    <div className="bar-chart">
      <canvas ref={canvas} role="img" aria-label={`${series.title}. ${words}`} data-testid={testId} />
    </div>
  );
}
