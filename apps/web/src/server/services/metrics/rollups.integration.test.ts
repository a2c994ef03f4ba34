// Raw → minute → hour rollups over a hand-made set of samples whose averages,
// maxima, counter increases and last values are worked out below.

import { ManualClock } from "@fleet/shared/testing/manual-clock";
import { createTestDatabase, type TestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "../../db/client";
import { silentLogger } from "../../logger";
import { createMetricsService, type MetricsService } from "./metrics-service";
import { SampleRollups } from "./rollups";
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
let clock: ManualClock;
let metrics: MetricsService;
let hostId: string;
let containerId: string;

const T0 = Date.UTC(2030, 5, 1, 12, 0, 0);
const at = (minutes: number, seconds: number) => T0 + minutes * 60_000 + seconds * 1000;
const MIB = 1024 * 1024;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createPrismaClient(database.url);
  clock = new ManualClock(T0);
  metrics = createMetricsService({ db, env: metricsEnv(), log: silentLogger(), clock });
  await metrics.start();
  hostId = await createHost(db);
  containerId = await createContainer(db, hostId);
});

afterAll(async () => {
  await metrics?.stop();
  await db?.$disconnect();
  await database?.drop();
});

async function send(
  ts: number,
  values: Parameters<typeof containerSample>[2],
  hostCpu?: number,
): Promise<void> {
  await metrics.ingest(
    hostId,
    metricsFrame(
      [containerSample(containerId, ts, values)],
      hostCpu === undefined
        ? null
        : hostSample(ts, { cpuCores: hostCpu, memoryAvailableBytes: hostCpu * MIB }),
    ),
  );
}

async function minuteRows() {
  return db.containerSampleMinute.findMany({ where: { containerId }, orderBy: { bucket: "asc" } });
}

describe("rollups", () => {
  it("rolls closed minutes into exact averages, maxima, increases and last values", async () => {
    // The previous sample, before the first minute: the baseline of its counter increases.
    await send(at(-1, 50), {
      cpuCores: 0.1,
      memoryUsageBytes: 50,
      cpuThrottledPeriods: 4,
      oomKills: 0,
      netRxBytes: 100,
    });
    await send(
      at(0, 5),
      { cpuCores: 0.2, memoryUsageBytes: 100, cpuThrottledPeriods: 10, netRxBytes: 200 },
      1,
    );
    await send(
      at(0, 25),
      { cpuCores: 0.4, memoryUsageBytes: 300, cpuThrottledPeriods: 15, netRxBytes: 300 },
      3,
    );
    await send(at(0, 45), {
      cpuCores: 0.9,
      memoryUsageBytes: 200,
      cpuThrottledPeriods: 15,
      oomKills: 1,
      netRxBytes: 400,
    });
    // The container restarted: its counter starts again from zero.
    await send(at(1, 5), { cpuCores: 1.0, memoryUsageBytes: 500, cpuThrottledPeriods: 3, oomKills: 0 }, 2);
    await send(at(1, 35), {
      cpuCores: 0.0,
      memoryUsageBytes: 100,
      cpuThrottledPeriods: 8,
      memoryLimitBytes: null,
    });
    // Still open when the rollup runs (its minute ends less than the grace period ago).
    await send(at(2, 5), { cpuCores: 5, memoryUsageBytes: 600 });
    await metrics.flush();

    await clock.advance(at(2, 20) - clock.now());
    // The background rollup (a timer on the same clock) may already have rolled the first minute.
    await metrics.rollup();

    const rows = await minuteRows();
    expect(rows.map((row) => row.bucket.getTime())).toEqual([at(-1, 0), at(0, 0), at(1, 0)]);
    const [, first, second] = rows;
    expect(first).toMatchObject({
      hostId,
      sampleCount: 3,
      cpuCoresMax: 0.9,
      memoryUsageBytesAvg: 200n,
      memoryUsageBytesMax: 300n,
      // (10 − 4) + (15 − 10) + (15 − 15)
      cpuThrottledPeriodsDelta: 11n,
      cpuThrottledPeriodsLast: 15n,
      oomKillsDelta: 1,
      oomKillsLast: 1,
      netRxBytesLast: 400n,
      memoryLimitBytesMax: BigInt(64 * MIB),
    });
    expect(first?.cpuCoresAvg).toBeCloseTo(0.5, 12);
    expect(second).toMatchObject({
      sampleCount: 2,
      cpuCoresMax: 1,
      memoryUsageBytesAvg: 300n,
      memoryUsageBytesMax: 500n,
      // reset: 3, then 8 − 3
      cpuThrottledPeriodsDelta: 8n,
      cpuThrottledPeriodsLast: 8n,
      // 1 → 0 is a restart, counted as an increase of 0
      oomKillsDelta: 0,
      oomKillsLast: 0,
    });
    expect(second?.cpuCoresAvg).toBeCloseTo(0.5, 12);

    const hostMinutes = await db.hostSampleMinute.findMany({ where: { hostId }, orderBy: { bucket: "asc" } });
    expect(hostMinutes.map((row) => [row.bucket.getTime(), row.sampleCount])).toEqual([
      [at(0, 0), 2],
      [at(1, 0), 1],
    ]);
    expect(hostMinutes[0]).toMatchObject({
      cpuCoresAvg: 2,
      cpuCoresMax: 3,
      memoryAvailableBytesMin: BigInt(MIB),
    });
    expect(metrics.rollupWatermarks().containerMinute).toBe(at(2, 0));
  });

  it("gives the same rows when run again, also from a fresh start", async () => {
    const before = await minuteRows();
    await metrics.rollup();
    expect(await minuteRows()).toEqual(before);
    // A restarted central reads its watermark back and rolls the last minutes again.
    const restarted = new SampleRollups({
      db,
      clock,
      log: silentLogger(),
      graceMs: 15_000,
      initialLookbackMs: 0,
    });
    await restarted.init();
    expect(restarted.watermarks().containerMinute).toBeLessThan(at(2, 0));
    await restarted.run();
    expect(await minuteRows()).toEqual(before);
  });

  it("rolls a minute again when late samples arrive for it", async () => {
    // An agent's spool, sent after a reconnect: a fourth sample for minute 0.
    await send(at(0, 55), { cpuCores: 0.5, memoryUsageBytes: 400, cpuThrottledPeriods: 15 });
    await metrics.flush();
    await metrics.rollup();
    const [, first] = await minuteRows();
    expect(first?.sampleCount).toBe(4);
    expect(first?.cpuCoresAvg).toBeCloseTo(0.5, 12);
    expect(first?.memoryUsageBytesAvg).toBe(250n);
  });

  it("rolls closed hours from minutes, weighting averages by sample count", async () => {
    await send(at(30, 0), { cpuCores: 2.0, memoryUsageBytes: 1000, cpuThrottledPeriods: 20 }, 4);
    await send(at(61, 0), { cpuCores: 9, memoryUsageBytes: 9000 });
    await metrics.flush();
    await clock.advance(at(62, 0) - clock.now());
    const report = await metrics.rollup();
    expect(report.containerHourRows).toBeGreaterThanOrEqual(1);

    const hours = await db.containerSampleHour.findMany({
      where: { containerId },
      orderBy: { bucket: "asc" },
    });
    // 11:00 (one sample at 11:59:50) and 12:00; 13:00 is still open.
    expect(hours.map((row) => row.bucket.getTime())).toEqual([at(-60, 0), at(0, 0)]);
    const noon = hours[1];
    const raw = await db.containerSample.findMany({
      where: { containerId, ts: { gte: new Date(at(0, 0)), lt: new Date(at(60, 0)) } },
    });
    const rawAvg = raw.reduce((sum, row) => sum + row.cpuCores, 0) / raw.length;
    expect(noon?.sampleCount).toBe(raw.length);
    expect(noon?.sampleCount).toBe(8);
    expect(noon?.cpuCoresAvg).toBeCloseTo(rawAvg, 12);
    expect(noon?.cpuCoresMax).toBe(5);
    // 11 (minute 0) + 8 (minute 1) + 0 (minute 2: 3 → 3… a new baseline) + 12 (minute 30: 8 → 20)
    const minutes = await minuteRows();
    const deltaSum = minutes
      .filter((row) => row.bucket.getTime() >= at(0, 0) && row.bucket.getTime() < at(60, 0))
      .reduce((sum, row) => sum + row.cpuThrottledPeriodsDelta, 0n);
    expect(noon?.cpuThrottledPeriodsDelta).toBe(deltaSum);
    expect(noon?.cpuThrottledPeriodsLast).toBe(20n);
    expect(noon?.memoryUsageBytesMax).toBe(1000n);

    const hostHours = await db.hostSampleHour.findMany({ where: { hostId }, orderBy: { bucket: "asc" } });
    expect(hostHours.map((row) => [row.bucket.getTime(), row.sampleCount])).toEqual([[at(0, 0), 4]]);
    // (1 + 3 + 2 + 4) / 4
    expect(hostHours[0]?.cpuCoresAvg).toBeCloseTo(2.5, 12);
    expect(hostHours[0]?.cpuCoresMax).toBe(4);
  });
});
