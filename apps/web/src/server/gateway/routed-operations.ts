// One-off operations on any replica: what services get as their
// `AgentOperations` (services/agent/agent-operations.ts). A host whose agent
// is connected to this replica goes to the gateway as before; a host held by
// another replica (the host row's connected_replica, alive by its heartbeat in
// central_replicas) is reached over HTTP: `POST /internal/agent-ops` on that
// replica's PORT, authenticated with the cluster secret, its progress streamed
// back as NDJSON and handed to `onProgress` line by line. Aborting closes the
// request, which cancels the operation there (`op.cancel` to the agent).
// Failures come back as the same `OpError`s a local call gives: `offline`
// when no live replica holds the host, `disconnected` when the holder went
// away during the call, the agent's own codes otherwise.
//
// A replica that answers `not-here` (the agent moved on since the row was
// read) is asked about once more after the row is read again.
//
// May import: db, ../errors, @fleet/shared, the gateway's own modules.

import { describeIssues } from "@fleet/shared/protocol/frame";
import type { TOperationInput, TOperationKind, TOperationResult } from "@fleet/shared/protocol/operations";
import {
  MAX_OP_TIMEOUT_MS,
  type TOperation,
  ZOperation,
  ZOperationResults,
} from "@fleet/shared/protocol/operations";
import type { Logger } from "pino";
import type { PrismaClient } from "../db/client";
import { AppError } from "../errors";
import type { Gateway } from "./gateway";
import { DEFAULT_OP_TIMEOUT_MS, OP_TIMEOUT_GRACE_MS } from "./gateway-limits";
import { OpError, type OpRequestOptions } from "./op-broker";
import {
  AGENT_OPS_PATH,
  AGENT_UPLOAD_PATH,
  callReplica,
  hostHolderOf,
  internalErrorOf,
  MAX_OPS_LINE_BYTES,
  NOT_HERE,
  OPS_SILENCE_LIMIT_MS,
  readResponseBody,
  type TInternalError,
  type TReplicaAddress,
  ZOpsLine,
} from "./replica-calls";

/** Beyond the operation's own timeout and the broker's grace: the holder's answer crosses one more hop. */
const FORWARD_TIMEOUT_EXTRA_MS = 3000;
/** A build context forwarded to the holder (at most 64 MiB on a network between replicas). */
const UPLOAD_FORWARD_TIMEOUT_MS = 5 * 60_000;
/** Error bodies are a few hundred bytes; anything larger is not one. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** What services need (the shape of services/agent/agent-operations.ts's AgentOperations). */
export interface RoutedOperations {
  request<K extends TOperationKind>(
    hostId: string,
    op: Extract<TOperationInput, { kind: K }>,
    options?: OpRequestOptions,
  ): Promise<TOperationResult<K>>;
  upload(hostId: string, uploadId: string, bytes: Uint8Array): Promise<void>;
  /** True when this replica or another live one holds the host's agent connection. */
  isConnected(hostId: string): Promise<boolean>;
}

export interface RoutedOperationsOptions {
  db: PrismaClient;
  /** This replica's gateway: hosts connected here. */
  local: Pick<Gateway, "request" | "upload" | "isConnected">;
  replicaId: string;
  /** The cluster secret (db/cluster-secret.ts). */
  secret: () => Promise<Buffer>;
  log: Pick<Logger, "warn" | "error" | "debug">;
}

type TForwarded<T> = { answer: T } | typeof NOT_HERE;

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export function createRoutedOperations(options: RoutedOperationsOptions): RoutedOperations {
  const { db, local, replicaId, log } = options;
  const offline = (hostId: string) => new OpError("offline", `host ${hostId} is offline`);

  /** The other live replica the row says holds the host (null: none, or the row still names this one). */
  async function holderElsewhere(hostId: string): Promise<TReplicaAddress | null> {
    const holder = await hostHolderOf(db, hostId);
    return holder && holder.id !== replicaId ? holder : null;
  }

  /** The error a replica's failure answer stands for, as a local call would have thrown it. */
  function errorOf(error: TInternalError | null, status: number, hostId: string, holder: string): Error {
    if (error?.opErrorCode) return new OpError(error.opErrorCode, error.message);
    if (error && error.code !== NOT_HERE) return new AppError(error.code, error.message);
    if (status === 401) {
      log.error({ holder }, "another central replica refused this one's cluster secret");
    }
    return new OpError("internal", `the central replica holding host ${hostId} answered ${status}`);
  }

  /** Runs `forward` on the holder; after a `not-here`, reads the row once more and tries its holder. */
  async function routed<T>(
    hostId: string,
    runLocally: () => Promise<T>,
    forward: (holder: TReplicaAddress) => Promise<TForwarded<T>>,
  ): Promise<T> {
    if (local.isConnected(hostId)) return runLocally();
    let holder = await holderElsewhere(hostId);
    for (let attempt = 0; ; attempt++) {
      if (!holder) {
        // It may have connected here since.
        if (local.isConnected(hostId)) return runLocally();
        throw offline(hostId);
      }
      const outcome = await forward(holder);
      if (outcome !== NOT_HERE) return outcome.answer;
      if (attempt > 0) throw offline(hostId);
      const again = await holderElsewhere(hostId);
      holder = again && again.id !== holder.id ? again : null;
    }
  }

  function forwardOp<K extends TOperationKind>(
    holder: TReplicaAddress,
    hostId: string,
    op: TOperation,
    timeoutMs: number,
    requestOptions: OpRequestOptions,
    secret: Buffer,
  ): Promise<TForwarded<TOperationResult<K>>> {
    const { signal, onProgress } = requestOptions;
    const kind = op.kind;
    const abort = new AbortController();
    return new Promise<TForwarded<TOperationResult<K>>>((resolve, reject) => {
      let done = false;
      let silence: ReturnType<typeof setTimeout> | null = null;
      const finish = () => {
        done = true;
        clearTimeout(deadline);
        if (silence) clearTimeout(silence);
        signal?.removeEventListener("abort", onAbort);
      };
      const fail = (error: Error) => {
        if (done) return;
        finish();
        // Ends the request if it is still open: the holder cancels what it runs.
        abort.abort();
        reject(error);
      };
      // The holder's own failure answer: its last line, the request ends by itself.
      const failAnswered = (error: Error) => {
        if (done) return;
        finish();
        reject(error);
      };
      // The holder ends its answer right after the last line: the connection is left to finish and be reused.
      const succeed = (value: TForwarded<TOperationResult<K>>) => {
        if (done) return;
        finish();
        resolve(value);
      };
      const deadline = setTimeout(
        () =>
          fail(new OpError("timeout", `${kind} on host ${hostId} timed out after ${formatMs(timeoutMs)}`)),
        timeoutMs + OP_TIMEOUT_GRACE_MS + FORWARD_TIMEOUT_EXTRA_MS,
      );
      const onAbort = () => fail(new OpError("cancelled", `${kind} on host ${hostId} was cancelled`));
      signal?.addEventListener("abort", onAbort, { once: true });
      const gone = () =>
        new OpError(
          "disconnected",
          `host ${hostId} disconnected: its central replica ${holder.id} went away`,
        );
      const listen = () => {
        if (silence) clearTimeout(silence);
        silence = setTimeout(() => fail(gone()), OPS_SILENCE_LIMIT_MS);
      };

      const body = Buffer.from(JSON.stringify({ hostId, op, timeoutMs }));
      callReplica({
        baseUrl: holder.internalUrl,
        path: AGENT_OPS_PATH,
        secret,
        body,
        contentType: "application/json",
        signal: abort.signal,
      }).then(
        async (response) => {
          if (done) {
            response.destroy();
            return;
          }
          const status = response.statusCode ?? 0;
          if (status !== 200) {
            const error = internalErrorOf(
              await readResponseBody(response, MAX_ERROR_BODY_BYTES).catch(() => null),
            );
            if (status === 404 && error?.code === NOT_HERE) succeed(NOT_HERE);
            else fail(errorOf(error, status, hostId, holder.id));
            return;
          }
          listen();
          response.setEncoding("utf8");
          let pending = "";
          const handleLine = (text: string) => {
            if (text.trim() === "") return;
            let line: ReturnType<typeof ZOpsLine.parse>;
            try {
              line = ZOpsLine.parse(JSON.parse(text));
            } catch {
              fail(
                new OpError("internal", `the central replica holding host ${hostId} sent a malformed answer`),
              );
              return;
            }
            if ("progress" in line) {
              try {
                onProgress?.(line.progress);
              } catch (error) {
                log.error({ err: error, kind }, "an operation's progress handler failed");
              }
            } else if ("result" in line) {
              const result = ZOperationResults[kind].safeParse(line.result);
              if (result.success) succeed({ answer: result.data as TOperationResult<K> });
              else fail(new OpError("internal", `host ${hostId} answered ${kind} with an invalid result`));
            } else if ("error" in line) {
              failAnswered(errorOf(line.error, status, hostId, holder.id));
            }
          };
          response.on("data", (chunk: string) => {
            if (done) return;
            listen();
            pending += chunk;
            let newline = pending.indexOf("\n");
            while (newline !== -1 && !done) {
              handleLine(pending.slice(0, newline));
              pending = pending.slice(newline + 1);
              newline = pending.indexOf("\n");
            }
            if (pending.length > MAX_OPS_LINE_BYTES) {
              fail(
                new OpError(
                  "internal",
                  `the central replica holding host ${hostId} sent an oversized answer`,
                ),
              );
            }
          });
          response.once("end", () => {
            if (pending.trim() !== "") handleLine(pending);
            fail(gone());
          });
          response.on("error", () => fail(gone()));
          response.once("close", () => fail(gone()));
        },
        (error: unknown) => {
          if (done) return;
          log.debug({ err: error, holder: holder.id, hostId }, "calling the replica holding a host failed");
          fail(
            new OpError(
              "offline",
              `host ${hostId} is offline: its central replica ${holder.id} does not answer`,
            ),
          );
        },
      );
    });
  }

  async function forwardUpload(
    holder: TReplicaAddress,
    hostId: string,
    uploadId: string,
    bytes: Uint8Array,
  ): Promise<TForwarded<undefined>> {
    const secret = await options.secret();
    const signal = AbortSignal.timeout(UPLOAD_FORWARD_TIMEOUT_MS);
    let response: Awaited<ReturnType<typeof callReplica>>;
    try {
      response = await callReplica({
        baseUrl: holder.internalUrl,
        path: AGENT_UPLOAD_PATH,
        query: { hostId, uploadId },
        secret,
        body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        contentType: "application/octet-stream",
        signal,
      });
    } catch (error) {
      log.debug(
        { err: error, holder: holder.id, hostId },
        "sending a build context to another replica failed",
      );
      throw new OpError("disconnected", `host ${hostId} disconnected during the upload`);
    }
    const status = response.statusCode ?? 0;
    const body = await readResponseBody(response, MAX_ERROR_BODY_BYTES).catch(() => null);
    if (status === 204 || status === 200) return { answer: undefined };
    const error = internalErrorOf(body);
    if (status === 404 && error?.code === NOT_HERE) return NOT_HERE;
    throw errorOf(error, status, hostId, holder.id);
  }

  return {
    async request<K extends TOperationKind>(
      hostId: string,
      input: Extract<TOperationInput, { kind: K }>,
      requestOptions: OpRequestOptions = {},
    ): Promise<TOperationResult<K>> {
      return routed(
        hostId,
        () => local.request(hostId, input, requestOptions),
        async (holder) => {
          // Checked here as the broker checks them, so a refusal reads the same wherever the host is.
          const parsed = ZOperation.safeParse(input);
          if (!parsed.success) {
            throw new OpError("invalid", `invalid operation: ${describeIssues(parsed.error.issues)}`);
          }
          const timeoutMs = requestOptions.timeoutMs ?? DEFAULT_OP_TIMEOUT_MS;
          if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_OP_TIMEOUT_MS) {
            throw new OpError("invalid", `timeoutMs must be a whole number from 1 to ${MAX_OP_TIMEOUT_MS}`);
          }
          if (requestOptions.signal?.aborted) {
            throw new OpError("cancelled", `${parsed.data.kind} was cancelled`);
          }
          const secret = await options.secret();
          return forwardOp<K>(holder, hostId, parsed.data, timeoutMs, requestOptions, secret);
        },
      );
    },

    async upload(hostId, uploadId, bytes) {
      await routed(
        hostId,
        () => local.upload(hostId, uploadId, bytes),
        (holder) => forwardUpload(holder, hostId, uploadId, bytes),
      );
    },

    async isConnected(hostId) {
      if (local.isConnected(hostId)) return true;
      return (await holderElsewhere(hostId)) !== null;
    },
  };
}
