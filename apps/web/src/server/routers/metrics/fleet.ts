import { z } from "zod";
import { rangeEndingAt } from "../../services/metrics/resolution";
import { viewerProcedure } from "../../trpc";
import { ZFleetMetricsSeries, ZFleetSummary, ZMetricsRange } from "./metrics-schemas";

export const ZFleetMetricsInput = z.object({ range: ZMetricsRange.default("1h") }).prefault({});

export const ZFleetMetricsOutput = z.object({
  /** Allocated against used, per host and for the online fleet, right now. */
  summary: ZFleetSummary,
  /** Host figures summed over the fleet across the range. */
  series: ZFleetMetricsSeries,
});

export const fleet = viewerProcedure
  .input(ZFleetMetricsInput)
  .output(ZFleetMetricsOutput)
  .query(async ({ ctx, input }) => {
    const metrics = ctx.services.metrics;
    const [summary, series] = await Promise.all([
      metrics.fleetSummary(),
      metrics.fleetMetrics(rangeEndingAt(input.range, ctx.clock.now())),
    ]);
    return { summary, series };
  });
