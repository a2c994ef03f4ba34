/**
 * `/internal/*` on PORT: what the other central replicas on the same database
 * ask of this one (gateway/replica-calls.ts has the wire, the callers are
 * gateway/routed-operations.ts and uploads.ts):
 *
 * - `POST /internal/agent-ops` `{hostId, op, timeoutMs?}`: runs a one-off
 *   operation on the agent connected here and streams NDJSON back:
 *   `{"progress": …}` lines, then `{"result": …}` or `{"error": {code,
 *   opErrorCode, message}}`, with `{}` as a keep-alive while nothing else
 *   comes. The caller closing the request cancels the operation.
 * - `POST /internal/agent-upload?hostId=…&uploadId=…`, the raw bytes as the
 *   body: a build context sent on to the agent connected here.
 * - `POST /internal/uploads/take` `{uploadId, userId}`: the bytes of an upload
 *   held here (`POST /api/uploads` landed on this replica), removed from the
 *   store; only the user who sent it can take it.
 * - `POST /internal/jobs/watch` `{jobId, kind, caller, after}` and
 *   `POST /internal/jobs/cancel` `{jobId, caller}`: an image job (pull, build)
 *   held here, watched (NDJSON `{"message": {seq, value}}` lines, then
 *   `{"end": true}` or `{"error": …}`) or cancelled for a caller of another
 *   replica, who sees what they would see here (routed-image-jobs.ts).
 *
 * Every call carries the cluster secret (db/cluster-secret.ts) in
 * CLUSTER_SECRET_HEADER; without it the answer is 401 and no body is read.
 * A host that is not connected here is answered 404 `not-here` (the caller
 * reads the host row again). The load balancer refuses `/internal/` from
 * outside; the secret is what holds when something reaches PORT directly.
 *
 * May import: the gateway (its Gateway type), `./uploads`,
 * `./routed-image-jobs`, `./errors`, `./logger`, @fleet/shared, node
 * built-ins.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ZWireId } from "@fleet/shared/protocol/common";
import { describeIssues } from "@fleet/shared/protocol/frame";
import { MAX_OP_TIMEOUT_MS, ZOperation } from "@fleet/shared/protocol/operations";
import { isAppError, type TAppErrorCode } from "./errors";
import type { Gateway } from "./gateway/gateway";
import {
  AGENT_OPS_PATH,
  AGENT_UPLOAD_PATH,
  CLUSTER_SECRET_HEADER,
  MAX_OPS_BODY_BYTES,
  MAX_TAKE_BODY_BYTES,
  NOT_HERE,
  OPS_KEEPALIVE_MS,
  type TInternalError,
  UPLOAD_TAKE_PATH,
  ZAgentOpsRequest,
  ZHostIdParam,
  ZUploadTakeRequest,
} from "./gateway/replica-calls";
import type { Logger } from "./logger";
import {
  JOB_CANCEL_PATH,
  JOB_WATCH_PATH,
  MAX_JOB_CALL_BODY_BYTES,
  type RoutedImageJobs,
  ZJobCancelRequest,
  ZJobWatchRequest,
} from "./routed-image-jobs";
import { MAX_UPLOAD_BYTES, type UploadStore } from "./uploads";

/** Progress lines wait while this much is unsent to the caller; past it they are dropped (as a slow reader's are). */
const STREAM_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** The longest secret header looked at. */
const MAX_SECRET_HEADER_LENGTH = 1024;

export interface InternalEndpointDeps {
  gateway: Pick<Gateway, "request" | "upload" | "isConnected">;
  uploads: Pick<UploadStore, "takeHeld">;
  /** Image jobs held here. */
  imageJobs: Pick<RoutedImageJobs, "held">;
  /** The cluster secret (db/cluster-secret.ts). */
  secret: () => Promise<Buffer>;
  log: Logger;
  maxUploadBytes?: number;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendError(res: ServerResponse, status: number, error: TInternalError, close = false): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    ...(close ? { connection: "close" } : {}),
  });
  res.end(JSON.stringify({ error: error }));
}

const sha256 = (value: Buffer | string) => createHash("sha256").update(value).digest();

/** The secret as sent equals ours: compared as digests, so neither its length nor its bytes show in the timing. */
function secretMatches(given: string | undefined, secret: Buffer): boolean {
  if (given === undefined || given.length === 0 || given.length > MAX_SECRET_HEADER_LENGTH) return false;
  return timingSafeEqual(sha256(given), sha256(secret));
}

type TBody = { body: Buffer } | { tooLarge: true };

async function readBody(req: IncomingMessage, limit: number): Promise<TBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) return { tooLarge: true };
    chunks.push(chunk);
  }
  return { body: Buffer.concat(chunks, size) };
}

/** The declared length is over `limit` (checked before reading). */
function declaredTooLarge(req: IncomingMessage, limit: number): boolean {
  const declared = Number(header(req, "content-length") ?? Number.NaN);
  return Number.isFinite(declared) && declared > limit;
}

function tooLarge(res: ServerResponse, limit: number): void {
  sendError(res, 413, { code: "BAD_REQUEST", message: `the body is larger than ${limit} bytes` }, true);
}

function badRequest(res: ServerResponse, message: string): void {
  sendError(res, 400, { code: "BAD_REQUEST", message });
}

function notHere(res: ServerResponse, hostId: string, close = false): void {
  sendError(res, 404, { code: NOT_HERE, message: `host ${hostId} is not connected to this replica` }, close);
}

/** A JSON body of at most `limit` bytes, or null once the refusal is sent. */
async function readJson(req: IncomingMessage, res: ServerResponse, limit: number): Promise<unknown | null> {
  if (declaredTooLarge(req, limit)) {
    tooLarge(res, limit);
    return null;
  }
  const read = await readBody(req, limit);
  if ("tooLarge" in read) {
    tooLarge(res, limit);
    return null;
  }
  try {
    return JSON.parse(read.body.toString("utf8"));
  } catch {
    badRequest(res, "the body is not JSON");
    return null;
  }
}

/** How an error a local call threw crosses to the caller. */
function internalErrorOf(error: unknown): TInternalError {
  if (!isAppError(error)) return { code: "INTERNAL_SERVER_ERROR", message: "internal error" };
  const opErrorCode = (error as { opErrorCode?: unknown }).opErrorCode;
  return {
    code: error.code,
    message: error.message.slice(0, 8192),
    ...(typeof opErrorCode === "string" ? { opErrorCode: opErrorCode as TInternalError["opErrorCode"] } : {}),
  };
}

/** The status an error a local call threw is answered with, before any line of a stream. */
function statusOf(code: TAppErrorCode): number {
  if (code === "NOT_FOUND") return 404;
  if (code === "BAD_REQUEST") return 400;
  if (code === "FORBIDDEN") return 403;
  return 409;
}

const isOffline = (error: unknown) =>
  isAppError(error) && (error as { opErrorCode?: unknown }).opErrorCode === "offline";

export function createInternalHandler(
  deps: InternalEndpointDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { gateway, uploads, log } = deps;
  const jobs = deps.imageJobs.held;
  const maxUploadBytes = deps.maxUploadBytes ?? MAX_UPLOAD_BYTES;

  async function agentOps(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = await readJson(req, res, MAX_OPS_BODY_BYTES);
    if (json === null) return;
    const parsed = ZAgentOpsRequest.safeParse(json);
    if (!parsed.success) return badRequest(res, describeIssues(parsed.error.issues));
    const { hostId, timeoutMs } = parsed.data;
    const op = ZOperation.safeParse(parsed.data.op);
    if (!op.success) return badRequest(res, `invalid operation: ${describeIssues(op.error.issues)}`);
    if (timeoutMs !== undefined && timeoutMs > MAX_OP_TIMEOUT_MS) {
      return badRequest(res, `timeoutMs must be a whole number from 1 to ${MAX_OP_TIMEOUT_MS}`);
    }
    if (!gateway.isConnected(hostId)) return notHere(res, hostId);

    const cancel = new AbortController();
    res.once("close", () => {
      if (!res.writableEnded) cancel.abort();
    });
    const write = (line: unknown) => {
      if (res.writableEnded || res.destroyed) return;
      if (!res.headersSent) {
        res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
      }
      res.write(`${JSON.stringify(line)}\n`);
    };
    const keepalive = setInterval(() => write({}), OPS_KEEPALIVE_MS);
    let dropped = 0;
    try {
      const result = await gateway.request(hostId, op.data, {
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        signal: cancel.signal,
        onProgress: (data) => {
          if (res.writableLength > STREAM_HIGH_WATER_BYTES) dropped++;
          else write({ progress: data });
        },
      });
      write({ result });
      res.end();
    } catch (error) {
      if (!isAppError(error)) log.error({ err: error, hostId }, "an operation for another replica failed");
      // Nothing sent yet and the agent gone: the caller reads the row again.
      if (!res.headersSent && isOffline(error)) notHere(res, hostId);
      else {
        write({ error: internalErrorOf(error) });
        res.end();
      }
    } finally {
      clearInterval(keepalive);
      if (dropped > 0)
        log.warn({ hostId, dropped }, "progress lines dropped: the calling replica reads slowly");
    }
  }

  async function agentUpload(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
  ): Promise<void> {
    const hostId = ZHostIdParam.safeParse(query.get("hostId"));
    const uploadId = ZWireId.safeParse(query.get("uploadId"));
    if (!hostId.success || !uploadId.success) {
      return sendError(res, 400, { code: "BAD_REQUEST", message: "hostId and uploadId are needed" }, true);
    }
    if (declaredTooLarge(req, maxUploadBytes)) return tooLarge(res, maxUploadBytes);
    if (!gateway.isConnected(hostId.data)) return notHere(res, hostId.data, true);
    const read = await readBody(req, maxUploadBytes);
    if ("tooLarge" in read) return tooLarge(res, maxUploadBytes);
    if (read.body.byteLength === 0) return badRequest(res, "the upload is empty");
    try {
      await gateway.upload(hostId.data, uploadId.data, read.body);
      res.writeHead(204, { "cache-control": "no-store" }).end();
    } catch (error) {
      if (!isAppError(error)) log.error({ err: error }, "an upload for another replica failed");
      if (isOffline(error)) notHere(res, hostId.data);
      else sendError(res, 502, internalErrorOf(error));
    }
  }

  async function uploadTake(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = await readJson(req, res, MAX_TAKE_BODY_BYTES);
    if (json === null) return;
    const parsed = ZUploadTakeRequest.safeParse(json);
    if (!parsed.success) return badRequest(res, describeIssues(parsed.error.issues));
    const bytes = uploads.takeHeld(parsed.data.uploadId, parsed.data.userId);
    if (!bytes) {
      return sendError(res, 404, { code: "NOT_FOUND", message: `no upload ${parsed.data.uploadId} here` });
    }
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": String(bytes.byteLength),
      "cache-control": "no-store",
    });
    res.end(bytes);
  }

  async function jobWatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = await readJson(req, res, MAX_JOB_CALL_BODY_BYTES);
    if (json === null) return;
    const parsed = ZJobWatchRequest.safeParse(json);
    if (!parsed.success) return badRequest(res, describeIssues(parsed.error.issues));
    const stop = new AbortController();
    const closed = new Promise<void>((resolve) =>
      res.once("close", () => {
        if (!res.writableEnded) stop.abort();
        resolve();
      }),
    );
    let started = false;
    const write = async (line: unknown) => {
      if (res.writableEnded || res.destroyed) return;
      if (!started) {
        res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
        started = true;
      }
      // The watch is read as the caller reads: a slow caller holds it back, nothing piles up here.
      if (!res.write(`${JSON.stringify(line)}\n`)) {
        await Promise.race([new Promise((resolve) => res.once("drain", resolve)), closed]);
      }
    };
    const keepalive = setInterval(() => {
      if (started && res.writableLength === 0) void write({});
    }, OPS_KEEPALIVE_MS);
    try {
      for await (const message of jobs.watch({ ...parsed.data, signal: stop.signal })) {
        await write({ message });
        if (stop.signal.aborted) return;
      }
      await write({ end: true });
      res.end();
    } catch (error) {
      if (!isAppError(error)) log.error({ err: error }, "watching an image job for another replica failed");
      const failure = internalErrorOf(error);
      if (!started && isAppError(error)) sendError(res, statusOf(error.code), failure);
      else {
        await write({ error: failure });
        res.end();
      }
    } finally {
      clearInterval(keepalive);
    }
  }

  async function jobCancel(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = await readJson(req, res, MAX_JOB_CALL_BODY_BYTES);
    if (json === null) return;
    const parsed = ZJobCancelRequest.safeParse(json);
    if (!parsed.success) return badRequest(res, describeIssues(parsed.error.issues));
    try {
      const answer = jobs.cancel(parsed.data);
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(answer));
    } catch (error) {
      if (!isAppError(error)) throw error;
      sendError(res, statusOf(error.code), internalErrorOf(error));
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://internal");
    const route =
      url.pathname === AGENT_OPS_PATH
        ? "ops"
        : url.pathname === AGENT_UPLOAD_PATH
          ? "upload"
          : url.pathname === UPLOAD_TAKE_PATH
            ? "take"
            : url.pathname === JOB_WATCH_PATH
              ? "job-watch"
              : url.pathname === JOB_CANCEL_PATH
                ? "job-cancel"
                : null;
    // Who calls comes first: nothing about the routes shows to a caller without the secret.
    let secret: Buffer;
    try {
      secret = await deps.secret();
    } catch (error) {
      log.warn({ err: error }, "reading the cluster secret failed");
      return sendError(
        res,
        503,
        { code: "INTERNAL_SERVER_ERROR", message: "the database is unavailable" },
        true,
      );
    }
    if (!secretMatches(header(req, CLUSTER_SECRET_HEADER), secret)) {
      return sendError(
        res,
        401,
        { code: "UNAUTHORIZED", message: "internal calls need the cluster secret" },
        true,
      );
    }
    if (route === null) return sendError(res, 404, { code: "NOT_FOUND", message: "no such internal call" });
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return sendError(res, 405, { code: "BAD_REQUEST", message: "internal calls are POSTs" }, true);
    }
    if (route === "ops") return agentOps(req, res);
    if (route === "upload") return agentUpload(req, res, url.searchParams);
    if (route === "job-watch") return jobWatch(req, res);
    if (route === "job-cancel") return jobCancel(req, res);
    return uploadTake(req, res);
  };

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error, url: req.url }, "an internal call failed");
      sendError(res, 500, { code: "INTERNAL_SERVER_ERROR", message: "internal error" }, true);
    });
  };
}
