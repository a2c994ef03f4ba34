/**
 * Real container engines for integration tests: a private dockerd (with its own
 * containerd) or a private `podman system service`, each with its own data
 * root, socket, config and cgroup parent, so several run side by side and none
 * touches the machine's own engine, config or containers.
 *
 * May import: node built-ins, dockerode, vitest. Nothing from apps/* or packages/*.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  type Dirent,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { afterAll, beforeAll, describe } from "vitest";

export const ENGINE_KINDS = ["docker", "podman"] as const;
export type TEngineKind = (typeof ENGINE_KINDS)[number];

export interface EngineOptions {
  /** Shows up in temp dir names and the default cgroup parent; letters, digits and dashes. */
  name?: string;
  /**
   * Absolute cgroup path every container of this engine goes under. dockerd applies it
   * itself (`--cgroup-parent`); Podman's containers.conf has no such setting, so callers
   * must pass it as `HostConfig.CgroupParent` (the harness's cleanup relies on it).
   */
  cgroupParent?: string;
  /** Name of a network namespace under /run/netns to run the engine in (see netns.ts). */
  netns?: string;
  /** Registries (`host:port`) to reach over plain HTTP. dockerd trusts 127.0.0.0/8 without being told. */
  insecureRegistries?: string[];
}

export interface TestEngine {
  kind: TEngineKind;
  name: string;
  socketPath: string;
  /** `unix://…`, the form DOCKER_HOST and the agent's config take. */
  dockerHost: string;
  docker: Dockerode;
  cgroupParent: string;
  /** The engine's own temp dir: data, config, logs and socket live under it. */
  dataDir: string;
  /** Milliseconds from spawning the daemon(s) until `/_ping` answered. */
  startupMs: number;
  /** Host pids of the engine's daemons: [containerd, dockerd] or [podman]. */
  daemonPids: number[];
  /** Last lines of the daemon logs, for failure messages. */
  logTail(lines?: number): string;
  /** Removes every container, stops the daemon(s), unmounts and deletes what they left. */
  stop(): Promise<void>;
}

// Generous for a loaded CI machine; both engines answer in 0.2–1.5 s here.
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

// Podman's containers.conf defaults to the runtime's hard limits; this sandbox
// lacks CAP_SYS_RESOURCE, so anything above our own hard limits fails to start.
const PODMAN_DEFAULT_ULIMITS = ["nofile=1024:1024", "nproc=4096:4096"];

export async function startEngine(kind: TEngineKind, options: EngineOptions = {}): Promise<TestEngine> {
  return kind === "docker" ? startDockerd(options) : startPodman(options);
}

export async function startDockerd(options: EngineOptions = {}): Promise<TestEngine> {
  const name = engineName("docker", options.name);
  const dir = await mkdtemp(join(tmpdir(), `fleet-docker-${name}-`));
  const cgroupParent = options.cgroupParent ?? `/fleet-test-${name}-${dir.slice(-6)}`;
  const resources = trackResources(dir, cgroupParent);
  try {
    const containerdDir = join(dir, "containerd");
    await mkdir(containerdDir);
    const containerdSocket = join(containerdDir, "containerd.sock");
    // dockerd only starts a containerd of its own when /run/containerd/containerd.sock is
    // absent; on a machine with Docker installed it would share the system's. Ours is private.
    await writeFile(join(containerdDir, "config.toml"), containerdConfig(containerdDir, containerdSocket));
    // Our own config file keeps /etc/docker/daemon.json (hosts, drivers, mirrors) out.
    const daemonConfig = {
      // dockerd's default pools hold 31 networks, and it skips any subnet a route on the
      // machine already covers, so the bridges of other engines on this machine (running
      // beside this one, or left by a daemon that was killed) use them up. 4,096 /24s here.
      "default-address-pools": [{ base: "10.240.0.0/12", size: 24 }],
      ...(options.insecureRegistries?.length ? { "insecure-registries": options.insecureRegistries } : {}),
    };
    await writeFile(join(dir, "daemon.json"), `${JSON.stringify(daemonConfig)}\n`);
    const socketPath = join(dir, "engine.sock");

    const startedAt = performance.now();
    const containerd = spawnDaemon(
      ["containerd", "--config", join(containerdDir, "config.toml")],
      { cwd: dir, logPath: join(dir, "containerd.log"), netns: options.netns },
      resources,
    );
    await waitFor(() => existsSync(containerdSocket), containerd, "containerd");
    const dockerd = spawnDaemon(
      [
        "dockerd",
        `--config-file=${join(dir, "daemon.json")}`,
        `--containerd=${containerdSocket}`,
        `--data-root=${join(dir, "data")}`,
        `--exec-root=${join(dir, "exec")}`,
        `--pidfile=${join(dir, "dockerd.pid")}`,
        `--host=unix://${socketPath}`,
        `--cgroup-parent=${cgroupParent}`,
        // Predictable cgroup paths (`<parent>/<id>`) on systemd hosts too.
        "--exec-opt=native.cgroupdriver=cgroupfs",
        // No host networking changes: no bridge, no iptables rules, no sysctl flips.
        "--bridge=none",
        "--iptables=false",
        "--ip-forward=false",
        "--ip-masq=false",
        "--log-level=info",
      ],
      { cwd: dir, logPath: join(dir, "dockerd.log"), netns: options.netns },
      resources,
    );
    await waitForPing(socketPath, dockerd, "dockerd");
    const startupMs = Math.round(performance.now() - startedAt);
    return makeEngine("docker", name, socketPath, cgroupParent, dir, startupMs, resources);
  } catch (err) {
    reapSync(resources);
    throw err;
  }
}

export async function startPodman(options: EngineOptions = {}): Promise<TestEngine> {
  const name = engineName("podman", options.name);
  const dir = await mkdtemp(join(tmpdir(), `fleet-podman-${name}-`));
  const cgroupParent = options.cgroupParent ?? `/fleet-test-${name}-${dir.slice(-6)}`;
  const resources = trackResources(dir, cgroupParent);
  try {
    const paths = {
      root: join(dir, "root"),
      runroot: join(dir, "runroot"),
      tmp: join(dir, "tmp"),
      networks: join(dir, "networks"),
      containersConf: join(dir, "containers.conf"),
      registriesConf: join(dir, "registries.conf"),
      storageConf: join(dir, "storage.conf"),
    };
    await Promise.all([mkdir(paths.tmp), mkdir(paths.networks)]);
    await writeFile(paths.containersConf, podmanContainersConf(dir, paths));
    await writeFile(paths.registriesConf, podmanRegistriesConf(options.insecureRegistries ?? []));
    await writeFile(paths.storageConf, podmanStorageConf(paths));
    const socketPath = join(dir, "engine.sock");

    const startedAt = performance.now();
    const podman = spawnDaemon(
      [
        "podman",
        `--root=${paths.root}`,
        `--runroot=${paths.runroot}`,
        `--tmpdir=${paths.tmp}`,
        "--log-level=info",
        "system",
        "service",
        "--time=0",
        `unix://${socketPath}`,
      ],
      {
        // conmon writes an `oom` file into the directory it inherits.
        cwd: dir,
        logPath: join(dir, "podman.log"),
        netns: options.netns,
        env: {
          // Each of these replaces the system file instead of adding to it.
          CONTAINERS_CONF: paths.containersConf,
          CONTAINERS_REGISTRIES_CONF: paths.registriesConf,
          CONTAINERS_STORAGE_CONF: paths.storageConf,
        },
      },
      resources,
    );
    await waitForPing(socketPath, podman, "podman");
    const startupMs = Math.round(performance.now() - startedAt);
    return makeEngine("podman", name, socketPath, cgroupParent, dir, startupMs, resources);
  } catch (err) {
    reapSync(resources);
    throw err;
  }
}

/** Starts an engine before the suite's tests and stops it after them; returns a getter. */
export function useEngine(
  kind: TEngineKind,
  options?: EngineOptions | (() => EngineOptions),
): () => TestEngine {
  let engine: TestEngine | undefined;
  beforeAll(async () => {
    engine = await startEngine(kind, typeof options === "function" ? options() : options);
  }, START_TIMEOUT_MS * 2);
  afterAll(async () => {
    await engine?.stop();
    engine = undefined;
  }, STOP_GRACE_MS * 3);
  return () => {
    if (!engine) throw new Error(`the ${kind} engine is not running (use it inside a test or hook)`);
    return engine;
  };
}

export function useDockerd(options?: EngineOptions | (() => EngineOptions)): () => TestEngine {
  return useEngine("docker", options);
}

export function usePodman(options?: EngineOptions | (() => EngineOptions)): () => TestEngine {
  return useEngine("podman", options);
}

/** Declares the suite once per engine kind, each with its own engine. */
export function describeEachEngine(
  name: string,
  suite: (context: { kind: TEngineKind; engine: () => TestEngine }) => void,
  options?: EngineOptions | (() => EngineOptions),
): void {
  for (const kind of ENGINE_KINDS) {
    describe(`${name} [${kind}]`, () => {
      suite({ kind, engine: useEngine(kind, options) });
    });
  }
}

/** One JSON line of a build, pull or push progress stream. */
export interface ProgressEvent {
  status?: string;
  stream?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: Record<string, unknown>;
  [key: string]: unknown;
}

/** An error reported inside a progress stream (both engines answer 200 for failed builds; Podman for failed pulls too). */
export class EngineStreamError extends Error {
  override readonly name = "EngineStreamError";
  constructor(
    message: string,
    readonly events: ProgressEvent[],
  ) {
    super(message);
  }
}

/**
 * Reads a progress stream to its end and throws if any event carries an error.
 * dockerode's own `followProgress` treats such events as ordinary progress.
 */
export async function followProgress(stream: NodeJS.ReadableStream): Promise<ProgressEvent[]> {
  const events: ProgressEvent[] = [];
  let pending = "";
  const take = (line: string) => {
    const trimmed = line.trim();
    if (trimmed.length > 0) events.push(JSON.parse(trimmed) as ProgressEvent);
  };
  for await (const chunk of stream) {
    pending += chunk.toString();
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      take(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  }
  take(pending);
  const failed = events.find(
    (event) => event.error !== undefined || event.errorDetail?.message !== undefined,
  );
  if (failed)
    throw new EngineStreamError(failed.errorDetail?.message ?? failed.error ?? "unknown error", events);
  return events;
}

/**
 * Runs `cleanup` if the process exits (or dies of SIGINT/SIGTERM/SIGHUP) before the returned
 * function is called. Cleanups must be synchronous: nothing async runs in an exit handler.
 */
export function registerExitCleanup(cleanup: () => void): () => void {
  installExitHandlers();
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

// ---------------------------------------------------------------------------
// Engine object and stopping

interface EngineResources {
  dir: string;
  cgroupParent: string;
  processes: DaemonProcess[];
  unregister: () => void;
}

const ENGINE_DIR_PREFIXES = ["fleet-docker-", "fleet-podman-"];
const OWNER_FILE = "harness-owner.json";
let orphansReaped = false;

function trackResources(dir: string, cgroupParent: string): EngineResources {
  if (!orphansReaped) {
    orphansReaped = true;
    reapOrphanedEngines();
  }
  const owner: EngineOwner = { pid: process.pid, startTime: processStartTime(process.pid), cgroupParent };
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify(owner));
  const resources: EngineResources = { dir, cgroupParent, processes: [], unregister: () => {} };
  resources.unregister = registerExitCleanup(() => reapSync(resources));
  return resources;
}

interface EngineOwner {
  pid: number;
  startTime: string | undefined;
  cgroupParent: string;
}

/**
 * Reaps engines whose test process died without cleaning up (SIGKILL, OOM kill), found by
 * their temp dirs; engines of live processes are left alone. Runs once per process on the
 * first engine start; returns how many it reaped.
 */
export function reapOrphanedEngines(): number {
  let reaped = 0;
  for (const name of readdirSync(tmpdir())) {
    if (!ENGINE_DIR_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    const dir = join(tmpdir(), name);
    let owner: EngineOwner;
    try {
      owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), "utf8")) as EngineOwner;
    } catch {
      continue; // just created by another process, or not a harness engine
    }
    // Pid and start time together: a recycled pid does not keep an orphan alive.
    if (owner.startTime !== undefined && processStartTime(owner.pid) === owner.startTime) continue;
    reapSync({ dir, cgroupParent: owner.cgroupParent, processes: [], unregister: () => {} });
    reaped++;
  }
  return reaped;
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function makeEngine(
  kind: TEngineKind,
  name: string,
  socketPath: string,
  cgroupParent: string,
  dataDir: string,
  startupMs: number,
  resources: EngineResources,
): TestEngine {
  const docker = new Dockerode({ socketPath });
  let stopping: Promise<void> | undefined;
  return {
    kind,
    name,
    socketPath,
    dockerHost: `unix://${socketPath}`,
    docker,
    cgroupParent,
    dataDir,
    startupMs,
    daemonPids: resources.processes.map((p) => p.pid),
    logTail: (lines = 40) => resources.processes.map((p) => logTail(p, lines)).join("\n"),
    stop() {
      stopping ??= stopEngine(docker, resources);
      return stopping;
    },
  };
}

const BUILTIN_NETWORKS = new Set(["bridge", "host", "none", "podman"]);

async function stopEngine(docker: Dockerode, resources: EngineResources): Promise<void> {
  try {
    const containers = await docker.listContainers({ all: true });
    await Promise.allSettled(
      containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })),
    );
    // dockerd leaves a user network's bridge interface on the machine when it stops;
    // removing the network deletes it.
    const networks = await docker.listNetworks();
    await Promise.allSettled(
      networks.filter((n) => !BUILTIN_NETWORKS.has(n.Name)).map((n) => docker.getNetwork(n.Id).remove()),
    );
  } catch {
    // A daemon that no longer answers: the reap below kills what it left.
  }
  // Stop in reverse start order: dockerd before the containerd it talks to.
  for (const daemon of [...resources.processes].reverse()) {
    await stopProcess(daemon, STOP_GRACE_MS);
  }
  reapSync(resources);
}

// ---------------------------------------------------------------------------
// Daemon processes

interface DaemonProcess {
  child: ChildProcess;
  pid: number;
  label: string;
  logPath: string;
  exit: Promise<void>;
  exited: boolean;
}

function spawnDaemon(
  argv: string[],
  opts: { cwd: string; logPath: string; netns?: string | undefined; env?: Record<string, string> },
  resources: EngineResources,
): DaemonProcess {
  // nsenter execs the daemon in place (no fork for a network namespace), so the pid is the daemon's.
  // `ip netns exec` would remount /sys and hide the cgroup hierarchies from the engine.
  const command = opts.netns ? ["nsenter", `--net=/run/netns/${opts.netns}`, "--", ...argv] : argv;
  const logFd = openSync(opts.logPath, "a");
  let child: ChildProcess;
  try {
    child = spawn(command[0]!, command.slice(1), {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", logFd, logFd],
      // Own process group: a Ctrl-C in the terminal reaches the test runner, which then
      // stops the daemons in order instead of them dying mid-write.
      detached: true,
    });
  } finally {
    closeSync(logFd);
  }
  const label = argv[0]!;
  const daemon: DaemonProcess = {
    child,
    pid: child.pid ?? -1,
    label,
    logPath: opts.logPath,
    exited: false,
    exit: new Promise<void>((resolve) => {
      const done = () => {
        daemon.exited = true;
        resolve();
      };
      child.once("exit", done);
      child.once("error", done);
    }),
  };
  child.unref();
  resources.processes.push(daemon);
  return daemon;
}

async function stopProcess(daemon: DaemonProcess, graceMs: number): Promise<void> {
  if (daemon.exited) return;
  daemon.child.kill("SIGTERM");
  const timedOut = await Promise.race([daemon.exit.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut && !daemon.exited) {
    daemon.child.kill("SIGKILL");
    await daemon.exit;
  }
}

async function waitFor(
  ready: () => boolean | Promise<boolean>,
  daemon: DaemonProcess,
  what: string,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (daemon.exited) throw startError(what, "exited before it was ready", daemon);
    if (await ready()) return;
    if (Date.now() > deadline) throw startError(what, `not ready after ${START_TIMEOUT_MS} ms`, daemon);
    await sleep(20);
  }
}

async function waitForPing(socketPath: string, daemon: DaemonProcess, what: string): Promise<void> {
  await waitFor(async () => existsSync(socketPath) && (await ping(socketPath)), daemon, what);
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ socketPath, path: "/_ping", timeout: 1_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
  });
}

function startError(what: string, problem: string, daemon: DaemonProcess): Error {
  const exit = daemon.child.exitCode ?? daemon.child.signalCode;
  const status = exit === null ? "" : ` (exit ${exit})`;
  return new Error(`${what} ${problem}${status}; log ${daemon.logPath}:\n${logTail(daemon, 40)}`);
}

function logTail(daemon: DaemonProcess, lines: number): string {
  try {
    const text = readFileSync(daemon.logPath, "utf8").trimEnd();
    return `--- ${daemon.label} (${daemon.logPath})\n${text.split("\n").slice(-lines).join("\n")}`;
  } catch {
    return `--- ${daemon.label}: no log at ${daemon.logPath}`;
  }
}

// ---------------------------------------------------------------------------
// Config files

function engineName(kind: TEngineKind, name: string | undefined): string {
  const chosen = name ?? kind;
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(chosen)) {
    throw new Error(`engine name ${JSON.stringify(chosen)}: use up to 31 lowercase letters, digits, dashes`);
  }
  return chosen;
}

function tomlString(value: string): string {
  return JSON.stringify(value);
}

function containerdConfig(dir: string, socket: string): string {
  return [
    "version = 2",
    `root = ${tomlString(join(dir, "root"))}`,
    `state = ${tomlString(join(dir, "state"))}`,
    // CRI is for Kubernetes; it also wants its own network config.
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    "[grpc]",
    `  address = ${tomlString(socket)}`,
    "[ttrpc]",
    '  address = ""',
    "[debug]",
    '  address = ""',
    "[metrics]",
    '  address = ""',
    // Defaults to /opt/containerd, shared with every other containerd.
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${tomlString(join(dir, "opt"))}`,
    "",
  ].join("\n");
}

function podmanContainersConf(dir: string, paths: { tmp: string; networks: string }): string {
  return [
    "[containers]",
    `default_ulimits = [${PODMAN_DEFAULT_ULIMITS.map(tomlString).join(", ")}]`,
    "",
    "[engine]",
    // crun refuses hosts that mount cgroup v1 with a cgroup2 hierarchy beside it.
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    // journald is not there in containers and CI; the events API reads this file.
    'events_logger = "file"',
    `events_logfile_path = ${tomlString(join(dir, "events.log"))}`,
    `tmp_dir = ${tomlString(paths.tmp)}`,
    "",
    "[network]",
    'network_backend = "netavark"',
    // Keeps the host's own Podman networks (/etc/containers/networks) out.
    `network_config_dir = ${tomlString(paths.networks)}`,
    "",
  ].join("\n");
}

function podmanRegistriesConf(insecureRegistries: string[]): string {
  const lines = ['unqualified-search-registries = ["docker.io"]', 'short-name-mode = "permissive"', ""];
  for (const location of insecureRegistries) {
    lines.push("[[registry]]", `location = ${tomlString(location)}`, "insecure = true", "");
  }
  return lines.join("\n");
}

function podmanStorageConf(paths: { root: string; runroot: string }): string {
  return [
    "[storage]",
    'driver = "overlay"',
    `graphroot = ${tomlString(paths.root)}`,
    `runroot = ${tomlString(paths.runroot)}`,
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------
// Synchronous reaping: runs from stop() and from exit handlers alike

function reapSync(resources: EngineResources): void {
  resources.unregister();
  const { dir, cgroupParent } = resources;
  const daemonPids = new Set(resources.processes.filter((p) => !p.exited).map((p) => p.pid));
  const containerPids = cgroupPids(cgroupParent);
  const strayPids = pidsMentioning(dir);

  // Podman names container network namespaces /run/netns/netns-<uuid>; the ones whose inode
  // matches a container process of ours are ours. Collected before the processes die.
  const hostNetns = new Set([...daemonPids, process.pid].map(netnsInode));
  const containerNetns = new Set(
    [...containerPids, ...strayPids].map(netnsInode).filter((ino) => !hostNetns.has(ino)),
  );
  const ownNetnsEntries = podmanNetnsEntries().filter((entry) => containerNetns.has(entry.inode));

  const victims = new Set([...daemonPids, ...containerPids, ...strayPids]);
  victims.delete(process.pid);
  victims.delete(process.ppid);
  for (const pid of victims) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  waitSync(() => [...victims].every((pid) => !isAlive(pid)), 5_000);

  for (const entry of ownNetnsEntries) {
    spawnSync("umount", ["-l", entry.path], { stdio: "ignore" });
    try {
      unlinkSync(entry.path);
    } catch {
      // Podman removed it first
    }
  }
  const leftMounts = mountsUnder(dir);
  for (const mountPoint of leftMounts) {
    spawnSync("umount", ["-l", mountPoint], { stdio: "ignore" });
  }
  removeCgroupTree(cgroupParent);
  if (mountsUnder(dir).length === 0) {
    rmSync(dir, { recursive: true, force: true });
  } else {
    process.stderr.write(`fleet test harness: left ${dir} in place, mounts under it would not unmount\n`);
  }
}

interface MountInfo {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

function readMountInfo(): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const fields = left.split(" ");
    const [fsType, , superOptions] = right.split(" ");
    const root = fields[3];
    const mountPoint = fields[4];
    if (!root || !mountPoint || !fsType) continue;
    mounts.push({
      root: unescapeMountPath(root),
      mountPoint: unescapeMountPath(mountPoint),
      fsType,
      superOptions: (superOptions ?? "").split(","),
    });
  }
  return mounts;
}

function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Deepest first, so nested mounts come off before their parents. */
function mountsUnder(dir: string): string[] {
  return readMountInfo()
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** Directories of `cgroupPath` in every mounted hierarchy (v1 controllers and the v2 one). */
function cgroupDirs(cgroupPath: string): string[] {
  const dirs = new Set<string>();
  for (const mount of readMountInfo()) {
    if (mount.fsType !== "cgroup" && mount.fsType !== "cgroup2") continue;
    const root = mount.root === "/" ? "" : mount.root;
    if (root !== "" && cgroupPath !== root && !cgroupPath.startsWith(`${root}/`)) continue;
    dirs.add(join(mount.mountPoint, cgroupPath.slice(root.length)));
  }
  return [...dirs];
}

function cgroupPids(cgroupPath: string): Set<number> {
  const pids = new Set<number>();
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
    }
    try {
      for (const pid of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n")) {
        if (pid !== "") pids.add(Number(pid));
      }
    } catch {
      // removed meanwhile
    }
  };
  for (const dir of cgroupDirs(cgroupPath)) walk(dir);
  return pids;
}

function removeCgroupTree(cgroupPath: string): void {
  const removeDepthFirst = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) removeDepthFirst(join(dir, entry.name));
    }
    // A cgroup whose last task just died can be busy for a moment.
    waitSync(() => {
      try {
        rmdirSync(dir);
        return true;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === "ENOENT";
      }
    }, 2_000);
  };
  for (const dir of cgroupDirs(cgroupPath)) removeDepthFirst(dir);
}

/**
 * Processes of this engine found without its cgroups: those whose command line names `dir`
 * (the daemons, containerd shims, conmon) and those whose root filesystem is a mount whose
 * options name `dir` (containers created without the engine's cgroup parent).
 */
function pidsMentioning(dir: string): Set<number> {
  const pids = new Set<number>();
  const ownMountNamespace = readlinkOrEmpty("/proc/self/ns/mnt");
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(dir)) {
        pids.add(Number(name));
        continue;
      }
      // Every process in our mount namespace sees the engine's mounts; only a container's
      // own namespace has one of them as its root.
      if (readlinkOrEmpty(`/proc/${name}/ns/mnt`) === ownMountNamespace) continue;
      const rootMount = readFileSync(`/proc/${name}/mountinfo`, "utf8")
        .split("\n")
        .find((line) => line.split(" ")[4] === "/");
      if (rootMount?.includes(dir)) pids.add(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

function readlinkOrEmpty(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
}

function netnsInode(pid: number): string {
  return readlinkOrEmpty(`/proc/${pid}/ns/net`);
}

function podmanNetnsEntries(): { path: string; inode: string }[] {
  const dir = "/run/netns";
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.startsWith("netns-"))
    .flatMap((name) => {
      const path = join(dir, name);
      try {
        // readlink of /proc/<pid>/ns/net reads "net:[<inode>]"; match that form.
        return [{ path, inode: `net:[${statSync(path).ino}]` }];
      } catch {
        return [];
      }
    });
}

function isAlive(pid: number): boolean {
  try {
    // A zombie still answers kill(0); its state letter tells.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function waitSync(done: () => boolean, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (!done()) {
    if (Date.now() > deadline) return false;
    Atomics.wait(pause, 0, 0, 20);
  }
  return true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------
// Exit handlers

const exitCleanups = new Set<() => void>();
let exitHandlersInstalled = false;

function runExitCleanups(): void {
  for (const cleanup of [...exitCleanups]) {
    exitCleanups.delete(cleanup);
    try {
      cleanup();
    } catch (err) {
      process.stderr.write(`fleet test harness: cleanup failed: ${String(err)}\n`);
    }
  }
}

function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  process.on("exit", runExitCleanups);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      runExitCleanups();
      process.off(signal, onSignal);
      // With our listener gone, the signal's default action (or the runner's own handler) applies.
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
