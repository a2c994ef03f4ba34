// The gateway: the `/agent` WebSocket endpoint and the rest of the central's
// one way to talk to agents. It keeps one live connection per host (a new one
// replaces the old), welcomes hosts, keeps their desired set pushed, records
// what they report, brokers one-off operations and watches their liveness.
// This file assembles those parts and owns what they share: the registry of
// live connections, the background work close() waits for, and the API the
// rest of the central calls. The hello lives in hello-handshake.ts, the frames
// of a welcomed connection in session-frames.ts.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type Clock, systemClock } from "@fleet/shared/clock";
import type { TOperationInput, TOperationKind, TOperationResult } from "@fleet/shared/protocol/operations";
import { AGENT_CLOSE, MAX_FRAME_BYTES } from "@fleet/shared/protocol/version";
import { WebSocketServer } from "ws";
import type { LeaseFence } from "../db/duty-lease";
import { recordEvent } from "../events/record-event";
import { AgentSession, type SessionHost } from "./agent-session";
import { BackgroundWork } from "./background-work";
import { CLUSTER_COMPARE_INTERVAL_MS, createClusterSync, releaseConnection } from "./cluster-sync";
import { retryOnConnectionErrors } from "./db-retry";
import { createDesiredSender, type PushDesiredResult } from "./desired-push";
import { type TDesiredSnapshot, takeDesiredSnapshot, takeDesiredSnapshots } from "./desired-state";
import {
  BAD_FRAME_LIMIT,
  BAD_FRAME_WINDOW_MS,
  CLOSE_GRACE_MS,
  FRAME_BURST,
  FRAME_RATE_PER_SECOND,
  GATEWAY_CLOSE,
  HELLO_TIMEOUT_MS,
  LAST_SEEN_WRITE_INTERVAL_MS,
  RATE_LIMITED_FRAMES_BEFORE_CLOSE,
} from "./gateway-limits";
import type { GatewayOptions, GatewayTuning } from "./gateway-options";
import { createHelloHandshake, type HostConnectedHook } from "./hello-handshake";
import {
  type HostOfflineHook,
  hostLivenessMonitor,
  offlineSweeper,
  prismaLivenessStore,
  prismaOfflineSweepStore,
  RESTART_RECONNECT_GRACE_MS,
} from "./liveness";
import { createOpBroker, OpError, type OpRequestOptions } from "./op-broker";
import { createSessionFrameHandler } from "./session-frames";

/** Sockets that have not said `hello` yet; more are refused at the upgrade. */
const MAX_UNAUTHENTICATED_SESSIONS = 1000;

export const DEFAULT_GATEWAY_TUNING: GatewayTuning = {
  helloTimeoutMs: HELLO_TIMEOUT_MS,
  badFrameLimit: BAD_FRAME_LIMIT,
  badFrameWindowMs: BAD_FRAME_WINDOW_MS,
  frameRatePerSecond: FRAME_RATE_PER_SECOND,
  frameBurst: FRAME_BURST,
  rateLimitedFramesBeforeClose: RATE_LIMITED_FRAMES_BEFORE_CLOSE,
  lastSeenWriteIntervalMs: LAST_SEEN_WRITE_INTERVAL_MS,
  clusterCompareIntervalMs: CLUSTER_COMPARE_INTERVAL_MS,
  offlineReconnectGraceMs: RESTART_RECONNECT_GRACE_MS,
};

export interface Gateway {
  /** For the HTTP server's `upgrade` event on `/agent`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Raises the host's generation and sends its whole desired set if it is connected. */
  pushDesired(hostId: string): Promise<PushDesiredResult>;
  /** pushDesired for many hosts, with one transaction for all of them. */
  pushDesiredMany(hostIds: readonly string[]): Promise<void>;
  /** Runs a one-off operation on the host's agent. Rejects with `OpError` (an `AppError`). */
  request<K extends TOperationKind>(
    hostId: string,
    op: Extract<TOperationInput, { kind: K }>,
    options?: OpRequestOptions,
  ): Promise<TOperationResult<K>>;
  /** Sends a build context ahead of the `image.build` request that names `uploadId`. */
  upload(hostId: string, uploadId: string, bytes: Uint8Array): Promise<void>;
  isConnected(hostId: string): boolean;
  connectedHostIds(): string[];
  /** Agents' hellos received here and not yet answered (the replica registry reports it). */
  hellosWaiting(): number;
  /** Closes the host's connection (4410 for a removed host, 4000 otherwise unless `code` says). */
  disconnect(hostId: string, reason?: string, code?: number): boolean;
  /** Registers what runs when this replica marks a host offline (the scheduler reschedules from here). */
  onHostOffline(hook: HostOfflineHook): () => void;
  /**
   * Marking silent hosts offline, a duty: run only while this replica holds
   * the duty lease, fenced by its token (central.ts starts and stops it).
   */
  readonly offlineSweep: {
    start(fence: LeaseFence): void;
    stop(): Promise<void>;
    isRunning(): boolean;
  };
  /**
   * Registers what runs after a host is welcomed (its volumes and networks are
   * read from its engine from here). Runs in the background: the connection
   * does not wait for it, and a failure is logged.
   */
  onHostConnected(hook: HostConnectedHook): () => void;
  /** Starts the per-connection liveness checks (the offline sweep starts under the duty lease). */
  start(): Promise<void>;
  /**
   * SIGTERM: takes no new agents (503 on the upgrade) and closes every agent
   * socket with 4012 "reconnect elsewhere", so agents dial another replica at
   * once. Frames already received are still handled; close() follows.
   */
  drain(): void;
  /**
   * The database went away (false) or came back (true). While it is away
   * agents are closed with 4013 and refused (503) at the upgrade; they spool
   * and redial with their backoff.
   */
  setDatabaseAvailable(available: boolean): void;
  /** Stops accepting, closes agent sockets with 1001, fails operations in flight, flushes writes. */
  close(): Promise<void>;
}

function remoteAddressOf(req: IncomingMessage): string {
  return `${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? "?"}`;
}

/**
 * The address the agent connected from, as users reach the host's published
 * ports: the socket's peer, IPv4-mapped IPv6 written as IPv4. Null when the
 * socket no longer knows it.
 */
export function hostAddressOf(req: IncomingMessage): string | null {
  const address = req.socket.remoteAddress;
  if (!address) return null;
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice("::ffff:".length) : address;
}

export function createGateway(options: GatewayOptions): Gateway {
  const { db, env, bus, metrics } = options;
  const clock: Clock = options.clock ?? systemClock;
  const log = options.log.child({ component: "gateway" });
  const tuning: GatewayTuning = { ...DEFAULT_GATEWAY_TUNING, ...options.tuning };
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, clientTracking: false });
  const sessions = new Set<AgentSession>();
  /** The one live, welcomed connection of each host. */
  const live = new Map<string, AgentSession>();
  const background = new BackgroundWork(log);
  const connectedHooks = new Set<HostConnectedHook>();
  const broker = createOpBroker({ clock, log });
  const monitor = hostLivenessMonitor({
    store: prismaLivenessStore({ db }),
    clock,
    log,
    offlineAfterMs: env.FLEET_OFFLINE_AFTER,
    lastSeenWriteIntervalMs: tuning.lastSeenWriteIntervalMs,
  });
  // Marking hosts offline is a duty: it runs only while this replica holds the duty lease (central.ts).
  const sweeper = offlineSweeper({
    store: prismaOfflineSweepStore({ db, bus }),
    clock,
    log,
    offlineAfterMs: env.FLEET_OFFLINE_AFTER,
    reconnectGraceMs: tuning.offlineReconnectGraceMs,
  });
  let accepting = true;
  let databaseAvailable = true;
  let started = false;

  // A host silent while its socket stays open: drop the socket, the agent redials.
  // On the replica that runs the offline sweep the host is marked offline first, as it always was.
  monitor.onSilent(async (hostId, reason) => {
    if (reason === "silent") await sweeper.sweepNow();
    live.get(hostId)?.terminate();
  });

  const unsubscribeRemoved = bus.subscribe("host.removed", ({ hostId }) => {
    disconnect(hostId, "host removed from the fleet", GATEWAY_CLOSE.hostRemoved);
  });

  const replicaId = options.replicaId ?? "central";
  /** A newer connection of the host was welcomed (here or on another replica): this one is stale. */
  const supersede = (session: AgentSession) => {
    if (session.closed || session.replaced) return;
    session.replaced = true;
    session.sendError("conflict", "a newer connection of this host took over");
    session.close(GATEWAY_CLOSE.replaced, "replaced");
  };
  const { send: sendDesired, deliver: deliverDesired } = createDesiredSender({
    db,
    bus,
    log,
    background,
    stale(session) {
      supersede(session);
      // The generation may have risen under the stale session: the holder sends the set.
      cluster.desiredChanged(session.hostId);
    },
  });
  const cluster = createClusterSync({
    db,
    log,
    replicaId,
    notifier: options.notifier,
    intervalMs: tuning.clusterCompareIntervalMs,
    live,
    sendCurrentDesired: (session) => sendDesired(session, { bump: false }),
    supersede,
    background,
  });

  /** A set raised here for a host held by another replica: that one sends it when it hears (or at its next comparison). */
  const handOver = (hostId: string, snapshot: TDesiredSnapshot) => {
    if (snapshot.connectedReplica && snapshot.connectedReplica !== replicaId) cluster.desiredChanged(hostId);
  };

  // A frame whose writes fail because the database is away waits for it rather than being lost.
  const frameHandler = createSessionFrameHandler({ db, bus, metrics, clock, broker });
  const handleFrame = retryOnConnectionErrors(frameHandler, {
    log,
    abandoned: (session) => session.replaced,
  });

  const handshake = createHelloHandshake({
    db,
    env,
    bus,
    clock,
    monitor,
    live,
    background,
    accepting: () => accepting,
    deliverDesired,
    connectedHooks,
    replicaId,
    cluster,
    supersede,
  });
  const sessionHost: SessionHost = {
    clock,
    log,
    tuning,
    authenticate: handshake.authenticate,
    received(hostId) {
      monitor.seen(hostId);
    },
    handleFrame,
    closed(session, code, reason) {
      sessions.delete(session);
      const hostId = session.hostIdOrNull;
      if (!hostId) return;
      broker.connectionClosed(session.connectionId, `host ${session.hostName || hostId} disconnected`);
      // A replaced connection closing must not unregister the one that replaced it.
      if (live.get(hostId) !== session) return;
      live.delete(hostId);
      monitor.disconnected(hostId);
      // Taken over on another replica: the host is connected there, not disconnected.
      if (session.replaced) return;
      background.track(
        releaseConnection({ db, hostId, replicaId, epoch: session.epoch }).then(async (stillOurs) => {
          if (!stillOurs) return;
          await recordEvent({
            db,
            bus,
            kind: "host.disconnected",
            hostId,
            message: `host ${session.hostName} disconnected (${code}${reason ? `: ${reason}` : ""})`,
            data: { code, reason },
          });
          bus.publish("host.changed", { hostId });
        }),
        "recording a disconnect",
      );
    },
  };

  function disconnect(
    hostId: string,
    reason = "disconnected by the central",
    code: number = GATEWAY_CLOSE.disconnected,
  ): boolean {
    const session = live.get(hostId);
    if (!session) return false;
    session.close(code, reason);
    return true;
  }

  function liveSession(hostId: string): AgentSession {
    const session = live.get(hostId);
    if (!session || session.closed || !session.isOpen()) {
      throw new OpError("offline", `host ${hostId} is offline`);
    }
    return session;
  }

  return {
    handleUpgrade(req, socket, head) {
      let unauthenticated = 0;
      for (const session of sessions) if (session.state === "awaiting-hello") unauthenticated++;
      if (!accepting || !databaseAvailable || unauthenticated >= MAX_UNAUTHENTICATED_SESSIONS) {
        socket.on("error", () => {});
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (!accepting) {
          ws.close(GATEWAY_CLOSE.shutdown, "central shutting down");
          return;
        }
        sessions.add(new AgentSession(ws, sessionHost, remoteAddressOf(req), hostAddressOf(req)));
      });
    },

    async pushDesired(hostId) {
      const session = live.get(hostId);
      if (session && !session.closed) return sendDesired(session);
      const snapshot = await takeDesiredSnapshot({ db, hostId });
      if (snapshot) handOver(hostId, snapshot);
      return {
        generation: snapshot?.generation ?? null,
        sent: false,
        containers: snapshot?.containers.length ?? 0,
      };
    },

    async pushDesiredMany(hostIds) {
      const snapshots = await takeDesiredSnapshots({ db, hostIds });
      for (const [hostId, snapshot] of snapshots) {
        const session = live.get(hostId);
        if (session && !session.closed) deliverDesired(session, snapshot, { bumped: true });
        else handOver(hostId, snapshot);
      }
    },

    async request(hostId, op, requestOptions) {
      return broker.request(liveSession(hostId), op, requestOptions);
    },

    async upload(hostId, uploadId, bytes) {
      await broker.upload(liveSession(hostId), uploadId, bytes);
    },

    hellosWaiting: handshake.waiting,

    isConnected(hostId) {
      const session = live.get(hostId);
      return session !== undefined && !session.closed;
    },

    connectedHostIds() {
      return [...live].filter(([, session]) => !session.closed).map(([hostId]) => hostId);
    },

    disconnect,

    onHostOffline(hook) {
      return sweeper.onHostOffline(hook);
    },

    offlineSweep: {
      start: (fence) => sweeper.start(fence),
      stop: () => sweeper.stop(),
      isRunning: () => sweeper.isRunning(),
    },

    onHostConnected(hook) {
      connectedHooks.add(hook);
      return () => {
        connectedHooks.delete(hook);
      };
    },

    async start() {
      if (started) return;
      started = true;
      await monitor.start();
      cluster.start();
    },

    drain() {
      if (!accepting) return;
      accepting = false;
      const all = [...sessions];
      log.info({ sessions: all.length }, "draining: agents are told to reconnect elsewhere");
      for (const session of all) {
        session.close(AGENT_CLOSE.reconnectElsewhere, "central replica stopping: reconnect now");
      }
    },

    setDatabaseAvailable(available) {
      if (available === databaseAvailable) return;
      databaseAvailable = available;
      if (available) {
        handleFrame.wake();
        return;
      }
      const all = [...sessions];
      log.warn({ sessions: all.length }, "database unreachable: closing agent connections until it is back");
      for (const session of all) {
        session.close(AGENT_CLOSE.databaseUnavailable, "central database unavailable");
      }
    },

    async close() {
      accepting = false;
      unsubscribeRemoved();
      cluster.stop();
      broker.close();
      const all = [...sessions];
      for (const session of all) session.close(GATEWAY_CLOSE.shutdown, "central shutting down");
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS + 500).unref());
      await Promise.race([Promise.all(all.map((session) => session.settled())), deadline]);
      await Promise.race([background.settled(), deadline]);
      await sweeper.stop();
      await monitor.stop();
      wss.close();
    },
  };
}
