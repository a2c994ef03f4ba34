// host.usage over HTTP against the real metrics service: samples an agent
// sent show up as the "used" of the hosts asked for, and only those.
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  containerSample,
  createContainer,
  hostSample,
  metricsFrame,
} from "../../services/metrics/testing/metrics-fixtures";
import { createTestHost, createTestUserWithToken } from "../../testing/factories";
import { createTestClient, startTestServer, type TestServer, trpcErrorCode } from "../../testing/test-server";

const MIB = 1024 * 1024;

describe("host.usage", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let viewer: ReturnType<typeof createTestClient>;

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url });
    viewer = createTestClient(server.url, {
      bearer: (await createTestUserWithToken({ db: server.db, role: "viewer" })).token,
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  test("sums the fresh samples of each asked host's containers", async () => {
    const busy = await createTestHost(server.db);
    const idle = await createTestHost(server.db);
    const other = await createTestHost(server.db);
    const [web, worker, elsewhere] = await Promise.all([
      createContainer(server.db, busy.id),
      createContainer(server.db, busy.id),
      createContainer(server.db, other.id),
    ]);
    const metrics = server.fleet.services.metrics;
    const ts = Date.now() - 1000;
    await metrics.ingest(
      busy.id,
      metricsFrame(
        [
          containerSample(web, ts, { cpuCores: 0.5, memoryWorkingSetBytes: 100 * MIB }),
          containerSample(worker, ts, { cpuCores: 0.25, memoryWorkingSetBytes: 28 * MIB }),
        ],
        hostSample(ts, { cpuCores: 1.25, cpuCount: 4, load1: 0.5 }),
      ),
    );
    await metrics.ingest(other.id, metricsFrame([containerSample(elsewhere, ts, { cpuCores: 2 })], null));

    const { items, at } = await viewer.host.usage.query({ ids: [busy.id, idle.id] });
    expect(at).toBeGreaterThan(0);
    expect(items).toEqual([
      {
        hostId: busy.id,
        cpuUsedCores: 0.75,
        memoryUsedBytes: 128 * MIB,
        containersReporting: 2,
        machine: expect.objectContaining({ ts, cpuCores: 1.25, cpuCount: 4, load1: 0.5 }),
      },
      { hostId: idle.id, cpuUsedCores: 0, memoryUsedBytes: 0, containersReporting: 0, machine: null },
    ]);
  });

  test("refuses more ids than a page of hosts", async () => {
    const ids = Array.from({ length: 201 }, (_, index) => `host-${index}`);
    const error = await viewer.host.usage.query({ ids }).catch((caught: unknown) => caught);
    expect(trpcErrorCode(error)).toBe("BAD_REQUEST");
  });
});
