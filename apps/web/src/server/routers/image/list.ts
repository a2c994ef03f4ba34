import { z } from "zod";
import { listImages, MAX_IMAGE_HOSTS_PAGE } from "../../services/image/list-images";
import { viewerProcedure } from "../../trpc";
import { ZRowId, ZSearchText } from "../common-schemas";
import { ZHostImage } from "./image-schemas";

export const ZListImagesInput = z
  .object({
    hostId: ZRowId.optional(),
    /** Substring of a tag, the image id or the host's name, any case. */
    search: ZSearchText(256).optional(),
    /** Hosts per page (the images of each whole); without it, every host's. */
    hosts: z.int().min(1).max(MAX_IMAGE_HOSTS_PAGE).optional(),
    /** `nextCursor` of the previous page. */
    cursor: z.string().max(1024).nullish(),
  })
  .prefault({});

export const list = viewerProcedure
  .input(ZListImagesInput)
  .output(
    z.object({
      /** By host name, then newest first. */
      items: z.array(ZHostImage),
      /** Pass as `cursor` for the next page of hosts; null on the last one (and without `hosts`). */
      nextCursor: z.string().nullable(),
    }),
  )
  .query(({ ctx, input }) => listImages({ db: ctx.db, ...input }));
