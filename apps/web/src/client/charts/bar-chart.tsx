"use client";
// Horizontal bars per category (e.g. per host: allocated vs used), one
// dataset per series; updated in place like the time-series chart.
import { useEffect, useRef } from "react";
import { applyChartDefaults, Chart, onColorSchemeChange, type TSeriesTone, toneColor } from "./chart-theme";

export interface TBarSeries {
  label: string;
  values: number[];
  tone: TSeriesTone;
}

export function BarChart({
  testId,
  title,
  categories,
  series,
  formatValue,
  max,
}: {
  testId: string;
  title: string;
  categories: string[];
  series: TBarSeries[];
  formatValue: (value: number) => string;
  max?: number;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<"bar", number[], string> | null>(null);
  const format = useRef(formatValue);
  format.current = formatValue;

  useEffect(() => {
    if (!canvas.current) return;
    applyChartDefaults();
    const instance = new Chart<"bar", number[], string>(canvas.current, {
      type: "bar",
      data: { labels: [], datasets: [] },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 10, boxHeight: 10 } },
          tooltip: {
            callbacks: { label: (item) => `${item.dataset.label}: ${format.current(item.parsed.x ?? 0)}` },
          },
        },
        scales: {
          x: {
            beginAtZero: true,
            ticks: { maxTicksLimit: 5, callback: (value) => format.current(Number(value)) },
          },
          y: { grid: { display: false } },
        },
      },
    });
    chart.current = instance;
    const stop = onColorSchemeChange(() => instance.update("none"));
    return () => {
      stop();
      instance.destroy();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const instance = chart.current;
    if (!instance) return;
    instance.data.labels = categories;
    instance.data.datasets = series.map((entry) => ({
      label: entry.label,
      data: entry.values,
      backgroundColor: toneColor(entry.tone),
      borderRadius: 2,
      barPercentage: 0.8,
      categoryPercentage: 0.8,
    }));
    const xScale = instance.options.scales?.x;
    if (xScale) xScale.max = max;
    instance.update("none");
  }, [categories, series, max]);

  // Enough room per host that labels stay readable; long lists scroll.
  const height = Math.max(120, categories.length * 28 + 60);
  return (
    <figure className="chart" data-testid={testId} data-points={categories.length}>
      <figcaption>{title}</figcaption>
      <div style={{ height }}>
        <canvas ref={canvas} role="img" aria-label={title} />
      </div>
    </figure>
  );
}
