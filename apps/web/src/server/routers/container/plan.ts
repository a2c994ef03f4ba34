// Where container.run would put this container and why, without running it
// (the run form shows it before submit). A preview: a real run may differ if
// the fleet changes in between.
import { z } from "zod";
import { planPlacement } from "../../services/placement/plan-placement";
import { viewerProcedure } from "../../trpc";
import { ZHostRejection } from "./container-schemas";
import { ZRunContainerInput } from "./container-spec-input";

export const ZPlanContainerOutput = z.discriminatedUnion("fits", [
  z.object({
    fits: z.literal(true),
    hostId: z.string(),
    hostName: z.string(),
    reason: z.string(),
    rejected: z.array(ZHostRejection),
  }),
  z.object({ fits: z.literal(false), message: z.string(), rejected: z.array(ZHostRejection) }),
]);

export const plan = viewerProcedure
  .input(ZRunContainerInput)
  .output(ZPlanContainerOutput)
  .query(({ ctx, input }) =>
    planPlacement({
      db: ctx.db,
      template: input.template,
      strategy: input.strategy,
      constraints: input.constraints,
    }),
  );
