// A new image for every replica: the tag is pinned to a digest once, then the agents replace the replicas.
import { ZImageRef } from "@fleet/shared/image-ref";
import { z } from "zod";
import { updateDeployment } from "../../services/deployment/update-deployment";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../common-schemas";
import { placementDepsOf } from "../placement-deps";
import { ZDeploymentDetail } from "./deployment-schemas";

export const ZUpdateDeploymentInput = z.object({ id: ZId, image: z.string().trim().pipe(ZImageRef) });

export const update = operatorProcedure
  .input(ZUpdateDeploymentInput)
  .output(ZDeploymentDetail)
  .mutation(({ ctx, input }) =>
    updateDeployment({
      ...placementDepsOf(ctx),
      id: input.id,
      image: input.image,
      gateway: ctx.services.gateway,
      actorEmail: ctx.user.email,
    }),
  );
