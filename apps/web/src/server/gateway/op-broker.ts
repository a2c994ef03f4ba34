// One-off operations (log tails, image pull/list/remove/build/push): an
// `op.request` with a fresh id goes to the host's current connection, the
// agent streams `op.progress` and ends with one `op.result`. The broker pairs
// answers with requests, enforces a timeout on this side too, turns an abort
// into `op.cancel`, and fails whatever is in flight when the connection goes
// (ops are not replayed after a reconnect: the caller retries if it wants).
// It knows connections only as `OpChannel`s, so it is tested without sockets.
import { randomBytes } from "node:crypto";
import type { Clock, TimerHandle } from "@fleet/shared/clock";
import type { TOpProgressFrame, TOpResultFrame } from "@fleet/shared/protocol/agent-to-server";
import { describeIssues } from "@fleet/shared/protocol/frame";
import {
  MAX_OP_TIMEOUT_MS,
  type TOperationErrorCode,
  type TOperationInput,
  type TOperationKind,
  type TOperationResult,
  type TOpProgressData,
  ZOperation,
} from "@fleet/shared/protocol/operations";
import { MAX_UPLOAD_CHUNK_BYTES, type TServerFrame } from "@fleet/shared/protocol/server-to-agent";
import type { Logger } from "pino";
import { AppError, type TAppErrorCode } from "../errors";
import {
  DEFAULT_OP_TIMEOUT_MS,
  MAX_PENDING_OPS_PER_HOST,
  OP_CANCEL_GRACE_MS,
  OP_TIMEOUT_GRACE_MS,
  UPLOAD_HIGH_WATER_BYTES,
} from "./gateway-limits";

/** One live connection, as the broker sees it. */
export interface OpChannel {
  readonly hostId: string;
  readonly connectionId: number;
  /** False when the frame could not be sent (socket closing). */
  send(frame: TServerFrame): boolean;
  /** Bytes queued on the socket and not yet sent. */
  bufferedAmount(): number;
  isOpen(): boolean;
}

export interface OpRequestOptions {
  /** How long the agent may take (default DEFAULT_OP_TIMEOUT_MS, at most a day). */
  timeoutMs?: number;
  onProgress?: (data: TOpProgressData) => void;
  /** Aborting sends `op.cancel`; the request then settles with the agent's answer (or `cancelled`). */
  signal?: AbortSignal;
}

/** Why an operation failed: the agent's own code, or what happened on this side. */
export type TOpFailure = TOperationErrorCode | "offline" | "disconnected" | "rejected";

// Agent codes → AppError codes: the AppError code decides the HTTP status a
// caller sees; `opErrorCode` keeps the agent's precise reason.
const APP_CODE_OF: Record<TOpFailure, TAppErrorCode> = {
  invalid: "BAD_REQUEST",
  not_found: "NOT_FOUND",
  unsupported: "PRECONDITION_FAILED",
  // The engine refused (a pull denied, an image in use): the caller can act on its words.
  engine: "PRECONDITION_FAILED",
  timeout: "INTERNAL_SERVER_ERROR",
  cancelled: "CONFLICT",
  conflict: "CONFLICT",
  internal: "INTERNAL_SERVER_ERROR",
  offline: "PRECONDITION_FAILED",
  disconnected: "PRECONDITION_FAILED",
  rejected: "TOO_MANY_REQUESTS",
};

export class OpError extends AppError {
  override name = "OpError";
  constructor(
    readonly opErrorCode: TOpFailure,
    message: string,
  ) {
    super(APP_CODE_OF[opErrorCode], message);
  }
}

interface PendingOp {
  id: string;
  kind: TOperationKind;
  channel: OpChannel;
  onProgress?: (data: TOpProgressData) => void;
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: TimerHandle | null;
  cleanup(): void;
}

export interface OpBroker {
  request<K extends TOperationKind>(
    channel: OpChannel,
    op: Extract<TOperationInput, { kind: K }>,
    options?: OpRequestOptions,
  ): Promise<TOperationResult<K>>;
  handleProgress(connectionId: number, frame: TOpProgressFrame): void;
  handleResult(connectionId: number, frame: TOpResultFrame): void;
  /** Fails every operation in flight on that connection. */
  connectionClosed(connectionId: number, message: string): void;
  /** Sends `bytes` as `upload.chunk` frames (≤ 512 KiB decoded each), waiting while the socket is backed up. */
  upload(channel: OpChannel, uploadId: string, bytes: Uint8Array): Promise<void>;
  pendingCount(): number;
  close(): void;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export function createOpBroker(options: {
  clock: Clock;
  log: Pick<Logger, "debug" | "warn" | "error">;
}): OpBroker {
  const { clock, log } = options;
  const pending = new Map<string, PendingOp>();
  let closed = false;

  function settle(op: PendingOp): boolean {
    if (pending.get(op.id) !== op) return false;
    pending.delete(op.id);
    if (op.timer !== null) clock.clearTimeout(op.timer);
    op.cleanup();
    return true;
  }

  function fail(op: PendingOp, code: TOpFailure, message: string): void {
    if (settle(op)) op.reject(new OpError(code, message));
  }

  function pendingFor(connectionId: number, id: string): PendingOp | undefined {
    const op = pending.get(id);
    // An answer on another connection (a stale or foreign agent) does not count.
    return op && op.channel.connectionId === connectionId ? op : undefined;
  }

  function newId(): string {
    return `op_${randomBytes(9).toString("base64url")}`;
  }

  async function waitForRoom(channel: OpChannel): Promise<void> {
    while (channel.isOpen() && channel.bufferedAmount() > UPLOAD_HIGH_WATER_BYTES) {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 10));
    }
  }

  return {
    request<K extends TOperationKind>(
      channel: OpChannel,
      input: Extract<TOperationInput, { kind: K }>,
      requestOptions: OpRequestOptions = {},
    ): Promise<TOperationResult<K>> {
      const hostId = channel.hostId;
      if (closed) return Promise.reject(new OpError("offline", "the central is shutting down"));
      const parsed = ZOperation.safeParse(input);
      if (!parsed.success) {
        return Promise.reject(
          new OpError("invalid", `invalid operation: ${describeIssues(parsed.error.issues)}`),
        );
      }
      const op = parsed.data;
      const timeoutMs = requestOptions.timeoutMs ?? DEFAULT_OP_TIMEOUT_MS;
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_OP_TIMEOUT_MS) {
        return Promise.reject(
          new OpError("invalid", `timeoutMs must be a whole number from 1 to ${MAX_OP_TIMEOUT_MS}`),
        );
      }
      const signal = requestOptions.signal;
      if (signal?.aborted) return Promise.reject(new OpError("cancelled", `${op.kind} was cancelled`));
      let inFlight = 0;
      for (const other of pending.values()) if (other.channel.hostId === hostId) inFlight++;
      if (inFlight >= MAX_PENDING_OPS_PER_HOST) {
        return Promise.reject(
          new OpError(
            "rejected",
            `host ${hostId} already has ${inFlight} operations in flight; try again later`,
          ),
        );
      }

      return new Promise<TOperationResult<K>>((resolve, reject) => {
        const id = newId();
        const entry: PendingOp = {
          id,
          kind: op.kind,
          channel,
          ...(requestOptions.onProgress ? { onProgress: requestOptions.onProgress } : {}),
          resolve: resolve as (result: unknown) => void,
          reject,
          timer: null,
          cleanup: () => signal?.removeEventListener("abort", onAbort),
        };
        const onAbort = () => {
          if (pending.get(id) !== entry) return;
          channel.send({ type: "op.cancel", id });
          // The agent still answers (a followed log ends with success); give it a moment.
          if (entry.timer !== null) clock.clearTimeout(entry.timer);
          entry.timer = clock.setTimeout(
            () => fail(entry, "cancelled", `${op.kind} on host ${hostId} was cancelled`),
            OP_CANCEL_GRACE_MS,
          );
        };
        // The agent answers `timeout` itself at timeoutMs; this side waits a little longer.
        entry.timer = clock.setTimeout(() => {
          if (pending.get(id) !== entry) return;
          channel.send({ type: "op.cancel", id });
          fail(entry, "timeout", `${op.kind} on host ${hostId} timed out after ${formatMs(timeoutMs)}`);
        }, timeoutMs + OP_TIMEOUT_GRACE_MS);
        pending.set(id, entry);
        signal?.addEventListener("abort", onAbort, { once: true });
        if (!channel.send({ type: "op.request", id, timeoutMs, op })) {
          fail(entry, "offline", `host ${hostId} is offline`);
        }
      });
    },

    handleProgress(connectionId, frame) {
      const op = pendingFor(connectionId, frame.id);
      if (!op?.onProgress) return;
      try {
        op.onProgress(frame.data);
      } catch (error) {
        log.error({ err: error, opId: frame.id, kind: op.kind }, "an operation's progress handler failed");
      }
    },

    handleResult(connectionId, frame) {
      const op = pendingFor(connectionId, frame.id);
      if (!op) {
        log.debug({ opId: frame.id }, "result for an operation no longer waited for");
        return;
      }
      if (!frame.ok) {
        fail(op, frame.error.code, frame.error.message);
        return;
      }
      if (frame.kind !== op.kind) {
        fail(
          op,
          "internal",
          `host ${op.channel.hostId} answered a ${op.kind} request with a ${frame.kind} result`,
        );
        return;
      }
      if (settle(op)) op.resolve(frame.result);
    },

    connectionClosed(connectionId, message) {
      for (const op of [...pending.values()]) {
        if (op.channel.connectionId === connectionId) fail(op, "disconnected", message);
      }
    },

    async upload(channel, uploadId, bytes) {
      const chunks = Math.max(1, Math.ceil(bytes.byteLength / MAX_UPLOAD_CHUNK_BYTES));
      for (let seq = 0; seq < chunks; seq++) {
        await waitForRoom(channel);
        const start = seq * MAX_UPLOAD_CHUNK_BYTES;
        const piece = bytes.subarray(start, Math.min(bytes.byteLength, start + MAX_UPLOAD_CHUNK_BYTES));
        const data = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).toString("base64");
        const sent = channel.send({ type: "upload.chunk", uploadId, seq, data, final: seq === chunks - 1 });
        if (!sent) {
          throw new OpError("disconnected", `host ${channel.hostId} disconnected during the upload`);
        }
      }
    },

    pendingCount() {
      return pending.size;
    },

    close() {
      closed = true;
      for (const op of [...pending.values()]) fail(op, "disconnected", "the central is shutting down");
    },
  };
}
