// A fresh, migrated database per integration test file, on the server the
// integration project's globalSetup provides (./global-setup.ts). Unique names
// let test files run in parallel against one server. May import: vitest, pg,
// and the web app's migrator.
import { randomBytes } from "node:crypto";
import { migrate } from "@fleet/web/server/db/migrator";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
// For the `postgresAdminUrl` key of vitest's ProvidedContext.
import type {} from "./global-setup";

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  // Apply prisma/migrations (default). Without it the database is empty.
  migrate?: boolean;
}

export function postgresAdminUrl(): string {
  const url = inject("postgresAdminUrl");
  if (!url) {
    throw new Error(
      "no test PostgreSQL: run this file in the `integration` vitest project (its globalSetup starts one)",
    );
  }
  return url;
}

export function databaseUrl(adminUrl: string, databaseName: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  return url.toString();
}

async function withAdminClient<T>(adminUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const adminUrl = postgresAdminUrl();
  const name = `fleet_test_${process.pid}_${randomBytes(5).toString("hex")}`;
  await withAdminClient(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = databaseUrl(adminUrl, name);
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    // FORCE ends sessions a test left open (a Prisma pool, a stuck client).
    await withAdminClient(adminUrl, (client) =>
      client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    );
  };
  if (options.migrate ?? true) {
    try {
      await migrate({ databaseUrl: url });
    } catch (error) {
      await drop();
      throw error;
    }
  }
  return { name, url, drop };
}

// One database for the whole test file: created in beforeAll, dropped in
// afterAll. Call the returned getter inside tests or hooks.
export function useTestDatabase(options: CreateTestDatabaseOptions = {}): () => TestDatabase {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(options);
  });
  afterAll(async () => {
    await database?.drop();
  });
  return () => {
    if (!database) throw new Error("useTestDatabase(): the database exists only inside tests and hooks");
    return database;
  };
}
