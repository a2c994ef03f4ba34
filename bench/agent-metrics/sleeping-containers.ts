/**
 * The containers a sweep reads: `sleep` processes with a memory limit, each holding a
 * different, known amount of tmpfs memory, so a reader that looked at the wrong cgroup
 * (or at none) cannot agree with the engine by accident.
 */
import type { TestEngine } from "@fleet/test/harness/engines";
import { TEST_IMAGE_TAG } from "@fleet/test/harness/test-image";
import type Dockerode from "dockerode";

const MIB = 1024 * 1024;
export const MEMORY_LIMIT_BYTES = 16 * MIB;
/** Container i holds (i mod FILL_STEPS) MiB in /dev/shm, below the 16 MiB limit. */
const FILL_STEPS = 8;
const START_BATCH = 10;

export type TSleepingContainer = {
  containerId: string;
  pid: number;
  /** Bytes the container wrote to its /dev/shm, charged to its own memory cgroup. */
  fillBytes: number;
  handle: Dockerode.Container;
};

export async function startSleepingContainers(
  engine: TestEngine,
  count: number,
  progress: (message: string) => void,
): Promise<TSleepingContainer[]> {
  const started: TSleepingContainer[] = [];
  for (let first = 0; first < count; first += START_BATCH) {
    const batch = Array.from({ length: Math.min(START_BATCH, count - first) }, (_, offset) => first + offset);
    started.push(...(await Promise.all(batch.map((index) => startOne(engine, index)))));
    progress(`${started.length}/${count} containers running`);
  }
  return started;
}

async function startOne(engine: TestEngine, index: number): Promise<TSleepingContainer> {
  const fillBytes = (index % FILL_STEPS) * MIB;
  const container = await engine.docker.createContainer({
    name: `bench-agent-metrics-${index}`,
    Image: TEST_IMAGE_TAG,
    Cmd: ["sh", "-c", `head -c ${fillBytes} /dev/zero > /dev/shm/fill && exec sleep 3600`],
    Labels: { "fleet.bench": "agent-metrics" },
    HostConfig: {
      Memory: MEMORY_LIMIT_BYTES,
      // Without it swap doubles the limit.
      MemorySwap: MEMORY_LIMIT_BYTES,
      // Podman's API has no default cgroup parent; dockerd ignores this in favour of its own flag.
      CgroupParent: engine.cgroupParent,
      // Podman would otherwise put 100 veths on the bridge and IPAM database that every
      // Podman on this machine shares. It also spares both engines their per-interface
      // network stats, which can only make the stats API look faster, not slower.
      NetworkMode: "none",
    },
  });
  await container.start();
  const inspected = await container.inspect();
  const pid = inspected.State.Pid;
  if (!inspected.State.Running || pid <= 0) {
    throw new Error(`container ${index} is not running after start (status ${inspected.State.Status})`);
  }
  return { containerId: container.id, pid, fillBytes, handle: container };
}
