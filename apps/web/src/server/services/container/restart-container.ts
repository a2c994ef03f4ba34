// A restart is a change of the desired spec, so it stays level-triggered like
// everything else the agent is told: the `restarted-at` label gets the time
// of the request, the spec hash changes, and the agent replaces the container
// (stop, remove, create, start) when it applies the next desired set. A
// reconnecting agent still restarts it once, never twice. Kubernetes'
// `rollout restart` works the same way (an annotation with the time).

import { readStoredSpec, storedSpecJson } from "../../db/container-row";
import { AppError } from "../../errors";
import { recordEvent } from "../../events/record-event";
import { type ChangeContainerOptions, changeContainer } from "./container-lock";
import { containerViewSelect, type TContainerView, toContainerView } from "./container-view";

/** The label whose change makes the agent replace the container; its value is epoch milliseconds. */
export const RESTARTED_AT_LABEL = "restarted-at";

export async function restartContainer(
  options: ChangeContainerOptions & { id: string; actorEmail: string },
): Promise<TContainerView> {
  const { db, now, id, actorEmail } = options;
  await changeContainer(options, id, async (tx, row, effects) => {
    if (row.removedAt) throw new AppError("PRECONDITION_FAILED", `container ${row.name} has been removed`);
    if (row.desiredState !== "running") {
      throw new AppError("PRECONDITION_FAILED", `container ${row.name} is stopped: start it instead`);
    }
    const stored = readStoredSpec(row.spec);
    // Two restarts within one millisecond must still differ.
    const previous = Number(stored.labels[RESTARTED_AT_LABEL] ?? 0);
    const stamp = String(Math.max(now.getTime(), previous + 1));
    const spec = storedSpecJson({ ...stored, labels: { ...stored.labels, [RESTARTED_AT_LABEL]: stamp } });
    await tx.container.update({ where: { id }, data: { spec }, select: { id: true } });
    effects.events.push(
      await recordEvent({
        db: tx,
        kind: "container.restart-requested",
        hostId: row.hostId,
        containerId: id,
        deploymentId: row.deploymentId,
        message: `${actorEmail} restarted container ${row.name}`,
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
