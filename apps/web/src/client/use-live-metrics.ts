"use client";
// The newest samples as they arrive (metrics.live over SSE), kept as a short
// rolling window per container and per host so live charts can draw the last
// minutes without asking the database again.
import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useMemo, useRef, useState } from "react";
import { useTRPC } from "./trpc";

export interface TLiveWindow {
  containers: Map<string, TContainerSample[]>;
  hosts: Map<string, THostSample[]>;
  /** Bumped on every message, so memoised consumers recompute. */
  version: number;
}

function appendSample<S extends { ts: number }>(list: S[] | undefined, sample: S, keepMs: number): S[] {
  const next = list ? [...list] : [];
  const last = next[next.length - 1];
  // The reconnect snapshot repeats samples the window already has.
  if (last && sample.ts <= last.ts) return next;
  next.push(sample);
  const oldest = sample.ts - keepMs;
  while (next.length > 0 && next[0]!.ts < oldest) next.shift();
  return next;
}

/**
 * A live sample older than this is not "now" any more: its container or host
 * stopped reporting (agents send one every 5 s by default).
 */
const LIVE_SAMPLE_FRESH_MS = 30_000;

/** The newest sample of a series, if it is still fresh at `now`. */
export function freshSample<S extends { ts: number }>(samples: readonly S[] | undefined, now: number) {
  const sample = samples?.at(-1);
  return sample && now - sample.ts < LIVE_SAMPLE_FRESH_MS ? sample : undefined;
}

export function useLiveMetrics(
  filter: { hostId?: string; containerId?: string; containerIds?: string[] },
  options: { keepMs?: number; enabled?: boolean } = {},
) {
  const trpc = useTRPC();
  const keepMs = options.keepMs ?? 15 * 60_000;
  const window = useRef<TLiveWindow>({ containers: new Map(), hosts: new Map(), version: 0 });
  const [version, setVersion] = useState(0);
  // A new array of the same ids must not restart the subscription.
  const idsKey = filter.containerIds?.join(",");
  const input = useMemo(
    () => ({
      hostId: filter.hostId,
      containerId: filter.containerId,
      containerIds: idsKey === undefined ? undefined : idsKey === "" ? [] : idsKey.split(","),
    }),
    [filter.hostId, filter.containerId, idsKey],
  );

  const subscription = useSubscription(
    trpc.metrics.live.subscriptionOptions(input, {
      enabled: options.enabled ?? true,
      onData: (message) => {
        const { containers, hosts } = window.current;
        for (const { sample } of message.data.containers) {
          containers.set(
            sample.containerId,
            appendSample(containers.get(sample.containerId), sample, keepMs),
          );
        }
        for (const { hostId, sample } of message.data.hosts) {
          hosts.set(hostId, appendSample(hosts.get(hostId), sample, keepMs));
        }
        window.current.version += 1;
        setVersion(window.current.version);
      },
    }),
  );

  return { window: window.current, version, status: subscription.status, error: subscription.error };
}
