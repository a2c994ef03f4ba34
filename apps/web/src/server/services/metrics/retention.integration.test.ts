// Retention: raw samples go by whole daily partitions, rollups by bucket.

import { ManualClock } from "@fleet/shared/testing/manual-clock";
import { createTestDatabase, type TestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "../../db/client";
import { silentLogger } from "../../logger";
import { createMetricsService, type MetricsService } from "./metrics-service";
import {
  containerSample,
  createContainer,
  createHost,
  hostSample,
  metricsEnv,
  metricsFrame,
} from "./testing/metrics-fixtures";

let database: TestDatabase;
let db: PrismaClient;
let metrics: MetricsService;
const NOW = Date.UTC(2030, 5, 10, 12, 0, 0);
const DAY = 24 * 60 * 60_000;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createPrismaClient(database.url);
  metrics = createMetricsService({ db, env: metricsEnv(), log: silentLogger(), clock: new ManualClock(NOW) });
  await metrics.start();
});

afterAll(async () => {
  await metrics?.stop();
  await db?.$disconnect();
  await database?.drop();
});

async function partitions(): Promise<string[]> {
  const rows = await db.$queryRaw<{ name: string }[]>`
    SELECT relname AS name FROM pg_class WHERE relname ~ '^container_samples_p[0-9]{8}$' ORDER BY relname`;
  return rows.map((row) => row.name);
}

function rollupRow(containerId: string, hostId: string, bucket: number) {
  return {
    containerId,
    hostId,
    bucket: new Date(bucket),
    sampleCount: 1,
    cpuCoresAvg: 0.1,
    cpuCoresMax: 0.1,
    memoryUsageBytesAvg: 1n,
    memoryUsageBytesMax: 1n,
    memoryWorkingSetBytesAvg: 1n,
    memoryWorkingSetBytesMax: 1n,
    memoryLimitBytesMax: null,
    pidsCurrentMax: 1,
    cpuThrottledPeriodsDelta: 0n,
    cpuThrottledNsDelta: 0n,
    memoryFailcntDelta: 0n,
    oomKillsDelta: 0,
    cpuThrottledPeriodsLast: 0n,
    cpuThrottledNsLast: 0n,
    memoryFailcntLast: 0n,
    oomKillsLast: 0,
    netRxBytesLast: 0n,
    netTxBytesLast: 0n,
    netRxPacketsLast: 0n,
    netTxPacketsLast: 0n,
    blkReadBytesLast: 0n,
    blkWriteBytesLast: 0n,
  };
}

describe("retention", () => {
  it("drops raw partitions past retention and deletes old rollups", async () => {
    const hostId = await createHost(db);
    const containerId = await createContainer(db, hostId);
    await db.$queryRaw`SELECT fleet_ensure_daily_partitions('container_samples', '2030-06-01'::date, 1)`;
    await db.$queryRaw`SELECT fleet_ensure_daily_partitions('host_samples', '2030-06-01'::date, 1)`;
    const old = Date.UTC(2030, 5, 1, 12, 0, 0);
    // A day with no partition of its own: the row sits in the DEFAULT partition.
    const older = Date.UTC(2030, 4, 20, 12, 0, 0);
    // 23 h old: within the 24 h retention.
    const recent = NOW - 23 * 60 * 60_000;
    // 25 h old but on the first retained day (2030-06-09): partitions go whole.
    const yesterdayMorning = NOW - 25 * 60 * 60_000;
    for (const ts of [old, older, recent, yesterdayMorning]) {
      await metrics.ingest(hostId, metricsFrame([containerSample(containerId, ts)], hostSample(ts)));
    }
    await metrics.flush();
    expect(await partitions()).toContain("container_samples_p20300601");

    await db.containerSampleMinute.createMany({
      data: [rollupRow(containerId, hostId, NOW - 8 * DAY), rollupRow(containerId, hostId, NOW - 6 * DAY)],
    });
    await db.containerSampleHour.createMany({
      data: [rollupRow(containerId, hostId, NOW - 91 * DAY), rollupRow(containerId, hostId, NOW - 89 * DAY)],
    });

    const report = await metrics.runMaintenance();
    expect(report.retention.droppedPartitions.sort()).toEqual([
      "container_samples_p20300601",
      "host_samples_p20300601",
    ]);
    expect(await partitions()).toEqual([
      "container_samples_p20300609",
      "container_samples_p20300610",
      "container_samples_p20300611",
      "container_samples_p20300612",
    ]);
    const kept = await db.containerSample.findMany({ where: { containerId }, orderBy: { ts: "asc" } });
    expect(kept.map((row) => row.ts.getTime())).toEqual([yesterdayMorning, recent]);
    expect(await db.hostSample.count({ where: { hostId } })).toBe(2);

    expect(report.retention.minuteRowsDeleted).toBe(1);
    expect(report.retention.hourRowsDeleted).toBe(1);
    const minutes = await db.containerSampleMinute.findMany({ where: { containerId } });
    expect(minutes.map((row) => row.bucket.getTime())).toEqual([NOW - 6 * DAY]);
    const hours = await db.containerSampleHour.findMany({ where: { containerId } });
    expect(hours.map((row) => row.bucket.getTime())).toEqual([NOW - 89 * DAY]);

    // Nothing left to do the second time.
    const again = await metrics.runMaintenance();
    expect(again.retention).toEqual({ droppedPartitions: [], minuteRowsDeleted: 0, hourRowsDeleted: 0 });
  });
});
