// A connection's first frame: `hello` → the host it belongs to (join token or
// credential), claimed for this replica → `welcome` → the host's one live
// connection, replacing an older one of the same host. The desired set follows
// every welcome, so whatever changed while the host was away converges at
// once. The claim (host-auth.ts, under a new connection epoch: cluster-sync.ts)
// fences out an older connection of the host, on any replica, from then on;
// that one is closed when its replica hears of it.
//
// Hellos that wait together are handled together (group commit): one
// statement checks and claims every host of a batch, one transaction takes
// all their desired sets. After a central restart a whole fleet says hello
// within seconds; one hello at a time, at a dozen round trips each, 2,000
// hosts took 80 s to get back in. At most CONCURRENT_HELLOS batches run at
// once, so the hellos never starve the database pool. The after-connect work
// takes its turn too, and waits until no hello is waiting: every host's
// welcome comes before any host's refresh of its volumes, networks and images.
import type { Clock } from "@fleet/shared/clock";
import type { THelloFrame } from "@fleet/shared/protocol/agent-to-server";
import { PROTOCOL_VERSION } from "@fleet/shared/protocol/version";
import pLimit from "p-limit";
import type { PrismaClient } from "../db/client";
import { recordEvent } from "../events/record-event";
import { AgentSession } from "./agent-session";
import type { BackgroundWork } from "./background-work";
import { type ClusterSync, releaseConnection } from "./cluster-sync";
import type { DesiredDelivery } from "./desired-push";
import { takeDesiredSnapshots } from "./desired-state";
import { CONCURRENT_CONNECTED_HOOKS, CONCURRENT_HELLOS, GATEWAY_CLOSE, HELLO_BATCH } from "./gateway-limits";
import type { GatewayBus, GatewayEnv } from "./gateway-options";
import { authenticateHellos, type THelloAuthResult } from "./host-auth";
import type { HostLivenessMonitor } from "./liveness";

/** The welcome's interval settings must lie in the protocol's range. */
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;

function clampInterval(ms: number): number {
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.round(ms)));
}

export type HostConnectedHook = (host: { hostId: string; hostName: string }) => Promise<void>;

export interface HelloHandshakeDeps {
  db: PrismaClient;
  env: GatewayEnv;
  bus: GatewayBus;
  clock: Clock;
  monitor: Pick<HostLivenessMonitor, "connected" | "disconnected">;
  /** The gateway's registry: the one live, welcomed connection of each host. */
  live: Pick<Map<string, AgentSession>, "get" | "set">;
  background: BackgroundWork;
  /** False once the gateway is closing: a hello that completes then gets no welcome. */
  accepting(): boolean;
  /** Sends a desired set taken for a welcomed session. */
  deliverDesired: DesiredDelivery;
  connectedHooks: ReadonlySet<HostConnectedHook>;
  replicaId: string;
  cluster: Pick<ClusterSync, "announceConnection">;
  /** Closes a connection a newer one of its host took over (4409), telling it why. */
  supersede(session: AgentSession): void;
}

interface WaitingHello {
  session: AgentSession;
  hello: THelloFrame;
  done(error?: unknown): void;
}

export function createHelloHandshake(deps: HelloHandshakeDeps) {
  const { db, env, bus, clock, monitor, live, background } = deps;
  const admitHook = pLimit(CONCURRENT_CONNECTED_HOOKS);
  const waiting: WaitingHello[] = [];
  let batchesRunning = 0;
  let hellosInFlight = 0;
  let hellosDone: (() => void)[] = [];
  const hellosIdle = (): Promise<void> =>
    hellosInFlight === 0 ? Promise.resolve() : new Promise((resolve) => hellosDone.push(resolve));

  function startBatches(): void {
    while (batchesRunning < CONCURRENT_HELLOS && waiting.length > 0) {
      const batch = waiting.splice(0, HELLO_BATCH);
      batchesRunning++;
      void runBatch(batch).finally(() => {
        batchesRunning--;
        startBatches();
      });
    }
  }

  async function runBatch(batch: WaitingHello[]): Promise<void> {
    // The agent gave up waiting for its welcome and will dial again, or the central
    // drains (every socket is closed): nothing is done for it.
    const open = batch.filter((item) => !item.session.closed && deps.accepting());
    for (const item of batch) if (!open.includes(item)) item.done();
    const checked: WaitingHello[] = [];
    for (const item of open) {
      const mismatch = AgentSession.protocolMismatch(item.hello);
      if (!mismatch) {
        checked.push(item);
        continue;
      }
      item.session.state = "refused";
      item.session.sendError("version_mismatch", mismatch, "hello");
      item.session.close(GATEWAY_CLOSE.versionMismatch, "protocol version mismatch");
      item.done();
    }
    if (checked.length === 0) return;
    try {
      const outcomes = await authenticateHellos({
        db,
        now: new Date(clock.now()),
        replicaId: deps.replicaId,
        attempts: checked.map(({ session, hello }) => ({ hello, address: session.hostAddress })),
      });
      const welcomed = checked.filter((item, i) => welcome(item.session, item.hello, outcomes[i]));
      const snapshots = await takeDesiredSnapshots({
        db,
        hostIds: welcomed.map((item) => item.session.hostId),
      });
      for (const { session } of welcomed) {
        const snapshot = snapshots.get(session.hostId);
        if (snapshot) deps.deliverDesired(session, snapshot, { bumped: true });
        afterConnect(session);
      }
      for (const item of checked) item.done();
    } catch (error) {
      for (const item of checked) item.done(error);
    }
  }

  /** Refuses, or makes the session its host's live connection and welcomes it; true when welcomed. */
  function welcome(
    session: AgentSession,
    hello: THelloFrame,
    outcome: THelloAuthResult | undefined,
  ): boolean {
    if (!outcome) throw new Error("a hello without an outcome");
    if (!outcome.ok) {
      session.state = "refused";
      session.log.warn({ reason: outcome.message, auth: hello.auth.kind }, "agent refused");
      session.sendError("unauthorized", outcome.message, "hello");
      session.close(outcome.closeCode, outcome.message);
      return false;
    }
    const { epoch } = outcome;
    for (const event of outcome.events) bus.publish("event", event);
    bus.publish("host.changed", { hostId: outcome.hostId });
    deps.cluster.announceConnection(outcome.hostId, epoch);
    if (session.closed || !deps.accepting()) {
      background.track(
        releaseConnection({ db, hostId: outcome.hostId, replicaId: deps.replicaId, epoch }),
        "releasing a host's connection",
      );
      // Gone while we checked: the host counts as connected, then disconnected.
      monitor.connected(outcome.hostId);
      monitor.disconnected(outcome.hostId);
      session.state = "refused";
      background.track(
        recordEvent({
          db,
          bus,
          kind: "host.disconnected",
          hostId: outcome.hostId,
          message: `host ${outcome.hostName} disconnected before its welcome`,
        }),
        "recording a disconnect",
      );
      return false;
    }
    const previous = live.get(outcome.hostId);
    // Hellos run in concurrent batches: a newer connection of the host (a later
    // claim, a higher epoch) may have been welcomed first. It stays; this one is
    // welcomed and replaced at once, as it would have been the other way round.
    const superseded = previous !== undefined && previous !== session && previous.epoch > epoch;
    if (previous && previous !== session && !superseded) {
      deps.supersede(previous);
      session.log.info({ replaced: previous.connectionId }, "newer connection replaces the old one");
    }
    if (!superseded) live.set(outcome.hostId, session);
    session.epoch = epoch;
    session.becomeReady(outcome.hostId, outcome.hostName);
    if (!superseded) monitor.connected(outcome.hostId);
    session.send({
      type: "welcome",
      protocolVersion: PROTOCOL_VERSION,
      hostId: outcome.hostId,
      ...(outcome.credential ? { credential: outcome.credential } : {}),
      settings: {
        metricsIntervalMs: clampInterval(env.FLEET_METRICS_INTERVAL),
        heartbeatIntervalMs: clampInterval(env.FLEET_HEARTBEAT_INTERVAL),
      },
      serverTime: clock.now(),
    });
    session.log.info(
      {
        hostId: outcome.hostId,
        name: outcome.hostName,
        joined: outcome.joined,
        agentVersion: hello.agentVersion,
      },
      outcome.joined ? "host joined" : "host connected",
    );
    if (superseded) {
      deps.supersede(session);
      return false;
    }
    return true;
  }

  function afterConnect(session: AgentSession): void {
    const connected = { hostId: session.hostId, hostName: session.hostName };
    for (const hook of deps.connectedHooks) {
      background.track(
        admitHook(async () => {
          await hellosIdle();
          if (!session.closed) await hook(connected);
        }),
        "after-connect work",
      );
    }
  }

  async function authenticate(session: AgentSession, hello: THelloFrame): Promise<void> {
    hellosInFlight++;
    try {
      await new Promise<void>((resolve, reject) => {
        waiting.push({ session, hello, done: (error) => (error === undefined ? resolve() : reject(error)) });
        startBatches();
      });
    } finally {
      hellosInFlight--;
      if (hellosInFlight === 0) {
        const idle = hellosDone;
        hellosDone = [];
        for (const resolve of idle) resolve();
      }
    }
  }

  return {
    authenticate,
    /** Hellos received and not yet answered: queued, or in a batch under way. */
    waiting: () => hellosInFlight,
  };
}
