// pause, resume and promote: one procedure each over the deployment's active rollout.
import { z } from "zod";
import { controlRollout, type TRolloutCommand } from "../../services/deployment/rollout-control";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../common-schemas";
import { ZRolloutDetail } from "./deployment-schemas";

function rolloutCommand(command: TRolloutCommand) {
  return operatorProcedure
    .input(z.object({ id: ZId }))
    .output(ZRolloutDetail)
    .mutation(({ ctx, input }) =>
      controlRollout({
        db: ctx.db,
        bus: ctx.bus,
        deploymentId: input.id,
        command,
        actorEmail: ctx.user.email,
        now: new Date(ctx.clock.now()),
      }),
    );
}

/** Nothing new is replaced until resume; replacements in flight go on counting. */
export const pause = rolloutCommand("pause");
export const resume = rolloutCommand("resume");
/** The canaries counted: the rest of the replicas may be replaced. */
export const promote = rolloutCommand("promote");
