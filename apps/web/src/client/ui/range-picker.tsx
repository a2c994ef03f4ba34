"use client";
const METRICS_RANGE_CHOICES = ["15m", "1h", "24h", "7d"] as const;
export type TMetricsRangeChoice = (typeof METRICS_RANGE_CHOICES)[number];

export function RangePicker({
  value,
  onChange,
}: {
  value: TMetricsRangeChoice;
  onChange: (range: TMetricsRangeChoice) => void;
}) {
  return (
    <fieldset className="segmented" aria-label="Time range">
      {METRICS_RANGE_CHOICES.map((range) => (
        <button
          key={range}
          type="button"
          aria-pressed={range === value}
          className={range === value ? "active" : undefined}
          onClick={() => onChange(range)}
        >
          {range}
        </button>
      ))}
    </fieldset>
  );
}
