// /metrics over real HTTP: the gauges carry the database's counts, the host
// rows' allocated figures and the latest samples' usage.
import { createServer, type Server } from "node:http";
import { ManualClock } from "@fleet/shared/testing/manual-clock";
import { eventually } from "@fleet/test/harness/eventually";
import { createTestDatabase, type TestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "./db/client";
import { silentLogger } from "./logger";
import { createPrometheusExporter } from "./prometheus";
import { createMetricsService, type MetricsService } from "./services/metrics/metrics-service";
import {
  containerSample,
  createContainer,
  createHost,
  metricsEnv,
  metricsFrame,
} from "./services/metrics/testing/metrics-fixtures";

let database: TestDatabase;
let db: PrismaClient;
let metrics: MetricsService;
let server: Server;
let url: string;
const NOW = Date.UTC(2030, 5, 10, 12, 0, 0);
const GIB = 1024 ** 3;

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
  metrics = createMetricsService({
    db,
    env: metricsEnv(),
    log: silentLogger(),
    clock: new ManualClock(NOW),
    // Rows stay queued until flush(), so the queue gauge has something to show.
    tuning: { flushIntervalMs: 60_000 },
  });
  await metrics.start();
  const exporter = createPrometheusExporter({ db, metrics });
  server = createServer((req, res) => exporter.handler(req, res));
  url = `http://127.0.0.1:${await listenBelowEphemeralRange(server)}/metrics`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await metrics?.stop();
  await db?.$disconnect();
  await database?.drop();
});

function sampleValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((entry) => entry.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("/metrics", () => {
  it("exposes fleet, host and ingest figures with their current values", async () => {
    const alpha = await createHost(db, {
      name: "alpha",
      cpuAllocatableMillis: 4000,
      cpuAllocatedMillis: 1500,
      memoryAllocatableBytes: BigInt(8 * GIB),
      memoryAllocatedBytes: BigInt(2 * GIB),
    });
    await createHost(db, { name: "beta", status: "offline" });
    const c1 = await createContainer(db, alpha);
    const c2 = await createContainer(db, alpha);
    await createContainer(db, alpha, { actualState: "exited" });
    await createContainer(db, null, { actualState: "pending" });
    await metrics.ingest(
      alpha,
      metricsFrame(
        [
          containerSample(c1, NOW - 1000, { cpuCores: 0.5, memoryWorkingSetBytes: 1000 }),
          containerSample(c2, NOW - 1000, { cpuCores: 0.25, memoryWorkingSetBytes: 500 }),
          containerSample("someone-elses", NOW - 1000),
        ],
        null,
        { droppedSamples: 3 },
      ),
    );

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    const alphaLabels = `{host="alpha",host_id="${alpha}"}`;
    expect(sampleValue(text, 'fleet_hosts{status="online"}')).toBe(1);
    expect(sampleValue(text, 'fleet_hosts{status="offline"}')).toBe(1);
    expect(sampleValue(text, 'fleet_containers{state="running"}')).toBe(2);
    expect(sampleValue(text, 'fleet_containers{state="exited"}')).toBe(1);
    expect(sampleValue(text, 'fleet_containers{state="pending"}')).toBe(1);
    expect(sampleValue(text, 'fleet_containers{state="failed"}')).toBe(0);
    expect(sampleValue(text, `fleet_host_cpu_allocated_millicores${alphaLabels}`)).toBe(1500);
    expect(sampleValue(text, `fleet_host_cpu_allocatable_millicores${alphaLabels}`)).toBe(4000);
    expect(sampleValue(text, `fleet_host_cpu_used_cores${alphaLabels}`)).toBe(0.75);
    expect(sampleValue(text, `fleet_host_memory_allocated_bytes${alphaLabels}`)).toBe(2 * GIB);
    expect(sampleValue(text, `fleet_host_memory_used_bytes${alphaLabels}`)).toBe(1500);
    expect(sampleValue(text, `fleet_host_containers${alphaLabels}`)).toBe(3);
    expect(sampleValue(text, 'fleet_metrics_samples_ingested_total{kind="container"}')).toBe(2);
    expect(sampleValue(text, 'fleet_metrics_samples_dropped_total{reason="agent_spool"}')).toBe(3);
    expect(sampleValue(text, 'fleet_metrics_samples_dropped_total{reason="foreign_container"}')).toBe(1);
    expect(sampleValue(text, "fleet_metrics_write_queue_rows")).toBe(2);
    expect(text).toContain("# TYPE fleet_host_cpu_used_cores gauge");
    expect(text).toContain("fleet_central_process_cpu_seconds_total");

    await metrics.flush();
    await db.host.update({ where: { id: alpha }, data: { removedAt: new Date(NOW) } });
    // A removed host's series disappear rather than keep their last value, once
    // the fleet summary (computed at most once a second) is computed again.
    const after = await eventually(
      "the removed host's series to go",
      async () => (await fetch(url)).text(),
      (text) => !text.includes(`host_id="${alpha}"`),
      { timeoutMs: 5000, intervalMs: 200 },
    );
    expect(sampleValue(after, "fleet_metrics_samples_written_total")).toBe(2);
    expect(sampleValue(after, "fleet_metrics_write_queue_rows")).toBe(0);
    expect(sampleValue(after, 'fleet_hosts{status="online"}')).toBe(0);
  });

  it("answers only GET and HEAD", async () => {
    expect((await fetch(url, { method: "POST" })).status).toBe(405);
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });
});
