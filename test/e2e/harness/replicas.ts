/**
 * Several centrals on one database behind HAProxy, with real hosts joined
 * through it: the setup `deploy/haproxy/haproxy.cfg` documents, on this one
 * machine, for the replica tests.
 *
 * - A private PostgreSQL server (stoppable-postgres.ts) that the test may stop
 *   and start again; one migrated database.
 * - N central replicas, each the built central as its own process
 *   (`centralCommand()`, as central-process.ts starts it) on 127.0.0.1 with its
 *   own PORT and agent port, FLEET_REPLICA_ID `central<n>` (the same id again
 *   when it starts again, as a service unit would give it),
 *   FLEET_INTERNAL_URL its own address, the same agent TLS key (one key
 *   written into each replica's FLEET_DATA_DIR/tls before its first start),
 *   and FLEET_PUBLIC_URL / FLEET_AGENT_URL naming the load balancer, so join
 *   commands and install scripts send hosts there.
 * - HAProxy running the repo's config file as is (`haproxy -f … -db`), its
 *   addresses in environment variables: both entrances on the "central link"
 *   address every host namespace reaches (as in fleet.ts), its status page on
 *   127.0.0.1.
 * - The hosts of fleet.ts (a and b dockerd, c Podman, each in its own network
 *   namespace) with their real agents, joined with a join token made through
 *   the load balancer; a registry with the busybox test image.
 *
 * Replicas are killed (SIGKILL to the process group), stopped (SIGTERM to the
 * server process alone, as a service manager stops it) and started again by
 * index. Everything started is stopped in afterAll, also after a failed setup.
 *
 * May import: node built-ins, ../../harness, the web app's test clients and
 * Prisma client, the other files of this folder.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { once } from "node:events";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPrismaClient, type PrismaClient } from "@fleet/web/server/db/client";
import type { AppRouter } from "@fleet/web/server/routers/_app";
import { createSseTestClient } from "@fleet/web/server/routers/event/testing/sse-test-client";
import { createTestClient } from "@fleet/web/server/testing/test-server";
import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import superjson from "superjson";
import { afterAll, beforeAll } from "vitest";
import { REPO_ROOT } from "../../../scripts/build/paths";
import {
  registerExitCleanup,
  startDockerd,
  startPodman,
  type TEngineKind,
  type TestEngine,
} from "../../harness/engines";
import { createNetns, pickFreeSubnet, type TestNetns } from "../../harness/netns";
import { findFreePort } from "../../harness/ports";
import { pushTestImage, startRegistry, type TestRegistry } from "../../harness/registry";
import { TEST_IMAGE_TAG } from "../../harness/test-image";
import { parseJoinCommand } from "./agent";
import { centralCommand, ensureCentralBuild } from "./central-process";
import { type FleetAgentProcess, fleetAgentProcess } from "./fleet-agent";
import { type FleetRun, startFleetRun } from "./fleet-run";
import { type StoppablePostgres, startStoppablePostgres } from "./stoppable-postgres";
import { teardownInOrder } from "./teardown";

export const HAPROXY_CONFIG = join(REPO_ROOT, "deploy/haproxy/haproxy.cfg");

export const REPLICA_HOST_KEYS = ["a", "b", "c"] as const;
export type TReplicaHostKey = (typeof REPLICA_HOST_KEYS)[number];

const HOST_PLAN: Record<TReplicaHostKey, { kind: TEngineKind; name: string; zone: string }> = {
  a: { kind: "docker", name: "ha-a-docker", zone: "a" },
  b: { kind: "docker", name: "ha-b-docker", zone: "b" },
  c: { kind: "podman", name: "ha-c-podman", zone: "c" },
};

/** 1 s heartbeats and metrics so the story moves; offline after 12 s, as in the fleet suite. */
export const REPLICA_CENTRAL_ENV = {
  FLEET_HEARTBEAT_INTERVAL: "1s",
  FLEET_METRICS_INTERVAL: "1s",
  FLEET_OFFLINE_AFTER: "12s",
} as const;
export const REPLICA_METRICS_INTERVAL_MS = 1_000;

const STOP_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 120_000;

export type FleetClient = TRPCClient<AppRouter>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An answer that is not the API's own: the load balancer's error page (502, 503, 504 while no
 * replica can take the request), with its status. tRPC keeps it as the cause of its client error.
 */
export class LoadBalancerAnswer extends Error {
  constructor(readonly status: number) {
    super(`the load balancer answered ${status} itself`);
    this.name = "LoadBalancerAnswer";
  }
}

/** An administrator's tRPC client over HTTP that tells the load balancer's own error pages by status. */
export function createLoadBalancedClient(url: string, token: string): FleetClient {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/api/trpc`,
        transformer: superjson,
        headers: { authorization: `Bearer ${token}` },
        async fetch(input, init) {
          const response = await fetch(input, init);
          const json = response.headers.get("content-type")?.includes("application/json") ?? false;
          if (!json && response.status >= 500) {
            await response.body?.cancel();
            throw new LoadBalancerAnswer(response.status);
          }
          return response;
        },
      }),
    ],
  });
}

// ---- processes by group -----------------------------------------------------------------------

interface ProcInfo {
  pid: number;
  pgrp: number;
  cmdline: string;
}

function processes(): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ");
      found.push({ pid: Number(name), pgrp: Number(fields[2]), cmdline });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

function groupMembers(pgrp: number): ProcInfo[] {
  return processes().filter((proc) => proc.pgrp === pgrp);
}

function signalGroup(pgrp: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgrp, signal);
  } catch {
    // gone already
  }
}

async function untilGroupGone(pgrp: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (groupMembers(pgrp).length === 0) return true;
    await sleep(50);
  }
  return groupMembers(pgrp).length === 0;
}

/** A copy of this process's environment without DATABASE_URL or any FLEET_ variable. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key === "DATABASE_URL" || key.startsWith("FLEET_")) delete env[key];
  }
  return env;
}

// ---- one replica -------------------------------------------------------------------------------

export interface ReplicaExit {
  /** The server's exit code, as npm passes it on (null when killed by a signal). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the signal to the whole process group being gone. */
  ms: number;
}

export interface CentralReplica {
  /** 1-based, as in the HAProxy config (`central<index>`). */
  index: number;
  /** FLEET_REPLICA_ID: `central<index>`. */
  id: string;
  port: number;
  agentPort: number;
  /** `http://127.0.0.1:<port>`: this replica alone, not through the load balancer (also its FLEET_INTERNAL_URL). */
  url: string;
  readonly running: boolean;
  /** An administrator's client of this replica alone, over HTTP, and one that also speaks SSE. */
  client: FleetClient;
  sse: FleetClient;
  /** Starts the process and waits until it answers /readyz with 200 (or has none) and the load balancer sends it traffic. */
  start(): Promise<void>;
  /** SIGKILL to the process group, as `kill -9` or the OOM killer would; resolves once every process is gone. */
  kill(): Promise<ReplicaExit>;
  /** SIGTERM to the server process (as systemd stops it), and a wait until it has exited (SIGKILL after 30 s). */
  terminate(): Promise<ReplicaExit>;
  /** Output of every start so far (JSON log lines, last 256 kB). */
  output(): string;
}

interface ReplicaOptions {
  index: number;
  runDir: string;
  agentKeyPem: string;
  env: Record<string, string>;
  /** Waits until the load balancer sends this replica traffic (once it runs). */
  untilBalanced(index: number): Promise<void>;
}

async function makeReplica(options: ReplicaOptions, token: string): Promise<CentralReplica> {
  const { index } = options;
  const id = `central${index}`;
  const port = await findFreePort();
  let agentPort = await findFreePort();
  while (agentPort === port) agentPort = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = join(options.runDir, id);
  // The same key on every replica: hosts pin it, whichever replica they reach.
  mkdirSync(join(dataDir, "tls"), { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o755);
  writeFileSync(join(dataDir, "tls", "key.pem"), options.agentKeyPem, { mode: 0o600 });

  let child: ChildProcess | null = null;
  let pgrp = 0;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({
    code: null,
    signal: null,
  });
  let output = "";
  let unregister = () => {};
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-256 * 1024);
  };
  const isRunning = () => child !== null && child.exitCode === null && child.signalCode === null;

  const waitGone = async (signalAt: number): Promise<ReplicaExit> => {
    const leaderExit = await exited;
    await untilGroupGone(pgrp, STOP_TIMEOUT_MS);
    unregister();
    child = null;
    return { ...leaderExit, ms: Math.round(performance.now() - signalAt) };
  };

  const replica: CentralReplica = {
    index,
    id,
    port,
    agentPort,
    url,
    get running() {
      return isRunning();
    },
    client: createTestClient(url, { bearer: token }),
    sse: createSseTestClient<AppRouter>(url, token),
    async start() {
      if (isRunning()) throw new Error(`${id} is already running`);
      const { command, args } = centralCommand();
      output += `--- start ${new Date().toISOString()}\n`;
      const started = spawn(command, args, {
        cwd: REPO_ROOT,
        env: {
          ...baseEnv(),
          HOST: "127.0.0.1",
          PORT: String(port),
          FLEET_AGENT_PORT: String(agentPort),
          FLEET_DATA_DIR: dataDir,
          FLEET_REPLICA_ID: id,
          FLEET_INTERNAL_URL: url,
          FLEET_BOOTSTRAP_TOKEN: token,
          FLEET_TRUST_PROXY: "1",
          ...options.env,
        },
        // Its own process group: a hard kill takes npm and the server together.
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = started;
      pgrp = started.pid ?? 0;
      const group = pgrp;
      started.stdout?.on("data", keep);
      started.stderr?.on("data", keep);
      exited = once(started, "exit").then(([code, signal]) => {
        output += `--- exit code=${code} signal=${signal}\n`;
        return { code: code as number | null, signal: signal as NodeJS.Signals | null };
      });
      unregister = registerExitCleanup(() => signalGroup(group, "SIGKILL"));

      const deadline = Date.now() + START_TIMEOUT_MS;
      for (;;) {
        if (!isRunning()) throw new Error(`${id} exited before it was ready:\n${output.slice(-6000)}`);
        const status = await fetch(`${url}/readyz`)
          .then((response) => response.status)
          .catch(() => 0);
        // 404: a central without /readyz (then its API's health answers for it).
        const ready =
          status === 200 ||
          (status === 404 &&
            (await fetch(`${url}/api/trpc/health`)
              .then((response) => response.ok)
              .catch(() => false)));
        if (ready) break;
        if (Date.now() > deadline) {
          signalGroup(group, "SIGKILL");
          throw new Error(
            `${id} was not ready on ${url} in time (last /readyz: ${status}):\n${output.slice(-6000)}`,
          );
        }
        await sleep(200);
      }
      await options.untilBalanced(index);
    },
    async kill() {
      if (!isRunning()) throw new Error(`${id} is not running`);
      const at = performance.now();
      signalGroup(pgrp, "SIGKILL");
      return waitGone(at);
    },
    async terminate() {
      if (!isRunning()) throw new Error(`${id} is not running`);
      // The server itself, not npm: npm would die of the signal at once and leave the server
      // running without a parent (it does not pass SIGTERM on).
      const server = groupMembers(pgrp).find(
        (proc) => /(^|\/)node$/.test(proc.cmdline.split(" ")[0] ?? "") && proc.cmdline.includes("server.js"),
      );
      const at = performance.now();
      if (server) process.kill(server.pid, "SIGTERM");
      else signalGroup(pgrp, "SIGTERM");
      const timer = setTimeout(() => signalGroup(pgrp, "SIGKILL"), STOP_TIMEOUT_MS);
      try {
        return await waitGone(at);
      } finally {
        clearTimeout(timer);
      }
    },
    output: () => output,
  };
  return replica;
}

// ---- HAProxy -----------------------------------------------------------------------------------

export type TLbServerState = "UP" | "DOWN" | "MAINT" | string;

export interface LoadBalancer {
  /** `http://<central address>:<port>`: the HTTP entrance (FLEET_PUBLIC_URL). */
  url: string;
  /** `https://<central address>:<port>`: the agents' entrance (FLEET_AGENT_URL). */
  agentUrl: string;
  statsUrl: string;
  /** Each server's state per backend, from the status page: `{"centrals/central1": "UP", …}`. */
  states(): Promise<Record<string, TLbServerState>>;
  /** Waits until replica `index` is `state` in the HTTP and agent backends. */
  until(index: number, state: "UP" | "DOWN", timeoutMs?: number): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

const LB_BACKENDS = ["centrals", "agent_ports"] as const;

export async function startLoadBalancer(options: {
  address: string;
  replicas: { index: number; port: number; agentPort: number }[];
  runDir: string;
}): Promise<LoadBalancer> {
  const httpPort = await findFreePort();
  const agentPort = await findFreePort();
  const statsPort = await findFreePort();
  const env: Record<string, string> = {
    FLEET_LB_HTTP_BIND: `${options.address}:${httpPort}`,
    FLEET_LB_AGENT_BIND: `${options.address}:${agentPort}`,
    FLEET_LB_STATS_BIND: `127.0.0.1:${statsPort}`,
  };
  for (const replica of options.replicas) {
    env[`FLEET_CENTRAL${replica.index}_HOST`] = "127.0.0.1";
    env[`FLEET_CENTRAL${replica.index}_HTTP_PORT`] = String(replica.port);
    env[`FLEET_CENTRAL${replica.index}_AGENT_PORT`] = String(replica.agentPort);
  }
  // The pid file names the run dir, so the fleet run's reaper finds this process after a SIGKILLed test.
  const child = spawn("haproxy", ["-f", HAPROXY_CONFIG, "-db", "-p", join(options.runDir, "haproxy.pid")], {
    env: {
      PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      NODE_ENV: process.env.NODE_ENV,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-128 * 1024);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = once(child, "exit");
  const unregister = registerExitCleanup(() => child.kill("SIGKILL"));
  const statsUrl = `http://127.0.0.1:${statsPort}/stats`;

  const states = async (): Promise<Record<string, TLbServerState>> => {
    const csv = await fetch(`${statsUrl};csv`).then((response) => response.text());
    const [header, ...rows] = csv.trim().split("\n");
    const columns = (header ?? "").replace(/^# /, "").split(",");
    const at = (name: string) => columns.indexOf(name);
    const result: Record<string, TLbServerState> = {};
    for (const row of rows) {
      const cells = row.split(",");
      const server = cells[at("svname")] ?? "";
      if (server === "FRONTEND" || server === "BACKEND") continue;
      // "UP 1/2" while a check is in transition: the first word is the state.
      result[`${cells[at("pxname")]}/${server}`] = (cells[at("status")] ?? "").split(" ")[0] ?? "";
    }
    return result;
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}):\n${output}`);
    if (
      await states().then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`haproxy did not answer on ${statsUrl}:\n${output}`);
    }
    await sleep(100);
  }

  return {
    url: `http://${options.address}:${httpPort}`,
    agentUrl: `https://${options.address}:${agentPort}`,
    statsUrl,
    states,
    async until(index, state, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      let last: Record<string, TLbServerState> = {};
      for (;;) {
        last = await states().catch(() => last);
        if (LB_BACKENDS.every((backend) => last[`${backend}/central${index}`] === state)) return;
        if (Date.now() > until) {
          throw new Error(`haproxy did not mark central${index} ${state} in time: ${JSON.stringify(last)}`);
        }
        await sleep(100);
      }
    },
    output: () => output,
    async stop() {
      unregister();
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGUSR1 is HAProxy's soft stop; SIGTERM stops it at once, which is all a test needs.
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---- the whole setup ---------------------------------------------------------------------------

export interface ReplicaHost {
  key: TReplicaHostKey;
  name: string;
  zone: string;
  kind: TEngineKind;
  netns: TestNetns;
  engine: TestEngine;
  agent: FleetAgentProcess | null;
  /** The host row's id, once joined. */
  id: string | null;
}

export interface ReplicaFleet {
  run: FleetRun;
  /** The address every host reaches: HAProxy and the registry listen there. */
  centralAddress: string;
  lb: LoadBalancer;
  replicas: CentralReplica[];
  postgres: StoppablePostgres;
  /** The test's own Prisma client on the replicas' database, to read the rows. */
  db: PrismaClient;
  /** An administrator's API clients through the load balancer (HTTP, telling its own error pages; and HTTP + SSE). */
  admin: FleetClient;
  adminSse: FleetClient;
  /** The administrator's API token (FLEET_BOOTSTRAP_TOKEN), for clients of one's own. */
  token: string;
  registry: TestRegistry;
  /** `<registry>/fleet-test/busybox:latest`, in the registry and on no engine until pulled. */
  image: string;
  hosts: Record<TReplicaHostKey, ReplicaHost>;
  /** A join token through the load balancer (labelled zone=<key>), and the host's agent started with its command. */
  joinHost(key: TReplicaHostKey): Promise<FleetAgentProcess>;
  replica(id: string | null | undefined): CentralReplica;
  /** The duties' lease row, as the database holds it now. */
  dutyLease(): Promise<{ holder: string; token: bigint; expiresAt: Date } | null>;
  /** Recent output of agents, replicas, HAProxy and Postgres, for a failure message. */
  diagnostics(): string;
}

export interface ReplicaFleetOptions {
  replicas?: number;
  hosts?: readonly TReplicaHostKey[];
  /** Added to every replica's environment (after REPLICA_CENTRAL_ENV). */
  centralEnv?: Record<string, string>;
}

export function useReplicaFleet(options: ReplicaFleetOptions = {}): () => ReplicaFleet {
  const replicaCount = options.replicas ?? 2;
  const hostKeys = options.hosts ?? REPLICA_HOST_KEYS;
  let run: FleetRun | undefined;
  const namespaces: TestNetns[] = [];
  const engines: TestEngine[] = [];
  const agents: FleetAgentProcess[] = [];
  const replicas: CentralReplica[] = [];
  let registry: TestRegistry | undefined;
  let postgres: StoppablePostgres | undefined;
  let db: PrismaClient | undefined;
  let lb: LoadBalancer | undefined;
  let fleet: ReplicaFleet | undefined;

  beforeAll(async () => {
    const started = performance.now();
    const build = ensureCentralBuild();
    run = await startFleetRun();
    const fleetRun = run;
    const makeNetns = async (suffix: string) => {
      const name = `fha-${fleetRun.id}-${suffix}`;
      fleetRun.note({ netns: name });
      const { address } = pickFreeSubnet();
      const netns = await createNetns(name, `${address}/24`);
      namespaces.push(netns);
      fleetRun.note({ link: netns.hostInterface });
      return netns;
    };
    const centralLink = await makeNetns("central");
    const hostNetns = {} as Record<TReplicaHostKey, TestNetns>;
    for (const key of hostKeys) hostNetns[key] = await makeNetns(key);
    const centralAddress = centralLink.hostAddress;

    registry = await startRegistry({ address: centralAddress });
    fleetRun.note({ registryDir: registry.dataDir });
    const registryHost = registry.host;
    const startEngines = Promise.all(
      hostKeys.map(async (key) => {
        const plan = HOST_PLAN[key];
        const start = plan.kind === "docker" ? startDockerd : startPodman;
        const engine = await start({
          name: `ha-${fleetRun.id}-${key}`,
          netns: hostNetns[key].name,
          insecureRegistries: [registryHost],
        });
        engines.push(engine);
        return [key, engine] as const;
      }),
    );
    const token = `fleet-e2e-ha-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const agentKeyPem = generateKeyPairSync("ec", { namedCurve: "prime256v1" })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const startCentrals = (async () => {
      const [database] = await Promise.all([startStoppablePostgres(), build]);
      postgres = database;
      db = createPrismaClient(database.url);
      let balancer: LoadBalancer | undefined;
      const untilBalanced = async (index: number) => {
        if (balancer) await balancer.until(index, "UP");
      };
      const env: Record<string, string> = {
        DATABASE_URL: database.url,
        // FLEET_E2E_CENTRAL_LOG_LEVEL=debug to see more of what the replicas do.
        FLEET_LOG_LEVEL: process.env.FLEET_E2E_CENTRAL_LOG_LEVEL ?? "info",
        ...REPLICA_CENTRAL_ENV,
        ...options.centralEnv,
      };
      for (let index = 1; index <= replicaCount; index++) {
        replicas.push(
          await makeReplica({ index, runDir: fleetRun.dir, agentKeyPem, env, untilBalanced }, token),
        );
      }
      balancer = await startLoadBalancer({ address: centralAddress, replicas, runDir: fleetRun.dir });
      lb = balancer;
      // The replicas read `env` when they start: they name the load balancer from their first start on.
      env.FLEET_PUBLIC_URL = balancer.url;
      env.FLEET_AGENT_URL = balancer.agentUrl;
      // One after the other: the first start migrates nothing (done) but bootstraps the administrator.
      for (const replica of replicas) await replica.start();
      return balancer;
    })();
    const results = await Promise.allSettled([startEngines, startCentrals]);
    for (const result of results) if (result.status === "rejected") throw result.reason;
    const engineByKey = Object.fromEntries(await startEngines) as Record<TReplicaHostKey, TestEngine>;
    const balancer = await startCentrals;

    const firstKey = hostKeys[0] as TReplicaHostKey;
    const image = await pushTestImage(engineByKey[firstKey], registry, TEST_IMAGE_TAG);
    const built = await engineByKey[firstKey].docker.getImage(image).inspect();
    await engineByKey[firstKey].docker.getImage(built.Id).remove({ force: true });

    const admin = createLoadBalancedClient(balancer.url, token);
    const adminSse = createSseTestClient<AppRouter>(balancer.url, token);
    const hosts = {} as Record<TReplicaHostKey, ReplicaHost>;
    for (const key of hostKeys) {
      hosts[key] = {
        key,
        ...HOST_PLAN[key],
        netns: hostNetns[key],
        engine: engineByKey[key],
        agent: null,
        id: null,
      };
    }
    const database = postgres as StoppablePostgres;
    const prisma = db as PrismaClient;
    fleet = {
      run: fleetRun,
      centralAddress,
      lb: balancer,
      replicas,
      postgres: database,
      db: prisma,
      admin,
      adminSse,
      token,
      registry,
      image,
      hosts,
      async joinHost(key) {
        const host = hosts[key];
        if (host.agent) throw new Error(`host ${key} has joined already`);
        const { command } = await admin.joinToken.create.mutate({ ttl: "15m", labels: { zone: host.zone } });
        const joinCommand = parseJoinCommand(command);
        if (joinCommand.server !== balancer.agentUrl) {
          throw new Error(
            `the join command names ${joinCommand.server}, not the load balancer ${balancer.agentUrl}`,
          );
        }
        const stateDir = join(fleetRun.dir, `agent-${host.name}`);
        mkdirSync(stateDir);
        const agent = fleetAgentProcess({
          netns: host.netns,
          engine: host.engine,
          join: joinCommand,
          name: host.name,
          stateDir,
          args: [
            "--label",
            `engine=${host.kind}`,
            "--metrics-interval",
            REPLICA_CENTRAL_ENV.FLEET_METRICS_INTERVAL,
          ],
        });
        agents.push(agent);
        host.agent = agent;
        agent.start();
        return agent;
      },
      replica(id) {
        const found = replicas.find((replica) => replica.id === id);
        if (!found) throw new Error(`no replica is named ${id}`);
        return found;
      },
      async dutyLease() {
        const row = await prisma.dutyLease.findUnique({ where: { name: "duties" } });
        return row ? { holder: row.holder, token: row.token, expiresAt: row.expiresAt } : null;
      },
      diagnostics() {
        const parts = agents.map((agent) => `--- agent ${agent.name}:\n${tailLines(agent.output(), 30)}`);
        for (const replica of replicas) {
          parts.push(
            `--- ${replica.id} (warn and above, and its last lines):\n${replicaWarnings(replica.output())}`,
          );
        }
        parts.push(`--- haproxy:\n${tailLines(balancer.output(), 20)}`);
        parts.push(`--- postgres:\n${database.logTail(10)}`);
        return parts.join("\n");
      },
    };
    process.stderr.write(
      `replicas e2e: up in ${((performance.now() - started) / 1000).toFixed(1)} s (${replicas
        .map((r) => `${r.id} ${r.url}`)
        .join(", ")}; haproxy ${balancer.url} and ${balancer.agentUrl}; postgres :${database.port})\n`,
    );
  });

  afterAll(async () => {
    await teardownInOrder("replicas", [
      async () => keepLogs(),
      () => Promise.all(agents.map((agent) => agent.stop())),
      () => Promise.all(replicas.filter((replica) => replica.running).map((replica) => replica.terminate())),
      () => lb?.stop(),
      () => Promise.all(engines.map((engine) => engine.stop())),
      () => registry?.stop(),
      () => Promise.all(namespaces.map((netns) => netns.stop())),
      () => db?.$disconnect(),
      async () => postgres?.remove(),
      async () => run?.remove(),
      async () => {
        fleet = undefined;
      },
    ]);
  });

  /** With FLEET_E2E_LOG_DIR set, every process's output is written there (the run dir goes with the fleet). */
  function keepLogs(): void {
    const dir = process.env.FLEET_E2E_LOG_DIR;
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    for (const replica of replicas) writeFileSync(join(dir, `${replica.id}.log`), replica.output());
    for (const agent of agents) writeFileSync(join(dir, `agent-${agent.name}.log`), agent.output());
    if (lb) writeFileSync(join(dir, "haproxy.log"), lb.output());
    if (postgres) writeFileSync(join(dir, "postgres.log"), postgres.logTail(10_000));
  }

  return () => {
    if (!fleet) throw new Error("useReplicaFleet(): the fleet exists only inside tests (after beforeAll)");
    return fleet;
  };
}

function tailLines(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function replicaWarnings(output: string): string {
  const lines = output.trimEnd().split("\n");
  const warnings = lines.filter((line) => /"level":(4|5|6)\d/.test(line)).slice(-15);
  return [
    ...warnings.map((line) => line.slice(0, 500)),
    "...",
    ...lines.slice(-5).map((l) => l.slice(0, 300)),
  ].join("\n");
}
