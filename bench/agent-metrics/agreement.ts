/**
 * Proof that the cgroupfs sweep reads the same containers the engine reports on: a
 * cgroupfs sweep, the stats API for every container, another cgroupfs sweep, then
 * per container the figures must agree.
 */
import type { ContainerSampler } from "@fleet/agent/metrics/container-sampler";
import type { TContainerSample } from "@fleet/shared/domain/metrics";
import { MEMORY_LIMIT_BYTES, type TSleepingContainer } from "./sleeping-containers";

// Idle `sleep` containers hardly move; the slack covers page-cache pages of the busybox
// binary that come and go between two reads.
const MEMORY_SLACK_BYTES = 256 * 1024;
const MEMORY_SLACK_SHARE = 0.05;

export type TAgreement = {
  containers: number;
  /** Largest |cgroupfs − engine| memory usage seen, in bytes. */
  memoryMaxDiffBytes: number;
  /** Containers whose engine CPU counter fell between the two cgroupfs reads, as it must. */
  cpuBracketed: number;
  pidsCompared: number;
  problems: string[];
};

export async function checkAgreement(
  containers: readonly TSleepingContainer[],
  sampler: ContainerSampler,
): Promise<TAgreement> {
  const targets = containers.map(({ containerId, pid }) => ({ containerId, pid }));
  const before = byId((await sampler.sample(targets)).samples);
  const api = await Promise.all(containers.map((c) => c.handle.stats({ stream: false, "one-shot": true })));
  const after = byId((await sampler.sample(targets)).samples);

  const result: TAgreement = {
    containers: containers.length,
    memoryMaxDiffBytes: 0,
    cpuBracketed: 0,
    pidsCompared: 0,
    problems: [],
  };
  containers.forEach((container, index) => {
    const name = `container ${index} (${container.containerId.slice(0, 12)})`;
    const first = before.get(container.containerId);
    const second = after.get(container.containerId);
    const stats = api[index];
    if (!first || !second || !stats) {
      result.problems.push(`${name}: missing from a sweep`);
      return;
    }
    if (first.memoryLimitBytes !== MEMORY_LIMIT_BYTES || stats.memory_stats.limit !== MEMORY_LIMIT_BYTES) {
      result.problems.push(
        `${name}: memory limit cgroupfs ${first.memoryLimitBytes}, engine ${stats.memory_stats.limit}, set ${MEMORY_LIMIT_BYTES}`,
      );
    }
    // The container's own tmpfs fill: a reader of another container's cgroup would miss it.
    if (first.memoryUsageBytes < container.fillBytes) {
      result.problems.push(
        `${name}: cgroupfs usage ${first.memoryUsageBytes} < its fill ${container.fillBytes}`,
      );
    }
    const engineUsage = stats.memory_stats.usage;
    const low = Math.min(first.memoryUsageBytes, second.memoryUsageBytes);
    const high = Math.max(first.memoryUsageBytes, second.memoryUsageBytes);
    const diff = engineUsage < low ? low - engineUsage : engineUsage > high ? engineUsage - high : 0;
    result.memoryMaxDiffBytes = Math.max(result.memoryMaxDiffBytes, diff);
    if (diff > Math.max(MEMORY_SLACK_BYTES, MEMORY_SLACK_SHARE * high)) {
      result.problems.push(`${name}: memory usage cgroupfs ${low}..${high}, engine ${engineUsage}`);
    }
    const engineCpuNs = stats.cpu_stats.cpu_usage.total_usage;
    if (first.cpuUsageNs <= engineCpuNs && engineCpuNs <= second.cpuUsageNs) {
      result.cpuBracketed += 1;
    } else {
      result.problems.push(
        `${name}: engine CPU ${engineCpuNs} ns outside cgroupfs ${first.cpuUsageNs}..${second.cpuUsageNs}`,
      );
    }
    const enginePids = stats.pids_stats?.current;
    if (enginePids !== undefined) {
      result.pidsCompared += 1;
      if (enginePids !== first.pidsCurrent) {
        result.problems.push(`${name}: pids cgroupfs ${first.pidsCurrent}, engine ${enginePids}`);
      }
    }
  });
  return result;
}

function byId(samples: readonly TContainerSample[]): Map<string, TContainerSample> {
  return new Map(samples.map((sample) => [sample.containerId, sample]));
}
