"use client";
// The containers placed on one host, a server-side page at a time, with what
// each uses right now (from the host's live samples) beside its request and limit.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { TContainerView } from "../api-types";
import { formatBytes, formatCores, formatDateTime, formatMillicores, formatRelative } from "../format";
import { useTRPC } from "../trpc";
import { CursorPager, useCursorPages } from "../ui/cursor-pager";
import { EmptyState } from "../ui/empty-state";
import { ErrorNote } from "../ui/error-note";
import { StatusBadge } from "../ui/status-badge";
import { useNow } from "../ui/use-now";
import { freshSample, type useLiveMetrics } from "../use-live-metrics";
import styles from "./hosts.module.css";

const PAGE_SIZE = 20;

export function HostContainers({
  hostId,
  live,
}: {
  hostId: string;
  live: ReturnType<typeof useLiveMetrics>;
}) {
  const trpc = useTRPC();
  const pages = useCursorPages();
  const now = useNow(5000);
  const list = useQuery(
    trpc.container.list.queryOptions(
      { hostId, cursor: pages.cursor, limit: PAGE_SIZE },
      { refetchInterval: 5000, placeholderData: keepPreviousData },
    ),
  );
  const containers = list.data?.items ?? [];

  return (
    <section className="card section" aria-labelledby="host-containers">
      <div className="row">
        <h2 id="host-containers">Containers</h2>
        <span className="spacer" />
        <Link href={`/containers?host=${encodeURIComponent(hostId)}`}>Open in Containers</Link>
      </div>
      <ErrorNote error={list.error} />
      {list.isPending ? (
        <p className="muted">Loading containers…</p>
      ) : containers.length === 0 && pages.page === 1 ? (
        <EmptyState title="No containers on this host">
          <p>
            <Link href="/run">Run a container</Link> with a constraint on this host&apos;s labels to place one
            here.
          </p>
        </EmptyState>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Image</th>
                  <th>State</th>
                  <th className="num">CPU used / limit</th>
                  <th className="num">Memory used / limit</th>
                  <th>Started</th>
                </tr>
              </thead>
              <tbody>
                {containers.map((container) => (
                  <ContainerRow
                    key={container.id}
                    container={container}
                    sample={freshSample(live.window.containers.get(container.id), now)}
                    now={now}
                  />
                ))}
              </tbody>
            </table>
          </div>
          <CursorPager pages={pages} nextCursor={list.data?.nextCursor} shown={containers.length} />
        </>
      )}
    </section>
  );
}

function ContainerRow({
  container,
  sample,
  now,
}: {
  container: TContainerView;
  sample: { cpuCores: number; memoryWorkingSetBytes: number } | undefined;
  now: number;
}) {
  const { resources } = container;
  const running = container.actualState === "running";
  return (
    <tr data-container-id={container.id}>
      <td>
        <Link href={`/containers/${container.id}`}>{container.name}</Link>
      </td>
      <td className="mono" title={container.imageDigest ?? container.image}>
        {container.image}
      </td>
      <td>
        <StatusBadge status={container.actualState} />
      </td>
      <td className="num nowrap">
        {running && sample ? formatCores(sample.cpuCores) : "—"}
        <span className="muted">
          {" / "}
          {resources.cpuLimitMillis === null ? "no limit" : formatMillicores(resources.cpuLimitMillis)}
        </span>
        <div className={styles.sub}>request {formatMillicores(resources.cpuRequestMillis)}</div>
      </td>
      <td className="num nowrap">
        {running && sample ? formatBytes(sample.memoryWorkingSetBytes) : "—"}
        <span className="muted">
          {" / "}
          {resources.memoryLimitBytes === null ? "no limit" : formatBytes(resources.memoryLimitBytes)}
        </span>
        <div className={styles.sub}>request {formatBytes(resources.memoryRequestBytes)}</div>
      </td>
      <td className="nowrap" title={formatDateTime(container.startedAt)}>
        {container.startedAt
          ? formatRelative(container.startedAt, Math.max(now, container.startedAt.getTime()))
          : "—"}
      </td>
    </tr>
  );
}
