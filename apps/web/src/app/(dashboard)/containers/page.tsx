"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Suspense, useCallback, useMemo, useState } from "react";
import { useContainerActions } from "@/client/containers/container-actions";
import { ContainerFilters } from "@/client/containers/container-filters";
import {
  containerFilterQuery,
  isFiltered,
  listInputOf,
  parseContainerFilter,
  type TContainerFilter,
} from "@/client/containers/container-query";
import { ContainersTable, type TContainerSort } from "@/client/containers/containers-table";
import { useCan } from "@/client/session";
import { useTRPC } from "@/client/trpc";
import { CursorPager, useCursorPages } from "@/client/ui/cursor-pager";
import { EmptyState } from "@/client/ui/empty-state";
import { ErrorNote } from "@/client/ui/error-note";
import { PageHeader } from "@/client/ui/page-header";
import type { TSortState } from "@/client/ui/sort-header";
import { freshSample, useLiveMetrics } from "@/client/use-live-metrics";

const PAGE_SIZE = 50;

function ContainersList({
  filter,
  onChange,
  sort,
  onSort,
}: {
  filter: TContainerFilter;
  onChange: (filter: TContainerFilter) => void;
  sort: TSortState<TContainerSort>;
  onSort: (next: TSortState<TContainerSort>) => void;
}) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const canOperate = useCan("operator");
  // Keyed by the filter and the sort (below), so either starting anew begins at page 1.
  const pages = useCursorPages();
  const list = useQuery(
    trpc.container.list.queryOptions(
      {
        ...listInputOf(filter),
        sort: sort.sort,
        direction: sort.direction,
        cursor: pages.cursor,
        limit: PAGE_SIZE,
      },
      { refetchInterval: 5000, placeholderData: keepPreviousData },
    ),
  );
  const items = list.data?.items ?? [];
  // Only the rows on screen: at 10,000 containers the whole fleet's samples would swamp the page.
  const live = useLiveMetrics(
    { containerIds: items.map((container) => container.id) },
    { keepMs: 60_000, enabled: items.length > 0 },
  );
  const actions = useContainerActions();

  const { window: liveWindow, version } = live;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` changes when the window's contents do.
  const latestSample = useMemo(() => {
    const now = Date.now();
    return (containerId: string) => freshSample(liveWindow.containers.get(containerId), now);
  }, [liveWindow, version]);

  const deploymentName = filter.deploymentId ? (items[0]?.deploymentName ?? null) : null;

  return (
    <>
      {filter.deploymentId ? (
        <p className="notice">
          Replicas of deployment <strong>{deploymentName ?? filter.deploymentId}</strong>.{" "}
          <button
            type="button"
            className="button-small"
            onClick={() => onChange({ ...filter, deploymentId: null })}
          >
            Show all containers
          </button>
        </p>
      ) : null}
      <ErrorNote error={list.error} />
      {actions.failure ? (
        <p role="alert" className="error-note">
          {actions.failure}{" "}
          <button type="button" className="button-small" onClick={actions.dismiss}>
            Dismiss
          </button>
        </p>
      ) : null}
      {list.isPending ? (
        <p className="muted">Loading containers…</p>
      ) : items.length === 0 && pages.page === 1 ? (
        <div className="card">
          {isFiltered(filter) ? (
            <EmptyState title="No containers match these filters">
              <p>
                <Link href={pathname}>Clear filters</Link>
              </p>
            </EmptyState>
          ) : (
            <EmptyState title="No containers yet">
              {canOperate ? (
                <p>
                  <Link href="/run">Run a container</Link> and it shows up here, with the host it landed on.
                </p>
              ) : (
                <p>Containers that operators run show up here.</p>
              )}
            </EmptyState>
          )}
        </div>
      ) : (
        <ContainersTable
          containers={items}
          latestSample={latestSample}
          actions={actions}
          sort={{ state: sort, onSort }}
        />
      )}
      <CursorPager
        pages={pages}
        nextCursor={list.data?.nextCursor}
        shown={items.length}
        total={list.data?.total}
      />
    </>
  );
}

function ContainersPage() {
  const searchParams = useSearchParams();
  const filter = useMemo(() => parseContainerFilter(searchParams), [searchParams]);
  const router = useRouter();
  const pathname = usePathname();
  const setFilter = useCallback(
    (next: TContainerFilter) => router.replace(`${pathname}${containerFilterQuery(next)}`, { scroll: false }),
    [router, pathname],
  );
  const [sort, setSort] = useState<TSortState<TContainerSort>>({ sort: "created", direction: "desc" });
  return (
    <>
      <PageHeader
        title="Containers"
        subtitle="Every container in the fleet, newest first unless sorted otherwise."
      />
      <ContainerFilters filter={filter} onChange={setFilter} />
      <ContainersList
        key={`${listKeyOf(filter)} ${sort.sort} ${sort.direction}`}
        filter={filter}
        onChange={setFilter}
        sort={sort}
        onSort={setSort}
      />
    </>
  );
}

/** The list restarts at page 1 when anything but the text being typed changes. */
function listKeyOf(filter: TContainerFilter): string {
  return JSON.stringify(listInputOf(filter));
}

export default function Page() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <ContainersPage />
    </Suspense>
  );
}
