/**
 * The tRPC core: the request context (who is calling, the services), the
 * procedure builders by who may call them, and the one errorFormatter that
 * turns AppError, zod and database errors into answers a person can act on.
 *
 * Every procedure starts from one of the role builders below and declares
 * `.input()` and `.output()`; the role check runs before input parsing, so a
 * caller without the role learns nothing about the input schema.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Clock } from "@fleet/shared/clock";
import { roleAtLeast, type TUserRole } from "@fleet/shared/domain/roles";
import { initTRPC, TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import superjson from "superjson";
import type { Services } from "./central";
import { asApiRead, type PrismaClient } from "./db/client";
import { DATABASE_UNAVAILABLE_MESSAGE, isConnectionError } from "./db/db-health";
import type { TEnv } from "./env";
import { AppError, describeIssues, isAppError } from "./errors";
import type { EventBus } from "./events/event-bus";
import { requestSiteOf } from "./http-guards";
import type { Logger } from "./logger";
import { createApiTokenCache } from "./services/auth/api-token-cache";
import type { TAuth, TAuthUser } from "./services/auth/auth-user";
import { authenticateRequest } from "./services/auth/authenticate-request";
import { serializeCookie } from "./services/auth/cookies";
import { SESSION_COOKIE_NAME } from "./services/auth/sessions";

/** Bodies larger than this are refused with PAYLOAD_TOO_LARGE (413) before they are parsed. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

export interface TrpcContext {
  services: Services;
  db: PrismaClient;
  env: TEnv;
  log: Logger;
  clock: Clock;
  bus: EventBus;
  /** The caller, or null when anonymous (or when the credentials presented were refused). */
  auth: TAuth | null;
  /** Why presented credentials were refused, for the UNAUTHORIZED message. */
  authProblem: string | null;
  /** Whether the browser reached us over HTTPS (the session cookie is then `Secure`). */
  secure: boolean;
  /** The caller's network address (see clientAddressOf), for throttling and the audit log. */
  clientAddress: string;
  /** A browser sent this request from another site (see requestSiteOf). */
  crossSite: boolean;
  /** Sets the session cookie on this response (null value: clears it). */
  setSessionCookie(token: string | null, expiresAt?: Date): void;
}

/** Who may call a procedure; tests read it to prove every procedure states it. */
export interface TProcedureMeta {
  access?: "public" | TUserRole;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Where a request comes from: the socket's peer, or with FLEET_TRUST_PROXY the
 * last address in X-Forwarded-For (the one the trusted proxy itself appended;
 * the ones before it are whatever the client claimed).
 */
export function clientAddressOf(req: IncomingMessage, env: Pick<TEnv, "FLEET_TRUST_PROXY">): string {
  const peer = req.socket.remoteAddress ?? "unknown";
  if (!env.FLEET_TRUST_PROXY) return peer;
  const forwarded = header(req, "x-forwarded-for")?.split(",").at(-1)?.trim();
  return forwarded ? forwarded.slice(0, 64) : peer;
}

function isEventStream(req: IncomingMessage): boolean {
  return header(req, "accept")?.includes("text/event-stream") ?? false;
}

export function isHttps(req: IncomingMessage, env: Pick<TEnv, "FLEET_PUBLIC_URL">): boolean {
  if ((req.socket as TLSSocket).encrypted) return true;
  // Behind a TLS-terminating proxy, the public URL says what the browser sees.
  return env.FLEET_PUBLIC_URL.startsWith("https:");
}

const CROSS_SITE_REFUSED =
  "cross-site request refused: call the API from the dashboard's own origin or with an API token";

export function createContextFactory(services: Services) {
  // Lives as long as the services' bus, as this factory does: one per server.
  const apiTokens = createApiTokenCache({ bus: services.bus });
  return async ({ req, res }: { req: IncomingMessage; res: ServerResponse }): Promise<TrpcContext> => {
    const { db, env, log, clock, bus } = services;
    // Refused before anything touches the database: waiting on it would only hang the caller.
    if (!services.dbHealth.healthy) throw new AppError("SERVICE_UNAVAILABLE", DATABASE_UNAVAILABLE_MESSAGE);
    const secure = isHttps(req, env);
    const setSessionCookie = (token: string | null, expiresAt?: Date) => {
      const maxAgeSeconds = token && expiresAt ? Math.round((expiresAt.getTime() - clock.now()) / 1000) : 0;
      const cookie = serializeCookie(SESSION_COOKIE_NAME, token ?? "", {
        maxAgeSeconds,
        httpOnly: true,
        secure,
        // Strict: no other site can make a browser send it, not even a link.
        // Every page signs in on the client, so arriving by a link costs nothing.
        sameSite: "Strict",
        path: "/",
      });
      if (res.headersSent) {
        log.warn("session cookie not set: the response had already started");
        return;
      }
      const existing = res.getHeader("set-cookie");
      const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
      res.setHeader("set-cookie", [...list, cookie]);
    };
    const authentication = await asApiRead(() =>
      authenticateRequest({
        db,
        clock,
        credentials: { authorization: header(req, "authorization"), cookie: req.headers.cookie },
        apiTokens,
      }),
    );
    let { auth, problem } = authentication;
    const site = requestSiteOf(req, env);
    // A cookie rides along on whatever a browser sends, from any site (GET
    // navigations even with SameSite=Lax): it counts only on requests the
    // browser says are from our own origin, GET and subscriptions included.
    if (auth?.via === "session" && site !== "same-origin") {
      auth = null;
      problem = CROSS_SITE_REFUSED;
    }
    if (auth && isEventStream(req)) {
      const untrack = services.streamGuard.track({ auth, close: () => res.destroy() });
      res.once("close", untrack);
    }
    if (auth && authentication.renewedSession) {
      setSessionCookie(authentication.renewedSession.token, authentication.renewedSession.expiresAt);
    }
    return {
      services,
      db,
      env,
      log,
      clock,
      bus,
      auth,
      authProblem: problem,
      secure,
      clientAddress: clientAddressOf(req, env),
      crossSite: site === "cross-site",
      setSessionCookie,
    };
  };
}

interface TPrismaKnownError {
  code: string;
  meta?: {
    target?: unknown;
    modelName?: unknown;
    driverAdapterError?: { cause?: { originalCode?: unknown } };
  };
}

// Postgres text cannot hold U+0000 (SQLSTATE 22021): a NUL in any string input
// reaches the database as a query error, which is the caller's mistake, not ours.
function isNulInText(error: TPrismaKnownError): boolean {
  return error.meta?.driverAdapterError?.cause?.originalCode === "22021";
}

/** Longest message shown: some echo the input (a path, a JSON fragment), which may be huge. */
const MAX_MESSAGE_CHARS = 300;

function shortened(message: string): string {
  return message.length <= MAX_MESSAGE_CHARS ? message : `${message.slice(0, MAX_MESSAGE_CHARS)}…`;
}

// tRPC wraps whatever failed while it read the input (JSON.parse, superjson,
// FormData) in a BAD_REQUEST that repeats the library's own words; those can
// be "Maximum call stack size exceeded" or "root.forEach is not a function".
function inputReadingProblem(error: TRPCError): string | null {
  const cause = error.cause;
  if (error.code !== "BAD_REQUEST" || !(cause instanceof Error) || cause instanceof TRPCError) return null;
  if (error.message !== cause.message) return null;
  if (cause.name === "SyntaxError" && /JSON/.test(cause.message)) {
    return `the input is not valid JSON: ${cause.message}`;
  }
  return 'the input could not be read: send {"json": <input>} as superjson writes it (its "meta" only as superjson makes it)';
}

function prismaErrorOf(error: unknown): TPrismaKnownError | null {
  if (typeof error !== "object" || error === null) return null;
  const candidate = error as { name?: unknown; code?: unknown };
  return candidate.name === "PrismaClientKnownRequestError" && typeof candidate.code === "string"
    ? (candidate as TPrismaKnownError)
    : null;
}

function issuesOf(error: unknown): { message: string; path?: readonly PropertyKey[] }[] | null {
  if (typeof error !== "object" || error === null) return null;
  const issues = (error as { issues?: unknown }).issues;
  return Array.isArray(issues) ? issues : null;
}

/** The code and message the caller sees for an error thrown anywhere below a procedure. */
export function publicError(error: TRPCError): { code: TRPC_ERROR_CODE_KEY; message: string } {
  const cause = error.cause;
  if (isAppError(cause)) return { code: cause.code, message: cause.message };
  if (error.code === "BAD_REQUEST") {
    const issues = issuesOf(cause);
    if (issues) return { code: "BAD_REQUEST", message: describeIssues(issues) };
    const readingProblem = inputReadingProblem(error);
    if (readingProblem) return { code: "BAD_REQUEST", message: shortened(readingProblem) };
  }
  // The database went away under the call (before the health monitor noticed).
  if (isConnectionError(cause)) return { code: "SERVICE_UNAVAILABLE", message: DATABASE_UNAVAILABLE_MESSAGE };
  const prismaError = prismaErrorOf(cause);
  if (prismaError && isNulInText(prismaError)) {
    return { code: "BAD_REQUEST", message: "text in the input must not contain the NUL character (\\u0000)" };
  }
  if (prismaError?.code === "P2002") {
    return { code: "CONFLICT", message: "that already exists (a unique value is taken)" };
  }
  if (prismaError?.code === "P2025") return { code: "NOT_FOUND", message: "not found" };
  if (error.code === "PAYLOAD_TOO_LARGE") {
    return { code: error.code, message: `the request body is larger than ${MAX_REQUEST_BODY_BYTES} bytes` };
  }
  // Anything unexpected (a bug, the database down, output that failed its own
  // schema) is logged in full by the handler's onError and shown as nothing
  // more than its code.
  if (error.code === "INTERNAL_SERVER_ERROR") {
    return { code: error.code, message: "internal error: the central's log has the details" };
  }
  return { code: error.code, message: shortened(error.message) };
}

const t = initTRPC
  .context<TrpcContext>()
  .meta<TProcedureMeta>()
  .create({
    transformer: superjson,
    // Never put stack traces into responses, whatever NODE_ENV says.
    isDev: false,
    errorFormatter({ shape, error }) {
      const { code, message } = publicError(error);
      return {
        message,
        code: TRPC_ERROR_CODES_BY_KEY[code],
        data: {
          code,
          httpStatus: getHTTPStatusCodeFromError(new TRPCError({ code })),
          path: shape.data.path,
        },
      };
    },
    sse: {
      // Comments keep proxies from closing an idle stream; the client
      // reconnects (with the last tracked id) if pings stop.
      ping: { enabled: true, intervalMs: 10_000 },
      client: { reconnectAfterInactivityMs: 25_000 },
    },
  });

export const router = t.router;
export const mergeRouters = t.mergeRouters;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

function requireRole(minimum: TUserRole) {
  return t.middleware(({ ctx, next }) => {
    if (!ctx.auth) {
      throw new TRPCError({
        code: "UNAUTHORIZED",
        message: ctx.authProblem ?? "sign in, or send an API token as `Authorization: Bearer <token>`",
      });
    }
    if (!roleAtLeast(ctx.auth.user.role, minimum)) {
      throw new TRPCError({
        code: "FORBIDDEN",
        message: `this needs the ${minimum} role; you are ${ctx.auth.user.role}`,
      });
    }
    const auth: TAuth = ctx.auth;
    const user: TAuthUser = auth.user;
    return next({ ctx: { auth, user } });
  });
}

// Calls without valid credentials share one budget per client address, so
// nobody anonymous can flood the central (each sign-in costs a password hash;
// each bad token a lookup). Signed-in callers are not counted here.
const anonymousRateLimit = t.middleware(async ({ ctx, next }) => {
  if (!ctx.auth && !(await ctx.services.anonymousCalls.allow(ctx.clientAddress))) {
    throw new TRPCError({
      code: "TOO_MANY_REQUESTS",
      message: "too many requests without credentials from your address: slow down, or sign in",
    });
  }
  return next();
});
// Queries read on connections of their own (db/client.ts), never queued behind the agents' writes.
const readsFirst = t.middleware(({ type, next }) => (type === "query" ? asApiRead(next) : next()));
const anyCaller = t.procedure.use(readsFirst).use(anonymousRateLimit);

/** Anyone, signed in or not. */
export const publicProcedure = anyCaller.meta({ access: "public" });
/** Any signed-in person or API token (viewer, operator, admin). `ctx.user` is set. */
export const viewerProcedure = anyCaller.meta({ access: "viewer" }).use(requireRole("viewer"));
/** Operators and admins: run, stop and move workloads. */
export const operatorProcedure = anyCaller.meta({ access: "operator" }).use(requireRole("operator"));
/** Admins only: people, tokens, hosts joining and leaving. */
export const adminProcedure = anyCaller.meta({ access: "admin" }).use(requireRole("admin"));
