// The figure other tools do not show: what the scheduler has handed out
// (requests) against what containers actually use, for the online fleet.
import type { ReactNode } from "react";
import type { RouterOutputs } from "../api-types";
import { formatBytes, formatCores, formatMillicores, formatPercent } from "../format";
import { UsageBar } from "../ui/usage-bar";
import styles from "./overview.module.css";

type TFleetTotals = RouterOutputs["metrics"]["fleet"]["summary"]["totals"];

function cores(text: string): string {
  return text === "1" ? "1 core" : `${text} cores`;
}

function Legend() {
  return (
    <div className={styles.legend} aria-hidden>
      <span>
        <span className={`${styles.swatch} ${styles.swatchAllocated}`} />
        allocated
      </span>
      <span>
        <span className={`${styles.swatch} ${styles.swatchUsed}`} />
        used
      </span>
    </div>
  );
}

function HeadlineCard({
  title,
  allocated,
  allocatable,
  used,
  allocatedRatio,
  usedRatio,
  gap,
}: {
  title: string;
  allocated: string;
  allocatable: string;
  used: string;
  allocatedRatio: number | null;
  usedRatio: number | null;
  gap: ReactNode;
}) {
  return (
    <section className={`card ${styles.headline}`} aria-label={`${title}: allocated against used`}>
      <div className={styles.headlineTop}>
        <h3>{title}</h3>
        <Legend />
      </div>
      <p className={styles.figure}>
        <strong>{allocated}</strong> allocated of {allocatable} · <strong>{used}</strong> used
      </p>
      <div className={styles.bar}>
        <UsageBar label={title} allocatedRatio={allocatedRatio} usedRatio={usedRatio} />
      </div>
      <p className={styles.gap}>
        {formatPercent(allocatedRatio)} allocated · {formatPercent(usedRatio)} used · {gap}
      </p>
    </section>
  );
}

/** Reserved-but-idle, or how far usage runs past what was requested. */
function gapText(allocated: number, used: number, format: (value: number) => string): ReactNode {
  const idle = allocated - used;
  if (allocated === 0 && used === 0) return "nothing placed yet";
  if (idle >= 0) {
    return (
      <>
        <strong>{format(idle)}</strong> reserved but idle
        {allocated > 0 ? ` (${formatPercent(idle / allocated)} of what is allocated)` : null}
      </>
    );
  }
  return (
    <>
      <strong>{format(-idle)}</strong> used beyond requests
    </>
  );
}

export function AllocationHeadline({ totals }: { totals: TFleetTotals }) {
  const cpuAllocatedCores = totals.cpuAllocatedMillis / 1000;
  return (
    <div className={`grid grid-2 ${styles.cards}`}>
      <HeadlineCard
        title="CPU"
        allocated={cores(formatMillicores(totals.cpuAllocatedMillis))}
        allocatable={formatMillicores(totals.cpuAllocatableMillis)}
        used={formatCores(totals.cpuUsedCores)}
        allocatedRatio={totals.cpuAllocatedRatio}
        usedRatio={totals.cpuUsedRatio}
        gap={gapText(cpuAllocatedCores, totals.cpuUsedCores, (value) => cores(formatCores(value)))}
      />
      <HeadlineCard
        title="Memory"
        allocated={formatBytes(totals.memoryAllocatedBytes)}
        allocatable={formatBytes(totals.memoryAllocatableBytes)}
        used={formatBytes(totals.memoryUsedBytes)}
        allocatedRatio={totals.memoryAllocatedRatio}
        usedRatio={totals.memoryUsedRatio}
        gap={gapText(totals.memoryAllocatedBytes, totals.memoryUsedBytes, formatBytes)}
      />
    </div>
  );
}
