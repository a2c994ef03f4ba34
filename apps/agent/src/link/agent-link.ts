/**
 * The agent's one connection to the central: a WebSocket to `<server>/agent`
 * that the agent dials (nothing listens on a host). It says `hello`, waits for
 * `welcome`, then sends heartbeats, statuses, events, metric batches and
 * operation replies, and hands every checked server frame to the agent.
 *
 * It never gives up on its own: a lost connection is redialled with
 * exponential backoff and full jitter, reset once a connection has stayed up
 * for a while. A close "reconnect elsewhere" (AGENT_CLOSE, a central replica
 * stopping) is redialled at once instead, then a few times at short random
 * intervals, before the backoff applies. The only fatal outcome is a rejected join token, which no
 * retry can fix. Metric batches that cannot go out (link down, or the send
 * buffer past its bound) wait in a bounded spool and are drained, oldest
 * first and paced, once the link is back.
 *
 * May import: ws, @fleet/shared protocol, the clock/backoff helpers, pino types.
 */
import { randomBytes } from "node:crypto";
import { rootCertificates } from "node:tls";
import { type Clock, systemClock, type TimerHandle } from "@fleet/shared/clock";
import type {
  TAgentAuth,
  TAgentFrame,
  TEventFrame,
  THelloFrame,
  TMetricsFrame,
} from "@fleet/shared/protocol/agent-to-server";
import { MAX_MESSAGE_LENGTH } from "@fleet/shared/protocol/common";
import { encodeFrame, parseServerFrame } from "@fleet/shared/protocol/frame";
import type { TServerFrame, TWelcomeFrame } from "@fleet/shared/protocol/server-to-agent";
import {
  AGENT_CLOSE,
  AGENT_RECONNECT_MAX_MS,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
} from "@fleet/shared/protocol/version";
import type { Logger } from "pino";
import WebSocket from "ws";
import { ExponentialBackoff } from "../backoff";
import { defaultSpoolLimits, MetricsSpool, type SpoolLimits } from "./metrics-spool";
import { pinnedTlsConnect, ServerPinMismatchError } from "./pinned-tls";

/** Close codes that mean the hello was refused: RFC 6455 "policy violation", and the central's own 4401. */
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_UNAUTHORIZED = 4401;
/** Samples per metrics frame; keeps a frame well under MAX_FRAME_BYTES (a sample is about 500 bytes of JSON). */
export const MAX_SAMPLES_PER_FRAME = 1000;
/** Frames held while a welcome is being handled; the central sends one snapshot, maybe a few operations. */
const MAX_EARLY_FRAMES = 64;

export interface LinkTuning {
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** A connection up this long resets the reconnect backoff. */
  stableConnectionMs: number;
  /** How long to wait for `welcome` after `hello`. */
  welcomeTimeoutMs: number;
  /** How long the TCP/TLS/HTTP upgrade may take. */
  handshakeTimeoutMs: number;
  /** Past this many unsent bytes in the socket, metric batches go to the spool instead. */
  maxBufferedBytes: number;
  /** Spool drain pacing: at most `drainBatchesPerTick` batches every `drainIntervalMs`. */
  drainIntervalMs: number;
  drainBatchesPerTick: number;
  /** Events kept while disconnected (oldest dropped first). */
  maxQueuedEvents: number;
  /** The connection is declared dead after this many heartbeat intervals without a word from the central. */
  deadAfterHeartbeats: number;
  /**
   * After a close "reconnect elsewhere" (a central replica stopping): this many
   * attempts without backoff, the first at once, the rest after a random wait
   * of at most `fastRedialJitterMs`; the usual backoff only after them.
   */
  fastRedialAttempts: number;
  fastRedialJitterMs: number;
}

export const DEFAULT_LINK_TUNING: LinkTuning = {
  reconnectInitialMs: 500,
  reconnectMaxMs: AGENT_RECONNECT_MAX_MS,
  stableConnectionMs: 30_000,
  welcomeTimeoutMs: 15_000,
  handshakeTimeoutMs: 10_000,
  maxBufferedBytes: 4 * 1024 * 1024,
  drainIntervalMs: 250,
  drainBatchesPerTick: 4,
  maxQueuedEvents: 1000,
  deadAfterHeartbeats: 3,
  fastRedialAttempts: 4,
  fastRedialJitterMs: 250,
};

/** What goes into `hello` besides the type, version and auth. */
export type THelloBody = Omit<THelloFrame, "type" | "protocolVersion" | "auth">;

export interface AgentLinkOptions {
  serverUrl: string;
  /** Extra CA certificate (PEM) trusted for wss:// besides the system roots. */
  caPem?: string | null;
  /**
   * `sha256//…` of the central's public key (read on every dial): the only
   * key accepted, checked before anything is sent; replaces CA validation.
   */
  serverPin?: () => string | null;
  /** How to authenticate on the next connection (read on every dial: a join becomes a credential). */
  auth: () => TAgentAuth;
  hello: () => Promise<THelloBody>;
  /** Runs before the link counts as up; the agent stores a new credential here. */
  onWelcome: (welcome: TWelcomeFrame, usedAuth: TAgentAuth) => Promise<void>;
  /** The link is up (after `onWelcome`): the agent resends every container's status here. */
  onReady?: () => void;
  /** Every checked frame after the welcome except errors. */
  onFrame: (frame: Exclude<TServerFrame, TWelcomeFrame>) => void;
  /** The connection is gone; in-flight operations are void. */
  onDisconnect?: () => void;
  heartbeat: () => { containers: number; ackedGeneration: number | null };
  /** Observes each redial delay (for logs and tests). */
  onReconnectScheduled?: (delayMs: number) => void;
  log: Logger;
  clock?: Clock;
  random?: () => number;
  tuning?: Partial<LinkTuning>;
  spoolLimits?: SpoolLimits;
  /** Sizes the default spool (ten minutes of batches). */
  metricsIntervalMs?: number;
}

/** The join token was refused: nothing but a new token can fix that. */
export class JoinRejectedError extends Error {
  override name = "JoinRejectedError";
}

type LinkState = "idle" | "connecting" | "awaiting-welcome" | "ready" | "waiting" | "stopped";

/** `http(s)://host/base` → `ws(s)://host/base/agent`. */
export function agentSocketUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/agent`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

function trimMessage(text: string): string {
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text;
}

export class AgentLink {
  private readonly tuning: LinkTuning;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly backoff: ExponentialBackoff;
  private readonly spool: MetricsSpool<TMetricsFrame>;
  private readonly queuedEvents: TEventFrame[] = [];
  private droppedEvents = 0;

  private state: LinkState = "idle";
  private ws: WebSocket | null = null;
  private usedAuth: TAgentAuth | null = null;
  private authRejected: string | null = null;
  private welcome: TWelcomeFrame | null = null;
  private welcoming = false;
  private earlyFrames: Exclude<TServerFrame, TWelcomeFrame | { type: "error" }>[] = [];
  private lastHeardAt = 0;
  private timers = new Set<TimerHandle>();
  private heartbeatTimer: TimerHandle | null = null;
  private drainTimer: TimerHandle | null = null;
  private batchSeq = 0;
  private readonly batchPrefix = randomBytes(4).toString("hex");
  private connections = 0;
  /** Attempts left without backoff (set by a "reconnect elsewhere" close, cleared by a welcome). */
  private fastRedialsLeft = 0;
  private fastRedialsMade = 0;
  private readonly random: () => number;
  private resolveDone!: () => void;
  private rejectDone!: (error: Error) => void;
  /** Settles when the link stops for good: resolves after stop(), rejects on a fatal error. */
  readonly done: Promise<void>;

  constructor(private readonly opts: AgentLinkOptions) {
    this.tuning = { ...DEFAULT_LINK_TUNING, ...opts.tuning };
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log.child({ component: "link" });
    this.random = opts.random ?? Math.random;
    this.backoff = new ExponentialBackoff(
      { initialMs: this.tuning.reconnectInitialMs, maxMs: this.tuning.reconnectMaxMs, jitter: "full" },
      opts.random,
    );
    this.spool = new MetricsSpool<TMetricsFrame>(
      opts.spoolLimits ?? defaultSpoolLimits(opts.metricsIntervalMs ?? 5000),
      (frame) => frame.containers.length + (frame.host ? 1 : 0),
    );
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A fatal error is also logged; callers that never await `done` must not crash the process.
    this.done.catch(() => {});
  }

  /** True between `welcome` and the connection's end. */
  get isReady(): boolean {
    return this.state === "ready";
  }

  /** The settings of the current connection's welcome. */
  get settings(): TWelcomeFrame["settings"] | null {
    return this.welcome?.settings ?? null;
  }

  /** How many times a connection reached `welcome`. */
  get connectionCount(): number {
    return this.connections;
  }

  get spooledBatches(): number {
    return this.spool.size;
  }

  /** The socket's send buffer is past its bound: senders of bulk data should hold back. */
  get congested(): boolean {
    return (this.ws?.bufferedAmount ?? 0) > this.tuning.maxBufferedBytes;
  }

  /**
   * Ready and the socket still open: once the central has begun to close it
   * (a replica draining) nothing more can be sent on it, though `close` has
   * not fired yet.
   */
  private get canSend(): boolean {
    return this.state === "ready" && this.ws?.readyState === WebSocket.OPEN;
  }

  start(): void {
    if (this.state !== "idle") return;
    this.connect();
  }

  /** Stops sending, closes the socket cleanly and never reconnects. */
  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    this.clearAllTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 2000);
        force.unref();
        ws.once("close", () => {
          clearTimeout(force);
          resolve();
        });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, "agent shutting down");
      });
    }
    this.resolveDone();
  }

  /**
   * Sends a frame now if the link is up. Events are queued (bounded) while it
   * is down; statuses are not, since all of them are resent after each welcome,
   * and operation frames belong to a connection that no longer exists.
   */
  send(frame: TAgentFrame): boolean {
    if (this.state !== "ready") {
      if (frame.type === "event") this.queueEvent(frame);
      return false;
    }
    return this.write(frame);
  }

  /** Hands over one sampling sweep; it is sent now, or spooled while the link is down or congested. */
  sendMetrics(batch: Pick<TMetricsFrame, "containers" | "host">): void {
    const frames: TMetricsFrame[] = [];
    for (let i = 0; i === 0 || i < batch.containers.length; i += MAX_SAMPLES_PER_FRAME) {
      frames.push({
        type: "metrics",
        batchId: `${this.batchPrefix}-${++this.batchSeq}`,
        containers: batch.containers.slice(i, i + MAX_SAMPLES_PER_FRAME),
        host: i === 0 ? batch.host : null,
        droppedSamples: 0,
      });
    }
    for (const frame of frames) {
      // Spooled batches go first so the central receives samples in order.
      if (this.canSend && this.spool.isEmpty && !this.congested) this.writeMetrics(frame);
      else this.spool.push(frame);
    }
    if (this.canSend && !this.spool.isEmpty) this.scheduleDrain(0);
  }

  // ---- connection ----------------------------------------------------------

  private connect(): void {
    if (this.state === "stopped") return;
    this.state = "connecting";
    this.authRejected = null;
    this.earlyFrames = [];
    const auth = this.opts.auth();
    this.usedAuth = auth;
    let url: string;
    try {
      url = agentSocketUrl(this.opts.serverUrl);
    } catch (error) {
      this.fatal(new Error(`invalid server URL ${this.opts.serverUrl}: ${String(error)}`));
      return;
    }
    const pin = this.opts.serverPin?.() ?? null;
    if (pin !== null && !url.startsWith("wss:")) {
      this.fatal(new Error(`the central's key is pinned, so ${this.opts.serverUrl} must be an https:// URL`));
      return;
    }
    this.log.info({ url, auth: auth.kind, pinned: pin !== null }, "connecting to the central");
    const ws = new WebSocket(url, {
      handshakeTimeout: this.tuning.handshakeTimeoutMs,
      maxPayload: 2 * MAX_FRAME_BYTES,
      ...(pin !== null
        ? {
            createConnection: pinnedTlsConnect(
              pin,
              this.tuning.handshakeTimeoutMs,
            ) as unknown as WebSocket.ClientOptions["createConnection"],
          }
        : this.opts.caPem
          ? { ca: [...rootCertificates, this.opts.caPem] }
          : {}),
    });
    this.ws = ws;

    ws.on("open", () => void this.onOpen(ws));
    ws.on("message", (data) => this.onMessage(ws, data));
    ws.on("pong", () => {
      this.lastHeardAt = this.clock.now();
    });
    ws.on("unexpected-response", (_req, res) => {
      // The central may refuse the upgrade itself instead of closing with 1008.
      if (res.statusCode === 401 || res.statusCode === 403) {
        this.authRejected = `HTTP ${res.statusCode} on the WebSocket upgrade`;
      }
      this.log.warn({ statusCode: res.statusCode }, "the central refused the WebSocket upgrade");
      ws.terminate();
    });
    ws.on("error", (error) => {
      if (error instanceof ServerPinMismatchError) {
        this.log.error(
          { address: error.address, pinned: error.expected, presented: error.presented },
          `REFUSED THE CENTRAL: ${error.message}`,
        );
        return;
      }
      this.log.warn({ err: error }, "link error");
    });
    ws.on("close", (code, reason) => this.onClose(ws, code, reason.toString()));
  }

  private async onOpen(ws: WebSocket): Promise<void> {
    if (this.ws !== ws || this.state === "stopped") return;
    this.state = "awaiting-welcome";
    this.lastHeardAt = this.clock.now();
    const welcomeTimer = this.setTimer(() => {
      if (this.ws === ws && this.state === "awaiting-welcome") {
        this.log.warn(
          { timeoutMs: this.tuning.welcomeTimeoutMs },
          "no welcome from the central; reconnecting",
        );
        ws.terminate();
      }
    }, this.tuning.welcomeTimeoutMs);
    ws.once("close", () => this.clearTimer(welcomeTimer));
    let body: THelloBody;
    try {
      body = await this.opts.hello();
    } catch (error) {
      this.log.error({ err: error }, "could not assemble hello; reconnecting");
      ws.terminate();
      return;
    }
    if (this.ws !== ws || ws.readyState !== WebSocket.OPEN || !this.usedAuth) return;
    const hello: THelloFrame = {
      type: "hello",
      protocolVersion: PROTOCOL_VERSION,
      auth: this.usedAuth,
      ...body,
    };
    this.writeTo(ws, hello);
  }

  private onMessage(ws: WebSocket, data: WebSocket.RawData): void {
    if (this.ws !== ws) return;
    this.lastHeardAt = this.clock.now();
    const parsed = parseServerFrame(data);
    if (!parsed.ok) {
      this.log.warn({ error: parsed.error }, "malformed frame from the central");
      this.writeTo(ws, { type: "error", code: "bad_frame", message: trimMessage(parsed.error) });
      return;
    }
    const frame = parsed.frame;
    if (frame.type === "error") {
      this.onErrorFrame(frame);
      return;
    }
    if (frame.type === "welcome") {
      void this.onWelcome(ws, frame);
      return;
    }
    if (this.state !== "ready") {
      // The central may send its first snapshot right behind the welcome, while the welcome is still
      // being handled (credential stored, containers adopted): hold it until the link is up.
      if (this.earlyFrames.length >= MAX_EARLY_FRAMES) {
        this.log.warn({ type: frame.type }, "too many frames before welcome; dropping");
        return;
      }
      this.earlyFrames.push(frame);
      return;
    }
    this.deliver(ws, frame);
  }

  private deliver(ws: WebSocket, frame: Exclude<TServerFrame, TWelcomeFrame | { type: "error" }>): void {
    try {
      this.opts.onFrame(frame);
    } catch (error) {
      this.log.error({ err: error, type: frame.type }, "handling a frame failed");
      this.writeTo(ws, {
        type: "error",
        code: "internal",
        message: trimMessage(`handling "${frame.type}" failed: ${String(error)}`),
        ref: frame.type,
      });
    }
  }

  private onErrorFrame(frame: Extract<TServerFrame, { type: "error" }>): void {
    if (frame.code === "unauthorized") {
      this.authRejected = frame.message;
      return;
    }
    const level = frame.code === "version_mismatch" || frame.code === "conflict" ? "error" : "warn";
    this.log[level](
      { code: frame.code, message: frame.message, ref: frame.ref },
      "the central reported an error",
    );
  }

  private async onWelcome(ws: WebSocket, welcome: TWelcomeFrame): Promise<void> {
    if (this.state !== "awaiting-welcome" || !this.usedAuth || this.welcoming) {
      this.log.warn("unexpected welcome ignored");
      return;
    }
    this.welcoming = true;
    try {
      await this.acceptWelcome(ws, welcome, this.usedAuth);
    } finally {
      this.welcoming = false;
    }
  }

  private async acceptWelcome(ws: WebSocket, welcome: TWelcomeFrame, usedAuth: TAgentAuth): Promise<void> {
    if (welcome.protocolVersion !== PROTOCOL_VERSION) {
      this.log.error(
        { theirs: welcome.protocolVersion, ours: PROTOCOL_VERSION },
        "the central speaks another protocol version; reconnecting later",
      );
      ws.close(1002, "protocol version mismatch");
      return;
    }
    try {
      await this.opts.onWelcome(welcome, usedAuth);
    } catch (error) {
      this.log.error({ err: error }, "handling welcome failed; reconnecting");
      ws.terminate();
      return;
    }
    if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
    this.welcome = welcome;
    this.state = "ready";
    this.connections++;
    this.fastRedialsLeft = 0;
    this.log.info(
      { hostId: welcome.hostId, settings: welcome.settings, spooled: this.spool.size },
      "connected to the central",
    );
    const stableTimer = this.setTimer(() => {
      if (this.ws === ws && this.state === "ready") this.backoff.reset();
    }, this.tuning.stableConnectionMs);
    ws.once("close", () => this.clearTimer(stableTimer));
    this.flushQueuedEvents();
    try {
      this.opts.onReady?.();
    } catch (error) {
      this.log.error({ err: error }, "onReady failed");
    }
    for (const frame of this.earlyFrames.splice(0)) {
      if (this.ws === ws && this.state === "ready") this.deliver(ws, frame);
    }
    this.scheduleHeartbeat(ws);
    if (!this.spool.isEmpty) this.scheduleDrain(0);
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.ws = null;
    const wasReady = this.state === "ready";
    this.welcome = null;
    if (this.heartbeatTimer) this.clearTimer(this.heartbeatTimer);
    if (this.drainTimer) this.clearTimer(this.drainTimer);
    this.heartbeatTimer = null;
    this.drainTimer = null;
    if (this.state === "stopped") return;
    if (wasReady) this.opts.onDisconnect?.();

    const refusedByCode = code === CLOSE_UNAUTHORIZED || (code === CLOSE_POLICY_VIOLATION && !wasReady);
    const rejected = this.authRejected ?? (refusedByCode ? reason || "unauthorized" : null);
    if (rejected !== null && this.usedAuth?.kind === "join") {
      this.fatal(
        new JoinRejectedError(
          `the central rejected the join token (${rejected}); create a new join token and start the agent with it`,
        ),
      );
      return;
    }
    if (code === AGENT_CLOSE.reconnectElsewhere && rejected === null) {
      // The replica is stopping on purpose and another one can take the link now.
      this.fastRedialsLeft = this.tuning.fastRedialAttempts;
      this.fastRedialsMade = 0;
    }
    const delay = this.nextRedialDelayMs();
    if (code === AGENT_CLOSE.reconnectElsewhere && rejected === null) {
      this.log.info({ reason, spooled: this.spool.size }, "the central replica is stopping; redialling now");
    } else if (code === AGENT_CLOSE.databaseUnavailable) {
      this.log.warn(
        { reason, retryInMs: delay, spooled: this.spool.size },
        "the central lost its database; spooling and reconnecting",
      );
    } else if (rejected !== null) {
      this.log.error(
        { reason: rejected, retryInMs: delay },
        "THE CENTRAL REJECTED THIS HOST'S CREDENTIAL; retrying in case it is being restored (re-join with a new token if this persists)",
      );
    } else {
      this.log.warn({ code, reason, wasReady, retryInMs: delay }, "link closed; reconnecting");
    }
    this.state = "waiting";
    this.opts.onReconnectScheduled?.(delay);
    this.setTimer(() => this.connect(), delay);
  }

  /** Without backoff while fast redials are left (the first at once), the usual backoff after them. */
  private nextRedialDelayMs(): number {
    if (this.fastRedialsLeft <= 0) return this.backoff.nextDelayMs();
    this.fastRedialsLeft--;
    const first = this.fastRedialsMade++ === 0;
    return first ? 0 : Math.floor(this.random() * this.tuning.fastRedialJitterMs);
  }

  private fatal(error: Error): void {
    this.log.fatal({ err: error }, error.message);
    this.state = "stopped";
    this.clearAllTimers();
    this.ws?.terminate();
    this.ws = null;
    this.rejectDone(error);
  }

  // ---- periodic work -------------------------------------------------------

  private scheduleHeartbeat(ws: WebSocket): void {
    const interval = this.welcome?.settings.heartbeatIntervalMs ?? 10_000;
    this.heartbeatTimer = this.setTimer(() => {
      this.heartbeatTimer = null;
      if (this.ws !== ws || this.state !== "ready") return;
      const silentFor = this.clock.now() - this.lastHeardAt;
      if (silentFor > interval * this.tuning.deadAfterHeartbeats) {
        this.log.warn({ silentForMs: silentFor }, "the central stopped answering; reconnecting");
        ws.terminate();
        return;
      }
      const { containers, ackedGeneration } = this.opts.heartbeat();
      this.write({ type: "heartbeat", ts: this.clock.now(), containers, ackedGeneration });
      // Pongs prove the peer alive even when it has nothing to say.
      ws.ping();
      this.scheduleHeartbeat(ws);
    }, interval);
  }

  private scheduleDrain(delayMs: number): void {
    if (this.drainTimer) return;
    this.drainTimer = this.setTimer(() => {
      this.drainTimer = null;
      this.drainSome();
    }, delayMs);
  }

  private drainSome(): void {
    if (!this.canSend) return;
    for (
      let i = 0;
      i < this.tuning.drainBatchesPerTick && !this.spool.isEmpty && !this.congested && this.canSend;
      i++
    ) {
      const frame = this.spool.shift()!;
      this.writeMetrics(frame);
    }
    if (!this.spool.isEmpty) this.scheduleDrain(this.tuning.drainIntervalMs);
    else this.log.debug("metrics spool drained");
  }

  private writeMetrics(frame: TMetricsFrame): void {
    const dropped = this.spool.takeDroppedSamples();
    const out = dropped > 0 ? { ...frame, droppedSamples: frame.droppedSamples + dropped } : frame;
    if (!this.write(out)) {
      // The socket closed under it: the batch waits for the next connection, as if it had never left.
      this.spool.unshift(frame);
      this.spool.addDropped(dropped);
      return;
    }
    if (dropped > 0)
      this.log.warn({ droppedSamples: dropped }, "metric samples were dropped while the link was down");
  }

  private queueEvent(frame: TEventFrame): void {
    this.queuedEvents.push(frame);
    if (this.queuedEvents.length > this.tuning.maxQueuedEvents) {
      this.queuedEvents.shift();
      this.droppedEvents++;
    }
  }

  private flushQueuedEvents(): void {
    if (this.droppedEvents > 0) {
      this.write({
        type: "event",
        ts: this.clock.now(),
        kind: "agent.warning",
        message: `${this.droppedEvents} events were dropped while the link was down`,
        data: { droppedEvents: this.droppedEvents },
      });
      this.droppedEvents = 0;
    }
    for (const frame of this.queuedEvents.splice(0)) this.write(frame);
  }

  // ---- plumbing ------------------------------------------------------------

  private write(frame: TAgentFrame): boolean {
    const ws = this.ws;
    if (!ws) return false;
    return this.writeTo(ws, frame);
  }

  private writeTo(ws: WebSocket, frame: TAgentFrame): boolean {
    if (ws.readyState !== WebSocket.OPEN) return false;
    let text: string;
    try {
      text = encodeFrame(frame);
    } catch (error) {
      this.log.error({ err: error, type: frame.type }, "frame not sent");
      return false;
    }
    ws.send(text);
    return true;
  }

  private setTimer(fn: () => void, ms: number): TimerHandle {
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(handle);
      fn();
    }, ms);
    this.timers.add(handle);
    return handle;
  }

  private clearTimer(handle: TimerHandle): void {
    this.clock.clearTimeout(handle);
    this.timers.delete(handle);
  }

  private clearAllTimers(): void {
    for (const handle of this.timers) this.clock.clearTimeout(handle);
    this.timers.clear();
    this.heartbeatTimer = null;
    this.drainTimer = null;
  }
}
