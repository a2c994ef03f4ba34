// The event log, newest first, a page at a time. The cursor is the id of the
// last event of the previous page: ids only grow, so pages stay stable while
// new events arrive at the top.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import {
  eventViewSelect,
  eventWhere,
  parseEventId,
  type TEventFilter,
  type TEventView,
  toEventView,
} from "../../events/event-view";

export const MAX_EVENTS_PAGE = 500;

export async function listEvents(options: {
  db: PrismaClient;
  filter: TEventFilter;
  cursor?: string | null;
  limit: number;
}): Promise<{ items: TEventView[]; nextCursor: string | null }> {
  const { db, filter } = options;
  const limit = Math.min(Math.max(1, options.limit), MAX_EVENTS_PAGE);
  let before: bigint | null = null;
  if (options.cursor) {
    before = parseEventId(options.cursor);
    if (before === null) throw new AppError("BAD_REQUEST", "cursor: not a cursor this API handed out");
  }
  const rows = await db.event.findMany({
    where: { ...eventWhere(filter), ...(before !== null ? { id: { lt: before } } : {}) },
    orderBy: { id: "desc" },
    take: limit + 1,
    select: eventViewSelect,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toEventView),
    nextCursor: rows.length > limit && last ? last.id.toString() : null,
  };
}
