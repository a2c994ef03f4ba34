"use client";
// One page of the event log, plus — on the first page — the events that
// arrive while it is open. The live stream starts from the newest event the
// page already has (`lastEventId`), so nothing falls in the gap between the
// page load and the subscription; after a pause it starts again from the
// newest event shown, and the server replays what was missed.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import type { TEventView } from "../api-types";
import { useTRPC } from "../trpc";
import { useCursorPages } from "../ui/cursor-pager";
import { filterToInput, type TEventFilterValue } from "./event-filter";

export const EVENTS_PAGE_SIZE = 50;
// A page left open for hours must not grow without end; older ones are a page away.
const MAX_LIVE_EVENTS = 500;

function compareIdsDescending(a: TEventView, b: TEventView): number {
  const left = BigInt(a.id);
  const right = BigInt(b.id);
  return left === right ? 0 : left > right ? -1 : 1;
}

function newerId(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return BigInt(a) >= BigInt(b) ? a : b;
}

export type TLiveState = "live" | "connecting" | "paused" | "off-page" | "error";

/** Call with a `key` on the component that owns it per filter, so a new filter starts clean. */
export function useEventFeed(filter: TEventFilterValue, options: { paused: boolean }) {
  const trpc = useTRPC();
  const pages = useCursorPages();
  const input = useMemo(() => filterToInput(filter), [filter]);
  const list = useQuery(
    trpc.event.list.queryOptions(
      { ...input, cursor: pages.cursor, limit: EVENTS_PAGE_SIZE },
      { placeholderData: keepPreviousData },
    ),
  );

  const [live, setLive] = useState<TEventView[]>([]);
  const [freshIds, setFreshIds] = useState<ReadonlySet<string>>(new Set());
  const firstPage = pages.page === 1;
  const firstPageItems = firstPage && !list.isPlaceholderData ? list.data?.items : undefined;

  // The newest id known so far: where the stream (re)starts.
  const newest = useRef<string | null>(null);
  const [pageLoaded, setPageLoaded] = useState(false);
  useEffect(() => {
    if (!firstPageItems) return;
    // Newest first, so the first item is the newest on the page.
    newest.current = newerId(newest.current, firstPageItems[0]?.id ?? null);
    setPageLoaded(true);
  }, [firstPageItems]);

  const wanted = pageLoaded && firstPage && !options.paused;
  // Resolved once per (re)start, never while streaming: a changing input would resubscribe.
  const [from, setFrom] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    // "0": the page was empty, so every matching event from now on is new.
    setFrom(wanted ? (newest.current ?? "0") : undefined);
  }, [wanted]);

  const subscription = useSubscription(
    trpc.event.stream.subscriptionOptions(
      { ...input, lastEventId: from ?? null },
      {
        enabled: wanted && from !== undefined,
        onData: (message) => {
          const event = message.data;
          newest.current = newerId(newest.current, event.id);
          setLive((current) => {
            if (current.some((known) => known.id === event.id)) return current;
            return [event, ...current].sort(compareIdsDescending).slice(0, MAX_LIVE_EVENTS);
          });
          setFreshIds((current) => new Set(current).add(event.id));
        },
      },
    ),
  );

  const events = useMemo(() => {
    const items = list.data?.items ?? [];
    if (!firstPage || live.length === 0) return items;
    const seen = new Set(live.map((event) => event.id));
    return [...live, ...items.filter((event) => !seen.has(event.id))];
  }, [firstPage, live, list.data]);

  let liveState: TLiveState;
  if (!firstPage) liveState = "off-page";
  else if (options.paused) liveState = "paused";
  else if (subscription.status === "error") liveState = "error";
  else if (subscription.status === "pending") liveState = "live";
  else liveState = "connecting";

  return {
    pages,
    list,
    events,
    freshIds,
    liveCount: firstPage ? live.length : 0,
    liveState,
    liveError: subscription.error,
  };
}
