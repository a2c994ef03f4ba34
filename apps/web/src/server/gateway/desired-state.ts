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

/**
 * Waiting for a pooled connection beats failing: after a replica drains, its
 * agents' hellos arrive at the other one all at once, and with Prisma's
 * default (2 s to start a transaction) 900 of 1,000 failed and were told to
 * come back later.
 */
const SNAPSHOT_TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 } as const;

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

type TDesiredRow = Prisma.ContainerGetPayload<{ select: typeof desiredContainerSelect }>;

function snapshotOf(
  host: SnapshotHostRow,
  rows: readonly TDesiredRow[],
  bindMountPrefixes: string[],
): TDesiredSnapshot {
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
 * The desired sets of these hosts, as the caller read (and locked) their rows,
 * with the bind-mount policy of the same moment: one query for all of them.
 */
async function readSets(
  tx: Prisma.TransactionClient,
  hosts: readonly (SnapshotHostRow & { id: string })[],
): Promise<Map<string, TDesiredSnapshot>> {
  const present = hosts.filter((host) => !host.removedAt).map((host) => host.id);
  const rows =
    present.length === 0
      ? []
      : await tx.container.findMany({
          where: { hostId: { in: present }, removedAt: null, desiredState: { in: [...KEPT_ON_HOST] } },
          select: { ...desiredContainerSelect, hostId: true },
          orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          // One host: no more than a frame carries, and one more to tell it is too many.
          ...(present.length === 1 ? { take: MAX_DESIRED_CONTAINERS + 1 } : {}),
        });
  const rowsByHost = new Map<string, TDesiredRow[]>();
  for (const row of rows) {
    const ofHost = rowsByHost.get(row.hostId!);
    if (ofHost) ofHost.push(row);
    else rowsByHost.set(row.hostId!, [row]);
  }
  const bindMountPrefixes = await readBindMountPrefixes({ db: tx });
  const snapshots = new Map<string, TDesiredSnapshot>();
  for (const host of hosts)
    snapshots.set(host.id, snapshotOf(host, rowsByHost.get(host.id) ?? [], bindMountPrefixes));
  return snapshots;
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
  const snapshots = await takeDesiredSnapshots({ db: options.db, hostIds: [options.hostId] });
  return snapshots.get(options.hostId) ?? null;
}

/**
 * takeDesiredSnapshot for many hosts in one transaction of three statements,
 * however many hosts: what placements spread over a thousand hosts push.
 * Hosts that do not exist are missing from the map. The rows are locked in id
 * order, as placements lock them, so the two wait for each other and never
 * deadlock; the sets are read once the locks are held, so a higher generation
 * never carries an older set.
 */
export async function takeDesiredSnapshots(options: {
  db: PrismaClient;
  hostIds: readonly string[];
}): Promise<Map<string, TDesiredSnapshot>> {
  const { db } = options;
  const hostIds = [...new Set(options.hostIds)];
  if (hostIds.length === 0) return new Map();
  return db.$transaction(async (tx) => {
    const hosts = await tx.$queryRaw<(SnapshotHostRow & { id: string })[]>`
      UPDATE hosts SET desired_generation = hosts.desired_generation + 1, updated_at = now()
      FROM (SELECT id FROM hosts WHERE id = ANY(${hostIds}::text[]) ORDER BY id FOR UPDATE) AS locked
      WHERE hosts.id = locked.id
      RETURNING hosts.id, hosts.desired_generation AS "desiredGeneration", hosts.removed_at AS "removedAt",
                hosts.connection_epoch AS "connectionEpoch", hosts.connected_replica AS "connectedReplica"`;
    return readSets(tx, hosts);
  }, SNAPSHOT_TRANSACTION_OPTIONS);
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
    return (await readSets(tx, [{ ...host, id: hostId }])).get(hostId) ?? null;
  }, SNAPSHOT_TRANSACTION_OPTIONS);
}

export interface TAck {
  hostId: string;
  generation: number;
  /** The acking connection's epoch: only the host's current connection counts. */
  epoch: number;
}

/**
 * Records acks; resolves whether this one raised the stored generation. Only
 * a generation above the stored one and not above what was handed out counts,
 * and only from the host's current connection. Acks that arrive in the same
 * turn of the event loop are written with one statement: after placements
 * spread over a thousand hosts, every host acks within moments.
 */
export function createAckRecorder(
  db: PrismaClient,
  /** Runs the write when its turn comes (the gateway bounds the writes it has in flight). */
  admitWrite: <T>(write: () => Promise<T>) => Promise<T>,
): (ack: TAck) => Promise<boolean> {
  type Waiter = { ack: TAck; resolve(recorded: boolean): void; reject(error: unknown): void };
  let pending: Waiter[] = [];
  const write = async (batch: Waiter[]) => {
    // One row per host and epoch, the highest generation: FOR UPDATE takes no GROUP BY.
    const highest = new Map<string, TAck>();
    for (const { ack } of batch) {
      const key = `${ack.hostId}/${ack.epoch}`;
      if ((highest.get(key)?.generation ?? -1) < ack.generation) highest.set(key, ack);
    }
    const acks = [...highest.values()];
    try {
      // Rows locked in id order, as placements and pushes lock them: never a deadlock with either.
      const recorded = await admitWrite(
        () => db.$queryRaw<{ id: string; epoch: number; generation: number }[]>`
          UPDATE hosts SET acked_generation = acks.generation, updated_at = now()
          FROM (
            SELECT hosts.id, acks.epoch, acks.generation
            FROM hosts JOIN unnest(${acks.map((ack) => ack.hostId)}::text[],
                                   ${acks.map((ack) => ack.generation)}::int[],
                                   ${acks.map((ack) => ack.epoch)}::int[]) AS acks(id, generation, epoch)
              ON acks.id = hosts.id AND acks.epoch = hosts.connection_epoch
            ORDER BY hosts.id
            FOR UPDATE OF hosts
          ) AS acks
          WHERE hosts.id = acks.id AND hosts.connection_epoch = acks.epoch
            AND hosts.acked_generation < acks.generation AND hosts.desired_generation >= acks.generation
          RETURNING hosts.id, acks.epoch, acks.generation`,
      );
      const raised = new Set(recorded.map((row) => `${row.id}/${row.epoch}/${row.generation}`));
      for (const { ack, resolve } of batch)
        resolve(raised.has(`${ack.hostId}/${ack.epoch}/${ack.generation}`));
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
    }
  };
  const flush = () => {
    const batch = pending;
    pending = [];
    void write(batch);
  };
  return (ack) =>
    new Promise((resolve, reject) => {
      pending.push({ ack, resolve, reject });
      if (pending.length === 1) setImmediate(flush);
    });
}
