// An in-process agent that speaks the real protocol over a real WebSocket to
// a real central: hello → welcome, desired → ack (unless told not to), canned
// answers to operations, and helpers to send statuses, metrics, heartbeats or
// any bytes at all. Every frame the central sends is checked with
// `parseServerFrame`; one that fails lands in `invalidFrames`, which tests
// should expect to stay empty.
//
// May import: node built-ins, `ws`, `@fleet/shared` (protocol and its test
// factories). Nothing from apps/*: it sees the central only through the wire.

import type { THostFacts, THostReserve } from "@fleet/shared/domain/host";
import type {
  TAgentFrame,
  TContainerStatusFrame,
  THeartbeatFrame,
  TMetricsFrame,
  TOpResultFrame,
} from "@fleet/shared/protocol/agent-to-server";
import type { TErrorFrame } from "@fleet/shared/protocol/common";
import { encodeFrame, parseServerFrame } from "@fleet/shared/protocol/frame";
import type { TOpProgressData } from "@fleet/shared/protocol/operations";
import type { TOpRequestFrame, TServerFrame, TServerFrameType } from "@fleet/shared/protocol/server-to-agent";
import {
  makeContainerStatus,
  makeHello,
  makeHostFacts,
  makeHostReserve,
  makeMetrics,
} from "@fleet/shared/protocol/test-factories";
import { PROTOCOL_VERSION } from "@fleet/shared/protocol/version";
import WebSocket from "ws";

const DEFAULT_WAIT_MS = 10_000;

export type TFakeOpAnswer =
  | { ok: true; result: unknown; progress?: TOpProgressData[] }
  | {
      ok: false;
      code: Extract<TOpResultFrame, { ok: false }>["error"]["code"];
      message: string;
      progress?: TOpProgressData[];
    }
  /** Say nothing (for timeout and cancel tests). */
  | { ignore: true };

export interface FakeAgentOptions {
  /** The central's base URL (`http://127.0.0.1:3000`) or the socket URL itself (`ws://…/agent`). */
  url: string;
  joinToken?: string;
  credential?: { hostId: string; credential: string };
  name?: string;
  facts?: Partial<THostFacts>;
  reserve?: Partial<THostReserve>;
  protocolVersion?: number;
  agentVersion?: string;
  /** Acknowledge every `desired` at once (default true). */
  autoAck?: boolean;
  /** Answers to `op.request`; without one the request is ignored. */
  answerOp?: (request: TOpRequestFrame) => TFakeOpAnswer | Promise<TFakeOpAnswer>;
  /** Also answer `op.cancel`: the pending request ends with the error `cancelled` (default true). */
  answerCancel?: boolean;
  /** How long to wait for `welcome` (default 10 s). */
  welcomeTimeoutMs?: number;
}

export class FakeAgentRefusedError extends Error {
  override name = "FakeAgentRefusedError";
  constructor(
    readonly error: TErrorFrame | null,
    readonly closeCode: number,
    readonly closeReason: string,
  ) {
    super(
      `the central refused the agent: ${error?.code ?? "no error frame"} ${error?.message ?? ""} (close ${closeCode} ${closeReason})`,
    );
  }
}

export interface FakeAgent {
  readonly hostId: string;
  /** The credential from the join (or the one connected with). */
  readonly credential: string;
  /** Every frame received, across reconnects, in order. */
  readonly frames: TServerFrame[];
  /** Messages that did not pass `parseServerFrame`, with the parser's reason. */
  readonly invalidFrames: { raw: string; error: string }[];
  /** Close codes of this agent's connections that ended, in order. */
  readonly closes: { code: number; reason: string }[];
  readonly socket: WebSocket;
  isOpen(): boolean;
  /** The first frame of `type` (already received or still to come) that `predicate` accepts. */
  waitFor<T extends TServerFrameType>(
    type: T,
    predicate?: (frame: Extract<TServerFrame, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<TServerFrame, { type: T }>>;
  /** Resolves with the close of the current connection. */
  waitForClose(timeoutMs?: number): Promise<{ code: number; reason: string }>;
  send(frame: TAgentFrame): void;
  sendRaw(data: string | Buffer): void;
  sendStatus(status: Partial<TContainerStatusFrame> & Pick<TContainerStatusFrame, "containerId">): void;
  sendMetrics(overrides?: Partial<TMetricsFrame>): void;
  sendHeartbeat(overrides?: Partial<THeartbeatFrame>): void;
  close(code?: number): Promise<void>;
  /** Closes (if open) and connects again with the credential. */
  reconnect(): Promise<void>;
}

/** `http(s)://host[:port][/base]` → `ws(s)://…/agent`; ws URLs are kept. */
export function agentSocketUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === "ws:" || parsed.protocol === "wss:") return parsed.toString();
  parsed.protocol = parsed.protocol === "https:" ? "wss:" : "ws:";
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, "")}/agent`;
  return parsed.toString();
}

interface Waiter {
  match(frame: TServerFrame): boolean;
  resolve(frame: TServerFrame): void;
}

export async function connectFakeAgent(options: FakeAgentOptions): Promise<FakeAgent> {
  if (!options.joinToken && !options.credential)
    throw new Error("connectFakeAgent needs a joinToken or a credential");
  const frames: TServerFrame[] = [];
  const invalidFrames: { raw: string; error: string }[] = [];
  const closes: { code: number; reason: string }[] = [];
  let waiters: Waiter[] = [];
  let credential = options.credential ?? null;
  let ws!: WebSocket;
  let closed!: Promise<{ code: number; reason: string }>;

  const send = (frame: TAgentFrame) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame(frame));
  };

  const onFrame = async (frame: TServerFrame) => {
    if (frame.type === "desired" && options.autoAck !== false)
      send({ type: "ack", generation: frame.generation });
    if (frame.type === "op.request" && options.answerOp) {
      const answer = await options.answerOp(frame);
      if ("ignore" in answer) return;
      for (const data of answer.progress ?? []) send({ type: "op.progress", id: frame.id, data });
      send(
        answer.ok
          ? ({
              type: "op.result",
              id: frame.id,
              ok: true,
              kind: frame.op.kind,
              result: answer.result,
            } as TOpResultFrame)
          : {
              type: "op.result",
              id: frame.id,
              ok: false,
              error: { code: answer.code, message: answer.message },
            },
      );
    }
    if (frame.type === "op.cancel" && options.answerCancel !== false) {
      send({
        type: "op.result",
        id: frame.id,
        ok: false,
        error: { code: "cancelled", message: "cancelled" },
      });
    }
  };

  const dial = async (): Promise<void> => {
    const auth = credential
      ? ({ kind: "credential", ...credential } as const)
      : ({ kind: "join", joinToken: options.joinToken as string } as const);
    const socket = new WebSocket(agentSocketUrl(options.url), { maxPayload: 4 * 1024 * 1024 });
    ws = socket;
    closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => {
        const entry = { code, reason: reason.toString() };
        closes.push(entry);
        resolve(entry);
      });
    });
    let firstError: TErrorFrame | null = null;
    const welcome = new Promise<Extract<TServerFrame, { type: "welcome" }>>((resolve, reject) => {
      socket.on("message", (data) => {
        const text = data.toString();
        const parsed = parseServerFrame(text);
        if (!parsed.ok) {
          invalidFrames.push({ raw: text.slice(0, 2000), error: parsed.error });
          return;
        }
        const frame = parsed.frame;
        frames.push(frame);
        if (frame.type === "error") firstError ??= frame;
        if (frame.type === "welcome") resolve(frame);
        for (const waiter of [...waiters]) {
          if (waiter.match(frame)) {
            waiters = waiters.filter((other) => other !== waiter);
            waiter.resolve(frame);
          }
        }
        void onFrame(frame).catch(() => {});
      });
      socket.on("error", () => {});
      void closed.then(({ code, reason }) => reject(new FakeAgentRefusedError(firstError, code, reason)));
      const timer = setTimeout(
        () => reject(new Error("no welcome in time")),
        options.welcomeTimeoutMs ?? DEFAULT_WAIT_MS,
      );
      timer.unref();
      void closed.finally(() => clearTimeout(timer));
    });
    // A socket that never opens rejects `welcome` too; the open error is the one reported.
    welcome.catch(() => {});
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    const hello = makeHello({
      protocolVersion: options.protocolVersion ?? PROTOCOL_VERSION,
      auth,
      name: options.name ?? "fake-host",
      facts: makeHostFacts({ hostname: options.name ?? "fake-host", ...options.facts }),
      reserve: makeHostReserve(options.reserve),
      agentVersion: options.agentVersion ?? "0.1.0-fake",
    });
    send(hello);
    const welcomed = await welcome;
    if (welcomed.credential) credential = { hostId: welcomed.hostId, credential: welcomed.credential };
    else credential ??= { hostId: welcomed.hostId, credential: "" };
  };

  await dial();

  const agent: FakeAgent = {
    get hostId() {
      return credential?.hostId ?? "";
    },
    get credential() {
      return credential?.credential ?? "";
    },
    frames,
    invalidFrames,
    closes,
    get socket() {
      return ws;
    },
    isOpen: () => ws.readyState === WebSocket.OPEN,
    waitFor(type, predicate, timeoutMs = DEFAULT_WAIT_MS) {
      type F = Extract<TServerFrame, { type: typeof type }>;
      const match = (frame: TServerFrame): boolean =>
        frame.type === type && (predicate ? predicate(frame as F) : true);
      const already = frames.find(match);
      if (already) return Promise.resolve(already as F);
      return new Promise<F>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((other) => other !== waiter);
          reject(new Error(`no "${type}" frame matching within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter: Waiter = {
          match,
          resolve: (frame) => {
            clearTimeout(timer);
            resolve(frame as F);
          },
        };
        waiters.push(waiter);
      });
    },
    async waitForClose(timeoutMs = DEFAULT_WAIT_MS) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        return await Promise.race([closed, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    send,
    sendRaw(data) {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    },
    sendStatus(status) {
      send(makeContainerStatus({ ts: Date.now(), ...status }));
    },
    sendMetrics(overrides = {}) {
      send(makeMetrics(overrides));
    },
    sendHeartbeat(overrides = {}) {
      send({ type: "heartbeat", ts: Date.now(), containers: 0, ackedGeneration: null, ...overrides });
    },
    async close(code = 1000) {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close(code, "fake agent closing");
      const timer = setTimeout(() => ws.terminate(), 2000);
      await closed;
      clearTimeout(timer);
    },
    async reconnect() {
      await agent.close();
      await dial();
    },
  };
  return agent;
}

/** A bare socket to `/agent` for tests that send anything at all; it records what comes back. */
export interface RawAgentSocket {
  readonly ws: WebSocket;
  /** Text of every message received. */
  readonly received: string[];
  readonly closed: Promise<{ code: number; reason: string }>;
  isOpen(): boolean;
}

export async function openRawAgentSocket(url: string): Promise<RawAgentSocket> {
  const ws = new WebSocket(agentSocketUrl(url), { maxPayload: 4 * 1024 * 1024 });
  const received: string[] = [];
  ws.on("message", (data) => received.push(data.toString()));
  ws.on("error", () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return { ws, received, closed, isOpen: () => ws.readyState === WebSocket.OPEN };
}
