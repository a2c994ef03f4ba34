import { ZContainerHealth } from "@fleet/shared/domain/container-spec";
import { z } from "zod";
import {
  CONTAINER_SORTS,
  listContainers,
  MAX_CONTAINERS_PAGE,
  type TContainerSort,
} from "../../services/container/list-containers";
import { viewerProcedure } from "../../trpc";
import { ZId, ZSearchText } from "../common-schemas";
import { ZContainer, ZContainerActualState } from "./container-schemas";

export const ZListContainersInput = z
  .object({
    hostId: ZId.optional(),
    deploymentId: ZId.optional(),
    /** One actual state or several. */
    state: z
      .union([ZContainerActualState, z.array(ZContainerActualState).min(1).max(10)])
      .transform((value) => (Array.isArray(value) ? value : [value]))
      .optional(),
    /** One health verdict or several (containers without a check have none and are left out). */
    health: z
      .union([ZContainerHealth, z.array(ZContainerHealth).min(1).max(3)])
      .transform((value) => (Array.isArray(value) ? value : [value]))
      .optional(),
    /** Substring of the image reference, any case. */
    image: ZSearchText(512).optional(),
    /** Substring of the name, any case. */
    name: ZSearchText(128).optional(),
    includeRemoved: z.boolean().default(false),
    /** The order of the pages (newest first by default); ties are broken by creation, then id. */
    sort: z.enum(Object.keys(CONTAINER_SORTS) as [TContainerSort, ...TContainerSort[]]).default("created"),
    direction: z.enum(["asc", "desc"]).default("desc"),
    /** `nextCursor` of the previous page, asked with the same sort and direction. */
    cursor: z.string().max(1024).nullish(),
    limit: z.int().min(1).max(MAX_CONTAINERS_PAGE).default(50),
  })
  .prefault({});

export const ZListContainersOutput = z.object({
  items: z.array(ZContainer),
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: z.string().nullable(),
  /** Containers matching the filter on every page. */
  total: z.int().nonnegative(),
});

export const list = viewerProcedure
  .input(ZListContainersInput)
  .output(ZListContainersOutput)
  .query(({ ctx, input }) => {
    const { cursor, limit, state, sort, direction, ...filter } = input;
    return listContainers({
      db: ctx.db,
      filter: { ...filter, states: state },
      cursor,
      limit,
      sort,
      direction,
    });
  });
