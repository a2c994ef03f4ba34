// A real central with fake agents (real WebSockets, real protocol) for the
// placement tests: hosts join with join tokens made through the API, so their
// capacity and labels arrive the way a real agent's do.

import type { TDesiredFrame } from "@fleet/shared/protocol/server-to-agent";
import { connectFakeAgent, type FakeAgent } from "@fleet/test/harness/fake-agent";
import type { TEnvSource } from "../../../env";
import { createTestUserWithToken } from "../../../testing/factories";
import { createTestClient, startTestServer, type TestServer } from "../../../testing/test-server";

const MIB = 1024 * 1024;

export type TTestClient = ReturnType<typeof createTestClient>;

export interface TTestHostSpec {
  name: string;
  cpus: number;
  memoryMiB: number;
  labels?: Record<string, string>;
}

export interface TestFleet {
  server: TestServer;
  admin: TTestClient;
  operator: TTestClient;
  viewer: TTestClient;
  agents: FakeAgent[];
  /** Joins hosts with no reserve: allocatable = cpus × 1000 millicores and memoryMiB. */
  joinHosts(specs: readonly TTestHostSpec[]): Promise<FakeAgent[]>;
  close(): Promise<void>;
}

export async function startTestFleet(options: { databaseUrl: string; env?: TEnvSource }): Promise<TestFleet> {
  const server = await startTestServer({
    databaseUrl: options.databaseUrl,
    // Fake agents send no heartbeats on their own: a long grace keeps them online.
    env: { FLEET_OFFLINE_AFTER: "10m", ...options.env },
  });
  const clientFor = async (role: "viewer" | "operator" | "admin") =>
    createTestClient(server.url, { bearer: (await createTestUserWithToken({ db: server.db, role })).token });
  const [admin, operator, viewer] = await Promise.all([
    clientFor("admin"),
    clientFor("operator"),
    clientFor("viewer"),
  ]);
  const agents: FakeAgent[] = [];
  return {
    server,
    admin,
    operator,
    viewer,
    agents,
    async joinHosts(specs) {
      const joined: FakeAgent[] = [];
      for (const spec of specs) {
        const { token } = await admin.joinToken.create.mutate({ labels: spec.labels ?? {} });
        const agent = await connectFakeAgent({
          url: server.url,
          joinToken: token,
          name: spec.name,
          facts: { cpus: spec.cpus, memoryBytes: spec.memoryMiB * MIB, labels: {} },
          reserve: { cpuMillis: 0, memoryBytes: 0 },
          // A deployment pulls its tag on one host to pin a digest; these engines report none.
          answerOp: (request) =>
            request.op.kind === "image.pull"
              ? { ok: true, result: { digest: null } }
              : request.op.kind === "image.list"
                ? { ok: true, result: { images: [] } }
                : // The central reads a new host's volumes and networks; these engines have none.
                  request.op.kind === "volume.list"
                  ? { ok: true, result: { volumes: [] } }
                  : request.op.kind === "network.list"
                    ? { ok: true, result: { networks: [] } }
                    : // Nothing ever leaves these engines, so whatever a container used stays in use.
                      request.op.kind === "volume.remove" || request.op.kind === "network.remove"
                      ? { ok: false, code: "conflict", message: "in use by a container" }
                      : { ignore: true },
        });
        agents.push(agent);
        joined.push(agent);
      }
      return joined;
    },
    async close() {
      await Promise.all(agents.map((agent) => agent.close().catch(() => {})));
      await server.close();
    },
  };
}

/** The latest desired set the agent received (by generation). */
export function latestDesired(agent: FakeAgent): TDesiredFrame | undefined {
  let latest: TDesiredFrame | undefined;
  for (const frame of agent.frames) {
    if (frame.type === "desired" && (!latest || frame.generation > latest.generation)) latest = frame;
  }
  return latest;
}

/** Waits until the agent's latest desired set holds exactly these container ids. */
export async function waitForDesiredIds(agent: FakeAgent, ids: readonly string[], timeoutMs = 10_000) {
  const wanted = [...ids].sort().join(",");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const latest = latestDesired(agent);
    const have = latest
      ? latest.containers
          .map((c) => c.id)
          .sort()
          .join(",")
      : "";
    if (latest && have === wanted) return latest;
    if (Date.now() > deadline) {
      throw new Error(`desired set of ${agent.hostId} is [${have}], expected [${wanted}]`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
