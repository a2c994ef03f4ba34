// A connection's first frame: `hello` → the host it belongs to (join token or
// credential) → `welcome` → the host's one live connection, replacing an
// older one of the same host. The desired set follows every welcome, so
// whatever changed while the host was away converges at once. The welcome
// claims the host for this replica under a new connection epoch
// (cluster-sync.ts): an older connection of the host, on any replica, is
// fenced out from then on and closed when its replica hears of it.
// Hellos take their turn (CONCURRENT_HELLOS at once, in arrival order), and so
// does the after-connect work, so that a whole fleet saying hello after a
// restart neither starves the database pool nor is starved by the statuses
// that follow each welcome.
import type { Clock } from "@fleet/shared/clock";
import type { THelloFrame } from "@fleet/shared/protocol/agent-to-server";
import { PROTOCOL_VERSION } from "@fleet/shared/protocol/version";
import pLimit from "p-limit";
import type { PrismaClient } from "../db/client";
import { recordEvent } from "../events/record-event";
import { AgentSession } from "./agent-session";
import type { BackgroundWork } from "./background-work";
import { type ClusterSync, claimConnection, releaseConnection } from "./cluster-sync";
import type { DesiredSender } from "./desired-push";
import { CONCURRENT_CONNECTED_HOOKS, CONCURRENT_HELLOS, GATEWAY_CLOSE } from "./gateway-limits";
import type { GatewayBus, GatewayEnv } from "./gateway-options";
import { authenticateHello } from "./host-auth";
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
  sendDesired: DesiredSender;
  connectedHooks: ReadonlySet<HostConnectedHook>;
  replicaId: string;
  cluster: Pick<ClusterSync, "announceConnection">;
}

export function createHelloHandshake(deps: HelloHandshakeDeps) {
  const { db, env, bus, clock, monitor, live, background } = deps;
  const admitHello = pLimit(CONCURRENT_HELLOS);
  const admitHook = pLimit(CONCURRENT_CONNECTED_HOOKS);

  return (session: AgentSession, hello: THelloFrame): Promise<void> =>
    admitHello(async () => {
      // The agent gave up waiting for its welcome and will dial again: nothing was done yet.
      if (session.closed) return;
      await handshake(session, hello);
    });

  async function handshake(session: AgentSession, hello: THelloFrame): Promise<void> {
    const mismatch = AgentSession.protocolMismatch(hello);
    if (mismatch) {
      session.state = "refused";
      session.sendError("version_mismatch", mismatch, "hello");
      session.close(GATEWAY_CLOSE.versionMismatch, "protocol version mismatch");
      return;
    }
    const outcome = await authenticateHello({ db, hello, now: new Date(clock.now()) });
    if (!outcome.ok) {
      session.state = "refused";
      session.log.warn({ reason: outcome.message, auth: hello.auth.kind }, "agent refused");
      session.sendError("unauthorized", outcome.message, "hello");
      session.close(outcome.closeCode, outcome.message);
      return;
    }
    for (const event of outcome.events) bus.publish("event", event);
    bus.publish("host.changed", { hostId: outcome.hostId });
    let epoch: number | null = null;
    if (!session.closed && deps.accepting()) {
      epoch = await claimConnection({ db, hostId: outcome.hostId, replicaId: deps.replicaId });
      if (epoch !== null) deps.cluster.announceConnection(outcome.hostId, epoch);
    }
    if (epoch === null || session.closed || !deps.accepting()) {
      if (epoch !== null) {
        background.track(
          releaseConnection({ db, hostId: outcome.hostId, replicaId: deps.replicaId, epoch }),
          "releasing a host's connection",
        );
      }
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
      return;
    }
    const previous = live.get(outcome.hostId);
    if (previous && previous !== session) {
      previous.replaced = true;
      previous.sendError("conflict", "a newer connection of this host took over");
      previous.close(GATEWAY_CLOSE.replaced, "replaced");
      session.log.info({ replaced: previous.connectionId }, "newer connection replaces the old one");
    }
    live.set(outcome.hostId, session);
    session.epoch = epoch;
    session.becomeReady(outcome.hostId, outcome.hostName);
    monitor.connected(outcome.hostId);
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
    await deps.sendDesired(session);
    const connected = { hostId: outcome.hostId, hostName: outcome.hostName };
    if (session.hostAddress !== null) {
      background.track(
        db.host.updateMany({
          where: { id: outcome.hostId, connectionEpoch: epoch },
          data: { address: session.hostAddress },
        }),
        "storing a host's address",
      );
    }
    for (const hook of deps.connectedHooks) {
      background.track(
        admitHook(() => (session.closed ? undefined : hook(connected))),
        "after-connect work",
      );
    }
  }
}
