// Desired `stopped`: the host's next desired set marks the container
// `stopped`, and its agent stops the engine container and keeps it (exited,
// logs readable), as `docker stop` does; start runs the same one again. The
// capacity it held is given back at once, so a start checks for room anew.
import { AppError } from "../../errors";
import { recordEvent } from "../../events/record-event";
import { releaseOnHost, takenByRow } from "../placement/host-allocation";
import { type ChangeContainerOptions, changeContainer } from "./container-lock";
import { containerViewSelect, type TContainerView, toContainerView } from "./container-view";

export async function stopContainer(
  options: ChangeContainerOptions & { id: string; actorEmail: string },
): Promise<TContainerView> {
  const { db, now, id, actorEmail } = options;
  await changeContainer(options, id, async (tx, row, effects) => {
    if (row.removedAt) throw new AppError("PRECONDITION_FAILED", `container ${row.name} has been removed`);
    if (row.desiredState !== "running") return;
    await tx.container.update({
      where: { id },
      data: { desiredState: "stopped" },
      select: { id: true },
    });
    if (row.hostId) await releaseOnHost(tx, row.hostId, takenByRow(row));
    effects.events.push(
      await recordEvent({
        db: tx,
        kind: "container.stop-requested",
        hostId: row.hostId,
        containerId: id,
        deploymentId: row.deploymentId,
        message: `${actorEmail} stopped container ${row.name}`,
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
