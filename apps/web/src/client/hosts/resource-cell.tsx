// Allocated against used for one resource of one host, against what the
// scheduler may hand out there: a bar and the two figures under it.
import { formatPercent } from "../format";
import { UsageBar } from "../ui/usage-bar";
import styles from "./hosts.module.css";

function ratio(part: number | null, whole: number): number | null {
  return part === null || whole <= 0 ? null : part / whole;
}

export function ResourceCell({
  label,
  allocated,
  used,
  allocatable,
  format,
}: {
  label: string;
  allocated: number;
  /** Null until the live figures arrive. */
  used: number | null;
  allocatable: number;
  format: (value: number) => string;
}) {
  const allocatedRatio = ratio(allocated, allocatable);
  const usedRatio = ratio(used, allocatable);
  return (
    <div className={styles.resource}>
      <UsageBar label={label} allocatedRatio={allocatedRatio} usedRatio={usedRatio} />
      <div className={styles.sub} title={`of ${format(allocatable)} allocatable`}>
        {format(allocated)} alloc ({formatPercent(allocatedRatio)}) · {used === null ? "—" : format(used)}{" "}
        used
      </div>
    </div>
  );
}
