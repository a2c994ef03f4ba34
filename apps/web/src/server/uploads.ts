/**
 * `POST /api/uploads`: build contexts (tar files) larger than a tRPC body may
 * be (1 MiB). The raw body is the file; the answer names an `uploadId` that
 * `image.build` then uses once. Callers authenticate as for tRPC (session
 * cookie or `Authorization: Bearer <API token>`) and need the operator role.
 *
 * Uploads are held in memory until used or expired, bounded three ways: in
 * size each (MAX_UPLOAD_BYTES), per person (MAX_UPLOAD_SHARE_BYTES and
 * MAX_UPLOADS_PER_USER), and in total (MAX_UPLOADS_HELD_BYTES). Bytes count
 * from the moment they arrive, not only once an upload is complete, so
 * concurrent uploads cannot slip past the share. A central that restarts
 * forgets them, which is fine for something used seconds after it is sent.
 *
 * With several central replicas, an upload stays on the replica that received
 * it and its id names that replica (`up_<replica key>_<random>`): a build
 * that lands on another replica takes the bytes from the holder once, over
 * `POST /internal/uploads/take` (internal-endpoint.ts), for the same user only.
 *
 *     curl -H "Authorization: Bearer $TOKEN" --data-binary @context.tar \
 *       http://central:3000/api/uploads        → {"uploadId":"up_…", …}
 *
 * One store per server, built by `./central`. May import: node built-ins,
 * `./env`, `./http-guards`, `./services/auth/*`, the interface
 * `./services/image/build-image` declares for the store, the calls between
 * replicas (`./gateway/replica-calls`), types of `./db/client` and
 * `./logger`, `@fleet/shared`.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "@fleet/shared/clock";
import { roleAtLeast } from "@fleet/shared/domain/roles";
import { formatBytesHuman, formatDuration } from "@fleet/shared/units";
import type { PrismaClient } from "./db/client";
import { DATABASE_UNAVAILABLE_MESSAGE, isConnectionError } from "./db/db-health";
import type { TEnv } from "./env";
import {
  callReplica,
  internalErrorOf,
  liveReplicas,
  readResponseBody,
  replicaKeyOf,
  UPLOAD_TAKE_PATH,
} from "./gateway/replica-calls";
import { requestSiteOf } from "./http-guards";
import type { Logger } from "./logger";
import { authenticateRequest } from "./services/auth/authenticate-request";
import type { BuildContextSource } from "./services/image/build-image";

export const UPLOADS_PATH = "/api/uploads";
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
/** Across everyone's uploads not yet used; past it new uploads are refused until some are used or expire. */
export const MAX_UPLOADS_HELD_BYTES = 256 * 1024 * 1024;
/**
 * One person's part of the store: two of the largest uploads (a build on two
 * hosts at once), and half the store, so one person filling their share
 * always leaves room for two full-size uploads of others.
 */
export const MAX_UPLOAD_SHARE_BYTES = 128 * 1024 * 1024;
/** Uploads one person may hold at once, whatever their size (each costs bookkeeping). */
export const MAX_UPLOADS_PER_USER = 8;
/** The CLI and the dashboard use an upload within seconds; an abandoned one stops holding the share soon. */
export const UPLOAD_TTL_MS = 2 * 60_000;

export interface TUploadReceipt {
  uploadId: string;
  sizeBytes: number;
  expiresAt: Date;
}

/** Why an upload was refused, with what a person needs to act on it. */
export interface TUploadRefusal {
  /** `share`: the uploader's bytes; `count`: the uploader's number of uploads; `store`: everyone's bytes. */
  limit: "share" | "count" | "store";
  /** The limit's value (bytes, or uploads for `count`). */
  limitValue: number;
  /** What already counts against it, this upload not included. */
  used: number;
  /** When enough held uploads expire for this one to fit; null if expiry alone would not make room. */
  retryAfterMs: number | null;
}

export type TUploadPutResult =
  | { receipt: TUploadReceipt; refusal?: never }
  | { refusal: TUploadRefusal; receipt?: never };

/** One upload being received: its bytes count against the limits as they arrive. */
export interface UploadReception {
  /** Counts `byteCount` more bytes; a refusal (and the reception released) if they do not fit. */
  add(byteCount: number): TUploadRefusal | null;
  /** Keeps the received bytes as an upload; they replace what `add` counted. */
  finish(bytes: Buffer): TUploadReceipt;
  /** Gives back what was counted; nothing after `finish`, so it may always run in a `finally`. */
  release(): void;
}

export interface UploadStore extends BuildContextSource {
  /** An upload held by this replica, removed from the store; null if unknown, expired or someone else's. */
  takeHeld(uploadId: string, userId: string): Buffer | null;
  /** Starts receiving an upload for `userId`. */
  begin(userId: string): UploadReception;
  /** Keeps `bytes` for `userId` in one step, or says why not. */
  put(userId: string, bytes: Buffer): TUploadPutResult;
  /** Bytes held and being received, by everyone or by one user. */
  heldBytes(userId?: string): number;
}

/** Takes an upload held by the replica whose key the id names (null: none, gone, or not the user's). */
export type TRemoteUploadTaker = (
  replicaKey: string,
  uploadId: string,
  userId: string,
) => Promise<Buffer | null>;

const KEYED_UPLOAD_ID = /^up_([0-9a-f]{12})_[A-Za-z0-9_-]+$/;

interface StoredUpload {
  userId: string;
  bytes: Buffer;
  expiresAt: number;
}

export function createUploadStore(options: {
  clock: Pick<Clock, "now">;
  maxHeldBytes?: number;
  maxShareBytes?: number;
  maxUploadsPerUser?: number;
  ttlMs?: number;
  /** This replica's id, named (as a key) by the ids of uploads held here. */
  replicaId?: string;
  /** How uploads held by other replicas are taken; without it only uploads held here are found. */
  takeRemote?: TRemoteUploadTaker;
}): UploadStore {
  const { clock } = options;
  const replicaKey = replicaKeyOf(options.replicaId ?? "");
  const maxHeldBytes = options.maxHeldBytes ?? MAX_UPLOADS_HELD_BYTES;
  const maxShareBytes = options.maxShareBytes ?? MAX_UPLOAD_SHARE_BYTES;
  const maxUploadsPerUser = options.maxUploadsPerUser ?? MAX_UPLOADS_PER_USER;
  const ttlMs = options.ttlMs ?? UPLOAD_TTL_MS;
  const uploads = new Map<string, StoredUpload>();
  // Per user: bytes and uploads held or being received.
  const usage = new Map<string, { bytes: number; uploads: number }>();
  let held = 0;

  const adjust = (userId: string, bytes: number, count: number) => {
    held += bytes;
    const entry = usage.get(userId) ?? { bytes: 0, uploads: 0 };
    entry.bytes += bytes;
    entry.uploads += count;
    if (entry.bytes === 0 && entry.uploads === 0) usage.delete(userId);
    else usage.set(userId, entry);
  };

  // Expiry is checked on every use instead of by timers: nothing to stop at shutdown.
  const sweep = () => {
    const now = clock.now();
    for (const [id, upload] of uploads) {
      if (upload.expiresAt <= now) {
        uploads.delete(id);
        adjust(upload.userId, -upload.bytes.byteLength, -1);
      }
    }
  };

  /** Ms until uploads matching `whose` that expire free `needed` bytes (or uploads); null if they never would. */
  const freedIn = (
    whose: (upload: StoredUpload) => boolean,
    needed: number,
    measure: (u: StoredUpload) => number,
  ) => {
    const now = clock.now();
    const candidates = [...uploads.values()].filter(whose).sort((a, b) => a.expiresAt - b.expiresAt);
    let freed = 0;
    for (const upload of candidates) {
      freed += measure(upload);
      if (freed >= needed) return Math.max(0, upload.expiresAt - now);
    }
    return null;
  };
  const size = (upload: StoredUpload) => upload.bytes.byteLength;

  /** Why `bytes` more for `userId` (a new upload too, when `newUpload`) do not fit; null when they do. */
  const refusalFor = (userId: string, bytes: number, newUpload: boolean): TUploadRefusal | null => {
    const mine = usage.get(userId) ?? { bytes: 0, uploads: 0 };
    const own = (upload: StoredUpload) => upload.userId === userId;
    if (newUpload && mine.uploads + 1 > maxUploadsPerUser) {
      const retryAfterMs = freedIn(own, mine.uploads + 1 - maxUploadsPerUser, () => 1);
      return { limit: "count", limitValue: maxUploadsPerUser, used: mine.uploads, retryAfterMs };
    }
    if (mine.bytes + bytes > maxShareBytes) {
      const retryAfterMs = freedIn(own, mine.bytes + bytes - maxShareBytes, size);
      return { limit: "share", limitValue: maxShareBytes, used: mine.bytes, retryAfterMs };
    }
    if (held + bytes > maxHeldBytes) {
      const retryAfterMs = freedIn(() => true, held + bytes - maxHeldBytes, size);
      return { limit: "store", limitValue: maxHeldBytes, used: held, retryAfterMs };
    }
    return null;
  };

  const begin = (userId: string): UploadReception => {
    let counted = 0;
    let state: "new" | "receiving" | "closed" = "new";
    const release = () => {
      if (state === "receiving") adjust(userId, -counted, -1);
      state = "closed";
      counted = 0;
    };
    return {
      add(byteCount) {
        if (state === "closed") throw new Error("this upload is no longer being received");
        sweep();
        const refusal = refusalFor(userId, byteCount, state === "new");
        if (refusal) {
          release();
          return refusal;
        }
        adjust(userId, byteCount, state === "new" ? 1 : 0);
        state = "receiving";
        counted += byteCount;
        return null;
      },
      finish(bytes) {
        if (state !== "receiving") throw new Error("finish: nothing was received for this upload");
        adjust(userId, bytes.byteLength - counted, 0);
        state = "closed";
        counted = 0;
        // Also the wire id of the agent's upload: letters, digits, '_' and '-' only.
        const uploadId = `up_${replicaKey}_${randomBytes(18).toString("base64url")}`;
        const expiresAt = clock.now() + ttlMs;
        uploads.set(uploadId, { userId, bytes, expiresAt });
        return { uploadId, sizeBytes: bytes.byteLength, expiresAt: new Date(expiresAt) };
      },
      release,
    };
  };

  const takeHeld = (uploadId: string, userId: string): Buffer | null => {
    sweep();
    const upload = uploads.get(uploadId);
    if (!upload || upload.userId !== userId) return null;
    uploads.delete(uploadId);
    adjust(userId, -upload.bytes.byteLength, -1);
    return upload.bytes;
  };

  return {
    begin,
    put(userId, bytes) {
      const reception = begin(userId);
      const refusal = reception.add(bytes.byteLength);
      return refusal ? { refusal } : { receipt: reception.finish(bytes) };
    },
    takeHeld,
    async take(uploadId, userId) {
      const holder = KEYED_UPLOAD_ID.exec(uploadId)?.[1];
      if (holder === undefined || holder === replicaKey || !options.takeRemote)
        return takeHeld(uploadId, userId);
      return options.takeRemote(holder, uploadId, userId);
    },
    heldBytes(userId) {
      sweep();
      return userId === undefined ? held : (usage.get(userId)?.bytes ?? 0);
    },
  };
}

/**
 * Takes uploads held by other live replicas (their keys come from their ids in
 * central_replicas) over `POST /internal/uploads/take`, authenticated with the
 * cluster secret. A replica that is gone or refuses leaves the upload unfound.
 */
export function remoteUploadTaker(options: {
  db: PrismaClient;
  secret: () => Promise<Buffer>;
  log: Pick<Logger, "warn">;
  maxUploadBytes?: number;
}): TRemoteUploadTaker {
  const maxUploadBytes = options.maxUploadBytes ?? MAX_UPLOAD_BYTES;
  return async (replicaKey, uploadId, userId) => {
    const holder = (await liveReplicas(options.db)).find(
      (replica) => replicaKeyOf(replica.id) === replicaKey,
    );
    if (!holder) return null;
    try {
      const response = await callReplica({
        baseUrl: holder.internalUrl,
        path: UPLOAD_TAKE_PATH,
        secret: await options.secret(),
        body: Buffer.from(JSON.stringify({ uploadId, userId })),
        contentType: "application/json",
        signal: AbortSignal.timeout(5 * 60_000),
      });
      const body = await readResponseBody(response, maxUploadBytes);
      if (response.statusCode === 200 && body && body.byteLength > 0) return body;
      if (response.statusCode !== 404) {
        options.log.warn(
          { holder: holder.id, status: response.statusCode, error: internalErrorOf(body)?.message },
          "taking an upload from another replica failed",
        );
      }
      return null;
    } catch (error) {
      options.log.warn({ err: error, holder: holder.id }, "taking an upload from another replica failed");
      return null;
    }
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, close = false): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    ...(close ? { connection: "close" } : {}),
  });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, code: string, message: string, close = false) {
  sendJson(res, status, { error: { code, message } }, close);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

type TBodyResult =
  | { body: Buffer; tooLarge?: never; refusal?: never }
  | { tooLarge: true; body?: never; refusal?: never }
  | { refusal: TUploadRefusal; body?: never; tooLarge?: never };

/** Reads the body up to `limit` bytes, counting each chunk with `count` (when given) as it arrives. */
async function readBody(
  req: IncomingMessage,
  limit: number,
  count: ((byteCount: number) => TUploadRefusal | null) | null,
): Promise<TBodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) return { tooLarge: true };
    const refusal = count?.(chunk.byteLength) ?? null;
    if (refusal) return { refusal };
    chunks.push(chunk);
  }
  return { body: Buffer.concat(chunks, size) };
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** The status, message and Retry-After a person gets for a refused upload. */
export function describeUploadRefusal(refusal: TUploadRefusal): {
  status: 429 | 503;
  code: "TOO_MANY_REQUESTS" | "SERVICE_UNAVAILABLE";
  message: string;
  retryAfterSeconds: number;
} {
  const wait =
    refusal.retryAfterMs === null
      ? "once the uploads you are sending now finish"
      : `in ${seconds(refusal.retryAfterMs)} s, when the oldest of them expire`;
  const use = `use them with image.build, or wait: uploads expire ${formatDuration(UPLOAD_TTL_MS)} after they arrive`;
  const retryAfterSeconds = seconds(refusal.retryAfterMs ?? UPLOAD_TTL_MS);
  switch (refusal.limit) {
    case "share":
      return {
        status: 429,
        code: "TOO_MANY_REQUESTS",
        message: `your uploads not yet used hold ${formatBytesHuman(refusal.used)} and this one does not fit in your share of ${formatBytesHuman(refusal.limitValue)}; ${use}. Room frees ${wait}`,
        retryAfterSeconds,
      };
    case "count":
      return {
        status: 429,
        code: "TOO_MANY_REQUESTS",
        message: `you hold ${refusal.used} uploads not yet used, the most one person may (${refusal.limitValue}); ${use}. Room frees ${wait}`,
        retryAfterSeconds,
      };
    case "store":
      return {
        status: 503,
        code: "SERVICE_UNAVAILABLE",
        message: `the upload store is full: everyone's uploads not yet used hold ${formatBytesHuman(refusal.used)} of ${formatBytesHuman(refusal.limitValue)}. Try again ${refusal.retryAfterMs === null ? "shortly" : `in ${seconds(refusal.retryAfterMs)} s`}`,
        retryAfterSeconds,
      };
  }
}

/** What the handler needs of the central (central.ts's services fit). */
export interface UploadHandlerDeps {
  db: PrismaClient;
  env: TEnv;
  clock: Clock;
  log: Logger;
  uploads: UploadStore;
}

export function createUploadHandler(
  services: UploadHandlerDeps,
  options: { maxUploadBytes?: number } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const { db, env, clock, log } = services;
  const maxUploadBytes = options.maxUploadBytes ?? MAX_UPLOAD_BYTES;
  const store = services.uploads;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      sendError(res, 405, "METHOD_NOT_SUPPORTED", "send the file with POST");
      return;
    }
    const { auth, problem } = await authenticateRequest({
      db,
      clock,
      credentials: { authorization: header(req, "authorization"), cookie: req.headers.cookie },
    });
    if (!auth) {
      sendError(
        res,
        401,
        "UNAUTHORIZED",
        problem ?? "sign in, or send an API token as `Authorization: Bearer <token>`",
        true,
      );
      return;
    }
    if (auth.via === "session" && requestSiteOf(req, env) !== "same-origin") {
      sendError(res, 403, "FORBIDDEN", "cross-site upload refused", true);
      return;
    }
    if (!roleAtLeast(auth.user.role, "operator")) {
      sendError(res, 403, "FORBIDDEN", `this needs the operator role; you are ${auth.user.role}`, true);
      return;
    }
    const tooLarge = `the upload is larger than ${maxUploadBytes} bytes`;
    const declared = Number(header(req, "content-length") ?? Number.NaN);
    if (Number.isFinite(declared) && declared > maxUploadBytes) {
      sendError(res, 413, "PAYLOAD_TOO_LARGE", tooLarge, true);
      return;
    }
    const refuse = (refusal: TUploadRefusal) => {
      const answer = describeUploadRefusal(refusal);
      if (!res.headersSent) res.setHeader("retry-after", String(answer.retryAfterSeconds));
      // The rest of the body is not read: close rather than leave it on the connection.
      sendError(res, answer.status, answer.code, answer.message, true);
    };
    const reception = store.begin(auth.user.id);
    try {
      // A declared length is counted before the body is read, so a refusal costs no transfer.
      const counted = Number.isSafeInteger(declared) && declared > 0;
      if (counted) {
        const refusal = reception.add(declared);
        if (refusal) return refuse(refusal);
      }
      const read = await readBody(
        req,
        maxUploadBytes,
        counted ? null : (byteCount) => reception.add(byteCount),
      );
      if (read.tooLarge) {
        sendError(res, 413, "PAYLOAD_TOO_LARGE", tooLarge, true);
        return;
      }
      if (read.refusal) return refuse(read.refusal);
      if (read.body.byteLength === 0) {
        sendError(res, 400, "BAD_REQUEST", "the upload is empty");
        return;
      }
      const receipt = reception.finish(read.body);
      sendJson(res, 201, { ...receipt, expiresAt: receipt.expiresAt.toISOString() });
    } finally {
      reception.release();
    }
  };

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (isConnectionError(error)) {
        log.warn({ err: error }, "upload refused: the database is unreachable");
        res.setHeader("retry-after", "2");
        sendError(res, 503, "SERVICE_UNAVAILABLE", DATABASE_UNAVAILABLE_MESSAGE, true);
        return;
      }
      log.error({ err: error }, "upload failed");
      sendError(res, 500, "INTERNAL_SERVER_ERROR", "internal error: the central's log has the details", true);
    });
  };
}
