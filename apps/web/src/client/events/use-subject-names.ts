"use client";
// Events carry host and container ids; people read names. Hosts come from one
// list query (the host filter needs it anyway), with a lookup per host it
// does not cover; containers are looked up one by one, but only those on the
// rows shown, and a name never changes, so each is fetched once.
import { useQueries, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import type { TEventView } from "../api-types";
import { useTRPC } from "../trpc";

const NAME_STALE_MS = 10 * 60_000;

/** Every host the dashboard knows, removed ones included (old events name them). */
export function useHostDirectory() {
  const trpc = useTRPC();
  return useQuery(trpc.host.list.queryOptions({ limit: 200, includeRemoved: true }, { staleTime: 60_000 }));
}

export function useSubjectNames(events: readonly TEventView[]) {
  const trpc = useTRPC();
  const directory = useHostDirectory();
  const hostIds = useMemo(
    () => [...new Set(events.flatMap((event) => (event.hostId ? [event.hostId] : [])))],
    [events],
  );
  const containerIds = useMemo(
    () => [...new Set(events.flatMap((event) => (event.containerId ? [event.containerId] : [])))],
    [events],
  );
  const listed = useMemo(
    () => new Map((directory.data?.items ?? []).map((host) => [host.id, host.name])),
    [directory.data],
  );
  const unlistedHostIds = directory.isSuccess ? hostIds.filter((id) => !listed.has(id)) : [];

  const hostLookups = useQueries({
    queries: unlistedHostIds.map((id) =>
      trpc.host.get.queryOptions({ id }, { staleTime: NAME_STALE_MS, retry: false }),
    ),
  });
  const containerLookups = useQueries({
    queries: containerIds.map((id) =>
      trpc.container.get.queryOptions({ id }, { staleTime: NAME_STALE_MS, retry: false }),
    ),
  });

  const hostNames = new Map(listed);
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
