import { z } from "zod";
import { withTopAllocatedHosts } from "../../services/metrics/query-fleet-summary";
import { rangeEndingAt } from "../../services/metrics/resolution";
import { viewerProcedure } from "../../trpc";
import { ZFleetMetricsSeries, ZFleetSummary, ZMetricsRange } from "./metrics-schemas";

export const ZFleetMetricsInput = z
  .object({
    range: ZMetricsRange.default("1h"),
    /** Only the hosts a chart of the N most allocated (by CPU, and by memory) draws; totals still cover all. */
    topHosts: z.int().min(1).max(500).optional(),
  })
  .prefault({});

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
    return { summary: input.topHosts ? withTopAllocatedHosts(summary, input.topHosts) : summary, series };
  });
