// Calls between the central replicas that share one database: which replica
// holds a host's agent connection and where it answers, the wire of
// `/internal/*` on PORT (paths, the secret's header, the lines an operation
// streams back, the error body) and one HTTP client for it. The endpoint that
// answers these calls is the wiring's internal-endpoint.ts; the callers are
// routed-operations.ts (one-off operations) and uploads.ts (build contexts
// held by another replica).
//
// May import: db, ../errors, @fleet/shared, zod, node:http(s).
import { createHash } from "node:crypto";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { ZOperationErrorCode, ZOpProgressData } from "@fleet/shared/protocol/operations";
import { MAX_FRAME_BYTES } from "@fleet/shared/protocol/version";
import { z } from "zod";
import type { PrismaClient } from "../db/client";
import { APP_ERROR_CODES } from "../errors";
import type { TOpFailure } from "./op-broker";

export const INTERNAL_PATH_PREFIX = "/internal/";
export const AGENT_OPS_PATH = "/internal/agent-ops";
export const AGENT_UPLOAD_PATH = "/internal/agent-upload";
export const UPLOAD_TAKE_PATH = "/internal/uploads/take";
/** Carries the cluster secret (db/cluster-secret.ts) on every internal call. */
export const CLUSTER_SECRET_HEADER = "x-fleet-cluster-secret";

/** A replica whose heartbeat is older than this is gone (the registry's own rule). */
export const REPLICA_STALE_AFTER_MS = 30_000;
/** An operation's stream carries a keep-alive line this often while nothing else comes. */
export const OPS_KEEPALIVE_MS = 10_000;
/** A caller that hears nothing (not even the keep-alive) for this long takes the replica for gone. */
export const OPS_SILENCE_LIMIT_MS = 3 * OPS_KEEPALIVE_MS + 5000;
/** One line of an operation's stream: a progress frame's data or a result, each at most a frame. */
export const MAX_OPS_LINE_BYTES = 2 * MAX_FRAME_BYTES;
/** `POST /internal/agent-ops`'s body: an operation fits in a frame. */
export const MAX_OPS_BODY_BYTES = MAX_FRAME_BYTES;
/** `POST /internal/uploads/take`'s body: two ids. */
export const MAX_TAKE_BODY_BYTES = 4096;
/** The `error` a 404 carries when the replica called no longer holds the host. */
export const NOT_HERE = "not-here";

const ZOpFailure = z.enum([
  ...ZOperationErrorCode.options,
  "offline",
  "disconnected",
  "rejected",
]) satisfies z.ZodType<TOpFailure>;

/** What a failed internal call answers (a JSON body, or the last line of an operation's stream). */
export const ZInternalError = z.object({
  code: z.union([z.enum(APP_ERROR_CODES), z.literal(NOT_HERE)]),
  /** For an operation's failure: the broker's reason, as `OpError.opErrorCode`. */
  opErrorCode: ZOpFailure.optional(),
  message: z.string().max(8192),
});
export type TInternalError = z.infer<typeof ZInternalError>;

/** One line of `POST /internal/agent-ops`'s answer (NDJSON). The result is checked against its kind by the caller. */
export const ZOpsLine = z.union([
  z.object({ progress: ZOpProgressData }).strict(),
  z.object({ result: z.unknown() }).strict(),
  z.object({ error: ZInternalError }).strict(),
  /** Keep-alive. */
  z.object({}).strict(),
]);

export const ZHostIdParam = z.string().min(1).max(128);

export const ZAgentOpsRequest = z
  .object({
    hostId: ZHostIdParam,
    // The operation itself is checked with the protocol's ZOperation by the endpoint.
    op: z.unknown(),
    timeoutMs: z.int().min(1).optional(),
  })
  .strict();

export const ZUploadTakeRequest = z
  .object({
    uploadId: z.string().min(1).max(64),
    userId: z.string().min(1).max(128),
  })
  .strict();

/** The short key an upload id carries to name the replica holding its bytes: letters and digits only. */
export function replicaKeyOf(replicaId: string): string {
  return createHash("sha256").update(replicaId).digest("hex").slice(0, 12);
}

export interface TReplicaAddress {
  id: string;
  internalUrl: string;
}

/**
 * The live replica that holds the host's agent connection by the host row,
 * or null (none, or its replica gone: no heartbeat within
 * REPLICA_STALE_AFTER_MS by the database's clock, or no address).
 */
export async function hostHolderOf(db: PrismaClient, hostId: string): Promise<TReplicaAddress | null> {
  const rows = await db.$queryRaw<{ id: string; internal_url: string }[]>`
    SELECT r.id, r.internal_url
    FROM hosts h
    JOIN central_replicas r ON r.id = h.connected_replica
    WHERE h.id = ${hostId} AND h.removed_at IS NULL
      AND r.heartbeat_at > now() - make_interval(secs => ${REPLICA_STALE_AFTER_MS / 1000}::float8)
      AND r.internal_url <> ''`;
  const row = rows[0];
  return row ? { id: row.id, internalUrl: row.internal_url } : null;
}

/** Every live replica with an address (heartbeat within REPLICA_STALE_AFTER_MS). */
export async function liveReplicas(db: PrismaClient): Promise<TReplicaAddress[]> {
  const rows = await db.$queryRaw<{ id: string; internal_url: string }[]>`
    SELECT id, internal_url FROM central_replicas
    WHERE heartbeat_at > now() - make_interval(secs => ${REPLICA_STALE_AFTER_MS / 1000}::float8)
      AND internal_url <> ''`;
  return rows.map((row) => ({ id: row.id, internalUrl: row.internal_url }));
}

/**
 * Sends one internal call and resolves with the response once its headers
 * arrive (the caller reads the body). Rejects when the replica cannot be
 * reached or `signal` aborts first; aborting later destroys the response.
 */
export function callReplica(options: {
  baseUrl: string;
  path: string;
  secret: Buffer;
  body: Buffer;
  contentType: string;
  query?: Record<string, string>;
  signal?: AbortSignal;
}): Promise<IncomingMessage> {
  const url = new URL(options.path, `${options.baseUrl.replace(/\/+$/, "")}/`);
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  const client = url.protocol === "https:" ? https : http;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const request = client.request(url, {
      method: "POST",
      headers: {
        [CLUSTER_SECRET_HEADER]: options.secret.toString("utf8"),
        "content-type": options.contentType,
        "content-length": String(options.body.byteLength),
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    request.once("error", reject);
    request.once("response", (response) => {
      request.off("error", reject);
      // Errors after this point end the response; its reader sees them.
      request.on("error", () => {});
      resolve(response);
    });
    request.end(options.body);
  });
}

/** Reads a whole response body up to `limit` bytes; null when it is larger. */
export async function readResponseBody(response: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) {
      response.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** The error a failed call's JSON body names, or null when the body is not one. */
export function internalErrorOf(body: Buffer | null): TInternalError | null {
  if (!body) return null;
  try {
    const parsed = z.object({ error: ZInternalError }).safeParse(JSON.parse(body.toString("utf8")));
    return parsed.success ? parsed.data.error : null;
  } catch {
    return null;
  }
}
