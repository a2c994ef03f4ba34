// Asks hosts which volumes they hold now, with sizes (volume.list is what was last stored).
import { z } from "zod";
import { refreshVolumes } from "../../services/volume/refresh-volumes";
import { operatorProcedure } from "../../trpc";
import { ZHostObjectRefreshOutcome, ZRefreshHostObjectsInput } from "./volume-schemas";

export const refresh = operatorProcedure
  .input(ZRefreshHostObjectsInput)
  .output(z.object({ hosts: z.array(ZHostObjectRefreshOutcome) }))
  .mutation(async ({ ctx, input }) => ({
    hosts: await refreshVolumes({
      db: ctx.db,
      gateway: ctx.services.gateway,
      log: ctx.log,
      now: () => new Date(ctx.clock.now()),
      hostId: input.hostId,
    }),
  }));
