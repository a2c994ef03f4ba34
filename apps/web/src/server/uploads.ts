/**
 * `POST /api/uploads`: build contexts (tar files) larger than a tRPC body may
 * be (1 MiB). The raw body is the file; the answer names an `uploadId` that
 * `image.build` then uses once. Callers authenticate as for tRPC (session
 * cookie or `Authorization: Bearer <API token>`) and need the operator role.
 *
 * Uploads are held in memory, bounded in size each and in total, and expire
 * unused after UPLOAD_TTL_MS: a central that restarts forgets them, which is
 * fine for something used seconds after it is sent.
 *
 *     curl -H "Authorization: Bearer $TOKEN" --data-binary @context.tar \
 *       http://central:3000/api/uploads        → {"uploadId":"up_…", …}
 *
 * May import: node built-ins, `./clock`, `./env`, `./services/auth/*`, types of `./services/index`.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "@fleet/shared/clock";
import { roleAtLeast } from "@fleet/shared/domain/roles";
import type { TEnv } from "./env";
import { authenticateRequest } from "./services/auth/authenticate-request";
import type { Services } from "./services/index";

export const UPLOADS_PATH = "/api/uploads";
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
/** Across all uploads not yet used; past it new uploads are refused until some are used or expire. */
export const MAX_UPLOADS_HELD_BYTES = 256 * 1024 * 1024;
export const UPLOAD_TTL_MS = 10 * 60_000;

export interface TUploadReceipt {
  uploadId: string;
  sizeBytes: number;
  expiresAt: Date;
}

export interface UploadStore {
  /** Keeps `bytes` for `userId`; null when the store is full. */
  put(userId: string, bytes: Buffer): TUploadReceipt | null;
  /** The upload's bytes, removed from the store; null if unknown, expired or someone else's. */
  take(uploadId: string, userId: string): Buffer | null;
  heldBytes(): number;
}

interface StoredUpload {
  userId: string;
  bytes: Buffer;
  expiresAt: number;
}

export function createUploadStore(options: {
  clock: Pick<Clock, "now">;
  maxHeldBytes?: number;
  ttlMs?: number;
}): UploadStore {
  const { clock } = options;
  const maxHeldBytes = options.maxHeldBytes ?? MAX_UPLOADS_HELD_BYTES;
  const ttlMs = options.ttlMs ?? UPLOAD_TTL_MS;
  const uploads = new Map<string, StoredUpload>();
  let held = 0;

  // Expiry is checked on every use instead of by timers: nothing to stop at shutdown.
  const sweep = () => {
    const now = clock.now();
    for (const [id, upload] of uploads) {
      if (upload.expiresAt <= now) {
        uploads.delete(id);
        held -= upload.bytes.byteLength;
      }
    }
  };

  return {
    put(userId, bytes) {
      sweep();
      if (held + bytes.byteLength > maxHeldBytes) return null;
      // Also the wire id of the agent's upload: letters, digits, '_' and '-' only.
      const uploadId = `up_${randomBytes(18).toString("base64url")}`;
      const expiresAt = clock.now() + ttlMs;
      uploads.set(uploadId, { userId, bytes, expiresAt });
      held += bytes.byteLength;
      return { uploadId, sizeBytes: bytes.byteLength, expiresAt: new Date(expiresAt) };
    },
    take(uploadId, userId) {
      sweep();
      const upload = uploads.get(uploadId);
      if (!upload || upload.userId !== userId) return null;
      uploads.delete(uploadId);
      held -= upload.bytes.byteLength;
      return upload.bytes;
    },
    heldBytes() {
      sweep();
      return held;
    },
  };
}

// One store per services instance (one per server), found from the services
// both by the HTTP handler and by the procedures that use uploads.
const stores = new WeakMap<object, UploadStore>();

export function uploadStoreOf(services: Pick<Services, "clock">): UploadStore {
  let store = stores.get(services);
  if (!store) {
    store = createUploadStore({ clock: services.clock });
    stores.set(services, store);
  }
  return store;
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

// A session cookie rides along on cross-site requests; the Origin says where one came from.
function isCrossSite(req: IncomingMessage, env: TEnv): boolean {
  const origin = header(req, "origin");
  if (!origin) return false;
  try {
    const allowed = new Set([header(req, "host"), new URL(env.FLEET_PUBLIC_URL).host]);
    return !allowed.has(new URL(origin).host);
  } catch {
    return true;
  }
}

/** Reads the body up to `limit` bytes; null when it is larger. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export function createUploadHandler(
  services: Pick<Services, "db" | "env" | "clock" | "log">,
  options: { maxUploadBytes?: number } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const { db, env, clock, log } = services;
  const maxUploadBytes = options.maxUploadBytes ?? MAX_UPLOAD_BYTES;
  const store = uploadStoreOf(services);

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
    if (auth.via === "session" && isCrossSite(req, env)) {
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
    const body = await readBody(req, maxUploadBytes);
    if (body === null) {
      sendError(res, 413, "PAYLOAD_TOO_LARGE", tooLarge, true);
      return;
    }
    if (body.byteLength === 0) {
      sendError(res, 400, "BAD_REQUEST", "the upload is empty");
      return;
    }
    const receipt = store.put(auth.user.id, body);
    if (!receipt) {
      sendError(
        res,
        503,
        "SERVICE_UNAVAILABLE",
        "too many uploads are waiting to be used; try again shortly",
      );
      return;
    }
    sendJson(res, 201, { ...receipt, expiresAt: receipt.expiresAt.toISOString() });
  };

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error }, "upload failed");
      sendError(res, 500, "INTERNAL_SERVER_ERROR", "internal error: the central's log has the details", true);
    });
  };
}
