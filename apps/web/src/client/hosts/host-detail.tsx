"use client";
// One host: what it is (facts), what it has and hands out, how busy it is
// (live charts), and what runs on it, its images, volumes, networks and events.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo } from "react";
import type { THostView } from "../api-types";
import { errorCode } from "../errors";
import {
  formatBytes,
  formatCores,
  formatDateTime,
  formatMillicores,
  formatPercent,
  formatRelative,
} from "../format";
import { HostObjectsSection } from "../host-objects/host-objects-section";
import { networkUiKind } from "../networks/network-kind";
import { useTRPC } from "../trpc";
import { CopyButton } from "../ui/copy-button";
import { ErrorNote } from "../ui/error-note";
import { PageHeader } from "../ui/page-header";
import { Stat } from "../ui/stat";
import { StatusBadge } from "../ui/status-badge";
import { useNow } from "../ui/use-now";
import { freshSample, useLiveMetrics } from "../use-live-metrics";
import { volumeUiKind } from "../volumes/volume-kind";
import { AgentVersion, UpgradeAgentButton } from "./agent-upgrade";
import { HostActionButtons, useHostActions } from "./host-actions";
import { HostCharts } from "./host-charts";
import { HostContainers } from "./host-containers";
import { HostEvents } from "./host-events";
import { HostImages } from "./host-images";
import { hostDisplayStatus } from "./host-status";
import styles from "./hosts.module.css";
import { LabelChips } from "./label-chips";

export function HostDetail({ hostId }: { hostId: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const host = useQuery(trpc.host.get.queryOptions({ id: hostId }, { refetchInterval: 5000 }));
  const live = useLiveMetrics({ hostId });
  const actions = useHostActions({ onRemoved: () => router.push("/hosts") });

  if (host.isPending) {
    return (
      <>
        <PageHeader title="Host" />
        <p className="muted">Loading host…</p>
      </>
    );
  }
  if (host.isError) {
    return (
      <>
        <PageHeader title={errorCode(host.error) === "NOT_FOUND" ? "Host not found" : "Host"} />
        <ErrorNote error={host.error} />
        <p>
          <Link href="/hosts">Back to hosts</Link>
        </p>
      </>
    );
  }
  const view = host.data;
  return (
    <>
      <PageHeader
        title={view.name}
        subtitle={<HostSubtitle host={view} />}
        actions={
          <>
            <UpgradeAgentButton host={view} />
            <HostActionButtons host={view} actions={actions} />
          </>
        }
      />
      <ErrorNote error={actions.error} />
      {view.removedAt ? (
        <p className="notice">
          This host was removed {formatDateTime(view.removedAt)}; it can no longer connect.
        </p>
      ) : null}
      <HostFigures host={view} live={live} />
      {/* Each card in its own cell: the stylesheet spaces sibling cards as a stack. */}
      <div className="grid grid-2">
        <div>
          <HostFacts host={view} />
        </div>
        <div>
          <HostResources host={view} live={live} />
        </div>
      </div>
      <HostCharts hostId={hostId} live={live} />
      <HostContainers hostId={hostId} live={live} />
      <HostImages hostId={hostId} />
      <HostObjectsSection kind={volumeUiKind} hostId={hostId} />
      <HostObjectsSection kind={networkUiKind} hostId={hostId} />
      <HostEvents hostId={hostId} />
    </>
  );
}

function HostSubtitle({ host }: { host: THostView }) {
  const now = useNow(5000);
  const status = hostDisplayStatus(host);
  return (
    <span className="row">
      <StatusBadge status={status} testId="host-status" />
      <span title={formatDateTime(host.lastSeenAt)}>last seen {formatRelative(host.lastSeenAt, now)}</span>
      {host.status === "online" && host.connectedAt ? (
        <span title={formatDateTime(host.connectedAt)}>
          · connected {formatRelative(host.connectedAt, now)}
        </span>
      ) : null}
      {host.draining ? <span>· nothing new is placed here</span> : null}
    </span>
  );
}

/** What the containers on the host use now, summed over their fresh live samples. */
function useContainersUsed(live: ReturnType<typeof useLiveMetrics>) {
  const now = useNow(5000);
  // The window is mutated in place; `version` says when it changed.
  // biome-ignore lint/correctness/useExhaustiveDependencies: see above
  return useMemo(() => {
    let cpuCores = 0;
    let memoryBytes = 0;
    let reporting = 0;
    for (const samples of live.window.containers.values()) {
      const sample = freshSample(samples, now);
      if (!sample) continue;
      cpuCores += sample.cpuCores;
      memoryBytes += sample.memoryWorkingSetBytes;
      reporting++;
    }
    return reporting > 0 ? { cpuCores, memoryBytes, reporting } : null;
  }, [live.window, live.version, now]);
}

function useMachineSample(live: ReturnType<typeof useLiveMetrics>, hostId: string) {
  const now = useNow(5000);
  return freshSample(live.window.hosts.get(hostId), now) ?? null;
}

function HostFigures({ host, live }: { host: THostView; live: ReturnType<typeof useLiveMetrics> }) {
  const used = useContainersUsed(live);
  const machine = useMachineSample(live, host.id);
  const cpuAllocatable = host.allocatable.cpuMillis / 1000;
  return (
    <div className="stats">
      <Stat
        label="CPU allocated"
        value={`${formatMillicores(host.allocated.cpuMillis)} / ${formatCores(cpuAllocatable)}`}
        detail={`${formatPercent(cpuAllocatable > 0 ? host.allocated.cpuMillis / host.allocatable.cpuMillis : null)} of allocatable`}
      />
      <Stat
        label="CPU used"
        value={used ? formatCores(used.cpuCores) : "—"}
        detail={
          machine
            ? `by containers · machine ${formatCores(machine.cpuCores)} of ${machine.cpuCount} cores`
            : "by containers"
        }
      />
      <Stat
        label="Memory allocated"
        value={formatBytes(host.allocated.memoryBytes)}
        detail={`of ${formatBytes(host.allocatable.memoryBytes)} allocatable`}
      />
      <Stat
        label="Memory used"
        value={used ? formatBytes(used.memoryBytes) : "—"}
        detail={
          machine
            ? `by containers · machine ${formatBytes(machine.memoryUsedBytes)} of ${formatBytes(machine.memoryTotalBytes)}`
            : "by containers"
        }
      />
      <Stat label="Containers" value={host.containerCount} />
      <Stat
        label="Load (1 min)"
        value={machine ? machine.load1.toFixed(2) : "—"}
        detail={
          machine ? `5 min ${machine.load5.toFixed(2)} · 15 min ${machine.load15.toFixed(2)}` : undefined
        }
      />
    </div>
  );
}

function HostFacts({ host }: { host: THostView }) {
  const facts = host.facts;
  return (
    <section className={`card ${styles.fill}`} aria-labelledby="host-facts">
      <h2 id="host-facts">Facts</h2>
      {facts ? null : <p className="muted">The agent has not reported this host&apos;s facts yet.</p>}
      <dl className="facts">
        {facts ? (
          <>
            <dt>Hostname</dt>
            <dd className="mono">{facts.hostname}</dd>
            <dt>OS</dt>
            <dd>
              {facts.os} · {facts.arch}
            </dd>
            <dt>Kernel</dt>
            <dd className="mono">{facts.kernel}</dd>
            <dt>cgroup</dt>
            <dd>v{facts.cgroupVersion}</dd>
            <dt>Engine</dt>
            <dd>
              {facts.engine.name} {facts.engine.version}{" "}
              <span className="muted">(API {facts.engine.apiVersion})</span>
            </dd>
            <dt>CPUs</dt>
            <dd>{facts.cpus}</dd>
            <dt>Memory</dt>
            <dd>{formatBytes(facts.memoryBytes)}</dd>
          </>
        ) : null}
        <dt>Agent</dt>
        <dd>
          <AgentVersion host={{ agentVersion: host.agentVersion ?? facts?.agentVersion ?? null }} />
        </dd>
        <dt>Labels</dt>
        <dd>
          <LabelChips labels={host.labels} />
        </dd>
        <dt>Registered</dt>
        <dd>{formatDateTime(host.createdAt)}</dd>
        <dt>ID</dt>
        <dd className="row">
          <span className="mono">{host.id}</span>
          <CopyButton text={host.id} />
        </dd>
      </dl>
    </section>
  );
}

function HostResources({ host, live }: { host: THostView; live: ReturnType<typeof useLiveMetrics> }) {
  const used = useContainersUsed(live);
  const rows = [
    {
      name: "CPU",
      format: (value: number) => formatCores(value),
      capacity: host.capacity.cpuMillis / 1000,
      allocatable: host.allocatable.cpuMillis / 1000,
      allocated: host.allocated.cpuMillis / 1000,
      used: used ? used.cpuCores : null,
    },
    {
      name: "Memory",
      format: formatBytes,
      capacity: host.capacity.memoryBytes,
      allocatable: host.allocatable.memoryBytes,
      allocated: host.allocated.memoryBytes,
      used: used ? used.memoryBytes : null,
    },
    {
      name: "Pids",
      format: (value: number) => String(value),
      capacity: host.capacity.pids,
      allocatable: host.allocatable.pids,
      allocated: host.allocated.pids,
      used: null,
    },
  ];
  return (
    <section className={`card ${styles.fill}`} aria-labelledby="host-resources">
      <h2 id="host-resources">Resources</h2>
      <div className={styles.scroll}>
        <table>
          <thead>
            <tr>
              <th />
              <th className="num">Capacity</th>
              <th className="num">Allocatable</th>
              <th className="num">Allocated</th>
              <th className="num">Used</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.name}>
                <th scope="row">{row.name}</th>
                <td className="num nowrap">{row.format(row.capacity)}</td>
                <td className="num nowrap">{row.format(row.allocatable)}</td>
                <td className="num nowrap">{row.format(row.allocated)}</td>
                <td className="num nowrap">{row.used === null ? "—" : row.format(row.used)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted">
        Allocatable is capacity minus what the host keeps for itself; allocated is what running containers
        requested; used is what they use now.
      </p>
    </section>
  );
}
