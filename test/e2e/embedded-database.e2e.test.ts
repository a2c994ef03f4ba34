// Issue 12, part 1: `npm start` with the embedded default (no DATABASE_URL)
// takes 200 concurrent mixed tRPC calls — lists, gets, runs, metrics — with no
// error; SIGKILL the central and start it again: every row is still there.
//
// The hosts that `container.run` places on are simulated agents
// (test/harness/fake-agent.ts): they join with a join token and speak the real
// protocol over the real WebSocket, acknowledging every desired set, but drive
// no engine. What is under load here is the central and its database, not an
// engine.
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isPostmasterOf, readPostmasterPid, stopPostmaster } from "@fleet/web/server/db/data-dir-state";
import { createTestClient } from "@fleet/web/server/testing/test-server";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectFakeAgent, type FakeAgent } from "../harness/fake-agent";
import { findFreePort } from "../harness/ports";
import {
  type CentralProcess,
  centralCommand,
  embeddedDatabaseHolder,
  ensureCentralBuild,
  startCentralProcess,
} from "./harness/central-process";

const CALLS = 200;
const MIB = 1024 * 1024;

let fleetDataDir: string;
let port: number;
let env: Record<string, string>;
let central: CentralProcess | undefined;
const agents: FakeAgent[] = [];
const token = `fleet-e2e-${randomBytes(24).toString("hex")}`;

beforeAll(async () => {
  await ensureCentralBuild();
  fleetDataDir = await mkdtemp(join(tmpdir(), "fleet-e2e-embedded-"));
  // As root the database runs as the postgres user, who must be able to enter.
  await chmod(fleetDataDir, 0o755);
  port = await findFreePort();
  env = {
    FLEET_EMBEDDED_DB_PORT: String(await findFreePort()),
    // The agents' TLS port, off its default so two centrals on one machine do not collide.
    FLEET_AGENT_PORT: String(await findFreePort()),
    FLEET_BOOTSTRAP_TOKEN: token,
    // Simulated agents send no heartbeats: keep them online through the test.
    FLEET_OFFLINE_AFTER: "10m",
    FLEET_LOG_LEVEL: "warn",
  };
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.close().catch(() => {})));
  await central?.killHard().catch(() => {});
  // A server a failed step left behind.
  const left = await readPostmasterPid(join(fleetDataDir, "postgres"));
  if (left && (await isPostmasterOf(left.pid, join(fleetDataDir, "postgres"))))
    await stopPostmaster(left.pid);
  await rm(fleetDataDir, { recursive: true, force: true });
});

// Every row of every table by its primary key (rows change; they must not vanish).
async function snapshot(): Promise<Map<string, Set<string>>> {
  const password = (await readFile(join(fleetDataDir, "postgres", "fleet.password"), "utf8")).trim();
  const client = new pg.Client({
    host: "127.0.0.1",
    port: Number(env.FLEET_EMBEDDED_DB_PORT),
    user: "postgres",
    password,
    database: "postgres",
  });
  await client.connect();
  try {
    const tables = await client.query<{ name: string; key: string | null }>(
      `SELECT c.relname AS name,
              (SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum)
                 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                WHERE i.indrelid = c.oid AND i.indisprimary) AS key
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    );
    const rows = new Map<string, Set<string>>();
    for (const { name, key } of tables.rows) {
      const select = key ? `ROW(${key})::text` : "t::text";
      const result = await client.query<{ row: string }>(`SELECT ${select} AS row FROM "${name}" t`);
      rows.set(name, new Set(result.rows.map((entry) => entry.row)));
    }
    return rows;
  } finally {
    await client.end();
  }
}

describe(`${centralCommand().command} ${centralCommand().args.join(" ")} with the embedded database`, () => {
  let containerIds: string[] = [];
  let before: Map<string, Set<string>>;

  it(`answers ${CALLS} concurrent mixed tRPC calls with no error`, async () => {
    central = await startCentralProcess({ port, fleetDataDir, env });
    const admin = createTestClient(central.url, { bearer: token });

    const hostIds: string[] = [];
    for (const name of ["load-a", "load-b"]) {
      const { token: joinToken } = await admin.joinToken.create.mutate({ labels: {} });
      const agent = await connectFakeAgent({
        url: central.url,
        joinToken,
        name,
        facts: { cpus: 64, memoryBytes: 256 * 1024 * MIB, labels: {} },
        reserve: { cpuMillis: 0, memoryBytes: 0 },
        // A new host is asked for its images, volumes and networks: it has none.
        answerOp: (request) =>
          request.op.kind === "image.list"
            ? { ok: true, result: { images: [] } }
            : request.op.kind === "volume.list"
              ? { ok: true, result: { volumes: [] } }
              : request.op.kind === "network.list"
                ? { ok: true, result: { networks: [] } }
                : { ignore: true },
      });
      agents.push(agent);
      hostIds.push(agent.hostId);
    }
    // Something for the gets to find.
    for (let i = 0; i < 4; i++) {
      const { container } = await admin.container.run.mutate({
        name: `seed-${i}`,
        image: "busybox",
        command: "sleep 3600",
        cpus: "0.1",
        memory: "16m",
      });
      containerIds.push(container.id);
    }

    const pick = <T>(list: T[], i: number): T => list[i % list.length] as T;
    const call = (i: number): Promise<unknown> => {
      switch (i % 10) {
        case 0:
          return admin.container.list.query({});
        case 1:
          return admin.container.get.query({ id: pick(containerIds, i) });
        case 2:
          return admin.host.list.query({});
        case 3:
          return admin.host.get.query({ id: pick(hostIds, i) });
        case 4:
        case 5:
          return admin.container.run.mutate({
            name: `load-${i}`,
            image: "busybox",
            command: "sleep 3600",
            cpus: "0.05",
            memory: "8m",
          });
        case 6:
          return admin.metrics.fleet.query({ range: "15m" });
        case 7:
          return admin.metrics.host.query({ hostId: pick(hostIds, i), range: "1h" });
        case 8:
          return admin.metrics.container.query({ containerId: pick(containerIds, i), range: "15m" });
        default:
          return admin.event.list.query({ limit: 50 });
      }
    };

    const started = performance.now();
    const results = await Promise.allSettled(Array.from({ length: CALLS }, (_, i) => call(i)));
    const elapsedMs = performance.now() - started;
    const failures = results.flatMap((result, i) =>
      result.status === "rejected" ? [`call ${i}: ${String(result.reason)}`] : [],
    );
    process.stderr.write(
      `embedded database: ${CALLS} concurrent mixed tRPC calls in ${Math.round(elapsedMs)} ms (${failures.length} failed)\n`,
    );
    expect(failures, central.output()).toEqual([]);

    const listed = await admin.container.list.query({ limit: 200 });
    containerIds = listed.items.map((container) => container.id);
    expect(containerIds).toHaveLength(4 + CALLS / 5);
    before = await snapshot();
  });

  it("keeps every row when the central is killed with SIGKILL and started again", async () => {
    expect(before, "the load step did not finish").toBeDefined();
    const killed = central;
    if (!killed) throw new Error("no central");
    const serverPid = embeddedDatabaseHolder(fleetDataDir);
    await killed.killHard();
    central = undefined;
    await Promise.all(agents.map((agent) => agent.close().catch(() => {})));
    // The killed central could not stop its database, which goes on running.
    const postmaster = await readPostmasterPid(join(fleetDataDir, "postgres"));
    expect(serverPid).not.toBeNull();
    expect(postmaster && (await isPostmasterOf(postmaster.pid, join(fleetDataDir, "postgres")))).toBe(true);

    const restarted = Date.now();
    central = await startCentralProcess({ port, fleetDataDir, env });
    process.stderr.write(
      `embedded database: the central answered ${Date.now() - restarted} ms after its restart\n`,
    );
    const after = await snapshot();
    for (const [table, rows] of before) {
      const now = after.get(table) ?? new Set<string>();
      const missing = [...rows].filter((row) => !now.has(row));
      expect(missing, `rows of ${table} gone after the restart`).toEqual([]);
      expect(now.size, `rows in ${table}`).toBeGreaterThanOrEqual(rows.size);
    }
    const admin = createTestClient(central.url, { bearer: token });
    const listed = await admin.container.list.query({ limit: 200 });
    expect(listed.items.map((container) => container.id).sort()).toEqual([...containerIds].sort());

    await central.stop();
    central = undefined;
    expect(embeddedDatabaseHolder(fleetDataDir)).toBeNull();
    expect(await readPostmasterPid(join(fleetDataDir, "postgres"))).toBeNull();
  });
});
