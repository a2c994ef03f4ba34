// Start latency percentiles from container rows with known latencies, through
// the query and through `metrics.startLatency` over HTTP.

import { ManualClock } from "@fleet/shared/testing/manual-clock";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "../../db/client";
import { createTestUserWithToken } from "../../testing/factories";
import { createTestClient, startTestServer, type TestServer, trpcErrorCode } from "../../testing/test-server";
import { queryStartLatency } from "./query-start-latency";

const NOW = Date.UTC(2030, 5, 10, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MIB = 1024 * 1024;

let sequence = 0;

/** A container row as the gateway leaves it after the first `running` report (or before one, with null latency). */
function startedContainer(fixture: {
  latencyMs: number | null;
  reportedAt: number | null;
  removedAt?: number;
}) {
  sequence++;
  const reportedAt = fixture.reportedAt === null ? null : new Date(fixture.reportedAt);
  return {
    name: `latency-${sequence}`,
    image: "busybox:latest",
    spec: {},
    cpuRequestMillis: 100,
    memoryRequestBytes: BigInt(64 * MIB),
    pidsRequest: 10,
    actualState: reportedAt ? ("running" as const) : ("pending" as const),
    requestedAt:
      reportedAt && fixture.latencyMs !== null
        ? new Date(reportedAt.getTime() - fixture.latencyMs)
        : undefined,
    runningReportedAt: reportedAt,
    startLatencyMs: fixture.latencyMs,
    removedAt: fixture.removedAt === undefined ? null : new Date(fixture.removedAt),
  };
}

describe("start latency", () => {
  const getDatabase = useTestDatabase();
  let db: PrismaClient;

  beforeAll(async () => {
    db = createPrismaClient(getDatabase().url);
    // 0, 10, …, 1000 ms reported within the last day, in a scrambled order so
    // only an ORDER BY inside the percentile can get them right. Four of them
    // (100, 200, 300 and the removed 1000) within the last hour.
    const lastHour = new Set([100, 200, 300, 1000]);
    const values = Array.from({ length: 101 }, (_, index) => (index * 37) % 101).map((step) => step * 10);
    const rows = values.map((latencyMs) =>
      startedContainer({
        latencyMs,
        reportedAt: lastHour.has(latencyMs) ? NOW - 30 * MINUTE : NOW - 3 * HOUR,
        removedAt: latencyMs === 1000 ? NOW - 10 * MINUTE : undefined,
      }),
    );
    // Within the week, not the day.
    for (const latencyMs of [5000, 6000, 7000])
      rows.push(startedContainer({ latencyMs, reportedAt: NOW - 3 * DAY }));
    // Outside every window: older than a week, or reported after the window ends.
    rows.push(startedContainer({ latencyMs: 99_999, reportedAt: NOW - 8 * DAY }));
    rows.push(startedContainer({ latencyMs: 88_888, reportedAt: NOW + MINUTE }));
    // Never reached running: no latency at all.
    rows.push(startedContainer({ latencyMs: null, reportedAt: null }));
    await db.container.createMany({ data: rows });
  });

  afterAll(async () => {
    await db?.$disconnect();
  });

  describe("queryStartLatency", () => {
    it("takes p50/p99/max over the containers that reached running in the last day", async () => {
      const summary = await queryStartLatency({ db, from: NOW - DAY, to: NOW });
      // 101 evenly spaced values: both percentiles land exactly on a value.
      expect(summary).toEqual({ count: 101, p50Ms: 500, p99Ms: 990, maxMs: 1000 });
    });

    it("interpolates between values as percentile_cont does, counting removed containers", async () => {
      const summary = await queryStartLatency({ db, from: NOW - HOUR, to: NOW });
      expect(summary.count).toBe(4);
      expect(summary.p50Ms).toBe(250);
      // Position 0.99 × 3 = 2.97 between 300 and 1000.
      expect(summary.p99Ms).toBeCloseTo(979, 6);
      expect(summary.maxMs).toBe(1000);
    });

    it("reaches back a week when asked", async () => {
      const summary = await queryStartLatency({ db, from: NOW - 7 * DAY, to: NOW });
      expect(summary.count).toBe(104);
      // Sorted positions 51 and 52 (510, 520) for the median; 101.97 between 5000 and 6000 for p99.
      expect(summary.p50Ms).toBe(515);
      expect(summary.p99Ms).toBeCloseTo(5970, 6);
      expect(summary.maxMs).toBe(7000);
    });

    it("gives nulls, not zeros, when nothing started in the window", async () => {
      const summary = await queryStartLatency({ db, from: NOW + HOUR, to: NOW + 2 * HOUR });
      expect(summary).toEqual({ count: 0, p50Ms: null, p99Ms: null, maxMs: null });
    });
  });

  describe("metrics.startLatency", () => {
    let server: TestServer;
    let viewerToken: string;

    beforeAll(async () => {
      server = await startTestServer({ databaseUrl: getDatabase().url, clock: new ManualClock(NOW) });
      ({ token: viewerToken } = await createTestUserWithToken({ db: server.db, role: "viewer" }));
    });

    afterAll(async () => {
      await server?.close();
    });

    it("answers a viewer for the last 24 h by default and for the window asked", async () => {
      const viewer = createTestClient(server.url, { bearer: viewerToken });
      expect(await viewer.metrics.startLatency.query()).toEqual({
        count: 101,
        p50Ms: 500,
        p99Ms: 990,
        maxMs: 1000,
      });
      const lastHour = await viewer.metrics.startLatency.query({ window: "1h" });
      expect(lastHour).toMatchObject({ count: 4, p50Ms: 250, maxMs: 1000 });
      const week = await viewer.metrics.startLatency.query({ window: "7d" });
      expect(week).toMatchObject({ count: 104, p50Ms: 515, maxMs: 7000 });
    });

    it("refuses callers who are not signed in and windows it does not offer", async () => {
      const anonymous = createTestClient(server.url, null);
      const refused = await anonymous.metrics.startLatency.query().catch((error: unknown) => error);
      expect(trpcErrorCode(refused)).toBe("UNAUTHORIZED");

      const viewer = createTestClient(server.url, { bearer: viewerToken });
      const bad = await viewer.metrics.startLatency
        // @ts-expect-error: a window the API does not offer
        .query({ window: "30m" })
        .catch((error: unknown) => error);
      expect(trpcErrorCode(bad)).toBe("BAD_REQUEST");
    });
  });
});
