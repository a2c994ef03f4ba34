// Removes the deployment and all its replicas; the name can be used again.
import { z } from "zod";
import { removeDeployment } from "../../services/deployment/remove-deployment";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../common-schemas";
import { placementDepsOf } from "../placement-deps";
import { ZDeploymentDetail } from "./deployment-schemas";

export const ZRemoveDeploymentInput = z.object({ id: ZId });

export const remove = operatorProcedure
  .input(ZRemoveDeploymentInput)
  .output(ZDeploymentDetail)
  .mutation(({ ctx, input }) =>
    removeDeployment({ ...placementDepsOf(ctx), id: input.id, actorEmail: ctx.user.email }),
  );
