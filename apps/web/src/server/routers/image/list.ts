import { z } from "zod";
import { listImages } from "../../services/image/list-images";
import { viewerProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZHostImage } from "./image-schemas";

export const ZListImagesInput = z.object({ hostId: ZRowId.optional() }).prefault({});

export const list = viewerProcedure
  .input(ZListImagesInput)
  .output(z.object({ items: z.array(ZHostImage) }))
  .query(async ({ ctx, input }) => ({ items: await listImages({ db: ctx.db, hostId: input.hostId }) }));
