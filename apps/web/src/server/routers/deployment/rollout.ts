// The deployment's newest rollout (or the one named) with every replacement; null when it never had one.
import { z } from "zod";
import { getRollout } from "../../services/deployment/rollout-view";
import { viewerProcedure } from "../../trpc";
import { ZId } from "../common-schemas";
import { ZRolloutDetail } from "./deployment-schemas";

export const rollout = viewerProcedure
  .input(z.object({ id: ZId, rolloutId: ZId.optional() }))
  .output(ZRolloutDetail.nullable())
  .query(({ ctx, input }) =>
    getRollout({
      db: ctx.db,
      deploymentId: input.id,
      rolloutId: input.rolloutId,
      now: new Date(ctx.clock.now()),
    }),
  );
