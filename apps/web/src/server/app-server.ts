/**
 * The central's HTTP(S) server on PORT: `/api/trpc/*` (tRPC over HTTP, SSE for
 * subscriptions), `/api/uploads` (build contexts, uploads.ts), `/metrics`
 * (Prometheus), WebSocket upgrades on `/agent`
 * (the gateway), and everything else to Next.js when it is enabled. Beside
 * it, the agent port (FLEET_AGENT_PORT, always TLS: agent-endpoint/) serves
 * `/agent`, `/install.sh` and `/download/*` to hosts.
 * Integration tests build it with `next: false` and port 0.
 *
 * May import: every room of the central (it wires them), Node's http/https.
 */
import { readFileSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import type { Duplex } from "node:stream";
import type { Clock } from "@fleet/shared/clock";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { createAgentEndpointServer, listeningPort } from "./agent-endpoint/agent-endpoint";
import { downloadsDirOf } from "./agent-endpoint/downloads";
import { readInstallScriptTemplate } from "./agent-endpoint/install-script";
import { loadAgentTlsIdentity } from "./agent-endpoint/tls-identity";
import { type CreateServicesOptions, createServices, type Services } from "./central";
import type { PrismaClient } from "./db/client";
import { DATABASE_UNAVAILABLE_MESSAGE, isConnectionError } from "./db/db-health";
import type { TEnv } from "./env";
import type { EventBus } from "./events/event-bus";
import { INTERNAL_PATH_PREFIX } from "./gateway/replica-calls";
import { type Readiness, serveHealthEndpoint } from "./health-endpoints";
import {
  applyDashboardPolicy,
  refusedTrpcRequest,
  setSecurityHeaders,
  writeTrpcRefusal,
} from "./http-guards";
import { createInternalHandler } from "./internal-endpoint";
import type { Logger } from "./logger";
import { appRouter } from "./routers/_app";
import type { TBootstrapResult } from "./services/auth/bootstrap";
import { metricsAccessOf } from "./services/auth/metrics-access";
import { agentPublicUrl, type TAgentEndpoint } from "./services/join-token/agent-endpoint";
import { createContextFactory, isHttps, MAX_REQUEST_BODY_BYTES, publicError } from "./trpc";
import { createUploadHandler, UPLOADS_PATH } from "./uploads";

export const TRPC_BASE_PATH = "/api/trpc/";
export const AGENT_SOCKET_PATH = "/agent";
export const PROMETHEUS_PATH = "/metrics";

export interface CreateFleetServerOptions {
  env: TEnv;
  db: PrismaClient;
  log: Logger;
  /** Serve the Next.js app for every other path (needs `next build` unless dev). */
  next?: boolean;
  /** Next.js dev mode (compiles on demand, hot reload). Default: NODE_ENV is not production. */
  dev?: boolean;
  /** The Next.js project directory (apps/web). */
  nextDir?: string;
  clock?: Clock;
  bus?: EventBus;
  /** For tests: shorter gateway and metrics timings. */
  tuning?: CreateServicesOptions["tuning"];
  /** Default: from env (FLEET_REPLICA_ID, FLEET_INTERNAL_URL); the internal URL is PORT's once bound when unset. */
  replica?: CreateServicesOptions["replica"];
  /** How long close() lets running requests finish before cutting them (default 5 s). */
  shutdownGraceMs?: number;
  /**
   * How long close() keeps serving HTTP after it started draining (readyz
   * 503, agents told to reconnect elsewhere), so the load balancer's health
   * check sees the 503 before the port closes (default 2 s; tests: 0).
   */
  drainMs?: number;
  /** close() disconnects `db` (default true: the server owns its client). */
  disconnectDbOnClose?: boolean;
}

export interface FleetServer {
  server: http.Server | https.Server;
  /** Where the server answers, e.g. `http://127.0.0.1:3000` (loopback when bound to all addresses). */
  url: string;
  /** The agent port's server (TLS). */
  agentServer: https.Server;
  /** Where the agent port answers, e.g. `https://127.0.0.1:3443` (loopback when bound to all addresses). */
  agentUrl: string;
  /** What join commands name: the agent port's public URL and the pin of its key. */
  agentEndpoint: TAgentEndpoint;
  services: Services;
  bootstrap: TBootstrapResult;
  /**
   * Drains first (readyz 503, the replica's row `stopping`, agents closed
   * with 4012 "reconnect elsewhere" and refused, HTTP served for `drainMs`),
   * then stops accepting, ends background jobs, removes the replica's row and
   * disconnects Prisma. Idempotent.
   */
  close(): Promise<void>;
}

type NextHandlers = {
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;
  close: () => Promise<void>;
};

function pathnameOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/** Where the other replicas reach this one: PORT at HOST, the machine's name when HOST is a wildcard. */
function internalUrlOf(server: http.Server, env: Pick<TEnv, "HOST" | "FLEET_TLS_CERT">): string {
  const address = server.address() as AddressInfo;
  const scheme = env.FLEET_TLS_CERT ? "https" : "http";
  const anyAddress = ["0.0.0.0", "::", "::0"].includes(address.address);
  const host = anyAddress ? hostname() : address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}

function listenUrl(server: http.Server, scheme: "http" | "https"): string {
  const address = server.address() as AddressInfo;
  const anyAddress = ["0.0.0.0", "::", "::0"].includes(address.address);
  const host = anyAddress
    ? "127.0.0.1"
    : address.family === "IPv6"
      ? `[${address.address}]`
      : address.address;
  return `${scheme}://${host}:${address.port}`;
}

async function prepareNext(options: {
  server: http.Server;
  env: TEnv;
  dev: boolean;
  dir: string;
}): Promise<NextHandlers> {
  // Loaded only when wanted: tests and tools never pay for Next.js.
  const { default: next } = await import("next");
  const app = next({
    dev: options.dev,
    dir: options.dir,
    hostname: options.env.HOST,
    port: options.env.PORT,
    httpServer: options.server,
  });
  await app.prepare();
  const handle = app.getRequestHandler();
  const upgrade = app.getUpgradeHandler();
  return {
    handle: (req, res) => handle(req, res),
    upgrade: (req, socket, head) => upgrade(req, socket, head),
    close: () => app.close(),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

export async function createFleetServer(options: CreateFleetServerOptions): Promise<FleetServer> {
  const { env, db, log } = options;
  // Read before anything starts: a central that cannot serve hosts should not come up half way.
  const identity = loadAgentTlsIdentity({ env, log });
  const installScriptTemplate = readInstallScriptTemplate();
  const agentEndpoint: TAgentEndpoint = {
    publicUrl: agentPublicUrl(env, env.FLEET_AGENT_PORT),
    pin: identity.pinned ? identity.pin : null,
  };
  const services = createServices({
    db,
    env,
    log,
    clock: options.clock,
    bus: options.bus,
    tuning: options.tuning,
    agentEndpoint,
    ...(options.replica ? { replica: options.replica } : {}),
  });
  const createContext = createContextFactory(services);
  const uploadHandler = createUploadHandler(services);
  const internalHandler = createInternalHandler({
    gateway: services.gateway,
    uploads: services.uploads,
    imageJobs: services.imageJobs,
    secret: services.clusterSecret,
    log: log.child({ component: "internal-endpoint" }),
  });
  const trpcHandler = createHTTPHandler({
    router: appRouter,
    basePath: TRPC_BASE_PATH,
    maxBodySize: MAX_REQUEST_BODY_BYTES,
    createContext,
    // 503s are retryable: say when (clients and proxies that honour Retry-After wait that long).
    responseMeta({ errors }) {
      const unavailable = errors.some((error) => publicError(error).code === "SERVICE_UNAVAILABLE");
      return unavailable ? { headers: { "retry-after": "2" } } : {};
    },
    onError({ error, path }) {
      if (publicError(error).code === "INTERNAL_SERVER_ERROR") {
        log.error({ err: error.cause ?? error, path }, "tRPC procedure failed");
      }
    },
  });

  const serveMetrics = (req: IncomingMessage, res: ServerResponse) => {
    metricsAccessOf({ db, clock: services.clock, env, authorization: req.headers.authorization }).then(
      (access) => {
        if (access.ok) {
          services.prometheus.handler(req, res);
          return;
        }
        res.writeHead(401, {
          "content-type": "text/plain; charset=utf-8",
          "www-authenticate": 'Bearer realm="fleet metrics"',
        });
        res.end(`${access.problem}\n`);
      },
      (error: unknown) => {
        if (isConnectionError(error)) {
          res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "retry-after": "2" });
          res.end(`${DATABASE_UNAVAILABLE_MESSAGE}\n`);
          return;
        }
        log.error({ err: error }, "checking a /metrics token failed");
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("internal error\n");
      },
    );
  };

  // Set by close(): /readyz answers 503 from then on.
  let draining = false;
  const readiness: Readiness = {
    draining: () => draining,
    database: () => services.dbHealth.status(),
  };

  // SSE responses never finish on their own; close() ends them first.
  const streams = new Set<ServerResponse>();
  let nextHandlers: NextHandlers | null = null;
  const dev = options.dev ?? env.NODE_ENV !== "production";
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const path = pathnameOf(req);
    setSecurityHeaders(res, { https: isHttps(req, env) });
    // The load balancer's checks: no credentials, no input, answered from memory.
    if (serveHealthEndpoint(req, res, path, readiness)) return;
    if (path.startsWith(TRPC_BASE_PATH) || path === TRPC_BASE_PATH.slice(0, -1)) {
      const procedurePath = path.slice(TRPC_BASE_PATH.length);
      const refusal = refusedTrpcRequest(req, procedurePath);
      if (refusal) {
        writeTrpcRefusal(req, res, procedurePath, refusal);
        return;
      }
      if (req.headers.accept?.includes("text/event-stream")) {
        streams.add(res);
        res.once("close", () => streams.delete(res));
      }
      trpcHandler(req, res);
      return;
    }
    // Both need the database first (credentials): without it, say so at once.
    if ((path === UPLOADS_PATH || path === PROMETHEUS_PATH) && !services.dbHealth.healthy) {
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "retry-after": "2" });
      res.end(`${DATABASE_UNAVAILABLE_MESSAGE}\n`);
      return;
    }
    if (path === UPLOADS_PATH) {
      uploadHandler(req, res);
      return;
    }
    // Calls from the other central replicas (they carry the cluster secret).
    if (path.startsWith(INTERNAL_PATH_PREFIX)) {
      internalHandler(req, res);
      return;
    }
    if (path === PROMETHEUS_PATH) {
      serveMetrics(req, res);
      return;
    }
    if (nextHandlers) {
      applyDashboardPolicy(req, res, dev);
      nextHandlers.handle(req, res).catch((error: unknown) => {
        log.error({ err: error, path }, "Next.js request failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("internal error\n");
      });
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  };

  const server: http.Server =
    env.FLEET_TLS_CERT && env.FLEET_TLS_KEY
      ? https.createServer(
          { cert: readFileSync(env.FLEET_TLS_CERT), key: readFileSync(env.FLEET_TLS_KEY) },
          onRequest,
        )
      : http.createServer(onRequest);

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = pathnameOf(req);
    if (path === AGENT_SOCKET_PATH) {
      services.gateway.handleUpgrade(req, socket, head);
      return;
    }
    // Next.js's own sockets (hot reload in dev) are under /_next/.
    if (nextHandlers && path.startsWith("/_next/")) {
      nextHandlers.upgrade(req, socket, head).catch((error: unknown) => {
        log.debug({ err: error }, "Next.js upgrade failed");
        socket.destroy();
      });
      return;
    }
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
  });
  server.on("clientError", (error, socket) => {
    log.debug({ err: error }, "bad HTTP request");
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });

  const agentServer = createAgentEndpointServer({
    identity,
    endpoint: agentEndpoint,
    downloadsDir: downloadsDirOf(env),
    installScriptTemplate,
    log: log.child({ component: "agent-port" }),
    handleAgentUpgrade: (req, socket, head) => services.gateway.handleUpgrade(req, socket, head),
  });

  let bootstrap: TBootstrapResult;
  try {
    ({ bootstrap } = await services.start());
    if (options.next) {
      nextHandlers = await prepareNext({
        server,
        env,
        dev,
        dir: options.nextDir ?? process.cwd(),
      });
    }
    await listen(server, env.PORT, env.HOST);
    services.replica.internalUrl ||= internalUrlOf(server, env);
    await listen(agentServer, env.FLEET_AGENT_PORT, env.HOST);
    agentEndpoint.publicUrl = agentPublicUrl(env, listeningPort(agentServer));
    await services.replicas.start();
  } catch (error) {
    server.close();
    agentServer.close();
    await services.stop().catch(() => {});
    await nextHandlers?.close().catch(() => {});
    if (options.disconnectDbOnClose ?? true) await db.$disconnect().catch(() => {});
    throw error;
  }

  const graceMs = options.shutdownGraceMs ?? 5000;
  const drainMs = options.drainMs ?? 2000;
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      // Drain: no new traffic (readyz 503, stopping in the registry), agents
      // told to dial another replica now, HTTP still served while the load
      // balancer notices.
      draining = true;
      services.gateway.drain();
      // Agents reach the agent port through a TCP balancer (they pin this
      // central's key, so TLS passes through): a refused connection is what
      // makes it send their redials to another replica at once, where a 503
      // would cost a TLS handshake here and a backoff step on every host.
      agentServer.close();
      // The duties move to another replica now rather than once this one has stopped.
      await Promise.race([
        Promise.all([services.replicas.markStopping(), services.duties.release()]),
        sleep(3000),
      ]);
      if (drainMs > 0) await sleep(drainMs);
      const stoppedListening = Promise.all(
        [server, agentServer].map((each) => new Promise<void>((resolve) => each.close(() => resolve()))),
      );
      server.closeIdleConnections();
      agentServer.closeIdleConnections();
      for (const stream of streams) stream.end();
      await services.stop();
      await Promise.race([services.replicas.stop(), sleep(1000)]);
      const cutoff = setTimeout(() => {
        server.closeAllConnections();
        agentServer.closeAllConnections();
      }, graceMs);
      cutoff.unref();
      await stoppedListening;
      clearTimeout(cutoff);
      await nextHandlers
        ?.close()
        .catch((error: unknown) => log.warn({ err: error }, "closing Next.js failed"));
      if (options.disconnectDbOnClose ?? true) await db.$disconnect();
    })();
    return closing;
  };

  return {
    server,
    url: listenUrl(server, env.FLEET_TLS_CERT ? "https" : "http"),
    agentServer,
    agentUrl: listenUrl(agentServer, "https"),
    agentEndpoint,
    services,
    bootstrap,
    close,
  };
}
