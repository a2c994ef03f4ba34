import { makeContainerSample, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { createTestDatabase, type TestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "../../db/client";
import { SAMPLE_COPY_APPLICATION_NAME } from "../../db/sample-copy";
import { ensureSamplePartitions, utcDay } from "./partitions";
import type { QueuedContainerSample } from "./sample-rows";
import {
  createSampleWriter,
  insertContainerSamples,
  insertHostSamples,
  type SampleWriter,
} from "./sample-writer";

const containerRow = (
  containerId: string,
  ts: number,
  overrides: Parameters<typeof makeContainerSample>[0] = {},
  hostId = "h-copy",
): QueuedContainerSample => ({
  kind: "container",
  hostId,
  sample: makeContainerSample({ containerId, ts, ...overrides }),
});

/** One batch of rows as the service queues them (encoded as they arrive), written. */
const writeBatch = (writer: SampleWriter, rows: readonly QueuedContainerSample[]) =>
  writer.write(rows.flatMap((row) => writer.encode(row.hostId, [row.sample], null)));

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

  it("skips duplicates within a batch and across batches, counting only rows newly stored", async () => {
    const writer = createSampleWriter({ db, connections: 2 });
    try {
      const ts = Date.UTC(2030, 1, 1, 0, 0, 0);
      // Within one batch: the first of a duplicate key is stored.
      const first = [
        containerRow("dup-a", ts, { cpuCores: 1 }),
        containerRow("dup-a", ts, { cpuCores: 9 }),
        containerRow("dup-b", ts),
      ];
      expect(await writeBatch(writer, first)).toBe(2);
      // Across batches: a batch with one stored key (the direct COPY is refused) still stores the rest.
      const second = [
        containerRow("dup-a", ts, { cpuCores: 7 }),
        containerRow("dup-a", ts + 5000),
        containerRow("dup-c", ts),
      ];
      expect(await writeBatch(writer, second)).toBe(2);
      // A batch seen twice stores nothing the second time.
      expect(await writeBatch(writer, second)).toBe(0);
      // Concurrent batches that overlap, in different orders (as resends can): every key
      // once, counted once, whether a batch meets the other's rows or deadlocks with it.
      const shared = Array.from({ length: 300 }, (_, i) => containerRow(`dup-p${i % 20}`, ts + i * 1000));
      const overlapping = Array.from({ length: 4 }, (_, batch) => {
        const rotated = [...shared.slice(batch * 75), ...shared.slice(0, batch * 75)];
        const own = Array.from({ length: 50 }, (_, i) => containerRow(`dup-q${batch}`, ts + i * 1000));
        return [...(batch % 2 === 0 ? rotated : rotated.reverse()), ...own];
      });
      const counts = await Promise.all(overlapping.map((rows) => writeBatch(writer, rows)));
      const keys = new Set(overlapping.flat().map((row) => `${row.sample.containerId}/${row.sample.ts}`));
      expect(counts.reduce((sum, n) => sum + n, 0)).toBe(keys.size);
      const stored = await db.containerSample.findMany({
        where: { containerId: { startsWith: "dup-" } },
        select: { containerId: true, ts: true, cpuCores: true },
      });
      expect(stored).toHaveLength(4 + keys.size);
      expect(stored.find((row) => row.containerId === "dup-a" && row.ts.getTime() === ts)?.cpuCores).toBe(1);
      // The writer's connections show up under their own name.
      const sessions = await db.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = ${SAMPLE_COPY_APPLICATION_NAME}`;
      expect(Number(sessions[0]?.n)).toBeGreaterThan(0);
    } finally {
      await writer.close();
    }
  });

  it("keeps text that COPY's text format would have to escape, and nulls", async () => {
    const ts = Date.UTC(2030, 2, 1);
    const awkward = [
      "tab\there",
      "line\nbreak",
      "cr\rhere",
      "back\\slash",
      "\\N",
      "\\.",
      'quote"d',
      "ünïcødé",
    ];
    const rows = awkward.map((containerId, i) =>
      containerRow(
        containerId,
        ts,
        { memoryLimitBytes: i % 2 === 0 ? null : 1024, pidsLimit: null },
        `host ${i}\t`,
      ),
    );
    expect(await insertContainerSamples(db, rows)).toBe(awkward.length);
    const stored = await db.containerSample.findMany({
      where: { containerId: { in: awkward } },
      select: { containerId: true, hostId: true, memoryLimitBytes: true, pidsLimit: true },
    });
    expect(new Set(stored.map((row) => row.containerId))).toEqual(new Set(awkward));
    for (const row of stored) {
      const i = awkward.indexOf(row.containerId);
      expect(row.hostId).toBe(`host ${i}\t`);
      expect(row.memoryLimitBytes).toBe(i % 2 === 0 ? null : 1024n);
      expect(row.pidsLimit).toBeNull();
    }
  });

  it("stores a sample whose day has no partition yet, and skips it once the partition exists", async () => {
    // Far from today: no partition for that day exists, the DEFAULT partition catches it.
    const ts = Date.UTC(2040, 6, 15, 10, 0, 0, 7);
    const rows = [containerRow("future-1", ts), containerRow("future-2", ts)];
    expect(await insertContainerSamples(db, rows)).toBe(2);
    const where = (table: string) =>
      db.$queryRawUnsafe<{ n: bigint }[]>(
        `SELECT count(*) AS n FROM "${table}" WHERE container_id LIKE 'future-%'`,
      );
    expect(Number((await where("container_samples_default"))[0]?.n)).toBe(2);
    // The day's partition is made later: the rows move into it, and a resend is still a duplicate.
    await ensureSamplePartitions(db, ts);
    const partition = `container_samples_p${utcDay(ts).replaceAll("-", "")}`;
    expect(Number((await where(partition))[0]?.n)).toBe(2);
    expect(await insertContainerSamples(db, [...rows, containerRow("future-3", ts)])).toBe(1);
    expect(Number((await where(partition))[0]?.n)).toBe(3);
    // Years past 9999 (an agent clock far off) are stored as the INSERT stored them.
    const farOff = Date.UTC(12345, 5, 6, 7, 8, 9, 10);
    expect(await insertContainerSamples(db, [containerRow("future-far", farOff)])).toBe(1);
    // Read back in SQL: the Prisma adapter cannot parse a five-digit year.
    const far = await db.$queryRaw<{ ms: bigint }[]>`
      SELECT (extract(epoch FROM ts) * 1000)::int8 AS ms FROM container_samples WHERE container_id = 'future-far'`;
    expect(far.map((row) => Number(row.ms))).toEqual([farOff]);
  });
});
