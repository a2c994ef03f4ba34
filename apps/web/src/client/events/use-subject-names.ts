"use client";
// Events carry host and container ids; people read names. Hosts and
// containers are looked up one by one, but only those on the rows shown (the
// lookups go out as one batched request), and a name never changes, so each
// is fetched once. Never a list of every host: a fleet has thousands.
import { useQueries } from "@tanstack/react-query";
import { useMemo } from "react";
import type { TEventView } from "../api-types";
import { useTRPC } from "../trpc";

const NAME_STALE_MS = 10 * 60_000;

export function useSubjectNames(events: readonly TEventView[]) {
  const trpc = useTRPC();
  const hostIds = useMemo(
    () => [...new Set(events.flatMap((event) => (event.hostId ? [event.hostId] : [])))],
    [events],
  );
  const containerIds = useMemo(
    () => [...new Set(events.flatMap((event) => (event.containerId ? [event.containerId] : [])))],
    [events],
  );
  const hostLookups = useQueries({
    queries: hostIds.map((id) =>
      trpc.host.get.queryOptions({ id }, { staleTime: NAME_STALE_MS, retry: false }),
    ),
  });
  const containerLookups = useQueries({
    queries: containerIds.map((id) =>
      trpc.container.get.queryOptions({ id }, { staleTime: NAME_STALE_MS, retry: false }),
    ),
  });

  const hostNames = new Map<string, string>();
  for (const lookup of hostLookups) if (lookup.data) hostNames.set(lookup.data.id, lookup.data.name);
  const containerNames = new Map<string, string>();
  for (const lookup of containerLookups) {
    if (lookup.data) containerNames.set(lookup.data.container.id, lookup.data.container.name);
  }
  return {
    hostName: (id: string) => hostNames.get(id),
    containerName: (id: string) => containerNames.get(id),
  };
}
