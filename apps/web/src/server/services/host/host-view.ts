// A host as the API shows it: what it has, what the scheduler may hand out,
// what is handed out, and how many live containers it holds. Byte counts are
// numbers here (exact below 2^53 bytes = 8 PiB), which the dashboard can
// chart without BigInt.
import { type THostFacts, ZHostFacts } from "@fleet/shared/domain/host";
import { type TLabels, ZLabels } from "@fleet/shared/label-selector";
import type { Prisma } from "../../db/client";

export const hostViewSelect = {
  id: true,
  name: true,
  status: true,
  draining: true,
  labels: true,
  facts: true,
  agentVersion: true,
  cpuCapacityMillis: true,
  memoryCapacityBytes: true,
  pidsCapacity: true,
  cpuAllocatableMillis: true,
  memoryAllocatableBytes: true,
  pidsAllocatable: true,
  cpuAllocatedMillis: true,
  memoryAllocatedBytes: true,
  pidsAllocated: true,
  desiredGeneration: true,
  ackedGeneration: true,
  lastSeenAt: true,
  connectedAt: true,
  createdAt: true,
  updatedAt: true,
  removedAt: true,
  _count: { select: { containers: { where: { removedAt: null } } } },
} satisfies Prisma.HostSelect;

export type THostRow = Prisma.HostGetPayload<{ select: typeof hostViewSelect }>;

export interface TResources {
  cpuMillis: number;
  memoryBytes: number;
  pids: number;
}

export interface THostView {
  id: string;
  name: string;
  status: "online" | "offline";
  draining: boolean;
  labels: TLabels;
  /** What the agent fingerprinted; null before its first hello. */
  facts: THostFacts | null;
  agentVersion: string | null;
  capacity: TResources;
  allocatable: TResources;
  allocated: TResources;
  /** Containers placed here and not removed. */
  containerCount: number;
  desiredGeneration: number;
  ackedGeneration: number;
  lastSeenAt: Date | null;
  connectedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  removedAt: Date | null;
}

export function toHostView(row: THostRow): THostView {
  const labels = ZLabels.safeParse(row.labels);
  const facts = ZHostFacts.safeParse(row.facts);
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    draining: row.draining,
    labels: labels.success ? labels.data : {},
    facts: facts.success ? facts.data : null,
    agentVersion: row.agentVersion,
    capacity: {
      cpuMillis: row.cpuCapacityMillis,
      memoryBytes: Number(row.memoryCapacityBytes),
      pids: row.pidsCapacity,
    },
    allocatable: {
      cpuMillis: row.cpuAllocatableMillis,
      memoryBytes: Number(row.memoryAllocatableBytes),
      pids: row.pidsAllocatable,
    },
    allocated: {
      cpuMillis: row.cpuAllocatedMillis,
      memoryBytes: Number(row.memoryAllocatedBytes),
      pids: row.pidsAllocated,
    },
    containerCount: row._count.containers,
    desiredGeneration: row.desiredGeneration,
    ackedGeneration: row.ackedGeneration,
    lastSeenAt: row.lastSeenAt,
    connectedAt: row.connectedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    removedAt: row.removedAt,
  };
}
