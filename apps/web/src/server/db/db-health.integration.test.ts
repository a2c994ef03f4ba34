import { createTestDatabase, useTestDatabase } from "@fleet/test/harness/postgres";
import { startTcpProxy } from "@fleet/test/harness/tcp-proxy";
import { describe, expect, it } from "vitest";
import { createPrismaClient } from "./client";
import { createDbHealth, isConnectionError } from "./db-health";
import { holdMainPool } from "./testing/hold-main-pool";

const quiet = { info: () => {}, warn: () => {} };

describe("the database health monitor", () => {
  const database = useTestDatabase();

  it("is healthy against a migrated database, with no migration pending", async () => {
    const db = createPrismaClient(database().url);
    const health = createDbHealth({ db, log: quiet, intervalMs: 50 });
    try {
      await health.start();
      expect(health.status()).toEqual({ healthy: true, problem: null, pendingMigrations: [] });
    } finally {
      health.stop();
      await db.$disconnect();
    }
  });

  it("stays healthy while other work holds every connection of the main pool: a busy pool is no outage", async () => {
    const db = createPrismaClient(database().url);
    const health = createDbHealth({
      db,
      log: quiet,
      intervalMs: 50,
      timeoutMs: 300,
      slowChecksBeforeDown: 1,
    });
    const release = await holdMainPool(db);
    try {
      await health.start();
      // Ten checks' worth, each of which would time out queued behind the held connections.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(health.status()).toMatchObject({ healthy: true, problem: null });
    } finally {
      await release();
      health.stop();
      await db.$disconnect();
    }
  });

  it("names the migrations a database lacks", async () => {
    const bare = await createTestDatabase({ migrate: false });
    const db = createPrismaClient(bare.url);
    const health = createDbHealth({ db, log: quiet, intervalMs: 50 });
    try {
      await health.start();
      const status = health.status();
      expect(status.healthy).toBe(true);
      expect(status.pendingMigrations?.length).toBeGreaterThan(5);
      expect(status.pendingMigrations?.[0]).toMatch(/_init$/);
    } finally {
      health.stop();
      await db.$disconnect();
      await bare.drop();
    }
  });

  it("turns unhealthy within about a second of losing the database, and healthy once it is back", async () => {
    const url = new URL(database().url);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    const db = createPrismaClient(proxy.urlThrough(database().url));
    const health = createDbHealth({ db, log: quiet, intervalMs: 100, timeoutMs: 300 });
    const changes: boolean[] = [];
    health.onChange((healthy) => changes.push(healthy));
    try {
      await health.start();
      expect(health.healthy).toBe(true);

      proxy.cut();
      const cutAt = performance.now();
      // A query that fails this way is what callers report.
      const failure = await db.host.count().then(
        () => null,
        (error: unknown) => error,
      );
      expect(isConnectionError(failure)).toBe(true);
      health.suspect();
      while (health.healthy && performance.now() - cutAt < 3000) await new Promise((r) => setTimeout(r, 20));
      expect(health.healthy).toBe(false);
      expect(performance.now() - cutAt).toBeLessThan(1500);
      expect(health.status().problem).toMatch(/^database unreachable: /);

      const waiting = health.whenHealthy(5000);
      proxy.restore();
      expect(await waiting).toBe(true);
      expect(health.status()).toMatchObject({ healthy: true, problem: null });
      expect(changes).toEqual([false, true]);
      expect(await db.host.count()).toBe(0);
    } finally {
      health.stop();
      await db.$disconnect();
      await proxy.close();
    }
  });
});
