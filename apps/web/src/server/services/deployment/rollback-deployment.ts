// Back to an earlier revision: a new revision with that one's spec (already
// pinned, so nothing is pulled), rolled out by the deployment's policy like
// any other change.
import { AppError } from "../../errors";
import type { RunPlacementOptions } from "../placement/place-containers";
import { changeDeployment } from "./deployment-lock";
import { templateOfDeployment } from "./deployment-view";
import { getDeployment, type TDeploymentDetail } from "./get-deployment";
import { revisionDiff } from "./revision-diff";
import { readRevisionSpec } from "./revision-spec";
import { startRollout } from "./start-rollout";
import { readUpdatePolicy } from "./update-policy";

export async function rollbackDeployment(
  options: RunPlacementOptions & {
    id: string;
    /** Default: the revision before the current one. */
    toRevision?: number | undefined;
    actorEmail: string;
  },
): Promise<TDeploymentDetail & { change: { revision: number; diff: string } }> {
  const { db, id, actorEmail } = options;
  const started = await changeDeployment(options, id, async (ctx, deployment) => {
    if (deployment.removedAt) {
      throw new AppError("PRECONDITION_FAILED", `deployment ${deployment.name} has been removed`);
    }
    const number = options.toRevision ?? deployment.revision - 1;
    if (number < 1 || number >= deployment.revision) {
      throw new AppError(
        "BAD_REQUEST",
        options.toRevision === undefined
          ? `deployment ${deployment.name} has no revision before ${deployment.revision}`
          : `revision ${number} is not an earlier revision of ${deployment.name} (now at ${deployment.revision})`,
      );
    }
    const target = await ctx.tx.deploymentRevision.findUnique({
      where: { deploymentId_number: { deploymentId: id, number } },
      select: { spec: true, imageDigest: true },
    });
    if (!target) throw new AppError("NOT_FOUND", `deployment ${deployment.name} has no revision ${number}`);
    const current = { constraints: deployment.constraints, strategy: deployment.strategy };
    const { template, placement } = readRevisionSpec(target.spec, current);
    const diff = revisionDiff(
      { ...templateOfDeployment(deployment.spec), ...current },
      { ...template, ...placement },
    );
    return startRollout(ctx, {
      deployment,
      template,
      placement,
      imageDigest: target.imageDigest,
      diff: `rollback to revision ${number}${diff ? `: ${diff}` : ""}`,
      policy: readUpdatePolicy(deployment.updatePolicy),
      actorEmail,
      what: `rolled back to revision ${number}`,
    });
  });
  options.bus.publish("rollout.started", { deploymentId: id, rolloutId: started.rolloutId });
  const detail = await getDeployment({ db, id });
  return { ...detail, change: { revision: started.revision, diff: started.diff } };
}
