"use client";
// The hosts a volume or network can be created on: the first page of hosts,
// online ones first (the engine has to answer for the create to succeed).
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useTRPC } from "../trpc";

const HOST_CHOICES = 200;

export interface THostChoice {
  id: string;
  name: string;
  online: boolean;
}

export function useHostChoices(enabled: boolean) {
  const trpc = useTRPC();
  const hosts = useQuery(
    trpc.host.list.queryOptions({ limit: HOST_CHOICES }, { staleTime: 30_000, enabled }),
  );
  const choices = useMemo<THostChoice[]>(
    () =>
      (hosts.data?.items ?? [])
        .map((host) => ({ id: host.id, name: host.name, online: host.status === "online" }))
        .sort((a, b) => Number(b.online) - Number(a.online)),
    [hosts.data],
  );
  return { choices, error: hosts.error, isPending: hosts.isPending && enabled };
}
