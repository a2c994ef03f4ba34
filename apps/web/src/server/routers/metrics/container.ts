import { z } from "zod";
import { rangeEndingAt } from "../../services/metrics/resolution";
import { viewerProcedure } from "../../trpc";
import { ZContainerMetricsSeries, ZLatestContainerSample, ZMetricsRange, ZRowId } from "./metrics-schemas";

export const ZContainerMetricsInput = z.object({ containerId: ZRowId, range: ZMetricsRange.default("1h") });

export const ZContainerMetricsOutput = z.object({
  series: ZContainerMetricsSeries,
  /** The newest sample, if one arrived recently. */
  latest: ZLatestContainerSample.nullable(),
});

export const container = viewerProcedure
  .input(ZContainerMetricsInput)
  .output(ZContainerMetricsOutput)
  .query(async ({ ctx, input }) => {
    const metrics = ctx.services.metrics;
    const series = await metrics.metricsForContainer({
      containerId: input.containerId,
      ...rangeEndingAt(input.range, ctx.clock.now()),
    });
    return {
      series,
      latest: metrics.latestSnapshot({ containerId: input.containerId }).containers[0] ?? null,
    };
  });
