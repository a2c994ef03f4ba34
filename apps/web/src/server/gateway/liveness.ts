// Which hosts are alive, in two parts, because several central replicas share
// the database and each holds only some of the agents' connections.
//
// The per-connection part runs on every replica (`hostLivenessMonitor`):
// every frame from a host it holds counts as a sign of life; `lastSeenAt` is
// written at most once per interval, for all its hosts in one statement (a
// closed connection counts too, so the grace to come back starts there). A
// socket silent for `offlineAfterMs` is dropped so the agent redials, and so
// is the socket of a host the database says is offline (marked so while this
// replica could not write for it): the welcome brings it back.
//
// Marking hosts offline is a duty, run by one replica at a time under the duty
// lease (`offlineSweeper`): a sweep marks offline the hosts online whose last
// sign of life in the database (`last_seen_at`, `connected_at`) is older than
// `offlineAfterMs` by the database's clock, in a transaction fenced by the
// lease's token, records the event and runs the offline hooks (the scheduler
// reschedules from there). Neither a replica's death nor a database outage
// may make a healthy host look silent, so the sweeper trusts only what it
// has seen itself: from when it took the lease, and again after any failed
// or missing call to the database, it "observes" the database, and a host
// whose last sign of life is older than the start of that observation gets
// the grace plus the agents' reconnect allowance and time for every online
// host to be welcomed again from then on (its replica may have died, or
// nobody could write while the database was away). A host
// heard after it is judged by the grace alone, as one central always did.
// A replica that stops or goes away sends its agents to the others, whose
// welcomes take turns: the observation begins again when a replica the
// sweeper saw running is stopping or gone from the registry, and while
// agents' hellos wait at any replica (each says how many with its heartbeat)
// every silent host gets that long grace. Hellos anyone can send extend it
// no further.
//
// The timing logic talks to the database only through `LivenessStore` and
// `OfflineSweepStore`, so unit tests drive it with a manual clock.

import type { Clock, TimerHandle } from "@fleet/shared/clock";
import { AGENT_RECONNECT_MAX_MS } from "@fleet/shared/protocol/version";
import type { Logger } from "pino";
import type { PrismaClient } from "../db/client";
import { assertLeaseHeld, type LeaseFence, LeaseLostError } from "../db/duty-lease";
import { REPLICA_HEARTBEAT_INTERVAL_MS } from "../db/replica-registry";
import type { TEventRow } from "../events/event-view";
import { recordEvent } from "../events/record-event";
import type { GatewayBus } from "./gateway-options";

/** Extra time for agents to get through their reconnect backoff after their replica died or the database was away. */
export const RESTART_RECONNECT_GRACE_MS = 2 * AGENT_RECONNECT_MAX_MS;

/**
 * And per online host, for the centrals to welcome them all again: hellos take
 * turns (gateway-limits.ts), and 2,000 hosts redialling a restarted central were
 * measured to take 80–110 s to get in, which a fixed allowance would have
 * turned into hundreds of hosts marked offline and their containers
 * rescheduled. 100 ms a host assumes 10 welcomes a second; Nomad gives nodes a
 * fixed 5 minutes after a leader election (failover_heartbeat_ttl) for the same
 * reason. Only hosts not heard since the observation began get it.
 */
export const WELCOME_ALLOWANCE_PER_HOST_MS = 100;

/**
 * A replica's count of waiting hellos counts while its heartbeat is this recent
 * (three beats): a replica that died with a queue holds off nobody for long.
 */
const HELLOS_WAITING_FRESH_MS = 3 * REPLICA_HEARTBEAT_INTERVAL_MS;

/**
 * Hosts one sweep marks offline; a full batch is followed by another sweep at
 * once. Each host's hooks (rescheduling its containers) take ~100 ms and
 * stopping the sweeper waits for the batch in progress: unbounded, a central
 * stopping while hundreds of hosts went silent took over a minute to release
 * its duties (bench/fleet-scale).
 */
export const MAX_OFFLINE_PER_SWEEP = 25;

type LivenessLog = Pick<Logger, "debug" | "info" | "warn" | "error">;

// ---------------------------------------------------------------------------
// The per-connection part (every replica)

export interface LivenessStore {
  /**
   * Writes `lastSeenAt` (never moving it backwards); returns the hosts among
   * them that the database holds offline.
   */
  writeLastSeen(entries: readonly { hostId: string; at: number }[]): Promise<string[]>;
}

/** Why a host's socket should go: silent past the grace, or marked offline by the sweep meanwhile. */
export type DropReason = "silent" | "marked-offline";

export interface HostLivenessMonitor {
  /** A connection of this host was welcomed here. */
  connected(hostId: string): void;
  /** A frame arrived from this host. */
  seen(hostId: string): void;
  /** The host's connection here closed; the grace period starts now. */
  disconnected(hostId: string): void;
  /** Runs `hook` when a host's open socket should be dropped (the gateway drops it); returns a function that unregisters it. */
  onSilent(hook: (hostId: string, reason: DropReason) => void | Promise<void>): () => void;
  start(): Promise<void>;
  /** Stops the checks and writes the pending `lastSeenAt` values. */
  stop(): Promise<void>;
  /** Writes pending `lastSeenAt` values now. */
  flush(): Promise<void>;
}

interface HostPresence {
  lastHeardAt: number;
  connectedAt: number;
}

export interface HostLivenessMonitorOptions {
  store: LivenessStore;
  clock: Clock;
  log: LivenessLog;
  offlineAfterMs: number;
  /** Capped at a quarter of `offlineAfterMs`, so the database never lags the grace by much. */
  lastSeenWriteIntervalMs: number;
}

/** How often silence is checked: a few times per grace period, so a silent socket goes within ~25% of it. */
function checkIntervalOf(offlineAfterMs: number): number {
  return Math.max(50, Math.min(1000, Math.floor(offlineAfterMs / 4)));
}

export function hostLivenessMonitor(options: HostLivenessMonitorOptions): HostLivenessMonitor {
  const { store, clock, log, offlineAfterMs } = options;
  const checkIntervalMs = checkIntervalOf(offlineAfterMs);
  const writeIntervalMs = Math.max(
    10,
    Math.min(options.lastSeenWriteIntervalMs, Math.floor(offlineAfterMs / 4)),
  );
  /** The hosts whose live connection is here. */
  const hosts = new Map<string, HostPresence>();
  const dirty = new Map<string, number>();
  const dropHooks = new Set<(hostId: string, reason: DropReason) => void | Promise<void>>();
  let checkTimer: TimerHandle | null = null;
  let flushTimer: TimerHandle | null = null;
  let flushing: Promise<void> = Promise.resolve();
  let running = false;

  function markDirty(hostId: string, at: number): void {
    dirty.set(hostId, at);
    scheduleFlush();
  }

  function scheduleFlush(): void {
    if (flushTimer !== null || !running || dirty.size === 0) return;
    flushTimer = clock.setTimeout(() => {
      flushTimer = null;
      void flush();
    }, writeIntervalMs);
  }

  function flush(): Promise<void> {
    if (dirty.size === 0) return flushing;
    const entries = [...dirty].map(([hostId, at]) => ({ hostId, at }));
    dirty.clear();
    const startedAt = clock.now();
    // Writes are chained so two flushes never race each other to the same rows.
    flushing = flushing
      .then(async () => {
        const offline = await store.writeLastSeen(entries);
        for (const hostId of offline) {
          const entry = hosts.get(hostId);
          // Connected here before the sweep's verdict could have seen it: the welcome brings it back.
          if (entry && entry.connectedAt <= startedAt) drop(hostId, "marked-offline");
        }
      })
      .catch((error: unknown) =>
        log.error({ err: error, hosts: entries.length }, "writing lastSeenAt failed"),
      );
    return flushing;
  }

  function drop(hostId: string, reason: DropReason): void {
    // Forgotten first: the close that follows is no sign of life.
    hosts.delete(hostId);
    if (reason === "marked-offline")
      log.info({ hostId }, "host marked offline while connected here: dropping its socket");
    for (const hook of dropHooks) {
      void Promise.resolve()
        .then(() => hook(hostId, reason))
        .catch((error: unknown) =>
          log.error({ err: error, hostId }, "dropping a silent host's socket failed"),
        );
    }
  }

  function check(): void {
    checkTimer = null;
    if (!running) return;
    const now = clock.now();
    for (const [hostId, entry] of hosts) {
      if (now - entry.lastHeardAt >= offlineAfterMs) {
        log.info({ hostId, silentForMs: now - entry.lastHeardAt }, "host silent: dropping its socket");
        drop(hostId, "silent");
      }
    }
    checkTimer = clock.setTimeout(check, checkIntervalMs);
  }

  return {
    connected(hostId) {
      const now = clock.now();
      hosts.set(hostId, { lastHeardAt: now, connectedAt: now });
    },
    seen(hostId) {
      const now = clock.now();
      const entry = hosts.get(hostId);
      if (entry) entry.lastHeardAt = now;
      markDirty(hostId, now);
    },
    disconnected(hostId) {
      // A socket dropped for silence closing is no sign of life: its grace already ran.
      if (!hosts.delete(hostId)) return;
      markDirty(hostId, clock.now());
    },
    onSilent(hook) {
      dropHooks.add(hook);
      return () => dropHooks.delete(hook);
    },
    async start() {
      if (running) return;
      running = true;
      checkTimer = clock.setTimeout(check, checkIntervalMs);
      scheduleFlush();
    },
    async stop() {
      running = false;
      if (checkTimer !== null) clock.clearTimeout(checkTimer);
      if (flushTimer !== null) clock.clearTimeout(flushTimer);
      checkTimer = null;
      flushTimer = null;
      await flush();
    },
    flush,
  };
}

// ---------------------------------------------------------------------------
// The offline sweep (a duty: one replica, under the lease)

export interface SweptHost {
  hostId: string;
  /** Its last sign of life in the database (ms), if any. */
  lastHeardAt: number | null;
}

/** An unbroken run of answers from the database, on its clock (ms). */
export interface Observation {
  /** The first answer of the run. */
  since: number;
  /** The latest answer. */
  lastAt: number;
  /** The next answer must come within this of `lastAt`, or the run is broken. */
  maxGapMs: number;
}

export interface OfflineSweepStore {
  /**
   * In one transaction fenced by `fence`: the database's clock, and when the
   * observation still runs at that instant (`now − lastAt ≤ maxGapMs`), the
   * hosts marked offline now (online, last sign of life at least
   * `offlineAfterMs` old, and either heard since `observation.since` or
   * `offlineAfterMs + reconnectGraceMs` (plus `welcomeAllowancePerHostMs` per
   * online host) past it), each with its event recorded. Throws
   * `LeaseLostError` when the fence no longer holds. At most
   * MAX_OFFLINE_PER_SWEEP hosts; `more` when others may be due. Also the
   * replicas running now (registered, not stopping); when one of
   * `runningReplicas` is no longer among them, `replicaLeft` and nothing is
   * marked: its agents are on their way to the others.
   */
  sweep(options: {
    fence: LeaseFence;
    offlineAfterMs: number;
    reconnectGraceMs: number;
    /** Default 0. */
    welcomeAllowancePerHostMs?: number;
    observation: Observation | null;
    /** The running replicas the previous sweep saw (absent: none known). */
    runningReplicas?: readonly string[];
  }): Promise<{
    databaseNow: number;
    offline: SweptHost[];
    more?: boolean;
    runningReplicas?: string[];
    replicaLeft?: boolean;
  }>;
}

export type HostOfflineHook = (hostId: string) => void | Promise<void>;

export interface OfflineSweeper {
  /** Starts sweeping for this tenure of the lease (a new observation begins). */
  start(fence: LeaseFence): void;
  /** Stops sweeping and waits for a sweep in progress (its hooks included). */
  stop(): Promise<void>;
  isRunning(): boolean;
  /** A sweep now (after the one in progress), if running; never rejects. */
  sweepNow(): Promise<void>;
  /** Runs `hook` each time this replica marks a host offline; returns a function that unregisters it. */
  onHostOffline(hook: HostOfflineHook): () => void;
  /** Since when (database clock) the database has answered without a break; null while not known. */
  observedSince(): number | null;
}

export interface OfflineSweeperOptions {
  store: OfflineSweepStore;
  clock: Clock;
  log: LivenessLog;
  offlineAfterMs: number;
  /** Default RESTART_RECONNECT_GRACE_MS. */
  reconnectGraceMs?: number;
  /** Default WELCOME_ALLOWANCE_PER_HOST_MS. */
  welcomeAllowancePerHostMs?: number;
}

export function offlineSweeper(options: OfflineSweeperOptions): OfflineSweeper {
  const { store, clock, log, offlineAfterMs } = options;
  const reconnectGraceMs = options.reconnectGraceMs ?? RESTART_RECONNECT_GRACE_MS;
  const welcomeAllowancePerHostMs = options.welcomeAllowancePerHostMs ?? WELCOME_ALLOWANCE_PER_HOST_MS;
  const sweepIntervalMs = checkIntervalOf(offlineAfterMs);
  // Answers further apart than this (by the database's clock) break the observation: the
  // database may have been away meanwhile without this replica noticing (a stalled
  // process, a call that waited for a connection while it was down).
  const maxGapMs = Math.max(2000, Math.floor(offlineAfterMs / 3));
  const hooks = new Set<HostOfflineHook>();
  let fence: LeaseFence | null = null;
  let timer: TimerHandle | null = null;
  let chain: Promise<void> = Promise.resolve();
  let observedSince: number | null = null;
  let lastObservedAt: number | null = null;
  let runningReplicas: string[] = [];
  let failing = false;

  async function sweepOnce(tenure: LeaseFence): Promise<void> {
    if (fence !== tenure) return;
    const observation =
      observedSince !== null && lastObservedAt !== null
        ? { since: observedSince, lastAt: lastObservedAt, maxGapMs }
        : null;
    let result: Awaited<ReturnType<OfflineSweepStore["sweep"]>>;
    try {
      result = await store.sweep({
        fence: tenure,
        offlineAfterMs,
        reconnectGraceMs,
        welcomeAllowancePerHostMs,
        observation,
        runningReplicas,
      });
    } catch (error) {
      observedSince = null;
      lastObservedAt = null;
      if (!failing) {
        if (error instanceof LeaseLostError)
          log.warn({ err: error }, "offline sweep: the lease is no longer ours");
        else log.warn({ err: error }, "offline sweep failed; observing the database again once it answers");
      }
      failing = true;
      return;
    }
    failing = false;
    if (fence !== tenure) return;
    runningReplicas = result.runningReplicas ?? [];
    if (result.replicaLeft) {
      // Its agents are on their way to the other replicas, whose welcomes take turns: they get
      // the same allowance as after this replica's own start. That answer marked nothing.
      log.info({}, "offline sweep: a replica stopped or went away; observing again");
      observedSince = result.databaseNow;
    }
    if (lastObservedAt !== null && result.databaseNow - lastObservedAt > maxGapMs) {
      // That answer marked nothing (the store checks the same): the observation starts again there.
      log.info(
        { gapMs: result.databaseNow - lastObservedAt },
        "offline sweep: the database went unobserved for a while; observing it again",
      );
      observedSince = result.databaseNow;
    }
    observedSince ??= result.databaseNow;
    lastObservedAt = result.databaseNow;
    for (const host of result.offline) {
      log.warn(
        {
          hostId: host.hostId,
          silentForMs: host.lastHeardAt === null ? null : result.databaseNow - host.lastHeardAt,
        },
        "host offline",
      );
      for (const hook of hooks) {
        try {
          await hook(host.hostId);
        } catch (error) {
          log.error({ err: error, hostId: host.hostId, hook: "offline" }, "a host liveness hook failed");
        }
      }
    }
    if (result.more && fence === tenure) void enqueue(tenure);
  }

  function enqueue(tenure: LeaseFence): Promise<void> {
    const run = chain.then(() => sweepOnce(tenure));
    chain = run.catch((error: unknown) => log.error({ err: error }, "offline sweep failed"));
    return chain;
  }

  function schedule(tenure: LeaseFence): void {
    if (fence !== tenure) return;
    timer = clock.setTimeout(() => {
      timer = null;
      void enqueue(tenure).finally(() => schedule(tenure));
    }, sweepIntervalMs);
  }

  return {
    start(next) {
      if (fence && fence.token === next.token && fence.holder === next.holder && fence.name === next.name)
        return;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      fence = next;
      observedSince = null;
      lastObservedAt = null;
      runningReplicas = [];
      failing = false;
      // The first sweep only reads the database's clock: the observation starts there.
      void enqueue(next).finally(() => schedule(next));
    },
    async stop() {
      fence = null;
      observedSince = null;
      lastObservedAt = null;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      await chain;
    },
    isRunning: () => fence !== null,
    sweepNow() {
      return fence ? enqueue(fence) : Promise.resolve();
    },
    onHostOffline(hook) {
      hooks.add(hook);
      return () => hooks.delete(hook);
    },
    observedSince: () => observedSince,
  };
}

// ---------------------------------------------------------------------------
// The real stores: Postgres through Prisma, events on the bus.

export function prismaLivenessStore(options: { db: PrismaClient }): LivenessStore {
  const { db } = options;
  return {
    async writeLastSeen(entries) {
      if (entries.length === 0) return [];
      const ids = entries.map((entry) => entry.hostId);
      const times = entries.map((entry) => new Date(entry.at).toISOString());
      // Rows are locked in id order first, the order placement locks them in, so
      // this one statement for many hosts cannot deadlock with a placement.
      const offline = await db.$queryRaw<{ id: string }[]>`
        WITH locked AS (SELECT id, status FROM hosts WHERE id = ANY(${ids}::text[]) ORDER BY id FOR UPDATE),
        written AS (
          UPDATE hosts AS h SET last_seen_at = v.ts
          FROM unnest(${ids}::text[], ${times}::timestamptz[]) AS v(id, ts), locked
          WHERE h.id = v.id AND locked.id = h.id AND (h.last_seen_at IS NULL OR h.last_seen_at < v.ts)
          RETURNING h.id)
        SELECT locked.id FROM locked WHERE locked.status = 'offline'`;
      return offline.map((row) => row.id);
    },
  };
}

export function prismaOfflineSweepStore(options: {
  db: PrismaClient;
  bus: Pick<GatewayBus, "publish">;
}): OfflineSweepStore {
  const { db, bus } = options;
  return {
    async sweep({
      fence,
      offlineAfterMs,
      reconnectGraceMs,
      welcomeAllowancePerHostMs = 0,
      observation,
      runningReplicas: seen = [],
    }) {
      const { events, ...answer } = await db.$transaction(async (tx) => {
        await assertLeaseHeld(tx, fence);
        // now() is the transaction's start: the same instant for the check and the update.
        const [clockRow] = await tx.$queryRaw<
          { now: Date; running: string[]; online: number; hellos_waiting: number }[]
        >`
          SELECT now() AS now,
            array(SELECT id FROM central_replicas WHERE NOT stopping ORDER BY id) AS running,
            (SELECT count(*)::int FROM hosts WHERE status = 'online' AND removed_at IS NULL) AS online,
            (SELECT coalesce(sum(hellos_waiting), 0)::int FROM central_replicas
              WHERE heartbeat_at >= now() - ${HELLOS_WAITING_FRESH_MS}::int * interval '1 millisecond'
            ) AS hellos_waiting`;
        const { now, running, online, hellos_waiting: hellosWaiting } = clockRow!;
        const replicaLeft = seen.some((id) => !running.includes(id));
        const unbroken = observation !== null && now.getTime() - observation.lastAt <= observation.maxGapMs;
        if (!unbroken || replicaLeft) {
          return {
            databaseNow: now.getTime(),
            offline: [],
            events: [],
            runningReplicas: running,
            replicaLeft,
          };
        }
        const since = new Date(observation.since).toISOString();
        const longGrace = Math.round(offlineAfterMs + reconnectGraceMs + online * welcomeAllowancePerHostMs);
        // While agents wait to be welcomed somewhere, every silent host gets the long grace.
        const grace = hellosWaiting > 0 ? longGrace : Math.round(offlineAfterMs);
        // Locked in id order (as placement locks hosts); a welcome that committed meanwhile
        // moved connected_at, and the re-checked condition leaves that host online.
        const rows = await tx.$queryRaw<{ id: string; name: string; last_heard: Date | null }[]>`
          WITH due AS (
            SELECT id FROM hosts
            WHERE status = 'online' AND removed_at IS NULL
              AND coalesce(greatest(last_seen_at, connected_at), '-infinity') <= now() - ${grace}::int * interval '1 millisecond'
              AND (coalesce(greatest(last_seen_at, connected_at), '-infinity') >= ${since}::timestamptz
                OR now() >= ${since}::timestamptz + ${longGrace}::int * interval '1 millisecond')
            ORDER BY id LIMIT ${MAX_OFFLINE_PER_SWEEP}::int FOR UPDATE)
          UPDATE hosts AS h SET status = 'offline'
          FROM due
          WHERE h.id = due.id AND h.status = 'online'
            AND coalesce(greatest(h.last_seen_at, h.connected_at), '-infinity') <= now() - ${grace}::int * interval '1 millisecond'
            AND (coalesce(greatest(h.last_seen_at, h.connected_at), '-infinity') >= ${since}::timestamptz
              OR now() >= ${since}::timestamptz + ${longGrace}::int * interval '1 millisecond')
          RETURNING h.id, h.name, greatest(h.last_seen_at, h.connected_at) AS last_heard`;
        const events: TEventRow[] = [];
        for (const row of rows) {
          const heard = row.last_heard ? row.last_heard.toISOString() : null;
          events.push(
            await recordEvent({
              db: tx,
              kind: "host.offline",
              severity: "warning",
              hostId: row.id,
              message: `host ${row.name} is offline: nothing heard since ${heard ?? "it joined"}`,
              data: { lastHeardAt: heard },
            }),
          );
        }
        const offline = rows.map((row) => ({
          hostId: row.id,
          lastHeardAt: row.last_heard?.getTime() ?? null,
        }));
        return {
          databaseNow: now.getTime(),
          offline,
          events,
          more: rows.length >= MAX_OFFLINE_PER_SWEEP,
          runningReplicas: running,
          replicaLeft: false,
        };
      });
      for (const event of events) bus.publish("event", event);
      for (const host of answer.offline) bus.publish("host.changed", { hostId: host.hostId });
      return answer;
    },
  };
}
