"use client";
// A line chart over time. Data changes update the one chart instance in place
// (no re-creation, no animation), so a live chart can take a point a second.
import { useEffect, useRef } from "react";
import { applyChartDefaults, Chart, onColorSchemeChange, type TSeriesTone, toneColor } from "./chart-theme";

export interface TTimePoint {
  t: number;
  v: number | null;
}

export interface TTimeSeries {
  label: string;
  points: TTimePoint[];
  tone: TSeriesTone;
  /** Filled area under the line (for "used"); dashed for limits. */
  style?: "fill" | "line" | "dashed";
}

function formatTick(t: number, spanMs: number): string {
  const date = new Date(t);
  if (spanMs > 2 * 86_400_000) return date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function datasetOf(series: TTimeSeries) {
  const color = toneColor(series.tone);
  return {
    label: series.label,
    data: series.points.map((point) => ({ x: point.t, y: point.v })),
    borderColor: color,
    backgroundColor: series.style === "fill" ? `${color}33` : color,
    fill: series.style === "fill" ? "origin" : false,
    borderDash: series.style === "dashed" ? [6, 4] : [],
    borderWidth: 1.5,
    pointRadius: 0,
    pointHitRadius: 6,
    spanGaps: false,
    tension: 0.2,
  };
}

export function TimeSeriesChart({
  testId,
  title,
  series,
  formatValue,
  yMax,
  window,
  height = 180,
}: {
  testId: string;
  title: string;
  series: TTimeSeries[];
  formatValue: (value: number) => string;
  /** A fixed top (e.g. 100% or the memory limit); auto otherwise. */
  yMax?: number;
  /** The time window the x axis spans (epoch ms), even where there is no data; the data's own span otherwise. */
  window?: { from: number; to: number };
  height?: number;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<"line", { x: number; y: number | null }[]> | null>(null);
  const format = useRef(formatValue);
  format.current = formatValue;

  useEffect(() => {
    if (!canvas.current) return;
    applyChartDefaults();
    const instance = new Chart<"line", { x: number; y: number | null }[]>(canvas.current, {
      type: "line",
      data: { datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        parsing: false,
        normalized: true,
        plugins: {
          legend: { display: true, position: "bottom", labels: { boxWidth: 10, boxHeight: 10 } },
          tooltip: {
            callbacks: {
              title: (items) => (items[0] ? new Date(items[0].parsed.x ?? 0).toLocaleString() : ""),
              label: (item) => `${item.dataset.label}: ${format.current(item.parsed.y ?? 0)}`,
            },
          },
        },
        scales: {
          x: {
            type: "linear",
            // The axis ends at the newest point rather than at a rounder tick beyond it.
            bounds: "data",
            ticks: {
              maxTicksLimit: 6,
              callback: (value) => {
                const scale = chart.current?.scales.x;
                const span = scale ? scale.max - scale.min : 0;
                return formatTick(Number(value), span);
              },
            },
            grid: { display: false },
          },
          y: {
            beginAtZero: true,
            ticks: { maxTicksLimit: 5, callback: (value) => format.current(Number(value)) },
          },
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
    instance.data.datasets = series.map(datasetOf);
    const yScale = instance.options.scales?.y;
    if (yScale) yScale.max = yMax;
    const xScale = instance.options.scales?.x;
    if (xScale) {
      xScale.min = window?.from;
      xScale.max = window?.to;
    }
    instance.update("none");
  }, [series, yMax, window?.from, window?.to]);

  const first = series[0]?.points.length ?? 0;
  return (
    <figure className="chart" data-testid={testId} data-points={first}>
      <figcaption>{title}</figcaption>
      <div style={{ height }}>
        <canvas ref={canvas} role="img" aria-label={title} />
      </div>
    </figure>
  );
}
