// The one place that builds Prisma clients. Prisma 7 runs without an engine
// binary: queries are compiled in-process and sent through node-postgres
// (@prisma/adapter-pg).
//
// Clients are cached on globalThis because this module can load twice in one
// process (server.ts and the Next.js bundle); two copies must not open two
// pools against the same database.
import { AsyncLocalStorage } from "node:async_hooks";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { Prisma, PrismaClient } from "../../generated/prisma/client";

export { Prisma, PrismaClient };

interface DbRegistry {
  clients: Map<string, PrismaClient>;
  /** Set while the API answers a read: its queries take the API's own connections. */
  apiReads: AsyncLocalStorage<true>;
  // Set at startup by whoever resolved the database (it may be the embedded
  // one, whose URL is only known once it listens).
  defaultUrl?: string;
}

const registryKey = Symbol.for("fleet.db.registry");
const globalRegistry = globalThis as { [registryKey]?: DbRegistry };
if (!globalRegistry[registryKey]) {
  globalRegistry[registryKey] = { clients: new Map(), apiReads: new AsyncLocalStorage() };
}
const registry: DbRegistry = globalRegistry[registryKey];

// What each client was built for: a replica opens its own connections for
// LISTEN/NOTIFY to the same database as its Prisma client.
const urlOfClient = new WeakMap<PrismaClient, string>();

/** Connections for everything but the API's reads (node-postgres's default). */
export const MAIN_POOL_MAX = 10;
/** Connections kept for the API's reads: a few dashboards and programs polling at once. */
const API_POOL_MAX = 4;

/**
 * A pool with a second, smaller pool beside it for the API's reads (see
 * asApiRead). At fleet scale the agents' frames keep every connection of the
 * main pool busy in bursts, with a hundred queries waiting behind them; a
 * dashboard call queued there waited seconds for a query that takes
 * milliseconds. node-postgres's `query` takes its connection through
 * `connect`, so choosing the pool there routes both.
 */
class PoolWithApiLane extends pg.Pool {
  private readonly apiLane: pg.Pool;

  constructor(config: pg.PoolConfig) {
    super({ ...config, max: MAIN_POOL_MAX });
    this.apiLane = new pg.Pool({ ...config, max: API_POOL_MAX });
    // An idle connection that breaks emits here; the adapter listens on the main pool.
    this.apiLane.on("error", (error) => this.emit("error", error));
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(
    callback: (
      err: Error | undefined,
      client: pg.PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): void;
  override connect(
    callback?: (
      err: Error | undefined,
      client: pg.PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): Promise<pg.PoolClient> | undefined {
    const pool = registry.apiReads.getStore() ? this.apiLane : null;
    if (!callback) return pool ? pool.connect() : super.connect();
    if (pool) pool.connect(callback);
    else super.connect(callback);
    return undefined;
  }

  override async end(): Promise<void> {
    await Promise.all([super.end(), this.apiLane.end()]);
  }
}

/**
 * Runs `work` (and everything it starts) with its queries on the API's own
 * connections: for reads that answer a caller, so they never wait behind the
 * agents' writes. Writes stay on the main pool, whose size bounds them.
 */
export function asApiRead<T>(work: () => PromiseLike<T>): Promise<T> {
  // Awaited inside: a Prisma query is lazy and would otherwise start where it is awaited.
  return registry.apiReads.run(true, async () => await work());
}

// A new, uncached client; the caller owns it and must $disconnect() it.
export function createPrismaClient(databaseUrl: string): PrismaClient {
  const pool = new PoolWithApiLane({
    connectionString: databaseUrl,
    // adapter-pg reads timestamptz values as if they were UTC, whatever offset the
    // server prints: pin every session to UTC or times come back shifted.
    options: "-c TimeZone=UTC",
    // A database host that drops packets instead of refusing would leave a
    // new connection hanging; fail it so the caller answers 503 and retries.
    connectionTimeoutMillis: 10_000,
  });
  // The adapter ends a pool it was given only when told to.
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  urlOfClient.set(client, databaseUrl);
  return client;
}

/** The URL a client of `createPrismaClient` connects to (null for any other client). */
export function databaseUrlOf(client: PrismaClient): string | null {
  return urlOfClient.get(client) ?? null;
}

// Makes `url` what getDb() uses from now on.
export function setDatabaseUrl(url: string): void {
  registry.defaultUrl = url;
}

function defaultDatabaseUrl(): string {
  // resolveDatabase() honours DATABASE_URL, so its URL is the only default.
  const url = registry.defaultUrl;
  if (!url) throw new Error("no database URL: call setDatabaseUrl() with the URL from resolveDatabase()");
  return url;
}

// The shared client for a database (the default one when no URL is given).
export function getDb(databaseUrl?: string): PrismaClient {
  const url = databaseUrl ?? defaultDatabaseUrl();
  let client = registry.clients.get(url);
  if (!client) {
    client = createPrismaClient(url);
    registry.clients.set(url, client);
  }
  return client;
}

// Disconnects every cached client (shutdown, end of a test file).
export async function disconnectDb(): Promise<void> {
  const clients = [...registry.clients.values()];
  registry.clients.clear();
  await Promise.all(clients.map((client) => client.$disconnect()));
}
