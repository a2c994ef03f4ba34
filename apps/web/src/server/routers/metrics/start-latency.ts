import { z } from "zod";
import { queryStartLatency, type StartLatencySummary } from "../../services/metrics/query-start-latency";
import { rangeEndingAt } from "../../services/metrics/resolution";
import { viewerProcedure } from "../../trpc";

/** A time window ending now; containers count when they first reported running inside it. */
export const ZStartLatencyInput = z
  .object({ window: z.enum(["1h", "24h", "7d"]).default("24h") })
  .prefault({});

export const ZStartLatencyOutput = z.object({
  count: z.int(),
  /** Request → first `running` report, in ms; null when no container started in the window. */
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  maxMs: z.number().nullable(),
}) satisfies z.ZodType<StartLatencySummary>;

export const startLatency = viewerProcedure
  .input(ZStartLatencyInput)
  .output(ZStartLatencyOutput)
  .query(({ ctx, input }) =>
    queryStartLatency({ db: ctx.db, ...rangeEndingAt(input.window, ctx.clock.now()) }),
  );
