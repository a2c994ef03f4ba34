// Up: the missing replicas are placed (all or nothing). Down: the highest indexes go.
import { z } from "zod";
import { MAX_REPLICAS } from "../../services/deployment/create-deployment";
import { scaleDeployment } from "../../services/deployment/scale-deployment";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../common-schemas";
import { placementDepsOf } from "../placement-deps";
import { ZDeploymentDetail } from "./deployment-schemas";

export const ZScaleDeploymentInput = z.object({ id: ZId, replicas: z.int().min(0).max(MAX_REPLICAS) });

export const scale = operatorProcedure
  .input(ZScaleDeploymentInput)
  .output(ZDeploymentDetail)
  .mutation(({ ctx, input }) =>
    scaleDeployment({
      ...placementDepsOf(ctx),
      id: input.id,
      replicas: input.replicas,
      actorEmail: ctx.user.email,
    }),
  );
