import type { TLabels } from "@fleet/shared/label-selector";

/** `key=value` chips in key order; a dash when there are none. */
export function LabelChips({ labels }: { labels: TLabels }) {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return <span className="muted">—</span>;
  return (
    <>
      {keys.map((key) => (
        <span key={key} className="label-chip">
          {key}={labels[key]}
        </span>
      ))}
    </>
  );
}
