// New events over SSE, each `tracked(<event id>, event)`. A client that
// reconnects sends the last id it saw (tRPC puts it in `lastEventId`) and
// first gets the stored events after it, then live ones: no gap, no repeat.
import { roleAtLeast } from "@fleet/shared/domain/roles";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { streamEvents } from "../../services/event/stream-events";
import { viewerProcedure } from "../../trpc";
import { zTrackedAsyncIterable } from "../async-iterable-output";
import { ZEvent, ZEventFilter } from "./event-schemas";

export const ZStreamEventsInput = ZEventFilter.extend({
  /** Set by the client when it reconnects; a client may also set it to catch up from a known event. */
  lastEventId: z.string().max(32).nullish(),
}).prefault({});

export const stream = viewerProcedure
  .input(ZStreamEventsInput)
  .output(zTrackedAsyncIterable(ZEvent))
  .subscription(async function* ({ ctx, input, signal }) {
    const { lastEventId, ...rest } = input;
    const filter = { ...rest, includeAudit: roleAtLeast(ctx.user.role, "admin") };
    for await (const event of streamEvents({ db: ctx.db, bus: ctx.bus, filter, lastEventId, signal })) {
      yield tracked(event.id, event);
    }
  });
