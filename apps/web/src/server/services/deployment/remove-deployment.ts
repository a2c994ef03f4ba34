// Removes a deployment and every replica, in one transaction; the name is free again.
import { recordEvent } from "../../events/record-event";
import { removeLockedContainer } from "../container/remove-container";
import type { RunPlacementOptions } from "../placement/place-containers";
import { changeDeployment } from "./deployment-lock";
import { getDeployment, type TDeploymentDetail } from "./get-deployment";
import { ACTIVE_ROLLOUT_STATES } from "./rollout-decision";

export async function removeDeployment(
  options: RunPlacementOptions & { id: string; actorEmail: string },
): Promise<TDeploymentDetail> {
  const { id, actorEmail, now } = options;
  await changeDeployment(options, id, async ({ tx, effects }, deployment, live) => {
    // Removing twice is not an error: the outcome is the same.
    if (deployment.removedAt) return;
    for (const replica of live) {
      await removeLockedContainer(tx, replica, effects, {
        now,
        message: `${actorEmail} removed deployment ${deployment.name}: replica ${replica.name} removed`,
        data: { by: actorEmail },
      });
    }
    await tx.deployment.update({ where: { id }, data: { removedAt: now }, select: { id: true } });
    await tx.rollout.updateMany({
      where: { deploymentId: id, state: { in: [...ACTIVE_ROLLOUT_STATES] } },
      data: { state: "cancelled", reason: "the deployment was removed", finishedAt: now },
    });
    effects.events.push(
      await recordEvent({
        db: tx,
        kind: "deployment.removed",
        deploymentId: id,
        message: `${actorEmail} removed deployment ${deployment.name} and its ${live.length} replica${live.length === 1 ? "" : "s"}`,
        data: { by: actorEmail, replicas: live.length },
        ts: now,
      }),
    );
  });
  return getDeployment({ db: options.db, id });
}
