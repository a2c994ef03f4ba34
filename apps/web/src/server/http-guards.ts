/**
 * What the central's HTTP server sets or refuses before any handler runs:
 * browser hardening headers on every response, and the tRPC requests that
 * are refused outright (form posts, oversized batches, sign-ins in a batch).
 *
 * May import: node built-ins, @fleet/shared, tRPC's error codes, the env's type.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_API_BATCH_SIZE, UNBATCHED_PROCEDURE_PREFIX } from "@fleet/shared/api-limits";
import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { TEnv } from "./env";

/**
 * Whether a request comes from the dashboard's own origin, as the browser
 * says: `Origin` when sent, else `Sec-Fetch-Site`. "unknown" is a request
 * with neither, which no current browser makes: a program (curl, the CLI).
 */
export type TRequestSite = "same-origin" | "cross-site" | "unknown";

export function requestSiteOf(req: IncomingMessage, env: Pick<TEnv, "FLEET_PUBLIC_URL">): TRequestSite {
  const origin = header(req, "origin");
  if (origin !== undefined) {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return "cross-site"; // includes `Origin: null` (sandboxed frames, cross-site redirects)
    }
    const allowed = new Set([header(req, "host"), new URL(env.FLEET_PUBLIC_URL).host]);
    return allowed.has(originHost) ? "same-origin" : "cross-site";
  }
  const fetchSite = header(req, "sec-fetch-site");
  if (fetchSite !== undefined) return fetchSite === "same-origin" ? "same-origin" : "cross-site";
  return "unknown";
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Headers every response carries. HSTS only when the browser reached us over HTTPS. */
export function setSecurityHeaders(res: ServerResponse, options: { https: boolean }): void {
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("referrer-policy", "same-origin");
  // frame-ancestors in the CSP says the same to current browsers.
  res.setHeader("x-frame-options", "DENY");
  res.setHeader("content-security-policy", "default-src 'none'; frame-ancestors 'none'");
  if (options.https) res.setHeader("strict-transport-security", "max-age=31536000");
}

/**
 * The dashboard's policy: scripts only with this response's nonce (Next.js
 * reads it from the request's own CSP header and puts it on every script it
 * writes; 'strict-dynamic' lets those load their chunks), everything else
 * from our origin. Inline styles stay allowed: React and chart.js set them.
 * Next's dev server evaluates code for hot reload and needs 'unsafe-eval'.
 */
export function dashboardContentSecurityPolicy(nonce: string, dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Sets the dashboard's CSP on the response and on the request, where Next.js finds the nonce. */
export function applyDashboardPolicy(req: IncomingMessage, res: ServerResponse, dev: boolean): void {
  const policy = dashboardContentSecurityPolicy(randomBytes(16).toString("base64"), dev);
  req.headers["content-security-policy"] = policy;
  res.setHeader("content-security-policy", policy);
}

export interface TRefusal {
  status: number;
  message: string;
}

/**
 * Whether a tRPC request is refused before it is read. Form encodings are
 * what another site can post without asking (no CORS preflight), so only
 * JSON is taken. A batch may not hold more than MAX_API_BATCH_SIZE calls,
 * nor any sign-in call: each password check is one request, counted alone.
 */
export function refusedTrpcRequest(req: IncomingMessage, procedurePath: string): TRefusal | null {
  const contentType = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (contentType !== undefined && contentType !== "" && contentType !== "application/json") {
    return {
      status: 415,
      message: `${contentType} is not accepted: send the input as JSON (Content-Type: application/json)`,
    };
  }
  const query = new URL(req.url ?? "/", "http://x").searchParams;
  if (query.get("batch") !== "1") return null;
  const calls = procedurePath.split(",");
  if (calls.length > MAX_API_BATCH_SIZE) {
    return { status: 413, message: `a batch may hold at most ${MAX_API_BATCH_SIZE} calls` };
  }
  if (
    calls.length > 1 &&
    calls.some((call) => decodeURIComponent(call).startsWith(UNBATCHED_PROCEDURE_PREFIX))
  ) {
    return {
      status: 400,
      message: `${UNBATCHED_PROCEDURE_PREFIX}* calls must be sent alone, not in a batch`,
    };
  }
  return null;
}

/** The refusal as tRPC's error shape (superjson envelope; one per call of a batch), so clients show the message. */
export function writeTrpcRefusal(
  req: IncomingMessage,
  res: ServerResponse,
  procedurePath: string,
  refusal: TRefusal,
): void {
  const code: TRPC_ERROR_CODE_KEY =
    refusal.status === 413
      ? "PAYLOAD_TOO_LARGE"
      : refusal.status === 415
        ? "UNSUPPORTED_MEDIA_TYPE"
        : "BAD_REQUEST";
  const error = {
    error: {
      json: {
        message: refusal.message,
        code: TRPC_ERROR_CODES_BY_KEY[code],
        data: { code, httpStatus: refusal.status },
      },
    },
  };
  const batch = new URL(req.url ?? "/", "http://x").searchParams.get("batch") === "1";
  const calls = Math.min(procedurePath.split(",").length, MAX_API_BATCH_SIZE);
  res.writeHead(refusal.status, { "content-type": "application/json" });
  res.end(JSON.stringify(batch ? Array.from({ length: calls }, () => error) : error));
}
