// What the metrics service needs from the rest of the central, as narrow
// interfaces: the real env, event bus and logger satisfy them, and tests can
// pass their own without building the whole server.

import type { Clock } from "@fleet/shared/clock";
import type { Logger } from "pino";
import type { PrismaClient } from "../../db/client";
import type { EventBus } from "../../events/event-bus";

/** The env keys this service reads; durations are milliseconds (parsed by env.ts with `parseDuration`). */
export interface MetricsEnv {
  FLEET_METRICS_INTERVAL: number;
  FLEET_RETENTION_RAW: number;
  FLEET_RETENTION_MINUTE: number;
  FLEET_RETENTION_HOUR: number;
}

/** The part of the event bus this service uses (`createEventBus()` gives a real one to tests). */
export type MetricsBus = Pick<EventBus, "publish" | "subscribe">;

export type MetricsLogger = Pick<Logger, "debug" | "info" | "warn" | "error">;

export interface MetricsServiceOptions {
  db: PrismaClient;
  env: MetricsEnv;
  log: MetricsLogger;
  bus?: MetricsBus;
  /** Business time (sample staleness, partition days, closed buckets, retention) and the background timers. */
  clock?: Clock;
  /** Tuning, mostly for tests and the ingest benchmark. */
  tuning?: Partial<MetricsTuning>;
  /**
   * Several replicas: the latest samples of hosts connected to another one
   * are read from the sample rows (remote-latest.ts).
   */
  remoteLatest?: {
    replicaId: string;
    /** Hosts with a live connection on this replica. */
    localHostIds(): Iterable<string>;
  };
}

export interface MetricsTuning {
  /** The write queue flushes this often… */
  flushIntervalMs: number;
  /** …or as soon as this many rows wait. */
  flushRows: number;
  /** Rows per COPY (whole frames: a statement may pass this by less than one frame). */
  maxRowsPerInsert: number;
  /** Concurrent COPYs, each on a connection of the sample writer's own pool (that many connections). */
  writeConcurrency: number;
  /** `ingest` waits (backpressure) while more rows than this are queued… */
  highWaterRows: number;
  /** …and the oldest rows are dropped beyond this. */
  maxQueuedRows: number;
  /** At most one `"metrics.live"` message per this many ms. */
  livePublishIntervalMs: number;
  /** Latest samples older than this no longer count as "used" in the fleet summary. */
  latestStaleAfterMs: number;
  /** Background rollup period. */
  rollupIntervalMs: number;
  /** Background partition upkeep and retention period. */
  maintenanceIntervalMs: number;
  /**
   * How long samples already received wait for an unreachable database (the
   * write queue's retries, the check of the host's containers) before they
   * count as lost.
   */
  outageHoldMs: number;
}

export function resolveTuning(env: MetricsEnv, overrides: Partial<MetricsTuning> = {}): MetricsTuning {
  return {
    flushIntervalMs: 200,
    flushRows: 5000,
    maxRowsPerInsert: 5000,
    writeConcurrency: 4,
    highWaterRows: 50_000,
    maxQueuedRows: 200_000,
    livePublishIntervalMs: 1000,
    // Three missed intervals: a sample that old belongs to a container that stopped or a host that is gone.
    latestStaleAfterMs: Math.max(3 * env.FLEET_METRICS_INTERVAL, 15_000),
    rollupIntervalMs: 60_000,
    maintenanceIntervalMs: 60 * 60_000,
    outageHoldMs: 90_000,
    ...overrides,
  };
}
