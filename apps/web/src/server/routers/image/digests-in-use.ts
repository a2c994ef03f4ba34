// Which registry digests the fleet's containers run, most used first, with the hosts running each.
import { z } from "zod";
import { listDigestsInUse } from "../../services/image/digests-in-use";
import { viewerProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZDigestInUse } from "./image-schemas";

export const ZDigestsInUseInput = z.object({ hostId: ZRowId.optional() }).prefault({});

export const digestsInUse = viewerProcedure
  .input(ZDigestsInUseInput)
  .output(z.object({ items: z.array(ZDigestInUse) }))
  .query(async ({ ctx, input }) => ({
    items: await listDigestsInUse({ db: ctx.db, hostId: input.hostId }),
  }));
