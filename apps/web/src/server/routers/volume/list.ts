import { z } from "zod";
import { listVolumes } from "../../services/volume/list-volumes";
import { viewerProcedure } from "../../trpc";
import { ZListHostObjectsInput, ZVolume } from "./volume-schemas";

export const list = viewerProcedure
  .input(ZListHostObjectsInput)
  .output(z.object({ items: z.array(ZVolume), nextCursor: z.string().nullable() }))
  .query(({ ctx, input }) => listVolumes({ db: ctx.db, ...input }));
