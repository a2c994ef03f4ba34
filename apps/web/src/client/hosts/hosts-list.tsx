"use client";
// The host list: one server-side page at a time (never the whole fleet),
// filtered and sorted on the server, its live "used" figures asked for just
// the hosts on that page, both refreshed every few seconds.
import { parseLabelSelector } from "@fleet/shared/label-selector";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import type { RouterInputs, THostView } from "../api-types";
import { useDebouncedText } from "../containers/container-filters";
import { formatBytes, formatCores, formatDateTime, formatMillicores, formatRelative } from "../format";
import { NoHosts } from "../overview/no-hosts";
import { useTRPC } from "../trpc";
import { CursorPager, useCursorPages } from "../ui/cursor-pager";
import { EmptyState } from "../ui/empty-state";
import { ErrorNote } from "../ui/error-note";
import { SortHeader, type TSortState } from "../ui/sort-header";
import { StatusBadge } from "../ui/status-badge";
import { useNow } from "../ui/use-now";
import { AgentVersion, UpgradeOutdatedButton } from "./agent-upgrade";
import { HostActionButtons, useHostActions } from "./host-actions";
import { hostDisplayStatus } from "./host-status";
import styles from "./hosts.module.css";
import { LabelChips } from "./label-chips";
import { ResourceCell } from "./resource-cell";

const PAGE_SIZE = 50;

type THostSort = NonNullable<Exclude<RouterInputs["host"]["list"], void>["sort"]>;
const REFRESH_MS = 5000;

type TStatusFilter = "" | "online" | "offline";
type TDrainingFilter = "" | "yes" | "no";

/** The selector's problem in words, or null when it parses (empty is fine). */
function selectorProblem(text: string): string | null {
  try {
    parseLabelSelector(text);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export function HostsList() {
  const trpc = useTRPC();
  const pages = useCursorPages();
  const [status, setStatus] = useState<TStatusFilter>("");
  const [draining, setDraining] = useState<TDrainingFilter>("");
  const [selectorText, setSelectorText] = useState("");
  const [selector, setSelector] = useState("");
  const [name, setName] = useState("");
  const [sort, setSort] = useState<TSortState<THostSort>>({ sort: "name", direction: "asc" });
  const selectorError = selectorProblem(selectorText.trim());
  const { reset } = pages;

  // Typing a selector asks the server once the typing pauses, and only for one that parses.
  useEffect(() => {
    const text = selectorText.trim();
    if (selectorProblem(text) !== null) return;
    const timer = setTimeout(() => {
      setSelector((previous) => {
        if (previous !== text) reset();
        return text;
      });
    }, 350);
    return () => clearTimeout(timer);
  }, [selectorText, reset]);

  const input: RouterInputs["host"]["list"] = {
    status: status || undefined,
    draining: draining === "" ? undefined : draining === "yes",
    label: selector || undefined,
    name: name.trim() || undefined,
    sort: sort.sort,
    direction: sort.direction,
    cursor: pages.cursor,
    limit: PAGE_SIZE,
  };
  const list = useQuery(
    trpc.host.list.queryOptions(input, { refetchInterval: REFRESH_MS, placeholderData: keepPreviousData }),
  );
  const hosts = list.data?.items ?? [];
  const ids = useMemo(() => hosts.map((host) => host.id), [hosts]);
  const usage = useQuery(
    trpc.host.usage.queryOptions(
      { ids },
      { enabled: ids.length > 0, refetchInterval: REFRESH_MS, placeholderData: keepPreviousData },
    ),
  );
  const usageById = useMemo(
    () => new Map((usage.data?.items ?? []).map((entry) => [entry.hostId, entry])),
    [usage.data],
  );
  const actions = useHostActions();
  const filtered = status !== "" || draining !== "" || selector !== "" || name.trim() !== "";
  const [nameText, setNameText] = useDebouncedText(name, (text) => {
    setName(text.trim());
    reset();
  });
  const onSort = (next: TSortState<THostSort>) => {
    setSort(next);
    reset();
  };
  const header = { state: sort, onSort };

  return (
    <>
      <div className="filters">
        <label>
          Name
          <input
            type="search"
            value={nameText}
            placeholder="e.g. web-1"
            maxLength={128}
            onChange={(event) => setNameText(event.target.value)}
          />
        </label>
        <label>
          Status
          <select
            value={status}
            onChange={(event) => {
              setStatus(event.target.value as TStatusFilter);
              pages.reset();
            }}
          >
            <option value="">All</option>
            <option value="online">Online</option>
            <option value="offline">Offline</option>
          </select>
        </label>
        <label>
          Draining
          <select
            value={draining}
            onChange={(event) => {
              setDraining(event.target.value as TDrainingFilter);
              pages.reset();
            }}
          >
            <option value="">Any</option>
            <option value="yes">Draining</option>
            <option value="no">Not draining</option>
          </select>
        </label>
        <label>
          Label selector
          <input
            className={`mono ${styles.selector}`}
            value={selectorText}
            placeholder="zone=a,!gpu"
            spellCheck={false}
            aria-invalid={selectorError !== null}
            onChange={(event) => setSelectorText(event.target.value)}
          />
        </label>
        {filtered || selectorText !== "" || nameText !== "" ? (
          <button
            type="button"
            onClick={() => {
              setStatus("");
              setDraining("");
              setSelectorText("");
              setSelector("");
              setNameText("");
              setName("");
              pages.reset();
            }}
          >
            Clear filters
          </button>
        ) : null}
        <UpgradeOutdatedButton hosts={hosts} />
      </div>
      {selectorError ? (
        <p role="alert" className="error-note">
          Label selector: {selectorError}
        </p>
      ) : null}
      <ErrorNote error={list.error ?? actions.error ?? usage.error} />
      {list.isPending ? (
        <p className="muted">Loading hosts…</p>
      ) : hosts.length === 0 && pages.page === 1 ? (
        filtered ? (
          <div className="card">
            <EmptyState title="No hosts match these filters" />
          </div>
        ) : (
          <NoHosts />
        )
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <SortHeader column="name" {...header}>
                    Name
                  </SortHeader>
                  <SortHeader column="status" {...header}>
                    Status
                  </SortHeader>
                  <th>Last seen</th>
                  <th>Agent</th>
                  <th>Labels</th>
                  <th>Capacity</th>
                  <SortHeader column="cpuAllocated" firstDirection="desc" {...header}>
                    CPU allocated · used
                  </SortHeader>
                  <SortHeader column="memoryAllocated" firstDirection="desc" {...header}>
                    Memory allocated · used
                  </SortHeader>
                  <th className="num">Containers</th>
                  <th>
                    <span className={styles.srOnly}>Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {hosts.map((host) => (
                  <HostRow
                    key={host.id}
                    host={host}
                    used={usageById.get(host.id) ?? null}
                    actions={actions}
                  />
                ))}
              </tbody>
            </table>
          </div>
          <CursorPager
            pages={pages}
            nextCursor={list.data?.nextCursor}
            shown={hosts.length}
            total={list.data?.total}
          />
        </>
      )}
    </>
  );
}

function HostRow({
  host,
  used,
  actions,
}: {
  host: THostView;
  used: { cpuUsedCores: number; memoryUsedBytes: number } | null;
  actions: ReturnType<typeof useHostActions>;
}) {
  const now = useNow(5000);
  const status = hostDisplayStatus(host);
  return (
    <tr data-host-id={host.id}>
      <td className="nowrap">
        <Link href={`/hosts/${host.id}`}>{host.name}</Link>
      </td>
      <td>
        <StatusBadge status={status} testId="host-status" />
      </td>
      <td className="nowrap" title={formatDateTime(host.lastSeenAt)}>
        {formatRelative(host.lastSeenAt, now)}
      </td>
      <td className="nowrap">
        <AgentVersion host={host} />
      </td>
      <td className={styles.chips}>
        <LabelChips labels={host.labels} />
      </td>
      <td className="nowrap">
        {formatMillicores(host.capacity.cpuMillis)} CPU · {formatBytes(host.capacity.memoryBytes)}
        <div className={styles.sub}>
          allocatable {formatMillicores(host.allocatable.cpuMillis)} ·{" "}
          {formatBytes(host.allocatable.memoryBytes)}
        </div>
      </td>
      <td>
        <ResourceCellCpu host={host} usedCores={used?.cpuUsedCores ?? null} />
      </td>
      <td>
        <ResourceCellMemory host={host} usedBytes={used?.memoryUsedBytes ?? null} />
      </td>
      <td className="num">{host.containerCount}</td>
      <td className="actions">
        <HostActionButtons host={host} actions={actions} small />
      </td>
    </tr>
  );
}

function ResourceCellCpu({ host, usedCores }: { host: THostView; usedCores: number | null }) {
  return (
    <ResourceCell
      label={`${host.name} CPU`}
      allocated={host.allocated.cpuMillis / 1000}
      used={usedCores}
      allocatable={host.allocatable.cpuMillis / 1000}
      format={formatCores}
    />
  );
}

function ResourceCellMemory({ host, usedBytes }: { host: THostView; usedBytes: number | null }) {
  return (
    <ResourceCell
      label={`${host.name} memory`}
      allocated={host.allocated.memoryBytes}
      used={usedBytes}
      allocatable={host.allocatable.memoryBytes}
      format={formatBytes}
    />
  );
}
