// Asks hosts what images they hold now (image.list is what was last stored).
import { z } from "zod";
import { refreshImages } from "../../services/image/refresh-images";
import { operatorProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZImageRefreshOutcome } from "./image-schemas";

/** Without `hostId`: every connected host. */
export const ZRefreshImagesInput = z.object({ hostId: ZRowId.optional() }).prefault({});

export const refresh = operatorProcedure
  .input(ZRefreshImagesInput)
  .output(z.object({ hosts: z.array(ZImageRefreshOutcome) }))
  .mutation(async ({ ctx, input }) => ({
    hosts: await refreshImages({
      db: ctx.db,
      gateway: ctx.services.agents,
      log: ctx.log,
      now: () => new Date(ctx.clock.now()),
      hostId: input.hostId,
    }),
  }));
