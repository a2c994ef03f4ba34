// The agent's side of the agent port against a real central on a real
// Postgres: with a wrong pin it refuses the central, says why, and its join
// token stays unused in the database; with the right pin it joins and keeps
// the pin; with a configured, CA-signed certificate (FLEET_TLS_CERT) it joins
// through the CA it is given (--ca-file), and without that CA it does not.
// The agent runs in this process on the fake driver: what is tested is the
// link, not the engine.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "@fleet/agent/agent";
import { FakeDriver } from "@fleet/agent/runtime/fake/fake-driver";
import { StateStore } from "@fleet/agent/state-store";
import { createTestUserWithToken } from "@fleet/web/server/testing/factories";
import { createTestClient, startTestServer, type TestServer } from "@fleet/web/server/testing/test-server";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../harness/eventually";
import { useTestDatabase } from "../harness/postgres";
import { makeTestCertificate } from "../harness/test-certificate";

const database = useTestDatabase();
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function central(env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startTestServer({ databaseUrl: database().url, env });
  cleanups.push(() => server.close());
  return server;
}

async function joinToken(server: TestServer): Promise<{ id: string; token: string; command: string }> {
  const admin = await createTestUserWithToken({ db: server.db, role: "admin" });
  return createTestClient(server.url, { bearer: admin.token }).joinToken.create.mutate({ ttl: "10m" });
}

async function startAgent(options: {
  serverUrl: string;
  joinToken: string;
  serverPin?: string;
  caPem?: string;
}) {
  const stateDir = await mkdtemp(join(tmpdir(), "fleet-agent-pin-"));
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
  const agent = new Agent({
    config: {
      serverUrl: options.serverUrl,
      serverPin: options.serverPin ?? null,
      joinToken: options.joinToken,
      name: `pin-${Math.random().toString(36).slice(2, 8)}`,
      labels: {},
      metricsIntervalMs: 5000,
      reserveCpuMillis: 100,
      reserveMemoryBytes: 256 * 1024 * 1024,
    },
    driver: new FakeDriver(),
    store: new StateStore(stateDir),
    log: pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
    agentVersion: "0.0.0-test",
    caPem: options.caPem ?? null,
    linkTuning: { reconnectInitialMs: 100, reconnectMaxMs: 300 },
  });
  cleanups.push(async () => {
    await agent.stop();
    await rm(stateDir, { recursive: true, force: true });
  });
  await agent.start();
  return { agent, lines, stateDir };
}

function pinOf(text: string): string {
  const pin = /--server-pin '([^']+)'/.exec(text)?.[1];
  if (!pin) throw new Error(`no pin in ${text}`);
  return pin;
}

describe("an agent dialling the agent port", () => {
  it("with a wrong pin: does not connect, says why, and its join token stays unused", async () => {
    const server = await central();
    const created = await joinToken(server);
    const wrongPin = `sha256//${createHash("sha256").update("not the central's key").digest("base64")}`;
    const { agent, lines } = await startAgent({
      serverUrl: server.fleet.agentEndpoint.publicUrl.replace("fleet.test", "127.0.0.1"),
      joinToken: created.token,
      serverPin: wrongPin,
    });
    await eventually(
      "two refusals in the log",
      async () => lines.filter((line) => line.msg.startsWith("REFUSED THE CENTRAL")).length,
      (count) => count >= 2,
    );
    const refusal = lines.find((line) => line.msg.startsWith("REFUSED THE CENTRAL"));
    expect(refusal).toMatchObject({ pinned: wrongPin, presented: pinOf(created.command) });
    expect(refusal?.msg).toMatch(/not the pinned .*nothing was sent to it \(not the join token/);
    expect(agent.isConnected).toBe(false);
    const row = await server.db.joinToken.findUniqueOrThrow({ where: { id: created.id } });
    expect(row).toMatchObject({ usedAt: null, usedByHostId: null });
    expect(await server.db.host.count()).toBe(0);
  });

  it("with the pin from the join command: joins over the self-signed certificate and stores the pin", async () => {
    const server = await central();
    const created = await joinToken(server);
    const pin = pinOf(created.command);
    const { agent, stateDir } = await startAgent({
      serverUrl: server.fleet.agentEndpoint.publicUrl.replace("fleet.test", "127.0.0.1"),
      joinToken: created.token,
      serverPin: pin,
    });
    await eventually("the welcome", async () => agent.isConnected, Boolean);
    const row = await server.db.joinToken.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.usedAt).not.toBeNull();
    const stored = JSON.parse(await readFile(join(stateDir, "credential.json"), "utf8"));
    expect(stored).toMatchObject({ hostId: row.usedByHostId, serverPin: pin });
  });

  it("with FLEET_TLS_CERT: joins through the CA given with --ca-file, and not without it", async () => {
    const { certPath, keyPath, remove } = await makeTestCertificate("fleet-agent-pin-ca-");
    cleanups.push(remove);
    const server = await central({ FLEET_TLS_CERT: certPath, FLEET_TLS_KEY: keyPath });
    // The API is over that certificate too: the token comes straight from the database's service.
    const untrusted = await startAgent({
      serverUrl: server.fleet.agentUrl,
      joinToken: "fleet_join_never-sent-anywhere-trusted",
    });
    await eventually(
      "the refused certificate in the log",
      async () => untrusted.lines.some((line) => JSON.stringify(line).includes("self-signed certificate")),
      Boolean,
    );
    expect(untrusted.agent.isConnected).toBe(false);

    const { createJoinToken } = await import("@fleet/web/server/services/join-token/create-join-token");
    const admin = await createTestUserWithToken({ db: server.db, role: "admin" });
    const created = await createJoinToken({
      db: server.db,
      bus: { publish() {} },
      caller: { actor: { userId: admin.userId, email: admin.email }, clientAddress: "127.0.0.1" },
      now: new Date(),
      createdById: admin.userId,
      ttlMs: 60_000,
      labels: {},
      agentEndpoint: server.fleet.agentEndpoint,
    });
    expect(created.command).not.toContain("--server-pin");
    const trusted = await startAgent({
      serverUrl: server.fleet.agentUrl,
      joinToken: created.token,
      caPem: await readFile(certPath, "utf8"),
    });
    await eventually("the welcome", async () => trusted.agent.isConnected, Boolean);
    const stored = JSON.parse(await readFile(join(trusted.stateDir, "credential.json"), "utf8"));
    expect(stored.serverPin).toBeNull();
  });
});
