"use client";
// The fleet-wide `ps`: one row per container of the current page, with what it
// uses right now next to what it may use (its limits).
import type { TContainerSample } from "@fleet/shared/domain/metrics";
import Link from "next/link";
import type { RouterInputs, TContainerView } from "../api-types";
import {
  formatBytes,
  formatCores,
  formatDateTime,
  formatMillicores,
  formatRelative,
  shortDigest,
} from "../format";
import { useCan } from "../session";
import { SortHeader, type TSortState } from "../ui/sort-header";
import { StatusBadge } from "../ui/status-badge";
import { ContainerActionButtons, type useContainerActions } from "./container-actions";
import { HealthBadge } from "./container-health";
import styles from "./containers.module.css";

function UsedOfLimit({ used, limit }: { used: string; limit: string | null }) {
  return (
    <span className="nowrap">
      {used}
      <span className="muted"> / {limit ?? "no limit"}</span>
    </span>
  );
}

function ContainerRow({
  container,
  sample,
  actions,
  canOperate,
}: {
  container: TContainerView;
  sample: TContainerSample | undefined;
  actions: ReturnType<typeof useContainerActions>;
  canOperate: boolean;
}) {
  const { resources } = container;
  const headingElsewhere =
    container.desiredState !== container.actualState && container.desiredState !== "running";
  return (
    <tr data-container-id={container.id}>
      <td>
        <Link href={`/containers/${container.id}`} className={styles.name}>
          {container.name}
        </Link>
        {container.deploymentId ? (
          <Link
            href={`/deployments/${encodeURIComponent(container.deploymentId)}`}
            className={styles.deployment}
            title="Show this deployment"
          >
            {container.deploymentName ?? "deployment"}
          </Link>
        ) : null}
      </td>
      <td className={styles.image} title={container.image}>
        <span className="mono">{container.image}</span>
      </td>
      <td className={`mono ${styles.digest}`} title={container.imageDigest ?? "not reported yet"}>
        {container.imageDigest ? shortDigest(container.imageDigest) : <span className="muted">—</span>}
      </td>
      <td className="nowrap">
        {container.hostId ? (
          <Link href={`/hosts/${container.hostId}`}>
            {container.hostName ?? container.hostId.slice(0, 8)}
          </Link>
        ) : (
          <span className="muted">unplaced</span>
        )}
      </td>
      <td className="nowrap" title={container.statusMessage ?? undefined}>
        <StatusBadge status={container.actualState} testId="container-state" />
        {container.health ? " " : null}
        <HealthBadge container={container} />
        {headingElsewhere ? <span className="muted"> → {container.desiredState}</span> : null}
      </td>
      <td className="num">
        <UsedOfLimit
          used={sample ? formatCores(sample.cpuCores) : "—"}
          limit={resources.cpuLimitMillis === null ? null : formatMillicores(resources.cpuLimitMillis)}
        />
      </td>
      <td className="num">
        <UsedOfLimit
          used={sample ? formatBytes(sample.memoryWorkingSetBytes) : "—"}
          limit={resources.memoryLimitBytes === null ? null : formatBytes(resources.memoryLimitBytes)}
        />
      </td>
      <td className="num">
        {container.restartCount}
        {container.oomKillCount > 0 ? (
          <span className={styles.oom} title={`${container.oomKillCount} OOM kills`}>
            {" "}
            OOM×{container.oomKillCount}
          </span>
        ) : null}
      </td>
      <td className="nowrap" title={formatDateTime(container.createdAt)}>
        {formatRelative(container.createdAt)}
      </td>
      {canOperate ? (
        <td className="actions">
          <ContainerActionButtons container={container} actions={actions} small />
        </td>
      ) : null}
    </tr>
  );
}

export type TContainerSort = NonNullable<Exclude<RouterInputs["container"]["list"], void>["sort"]>;

export function ContainersTable({
  containers,
  latestSample,
  actions,
  sort,
}: {
  containers: readonly TContainerView[];
  /** The newest live sample of a container, if it is fresh. */
  latestSample: (containerId: string) => TContainerSample | undefined;
  actions: ReturnType<typeof useContainerActions>;
  /** The server-side order, changed by clicking a column's header. */
  sort: { state: TSortState<TContainerSort>; onSort: (next: TSortState<TContainerSort>) => void };
}) {
  const canOperate = useCan("operator");
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <SortHeader column="name" {...sort}>
              Name
            </SortHeader>
            <th scope="col">Image</th>
            <th scope="col" title="The image digest it runs (first 12 hex digits)">
              Digest
            </th>
            <th scope="col">Host</th>
            <SortHeader column="state" {...sort}>
              State
            </SortHeader>
            <SortHeader
              column="cpuRequest"
              firstDirection="desc"
              className="num"
              title="Cores in use / CPU limit; sorts by the CPU requested"
              {...sort}
            >
              CPU
            </SortHeader>
            <SortHeader
              column="memoryRequest"
              firstDirection="desc"
              className="num"
              title="Working set / memory limit; sorts by the memory requested"
              {...sort}
            >
              Memory
            </SortHeader>
            <th scope="col" className="num">
              Restarts
            </th>
            <SortHeader column="created" firstDirection="desc" {...sort}>
              Created
            </SortHeader>
            {canOperate ? (
              <th scope="col" className="num">
                Actions
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {containers.map((container) => (
            <ContainerRow
              key={container.id}
              container={container}
              sample={latestSample(container.id)}
              actions={actions}
              canOperate={canOperate}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}
