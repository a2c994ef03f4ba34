// The gateway: the `/agent` WebSocket endpoint and the rest of the central's
// one way to talk to agents. It keeps one live connection per host (a new one
// replaces the old), welcomes hosts, keeps their desired set pushed, records
// what they report, brokers one-off operations and watches their liveness.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type Clock, systemClock } from "@fleet/shared/clock";
import type { TAgentFrame, THelloFrame } from "@fleet/shared/protocol/agent-to-server";
import type { TOperationInput, TOperationKind, TOperationResult } from "@fleet/shared/protocol/operations";
import { MAX_FRAME_BYTES, PROTOCOL_VERSION } from "@fleet/shared/protocol/version";
import { WebSocketServer } from "ws";
import { recordEvent } from "../events/record-event";
import { AgentSession, type SessionHost } from "./agent-session";
import { applyContainerStatus, recordAgentEvent } from "./container-status";
import { recordAck, takeDesiredSnapshot } from "./desired-state";
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
import { authenticateHello } from "./host-auth";
import { type HostOfflineHook, hostLivenessMonitor, prismaLivenessStore } from "./liveness";
import { createOpBroker, OpError, type OpRequestOptions } from "./op-broker";

/** Sockets that have not said `hello` yet; more are refused at the upgrade. */
const MAX_UNAUTHENTICATED_SESSIONS = 1000;
/** The welcome's interval settings must lie in the protocol's range. */
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;

export const DEFAULT_GATEWAY_TUNING: GatewayTuning = {
  helloTimeoutMs: HELLO_TIMEOUT_MS,
  badFrameLimit: BAD_FRAME_LIMIT,
  badFrameWindowMs: BAD_FRAME_WINDOW_MS,
  frameRatePerSecond: FRAME_RATE_PER_SECOND,
  frameBurst: FRAME_BURST,
  rateLimitedFramesBeforeClose: RATE_LIMITED_FRAMES_BEFORE_CLOSE,
  lastSeenWriteIntervalMs: LAST_SEEN_WRITE_INTERVAL_MS,
};

export interface PushDesiredResult {
  /** The generation the host's desired set now has (null: no such host). */
  generation: number | null;
  /** Whether it went out on a live connection (otherwise it goes out at the next welcome). */
  sent: boolean;
  containers: number;
}

export interface Gateway {
  /** For the HTTP server's `upgrade` event on `/agent`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Raises the host's generation and sends its whole desired set if it is connected. */
  pushDesired(hostId: string): Promise<PushDesiredResult>;
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
  /** Closes the host's connection (4410 for a removed host, 4000 otherwise unless `code` says). */
  disconnect(hostId: string, reason?: string, code?: number): boolean;
  /** Registers what runs when a host is marked offline (the scheduler reschedules from here). */
  onHostOffline(hook: HostOfflineHook): () => void;
  /**
   * Registers what runs after a host is welcomed (its volumes and networks are
   * read from its engine from here). Runs in the background: the connection
   * does not wait for it, and a failure is logged.
   */
  onHostConnected(hook: HostConnectedHook): () => void;
  /** Starts the liveness monitor (hosts left online by a previous run get their grace). */
  start(): Promise<void>;
  /** Stops accepting, closes agent sockets with 1001, fails operations in flight, flushes writes. */
  close(): Promise<void>;
}

function clampInterval(ms: number): number {
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.round(ms)));
}

export type HostConnectedHook = (host: { hostId: string; hostName: string }) => Promise<void>;

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
  const background = new Set<Promise<unknown>>();
  const connectedHooks = new Set<HostConnectedHook>();
  const broker = createOpBroker({ clock, log });
  const monitor = hostLivenessMonitor({
    store: prismaLivenessStore({ db, bus }),
    clock,
    log,
    offlineAfterMs: env.FLEET_OFFLINE_AFTER,
    lastSeenWriteIntervalMs: tuning.lastSeenWriteIntervalMs,
  });
  let accepting = true;
  let started = false;

  /** Work that outlives the frame that caused it; close() waits for it. */
  function track(work: Promise<unknown>, what: string): void {
    const guarded = work.catch((error: unknown) => log.error({ err: error }, `${what} failed`));
    background.add(guarded);
    void guarded.finally(() => background.delete(guarded));
  }

  // A host silent while its socket stays open: drop the socket, the agent redials.
  monitor.onSilent((hostId) => {
    live.get(hostId)?.terminate();
  });

  const unsubscribeRemoved = bus.subscribe("host.removed", ({ hostId }) => {
    disconnect(hostId, "host removed from the fleet", GATEWAY_CLOSE.hostRemoved);
  });

  async function sendDesired(session: AgentSession): Promise<PushDesiredResult> {
    const snapshot = await takeDesiredSnapshot({ db, hostId: session.hostId });
    if (!snapshot) return { generation: null, sent: false, containers: 0 };
    for (const invalid of snapshot.invalid) {
      log.error(
        { hostId: session.hostId, ...invalid },
        "container left out of the desired set: invalid spec",
      );
      track(
        recordEvent({
          db,
          bus,
          kind: "container.invalid-spec",
          severity: "error",
          hostId: session.hostId,
          containerId: invalid.containerId,
          message: `container ${invalid.name} cannot be sent to its host: ${invalid.error}`,
        }),
        "recording an invalid spec",
      );
    }
    const result = { generation: snapshot.generation, sent: false, containers: snapshot.containers.length };
    if (snapshot.tooMany) {
      // A cut set would make the agent remove the rest; keep the last one it has.
      log.error({ hostId: session.hostId }, "desired set exceeds one frame; not sent");
      return result;
    }
    // Two pushes may finish out of order; the agent must never see a generation go down.
    if (session.closed || session.replaced || snapshot.generation <= session.lastSentGeneration)
      return result;
    const sent = session.send({
      type: "desired",
      generation: snapshot.generation,
      containers: snapshot.containers,
      bindMountPrefixes: snapshot.bindMountPrefixes,
    });
    if (sent) session.lastSentGeneration = snapshot.generation;
    return { ...result, sent };
  }

  const sessionHost: SessionHost = {
    clock,
    log,
    tuning,

    async authenticate(session: AgentSession, hello: THelloFrame) {
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
      if (session.closed || !accepting) {
        // Gone while we checked: the host counts as connected, then disconnected.
        monitor.connected(outcome.hostId);
        monitor.disconnected(outcome.hostId);
        session.state = "refused";
        track(
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
      // Always after a welcome: whatever changed while the host was away converges now.
      await sendDesired(session);
      const connected = { hostId: outcome.hostId, hostName: outcome.hostName };
      if (session.hostAddress !== null) {
        track(
          db.host.updateMany({ where: { id: outcome.hostId }, data: { address: session.hostAddress } }),
          "storing a host's address",
        );
      }
      for (const hook of connectedHooks) track(hook(connected), "after-connect work");
    },

    received(hostId) {
      monitor.seen(hostId);
    },

    async handleFrame(session, frame: Exclude<TAgentFrame, THelloFrame>) {
      const hostId = session.hostId;
      const now = new Date(clock.now());
      switch (frame.type) {
        case "heartbeat":
          // The heartbeat repeats the last ack: it heals a lost `ack` frame.
          if (frame.ackedGeneration !== null && frame.ackedGeneration > session.lastAckedGeneration) {
            session.lastAckedGeneration = frame.ackedGeneration;
            await recordAck({ db, hostId, generation: frame.ackedGeneration });
          }
          return;
        case "ack":
          if (frame.generation > session.lastAckedGeneration) session.lastAckedGeneration = frame.generation;
          if (await recordAck({ db, hostId, generation: frame.generation })) {
            bus.publish("host.changed", { hostId });
          }
          return;
        case "container.status": {
          const outcome = await applyContainerStatus({ db, bus, hostId, frame, now });
          if (outcome === "not-on-host") {
            session.log.debug(
              { containerId: frame.containerId },
              "status for a container not on this host ignored",
            );
          }
          return;
        }
        case "metrics":
          await metrics.ingest(hostId, frame);
          return;
        case "event":
          await recordAgentEvent({ db, bus, hostId, frame, now });
          return;
        case "op.progress":
          broker.handleProgress(session.connectionId, frame);
          return;
        case "op.result":
          broker.handleResult(session.connectionId, frame);
          return;
        case "error":
          // No answer: two peers answering each other's errors would loop.
          session.log.warn(
            { code: frame.code, message: frame.message, ref: frame.ref },
            "agent reported an error",
          );
          return;
      }
    },

    closed(session, code, reason) {
      sessions.delete(session);
      const hostId = session.hostIdOrNull;
      if (!hostId) return;
      broker.connectionClosed(session.connectionId, `host ${session.hostName || hostId} disconnected`);
      if (live.get(hostId) !== session) return;
      live.delete(hostId);
      monitor.disconnected(hostId);
      track(
        recordEvent({
          db,
          bus,
          kind: "host.disconnected",
          hostId,
          message: `host ${session.hostName} disconnected (${code}${reason ? `: ${reason}` : ""})`,
          data: { code, reason },
        }).then(() => bus.publish("host.changed", { hostId })),
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
      if (!accepting || unauthenticated >= MAX_UNAUTHENTICATED_SESSIONS) {
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
      return {
        generation: snapshot?.generation ?? null,
        sent: false,
        containers: snapshot?.containers.length ?? 0,
      };
    },

    async request(hostId, op, requestOptions) {
      return broker.request(liveSession(hostId), op, requestOptions);
    },

    async upload(hostId, uploadId, bytes) {
      await broker.upload(liveSession(hostId), uploadId, bytes);
    },

    isConnected(hostId) {
      const session = live.get(hostId);
      return session !== undefined && !session.closed;
    },

    connectedHostIds() {
      return [...live].filter(([, session]) => !session.closed).map(([hostId]) => hostId);
    },

    disconnect,

    onHostOffline(hook) {
      return monitor.onHostOffline(hook);
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
    },

    async close() {
      accepting = false;
      unsubscribeRemoved();
      broker.close();
      const all = [...sessions];
      for (const session of all) session.close(GATEWAY_CLOSE.shutdown, "central shutting down");
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS + 500).unref());
      await Promise.race([Promise.all(all.map((session) => session.settled())), deadline]);
      await Promise.race([Promise.all([...background]), deadline]);
      await monitor.stop();
      wss.close();
    },
  };
}
