// What the gateway needs from the rest of the central, as narrow interfaces:
// the real env, event bus, metrics service and logger satisfy them, and tests
// can pass their own without building the whole server.

import type { Clock } from "@fleet/shared/clock";
import type { TMetricsFrame } from "@fleet/shared/protocol/agent-to-server";
import type { Logger } from "pino";
import type { PrismaClient } from "../db/client";
import type { PgNotifier } from "../db/pg-notify";
import type { TEventRow } from "../events/event-view";

/** The env keys the gateway reads; durations are milliseconds (env.ts parses them with `parseDuration`). */
export interface GatewayEnv {
  FLEET_HEARTBEAT_INTERVAL: number;
  FLEET_OFFLINE_AFTER: number;
  FLEET_METRICS_INTERVAL: number;
}

export interface HostChangedPayload {
  hostId: string;
}

export interface ContainerChangedPayload {
  containerId: string;
  hostId: string | null;
}

/** The part of the event bus the gateway uses. */
export interface GatewayBus {
  publish(topic: "event", payload: TEventRow): void;
  publish(topic: "host.changed", payload: HostChangedPayload): void;
  publish(topic: "container.changed", payload: ContainerChangedPayload): void;
  /** `host.removed` → the gateway closes that host's connection. */
  subscribe(topic: "host.removed", handler: (payload: HostChangedPayload) => void): () => void;
}

/** Where `metrics` frames go (the metrics service's `ingest`). */
export interface GatewayMetricsSink {
  // Awaited when it returns a promise (backpressure from the write queue).
  ingest(hostId: string, frame: TMetricsFrame): unknown;
}

export interface GatewayOptions {
  db: PrismaClient;
  env: GatewayEnv;
  log: Logger;
  bus: GatewayBus;
  metrics: GatewayMetricsSink;
  clock?: Clock;
  /** This replica's id, written as hosts.connected_replica for the hosts it holds (default "central"). */
  replicaId?: string;
  /**
   * LISTEN/NOTIFY between the replicas that share the database. Without it (or
   * disabled), the periodic comparison alone carries what other replicas changed.
   */
  notifier?: GatewayNotifier;
  /** Mostly for tests: shorter hello deadline, tighter flood limits. */
  tuning?: Partial<GatewayTuning>;
}

export interface GatewayTuning {
  helloTimeoutMs: number;
  badFrameLimit: number;
  badFrameWindowMs: number;
  frameRatePerSecond: number;
  frameBurst: number;
  rateLimitedFramesBeforeClose: number;
  lastSeenWriteIntervalMs: number;
  /**
   * How often the live sessions are compared with their host rows (the
   * fallback for lost notifications): a session whose epoch is stale closes,
   * one whose host's generation rose elsewhere gets its desired set.
   */
  clusterCompareIntervalMs: number;
  /**
   * After the offline sweep starts observing the database (it took the duty
   * lease, or the database came back), hosts last heard before then get this
   * much longer than FLEET_OFFLINE_AFTER: their agents may be redialling.
   */
  offlineReconnectGraceMs: number;
}

/** The part of the notifier (db/pg-notify.ts) the gateway uses. */
export type GatewayNotifier = Pick<PgNotifier, "enabled" | "listen" | "notify" | "onReconnected">;
