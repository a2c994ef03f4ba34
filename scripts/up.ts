/**
 * `npm run up`: a whole Fleet on this machine, in the foreground until Ctrl-C.
 * scripts/up brings the checkout up to date (bootstrap, then `npm run build`'s
 * targets that are stale) and runs this file as built: `node apps/web/dist/up.js`,
 * so nothing here compiles TypeScript at run time.
 *
 *   1. the database: the embedded PostgreSQL server in FLEET_DATA_DIR/postgres (default ./.fleet), or DATABASE_URL; migrated
 *   2. the central (dashboard, API, /agent) on http://localhost:PORT (default 3000), in this process
 *   3. a container engine: the one already running (DOCKER_HOST, /var/run/docker.sock,
 *      /run/podman/podman.sock), else a dockerd started here in its own session, so it and
 *      its containers outlive Ctrl-C; its pid is in FLEET_DATA_DIR/dockerd.pid and a later
 *      `up` finds it answering and reuses it
 *   4. the local agent, dist/fleet-agent-linux-x64, joined to the central with a join token
 *      made here; its credential stays in FLEET_DATA_DIR/agent, so later runs reuse the same host
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { discoverEngine } from "../apps/agent/src/runtime/engine-discovery";
import { createFleetServer } from "../apps/web/src/server/app-server";
import { getDb, setDatabaseUrl } from "../apps/web/src/server/db/client";
import { resolveDatabase } from "../apps/web/src/server/db/embedded-postgres";
import { inheritedEnv, loadEnv } from "../apps/web/src/server/env";
import { createLogger } from "../apps/web/src/server/logger";
import { createJoinToken } from "../apps/web/src/server/services/join-token/create-join-token";

// scripts/up.ts from source, apps/web/dist/up.js built: the checkout is the first directory up with both.
const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
const agentExecutable = join(repoRoot, "dist/fleet-agent-linux-x64");
// React and Next.js pick their production code by NODE_ENV itself, not only by our env.
if (!process.env.NODE_ENV) Object.assign(process.env, { NODE_ENV: "production" });
const say = (message: string) => process.stderr.write(`fleet: ${message}\n`);

const env = loadEnv({
  FLEET_LOG_LEVEL: "warn",
  ...process.env,
  NODE_ENV: process.env.NODE_ENV ?? "production",
});
const dataDir = resolve(env.FLEET_DATA_DIR);
const dockerdPidFile = join(dataDir, "dockerd.pid");
const log = createLogger(env);
const children: ChildProcess[] = [];

const database = await resolveDatabase({ env, inheritedEnv: inheritedEnv(), log: say });
setDatabaseUrl(database.url);
const db = getDb();
const fleet = await createFleetServer({
  env,
  db,
  log,
  next: true,
  dev: env.NODE_ENV !== "production",
  nextDir: join(repoRoot, "apps/web"),
});
const localUrl = `http://127.0.0.1:${env.PORT}`;
say(`central listening on ${fleet.url}`);

const engine = await localEngine();
const engineSocket = engine.socketPath;
await startLocalAgent(engineSocket);

const admin = fleet.bootstrap;
const lines = [
  "",
  `  Fleet is running: http://localhost:${env.PORT}`,
  admin.created && admin.credential === "password"
    ? `  Sign in as ${admin.email} with the password ${admin.password}  (shown only this once)`
    : admin.created
      ? `  Sign in with the API token in FLEET_BOOTSTRAP_TOKEN (user ${admin.email})`
      : "  Sign in with the administrator password printed on the first start",
  `  Database: ${database.embedded ? `embedded PostgreSQL, in ${database.dataDir}` : "DATABASE_URL"}`,
  `  Engine: unix://${engineSocket}; agent state in ${join(dataDir, "agent")}`,
  `  Ctrl-C stops the central and the agent; ${engineStays()}.`,
  ...(engine.dockerd ? [`  Stop that engine with: ${stopDockerdCommand()}`] : []),
  "",
];
process.stderr.write(`${lines.join("\n")}\n`);

let stopping = false;
async function stop(signal: string) {
  if (stopping) process.exit(1);
  stopping = true;
  say(`${signal}: stopping`);
  for (const child of children.reverse()) {
    if (child.exitCode !== null) continue;
    // Ctrl-C reached the agent too (one process group) and it is stopping; a second signal
    // would make it exit at once. Anything else, or an agent still running, gets SIGTERM.
    if (signal !== "SIGINT" || !(await exitsWithin(child, 3000))) child.kill("SIGTERM");
    await exitsWithin(child, 15_000);
  }
  await fleet.close();
  await database.stop();
  say(`${engineStays()}${engine.dockerd ? `; stop it with: ${stopDockerdCommand()}` : ""}`);
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));

async function exitsWithin(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  let timer: NodeJS.Timeout | undefined;
  const exited = await Promise.race([
    once(child, "exit").then(() => true),
    new Promise<false>((r) => {
      timer = setTimeout(() => r(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return exited;
}

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "apps/web/next.config.ts")) && existsSync(join(dir, "scripts/up"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no Fleet checkout above ${from}`);
  }
}

interface LocalEngine {
  socketPath: string;
  /** Set when the engine is a dockerd that `up` started (now or on an earlier run). */
  dockerd: { pid: number } | null;
}

/** What Ctrl-C leaves running. */
function engineStays(): string {
  return engine.dockerd
    ? `the engine keeps running with its containers (dockerd, pid ${engine.dockerd.pid}, started by npm run up)`
    : "containers keep running in the engine";
}

function stopDockerdCommand(): string {
  return `kill $(cat ${dockerdPidFile})`;
}

/** The dockerd an earlier `up` started, if its pid file names a live dockerd. */
function dockerdFromPidFile(): { pid: number } | null {
  try {
    const pid = Number(readFileSync(dockerdPidFile, "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    return command.endsWith("dockerd") ? { pid } : null;
  } catch {
    return null;
  }
}

/** The engine the agent will drive: one that answers, else a dockerd started here. */
async function localEngine(): Promise<LocalEngine> {
  try {
    const found = await discoverEngine({ env: process.env });
    const ours = dockerdFromPidFile();
    say(
      ours
        ? `reusing the dockerd an earlier npm run up started (pid ${ours.pid}) at ${found.socketPath}`
        : `using the container engine at ${found.socketPath}`,
    );
    return { socketPath: found.socketPath, dockerd: ours };
  } catch {
    // None answers: start one below.
  }
  const socketPath = "/var/run/docker.sock";
  const logFile = join(dataDir, "dockerd.log");
  mkdirSync(dataDir, { recursive: true });
  say(`no container engine answers: starting dockerd (log: ${logFile})`);
  const out = openSync(logFile, "a");
  const dockerd = spawn(
    "dockerd",
    // No iptables rules and no default bridge: works on hosts where the kernel's
    // netfilter is not available (containers still run, with networking "none").
    ["--iptables=false", "--bridge=none", "--pidfile", dockerdPidFile, "-H", `unix://${socketPath}`],
    // Its own session and process group: the terminal's Ctrl-C reaches up and the agent, never
    // the engine, whose containers must keep running.
    { stdio: ["ignore", out, out], detached: true },
  );
  dockerd.unref();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (dockerd.exitCode !== null) throw new Error(`dockerd exited with ${dockerd.exitCode}; see ${logFile}`);
    try {
      await discoverEngine({ env: {}, flag: `unix://${socketPath}`, pingTimeoutMs: 1000 });
      return { socketPath, dockerd: { pid: dockerd.pid! } };
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  // It never served anything: no containers of anyone's to keep.
  dockerd.kill("SIGTERM");
  throw new Error(`dockerd did not answer within 30 s; see ${logFile}`);
}

/** The agent as its own process, as on any other host; joins once, then uses its stored credential. */
async function startLocalAgent(socketPath: string): Promise<void> {
  const stateDir = join(dataDir, "agent");
  mkdirSync(stateDir, { recursive: true });
  if (!existsSync(agentExecutable)) {
    throw new Error(`${agentExecutable} is missing: build it with npm run build (scripts/up does)`);
  }
  const args = [
    "--server",
    localUrl,
    "--engine",
    `unix://${socketPath}`,
    "--state-dir",
    stateDir,
    "--name",
    hostname(),
    "--log-level",
    "warn",
  ];
  if (!existsSync(join(stateDir, "credential.json"))) {
    const admin = await db.user.findFirst({ where: { role: "admin" }, orderBy: { createdAt: "asc" } });
    if (!admin) throw new Error("no administrator exists to issue a join token");
    const joinToken = await createJoinToken({
      db,
      bus: fleet.services.bus,
      // Made by this launcher on the administrator's behalf, from this machine.
      caller: { actor: { userId: admin.id, email: admin.email }, clientAddress: "127.0.0.1" },
      now: new Date(),
      createdById: admin.id,
      ttlMs: 10 * 60_000,
      labels: {},
      agentEndpoint: fleet.agentEndpoint,
    });
    args.push("--join-token", joinToken.token);
  }
  const agent = spawn(agentExecutable, args, { stdio: ["ignore", "inherit", "inherit"], cwd: dataDir });
  children.push(agent);
  agent.on("exit", (code) => {
    if (!stopping) say(`the local agent exited with ${code}; the central keeps running`);
  });
  say(`local agent started for ${hostname()}`);
}
