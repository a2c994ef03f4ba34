"use client";
import { useQuery } from "@tanstack/react-query";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Suspense, useCallback, useMemo, useState } from "react";
import {
  filterFromSearchParams,
  filterToSearchParams,
  hasAnyFilter,
  type TEventFilterValue,
} from "@/client/events/event-filter";
import { EventFilters } from "@/client/events/event-filters";
import { EventTable } from "@/client/events/event-table";
import styles from "@/client/events/events.module.css";
import { type TLiveState, useEventFeed } from "@/client/events/use-event-feed";
import { useCan } from "@/client/session";
import { useTRPC } from "@/client/trpc";
import { CursorPager } from "@/client/ui/cursor-pager";
import { EmptyState } from "@/client/ui/empty-state";
import { ErrorNote } from "@/client/ui/error-note";
import { PageHeader } from "@/client/ui/page-header";

const LIVE_LABEL: Record<TLiveState, string> = {
  live: "Live",
  connecting: "Connecting…",
  paused: "Paused",
  "off-page": "Live on the first page",
  error: "Live updates failed",
};

function EventFeed({ filter, paused }: { filter: TEventFilterValue; paused: boolean }) {
  const feed = useEventFeed(filter, { paused });
  const { list, events } = feed;
  return (
    <>
      <div className={styles.liveRow}>
        <span className={styles.liveDot} data-state={feed.liveState} aria-hidden />
        {/* Only the state is announced: a count that rises with every event would chatter. */}
        <span className="muted" aria-live="polite" data-testid="live-state">
          {LIVE_LABEL[feed.liveState]}
        </span>
        {feed.liveCount > 0 ? <span className="muted">· {feed.liveCount} new since opened</span> : null}
      </div>
      {feed.liveState === "error" ? <ErrorNote error={feed.liveError} /> : null}
      <ErrorNote error={list.error} />
      {list.isPending ? (
        <p className="muted">Loading events…</p>
      ) : events.length === 0 && !list.isError ? (
        <div className="card">
          <EmptyState title={hasAnyFilter(filter) ? "No events match these filters" : "No events yet"}>
            <p>
              {hasAnyFilter(filter)
                ? "Widen the filters, or leave this page open: matching events appear here as they happen."
                : "Events appear here as hosts join, containers start and stop, and images are pulled."}
            </p>
          </EmptyState>
        </div>
      ) : events.length > 0 ? (
        <EventTable events={events} freshIds={feed.freshIds} />
      ) : null}
      <CursorPager pages={feed.pages} nextCursor={list.data?.nextCursor} shown={events.length} />
    </>
  );
}

function EventsView() {
  const trpc = useTRPC();
  const searchParams = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const filter = useMemo(
    () => filterFromSearchParams(new URLSearchParams(searchParams.toString())),
    [searchParams],
  );
  const [paused, setPaused] = useState(false);
  const canSeeAudit = useCan("admin");
  const container = useQuery(
    trpc.container.get.queryOptions(
      { id: filter.containerId ?? "" },
      { enabled: Boolean(filter.containerId), staleTime: 10 * 60_000, retry: false },
    ),
  );
  const deployment = useQuery(
    trpc.deployment.get.queryOptions(
      { id: filter.deploymentId ?? "" },
      { enabled: Boolean(filter.deploymentId), staleTime: 10 * 60_000, retry: false },
    ),
  );

  const setFilter = useCallback(
    (next: TEventFilterValue) => {
      const query = filterToSearchParams(next).toString();
      router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
    },
    [router, pathname],
  );

  return (
    <>
      <PageHeader
        title="Events"
        subtitle="What happened across the fleet, newest first."
        actions={
          <button type="button" onClick={() => setPaused((value) => !value)}>
            {paused ? "Resume live" : "Pause live"}
          </button>
        }
      />
      <EventFilters
        value={filter}
        onChange={setFilter}
        containerName={container.data?.container.name}
        deploymentName={deployment.data?.deployment.name}
        canSeeAudit={canSeeAudit}
      />
      <EventFeed key={JSON.stringify(filter)} filter={filter} paused={paused} />
    </>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <EventsView />
    </Suspense>
  );
}
