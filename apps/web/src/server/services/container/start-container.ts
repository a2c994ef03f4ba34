// Desired `running` again after a stop. The container goes back to the host
// it was placed on, so capacity is checked there, with the host row locked:
// while it was stopped others may have taken the room. The host's own state
// (offline, draining) does not block the start: the container belongs there,
// and an offline host gets it at its next welcome. Its agent still holds the
// stopped engine container and starts that one again (a new one only if the
// spec changed meanwhile).
import { schedule } from "@fleet/shared/scheduler/schedule";
import { readContainerRow } from "../../db/container-row";
import { AppError } from "../../errors";
import { recordEvent } from "../../events/record-event";
import { allocateOnHost, takenByRow } from "../placement/host-allocation";
import { placementRequestOf } from "../placement/place-containers";
import { readSchedulerHost } from "../placement/placement-lock";
import { type ChangeContainerOptions, changeContainer } from "./container-lock";
import { containerViewSelect, type TContainerView, toContainerView } from "./container-view";

export async function startContainer(
  options: ChangeContainerOptions & { id: string; actorEmail: string },
): Promise<TContainerView> {
  const { db, now, id, actorEmail } = options;
  await changeContainer(options, id, async (tx, row, effects) => {
    if (row.removedAt) throw new AppError("PRECONDITION_FAILED", `container ${row.name} has been removed`);
    if (row.desiredState === "running") return;
    if (row.hostId) {
      if (row.host?.removedAt) {
        throw new AppError(
          "PRECONDITION_FAILED",
          `container ${row.name} cannot start: its host ${row.host.name} has been removed`,
        );
      }
      const host = await readSchedulerHost(tx, row.hostId);
      if (!host) throw new AppError("PRECONDITION_FAILED", `container ${row.name} has no host any more`);
      const result = schedule([{ ...host, online: true, draining: false }], {
        ...placementRequestOf(readContainerRow(row), { strategy: "binpack", constraints: [] }),
      });
      if (!result.ok) {
        const reasons = result.rejected[0]?.reasons.join(", ") ?? result.message;
        throw new AppError(
          "PRECONDITION_FAILED",
          `container ${row.name} no longer fits on its host ${host.name}: ${reasons}`,
        );
      }
      await allocateOnHost(tx, row.hostId, takenByRow(row));
    }
    await tx.container.update({
      where: { id },
      data: {
        desiredState: "running",
        // Without a host it waits for the rescheduler's next pass.
        ...(row.hostId ? {} : { statusMessage: "waiting for a host with room" }),
      },
      select: { id: true },
    });
    effects.events.push(
      await recordEvent({
        db: tx,
        kind: "container.start-requested",
        hostId: row.hostId,
        containerId: id,
        deploymentId: row.deploymentId,
        message: `${actorEmail} started container ${row.name}`,
        data: { by: actorEmail },
        ts: now,
      }),
    );
    effects.containerChanged(id, row.hostId);
  });
  return toContainerView(
    await db.container.findUniqueOrThrow({ where: { id }, select: containerViewSelect }),
  );
}
