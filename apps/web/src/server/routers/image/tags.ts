import { z } from "zod";
import { listImageTags, MAX_IMAGE_TAGS } from "../../services/image/list-image-tags";
import { viewerProcedure } from "../../trpc";
import { ZSearchText } from "../common-schemas";

export const ZImageTagsInput = z
  .object({
    /** Substring of the tag, any case. */
    search: ZSearchText(256).optional(),
    limit: z.int().min(1).max(MAX_IMAGE_TAGS).default(MAX_IMAGE_TAGS),
  })
  .prefault({});

/** Tags some host's engine holds, each once, in order. */
export const tags = viewerProcedure
  .input(ZImageTagsInput)
  .output(z.object({ items: z.array(z.string()) }))
  .query(async ({ ctx, input }) => ({
    items: await listImageTags({ db: ctx.db, search: input.search, limit: input.limit }),
  }));
