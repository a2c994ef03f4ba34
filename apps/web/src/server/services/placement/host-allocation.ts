// A host's allocated columns move only with the containers that hold capacity
// there; these run inside the caller's transaction, after it locked the host row.
import { effectiveRequests } from "@fleet/shared/scheduler/effective-requests";
import type { ResourceAmounts } from "@fleet/shared/scheduler/types";
import { resourcesOfRow, type TResourceColumns } from "../../db/container-row";
import type { TTransaction } from "./placement-lock";

/** What a container row takes from its host: its effective requests. */
export function takenByRow(row: TResourceColumns): ResourceAmounts {
  return effectiveRequests(resourcesOfRow(row));
}

export async function allocateOnHost(tx: TTransaction, hostId: string, take: ResourceAmounts): Promise<void> {
  await tx.host.update({
    where: { id: hostId },
    data: {
      cpuAllocatedMillis: { increment: take.cpuMillis },
      memoryAllocatedBytes: { increment: BigInt(take.memoryBytes) },
      pidsAllocated: { increment: take.pids },
    },
    select: { id: true },
  });
}

/** Gives capacity back; never below zero, so a row fixed by hand cannot make it negative. */
export async function releaseOnHost(tx: TTransaction, hostId: string, take: ResourceAmounts): Promise<void> {
  await tx.$executeRaw`
    UPDATE hosts SET
      cpu_allocated_millis = GREATEST(0, cpu_allocated_millis - ${take.cpuMillis}::int),
      memory_allocated_bytes = GREATEST(0, memory_allocated_bytes - ${BigInt(take.memoryBytes)}::bigint),
      pids_allocated = GREATEST(0, pids_allocated - ${take.pids}::int),
      updated_at = now()
    WHERE id = ${hostId}`;
}
