// The one place that builds Prisma clients. Prisma 7 runs without an engine
// binary: queries are compiled in-process and sent through node-postgres
// (@prisma/adapter-pg).
//
// Clients are cached on globalThis because this module can load twice in one
// process (server.ts and the Next.js bundle); two copies must not open two
// pools against the same database.
import { PrismaPg } from "@prisma/adapter-pg";
import { Prisma, PrismaClient } from "../../generated/prisma/client";

export { Prisma, PrismaClient };

interface DbRegistry {
  clients: Map<string, PrismaClient>;
  // Set at startup by whoever resolved the database (it may be the embedded
  // one, whose URL is only known once it listens).
  defaultUrl?: string;
}

const registryKey = Symbol.for("fleet.db.registry");
const globalRegistry = globalThis as { [registryKey]?: DbRegistry };
if (!globalRegistry[registryKey]) globalRegistry[registryKey] = { clients: new Map() };
const registry: DbRegistry = globalRegistry[registryKey];

// What each client was built for: a replica opens its own connections for
// LISTEN/NOTIFY to the same database as its Prisma client.
const urlOfClient = new WeakMap<PrismaClient, string>();

// A new, uncached client; the caller owns it and must $disconnect() it.
export function createPrismaClient(databaseUrl: string): PrismaClient {
  // adapter-pg reads timestamptz values as if they were UTC, whatever offset the
  // server prints: pin every session to UTC or times come back shifted.
  const client = new PrismaClient({
    adapter: new PrismaPg({
      connectionString: databaseUrl,
      options: "-c TimeZone=UTC",
      // A database host that drops packets instead of refusing would leave a
      // new connection hanging; fail it so the caller answers 503 and retries.
      connectionTimeoutMillis: 10_000,
    }),
  });
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
