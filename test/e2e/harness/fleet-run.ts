/**
 * One run of the fleet suite on this machine: a temp dir (`fleet-e2e-fleet-*`)
 * that holds the agents' state dirs and an owner record naming everything the
 * run created outside it (network namespaces, veth ends, the registry's dir).
 * A run whose test process was SIGKILLed leaves agents running in namespaces
 * nobody deletes; the next run reaps them by that record, recognising a dead
 * owner by pid and start time as the engine harness does.
 *
 * May import: node built-ins, ../../harness.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processStartTime, reapOrphanedEngines, registerExitCleanup } from "../../harness/engines";

const RUN_DIR_PREFIX = "fleet-e2e-fleet-";
const OWNER_FILE = "owner.json";

interface FleetRunRecord {
  pid: number;
  startTime: string | undefined;
  netns: string[];
  links: string[];
  registryDirs: string[];
}

export interface FleetRun {
  dir: string;
  /** Short and unique per run: namespace and engine names carry it. */
  id: string;
  /** Records a resource made outside the run dir, before it is made, so a reaper finds it. */
  note(resource: { netns?: string; link?: string; registryDir?: string }): void;
  /** Deletes the run dir; what it noted must be gone already. */
  remove(): void;
}

export async function startFleetRun(): Promise<FleetRun> {
  const reaped = reapLeftoverFleetRuns();
  if (reaped > 0) process.stderr.write(`fleet e2e: reaped ${reaped} fleet run(s) left by a killed process\n`);
  const dir = await mkdtemp(join(tmpdir(), RUN_DIR_PREFIX));
  const record: FleetRunRecord = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    netns: [],
    links: [],
    registryDirs: [],
  };
  const save = () => writeFileSync(join(dir, OWNER_FILE), JSON.stringify(record));
  save();
  // The namespaces, registry and engines clean up after themselves on exit; the dir is ours.
  const unregister = registerExitCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    id: dir.slice(-6).toLowerCase(),
    note({ netns, link, registryDir }) {
      if (netns) record.netns.push(netns);
      if (link) record.links.push(link);
      if (registryDir) record.registryDirs.push(registryDir);
      save();
    },
    remove() {
      unregister();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Reaps every fleet run whose owner process is gone: its agents, its engines
 * (through the engine harness's own reaper), whatever still runs in its
 * namespaces, the namespaces and veth pairs, its registry. Returns how many.
 */
export function reapLeftoverFleetRuns(): number {
  const dead: { dir: string; record: FleetRunRecord }[] = [];
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(RUN_DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let record: FleetRunRecord;
    try {
      record = JSON.parse(readFileSync(join(dir, OWNER_FILE), "utf8")) as FleetRunRecord;
    } catch {
      continue; // being created by a live process this instant
    }
    if (record.startTime !== undefined && processStartTime(record.pid) === record.startTime) continue;
    dead.push({ dir, record });
  }
  if (dead.length === 0) return 0;

  // Agents first, so none recreates a container while its engine is being reaped.
  killAll(dead.flatMap(({ dir }) => [...pidsMentioning(dir)]));
  reapOrphanedEngines();
  for (const { dir, record } of dead) {
    const inodes = new Set(record.netns.map(netnsInode).filter((inode) => inode !== undefined));
    killAll([...pidsInNetns(inodes), ...record.registryDirs.flatMap((d) => [...pidsMentioning(d)])]);
    for (const link of record.links) spawnSync("ip", ["link", "del", link], { stdio: "ignore" });
    for (const netns of record.netns) spawnSync("ip", ["netns", "del", netns], { stdio: "ignore" });
    for (const registryDir of record.registryDirs) rmSync(registryDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
  return dead.length;
}

function killAll(pids: number[]): void {
  const victims = new Set(pids);
  victims.delete(process.pid);
  victims.delete(process.ppid);
  for (const pid of victims) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while ([...victims].some(isAlive) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 20);
}

function processIds(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

function pidsMentioning(text: string): Set<number> {
  const pids = new Set<number>();
  for (const pid of processIds()) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text)) pids.add(pid);
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** `net:[<inode>]`, the form readlink of /proc/<pid>/ns/net gives. */
function netnsInode(name: string): string | undefined {
  try {
    return `net:[${statSync(`/run/netns/${name}`).ino}]`;
  } catch {
    return undefined;
  }
}

function pidsInNetns(inodes: Set<string | undefined>): number[] {
  if (inodes.size === 0) return [];
  return processIds().filter((pid) => {
    try {
      return inodes.has(readlinkSync(`/proc/${pid}/ns/net`));
    } catch {
      return false;
    }
  });
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
