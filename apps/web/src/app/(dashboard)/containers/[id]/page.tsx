"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useMemo } from "react";
import { ContainerActionButtons, useContainerActions } from "@/client/containers/container-actions";
import { ContainerCharts } from "@/client/containers/container-charts";
import {
  ContainerHistory,
  ContainerMountsCard,
  ContainerPlacementCard,
  ContainerSpecCard,
} from "@/client/containers/container-details";
import { ContainerHealthCard, HealthBadge } from "@/client/containers/container-health";
import styles from "@/client/containers/containers.module.css";
import { LogsPanel } from "@/client/containers/logs-panel";
import { errorCode } from "@/client/errors";
import { formatBytes, formatCores, formatMillicores, formatMs, formatRelative } from "@/client/format";
import { useTRPC } from "@/client/trpc";
import { ErrorNote } from "@/client/ui/error-note";
import { PageHeader } from "@/client/ui/page-header";
import { Stat } from "@/client/ui/stat";
import { StatusBadge } from "@/client/ui/status-badge";
import { freshSample, useLiveMetrics } from "@/client/use-live-metrics";

function ContainerPage({ id }: { id: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const detail = useQuery(trpc.container.get.queryOptions({ id }, { refetchInterval: 5000 }));
  const live = useLiveMetrics({ containerId: id });
  const actions = useContainerActions({ onRemoved: () => router.push("/containers") });

  const { window: liveWindow, version } = live;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` changes when the window's contents do.
  const latest = useMemo(
    () => freshSample(liveWindow.containers.get(id), Date.now()),
    [liveWindow, version, id],
  );

  if (!detail.data) {
    if (!detail.isError) return <p className="muted">Loading container…</p>;
    return (
      <>
        <PageHeader title={errorCode(detail.error) === "NOT_FOUND" ? "Container not found" : "Container"} />
        <ErrorNote error={detail.error} />
        <p>
          <Link href="/containers">Back to containers</Link>
        </p>
      </>
    );
  }

  const { container, events } = detail.data;
  const { resources } = container;
  const removed = container.removedAt !== null;

  return (
    <>
      <PageHeader
        title={container.name}
        subtitle={
          <span className={styles.subtitle}>
            <StatusBadge status={container.actualState} testId="container-state" />
            <HealthBadge container={container} />
            {container.desiredState !== container.actualState ? (
              <span className="muted">desired: {container.desiredState}</span>
            ) : null}
            <span className="mono">{container.image}</span>
            <span>
              on{" "}
              {container.hostId ? (
                <Link href={`/hosts/${container.hostId}`}>{container.hostName ?? container.hostId}</Link>
              ) : (
                <span className="muted">no host</span>
              )}
            </span>
            <Link href="/containers" className="muted">
              All containers
            </Link>
          </span>
        }
        actions={<ContainerActionButtons container={container} actions={actions} />}
      />
      {actions.failure ? (
        <p role="alert" className="error-note">
          {actions.failure}
        </p>
      ) : null}
      <ErrorNote error={detail.error} />
      {removed ? (
        <p className="notice">Removed {formatRelative(container.removedAt)}: kept here for its history.</p>
      ) : null}
      {container.statusMessage ? (
        <p
          className={
            container.actualState === "failed" || container.actualState === "crashloop"
              ? "error-note"
              : "notice"
          }
        >
          {container.statusMessage}
        </p>
      ) : null}

      <div className="stats">
        <Stat
          label="CPU now"
          value={latest ? formatCores(latest.cpuCores) : "—"}
          detail={
            resources.cpuLimitMillis === null
              ? "no limit"
              : `of ${formatMillicores(resources.cpuLimitMillis)} cores limit`
          }
        />
        <Stat
          label="Memory now"
          value={latest ? formatBytes(latest.memoryWorkingSetBytes) : "—"}
          detail={
            resources.memoryLimitBytes === null
              ? "no limit"
              : `of ${formatBytes(resources.memoryLimitBytes)} limit`
          }
        />
        <Stat label="Restarts" value={container.restartCount} detail={`policy ${container.restartPolicy}`} />
        <Stat
          label="OOM kills"
          value={container.oomKillCount}
          detail={container.oomKilled ? "last exit was an OOM kill" : "memory limit hits that killed it"}
        />
        <Stat
          label="Exit code"
          value={container.exitCode ?? "—"}
          detail={container.finishedAt ? `exited ${formatRelative(container.finishedAt)}` : "has not exited"}
        />
        <Stat label="Start latency" value={formatMs(container.startLatencyMs)} detail="request to running" />
      </div>

      <ContainerCharts
        containerId={container.id}
        cpuLimitMillis={resources.cpuLimitMillis}
        pidsLimit={resources.pidsLimit}
        live={live}
      />

      <div className="section">
        <LogsPanel
          containerId={container.id}
          containerName={container.name}
          startedAt={container.startedAt}
          removed={removed}
        />
      </div>

      <div className="grid grid-2 section">
        <div className={styles.cell}>
          <ContainerSpecCard container={container} />
        </div>
        <div className={styles.cell}>
          <ContainerPlacementCard container={container} />
        </div>
      </div>

      <div className="section">
        <ContainerHealthCard container={container} />
      </div>

      <div className="section">
        <ContainerMountsCard container={container} />
      </div>

      <div className="section">
        <ContainerHistory events={events} />
      </div>
    </>
  );
}

export default function Page() {
  const params = useParams<{ id: string }>();
  return <ContainerPage key={params.id} id={params.id} />;
}
