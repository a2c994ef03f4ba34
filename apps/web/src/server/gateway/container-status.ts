// What agents report about containers: `container.status` frames update the
// container's row, `event` frames become lines in the event log. A status for
// a container not placed on the sending host (a stale agent that missed a
// reschedule, or a confused one) changes nothing; the agent is not told
// anything either, since its next desired snapshot sorts it out. Reports only
// ever change the observed columns: a `stopped` or `exited` report never
// touches the desired state (or the capacity that follows it), which is the
// person's word. Both are fenced by the connection epoch: a connection a newer
// one replaced (on this replica or another) writes nothing.

import type { TEventSeverity } from "@fleet/shared/domain/event";
import type {
  TContainerStatusFrame,
  TEventFrame,
  TEventKind,
  TPublishedPort,
} from "@fleet/shared/protocol/agent-to-server";
import type { Prisma, PrismaClient } from "../db/client";
import type { TEventRow } from "../events/event-view";
import { recordEvent } from "../events/record-event";
import type { GatewayBus } from "./gateway-options";

const statusRowSelect = {
  id: true,
  hostId: true,
  actualState: true,
  exitCode: true,
  oomKilled: true,
  restartCount: true,
  engineId: true,
  statusMessage: true,
  startedAt: true,
  finishedAt: true,
  requestedAt: true,
  runningReportedAt: true,
  imageDigest: true,
  publishedPorts: true,
  health: true,
  healthMessage: true,
} satisfies Prisma.ContainerSelect;
type TStatusRow = Prisma.ContainerGetPayload<{ select: typeof statusRowSelect }>;

function samePorts(stored: Prisma.JsonValue, reported: readonly TPublishedPort[]): boolean {
  if (!Array.isArray(stored) || stored.length !== reported.length) return false;
  return reported.every((port, i) => {
    const other = stored[i];
    if (other === null || typeof other !== "object" || Array.isArray(other)) return false;
    return (
      other.containerPort === port.containerPort &&
      other.protocol === port.protocol &&
      other.hostIp === port.hostIp &&
      other.hostPort === port.hostPort
    );
  });
}

/**
 * Whether the row already says what the frame says. Agents resend every
 * container's status after each reconnect, so after a central restart nearly
 * all of a fleet's statuses are repeats: those write nothing.
 */
function alreadyStored(
  row: TStatusRow,
  frame: TContainerStatusFrame,
  publishedPorts: readonly TPublishedPort[] | undefined,
): boolean {
  return (
    row.actualState === frame.state &&
    row.exitCode === frame.exitCode &&
    row.oomKilled === frame.oomKilled &&
    row.restartCount === frame.restartCount &&
    row.engineId === frame.engineId &&
    row.statusMessage === frame.message &&
    row.startedAt?.getTime() === parseTime(frame.startedAt)?.getTime() &&
    row.finishedAt?.getTime() === parseTime(frame.finishedAt)?.getTime() &&
    row.health === frame.health &&
    row.healthMessage === frame.healthMessage &&
    (publishedPorts === undefined || samePorts(row.publishedPorts, publishedPorts)) &&
    (frame.state !== "running" || row.runningReportedAt !== null) &&
    !(row.imageDigest === null && typeof frame.imageDigest === "string")
  );
}

function parseTime(iso: string | null): Date | null {
  if (iso === null) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

export type TStatusOutcome = "updated" | "unchanged" | "not-on-host" | "stale-connection";

/** How many containers one read of status rows asks for at most. */
const STATUS_ROWS_PER_READ = 500;

type StatusRowReader = (containerId: string) => Promise<TStatusRow | null>;

/**
 * Reads the rows statuses are checked against, for every connection at once:
 * the statuses that arrive within one turn of the event loop share one query.
 * After a central restart every agent resends every container's status; one
 * query per status would be a hundred thousand queries for 2,000 hosts.
 */
export function createStatusRowReader(db: PrismaClient): StatusRowReader {
  type Waiter = { resolve(row: TStatusRow | null): void; reject(error: unknown): void };
  let pending = new Map<string, Waiter[]>();
  let scheduled = false;
  const read = async (batch: Map<string, Waiter[]>) => {
    try {
      const rows = await db.container.findMany({
        where: { id: { in: [...batch.keys()] } },
        select: statusRowSelect,
      });
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const [id, waiters] of batch) for (const waiter of waiters) waiter.resolve(byId.get(id) ?? null);
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
    }
  };
  const flush = () => {
    scheduled = false;
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    void read(batch);
  };
  return (containerId) =>
    new Promise((resolve, reject) => {
      const waiters = pending.get(containerId);
      if (waiters) waiters.push({ resolve, reject });
      else pending.set(containerId, [{ resolve, reject }]);
      if (pending.size >= STATUS_ROWS_PER_READ) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

export async function applyContainerStatus(options: {
  db: PrismaClient;
  bus: Pick<GatewayBus, "publish">;
  /** Where the container's row is read (createStatusRowReader). */
  readRow: StatusRowReader;
  /** Runs the write when its turn comes (the gateway bounds the writes it has in flight). */
  admitWrite<T>(write: () => Promise<T>): Promise<T>;
  hostId: string;
  /** The sending connection's epoch: the status applies only while the host row holds it. */
  epoch: number;
  frame: TContainerStatusFrame;
  now: Date;
}): Promise<TStatusOutcome> {
  const { db, bus, hostId, epoch, frame, now } = options;
  const row = await options.readRow(frame.containerId);
  if (!row || row.hostId !== hostId) return "not-on-host";
  const finishedAt = parseTime(frame.finishedAt);
  // Statuses are resent after every reconnect: the same exit must not count as a second OOM kill.
  const sameExit = row.finishedAt?.getTime() === finishedAt?.getTime();
  const newOomKill = frame.oomKilled && !(row.oomKilled && sameExit);
  const firstRunning = frame.state === "running" && row.runningReportedAt === null;
  // A pinned deployment's digest is what it asked for and stays; a single container run by tag
  // learns here which bits it got. Older agents send neither field: leave the columns be.
  const learnsDigest = row.imageDigest === null && typeof frame.imageDigest === "string";
  const publishedPorts = frame.state !== "running" ? [] : frame.publishedPorts?.map((port) => ({ ...port }));
  if (alreadyStored(row, frame, publishedPorts)) return "unchanged";
  // An older agent's frame parses with null health: it runs no checks, so there is no verdict to keep.
  const healthChanged = row.health !== frame.health;
  // A conditional update: a reschedule between the read and here must not let this host write the row,
  // nor a newer connection of the host (fencing by epoch).
  const updated = await options.admitWrite(() =>
    db.container.updateMany({
      where: { id: row.id, hostId, host: { connectionEpoch: epoch } },
      data: {
        actualState: frame.state,
        exitCode: frame.exitCode,
        oomKilled: frame.oomKilled,
        ...(newOomKill ? { oomKillCount: { increment: 1 } } : {}),
        restartCount: frame.restartCount,
        engineId: frame.engineId,
        statusMessage: frame.message,
        startedAt: parseTime(frame.startedAt),
        finishedAt,
        health: frame.health,
        healthMessage: frame.healthMessage,
        ...(healthChanged ? { healthChangedAt: now } : {}),
        ...(publishedPorts !== undefined ? { publishedPorts } : {}),
        ...(learnsDigest ? { imageDigest: frame.imageDigest } : {}),
        ...(firstRunning
          ? {
              runningReportedAt: now,
              startLatencyMs: Math.max(0, now.getTime() - row.requestedAt.getTime()),
            }
          : {}),
      },
    }),
  );
  if (updated.count === 0) {
    const current = await db.host.count({ where: { id: hostId, connectionEpoch: epoch } });
    return current === 0 ? "stale-connection" : "not-on-host";
  }
  bus.publish("container.changed", { containerId: row.id, hostId });
  return "updated";
}

const SEVERITY_OF: Partial<Record<TEventKind, TEventSeverity>> = {
  "container.oom": "warning",
  "container.crashloop": "warning",
  "image.pull-failed": "warning",
  "agent.warning": "warning",
  "agent.error": "error",
  "agent.upgrade-failed": "error",
};

/** A health verdict is news either way; turning unhealthy is the one that needs a look. */
function severityOf(frame: TEventFrame): TEventSeverity {
  if (frame.kind === "container.health") return frame.data?.health === "unhealthy" ? "warning" : "info";
  return SEVERITY_OF[frame.kind] ?? "info";
}

/** How far into the future an agent's clock may run before its timestamps are not believed. */
const MAX_CLOCK_SKEW_MS = 60_000;

/**
 * Stores an agent's `event` frame; null when `epoch` is no longer the host's
 * (the row is written in a transaction that holds the host row FOR SHARE, so
 * a newer connection's welcome waits for it or fences it out).
 */
export async function recordAgentEvent(options: {
  db: PrismaClient;
  bus: Pick<GatewayBus, "publish">;
  hostId: string;
  epoch: number;
  frame: TEventFrame;
  now: Date;
}): Promise<TEventRow | null> {
  const { db, bus, hostId, epoch, frame, now } = options;
  let containerId: string | null = null;
  if (frame.containerId !== undefined) {
    const container = await db.container.findUnique({
      where: { id: frame.containerId },
      select: { hostId: true },
    });
    // Only link containers this host holds: an agent must not write into other containers' history.
    if (container?.hostId === hostId) containerId = frame.containerId;
  }
  // Events queued while the link was down keep their own time; a clock far ahead does not.
  const ts = frame.ts > now.getTime() + MAX_CLOCK_SKEW_MS ? now : new Date(frame.ts);
  const data: Prisma.InputJsonObject = {
    ...frame.data,
    ...(frame.containerId !== undefined && containerId === null
      ? { reportedContainerId: frame.containerId }
      : {}),
  };
  const row = await db.$transaction(async (tx) => {
    const current = await tx.$queryRaw<unknown[]>`
      SELECT 1 FROM hosts WHERE id = ${hostId} AND connection_epoch = ${epoch} FOR SHARE`;
    if (current.length === 0) return null;
    return recordEvent({
      db: tx,
      kind: frame.kind,
      severity: severityOf(frame),
      hostId,
      containerId,
      message: frame.message,
      data,
      ts,
    });
  });
  if (row) bus.publish("event", row);
  return row;
}
