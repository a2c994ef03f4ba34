// New events as they are stored, for live views. A reader that reconnects
// with the id of the last event it saw first gets the stored events after it
// from the database, then the live ones — subscribed before the replay
// starts and de-duplicated against it, so the seam has no gap and no repeat.
//
// A reader slower than events arrive does not grow memory: past
// `bufferSize` waiting events the live subscription is dropped, what was
// queued is delivered, and the stream continues with a replay from the
// database after the last event delivered (then live again).
//
// Limits, stated rather than hidden: a reader more than MAX_EVENT_REPLAY
// events behind gets only the newest MAX_EVENT_REPLAY of them; and ids come
// from a sequence, so an event whose transaction commits after one with a
// higher id can be missed by a replay that starts between the two commits.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import {
  eventViewSelect,
  eventWhere,
  matchesEventFilter,
  parseEventId,
  type TEventFilter,
  type TEventRow,
  type TEventView,
  toEventView,
} from "../../events/event-view";

export const MAX_EVENT_REPLAY = 10_000;
export const EVENT_STREAM_BUFFER = 1000;
const REPLAY_PAGE = 500;

/** Stored events after `after` that match, oldest first, at most the newest MAX_EVENT_REPLAY. */
async function* replayAfter(
  db: PrismaClient,
  filter: TEventFilter,
  after: bigint,
): AsyncGenerator<TEventRow, void, undefined> {
  const where = eventWhere(filter);
  const tooFarBehind = await db.event.findFirst({
    where: { ...where, id: { gt: after } },
    orderBy: { id: "desc" },
    skip: MAX_EVENT_REPLAY,
    select: { id: true },
  });
  let cursor = tooFarBehind ? tooFarBehind.id : after;
  for (;;) {
    const page = await db.event.findMany({
      where: { ...where, id: { gt: cursor } },
      orderBy: { id: "asc" },
      take: REPLAY_PAGE,
      select: eventViewSelect,
    });
    yield* page;
    const last = page.at(-1);
    if (!last || page.length < REPLAY_PAGE) return;
    cursor = last.id;
  }
}

export async function* streamEvents(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "subscribe">;
  filter?: TEventFilter;
  /** The id of the last event the reader has (tRPC's lastEventId); null: live events only. */
  lastEventId?: string | null;
  signal?: AbortSignal;
  bufferSize?: number;
}): AsyncGenerator<TEventView, void, undefined> {
  const { db, bus, signal } = options;
  const filter = options.filter ?? {};
  const bufferSize = Math.max(1, options.bufferSize ?? EVENT_STREAM_BUFFER);
  let cursor: bigint | null = null;
  if (options.lastEventId) {
    cursor = parseEventId(options.lastEventId);
    if (cursor === null) throw new AppError("BAD_REQUEST", "lastEventId: not an event id");
  }

  while (!signal?.aborted) {
    const live: TEventRow[] = [];
    let overflowed = false;
    let wake: (() => void) | null = null;
    const notify = () => {
      const resolve = wake;
      wake = null;
      resolve?.();
    };
    const unsubscribe = bus.subscribe("event", (row) => {
      if (overflowed || !matchesEventFilter(filter, row)) return;
      live.push(row);
      if (live.length > bufferSize) {
        overflowed = true;
        unsubscribe();
      }
      notify();
    });
    signal?.addEventListener("abort", notify);
    try {
      const replayed = new Set<bigint>();
      if (cursor !== null) {
        for await (const row of replayAfter(db, filter, cursor)) {
          if (signal?.aborted) return;
          replayed.add(row.id);
          if (row.id > (cursor ?? -1n)) cursor = row.id;
          yield toEventView(row);
        }
      }
      for (;;) {
        if (signal?.aborted) return;
        const row = live.shift();
        if (row) {
          if (replayed.has(row.id)) continue;
          if (cursor === null || row.id > cursor) cursor = row.id;
          yield toEventView(row);
          continue;
        }
        // Everything queued before the overflow is out: continue from the database.
        if (overflowed) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      unsubscribe();
      signal?.removeEventListener("abort", notify);
    }
  }
}
