// Containers waiting for a host (their own was lost and nothing had room):
// each pass tries the oldest ones again, in one placement transaction.

import { effectiveRequests } from "@fleet/shared/scheduler/effective-requests";
import { schedule } from "@fleet/shared/scheduler/schedule";
import { readContainerRow } from "../../db/container-row";
import { recordEvent } from "../../events/record-event";
import { lockedContainerSelect } from "../container/container-lock";
import { allocateOnHost } from "../placement/host-allocation";
import {
  parseConstraints,
  placementRequestOf,
  type RunPlacementOptions,
  runPlacement,
} from "../placement/place-containers";

/** At most this many per pass, so one pass stays one short transaction. */
export const PENDING_BATCH = 100;

export function waitingMessage(noFit: string): string {
  return `waiting for a host with room: ${noFit}`;
}

const pendingWhere = { hostId: null, removedAt: null, desiredState: "running" } as const;

export async function countPendingContainers(options: Pick<RunPlacementOptions, "db">): Promise<number> {
  return options.db.container.count({ where: pendingWhere });
}

/** Returns how many got a host. */
export async function placePendingContainers(options: RunPlacementOptions): Promise<number> {
  if ((await countPendingContainers(options)) === 0) return 0;
  return runPlacement(options, async ({ tx, cluster, effects, now }) => {
    const candidates = await tx.container.findMany({
      where: pendingWhere,
      orderBy: [{ requestedAt: "asc" }, { id: "asc" }],
      take: PENDING_BATCH,
      select: { id: true },
    });
    if (candidates.length === 0) return 0;
    const ids = candidates.map((row) => row.id);
    await tx.$queryRaw`SELECT id FROM containers WHERE id = ANY(${ids}::text[]) ORDER BY id FOR UPDATE`;
    const rows = await tx.container.findMany({
      where: { id: { in: ids }, ...pendingWhere },
      orderBy: [{ requestedAt: "asc" }, { id: "asc" }],
      select: { ...lockedContainerSelect, statusMessage: true },
    });
    let placed = 0;
    for (const row of rows) {
      const template = readContainerRow(row);
      const request = placementRequestOf(template, {
        strategy: row.strategy,
        constraints: parseConstraints(row.constraints),
      });
      const result = schedule(cluster.view, request);
      if (!result.ok) {
        const message = waitingMessage(result.message);
        if (row.statusMessage !== message) {
          await tx.container.update({
            where: { id: row.id },
            data: { statusMessage: message },
            select: { id: true },
          });
        }
        continue;
      }
      cluster.view.place(result.hostId, request);
      await tx.container.update({
        where: { id: row.id },
        data: {
          hostId: result.hostId,
          scheduledAt: now,
          placementReason: result.reason,
          statusMessage: null,
        },
        select: { id: true },
      });
      await allocateOnHost(tx, result.hostId, effectiveRequests(template.resources));
      effects.events.push(
        await recordEvent({
          db: tx,
          kind: "container.placed",
          hostId: result.hostId,
          containerId: row.id,
          deploymentId: row.deploymentId,
          message: `container ${row.name} placed on ${result.hostName} after waiting for room: ${result.reason}`,
          data: { hostName: result.hostName, reason: result.reason, strategy: row.strategy },
          ts: now,
        }),
      );
      effects.containerChanged(row.id, result.hostId);
      placed++;
    }
    return placed;
  });
}
