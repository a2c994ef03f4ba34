/**
 * A real central for integration tests: the app server on port 0 (Next.js
 * off) against a test database, and tRPC clients that talk to it over HTTP
 * as a browser (cookie jar) or a program (bearer token) would.
 *
 * May import: anything of the central (it is test code): the app server, the
 * composition root's options (`../central`), `../db/client`, @trpc/client,
 * superjson, pino.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "@fleet/shared/clock";
import { findFreePort } from "@fleet/test/harness/ports";
import {
  createTRPCClient,
  createTRPCUntypedClient,
  httpLink,
  type TRPCClient,
  TRPCClientError,
} from "@trpc/client";
import { pino } from "pino";
import superjson from "superjson";
import { createFleetServer, type FleetServer } from "../app-server";
import type { CreateServicesOptions } from "../central";
import { createPrismaClient, type PrismaClient } from "../db/client";
import { loadEnv, type TEnvSource } from "../env";
import type { EventBus } from "../events/event-bus";
import type { Logger } from "../logger";
import type { AppRouter } from "../routers/_app";

/** Log lines a test can read (pino's JSON, parsed). */
export interface CapturedLog {
  logger: Logger;
  lines: { level: number; msg: string; [key: string]: unknown }[];
  text(): string;
}

export function captureLog(level = "info"): CapturedLog {
  const lines: CapturedLog["lines"] = [];
  const logger = pino(
    { level },
    {
      write(line: string) {
        lines.push(JSON.parse(line));
      },
    },
  );
  return { logger, lines, text: () => lines.map((line) => line.msg).join("\n") };
}

export interface TestServer {
  fleet: FleetServer;
  url: string;
  /** The server's own Prisma client (closed with the server). */
  db: PrismaClient;
  log: CapturedLog;
  close(): Promise<void>;
}

// Data dirs of servers a test never closed, removed when the process ends.
const dataDirsToRemove = new Set<string>();
process.once("exit", () => {
  for (const dir of dataDirsToRemove) rmSync(dir, { recursive: true, force: true });
});

export async function startTestServer(options: {
  databaseUrl: string;
  env?: TEnvSource;
  clock?: Clock;
  bus?: EventBus;
  log?: CapturedLog;
  tuning?: CreateServicesOptions["tuning"];
  /** How long close() drains before it stops serving (default 0: tests do not wait for a load balancer). */
  drainMs?: number;
}): Promise<TestServer> {
  // The agent port's key and certificate go here unless the test names a data dir.
  const ownDataDir = options.env?.FLEET_DATA_DIR ? null : mkdtempSync(join(tmpdir(), "fleet-test-central-"));
  if (ownDataDir) dataDirsToRemove.add(ownDataDir);
  const removeDataDir = () => {
    if (!ownDataDir) return;
    rmSync(ownDataDir, { recursive: true, force: true });
    dataDirsToRemove.delete(ownDataDir);
  };
  const env = loadEnv({
    NODE_ENV: "test",
    PORT: String(await findFreePort()),
    FLEET_AGENT_PORT: String(await findFreePort()),
    HOST: "127.0.0.1",
    FLEET_PUBLIC_URL: "http://fleet.test:3000",
    ...(ownDataDir ? { FLEET_DATA_DIR: ownDataDir } : {}),
    ...options.env,
  });
  const log = options.log ?? captureLog();
  const db = createPrismaClient(options.databaseUrl);
  let fleet: FleetServer;
  try {
    fleet = await createFleetServer({
      env,
      db,
      log: log.logger,
      next: false,
      clock: options.clock,
      bus: options.bus,
      tuning: options.tuning,
      shutdownGraceMs: 1000,
      drainMs: options.drainMs ?? 0,
    });
  } catch (error) {
    removeDataDir();
    throw error;
  }
  return { fleet, url: fleet.url, db, log, close: () => fleet.close().finally(removeDataDir) };
}

/** How a test client proves who it is. */
export type TClientCredentials = { bearer: string } | { cookies: CookieJar } | null;

/** The cookies a server set, sent back on later requests (enough for one origin). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const equals = pair.indexOf("=");
      const name = pair.slice(0, equals).trim();
      const value = pair.slice(equals + 1).trim();
      const expired = /max-age=0(;|$)/i.test(line) || value === "";
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

function linkFor(url: string, credentials: TClientCredentials) {
  return httpLink({
    url: `${url}/api/trpc`,
    transformer: superjson,
    headers() {
      if (!credentials) return {};
      if ("bearer" in credentials) return { authorization: `Bearer ${credentials.bearer}` };
      // As a browser on the dashboard's page sends them: the cookie counts only from our own origin.
      const cookie = credentials.cookies.header();
      return cookie ? { cookie, origin: url } : { origin: url };
    },
    async fetch(input, init) {
      const response = await fetch(input, init);
      if (credentials && "cookies" in credentials) credentials.cookies.store(response);
      return response;
    },
  });
}

export function createTestClient(url: string, credentials: TClientCredentials = null): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({ links: [linkFor(url, credentials)] });
}

/** For calling procedures by path string (iterating over the router). */
export function createUntypedTestClient(url: string, credentials: TClientCredentials = null) {
  return createTRPCUntypedClient<AppRouter>({ links: [linkFor(url, credentials)] });
}

/** The tRPC error code (`FORBIDDEN`, `BAD_REQUEST`, …) a failed call came back with. */
export function trpcErrorCode(error: unknown): string | undefined {
  return error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : undefined;
}
