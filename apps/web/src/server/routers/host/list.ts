import { ZLabelSelector } from "@fleet/shared/label-selector";
import { z } from "zod";
import { listHosts, MAX_HOSTS_PAGE } from "../../services/host/list-hosts";
import { viewerProcedure } from "../../trpc";
import { ZHost } from "./host-schemas";

export const ZListHostsInput = z
  .object({
    status: z.enum(["online", "offline"]).optional(),
    draining: z.boolean().optional(),
    /** Label selector, e.g. `zone=a,!gpu`. */
    label: ZLabelSelector.optional(),
    includeRemoved: z.boolean().default(false),
    /** `nextCursor` of the previous page. */
    cursor: z.string().max(1024).nullish(),
    limit: z.int().min(1).max(MAX_HOSTS_PAGE).default(50),
  })
  .prefault({});

export const ZListHostsOutput = z.object({
  items: z.array(ZHost),
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: z.string().nullable(),
});

export const list = viewerProcedure
  .input(ZListHostsInput)
  .output(ZListHostsOutput)
  .query(({ ctx, input }) => {
    const { cursor, limit, ...filter } = input;
    return listHosts({ db: ctx.db, filter, cursor: cursor ?? null, limit });
  });
