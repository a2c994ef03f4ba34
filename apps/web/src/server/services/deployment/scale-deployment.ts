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
    // A start-first rollout holds two rows for the index it is replacing: replicas are counted by index.
    const indexes = new Set(live.map((replica) => replica.replicaIndex));
    const current = indexes.size;
    if (wanted > current) {
      const missing: number[] = [];
      for (let index = 1; missing.length < wanted - current; index++) {
        if (!indexes.has(index)) missing.push(index);
      }
      const template = templateOfDeployment(deployment.spec);
      await placeDrafts(ctx, {
        drafts: missing.map((index) => ({
          name: replicaName(deployment.name, index),
          template,
          deploymentId: deployment.id,
          replicaIndex: index,
          // New replicas run the newest revision, whatever a rollout is doing with the others.
          revision: deployment.revision,
        })),
        strategy: deployment.strategy,
        constraints: deployment.constraints,
      });
    } else if (wanted < current) {
      const gone = new Set([...indexes].sort((a, b) => (b ?? 0) - (a ?? 0)).slice(0, current - wanted));
      for (const replica of live.filter((row) => gone.has(row.replicaIndex))) {
        await removeLockedContainer(tx, replica, effects, {
          now,
          message: `${actorEmail} scaled deployment ${deployment.name} down: replica ${replica.name} removed`,
          data: { by: actorEmail },
        });
      }
    }
    if (wanted === deployment.replicas && wanted === current) return;
    await tx.deployment.update({ where: { id }, data: { replicas: wanted }, select: { id: true } });
    effects.events.push(
      await recordEvent({
        db: tx,
        kind: "deployment.scaled",
        deploymentId: id,
        message: `${actorEmail} scaled deployment ${deployment.name} from ${current} to ${wanted} replica${wanted === 1 ? "" : "s"}`,
        data: { by: actorEmail, from: current, to: wanted },
        ts: now,
      }),
    );
  });
  return getDeployment({ db: options.db, id });
}
