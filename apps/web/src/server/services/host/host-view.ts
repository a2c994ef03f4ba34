// A host as the API shows it: what it has, what the scheduler may hand out,
// what is handed out, and how many live containers it holds. Byte counts are
// numbers here (exact below 2^53 bytes = 8 PiB), which the dashboard can
// chart without BigInt.
import { type THostFacts, ZHostFacts } from "@fleet/shared/domain/host";
import { type TLabels, ZLabels } from "@fleet/shared/label-selector";
import type { Prisma, PrismaClient } from "../../db/client";

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

/** The row's labels; a value older versions wrote that no longer parses reads as none. */
export function hostLabels(row: Pick<THostRow, "labels">): TLabels {
  const labels = ZLabels.safeParse(row.labels);
  return labels.success ? labels.data : {};
}

/**
 * The rows as the API shows them, with their live container counts from one
 * query over the (host_id, …) index. Not Prisma's `_count`, which joins a
 * count of every host's containers: 100 ms a page at 100,000 containers.
 */
export async function toHostViews(db: PrismaClient, rows: readonly THostRow[]): Promise<THostView[]> {
  const counts =
    rows.length === 0
      ? []
      : await db.container.groupBy({
          by: ["hostId"],
          where: { hostId: { in: rows.map((row) => row.id) }, removedAt: null },
          _count: { _all: true },
        });
  const byHost = new Map(counts.map((entry) => [entry.hostId, entry._count._all]));
  return rows.map((row) => toHostView(row, byHost.get(row.id) ?? 0));
}

export async function toOneHostView(db: PrismaClient, row: THostRow): Promise<THostView> {
  const [view] = await toHostViews(db, [row]);
  if (!view) throw new Error("toHostViews returned no view for a row");
  return view;
}

function toHostView(row: THostRow, containerCount: number): THostView {
  const facts = ZHostFacts.safeParse(row.facts);
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    draining: row.draining,
    labels: hostLabels(row),
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
    containerCount,
    desiredGeneration: row.desiredGeneration,
    ackedGeneration: row.ackedGeneration,
    lastSeenAt: row.lastSeenAt,
    connectedAt: row.connectedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    removedAt: row.removedAt,
  };
}
