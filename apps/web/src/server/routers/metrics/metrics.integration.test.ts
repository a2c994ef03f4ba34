// The metrics procedures over real HTTP (and SSE for `live`), against the real
// services and a real database, called with a viewer's API token.

import { createServer, type Server } from "node:http";
import { ManualClock } from "@fleet/shared/testing/manual-clock";
import { createTestDatabase, type TestDatabase } from "@fleet/test/harness/postgres";
import { createTRPCClient, httpLink } from "@trpc/client";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../central";
import { createPrismaClient, type PrismaClient } from "../../db/client";
import { loadEnv } from "../../env";
import type { LiveMetrics } from "../../events/event-bus";
import { createEventBus } from "../../events/event-bus";
import { silentLogger } from "../../logger";
import {
  containerSample,
  createContainer,
  createHost,
  hostSample,
  metricsFrame,
} from "../../services/metrics/testing/metrics-fixtures";
import { createTestUserWithToken } from "../../testing/factories";
import { trpcErrorCode } from "../../testing/test-server";
import { createContextFactory, router } from "../../trpc";
import { metricsRouter } from "./metrics-router";

// Only this noun: the root router is not this room's, and the procedures are the same.
const testRouter = router({ metrics: metricsRouter });
type TestRouter = typeof testRouter;

const NOW = Date.UTC(2030, 5, 10, 12, 0, 0);
let database: TestDatabase;
let db: PrismaClient;
let services: ReturnType<typeof createServices>;
let server: Server;
let baseUrl: string;
let token: string;
let client: ReturnType<typeof clientFor>;
let hostId: string;
let containerId: string;

function clientFor(bearer: string | null) {
  return createTRPCClient<TestRouter>({
    links: [
      httpLink({
        url: `${baseUrl}/api/trpc`,
        transformer: superjson,
        headers: () => (bearer ? { authorization: `Bearer ${bearer}` } : {}),
      }),
    ],
  });
}

async function listenBelowEphemeralRange(target: Server): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const ok = await new Promise<boolean>((resolve) => {
      target.once("error", () => resolve(false));
      target.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (ok) return port;
  }
  throw new Error("no free port below 32000");
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createPrismaClient(database.url);
  const env = loadEnv({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    FLEET_PUBLIC_URL: "http://fleet.test:3000",
  });
  services = createServices({
    db,
    env,
    log: silentLogger(),
    clock: new ManualClock(NOW),
    bus: createEventBus(),
    tuning: { metrics: { flushIntervalMs: 20, livePublishIntervalMs: 10 } },
  });
  await services.start();
  const handler = createHTTPHandler({
    router: testRouter,
    basePath: "/api/trpc/",
    createContext: createContextFactory(services),
  });
  server = createServer((req, res) => handler(req, res));
  baseUrl = `http://127.0.0.1:${await listenBelowEphemeralRange(server)}`;
  ({ token } = await createTestUserWithToken({ db, role: "viewer" }));
  client = clientFor(token);

  hostId = await createHost(db, { name: "alpha", cpuAllocatableMillis: 2000, cpuAllocatedMillis: 500 });
  containerId = await createContainer(db, hostId);
  for (const ts of [NOW - 10_000, NOW - 5000]) {
    await services.metrics.ingest(
      hostId,
      metricsFrame([containerSample(containerId, ts, { cpuCores: 0.5 })], hostSample(ts, { cpuCores: 1.5 })),
    );
  }
  await services.metrics.flush();
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await services?.stop();
  await db?.$disconnect();
  await database?.drop();
});

describe("metrics queries", () => {
  it("fleet: the summary and a rolled-up series for a short range", async () => {
    const { summary, series } = await client.metrics.fleet.query({ range: "15m" });
    expect(summary.hosts).toHaveLength(1);
    expect(summary.hosts[0]).toMatchObject({ name: "alpha", cpuAllocatedMillis: 500, cpuUsedCores: 0.5 });
    expect(summary.totals).toMatchObject({ hostsOnline: 1, containers: 1, cpuUsedRatio: 0.25 });
    // The fleet's series reads rollups only; no minute has been rolled up here.
    expect(series).toMatchObject({ resolution: "minute", points: [] });
  });

  it("host and container: series at the range's resolution, and the latest sample", async () => {
    const host = await client.metrics.host.query({ hostId, range: "1h" });
    expect(host.series.points.map((point) => point.cpuCores)).toEqual([1.5, 1.5]);
    expect(host.latest?.sample.ts).toBe(NOW - 5000);
    expect((await client.metrics.host.query({ hostId, range: "7d" })).series.resolution).toBe("hour");

    const container = await client.metrics.container.query({ containerId, range: "15m" });
    expect(container.series.points.map((point) => point.t)).toEqual([NOW - 10_000, NOW - 5000]);
    expect(container.latest?.sample.cpuCores).toBe(0.5);
    expect((await client.metrics.container.query({ containerId, range: "24h" })).series.resolution).toBe(
      "minute",
    );
  });

  it("refuses callers without credentials, unknown subjects and unknown ranges", async () => {
    await expect(clientFor(null).metrics.fleet.query({})).rejects.toSatisfy(
      (e) => trpcErrorCode(e) === "UNAUTHORIZED",
    );
    await expect(client.metrics.host.query({ hostId: "no-such-host" })).rejects.toSatisfy(
      (e) => trpcErrorCode(e) === "NOT_FOUND",
    );
    await expect(client.metrics.container.query({ containerId, range: "5y" as "7d" })).rejects.toSatisfy(
      (e) => trpcErrorCode(e) === "BAD_REQUEST",
    );
  });
});

/** Reads tracked SSE messages of `metrics.live` until `until` accepts the list or the time is up. */
async function readLive(
  input: { containerId?: string; hostId?: string },
  options: { lastEventId?: string; until(messages: { id: string; data: LiveMetrics }[]): boolean },
): Promise<{ id: string; data: LiveMetrics }[]> {
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), 10_000);
  const query = encodeURIComponent(JSON.stringify(superjson.serialize(input)));
  const response = await fetch(`${baseUrl}/api/trpc/metrics.live?input=${query}`, {
    headers: {
      accept: "text/event-stream",
      authorization: `Bearer ${token}`,
      ...(options.lastEventId ? { "last-event-id": options.lastEventId } : {}),
    },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const messages: { id: string; data: LiveMetrics }[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        const fields = new Map(
          event
            .split("\n")
            .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]),
        );
        const id = fields.get("id");
        const data = fields.get("data");
        if (id === undefined || data === undefined || fields.has("event")) continue;
        messages.push({ id, data: superjson.deserialize(JSON.parse(data)) as LiveMetrics });
        if (options.until(messages)) return messages;
      }
    }
  } finally {
    clearTimeout(timeout);
    controller.abort();
  }
  return messages;
}

describe("metrics.live", () => {
  it("starts with a snapshot, then streams new samples with rising tracked ids", async () => {
    const other = await createContainer(db, hostId);
    let sent = false;
    const messages = await readLive(
      { containerId },
      {
        until: (list) => {
          // New samples once the snapshot is in: the stream is subscribed by then.
          if (!sent) {
            sent = true;
            void services.metrics.ingest(
              hostId,
              metricsFrame(
                [
                  containerSample(other, NOW - 1000, { cpuCores: 0.1 }),
                  containerSample(containerId, NOW, { cpuCores: 0.9 }),
                ],
                null,
              ),
            );
          }
          return list.length >= 2;
        },
      },
    );
    const [snapshot, update] = messages;
    expect(snapshot?.data.containers.map((entry) => entry.sample.ts)).toEqual([NOW - 5000]);
    expect(snapshot?.data.hosts).toEqual([]);
    // Only the container asked for, not its neighbour.
    expect(update?.data.containers.map((entry) => [entry.sample.containerId, entry.sample.cpuCores])).toEqual(
      [[containerId, 0.9]],
    );
    expect(Number(update?.id)).toBeGreaterThan(Number(snapshot?.id));
    expect(update?.id).toBe(String(update?.data.seq));

    // A reconnect with the last id gets the current values at once.
    const resumed = await readLive(
      { containerId },
      { lastEventId: update?.id, until: (list) => list.length >= 1 },
    );
    expect(resumed[0]?.data.containers[0]?.sample.cpuCores).toBe(0.9);
  });
});
