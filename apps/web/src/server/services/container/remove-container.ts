// Desired `removed`, effective at once: the row is marked removed (its name
// is free again, it leaves lists and the host's desired set) and its capacity
// is given back in the same transaction. The host's agent removes the engine
// container when it applies the next desired set; the row keeps the actual
// state the agent last reported, for history.
import { recordEvent } from "../../events/record-event";
import { releaseOnHost, takenByRow } from "../placement/host-allocation";
import type { PlacementEffects } from "../placement/placement-effects";
import type { TTransaction } from "../placement/placement-lock";
import { type ChangeContainerOptions, changeContainer, type TLockedContainer } from "./container-lock";
import { containerViewSelect, type TContainerView, toContainerView } from "./container-view";

/** Marks a locked container removed and releases what it held; shared with deployments. */
export async function removeLockedContainer(
  tx: TTransaction,
  row: TLockedContainer,
  effects: PlacementEffects,
  options: { now: Date; message: string; data: Record<string, string | null> },
): Promise<void> {
  if (row.removedAt) return;
  await tx.container.update({
    where: { id: row.id },
    data: { desiredState: "removed", removedAt: options.now },
    select: { id: true },
  });
  if (row.hostId && row.desiredState === "running") await releaseOnHost(tx, row.hostId, takenByRow(row));
  effects.events.push(
    await recordEvent({
      db: tx,
      kind: "container.remove-requested",
      hostId: row.hostId,
      containerId: row.id,
      deploymentId: row.deploymentId,
      message: options.message,
      data: options.data,
      ts: options.now,
    }),
  );
  effects.containerChanged(row.id, row.hostId);
}

export async function removeContainer(
  options: ChangeContainerOptions & { id: string; actorEmail: string },
): Promise<TContainerView> {
  const { db, now, id, actorEmail } = options;
  await changeContainer(options, id, (tx, row, effects) =>
    removeLockedContainer(tx, row, effects, {
      now,
      message: `${actorEmail} removed container ${row.name}`,
      data: { by: actorEmail },
    }),
  );
  return toContainerView(
    await db.container.findUniqueOrThrow({ where: { id }, select: containerViewSelect }),
  );
}
