// A rollout's state and how far it got, as one badge and one bar: the share
// of the wanted replicas already made from the target revision.
import { StatusBadge } from "../ui/status-badge";
import styles from "./deployments.module.css";

export function RolloutProgress({
  state,
  updated,
  desired,
  label,
}: {
  /** null: the deployment never had a rollout (nothing changed since creation). */
  state: string | null;
  updated: number;
  desired: number;
  label: string;
}) {
  if (state === null) return <span className="muted">none yet</span>;
  const ratio = desired === 0 ? 1 : Math.min(1, updated / desired);
  const percent = Math.round(ratio * 100);
  return (
    <span className={styles.progressCell}>
      <StatusBadge status={state} testId="rollout-state" />
      <span
        className={`progress ${styles.progressBar}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={desired}
        aria-valuenow={Math.min(updated, desired)}
        aria-valuetext={`${updated} of ${desired} replicas updated`}
        title={`${updated} of ${desired} replicas on the newest revision`}
      >
        <span className={styles.progressFill} style={{ width: `${percent}%` }} />
      </span>
      <span className="muted nowrap">
        {Math.min(updated, desired)}/{desired}
      </span>
    </span>
  );
}
