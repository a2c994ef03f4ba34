// Asks hosts which user networks they hold now (network.list is what was last stored).
import { z } from "zod";
import { refreshNetworks } from "../../services/network/refresh-networks";
import { operatorProcedure } from "../../trpc";
import { ZHostObjectRefreshOutcome, ZRefreshHostObjectsInput } from "../volume/volume-schemas";

export const refresh = operatorProcedure
  .input(ZRefreshHostObjectsInput)
  .output(z.object({ hosts: z.array(ZHostObjectRefreshOutcome) }))
  .mutation(async ({ ctx, input }) => ({
    hosts: await refreshNetworks({
      db: ctx.db,
      gateway: ctx.services.gateway,
      log: ctx.log,
      now: () => new Date(ctx.clock.now()),
      hostId: input.hostId,
    }),
  }));
