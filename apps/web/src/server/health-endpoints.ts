// What a load balancer asks every central replica on PORT: `/healthz` (the
// process runs and serves HTTP: 200, always) and `/readyz` (send me traffic:
// 200 only while the database answers, every migration this build ships is
// applied and the replica is not draining; else 503 and the reason in one
// line). No credentials, no input, nothing but memory is read: the database's
// state comes from the health monitor (db/db-health.ts), at most a second old.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DbHealthStatus } from "./db/db-health";

export const HEALTHZ_PATH = "/healthz";
export const READYZ_PATH = "/readyz";

export interface Readiness {
  draining(): boolean;
  database(): DbHealthStatus;
}

/** Why this replica should get no traffic now, or null when it should. */
export function notReadyBecause(readiness: Readiness): string | null {
  if (readiness.draining()) return "draining: this replica is stopping";
  const database = readiness.database();
  if (!database.healthy) return database.problem ?? "database unreachable";
  if (database.pendingMigrations === null) return "migrations not checked yet";
  if (database.pendingMigrations.length > 0) {
    const [first] = database.pendingMigrations;
    const more = database.pendingMigrations.length - 1;
    return `migrations pending: ${first}${more > 0 ? ` and ${more} more` : ""}`;
  }
  return null;
}

function answer(req: IncomingMessage, res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(`${text}\n`),
  });
  res.end(req.method === "HEAD" ? undefined : `${text}\n`);
}

/** Answers `/healthz` or `/readyz`; false for any other path. */
export function serveHealthEndpoint(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  readiness: Readiness,
): boolean {
  if (path !== HEALTHZ_PATH && path !== READYZ_PATH) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    answer(req, res, 405, "method not allowed");
    return true;
  }
  if (path === HEALTHZ_PATH) {
    answer(req, res, 200, "ok");
    return true;
  }
  const problem = notReadyBecause(readiness);
  answer(req, res, problem === null ? 200 : 503, problem ?? "ready");
  return true;
}
