import { ZLabelSelector } from "@fleet/shared/label-selector";
import { z } from "zod";
import { HOST_SORTS, listHosts, MAX_HOSTS_PAGE, type THostSort } from "../../services/host/list-hosts";
import { viewerProcedure } from "../../trpc";
import { ZSearchText } from "../common-schemas";
import { ZHost } from "./host-schemas";

export const ZListHostsInput = z
  .object({
    status: z.enum(["online", "offline"]).optional(),
    draining: z.boolean().optional(),
    /** Label selector, e.g. `zone=a,!gpu`. */
    label: ZLabelSelector.optional(),
    includeRemoved: z.boolean().default(false),
    /** Substring of the name, any case. */
    name: ZSearchText(128).optional(),
    /** The order of the pages; ties are broken by name. */
    sort: z.enum(Object.keys(HOST_SORTS) as [THostSort, ...THostSort[]]).default("name"),
    direction: z.enum(["asc", "desc"]).default("asc"),
    /** `nextCursor` of the previous page, asked with the same sort and direction. */
    cursor: z.string().max(1024).nullish(),
    limit: z.int().min(1).max(MAX_HOSTS_PAGE).default(50),
  })
  .prefault({});

export const ZListHostsOutput = z.object({
  items: z.array(ZHost),
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: z.string().nullable(),
  /** Hosts matching the filter on every page; null with a label selector (it is not counted). */
  total: z.int().nonnegative().nullable(),
});

export const list = viewerProcedure
  .input(ZListHostsInput)
  .output(ZListHostsOutput)
  .query(({ ctx, input }) => {
    const { cursor, limit, sort, direction, ...filter } = input;
    return listHosts({ db: ctx.db, filter, cursor: cursor ?? null, limit, sort, direction });
  });
