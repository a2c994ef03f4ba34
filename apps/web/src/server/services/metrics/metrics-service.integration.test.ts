// Ingest through the real service into a real Postgres: batching, duplicate
// resends, ownership checks, the latest map and the live bus messages.

import { ManualClock } from "@fleet/shared/testing/manual-clock";
import { createTestDatabase, type TestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "../../db/client";
import type { LiveMetrics } from "../../events/event-bus";
import { createEventBus, type EventBus } from "../../events/event-bus";
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
let bus: EventBus;
let clock: ManualClock;
let metrics: MetricsService;
const START = Date.UTC(2030, 5, 1, 12, 0, 0);

beforeAll(async () => {
  database = await createTestDatabase();
  db = createPrismaClient(database.url);
  bus = createEventBus();
  clock = new ManualClock(START);
  metrics = createMetricsService({
    db,
    env: metricsEnv(),
    log: silentLogger(),
    bus,
    clock,
    // A long flush interval: only flush() or the row threshold write, so batching is observable.
    tuning: { flushIntervalMs: 60_000, livePublishIntervalMs: 10 },
  });
  await metrics.start();
});

afterAll(async () => {
  await metrics?.stop();
  await db?.$disconnect();
  await database?.drop();
});

async function rowCount(table: "container_samples" | "host_samples", hostId: string): Promise<number> {
  const [row] = await db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM "${table}" WHERE host_id = $1`,
    hostId,
  );
  return row?.n ?? 0;
}

describe("metrics ingest", () => {
  it("creates the partitions around today at start", async () => {
    const parts = await db.$queryRaw<{ name: string }[]>`
      SELECT relname AS name FROM pg_class WHERE relname ~ '^(container|host)_samples_p[0-9]{8}$' ORDER BY relname`;
    expect(parts.map((part) => part.name)).toEqual([
      "container_samples_p20300531",
      "container_samples_p20300601",
      "container_samples_p20300602",
      "container_samples_p20300603",
      "host_samples_p20300531",
      "host_samples_p20300601",
      "host_samples_p20300602",
      "host_samples_p20300603",
    ]);
  });

  it("coalesces frames from several agents into few multi-row inserts, all queryable", async () => {
    const hosts = [await createHost(db), await createHost(db), await createHost(db)];
    const containers = new Map<string, string[]>();
    for (const hostId of hosts) {
      containers.set(
        hostId,
        await Promise.all(Array.from({ length: 20 }, () => createContainer(db, hostId))),
      );
    }
    const before = metrics.stats().queue.batchesWritten;
    // 3 agents × 4 frames × (20 containers + 1 host sample) = 252 rows.
    for (let tick = 0; tick < 4; tick++) {
      for (const hostId of hosts) {
        const ts = START + tick * 5000;
        const ids = containers.get(hostId) ?? [];
        const result = await metrics.ingest(
          hostId,
          metricsFrame(
            ids.map((id, i) => containerSample(id, ts, { cpuCores: i / 10 + tick })),
            hostSample(ts),
          ),
        );
        expect(result).toEqual({ accepted: 21, ignored: 0, duplicateBatch: false });
      }
    }
    expect(metrics.stats().queue.queuedRows).toBe(252);
    await metrics.flush();
    const stats = metrics.stats();
    expect(stats.queue.queuedRows).toBe(0);
    // 252 rows fit one statement per table: 12 frames, one batch.
    expect(stats.queue.batchesWritten - before).toBe(1);
    for (const hostId of hosts) {
      expect(await rowCount("container_samples", hostId)).toBe(80);
      expect(await rowCount("host_samples", hostId)).toBe(4);
    }
    const someHost = hosts[1] as string;
    const someContainer = containers.get(someHost)?.[3] as string;
    const series = await metrics.metricsForContainer({
      containerId: someContainer,
      from: START - 60_000,
      to: START + 60_000,
    });
    expect(series.resolution).toBe("raw");
    expect(series.points.map((point) => [point.t, point.cpuCores])).toEqual([
      [START, 0.3],
      [START + 5000, 1.3],
      [START + 10_000, 2.3],
      [START + 15_000, 3.3],
    ]);
    const hostSeries = await metrics.metricsForHost({ hostId: someHost, from: START, to: START + 60_000 });
    expect(hostSeries.points).toHaveLength(4);
  });

  it("ignores a resent batch id, and stores a resent sample only once", async () => {
    const hostId = await createHost(db);
    const containerId = await createContainer(db, hostId);
    const frame = metricsFrame([containerSample(containerId, START)], hostSample(START));
    expect((await metrics.ingest(hostId, frame)).accepted).toBe(2);
    expect(await metrics.ingest(hostId, frame)).toEqual({ accepted: 0, ignored: 0, duplicateBatch: true });
    // The same samples under a new batch id (an agent that lost its own record of sending them).
    const resent = metricsFrame([containerSample(containerId, START)], hostSample(START));
    expect((await metrics.ingest(hostId, resent)).accepted).toBe(2);
    const before = metrics.stats().queue;
    await metrics.flush();
    const after = metrics.stats().queue;
    expect(after.writtenRows - before.writtenRows).toBe(4);
    expect(after.insertedRows - before.insertedRows).toBe(2);
    expect(after.failedWrites).toBe(0);
    expect(await rowCount("container_samples", hostId)).toBe(1);
    expect(await rowCount("host_samples", hostId)).toBe(1);
    expect(metrics.stats().duplicateBatches).toBeGreaterThanOrEqual(1);
  });

  it("ignores and counts samples for containers of another host or unknown ones", async () => {
    const hostA = await createHost(db);
    const hostB = await createHost(db);
    const mine = await createContainer(db, hostA);
    const theirs = await createContainer(db, hostB);
    const ignoredBefore = metrics.stats().foreignSamplesIgnored;
    const result = await metrics.ingest(
      hostA,
      metricsFrame(
        [
          containerSample(mine, START),
          containerSample(theirs, START),
          containerSample("not-a-container-of-anyone", START),
        ],
        null,
      ),
    );
    expect(result).toEqual({ accepted: 1, ignored: 2, duplicateBatch: false });
    await metrics.flush();
    expect(await rowCount("container_samples", hostA)).toBe(1);
    expect(await db.containerSample.count({ where: { containerId: theirs } })).toBe(0);
    expect(metrics.stats().foreignSamplesIgnored - ignoredBefore).toBe(2);
    expect(metrics.latestContainer(theirs)).toBeUndefined();
  });

  it("notices a container placed after the host's set was cached", async () => {
    const hostId = await createHost(db);
    const first = await createContainer(db, hostId);
    expect((await metrics.ingest(hostId, metricsFrame([containerSample(first, START)], null))).accepted).toBe(
      1,
    );
    const second = await createContainer(db, hostId);
    // The cached set is refreshed on a miss at most once a second.
    await clock.advance(1000);
    const result = await metrics.ingest(hostId, metricsFrame([containerSample(second, START)], null));
    expect(result.accepted).toBe(1);
  });

  it("keeps the newest sample per container and host, and publishes changes on the bus", async () => {
    const hostId = await createHost(db);
    const containerId = await createContainer(db, hostId);
    const received: LiveMetrics[] = [];
    const unsubscribe = bus.subscribe("metrics.live", (message) => received.push(message));
    try {
      await metrics.ingest(
        hostId,
        metricsFrame(
          [containerSample(containerId, START + 5000, { cpuCores: 0.5 })],
          hostSample(START + 5000),
        ),
      );
      // An older sample arriving late does not replace the newer one.
      await metrics.ingest(
        hostId,
        metricsFrame([containerSample(containerId, START, { cpuCores: 0.1 })], null),
      );
      expect(metrics.latestContainer(containerId)?.sample.cpuCores).toBe(0.5);
      expect(metrics.latestHost(hostId)?.sample.ts).toBe(START + 5000);
      await expect
        .poll(() => received.some((m) => m.containers.some((c) => c.sample.containerId === containerId)))
        .toBe(true);
      const message = received.find((m) => m.containers.some((c) => c.sample.containerId === containerId));
      expect(message?.hosts.map((h) => h.hostId)).toContain(hostId);
      expect(message?.seq).toBeGreaterThan(0);
      expect(metrics.latestSnapshot({ containerId }).containers).toHaveLength(1);
      expect(metrics.latestSnapshot({ containerId }).hosts).toHaveLength(0);
    } finally {
      unsubscribe();
    }
  });

  it("adds up the samples each agent's spool had to drop", async () => {
    const hostId = await createHost(db);
    await metrics.ingest(hostId, metricsFrame([], null, { droppedSamples: 7 }));
    await metrics.ingest(hostId, metricsFrame([], null, { droppedSamples: 5 }));
    expect(metrics.droppedSamples(hostId)).toBe(12);
    expect(metrics.droppedSamples()).toBeGreaterThanOrEqual(12);
    expect(metrics.stats().agentDroppedSamples).toBeGreaterThanOrEqual(12);
  });
});
