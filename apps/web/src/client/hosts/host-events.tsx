"use client";
// The newest events about one host, kept current by event.stream. The stream
// starts after the newest listed event (lastEventId), so nothing that happens
// between the list and the subscription is lost; tRPC resumes from the last
// event received after a reconnect.
import { useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import type { TEventView } from "../api-types";
import { EventTable } from "../events/event-table";
import { useTRPC } from "../trpc";
import { EmptyState } from "../ui/empty-state";
import { ErrorNote } from "../ui/error-note";

const SHOWN = 20;

function newestFirst(a: TEventView, b: TEventView): number {
  const left = BigInt(a.id);
  const right = BigInt(b.id);
  return left === right ? 0 : left > right ? -1 : 1;
}

export function HostEvents({ hostId }: { hostId: string }) {
  const trpc = useTRPC();
  const list = useQuery(
    trpc.event.list.queryOptions(
      { hostId, limit: SHOWN },
      // The stream keeps it current; a refetch would only move the resume point.
      { staleTime: Number.POSITIVE_INFINITY, refetchOnWindowFocus: false },
    ),
  );
  // Fixed once the list is in: a changing input would resubscribe.
  const [after, setAfter] = useState<string | undefined>(undefined);
  useEffect(() => {
    // "0" when the host has no events yet: every one from now on is new.
    if (list.data && after === undefined) setAfter(list.data.items[0]?.id ?? "0");
  }, [list.data, after]);

  const [arrived, setArrived] = useState<TEventView[]>([]);
  const subscription = useSubscription(
    trpc.event.stream.subscriptionOptions(
      { hostId, lastEventId: after ?? null },
      {
        enabled: after !== undefined,
        onData: (message) => {
          const event = message.data;
          setArrived((current) =>
            current.some((known) => known.id === event.id) ? current : [event, ...current].slice(0, SHOWN),
          );
        },
      },
    ),
  );
  const freshIds = useMemo(() => new Set(arrived.map((event) => event.id)), [arrived]);
  const events = useMemo(() => {
    const listed = (list.data?.items ?? []).filter((event) => !freshIds.has(event.id));
    return [...arrived, ...listed].sort(newestFirst).slice(0, SHOWN);
  }, [arrived, list.data, freshIds]);

  return (
    <section className="card section" aria-labelledby="host-events">
      <div className="row">
        <h2 id="host-events">Events</h2>
        <span className="muted">{subscription.status === "pending" ? "live" : null}</span>
        <span className="spacer" />
        <Link href={`/events?host=${encodeURIComponent(hostId)}`}>All events of this host</Link>
      </div>
      <ErrorNote error={list.error ?? subscription.error} />
      {list.isPending ? (
        <p className="muted">Loading events…</p>
      ) : events.length === 0 ? (
        <EmptyState title="No events for this host yet" />
      ) : (
        <EventTable events={events} freshIds={freshIds} showHost={false} />
      )}
    </section>
  );
}
