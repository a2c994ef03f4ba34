import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "@fleet/test/harness/postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient } from "../db";
import { DEFAULT_EMBEDDED_POSTGRES_PORT, resolveDatabase, startEmbeddedPostgres } from "./embedded-postgres";
import { migrate, readMigrations } from "./migrator";
import { defaultMigrationsDir } from "./project-paths";
import { findSchemaDrift } from "./schema-drift";

let fleetDataDir: string;

beforeAll(async () => {
  fleetDataDir = await mkdtemp(join(tmpdir(), "fleet-embedded-"));
});

afterAll(async () => {
  await rm(fleetDataDir, { recursive: true, force: true });
});

describe("the embedded database", () => {
  it("is migrated on first start, keeps its data across restarts, and is up to date after", async () => {
    const env = { FLEET_DATA_DIR: fleetDataDir };
    const local = await readMigrations(defaultMigrationsDir());

    const first = await resolveDatabase({ env });
    try {
      expect(first.embedded).toBe(true);
      expect(first.applied).toEqual(local.map((migration) => migration.name));
      expect(first.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres/);
      expect(await findSchemaDrift({ databaseUrl: first.url })).toEqual([]);
      const prisma = createPrismaClient(first.url);
      try {
        await prisma.host.create({
          data: {
            name: "embedded-host",
            labels: { zone: "a" },
            cpuCapacityMillis: 4000,
            memoryCapacityBytes: 16n * 1024n ** 3n,
          },
        });
      } finally {
        await prisma.$disconnect();
      }
    } finally {
      await first.stop();
    }

    const second = await resolveDatabase({ env });
    try {
      expect(second.applied).toEqual([]);
      expect((await migrate({ databaseUrl: second.url })).applied).toEqual([]);
      const prisma = createPrismaClient(second.url);
      try {
        const host = await prisma.host.findUniqueOrThrow({
          where: { name: "embedded-host" },
          select: { labels: true, cpuCapacityMillis: true, memoryCapacityBytes: true, status: true },
        });
        expect(host).toEqual({
          labels: { zone: "a" },
          cpuCapacityMillis: 4000,
          memoryCapacityBytes: 16n * 1024n ** 3n,
          status: "offline",
        });
      } finally {
        await prisma.$disconnect();
      }
    } finally {
      await second.stop();
    }
  });

  it("refuses a data directory that is already open", async () => {
    // The directory of the first test, so no second initdb is needed.
    const dataDir = join(fleetDataDir, "pgdata");
    const running = await startEmbeddedPostgres({ dataDir });
    try {
      await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/already open/);
    } finally {
      await running.stop();
    }
  });

  it("falls back to another port below 32768 when the default one is taken", async () => {
    // Hold the default port (unless something else already does).
    const holder: Server = createServer();
    await new Promise<void>((resolve) => {
      holder.once("error", () => resolve());
      holder.listen(DEFAULT_EMBEDDED_POSTGRES_PORT, "127.0.0.1", () => resolve());
    });
    const embedded = await startEmbeddedPostgres({ dataDir: join(fleetDataDir, "pgdata") });
    try {
      expect(embedded.port).not.toBe(DEFAULT_EMBEDDED_POSTGRES_PORT);
      expect(embedded.port).toBeLessThan(32768);
      const client = new pg.Client({ connectionString: embedded.url });
      await client.connect();
      try {
        const result = await client.query<{ answer: number }>("SELECT 6 * 7 AS answer");
        expect(result.rows[0]?.answer).toBe(42);
      } finally {
        await client.end();
      }
    } finally {
      await embedded.stop();
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });
});

describe("resolveDatabase with DATABASE_URL", () => {
  it("migrates the given server and starts no embedded database", async () => {
    const external = await createTestDatabase({ migrate: false });
    try {
      const env = { DATABASE_URL: external.url, FLEET_DATA_DIR: join(fleetDataDir, "unused") };
      const local = await readMigrations(defaultMigrationsDir());

      const resolved = await resolveDatabase({ env });
      await resolved.stop();
      const again = await resolveDatabase({ env });

      expect(resolved).toMatchObject({ url: external.url, embedded: false });
      expect(resolved.applied).toEqual(local.map((migration) => migration.name));
      expect(again.applied).toEqual([]);
      expect(existsSync(join(fleetDataDir, "unused"))).toBe(false);
    } finally {
      await external.drop();
    }
  });
});
