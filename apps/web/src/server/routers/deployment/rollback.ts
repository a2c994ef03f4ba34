// Back to an earlier revision (default: the one before), as a new revision rolled out by the policy.
import { z } from "zod";
import { rollbackDeployment } from "../../services/deployment/rollback-deployment";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../common-schemas";
import { placementDepsOf } from "../placement-deps";
import { ZDeploymentChangeResult } from "./deployment-schemas";

export const rollback = operatorProcedure
  .input(z.object({ id: ZId, toRevision: z.int().positive().optional() }))
  .output(ZDeploymentChangeResult)
  .mutation(async ({ ctx, input }) => {
    const result = await rollbackDeployment({
      ...placementDepsOf(ctx),
      id: input.id,
      toRevision: input.toRevision,
      actorEmail: ctx.user.email,
    });
    return { ...result, change: { ...result.change, dryRun: false } };
  });
