import { join } from "node:path";
import { readKernelFile } from "./cgroup/cgroup-files";
import type { TProcFsOptions } from "./cgroup/paths";
import { procRootOf } from "./cgroup/paths";
import { errnoCode, ProcessGoneError } from "./errors";

export type TNetCounters = { rxBytes: number; rxPackets: number; txBytes: number; txPackets: number };
export type TNetInterfaceCounters = TNetCounters & { name: string };

/**
 * /proc/<pid>/net/dev: two header lines, then `iface: rx(bytes packets errs drop
 * fifo frame compressed multicast) tx(bytes packets errs drop fifo colls carrier
 * compressed)`. Old kernels print no space after the colon when a number is wide.
 */
export function parseNetDev(text: string): TNetInterfaceCounters[] {
  const interfaces: TNetInterfaceCounters[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0 || line.includes("|")) continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (fields.length < 16 || fields.some((value) => !Number.isFinite(value))) continue;
    interfaces.push({
      name: line.slice(0, colon).trim(),
      rxBytes: fields[0]!,
      rxPackets: fields[1]!,
      txBytes: fields[8]!,
      txPackets: fields[9]!,
    });
  }
  return interfaces;
}

/** Sums every interface but loopback, which never leaves the container. */
export function sumNetCounters(interfaces: readonly TNetInterfaceCounters[]): TNetCounters {
  const total: TNetCounters = { rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0 };
  for (const counters of interfaces) {
    if (counters.name === "lo") continue;
    total.rxBytes += counters.rxBytes;
    total.rxPackets += counters.rxPackets;
    total.txBytes += counters.txBytes;
    total.txPackets += counters.txPackets;
  }
  return total;
}

/** The counters of the network namespace `pid` lives in (the host's, for --network host). */
export async function readNetCounters(pid: number, options: TProcFsOptions = {}): Promise<TNetCounters> {
  let text: string;
  try {
    text = await readKernelFile(join(procRootOf(options), String(pid), "net", "dev"));
  } catch (error) {
    const code = errnoCode(error);
    // A zombie's /proc entry still exists but its net/dev cannot be read (EINVAL).
    if (code === "ENOENT" || code === "ESRCH" || code === "EINVAL") throw new ProcessGoneError(pid);
    throw error;
  }
  return sumNetCounters(parseNetDev(text));
}
