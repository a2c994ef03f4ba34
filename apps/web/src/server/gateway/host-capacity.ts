// What a host can hold, from the facts and reserve in its `hello`: capacity
// is the machine, allocatable is what the scheduler may hand out.
import type { THelloFrame } from "@fleet/shared/protocol/agent-to-server";
import { DEFAULT_HOST_PIDS_CAPACITY } from "./gateway-limits";

export interface THostCapacityColumns {
  cpuCapacityMillis: number;
  memoryCapacityBytes: bigint;
  pidsCapacity: number;
  cpuAllocatableMillis: number;
  memoryAllocatableBytes: bigint;
  pidsAllocatable: number;
}

export function capacityFromHello(hello: Pick<THelloFrame, "facts" | "reserve">): THostCapacityColumns {
  const cpuCapacityMillis = hello.facts.cpus * 1000;
  const memoryCapacityBytes = hello.facts.memoryBytes;
  return {
    cpuCapacityMillis,
    memoryCapacityBytes: BigInt(memoryCapacityBytes),
    pidsCapacity: DEFAULT_HOST_PIDS_CAPACITY,
    cpuAllocatableMillis: Math.max(0, cpuCapacityMillis - hello.reserve.cpuMillis),
    memoryAllocatableBytes: BigInt(Math.max(0, memoryCapacityBytes - hello.reserve.memoryBytes)),
    // The reserve has no pids part.
    pidsAllocatable: DEFAULT_HOST_PIDS_CAPACITY,
  };
}
