// A host's desired state, level-triggered: always the whole set of containers
// that should exist there, each running or kept stopped, under a generation
// that only rises. The
// generation is raised in the same transaction that reads the set; the row
// lock of that update orders concurrent pushes, so a higher generation never
// carries an older set.
import { MAX_DESIRED_CONTAINERS, type TDesiredContainer } from "@fleet/shared/protocol/server-to-agent";
import type { Prisma, PrismaClient } from "../db/client";
import { containerSpecFromRow, containerSpecSelect } from "../db/container-row";
import { readBindMountPrefixes } from "../db/setting-rows";

const desiredContainerSelect = {
  id: true,
  name: true,
  ...containerSpecSelect,
  desiredState: true,
} satisfies Prisma.ContainerSelect;

/** Desired states whose containers stay on their host; `removed` ones leave the set. */
const KEPT_ON_HOST = ["running", "stopped"] as const;

export interface TDesiredSnapshot {
  generation: number;
  containers: TDesiredContainer[];
  /** Host-wide policy the agent enforces on real paths; read with the set so both are of one moment. */
  bindMountPrefixes: string[];
  /** Rows whose spec does not parse: left out (the agent cannot run them), reported by the caller. */
  invalid: { containerId: string; name: string; error: string }[];
  /** More containers than one `desired` frame may carry: the snapshot must not be sent (a cut set would remove the rest). */
  tooMany: boolean;
  /** The host's connection epoch when the set was read: a session holding another one must not send it. */
  connectionEpoch: number;
  /** The replica holding the host's live connection when the set was read (null: none). */
  connectedReplica: string | null;
}

interface SnapshotHostRow {
  desiredGeneration: number;
  removedAt: Date | null;
  connectionEpoch: number;
  connectedReplica: string | null;
}

async function readSet(tx: Prisma.TransactionClient, hostId: string, host: SnapshotHostRow) {
  const rows = host.removedAt
    ? []
    : await tx.container.findMany({
        where: { hostId, removedAt: null, desiredState: { in: [...KEPT_ON_HOST] } },
        select: desiredContainerSelect,
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        take: MAX_DESIRED_CONTAINERS + 1,
      });
  const bindMountPrefixes = await readBindMountPrefixes({ db: tx });
  const containers: TDesiredContainer[] = [];
  const invalid: TDesiredSnapshot["invalid"] = [];
  for (const row of rows.slice(0, MAX_DESIRED_CONTAINERS)) {
    const result = containerSpecFromRow(row);
    if (result.ok)
      containers.push({ ...result.spec, runState: row.desiredState === "stopped" ? "stopped" : "running" });
    else invalid.push({ containerId: row.id, name: row.name, error: result.error });
  }
  return {
    generation: host.desiredGeneration,
    containers,
    bindMountPrefixes,
    invalid,
    tooMany: rows.length > MAX_DESIRED_CONTAINERS,
    connectionEpoch: host.connectionEpoch,
    connectedReplica: host.connectedReplica,
  };
}

/**
 * Raises the host's generation and reads its desired set and the allowed bind
 * mount prefixes, in one transaction. Null when the host does not exist. The
 * set: containers placed on the host and not removed, with their desired
 * state as `runState`. A
 * `stopped` one stays in the set so its agent keeps the engine container
 * (exited, logs readable) for a later start; its capacity was already given
 * back by the stop.
 */
export async function takeDesiredSnapshot(options: {
  db: PrismaClient;
  hostId: string;
}): Promise<TDesiredSnapshot | null> {
  const { db, hostId } = options;
  return db.$transaction(async (tx) => {
    const bumped = await tx.host.updateMany({
      where: { id: hostId },
      data: { desiredGeneration: { increment: 1 } },
    });
    if (bumped.count === 0) return null;
    const host = await tx.host.findUniqueOrThrow({
      where: { id: hostId },
      select: { desiredGeneration: true, removedAt: true, connectionEpoch: true, connectedReplica: true },
    });
    return readSet(tx, hostId, host);
  });
}

/**
 * The host's desired set at its current generation, without raising it: what
 * the replica holding the connection sends when another replica raised the
 * generation. The host row is read FOR SHARE, so a snapshot in flight
 * elsewhere commits first and the one after this waits: a generation still
 * carries one set, whichever replica reads it.
 */
export async function readDesiredSnapshot(options: {
  db: PrismaClient;
  hostId: string;
}): Promise<TDesiredSnapshot | null> {
  const { db, hostId } = options;
  return db.$transaction(async (tx) => {
    const [host] = await tx.$queryRaw<SnapshotHostRow[]>`
      SELECT desired_generation AS "desiredGeneration", removed_at AS "removedAt",
             connection_epoch AS "connectionEpoch", connected_replica AS "connectedReplica"
      FROM hosts WHERE id = ${hostId} FOR SHARE`;
    if (!host) return null;
    return readSet(tx, hostId, host);
  });
}

/**
 * Records an `ack`; only a generation above the stored one and not above what
 * was handed out counts, and only from the host's current connection (`epoch`).
 */
export async function recordAck(options: {
  db: PrismaClient;
  hostId: string;
  generation: number;
  epoch: number;
}): Promise<boolean> {
  const { db, hostId, generation, epoch } = options;
  const updated = await db.host.updateMany({
    where: {
      id: hostId,
      connectionEpoch: epoch,
      ackedGeneration: { lt: generation },
      desiredGeneration: { gte: generation },
    },
    data: { ackedGeneration: generation },
  });
  return updated.count === 1;
}
