/**
 * Network namespaces that stand in for separate hosts in multi-host tests: one
 * `ip netns` namespace per "host", joined to the root namespace by a veth pair
 * on its own /24-or-smaller subnet, and a way to start processes inside it.
 * Only namespaces created here are ever touched.
 *
 * May import: node built-ins, ./engines.
 */
import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { registerExitCleanup } from "./engines";

export interface TestNetns {
  name: string;
  /** `/run/netns/<name>`, for `nsenter --net=…` and the engines' `netns` option. */
  path: string;
  /** Address of the root-namespace end of the veth pair: how processes inside reach the host. */
  hostAddress: string;
  /** Address inside the namespace: how the host reaches processes inside. */
  address: string;
  prefixLength: number;
  /** Name of the root-namespace end of the veth pair. */
  hostInterface: string;
  /**
   * Starts a process inside the namespace. Uses `nsenter --net` rather than `ip netns exec`,
   * which would remount /sys and so hide the cgroup hierarchies from the process.
   */
  spawn(argv: string[], options?: SpawnOptions): ChildProcess;
  /** Kills processes started with `spawn`, deletes the veth pair and the namespace. */
  stop(): Promise<void>;
}

const NETNS_DIR = "/run/netns";

/**
 * Creates namespace `name` with `addressCidr` (e.g. `10.213.7.2/24`) inside it; the root
 * namespace's end takes the first other host address of that subnet (here `10.213.7.1`).
 */
export async function createNetns(name: string, addressCidr: string): Promise<TestNetns> {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/.test(name)) throw new Error(`bad namespace name ${name}`);
  const path = `${NETNS_DIR}/${name}`;
  // Refuse rather than adopt: a namespace we did not create is not ours to delete.
  if (existsSync(path)) throw new Error(`network namespace ${name} already exists`);
  const { address, prefixLength, hostAddress } = planAddresses(addressCidr);
  // Interface names are at most 15 bytes; a hash keeps them unique per namespace name.
  const hostInterface = `fv${createHash("sha256").update(name).digest("hex").slice(0, 10)}`;
  const peerInterface = "eth0";

  const children = new Set<ChildProcess>();
  const teardown = () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    // Deleting one end of a veth pair deletes both; the namespace may already hold none.
    spawnSync("ip", ["link", "del", hostInterface], { stdio: "ignore" });
    spawnSync("ip", ["netns", "del", name], { stdio: "ignore" });
  };
  const unregister = registerExitCleanup(teardown);

  try {
    ip("netns", "add", name);
    ip("link", "add", hostInterface, "type", "veth", "peer", "name", peerInterface, "netns", name);
    ip("addr", "add", `${hostAddress}/${prefixLength}`, "dev", hostInterface);
    ip("link", "set", hostInterface, "up");
    ip("-n", name, "link", "set", "lo", "up");
    ip("-n", name, "addr", "add", `${address}/${prefixLength}`, "dev", peerInterface);
    ip("-n", name, "link", "set", peerInterface, "up");
    ip("-n", name, "route", "add", "default", "via", hostAddress);
  } catch (err) {
    unregister();
    teardown();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    name,
    path,
    hostAddress,
    address,
    prefixLength,
    hostInterface,
    spawn(argv, options = {}) {
      if (argv.length === 0) throw new Error("spawn needs a command");
      const child = spawn("nsenter", [`--net=${path}`, "--", ...argv], options);
      children.add(child);
      child.once("exit", () => children.delete(child));
      return child;
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all(
          [...children].map(
            (child) =>
              new Promise<void>((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
                setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
              }),
          ),
        );
        unregister();
        teardown();
      })();
      return stopping;
    },
  };
}

/**
 * A subnet `10.213.X.0/24` with no address on any interface of the root namespace yet,
 * so tests running at once on one machine do not collide.
 */
export function pickFreeSubnet(prefix = "10.213"): { subnet: string; hostAddress: string; address: string } {
  const used = spawnSync("ip", ["-o", "-4", "addr", "show"], { encoding: "utf8" }).stdout ?? "";
  for (let attempt = 0; attempt < 200; attempt++) {
    const third = 1 + Math.floor(Math.random() * 254);
    if (used.includes(` ${prefix}.${third}.`)) continue;
    return {
      subnet: `${prefix}.${third}.0/24`,
      hostAddress: `${prefix}.${third}.1`,
      address: `${prefix}.${third}.2`,
    };
  }
  throw new Error(`no free ${prefix}.X.0/24 subnet`);
}

function planAddresses(addressCidr: string): { address: string; prefixLength: number; hostAddress: string } {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(addressCidr);
  if (!match) throw new Error(`expected an IPv4 address with prefix length, got ${addressCidr}`);
  const octets = match.slice(1, 5).map(Number);
  const prefixLength = Number(match[5]);
  if (octets.some((o) => o > 255) || prefixLength < 8 || prefixLength > 30) {
    throw new Error(`unusable address ${addressCidr} (prefix length must be 8–30)`);
  }
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefixLength);
  const network = value - (value % size);
  const firstHost = network + 1;
  const host = value === firstHost ? firstHost + 1 : firstHost;
  if (value === network || value === network + size - 1) {
    throw new Error(`${addressCidr} is the network or broadcast address of its subnet`);
  }
  return { address: octets.join("."), prefixLength, hostAddress: toDotted(host) };
}

function toDotted(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

function ip(...args: string[]): void {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  if (result.error) throw new Error(`ip ${args.join(" ")}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${result.stderr.trim()}`);
}
