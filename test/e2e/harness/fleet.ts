/**
 * A whole fleet on this one machine, for the fleet end-to-end story: three
 * "hosts", each a network namespace with its own address, its own engine
 * started inside it (two dockerd, one Podman, each with its own cgroup
 * parent) and, once a scenario joins it, its own real `fleet-agent` inside
 * it; the central (API and /agent, no Next.js) on a fresh Postgres database;
 * a registry serving the busybox test image. Started in beforeAll, torn down
 * in afterAll even when the setup failed half way; a run killed with SIGKILL
 * is reaped by the next one (fleet-run.ts).
 *
 * Addresses: the central and the registry listen on the root-namespace end of
 * a fourth veth pair (the "central link", whose namespace holds nothing): an
 * address of the root namespace that every host reaches through its default
 * route, and that is not on any host's own link, so cutting one host's link
 * (`cut`) leaves the other hosts' way to the central and the registry intact.
 * Not 0.0.0.0: nothing is opened on the machine's real interfaces. (A dummy
 * interface would say the same more plainly; this kernel has no dummy module.)
 *
 * May import: ../../harness, the web app's test server, factories and SSE
 * test client, the other files of this folder.
 */
import { spawnSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { AppRouter } from "@fleet/web/server/routers/_app";
import { createSseTestClient } from "@fleet/web/server/routers/event/testing/sse-test-client";
import { createTestUserWithToken } from "@fleet/web/server/testing/factories";
import {
  type CapturedLog,
  captureLog,
  createTestClient,
  startTestServer,
  type TestServer,
} from "@fleet/web/server/testing/test-server";
import type { TRPCClient } from "@trpc/client";
import { afterAll, beforeAll } from "vitest";
import { startDockerd, startPodman, type TEngineKind, type TestEngine } from "../../harness/engines";
import { createNetns, pickFreeSubnet, type TestNetns } from "../../harness/netns";
import { findFreePort } from "../../harness/ports";
import { createTestDatabase, type TestDatabase } from "../../harness/postgres";
import { pushTestImage, startRegistry, type TestRegistry } from "../../harness/registry";
import { TEST_IMAGE_TAG } from "../../harness/test-image";
import { parseJoinCommand } from "./agent";
import { type FleetAgentProcess, fleetAgentProcess } from "./fleet-agent";
import { type FleetRun, startFleetRun } from "./fleet-run";
import { teardownInOrder } from "./teardown";

export const HOST_KEYS = ["a", "b", "c"] as const;
export type THostKey = (typeof HOST_KEYS)[number];

/** Host a and b run dockerd, c Podman; host names sort as a, b, c (the scheduler's tie-break). */
const HOST_PLAN: Record<THostKey, { kind: TEngineKind; name: string; zone: string }> = {
  a: { kind: "docker", name: "e2e-a-docker", zone: "a" },
  b: { kind: "docker", name: "e2e-b-docker", zone: "b" },
  c: { kind: "podman", name: "e2e-c-podman", zone: "c" },
};

/**
 * The central's settings: 1 s heartbeats and metrics so the story moves;
 * offline after 12 s, under the 15 s promised, yet long enough for a killed
 * agent to start again on a loaded machine (its startup alone can take 10 s).
 */
export const CENTRAL_ENV = {
  FLEET_HEARTBEAT_INTERVAL: "1s",
  FLEET_METRICS_INTERVAL: "1s",
  FLEET_OFFLINE_AFTER: "12s",
} as const;
export const METRICS_INTERVAL_MS = 1_000;
export const OFFLINE_AFTER_MS = 12_000;

export interface FleetHost {
  key: THostKey;
  /** The name the agent asks for (and gets: the names are unique). */
  name: string;
  zone: string;
  kind: TEngineKind;
  netns: TestNetns;
  engine: TestEngine;
  /** The host's agent, from the moment a scenario joined it. */
  agent: FleetAgentProcess | null;
  /** The join command the agent was started with (its token is used up once the host joined). */
  joinCommand: string | null;
}

export type FleetClient = TRPCClient<AppRouter>;

export interface E2eFleet {
  run: FleetRun;
  /** The central's address (see the header); also the registry's. */
  centralAddress: string;
  /** `http://<centralAddress>:<port>`: FLEET_PUBLIC_URL, what the join command names. */
  url: string;
  /** The running central; throws while it is stopped. */
  central(): TestServer;
  /** Everything the central logged (info and above), across restarts. */
  centralLog: CapturedLog;
  /** An administrator's API client over HTTP (bearer token), and one that also speaks SSE subscriptions. */
  admin: FleetClient;
  adminSse: FleetClient;
  registry: TestRegistry;
  /** `<registry>/fleet-test/busybox:latest`, present in the registry and on no engine. */
  image: string;
  hosts: Record<THostKey, FleetHost>;
  /** Creates a join token labelled with the host's zone and starts the host's agent with its join command. */
  joinHost(key: THostKey): Promise<FleetAgentProcess>;
  /** An agent that is not one of the three (say, one presenting a used token), in host `key`'s namespace. */
  extraAgent(key: THostKey, joinCommand: string, name: string): Promise<FleetAgentProcess>;
  /** Takes the root-namespace end of the host's veth pair down (`false`) or up again (`true`). */
  setLink(key: THostKey, up: boolean): void;
  /** Closes the central (agents see the socket close); `startCentral` brings it back on the same port and database. */
  stopCentral(): Promise<void>;
  startCentral(): Promise<TestServer>;
  /** The agents', engines' and central's recent output, for a failure message. */
  diagnostics(): string;
}

export function useE2eFleet(): () => E2eFleet {
  let run: FleetRun | undefined;
  const namespaces: TestNetns[] = [];
  const engines: TestEngine[] = [];
  const agents: FleetAgentProcess[] = [];
  let registry: TestRegistry | undefined;
  let database: TestDatabase | undefined;
  let central: TestServer | null = null;
  let fleet: E2eFleet | undefined;

  beforeAll(async () => {
    const started = performance.now();
    run = await startFleetRun();
    const fleetRun = run;
    const makeNetns = async (suffix: string) => {
      const name = `fe2e-${fleetRun.id}-${suffix}`;
      fleetRun.note({ netns: name });
      const { address } = pickFreeSubnet();
      const netns = await createNetns(name, `${address}/24`);
      namespaces.push(netns);
      fleetRun.note({ link: netns.hostInterface });
      return netns;
    };
    // One at a time: pickFreeSubnet only sees subnets already on an interface.
    const centralLink = await makeNetns("central");
    const hostNetns = {} as Record<THostKey, TestNetns>;
    for (const key of HOST_KEYS) hostNetns[key] = await makeNetns(key);
    const centralAddress = centralLink.hostAddress;

    registry = await startRegistry({ address: centralAddress });
    fleetRun.note({ registryDir: registry.dataDir });
    const registryHost = registry.host;

    const startEngines = Promise.all(
      HOST_KEYS.map(async (key) => {
        const plan = HOST_PLAN[key];
        const start = plan.kind === "docker" ? startDockerd : startPodman;
        const engine = await start({
          name: `e2e-${fleetRun.id}-${key}`,
          netns: hostNetns[key].name,
          insecureRegistries: [registryHost],
        });
        engines.push(engine);
        return [key, engine] as const;
      }),
    );
    const port = await findFreePort();
    const url = `http://${centralAddress}:${port}`;
    // The agent port and the key agents pin stay the same when the central starts again.
    const agentPort = await findFreePort();
    const centralDataDir = join(fleetRun.dir, "central");
    await mkdir(centralDataDir);
    const centralLog = captureLog("info");
    const startCentral = async () => {
      if (central) throw new Error("the central is already running");
      central = await startTestServer({
        databaseUrl: (database as TestDatabase).url,
        log: centralLog,
        env: {
          HOST: centralAddress,
          PORT: String(port),
          FLEET_AGENT_PORT: String(agentPort),
          FLEET_DATA_DIR: centralDataDir,
          FLEET_PUBLIC_URL: url,
          ...CENTRAL_ENV,
        },
      });
      return central;
    };
    const startDatabaseAndCentral = (async () => {
      database = await createTestDatabase();
      return startCentral();
    })();
    // Both settle before a failure is thrown, so afterAll sees everything that started.
    const results = await Promise.allSettled([startEngines, startDatabaseAndCentral]);
    for (const result of results) if (result.status === "rejected") throw result.reason;
    const engineByKey = Object.fromEntries(await startEngines) as Record<THostKey, TestEngine>;
    const server = await startDatabaseAndCentral;

    // Built and pushed from host a's engine, then deleted there: every host's first pull is a real one.
    const image = await pushTestImage(engineByKey.a, registry, TEST_IMAGE_TAG);
    const built = await engineByKey.a.docker.getImage(image).inspect();
    await engineByKey.a.docker.getImage(built.Id).remove({ force: true });

    const { token } = await createTestUserWithToken({ db: server.db, role: "admin" });
    const admin = createTestClient(url, { bearer: token });
    const adminSse = createSseTestClient<AppRouter>(url, token);

    const hosts = {} as Record<THostKey, FleetHost>;
    for (const key of HOST_KEYS) {
      hosts[key] = {
        key,
        ...HOST_PLAN[key],
        netns: hostNetns[key],
        engine: engineByKey[key],
        agent: null,
        joinCommand: null,
      };
    }
    const agentProcess = async (key: THostKey, joinCommand: string, name: string) => {
      const stateDir = join(fleetRun.dir, `agent-${name}`);
      await mkdir(stateDir);
      const agent = fleetAgentProcess({
        netns: hosts[key].netns,
        engine: hosts[key].engine,
        join: parseJoinCommand(joinCommand),
        name,
        stateDir,
        // The central's interval from the first sample on (its welcome would set it anyway), so
        // samples taken before the link is up are as dense as the rest.
        args: [
          "--label",
          `engine=${hosts[key].kind}`,
          "--metrics-interval",
          CENTRAL_ENV.FLEET_METRICS_INTERVAL,
        ],
      });
      agents.push(agent);
      agent.start();
      return agent;
    };

    fleet = {
      run: fleetRun,
      centralAddress,
      url,
      central() {
        if (!central) throw new Error("the central is stopped");
        return central;
      },
      centralLog,
      admin,
      adminSse,
      registry,
      image,
      hosts,
      async joinHost(key) {
        const host = hosts[key];
        if (host.agent) throw new Error(`host ${key} has joined already`);
        const { command } = await admin.joinToken.create.mutate({ ttl: "15m", labels: { zone: host.zone } });
        host.joinCommand = command;
        host.agent = await agentProcess(key, command, host.name);
        return host.agent;
      },
      extraAgent: agentProcess,
      setLink(key, up) {
        const result = spawnSync("ip", ["link", "set", hosts[key].netns.hostInterface, up ? "up" : "down"], {
          encoding: "utf8",
        });
        if (result.status !== 0) throw new Error(`ip link set ${up ? "up" : "down"}: ${result.stderr}`);
      },
      async stopCentral() {
        const running = central;
        central = null;
        await running?.close();
      },
      startCentral,
      diagnostics() {
        const parts = agents.map((agent) => `--- agent ${agent.name}:\n${tailLines(agent.output(), 40)}`);
        for (const engine of engines) parts.push(`--- engine ${engine.name}:\n${engine.logTail(15)}`);
        parts.push(`--- central (warn and above):\n${centralWarnings(centralLog)}`);
        return parts.join("\n");
      },
    };
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stderr.write(
      `fleet e2e: fleet up in ${seconds} s (central ${url}, registry ${registryHost}, engines ${engines
        .map((e) => `${e.name} ${e.startupMs} ms`)
        .join(", ")})\n`,
    );
  });

  afterAll(async () => {
    await teardownInOrder("fleet", [
      () => Promise.all(agents.map((agent) => agent.stop())),
      () =>
        central?.close().finally(() => {
          central = null;
        }),
      () => Promise.all(engines.map((engine) => engine.stop())),
      () => registry?.stop(),
      () => Promise.all(namespaces.map((netns) => netns.stop())),
      () => database?.drop(),
      async () => run?.remove(),
      async () => {
        fleet = undefined;
      },
    ]);
  });

  return () => {
    if (!fleet) throw new Error("useE2eFleet(): the fleet exists only inside tests (after beforeAll)");
    return fleet;
  };
}

function tailLines(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function centralWarnings(log: CapturedLog): string {
  const WARN = 40;
  return log.lines
    .filter((line) => line.level >= WARN)
    .slice(-30)
    .map((line) => JSON.stringify(line).slice(0, 600))
    .join("\n");
}
