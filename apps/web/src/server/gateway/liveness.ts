// hostLivenessMonitor: which hosts are alive. Every frame from a host counts
// as a sign of life; `lastSeenAt` is written at most once per interval per
// host, for all hosts in one statement. A host silent for `offlineAfterMs`
// (its socket open but quiet, or closed and not back within that grace) is
// marked offline and the offline hooks run — the scheduler reschedules from
// there. One sweep timer serves every host, so a frame costs a map write.
//
// The timing logic talks to the database only through `LivenessStore`, so unit
// tests drive it with a manual clock and a recording store.

import type { Clock, TimerHandle } from "@fleet/shared/clock";
import { AGENT_RECONNECT_MAX_MS } from "@fleet/shared/protocol/version";
import type { Logger } from "pino";
import type { PrismaClient } from "../db/client";
import { recordEvent } from "../events/record-event";
import type { GatewayBus } from "./gateway-options";

export interface LivenessStore {
  /** Writes `lastSeenAt` (never moving it backwards). */
  writeLastSeen(entries: readonly { hostId: string; at: number }[]): Promise<void>;
  /**
   * Marks the host offline unless it connected again after `lastHeardAt`;
   * true when this call changed it (and recorded the event).
   */
  markOffline(hostId: string, lastHeardAt: number): Promise<boolean>;
  /** Hosts the database believes online (at start, before any agent has reconnected). */
  onlineHostIds(): Promise<string[]>;
}

export type HostOfflineHook = (hostId: string) => void | Promise<void>;

export interface HostLivenessMonitor {
  /** A connection of this host was welcomed. */
  connected(hostId: string): void;
  /** A frame arrived from this host. */
  seen(hostId: string): void;
  /** The host's connection closed; the grace period starts now. */
  disconnected(hostId: string): void;
  /** Runs `hook` each time a host is marked offline; returns a function that unregisters it. */
  onHostOffline(hook: HostOfflineHook): () => void;
  /** Also fired when a host goes offline while its socket is still open, so the gateway can drop that socket. */
  onSilent(hook: (hostId: string) => void): () => void;
  start(): Promise<void>;
  /** Stops the sweep and writes the pending `lastSeenAt` values. */
  stop(): Promise<void>;
  /** Writes pending `lastSeenAt` values now. */
  flush(): Promise<void>;
}

interface HostLiveness {
  lastHeardAt: number;
  /** How long silence may last from `lastHeardAt` (longer only for hosts a previous run left online). */
  graceMs: number;
  connected: boolean;
  /** A markOffline for this host is in flight. */
  checking: boolean;
}

export interface HostLivenessMonitorOptions {
  store: LivenessStore;
  clock: Clock;
  log: Pick<Logger, "debug" | "info" | "warn" | "error">;
  offlineAfterMs: number;
  lastSeenWriteIntervalMs: number;
}

/** Extra time after a central restart for agents to get through their reconnect backoff. */
export const RESTART_RECONNECT_GRACE_MS = 2 * AGENT_RECONNECT_MAX_MS;

export function hostLivenessMonitor(options: HostLivenessMonitorOptions): HostLivenessMonitor {
  const { store, clock, log, offlineAfterMs } = options;
  // Check a few times per grace period so a silent host is caught within ~25% of it.
  const sweepIntervalMs = Math.max(50, Math.min(1000, Math.floor(offlineAfterMs / 4)));
  const hosts = new Map<string, HostLiveness>();
  const dirty = new Map<string, number>();
  const offlineHooks = new Set<HostOfflineHook>();
  const silentHooks = new Set<(hostId: string) => void>();
  let sweepTimer: TimerHandle | null = null;
  let flushTimer: TimerHandle | null = null;
  let flushing: Promise<void> = Promise.resolve();
  let running = false;

  function touch(hostId: string, connected: boolean | null): void {
    const now = clock.now();
    const entry = hosts.get(hostId);
    if (entry) {
      entry.lastHeardAt = now;
      entry.graceMs = offlineAfterMs;
      if (connected !== null) entry.connected = connected;
    } else {
      hosts.set(hostId, {
        lastHeardAt: now,
        graceMs: offlineAfterMs,
        connected: connected ?? true,
        checking: false,
      });
    }
  }

  function markDirty(hostId: string): void {
    dirty.set(hostId, clock.now());
    scheduleFlush();
  }

  function scheduleFlush(): void {
    if (flushTimer !== null || !running || dirty.size === 0) return;
    flushTimer = clock.setTimeout(() => {
      flushTimer = null;
      void flush();
    }, options.lastSeenWriteIntervalMs);
  }

  function flush(): Promise<void> {
    if (dirty.size === 0) return flushing;
    const entries = [...dirty].map(([hostId, at]) => ({ hostId, at }));
    dirty.clear();
    // Writes are chained so two flushes never race each other to the same rows.
    flushing = flushing
      .then(() => store.writeLastSeen(entries))
      .catch((error: unknown) =>
        log.error({ err: error, hosts: entries.length }, "writing lastSeenAt failed"),
      );
    return flushing;
  }

  async function goOffline(hostId: string, entry: HostLiveness): Promise<void> {
    entry.checking = true;
    const lastHeardAt = entry.lastHeardAt;
    const wasConnected = entry.connected;
    try {
      const changed = await store.markOffline(hostId, lastHeardAt);
      // A frame or a reconnect since the check started means the host is alive after all.
      if (entry.lastHeardAt !== lastHeardAt || hosts.get(hostId) !== entry) return;
      hosts.delete(hostId);
      if (wasConnected) for (const hook of silentHooks) await runHook("silent", hostId, () => hook(hostId));
      if (!changed) return;
      log.warn({ hostId, silentForMs: clock.now() - lastHeardAt }, "host offline");
      for (const hook of offlineHooks) await runHook("offline", hostId, () => hook(hostId));
    } catch (error) {
      log.error({ err: error, hostId }, "marking a host offline failed; retrying on the next sweep");
    } finally {
      entry.checking = false;
    }
  }

  async function runHook(kind: string, hostId: string, call: () => unknown): Promise<void> {
    try {
      await call();
    } catch (error) {
      log.error({ err: error, hostId, hook: kind }, "a host liveness hook failed");
    }
  }

  function sweep(): void {
    sweepTimer = null;
    if (!running) return;
    const now = clock.now();
    for (const [hostId, entry] of hosts) {
      if (!entry.checking && now - entry.lastHeardAt >= entry.graceMs) void goOffline(hostId, entry);
    }
    sweepTimer = clock.setTimeout(sweep, sweepIntervalMs);
  }

  return {
    connected(hostId) {
      touch(hostId, true);
    },
    seen(hostId) {
      touch(hostId, null);
      markDirty(hostId);
    },
    disconnected(hostId) {
      // A host already swept offline (its silent socket closed afterwards) needs no second grace.
      if (hosts.has(hostId)) touch(hostId, false);
    },
    onHostOffline(hook) {
      offlineHooks.add(hook);
      return () => offlineHooks.delete(hook);
    },
    onSilent(hook) {
      silentHooks.add(hook);
      return () => silentHooks.delete(hook);
    },
    async start() {
      if (running) return;
      running = true;
      // Hosts left online by a previous run get the full grace to reconnect,
      // plus the time their agents may be backing off after failed attempts
      // while this central was down.
      for (const hostId of await store.onlineHostIds()) {
        if (hosts.has(hostId)) continue;
        touch(hostId, false);
        hosts.get(hostId)!.graceMs = offlineAfterMs + RESTART_RECONNECT_GRACE_MS;
      }
      sweepTimer = clock.setTimeout(sweep, sweepIntervalMs);
      scheduleFlush();
    },
    async stop() {
      running = false;
      if (sweepTimer !== null) clock.clearTimeout(sweepTimer);
      if (flushTimer !== null) clock.clearTimeout(flushTimer);
      sweepTimer = null;
      flushTimer = null;
      await flush();
    },
    flush,
  };
}

/** The real store: Postgres through Prisma, events on the bus. */
export function prismaLivenessStore(options: {
  db: PrismaClient;
  bus: Pick<GatewayBus, "publish">;
}): LivenessStore {
  const { db, bus } = options;
  return {
    async writeLastSeen(entries) {
      if (entries.length === 0) return;
      const ids = entries.map((entry) => entry.hostId);
      const times = entries.map((entry) => new Date(entry.at).toISOString());
      // Rows are locked in id order first, the order placement locks them in, so
      // this one statement for many hosts cannot deadlock with a placement.
      await db.$executeRaw`
        WITH locked AS (SELECT id FROM hosts WHERE id = ANY(${ids}::text[]) ORDER BY id FOR UPDATE)
        UPDATE hosts AS h SET last_seen_at = v.ts
        FROM unnest(${ids}::text[], ${times}::timestamptz[]) AS v(id, ts), locked
        WHERE h.id = v.id AND locked.id = h.id AND (h.last_seen_at IS NULL OR h.last_seen_at < v.ts)`;
    },
    async markOffline(hostId, lastHeardAt) {
      const heard = new Date(lastHeardAt);
      const event = await db.$transaction(async (tx) => {
        const changed = await tx.host.updateMany({
          where: {
            id: hostId,
            status: "online",
            // A connection welcomed after the silence began wins the race.
            OR: [{ connectedAt: null }, { connectedAt: { lte: heard } }],
          },
          data: { status: "offline" },
        });
        if (changed.count === 0) return null;
        const host = await tx.host.findUniqueOrThrow({ where: { id: hostId }, select: { name: true } });
        return recordEvent({
          db: tx,
          kind: "host.offline",
          severity: "warning",
          hostId,
          message: `host ${host.name} is offline: nothing heard since ${heard.toISOString()}`,
          data: { lastHeardAt: heard.toISOString() },
        });
      });
      if (!event) return false;
      bus.publish("event", event);
      bus.publish("host.changed", { hostId });
      return true;
    },
    async onlineHostIds() {
      const hosts = await db.host.findMany({
        where: { status: "online", removedAt: null },
        select: { id: true },
      });
      return hosts.map((host) => host.id);
    },
  };
}
