import { roleAtLeast } from "@fleet/shared/domain/roles";
import { z } from "zod";
import { listEvents, MAX_EVENTS_PAGE } from "../../services/event/list-events";
import { viewerProcedure } from "../../trpc";
import { ZEvent, ZEventFilter } from "./event-schemas";

export const ZListEventsInput = ZEventFilter.extend({
  /** `nextCursor` of the previous page. */
  cursor: z.string().max(32).nullish(),
  limit: z.int().min(1).max(MAX_EVENTS_PAGE).default(50),
}).prefault({});

export const ZListEventsOutput = z.object({
  /** Newest first. */
  items: z.array(ZEvent),
  /** Pass as `cursor` for the next (older) page; null on the last one. */
  nextCursor: z.string().nullable(),
});

export const list = viewerProcedure
  .input(ZListEventsInput)
  .output(ZListEventsOutput)
  .query(({ ctx, input }) => {
    const { cursor, limit, ...filter } = input;
    return listEvents({
      db: ctx.db,
      filter: { ...filter, includeAudit: roleAtLeast(ctx.user.role, "admin") },
      cursor: cursor ?? null,
      limit,
    });
  });
