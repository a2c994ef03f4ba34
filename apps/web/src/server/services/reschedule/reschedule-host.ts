// Moving the containers of a lost host: one placement transaction locks the
// candidate hosts and the lost one, then the containers, marks each old copy
// removed (releasing its allocation there) and places its replacement.
import { schedule } from "@fleet/shared/scheduler/schedule";
import { containerColumnsOf, readContainerRow } from "../../db/container-row";
import { AppError } from "../../errors";
import { recordEvent } from "../../events/record-event";
import { lockedContainerSelect, type TLockedContainer } from "../container/container-lock";
import { releaseOnHost, takenByRow } from "../placement/host-allocation";
import {
  decisionOf,
  insertPlacedContainer,
  parseConstraints,
  placementRequestOf,
  type RunPlacementOptions,
  runPlacement,
  type TPlacementContext,
} from "../placement/place-containers";
import { waitingMessage } from "./place-pending";

export type THostLossReason = "offline" | "removed";

export interface TRescheduleOutcome {
  moved: { containerId: string; name: string; fromHostId: string; toHostId: string; toHostName: string }[];
  /** Replacements waiting for a host with room. */
  pending: { containerId: string; name: string; message: string }[];
  /** Containers left on the host: no deployment and a restart policy of `no`. */
  stranded: number;
}

/** Whether a container on a lost host should be run elsewhere. */
export function isReschedulable(row: { deploymentId: string | null; restartPolicy: string }): boolean {
  return row.deploymentId !== null || row.restartPolicy === "always" || row.restartPolicy === "on_failure";
}

/** Creates the replacement of `old` from its own template, placed or waiting; `old` is already marked removed. */
async function replace(
  ctx: TPlacementContext,
  old: TLockedContainer,
  lost: { id: string; name: string },
  reason: THostLossReason,
): Promise<
  | { placed: true; hostId: string; hostName: string; containerId: string }
  | { placed: false; containerId: string; message: string }
> {
  const { tx, cluster, effects, now } = ctx;
  const template = readContainerRow(old);
  // A deployment's replica moves on the revision it was made from, so a rollout neither misses nor repeats it.
  const { revision } = await tx.container.findUniqueOrThrow({
    where: { id: old.id },
    select: { revision: true },
  });
  const request = placementRequestOf(template, {
    strategy: old.strategy,
    constraints: parseConstraints(old.constraints),
    avoidHostIds: [lost.id],
  });
  const result = schedule(cluster.view, request);
  const draft = {
    name: old.name,
    template,
    deploymentId: old.deploymentId ?? undefined,
    replicaIndex: old.replicaIndex ?? undefined,
  };
  const why = reason === "offline" ? `host ${lost.name} went offline` : `host ${lost.name} was removed`;
  if (result.ok) {
    cluster.view.place(result.hostId, request);
    const placed = await insertPlacedContainer(ctx, {
      name: old.name,
      draft,
      decision: decisionOf(result),
      strategy: old.strategy,
      constraints: old.constraints,
      // The time the person asked for it: start latency then includes the outage.
      requestedAt: old.requestedAt,
      eventKind: "container.rescheduled",
      eventMessage: `container ${old.name} moved from ${lost.name} to ${result.hostName}: ${why}; ${result.reason}`,
      eventData: { fromHostId: lost.id, fromHostName: lost.name, toHostId: result.hostId, replaces: old.id },
    });
    if (revision !== null) {
      await tx.container.update({
        where: { id: placed.containerId },
        data: { revision },
        select: { id: true },
      });
    }
    return {
      placed: true,
      hostId: result.hostId,
      hostName: result.hostName,
      containerId: placed.containerId,
    };
  }
  // The same words place-pending.ts writes on each retry; why it moved is in the event.
  const message = waitingMessage(result.message);
  const row = await tx.container.create({
    data: {
      ...containerColumnsOf(template),
      name: old.name,
      hostId: null,
      deploymentId: old.deploymentId,
      replicaIndex: old.replicaIndex,
      revision,
      desiredState: "running",
      actualState: "pending",
      statusMessage: message,
      strategy: old.strategy,
      constraints: old.constraints,
      requestedAt: old.requestedAt,
    },
    select: { id: true },
  });
  effects.events.push(
    await recordEvent({
      db: tx,
      kind: "container.reschedule-pending",
      severity: "warning",
      hostId: lost.id,
      containerId: row.id,
      deploymentId: old.deploymentId,
      message: `container ${old.name} could not move off ${lost.name}: ${result.message}`,
      data: { fromHostId: lost.id, fromHostName: lost.name, replaces: old.id },
      ts: now,
    }),
  );
  effects.containerChanged(row.id, null);
  return { placed: false, containerId: row.id, message };
}

export async function rescheduleFromHost(
  options: RunPlacementOptions & { hostId: string; reason: THostLossReason },
): Promise<TRescheduleOutcome> {
  const { db, hostId, reason } = options;
  const outcome: TRescheduleOutcome = { moved: [], pending: [], stranded: 0 };
  const host = await db.host.findUnique({ where: { id: hostId }, select: { id: true } });
  if (!host) throw new AppError("NOT_FOUND", `no host with id ${hostId}`);
  const movable = await db.container.count({ where: { hostId, removedAt: null, desiredState: "running" } });
  if (movable === 0) return outcome;

  return runPlacement({ ...options, alsoLockHostIds: [hostId] }, async (ctx) => {
    const { tx, effects, now } = ctx;
    const lost = await tx.host.findUniqueOrThrow({
      where: { id: hostId },
      select: { id: true, name: true, status: true, removedAt: true },
    });
    // Back before we got here: nothing to move.
    if (lost.status === "online" && !lost.removedAt) return outcome;
    await tx.$queryRaw`
      SELECT id FROM containers
      WHERE host_id = ${hostId} AND removed_at IS NULL AND desired_state = 'running'
      ORDER BY id FOR UPDATE`;
    const rows = await tx.container.findMany({
      where: { hostId, removedAt: null, desiredState: "running" },
      orderBy: [{ deploymentId: "asc" }, { replicaIndex: "asc" }, { createdAt: "asc" }],
      select: lockedContainerSelect,
    });
    for (const old of rows) {
      if (!isReschedulable(old)) {
        outcome.stranded++;
        continue;
      }
      // The old copy first: its name becomes free for the replacement.
      await tx.container.update({
        where: { id: old.id },
        data: {
          desiredState: "removed",
          removedAt: now,
          statusMessage: `replaced: host ${lost.name} ${reason === "offline" ? "went offline" : "was removed"}`,
        },
        select: { id: true },
      });
      await releaseOnHost(tx, hostId, takenByRow(old));
      effects.containerChanged(old.id, hostId);
      const replacement = await replace(ctx, old, lost, reason);
      if (replacement.placed) {
        outcome.moved.push({
          containerId: replacement.containerId,
          name: old.name,
          fromHostId: hostId,
          toHostId: replacement.hostId,
          toHostName: replacement.hostName,
        });
      } else {
        outcome.pending.push({
          containerId: replacement.containerId,
          name: old.name,
          message: replacement.message,
        });
      }
    }
    return outcome;
  });
}
