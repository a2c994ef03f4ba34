// The cluster as the scheduler must see it inside a placement transaction:
// every host that could take a container, its row locked FOR UPDATE so that
// nothing else changes its allocation until commit.
import { ZLabels } from "@fleet/shared/label-selector";
import { ClusterView } from "@fleet/shared/scheduler/cluster-view";
import { usedHostPortsOf } from "@fleet/shared/scheduler/host-ports";
import type { SchedulerHost, UsedHostPort } from "@fleet/shared/scheduler/types";
import type { Prisma } from "../../db/client";
import { readStoredSpec } from "../../db/container-row";

export type TTransaction = Prisma.TransactionClient;

interface THostLockRow {
  id: string;
  name: string;
  status: "online" | "offline";
  draining: boolean;
  removed_at: Date | null;
  labels: unknown;
  cpu_allocatable_millis: number;
  memory_allocatable_bytes: bigint;
  pids_allocatable: number;
  cpu_allocated_millis: number;
  memory_allocated_bytes: bigint;
  pids_allocated: number;
}

export interface TPlacementCluster {
  view: ClusterView;
  /** Hosts whose rows this transaction holds locked: only these may be placed on. */
  lockedHostIds: ReadonlySet<string>;
  hostNames: ReadonlyMap<string, string>;
}

function schedulerHostOf(
  row: THostLockRow,
  usedHostPorts: UsedHostPort[],
  volumes: readonly string[] = [],
): SchedulerHost {
  const labels = ZLabels.safeParse(row.labels);
  return {
    id: row.id,
    name: row.name,
    online: row.status === "online" && row.removed_at === null,
    draining: row.draining,
    labels: labels.success ? labels.data : {},
    allocatable: {
      cpuMillis: row.cpu_allocatable_millis,
      memoryBytes: Number(row.memory_allocatable_bytes),
      pids: row.pids_allocatable,
    },
    allocated: {
      cpuMillis: row.cpu_allocated_millis,
      memoryBytes: Number(row.memory_allocated_bytes),
      pids: row.pids_allocated,
    },
    usedHostPorts,
    ...(volumes.length > 0 ? { volumes } : {}),
  };
}

/**
 * The named volumes on these hosts, as HostVolume rows record them (listed by
 * their engines or created by earlier placements). Read after the host rows
 * are locked: placements write these rows under the same locks.
 */
async function volumesByHost(tx: TTransaction, hostIds: string[]): Promise<Map<string, string[]>> {
  const byHost = new Map<string, string[]>();
  if (hostIds.length === 0) return byHost;
  const rows = await tx.$queryRaw<{ host_id: string; name: string }[]>`
    SELECT host_id, name FROM host_volumes WHERE host_id = ANY(${hostIds}::text[])`;
  for (const row of rows) {
    const list = byHost.get(row.host_id) ?? [];
    list.push(row.name);
    byHost.set(row.host_id, list);
  }
  return byHost;
}

/** Host ports bound by the containers that hold capacity on these hosts. */
async function usedHostPortsByHost(
  tx: TTransaction,
  hostIds: string[],
): Promise<Map<string, UsedHostPort[]>> {
  const byHost = new Map<string, UsedHostPort[]>();
  if (hostIds.length === 0) return byHost;
  const rows = await tx.$queryRaw<{ host_id: string; spec: unknown }[]>`
    SELECT host_id, spec FROM containers
    WHERE host_id = ANY(${hostIds}::text[]) AND removed_at IS NULL AND desired_state = 'running'
      AND jsonb_typeof(spec->'ports') = 'array' AND jsonb_array_length(spec->'ports') > 0`;
  for (const row of rows) {
    const ports = usedHostPortsOf(readStoredSpec(row.spec).ports);
    if (ports.length === 0) continue;
    const list = byHost.get(row.host_id) ?? [];
    list.push(...ports);
    byHost.set(row.host_id, list);
  }
  return byHost;
}

const HOST_COLUMNS = `id, name, status::text AS status, draining, removed_at, labels,
  cpu_allocatable_millis, memory_allocatable_bytes, pids_allocatable,
  cpu_allocated_millis, memory_allocated_bytes, pids_allocated`;

/**
 * Locks the rows of every host that can take containers (online, not
 * draining, not removed) plus `alsoLockHostIds`, in id order so that two
 * placements never wait on each other in a cycle, and returns the cluster
 * built from them. Hosts that cannot take containers are added unlocked, only
 * so that a no-fit message names them with their reason (offline, draining).
 *
 * Trade-off: every placement locks every candidate host, so these placements
 * are serialized fleet-wide. That makes the scheduler's comparison of hosts
 * exact, which moving containers off a lost host, deployments and volumes
 * rely on. Single runs go the optimistic way instead (`placement-batch.ts`:
 * schedule on an unlocked read, lock only the chosen hosts and check them
 * again, as Nomad's plan applier does); both lock every host they write.
 */
export async function lockPlacementCluster(
  tx: TTransaction,
  options: { alsoLockHostIds?: readonly string[] } = {},
): Promise<TPlacementCluster> {
  const extra = [...(options.alsoLockHostIds ?? [])];
  const locked = await tx.$queryRawUnsafe<THostLockRow[]>(
    `SELECT ${HOST_COLUMNS} FROM hosts
     WHERE (status = 'online' AND NOT draining AND removed_at IS NULL) OR id = ANY($1::text[])
     ORDER BY id FOR UPDATE`,
    extra,
  );
  const lockedIds = new Set(locked.map((row) => row.id));
  const others = await tx.$queryRawUnsafe<THostLockRow[]>(
    `SELECT ${HOST_COLUMNS} FROM hosts WHERE removed_at IS NULL AND NOT (id = ANY($1::text[]))`,
    [...lockedIds],
  );
  const candidates = locked.filter((row) => row.status === "online" && !row.draining && !row.removed_at);
  const ports = await usedHostPortsByHost(
    tx,
    candidates.map((row) => row.id),
  );
  const all = [...locked, ...others];
  const volumes = await volumesByHost(
    tx,
    all.filter((row) => !row.removed_at).map((row) => row.id),
  );
  const hosts: SchedulerHost[] = [];
  const hostNames = new Map<string, string>();
  for (const row of all) {
    hostNames.set(row.id, row.name);
    if (row.removed_at) continue;
    hosts.push(schedulerHostOf(row, ports.get(row.id) ?? [], volumes.get(row.id)));
  }
  return { view: new ClusterView(hosts), lockedHostIds: lockedIds, hostNames };
}

/**
 * Writes the HostVolume rows of the volumes placements in this transaction
 * created (volumes that existed nowhere): the next container mounting one is
 * placed beside them. `seenAt` stays null until the host's engine lists it.
 */
export async function recordPlacedVolumes(tx: TTransaction, view: ClusterView, now: Date): Promise<void> {
  const placed = view.placedVolumes();
  if (placed.length === 0) return;
  await tx.hostVolume.createMany({
    data: placed.map(({ hostId, name }) => ({ hostId, name, createdAt: now })),
    skipDuplicates: true,
  });
}

/**
 * The same cluster read without locks: for a preview that decides nothing,
 * and for a batch that decides on it and then checks its choices under the
 * locks of the hosts it chose (`lockSchedulerHosts`). Ports and volumes
 * matter only to requests that bind host ports or mount named volumes, so a
 * caller without such requests may leave them out.
 */
export async function readPlacementCluster(
  tx: TTransaction,
  options: { ports?: boolean; volumes?: boolean } = {},
): Promise<TPlacementCluster> {
  const rows = await tx.$queryRawUnsafe<THostLockRow[]>(
    `SELECT ${HOST_COLUMNS} FROM hosts WHERE removed_at IS NULL ORDER BY id`,
  );
  const candidates = rows.filter((row) => row.status === "online" && !row.draining);
  const ports =
    options.ports === false
      ? new Map<string, UsedHostPort[]>()
      : await usedHostPortsByHost(
          tx,
          candidates.map((row) => row.id),
        );
  const volumes =
    options.volumes === false
      ? new Map<string, string[]>()
      : await volumesByHost(
          tx,
          rows.map((row) => row.id),
        );
  return {
    view: new ClusterView(
      rows.map((row) => schedulerHostOf(row, ports.get(row.id) ?? [], volumes.get(row.id))),
    ),
    lockedHostIds: new Set(),
    hostNames: new Map(rows.map((row) => [row.id, row.name])),
  };
}

/**
 * Locks these host rows FOR UPDATE in id order and returns them as the
 * scheduler sees them now (ports only when asked; no volumes). A host that no
 * longer exists is missing from the answer.
 */
export async function lockSchedulerHosts(
  tx: TTransaction,
  hostIds: readonly string[],
  options: { ports: boolean },
): Promise<Map<string, SchedulerHost>> {
  const rows = await tx.$queryRawUnsafe<THostLockRow[]>(
    `SELECT ${HOST_COLUMNS} FROM hosts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [...hostIds],
  );
  const ports = options.ports
    ? await usedHostPortsByHost(
        tx,
        rows.map((row) => row.id),
      )
    : new Map<string, UsedHostPort[]>();
  return new Map(rows.map((row) => [row.id, schedulerHostOf(row, ports.get(row.id) ?? [])]));
}

/** One host as the scheduler sees it (the caller holds its row lock), or null if it does not exist. */
export async function readSchedulerHost(tx: TTransaction, hostId: string): Promise<SchedulerHost | null> {
  const [row] = await tx.$queryRawUnsafe<THostLockRow[]>(
    `SELECT ${HOST_COLUMNS} FROM hosts WHERE id = $1`,
    hostId,
  );
  if (!row) return null;
  const ports = await usedHostPortsByHost(tx, [hostId]);
  const volumes = await volumesByHost(tx, [hostId]);
  return schedulerHostOf(row, ports.get(hostId) ?? [], volumes.get(hostId));
}
