// Series at the resolution the range calls for, and the fleet summary of
// allocated against used.

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
let clock: ManualClock;
let metrics: MetricsService;
const NOW = Date.UTC(2030, 5, 10, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createPrismaClient(database.url);
  clock = new ManualClock(NOW);
  metrics = createMetricsService({ db, env: metricsEnv(), log: silentLogger(), clock });
  await metrics.start();
});

afterAll(async () => {
  await metrics?.stop();
  await db?.$disconnect();
  await database?.drop();
});

describe("fleet summary", () => {
  it("sets allocated against used per host and for the online fleet", async () => {
    const hostA = await createHost(db, {
      name: "a",
      cpuAllocatableMillis: 4000,
      cpuAllocatedMillis: 1500,
      memoryAllocatableBytes: BigInt(8 * GIB),
      memoryAllocatedBytes: BigInt(2 * GIB),
    });
    const hostB = await createHost(db, {
      name: "b",
      cpuAllocatableMillis: 2000,
      cpuAllocatedMillis: 1000,
      memoryAllocatableBytes: BigInt(4 * GIB),
      memoryAllocatedBytes: BigInt(1 * GIB),
    });
    const hostC = await createHost(db, { name: "c", status: "offline", cpuAllocatableMillis: 8000 });
    const removed = await createHost(db, { name: "d" });
    await db.host.update({ where: { id: removed }, data: { removedAt: new Date(NOW - HOUR) } });

    const a1 = await createContainer(db, hostA);
    const a2 = await createContainer(db, hostA);
    const a3 = await createContainer(db, hostA, { actualState: "exited" });
    await createContainer(db, hostA, { removedAt: new Date(NOW - MINUTE) });
    const b1 = await createContainer(db, hostB);
    await createContainer(db, hostC);

    await metrics.ingest(
      hostA,
      metricsFrame(
        [
          containerSample(a1, NOW - 5000, { cpuCores: 0.5, memoryWorkingSetBytes: 100 * MIB }),
          containerSample(a2, NOW - 4000, { cpuCores: 0.25, memoryWorkingSetBytes: 50 * MIB }),
          // Its last word, long ago: it no longer counts as used.
          containerSample(a3, NOW - 10 * MINUTE, { cpuCores: 3, memoryWorkingSetBytes: 3 * GIB }),
        ],
        hostSample(NOW - 5000, { cpuCores: 1.2, memoryUsedBytes: 3 * GIB }),
      ),
    );
    await metrics.ingest(
      hostB,
      metricsFrame([containerSample(b1, NOW - 3000, { cpuCores: 1, memoryWorkingSetBytes: GIB })], null),
    );

    const summary = await metrics.fleetSummary();
    expect(summary.hosts.map((host) => host.name)).toEqual(["a", "b", "c"]);
    const [a, b, c] = summary.hosts;
    expect(a).toMatchObject({
      hostId: hostA,
      status: "online",
      cpuAllocatableMillis: 4000,
      cpuAllocatedMillis: 1500,
      cpuUsedCores: 0.75,
      memoryAllocatableBytes: 8 * GIB,
      memoryAllocatedBytes: 2 * GIB,
      memoryUsedBytes: 150 * MIB,
      containers: 3,
      containersRunning: 2,
      containersReporting: 2,
      cpuAllocatedRatio: 0.375,
      cpuUsedRatio: 0.1875,
      memoryAllocatedRatio: 0.25,
      memoryUsedRatio: (150 * MIB) / (8 * GIB),
      machine: { ts: NOW - 5000, cpuCores: 1.2, memoryUsedBytes: 3 * GIB },
    });
    expect(b).toMatchObject({
      cpuUsedCores: 1,
      memoryUsedBytes: GIB,
      containers: 1,
      containersRunning: 1,
      cpuAllocatedRatio: 0.5,
      cpuUsedRatio: 0.5,
      memoryAllocatedRatio: 0.25,
      memoryUsedRatio: 0.25,
      machine: null,
    });
    expect(c).toMatchObject({ status: "offline", containers: 1, cpuUsedCores: 0 });

    expect(summary.totals).toEqual({
      hosts: 3,
      hostsOnline: 2,
      hostsDraining: 0,
      containers: 4,
      containersRunning: 3,
      containersPerHost: 2,
      cpuAllocatableMillis: 6000,
      cpuAllocatedMillis: 2500,
      cpuUsedCores: 1.75,
      memoryAllocatableBytes: 12 * GIB,
      memoryAllocatedBytes: 3 * GIB,
      memoryUsedBytes: 150 * MIB + GIB,
      cpuAllocatedRatio: 2500 / 6000,
      cpuUsedRatio: 1750 / 6000,
      memoryAllocatedRatio: 0.25,
      memoryUsedRatio: (150 * MIB + GIB) / (12 * GIB),
    });
  });
});

describe("series resolution", () => {
  it("answers ≤ 2 h from raw samples, ≤ 3 d from minutes and longer ranges from hours", async () => {
    const hostId = await createHost(db);
    const containerId = await createContainer(db, hostId);
    await metrics.ingest(hostId, metricsFrame([containerSample(containerId, NOW - 30 * MINUTE)], null));
    await metrics.flush();
    const rollup = {
      containerId,
      hostId,
      sampleCount: 12,
      cpuCoresMax: 1,
      memoryUsageBytesAvg: 1n,
      memoryUsageBytesMax: 2n,
      memoryWorkingSetBytesAvg: 1n,
      memoryWorkingSetBytesMax: 2n,
      pidsCurrentMax: 3,
      cpuThrottledPeriodsDelta: 4n,
      cpuThrottledNsDelta: 0n,
      memoryFailcntDelta: 0n,
      oomKillsDelta: 1,
      cpuThrottledPeriodsLast: 0n,
      cpuThrottledNsLast: 0n,
      memoryFailcntLast: 0n,
      oomKillsLast: 1,
      netRxBytesLast: 0n,
      netTxBytesLast: 0n,
      netRxPacketsLast: 0n,
      netTxPacketsLast: 0n,
      blkReadBytesLast: 0n,
      blkWriteBytesLast: 0n,
    };
    await db.containerSampleMinute.createMany({
      data: [
        { ...rollup, bucket: new Date(NOW - 10 * HOUR), cpuCoresAvg: 0.5, netRxBytesLast: 6000n },
        { ...rollup, bucket: new Date(NOW - 10 * HOUR + MINUTE), cpuCoresAvg: 0.5, netRxBytesLast: 12_000n },
      ],
    });
    await db.containerSampleHour.createMany({
      data: [{ ...rollup, bucket: new Date(NOW - 5 * DAY), cpuCoresAvg: 0.75 }],
    });

    const series = async (range: number) =>
      metrics.metricsForContainer({ containerId, from: NOW - range, to: NOW });
    const raw = await series(HOUR);
    expect(raw).toMatchObject({ resolution: "raw", stepMs: null });
    expect(raw.points.map((point) => point.cpuCores)).toEqual([0.25]);
    expect((await series(2 * HOUR)).resolution).toBe("raw");

    const minutes = await series(DAY);
    expect(minutes).toMatchObject({ resolution: "minute", stepMs: MINUTE });
    expect(minutes.points.map((point) => [point.cpuCores, point.netRxBytesPerSec])).toEqual([
      [0.5, null],
      [0.5, 100],
    ]);
    expect(minutes.points[0]).toMatchObject({ samples: 12, cpuCoresMax: 1, oomKills: 1, pidsCurrent: 3 });
    expect((await series(3 * DAY)).resolution).toBe("minute");

    const hours = await series(7 * DAY);
    expect(hours).toMatchObject({ resolution: "hour", stepMs: HOUR });
    expect(hours.points.map((point) => point.cpuCores)).toEqual([0.75]);
  });

  it("rejects a range that ends before it starts", async () => {
    await expect(metrics.fleetMetrics({ from: NOW, to: NOW - 1 })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });

  it("sums hosts per rollup bucket for the fleet series, however short the range, and keeps up", async () => {
    const hostA = await createHost(db);
    const hostB = await createHost(db);
    const base = NOW + 5 * MINUTE;
    const send = (hostId: string, ts: number, cpuCores: number, memoryUsedBytes: number) =>
      metrics.ingest(hostId, metricsFrame([], hostSample(ts, { cpuCores, memoryUsedBytes, containers: 2 })));
    await send(hostA, base + 1000, 1, 100);
    await send(hostB, base + 3000, 2, 200);
    await send(hostA, base + 6000, 3, 300);
    await send(hostA, base + 11_000, 1.5, 150);
    await send(hostB, base + 13_000, 2.5, 250);
    await metrics.flush();

    // Raw samples are never summed for the fleet: nothing until the minute is rolled up.
    const beforeRollup = await metrics.fleetMetrics({ from: base, to: base + 20_000 });
    expect(beforeRollup).toMatchObject({ resolution: "minute", stepMs: MINUTE, points: [] });

    await clock.advance(base + 2 * MINUTE - clock.now());
    await metrics.rollup();
    const minutes = await metrics.fleetMetrics({ from: base - 12 * HOUR, to: base + 12 * HOUR });
    expect(minutes.resolution).toBe("minute");
    const point = minutes.points.find((p) => p.t === base);
    // Per-minute averages: A (1 + 3 + 1.5) / 3, B (2 + 2.5) / 2.
    expect(point?.hosts).toBe(2);
    expect(point?.cpuCores).toBeCloseTo(5.5 / 3 + 2.25, 12);
    // The short range, asked again, sees the rolled minute (the recent buckets are summed on every call).
    const short = await metrics.fleetMetrics({ from: base, to: base + 20_000 });
    expect(short.points.map((p) => [p.t, p.hosts])).toEqual([[base, 2]]);
  });
});
