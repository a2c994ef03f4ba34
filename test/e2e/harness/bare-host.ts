/**
 * A bare Linux host for the install script, made on this machine without
 * touching it: a network namespace (the host's own address, the central on
 * the other end of its veth pair) holding a mount namespace whose root is a
 * private tmpfs. In it: /usr, /dev, /proc and /sys of the machine (/usr read
 * only), a copy of /etc, empty /run, /var, /tmp and /usr/local, an engine's
 * socket at /run/docker.sock, no `node` (an empty file over it) and no
 * checkout. `sudo` is a shim that runs its arguments (everything here runs as
 * root, and the machine has no sudo). No systemd is PID 1, so the script takes
 * its background path. What the script installs lives in that tmpfs and goes
 * with it.
 *
 * A process that stays in the namespace (`holder`) keeps it alive; each step
 * enters it with `nsenter --target`, with an empty environment and the usual
 * PATH, as a root shell on a fresh host would be.
 *
 * May import: node built-ins, ../../harness.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readlinkSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerExitCleanup } from "../../harness/engines";
import type { TestNetns } from "../../harness/netns";

export const BARE_HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface BareHostRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface BareHost {
  /** Runs `command` with `sh -c` as root on the host; resolves when it exits. */
  run(command: string, timeoutMs?: number): Promise<BareHostRun>;
  /** Pids of processes in the host's mount namespace other than its holder (the agent, once started). */
  processes(): number[];
  /** Kills everything in the host and lets its namespace go. Idempotent. */
  stop(): Promise<void>;
}

// Runs in a new mount namespace (private propagation) before the chroot:
// $1 the new root (a dir of the test's own), $2 the engine socket, $3 an empty file.
const SETUP = `
set -eu
R=$1
mount -t tmpfs -o mode=0755 bare-host "$R"
mkdir -p "$R/usr" "$R/etc" "$R/dev" "$R/proc" "$R/sys" "$R/run" "$R/var/lib" "$R/var/log" "$R/tmp" "$R/root"
chmod 1777 "$R/tmp"
chmod 0700 "$R/root"
ln -s usr/bin "$R/bin"
ln -s usr/sbin "$R/sbin"
ln -s usr/lib "$R/lib"
[ ! -e /usr/lib64 ] || ln -s usr/lib64 "$R/lib64"
ln -s ../run "$R/var/run"
mount --rbind /usr "$R/usr"
mount -o remount,bind,ro "$R/usr"
mount -t tmpfs -o mode=0755 bare-host-local "$R/usr/local"
mkdir -p "$R/usr/local/bin" "$R/usr/local/sbin"
printf '#!/bin/sh\\n# This bare host runs everything as root already.\\nexec "$@"\\n' >"$R/usr/local/sbin/sudo"
chmod 0755 "$R/usr/local/sbin/sudo"
for node in /usr/bin/node /usr/bin/nodejs; do
  [ ! -e "$node" ] || mount --bind "$3" "$R$(readlink -f "$node")"
done
cp -a /etc/. "$R/etc/"
mount --rbind /dev "$R/dev"
mount --rbind /proc "$R/proc"
mount --rbind /sys "$R/sys"
touch "$R/run/docker.sock"
mount --bind "$2" "$R/run/docker.sock"
exec chroot "$R" /bin/sh -c 'echo ready; exec sleep 2147483647'
`;

export async function startBareHost(options: { netns: TestNetns; engineSocket: string }): Promise<BareHost> {
  const dir = await mkdtemp(join(tmpdir(), "fleet-e2e-bare-host-"));
  const root = join(dir, "root");
  const empty = join(dir, "no-node");
  await Promise.all([
    writeFile(empty, "", { mode: 0o644 }),
    import("node:fs/promises").then(({ mkdir }) => mkdir(root)),
  ]);
  const holder = options.netns.spawn(
    [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      SETUP,
      "bare-host",
      root,
      options.engineSocket,
      empty,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let setupOutput = "";
  holder.stderr?.on("data", (chunk: Buffer) => {
    setupOutput += chunk.toString();
  });
  const holderPid = holder.pid as number;
  // Known only once the holder has entered it (after "ready"); until then,
  // and whenever it would be this process's own namespace, nothing is killed.
  let namespace: string | null = null;
  const ownNamespace = readlinkSync("/proc/self/ns/mnt");

  const inNamespace = (): number[] => {
    if (namespace === null || namespace === ownNamespace) return [];
    const pids: number[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry) || Number(entry) === holderPid) continue;
      try {
        if (readlinkSync(`/proc/${entry}/ns/mnt`) === namespace) pids.push(Number(entry));
      } catch {
        // Gone meanwhile.
      }
    }
    return pids;
  };
  const killAll = () => {
    for (const pid of inNamespace()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    if (holder.exitCode === null && holder.signalCode === null) holder.kill("SIGKILL");
  };
  const unregister = registerExitCleanup(killAll);

  await new Promise<void>((resolve, reject) => {
    let stdout = "";
    holder.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("ready")) resolve();
    });
    holder.once("exit", (code) =>
      reject(new Error(`the bare host's setup exited with ${code}: ${setupOutput}`)),
    );
  })
    .then(() => {
      const entered = readlinkSync(`/proc/${holderPid}/ns/mnt`);
      if (entered === ownNamespace)
        throw new Error("the bare host's holder is not in a mount namespace of its own");
      namespace = entered;
    })
    .catch(async (error: unknown) => {
      killAll();
      unregister();
      await rm(dir, { recursive: true, force: true });
      throw error;
    });

  let stopping: Promise<void> | null = null;
  return {
    async run(command, timeoutMs = 120_000) {
      const started = performance.now();
      const child: ChildProcess = spawn(
        "nsenter",
        [
          ...["--target", String(holderPid), "--net", "--mount", "--root", "--wd"],
          ...["env", "-i", `PATH=${BARE_HOST_PATH}`, "HOME=/root", "LANG=C.UTF-8"],
          ...["sh", "-c", command],
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const [code] = (await once(child, "exit")) as [number | null];
      clearTimeout(timer);
      return { code, stdout, stderr, ms: Math.round(performance.now() - started) };
    },
    processes: inNamespace,
    stop() {
      stopping ??= (async () => {
        killAll();
        if (holder.exitCode === null && holder.signalCode === null) {
          await Promise.race([once(holder, "exit"), new Promise((resolve) => setTimeout(resolve, 5000))]);
        }
        unregister();
        // The tmpfs went with the namespace: the dir is empty again.
        spawnSync("rmdir", [root]);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
