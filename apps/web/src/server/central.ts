/**
 * The composition root of the central: the one place that builds the
 * gateway, the services that run in the background and the wiring between
 * them, once per process by the app server (and once per test server),
 * started and stopped with it. It sits above services and the gateway so
 * that neither has to import the other. Procedures reach everything through
 * `ctx.services`; nothing here is a module global, so two servers in one test
 * process stay apart.
 *
 * May import: services, the gateway, events, db, and the wiring it builds
 * parts of (`./prometheus`, `./uploads`, `./agent-endpoint`). Only the app
 * server, tRPC's context type and tests import it.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Clock, systemClock } from "@fleet/shared/clock";
import { downloadsDirOf } from "./agent-endpoint/downloads";
import { CENTRAL_BUILD_ID } from "./build-info";
import { databaseUrlOf, type PrismaClient } from "./db/client";
import { clusterSecretSource } from "./db/cluster-secret";
import { createDbHealth } from "./db/db-health";
import { createDutyLease, DUTIES_LEASE, type DutyLeaseTuning } from "./db/duty-lease";
import { createPgNotifier } from "./db/pg-notify";
import { createReplicaRegistry } from "./db/replica-registry";
import type { TEnv } from "./env";
import { bridgeEventBus } from "./events/bus-bridge";
import { type EventBus, getEventBus } from "./events/event-bus";
import { createGateway } from "./gateway/gateway";
import type { GatewayTuning } from "./gateway/gateway-options";
import { createRoutedOperations } from "./gateway/routed-operations";
import type { Logger } from "./logger";
import { createPrometheusExporter } from "./prometheus";
import { createRoutedImageJobs } from "./routed-image-jobs";
import { createAnonymousCallBudget, DEFAULT_ANONYMOUS_CALLS } from "./services/auth/anonymous-calls";
import { bootstrapFirstAdmin, type TBootstrapResult } from "./services/auth/bootstrap";
import { pruneExpiredSessions } from "./services/auth/sessions";
import { createSignInThrottle, type SignInThrottle } from "./services/auth/sign-in-throttle";
import { createStreamGuard } from "./services/auth/stream-guard";
import { createRolloutLoop } from "./services/deployment/rollout-loop";
import { createAgentUpgrader } from "./services/host/upgrade-agents";
import { refreshHostObjectsAfterConnect } from "./services/host-object/refresh-after-connect";
import { createImageJobRegistry } from "./services/image/image-jobs";
import { refreshImagesOnPull } from "./services/image/refresh-images-on-pull";
import { agentPublicUrl, type TAgentEndpoint } from "./services/join-token/agent-endpoint";
import type { MetricsTuning } from "./services/metrics/metrics-options";
import { createMetricsService } from "./services/metrics/metrics-service";
import { createRescheduler } from "./services/reschedule/rescheduler";
import { createUploadStore, remoteUploadTaker } from "./uploads";

/** This process among the central replicas that share the database. */
export interface ReplicaIdentity {
  /** FLEET_REPLICA_ID, or the hostname and a suffix new at every start. */
  readonly id: string;
  /**
   * Where the other replicas reach this one (FLEET_INTERNAL_URL, else filled
   * in by the app server once PORT is bound).
   */
  internalUrl: string;
}

export function replicaIdentityOf(
  env: Pick<TEnv, "FLEET_REPLICA_ID" | "FLEET_INTERNAL_URL">,
): ReplicaIdentity {
  return {
    id: env.FLEET_REPLICA_ID ?? `${hostname()}-${randomBytes(4).toString("hex")}`,
    internalUrl: env.FLEET_INTERNAL_URL?.replace(/\/+$/, "") ?? "",
  };
}

export interface CreateServicesOptions {
  db: PrismaClient;
  env: TEnv;
  log: Logger;
  clock?: Clock;
  /** Default: the process's bus (event-bus.ts). */
  bus?: EventBus;
  /**
   * Where hosts reach the agent port and the key they pin; the app server
   * fills in the URL once the port is bound. Default: from env, unpinned.
   */
  agentEndpoint?: TAgentEndpoint;
  /** Default: from env (replicaIdentityOf). */
  replica?: ReplicaIdentity;
  /** For tests: shorter timeouts and intervals than production's. */
  tuning?: {
    gateway?: Partial<GatewayTuning>;
    metrics?: Partial<MetricsTuning>;
    /** Calls without credentials allowed per client address and window. */
    anonymousCalls?: { points: number; durationSeconds: number };
    streamRecheckIntervalMs?: number;
    /** How often active rollouts are decided without any bus event. */
    rolloutTickMs?: number;
    /** No LISTEN/NOTIFY between replicas: the periodic comparisons alone carry changes (the fallback). */
    notificationsDisabled?: boolean;
    /** The duty lease's TTL and intervals (db/duty-lease.ts). */
    dutyLease?: Partial<DutyLeaseTuning>;
  };
}

const SESSION_PRUNE_INTERVAL_MS = 60 * 60_000;

export function createServices(options: CreateServicesOptions) {
  const { db, env, log } = options;
  const clock = options.clock ?? systemClock;
  const replica = options.replica ?? replicaIdentityOf(env);
  // LISTEN/NOTIFY between the replicas on this database (off for a client built without a known URL).
  const notifier = createPgNotifier({
    databaseUrl: databaseUrlOf(db),
    log: log.child({ component: "pg-notify" }),
    disabled: options.tuning?.notificationsDisabled,
  });
  // What is published on bridged topics reaches the other replicas' buses too (events/bus-bridge.ts).
  const bus = bridgeEventBus({
    bus: options.bus ?? getEventBus(),
    notifier,
    replicaId: replica.id,
    db,
    log: log.child({ component: "bus-bridge" }),
  });
  // Whether the database answers; while it does not, the API, /readyz and the gateway say so.
  const dbHealth = createDbHealth({ db, log: log.child({ component: "db-health" }) });
  // This replica's row among the replicas; the app server starts it once PORT is bound (the URL is known).
  const replicas = createReplicaRegistry({
    db,
    replica,
    version: CENTRAL_BUILD_ID,
    log: log.child({ component: "replicas" }),
    // The gateway is built below; the first beat comes once the app server has started.
    hellosWaiting: () => gateway.hellosWaiting(),
  });
  const signInThrottle: SignInThrottle = createSignInThrottle({ clock });
  const anonymousCalls = createAnonymousCallBudget(options.tuning?.anonymousCalls ?? DEFAULT_ANONYMOUS_CALLS);
  const streamGuard = createStreamGuard({
    db,
    bus,
    clock,
    log,
    recheckIntervalMs: options.tuning?.streamRecheckIntervalMs,
  });
  const metrics = createMetricsService({
    db,
    env,
    log: log.child({ component: "metrics" }),
    bus,
    clock,
    tuning: options.tuning?.metrics,
    // Called once running, when the gateway exists.
    remoteLatest: { replicaId: replica.id, localHostIds: () => gateway.connectedHostIds() },
  });
  const gateway = createGateway({
    db,
    env,
    log,
    bus,
    metrics,
    clock,
    tuning: options.tuning?.gateway,
    replicaId: replica.id,
    notifier,
  });
  const rescheduler = createRescheduler({ db, bus, desired: gateway, log, clock });
  const rollouts = createRolloutLoop({
    db,
    bus,
    desired: gateway,
    log,
    clock,
    tickIntervalMs: options.tuning?.rolloutTickMs,
  });
  gateway.onHostOffline((hostId) => rescheduler.hostLost(hostId, "offline").then(() => {}));
  dbHealth.onChange((healthy) => gateway.setDatabaseAvailable(healthy));
  // The secret replicas prove themselves with to each other (internal-endpoint.ts); never served.
  const clusterSecret = clusterSecretSource(db);
  // What services get for one-off operations: the gateway for hosts connected here, another replica's otherwise.
  const agents = createRoutedOperations({
    db,
    local: gateway,
    replicaId: replica.id,
    secret: clusterSecret,
    log: log.child({ component: "routed-operations" }),
  });
  gateway.onHostConnected(({ hostId, hostName }) =>
    refreshHostObjectsAfterConnect({ db, gateway, log, now: () => new Date(clock.now()), hostId, hostName }),
  );
  refreshImagesOnPull({ db, bus, gateway, log, now: () => new Date(clock.now()) });
  const prometheus = createPrometheusExporter({ db, metrics, log });
  const uploads = createUploadStore({
    clock,
    replicaId: replica.id,
    takeRemote: remoteUploadTaker({ db, secret: clusterSecret, log: log.child({ component: "uploads" }) }),
  });
  // Held here, watched and cancelled from any replica (job ids name this one).
  const imageJobs = createRoutedImageJobs({
    local: createImageJobRegistry({ clock, log: log.child({ component: "image-jobs" }) }),
    db,
    replicaId: replica.id,
    secret: clusterSecret,
    log: log.child({ component: "image-jobs" }),
  });
  const agentUpgrades = createAgentUpgrader({
    db,
    gateway: agents,
    bus,
    log: log.child({ component: "agent-upgrades" }),
    clock,
    downloadsDir: downloadsDirOf(env),
  });

  let pruneTimer: ReturnType<Clock["setTimeout"]> | null = null;
  let pruning = false;
  const prune = () =>
    pruneExpiredSessions({ db, clock })
      .then((count) => count > 0 && log.debug({ count }, "pruned expired sessions"))
      .catch((error: unknown) => log.warn({ err: error }, "pruning expired sessions failed"));
  const schedulePrune = () => {
    pruneTimer = clock.setTimeout(() => {
      void prune().finally(() => {
        if (pruning) schedulePrune();
      });
    }, SESSION_PRUNE_INTERVAL_MS);
  };

  // The duties that run once per fleet, on the replica holding the duty lease (the
  // others take over within its TTL and one try if it dies): marking silent hosts
  // offline, rescheduling, rollouts, the metrics upkeep and session pruning. Ingest,
  // the gateway and the API run on every replica.
  const duties = createDutyLease({
    db,
    name: DUTIES_LEASE,
    holder: replica.id,
    log: log.child({ component: "duties" }),
    tuning: options.tuning?.dutyLease,
    async onAcquired(fence) {
      gateway.offlineSweep.start(fence);
      rescheduler.start();
      rollouts.start();
      pruning = true;
      void prune();
      schedulePrune();
      await metrics.startMaintenance();
    },
    async onLost() {
      pruning = false;
      if (pruneTimer !== null) clock.clearTimeout(pruneTimer);
      pruneTimer = null;
      await gateway.offlineSweep.stop();
      await rollouts.stop();
      await rescheduler.stop();
      await metrics.stopMaintenance();
    },
  });

  const agentEndpoint: TAgentEndpoint = options.agentEndpoint ?? {
    publicUrl: agentPublicUrl(env, env.FLEET_AGENT_PORT),
    pin: null,
  };

  const services = {
    db,
    env,
    agentEndpoint,
    replica,
    /** SELECT 1 every second: whether this replica can use the database now. */
    dbHealth,
    /** This replica's row in central_replicas (heartbeat, stopping), and the live replicas. */
    replicas,
    log,
    clock,
    bus,
    signInThrottle,
    anonymousCalls,
    streamGuard,
    gateway,
    /** One-off operations on hosts' agents, wherever their connection is (what services take as `gateway`). */
    agents,
    clusterSecret,
    metrics,
    prometheus,
    rescheduler,
    /** Moves deployments' replicas to their newest revision, from the rows (resumes after a restart). */
    rollouts,
    /** The duty lease: `isHeld()` says whether this replica runs the fleet's background duties now. */
    duties,
    /** Build contexts from `POST /api/uploads`, held until `image.build` uses them. */
    uploads,
    /** Pulls and builds, run to their end whoever watches. */
    imageJobs,
    /** `host.upgradeAgent`: one roll of agent upgrades at a time. */
    agentUpgrades,
    /** Follow-up work after a host is removed: its containers that may move are placed elsewhere. */
    onHostRemoved: (hostId: string) => rescheduler.hostLost(hostId, "removed").then(() => {}),
    /** First-start administrator, background jobs. Call once before serving. */
    async start(): Promise<{ bootstrap: TBootstrapResult }> {
      await dbHealth.start();
      const bootstrap = await bootstrapFirstAdmin({ db, env, log, clock });
      streamGuard.start();
      await metrics.start();
      await notifier.start();
      await gateway.start();
      // Claims the lease at once: a replica alone holds its duties when start() returns.
      await duties.start();
      return { bootstrap };
    },
    /** Closes agent connections (1001) and stops background jobs; the caller disconnects Prisma. */
    async stop(): Promise<void> {
      streamGuard.stop();
      // Cancelled first, awaited once the gateway has failed their operations, so they end at once.
      const imageJobsStopped = imageJobs.stop();
      // Before the database goes: a roll's last step writes its event.
      const upgradesStopped = agentUpgrades.stop();
      // The duties stop first (a roll's last step writes its event), then the row is
      // expired so another replica takes them at once rather than after the TTL.
      await duties.release();
      await gateway.close();
      await imageJobsStopped;
      await upgradesStopped;
      await metrics.stop();
      dbHealth.stop();
      bus.close();
      await notifier.close();
    },
  };
  return services;
}

export type Services = ReturnType<typeof createServices>;
