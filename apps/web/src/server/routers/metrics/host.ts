import { z } from "zod";
import { rangeEndingAt } from "../../services/metrics/resolution";
import { viewerProcedure } from "../../trpc";
import { ZHostMetricsSeries, ZLatestHostSample, ZMetricsRange, ZRowId } from "./metrics-schemas";

export const ZHostMetricsInput = z.object({ hostId: ZRowId, range: ZMetricsRange.default("1h") });

export const ZHostMetricsOutput = z.object({
  series: ZHostMetricsSeries,
  /** The newest sample, if one arrived recently. */
  latest: ZLatestHostSample.nullable(),
});

export const host = viewerProcedure
  .input(ZHostMetricsInput)
  .output(ZHostMetricsOutput)
  .query(async ({ ctx, input }) => {
    const metrics = ctx.services.metrics;
    const series = await metrics.metricsForHost({
      hostId: input.hostId,
      ...rangeEndingAt(input.range, ctx.clock.now()),
    });
    return { series, latest: metrics.latestSnapshot({ hostId: input.hostId }).hosts[0] ?? null };
  });
