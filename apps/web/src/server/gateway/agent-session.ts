// One agent connection, from upgrade to close. Nothing an agent sends can
// throw out of here: every frame is size-checked and parsed before use, every
// handler runs inside a catch, and frames are handled one at a time in
// arrival order (a status must not overtake the one before it).
//
// Life of a session: `awaiting-hello` (a deadline runs; the first frame must
// be a valid `hello`, anything else closes) → `authenticating` → `ready`
// (registered as its host's one live connection) or `refused`. Closing is
// separate from the state: frames that arrived before the close are still
// handled, unless a newer connection of the host has replaced this one.

import type { Clock, TimerHandle } from "@fleet/shared/clock";
import type { TAgentFrame, THelloFrame } from "@fleet/shared/protocol/agent-to-server";
import { MAX_MESSAGE_LENGTH, type TFrameErrorCode } from "@fleet/shared/protocol/common";
import { encodeFrame, parseAgentFrame } from "@fleet/shared/protocol/frame";
import type { TServerFrame } from "@fleet/shared/protocol/server-to-agent";
import { AGENT_CLOSE, PROTOCOL_VERSION } from "@fleet/shared/protocol/version";
import type { Logger } from "pino";
import WebSocket from "ws";
import { TokenBucket, WindowCounter } from "./flood-guards";
import { CLOSE_GRACE_MS, GATEWAY_CLOSE } from "./gateway-limits";
import type { GatewayTuning } from "./gateway-options";
import type { OpChannel } from "./op-broker";
import { postgresSafe } from "./postgres-safe-text";

/** Frames waiting to be handled before the socket stops being read. */
const PAUSE_QUEUE_AT = 64;
/** A peer that keeps sending while paused (ws still emits what it had parsed) is cut off here. */
const MAX_QUEUED_FRAMES = 1024;
/**
 * Closes after which what the agent sent before it saw the close is still
 * read and handled: the agent counts those frames as sent (a metrics batch
 * left its spool), and nothing is wrong with them.
 */
const CLOSES_THAT_KEEP_READING = new Set<number>([
  AGENT_CLOSE.reconnectElsewhere,
  AGENT_CLOSE.databaseUnavailable,
  GATEWAY_CLOSE.shutdown,
]);
/** Only every this many rate-limited frames gets an `error` answer, so a flood is not echoed. */
const RATE_LIMIT_ANSWER_EVERY = 50;

export type TSessionState = "awaiting-hello" | "authenticating" | "ready" | "refused";

/** What a session needs from its gateway. */
export interface SessionHost {
  readonly clock: Clock;
  readonly log: Logger;
  readonly tuning: GatewayTuning;
  /** Checks the hello and, on success, makes the session its host's live connection and welcomes it. */
  authenticate(session: AgentSession, hello: THelloFrame): Promise<void>;
  /**
   * A valid frame arrived from an authenticated host. Called on receipt, before the
   * frame waits in the session's queue, so a host whose frames queue behind slow
   * ingest is still seen as alive.
   */
  received(hostId: string): void;
  /** A frame from a session in `ready` state. */
  handleFrame(session: AgentSession, frame: Exclude<TAgentFrame, THelloFrame>): Promise<void>;
  closed(session: AgentSession, code: number, reason: string): void;
}

function trimMessage(text: string): string {
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text;
}

let nextConnectionId = 1;

export class AgentSession implements OpChannel {
  readonly connectionId = nextConnectionId++;
  state: TSessionState = "awaiting-hello";
  /** Set once authenticated. */
  hostId = "";
  hostName = "";
  /** The newest `desired` generation sent on this connection; an older snapshot is never sent after it. */
  lastSentGeneration = -1;
  /**
   * The newest generation a snapshot was taken for on this connection, sent or
   * not (a set too large for one frame is not sent): the periodic comparison
   * sends a set only when the host's generation rose above it.
   */
  lastSnapshotGeneration = -1;
  /** The newest generation the agent acknowledged on this connection. */
  lastAckedGeneration = -1;
  /**
   * The host's connection epoch this connection was welcomed with
   * (hosts.connection_epoch). Its writes for the host apply only while the row
   * still holds it: a newer connection, on any replica, fences this one out.
   */
  epoch = 0;
  /** A newer connection of the same host took over (here or on another replica): what is still queued here is stale. */
  replaced = false;
  closed = false;
  readonly log: Logger;

  private readonly bucket: TokenBucket;
  private readonly badFrames: WindowCounter;
  private readonly rateLimited: WindowCounter;
  private rateLimitedTotal = 0;
  private helloTimer: TimerHandle | null = null;
  private queue: TAgentFrame[] = [];
  private draining = false;
  private paused = false;
  private idleWaiters: (() => void)[] = [];
  private forceTimer: NodeJS.Timeout | null = null;
  /** Closing with one of CLOSES_THAT_KEEP_READING: frames still arriving are accepted. */
  private readsWhileClosing = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly host: SessionHost,
    readonly remoteAddress: string,
    /** The peer's IP address alone, stored as the host's `address` once it is welcomed. */
    readonly hostAddress: string | null = null,
  ) {
    const now = host.clock.now();
    this.log = host.log.child({ connectionId: this.connectionId, remote: remoteAddress });
    this.bucket = new TokenBucket(host.tuning.frameRatePerSecond, host.tuning.frameBurst, now);
    this.badFrames = new WindowCounter(host.tuning.badFrameLimit, host.tuning.badFrameWindowMs);
    this.rateLimited = new WindowCounter(
      host.tuning.rateLimitedFramesBeforeClose,
      host.tuning.badFrameWindowMs,
    );
    this.helloTimer = host.clock.setTimeout(() => {
      this.helloTimer = null;
      if (this.state === "awaiting-hello") {
        this.sendError("bad_frame", `no hello within ${host.tuning.helloTimeoutMs} ms`);
        this.close(GATEWAY_CLOSE.helloTimeout, "no hello in time");
      }
    }, host.tuning.helloTimeoutMs);
    ws.on("message", (data) => this.onMessage(data));
    ws.on("error", (error) => this.log.debug({ err: error }, "agent socket error"));
    ws.on("close", (code, reason) => this.onClose(code, reason.toString()));
  }

  get hostIdOrNull(): string | null {
    return this.hostId === "" ? null : this.hostId;
  }

  // ---- OpChannel -------------------------------------------------------------

  send(frame: TServerFrame): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    let text: string;
    try {
      text = encodeFrame(frame);
    } catch (error) {
      this.log.error({ err: error, type: frame.type }, "frame not sent");
      return false;
    }
    this.ws.send(text);
    return true;
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  // ---- lifecycle -------------------------------------------------------------

  sendError(code: TFrameErrorCode, message: string, ref?: string): void {
    this.send({
      type: "error",
      code,
      message: trimMessage(message),
      ...(ref ? { ref: ref.slice(0, 128) } : {}),
    });
  }

  /** Closes with a code and reason; a peer that does not finish the closing handshake is cut off. */
  close(code: number, reason: string): void {
    this.clearHelloTimer();
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
      return;
    }
    if (this.ws.readyState === WebSocket.OPEN) {
      this.readsWhileClosing = CLOSES_THAT_KEEP_READING.has(code);
      this.ws.close(code, reason.slice(0, 120));
    }
    if (!this.forceTimer) {
      this.forceTimer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
      this.forceTimer.unref();
    }
  }

  terminate(): void {
    this.clearHelloTimer();
    this.ws.terminate();
  }

  /** Resolves once the socket is closed and every queued frame was handled. */
  async settled(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => this.ws.once("close", () => resolve()));
    }
    if (!this.draining && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private clearHelloTimer(): void {
    if (this.helloTimer !== null) this.host.clock.clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }

  private onClose(code: number, reason: string): void {
    this.clearHelloTimer();
    if (this.forceTimer) clearTimeout(this.forceTimer);
    this.closed = true;
    this.log.debug({ code, reason, state: this.state }, "agent socket closed");
    try {
      this.host.closed(this, code, reason);
    } catch (error) {
      this.log.error({ err: error }, "cleaning up a closed session failed");
    }
  }

  // ---- input -----------------------------------------------------------------

  private onMessage(data: WebSocket.RawData): void {
    try {
      this.accept(data);
    } catch (error) {
      // Parsing never throws; this guards the bookkeeping around it.
      this.log.error({ err: error }, "handling an agent message failed");
    }
  }

  private accept(data: WebSocket.RawData): void {
    const readable =
      this.ws.readyState === WebSocket.OPEN ||
      (this.readsWhileClosing && this.ws.readyState === WebSocket.CLOSING);
    if (this.closed || this.state === "refused" || !readable) return;
    const now = this.host.clock.now();
    if (!this.bucket.tryTake(now)) {
      this.rateLimitedTotal++;
      if (this.rateLimited.hit(now)) {
        this.log.warn({ rateLimited: this.rateLimitedTotal }, "agent flooding; closing");
        this.close(GATEWAY_CLOSE.flooding, "too many frames");
      } else if (this.rateLimitedTotal % RATE_LIMIT_ANSWER_EVERY === 1) {
        this.sendError("rate_limited", "too many frames; this one was dropped");
      }
      return;
    }
    // Text and binary alike: the parser checks the size, then decodes UTF-8 strictly.
    const parsed = parseAgentFrame(data);
    if (!parsed.ok) {
      this.badFrame(parsed.error, now);
      return;
    }
    const frame = parsed.frame;
    if (this.state === "awaiting-hello") {
      if (frame.type !== "hello") {
        this.sendError("bad_frame", `the first frame must be "hello", not "${frame.type}"`, frame.type);
        this.close(GATEWAY_CLOSE.badFrames, "hello expected");
        return;
      }
      this.clearHelloTimer();
      this.state = "authenticating";
    } else if (frame.type === "hello") {
      this.badFrame("hello was already received on this connection", now);
      return;
    }
    if (this.hostId !== "") this.host.received(this.hostId);
    // Metrics carry only pattern-checked ids and numbers; everything else may hold text Postgres refuses.
    this.enqueue(frame.type === "metrics" ? frame : postgresSafe(frame));
  }

  private badFrame(error: string, now: number): void {
    this.sendError("bad_frame", error);
    // Before hello a peer has earned no patience: one bad frame closes.
    if (this.state === "awaiting-hello") {
      this.close(GATEWAY_CLOSE.badFrames, "hello expected");
      return;
    }
    if (this.badFrames.hit(now)) {
      this.log.warn({ error }, "too many malformed frames; closing");
      this.close(GATEWAY_CLOSE.badFrames, "too many malformed frames");
    }
  }

  private enqueue(frame: TAgentFrame): void {
    if (this.queue.length >= MAX_QUEUED_FRAMES) {
      this.close(GATEWAY_CLOSE.flooding, "too many frames waiting");
      return;
    }
    this.queue.push(frame);
    if (this.queue.length >= PAUSE_QUEUE_AT && !this.paused) {
      this.paused = true;
      this.ws.pause();
    }
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let frame = this.queue.shift(); frame; frame = this.queue.shift()) {
        if (this.paused && this.queue.length < PAUSE_QUEUE_AT / 2) {
          this.paused = false;
          this.ws.resume();
        }
        await this.handle(frame);
      }
    } finally {
      this.draining = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async handle(frame: TAgentFrame): Promise<void> {
    try {
      if (frame.type === "hello") {
        await this.host.authenticate(this, frame);
        return;
      }
      // Frames of a refused or replaced session are dropped.
      if (this.state !== "ready" || this.replaced) return;
      await this.host.handleFrame(this, frame);
    } catch (error) {
      this.log.error({ err: error, type: frame.type }, "handling an agent frame failed");
      if (frame.type === "hello") {
        this.sendError("internal", "the central could not complete the hello; try again", "hello");
        this.close(GATEWAY_CLOSE.internal, "hello failed");
      } else {
        this.sendError("internal", `handling "${frame.type}" failed`, frame.type);
      }
    }
  }

  /** Marks the session welcomed (called by the gateway once the host is registered). */
  becomeReady(hostId: string, hostName: string): void {
    this.hostId = hostId;
    this.hostName = hostName;
    this.state = "ready";
    this.log.setBindings({ hostId });
  }

  static protocolMismatch(hello: THelloFrame): string | null {
    if (hello.protocolVersion === PROTOCOL_VERSION) return null;
    return `the central speaks protocol version ${PROTOCOL_VERSION}, this agent ${hello.protocolVersion}; upgrade the ${
      hello.protocolVersion < PROTOCOL_VERSION ? "agent" : "central"
    }`;
  }
}
