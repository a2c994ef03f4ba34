import { makeContainerSample, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { createTestDatabase, type TestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "../../db/client";
import { insertContainerSamples, insertHostSamples } from "./sample-writer";

let database: TestDatabase;
let db: PrismaClient;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createPrismaClient(database.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

describe("sample writer", () => {
  it("writes a batch in one statement and skips keys already stored", async () => {
    const ts = Date.UTC(2030, 0, 1, 12, 0, 0, 123);
    const rows = Array.from({ length: 300 }, (_, i) => ({
      kind: "container" as const,
      hostId: "h-1",
      sample: makeContainerSample({
        containerId: `c-${i % 30}`,
        ts: ts + Math.floor(i / 30) * 5000,
        cpuThrottledNs: 2 ** 60,
        memoryLimitBytes: i % 2 === 0 ? null : 1024,
      }),
    }));
    expect(await insertContainerSamples(db, rows)).toBe(300);
    expect(await insertContainerSamples(db, rows.slice(0, 10))).toBe(0);
    const stored = await db.containerSample.findFirstOrThrow({
      where: { containerId: "c-1", ts: new Date(ts) },
    });
    expect(stored.cpuThrottledNs).toBe(2n ** 60n);
    expect(stored.memoryLimitBytes).toBe(1024n);
    expect(stored.hostId).toBe("h-1");
    expect(
      await insertHostSamples(db, [{ kind: "host", hostId: "h-1", sample: makeHostSample({ ts }) }]),
    ).toBe(1);
    expect(await db.hostSample.count()).toBe(1);
  });

  it("keeps every millisecond of the timestamps and ids that look like keywords", async () => {
    const base = Date.UTC(2031, 2, 3, 4, 5, 6);
    const times = Array.from({ length: 1000 }, (_, i) => base + i * 1001);
    const rows = times.map((ts) => ({
      kind: "container" as const,
      hostId: "null",
      sample: makeContainerSample({ containerId: "null", ts }),
    }));
    expect(await insertContainerSamples(db, rows)).toBe(1000);
    const stored = await db.containerSample.findMany({
      where: { containerId: "null" },
      orderBy: { ts: "asc" },
      select: { ts: true, hostId: true },
    });
    expect(stored.map((row) => row.ts.getTime())).toEqual(times);
    expect(new Set(stored.map((row) => row.hostId))).toEqual(new Set(["null"]));
  });
});
