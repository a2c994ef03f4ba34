// Scaling: up places the missing replica indexes (all or nothing); down
// removes the highest indexes, giving their capacity back.
import { AppError } from "../../errors";
import { recordEvent } from "../../events/record-event";
import { removeLockedContainer } from "../container/remove-container";
import { placeDrafts, type RunPlacementOptions } from "../placement/place-containers";
import { changeDeployment } from "./deployment-lock";
import { replicaName, templateOfDeployment } from "./deployment-view";
import { getDeployment, type TDeploymentDetail } from "./get-deployment";

export async function scaleDeployment(
  options: RunPlacementOptions & { id: string; replicas: number; actorEmail: string },
): Promise<TDeploymentDetail> {
  const { id, replicas: wanted, actorEmail, now } = options;
  await changeDeployment(options, id, async (ctx, deployment, live) => {
    const { tx, effects } = ctx;
    if (deployment.removedAt) {
      throw new AppError("PRECONDITION_FAILED", `deployment ${deployment.name} has been removed`);
    }
    const indexes = new Set(live.map((replica) => replica.replicaIndex));
    if (wanted > live.length) {
      const missing: number[] = [];
      for (let index = 1; missing.length < wanted - live.length; index++) {
        if (!indexes.has(index)) missing.push(index);
      }
      const template = templateOfDeployment(deployment.spec);
      await placeDrafts(ctx, {
        drafts: missing.map((index) => ({
          name: replicaName(deployment.name, index),
          template,
          deploymentId: deployment.id,
          replicaIndex: index,
        })),
        strategy: deployment.strategy,
        constraints: deployment.constraints,
      });
    } else if (wanted < live.length) {
      const byIndexDescending = [...live].sort((a, b) => (b.replicaIndex ?? 0) - (a.replicaIndex ?? 0));
      for (const replica of byIndexDescending.slice(0, live.length - wanted)) {
        await removeLockedContainer(tx, replica, effects, {
          now,
          message: `${actorEmail} scaled deployment ${deployment.name} down: replica ${replica.name} removed`,
          data: { by: actorEmail },
        });
      }
    }
    if (wanted === deployment.replicas && wanted === live.length) return;
    await tx.deployment.update({ where: { id }, data: { replicas: wanted }, select: { id: true } });
    effects.events.push(
      await recordEvent({
        db: tx,
        kind: "deployment.scaled",
        deploymentId: id,
        message: `${actorEmail} scaled deployment ${deployment.name} from ${live.length} to ${wanted} replica${wanted === 1 ? "" : "s"}`,
        data: { by: actorEmail, from: live.length, to: wanted },
        ts: now,
      }),
    );
  });
  return getDeployment({ db: options.db, id });
}
