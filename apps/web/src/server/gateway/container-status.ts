// What agents report about containers: `container.status` frames update the
// container's row, `event` frames become lines in the event log. A status for
// a container not placed on the sending host (a stale agent that missed a
// reschedule, or a confused one) changes nothing; the agent is not told
// anything either, since its next desired snapshot sorts it out. Reports only
// ever change the observed columns: a `stopped` or `exited` report never
// touches the desired state (or the capacity that follows it), which is the
// person's word.

import type { TEventSeverity } from "@fleet/shared/domain/event";
import type { TContainerStatusFrame, TEventFrame, TEventKind } from "@fleet/shared/protocol/agent-to-server";
import type { Prisma, PrismaClient } from "../db/client";
import type { TEventRow } from "../events/event-view";
import { recordEvent } from "../events/record-event";
import type { GatewayBus } from "./gateway-options";

const statusRowSelect = {
  id: true,
  hostId: true,
  oomKilled: true,
  finishedAt: true,
  requestedAt: true,
  runningReportedAt: true,
  imageDigest: true,
  health: true,
} satisfies Prisma.ContainerSelect;

function parseTime(iso: string | null): Date | null {
  if (iso === null) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

export type TStatusOutcome = "updated" | "not-on-host";

export async function applyContainerStatus(options: {
  db: PrismaClient;
  bus: Pick<GatewayBus, "publish">;
  hostId: string;
  frame: TContainerStatusFrame;
  now: Date;
}): Promise<TStatusOutcome> {
  const { db, bus, hostId, frame, now } = options;
  const row = await db.container.findUnique({ where: { id: frame.containerId }, select: statusRowSelect });
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
  // An older agent's frame parses with null health: it runs no checks, so there is no verdict to keep.
  const healthChanged = row.health !== frame.health;
  // A conditional update: a reschedule between the read and here must not let this host write the row.
  const updated = await db.container.updateMany({
    where: { id: row.id, hostId },
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
  });
  if (updated.count === 0) return "not-on-host";
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

export async function recordAgentEvent(options: {
  db: PrismaClient;
  bus: Pick<GatewayBus, "publish">;
  hostId: string;
  frame: TEventFrame;
  now: Date;
}): Promise<TEventRow> {
  const { db, bus, hostId, frame, now } = options;
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
  return recordEvent({
    db,
    bus,
    kind: frame.kind,
    severity: severityOf(frame),
    hostId,
    containerId,
    message: frame.message,
    data,
    ts,
  });
}
