// Allocated vs used as one bar: the outer track is what the host can give,
// the light fill what the scheduler handed out, the dark fill what is really
// in use. The gap between the two fills is the slack users cannot see elsewhere.
import { formatPercent } from "../format";

export function UsageBar({
  allocatedRatio,
  usedRatio,
  label,
}: {
  allocatedRatio: number | null;
  usedRatio: number | null;
  label: string;
}) {
  const clamp = (ratio: number | null) => Math.max(0, Math.min(1, ratio ?? 0)) * 100;
  return (
    <div
      className="usage-bar"
      role="img"
      aria-label={`${label}: ${formatPercent(allocatedRatio)} allocated, ${formatPercent(usedRatio)} used`}
      title={`${formatPercent(allocatedRatio)} allocated, ${formatPercent(usedRatio)} used`}
    >
      <div className="usage-allocated" style={{ width: `${clamp(allocatedRatio)}%` }} />
      <div className="usage-used" style={{ width: `${clamp(usedRatio)}%` }} />
    </div>
  );
}
