// Live samples over SSE. Each message is `tracked(seq, …)`: a browser that
// reconnects sends the last id it saw and first gets a snapshot of every
// fresh latest sample (which covers whatever it missed, since only the newest
// value of each series matters), then the stream again.
import { tracked } from "@trpc/server";
import { z } from "zod";
import type { LiveMetrics } from "../../events/event-bus";
import { MAX_CONTAINERS_PAGE } from "../../services/container/list-containers";
import { filterLiveMetrics } from "../../services/metrics/latest-samples";
import { viewerProcedure } from "../../trpc";
import { zTrackedAsyncIterable } from "../async-iterable-output";
import { ZLiveMetrics, ZRowId } from "./metrics-schemas";

/** A list page's worth: the containers list shows at most this many rows. */
export const MAX_LIVE_CONTAINER_IDS = MAX_CONTAINERS_PAGE;

export const ZLiveMetricsInput = z
  .object({
    hostId: ZRowId.optional(),
    containerId: ZRowId.optional(),
    /** Several containers, e.g. the page of a list on screen (not their hosts' samples). */
    containerIds: z.array(ZRowId).max(MAX_LIVE_CONTAINER_IDS).optional(),
    /** Set by the client when it reconnects. */
    lastEventId: z.string().max(64).nullish(),
  })
  .prefault({});

export const live = viewerProcedure
  .input(ZLiveMetricsInput)
  .output(zTrackedAsyncIterable(ZLiveMetrics))
  .subscription(async function* ({ ctx, input, signal }) {
    const metrics = ctx.services.metrics;
    const filter = {
      hostId: input.hostId,
      containerId: input.containerId,
      containerIds: input.containerIds ? new Set(input.containerIds) : undefined,
    };
    const snapshot: LiveMetrics = {
      seq: metrics.liveSeq(),
      at: ctx.clock.now(),
      ...metrics.latestSnapshot(filter),
    };
    yield tracked(String(snapshot.seq), snapshot);
    for await (const message of ctx.bus.stream("metrics.live", signal)) {
      const mine = filterLiveMetrics(message, filter);
      if (mine) yield tracked(String(mine.seq), mine);
    }
  });
