/**
 * `npm run up` (after scripts/bootstrap and a production build of the web app):
 * a whole Fleet on this machine, in the foreground until Ctrl-C.
 *
 *   1. the database: embedded PGlite under FLEET_DATA_DIR (default ./.fleet), or DATABASE_URL; migrated
 *   2. the central (dashboard, API, /agent) on http://localhost:PORT (default 3000), in this process
 *   3. a container engine: the one already running (DOCKER_HOST, /var/run/docker.sock,
 *      /run/podman/podman.sock), else a dockerd started here and stopped on exit
 *   4. a local agent (apps/agent) joined to the central with a join token made here;
 *      its credential stays in FLEET_DATA_DIR/agent, so later runs reuse the same host
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, openSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { discoverEngine } from "../apps/agent/src/runtime/engine-discovery";
import { createFleetServer } from "../apps/web/src/server/app-server";
import { getDb, setDatabaseUrl } from "../apps/web/src/server/db";
import { resolveDatabase } from "../apps/web/src/server/db/embedded-postgres";
import { loadEnv } from "../apps/web/src/server/env";
import { createLogger } from "../apps/web/src/server/logger";
import { createJoinToken } from "../apps/web/src/server/services/join-token/create-join-token";

const repoRoot = resolve(fileURLToPath(new URL("..", import.meta.url)));
const say = (message: string) => process.stderr.write(`fleet: ${message}\n`);

const env = loadEnv({
  FLEET_LOG_LEVEL: "warn",
  ...process.env,
  NODE_ENV: process.env.NODE_ENV ?? "production",
});
const dataDir = resolve(env.FLEET_DATA_DIR);
const log = createLogger(env);
const children: ChildProcess[] = [];

const database = await resolveDatabase({ env: process.env, log: say });
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

const engineSocket = await localEngine();
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
  `  Database: ${database.embedded ? `embedded, in ${join(dataDir, "pgdata")}` : "DATABASE_URL"}`,
  `  Engine: unix://${engineSocket}; agent state in ${join(dataDir, "agent")}`,
  "  Ctrl-C stops the central and the agent; containers keep running in the engine.",
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
    child.kill("SIGTERM");
    await Promise.race([once(child, "exit"), new Promise((r) => setTimeout(r, 15_000))]);
  }
  await fleet.close();
  await database.stop();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));

/** The engine the agent will drive: one that answers, else a dockerd started here. */
async function localEngine(): Promise<string> {
  try {
    const found = await discoverEngine({ env: process.env });
    say(`using the container engine at ${found.socketPath}`);
    return found.socketPath;
  } catch {
    // None answers: start one below.
  }
  const socketPath = "/var/run/docker.sock";
  const logFile = join(dataDir, "dockerd.log");
  mkdirSync(dataDir, { recursive: true });
  say(`no container engine answers: starting dockerd (log: ${logFile})`);
  // No iptables rules and no default bridge: works on hosts where the kernel's
  // netfilter is not available (containers still run, with networking "none").
  const out = openSync(logFile, "a");
  const dockerd = spawn("dockerd", ["--iptables=false", "--bridge=none", "-H", `unix://${socketPath}`], {
    stdio: ["ignore", out, out],
  });
  children.push(dockerd);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (dockerd.exitCode !== null) throw new Error(`dockerd exited with ${dockerd.exitCode}; see ${logFile}`);
    try {
      await discoverEngine({ env: {}, flag: `unix://${socketPath}`, pingTimeoutMs: 1000 });
      return socketPath;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`dockerd did not answer within 30 s; see ${logFile}`);
}

/** The agent as its own process, as on any other host; joins once, then uses its stored credential. */
async function startLocalAgent(socketPath: string): Promise<void> {
  const stateDir = join(dataDir, "agent");
  mkdirSync(stateDir, { recursive: true });
  const args = [
    join(repoRoot, "apps/agent/bin/fleet-agent.js"),
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
      serverUrl: localUrl,
    });
    args.push("--join-token", joinToken.token);
  }
  const agent = spawn(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"], cwd: dataDir });
  children.push(agent);
  agent.on("exit", (code) => {
    if (!stopping) say(`the local agent exited with ${code}; the central keeps running`);
  });
  say(`local agent started for ${hostname()}`);
}
