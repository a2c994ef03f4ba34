// Live "used" figures for the hosts a page shows (see summarizeHostUsage).
import { z } from "zod";
import { MAX_HOSTS_PAGE } from "../../services/host/list-hosts";
import { summarizeHostUsage, type THostUsage } from "../../services/host/summarize-host-usage";
import { viewerProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZHostMachineFigures } from "../metrics/metrics-schemas";

export const ZHostUsageInput = z.object({ ids: z.array(ZRowId).max(MAX_HOSTS_PAGE) });

export const ZHostUsage = z.object({
  hostId: z.string(),
  cpuUsedCores: z.number(),
  memoryUsedBytes: z.number(),
  containersReporting: z.int(),
  machine: ZHostMachineFigures.nullable(),
}) satisfies z.ZodType<THostUsage>;

export const ZHostUsageOutput = z.object({
  /** When the figures were read (epoch ms). */
  at: z.number(),
  /** One per requested id, in request order; unknown ids read as zero use. */
  items: z.array(ZHostUsage),
});

export const usage = viewerProcedure
  .input(ZHostUsageInput)
  .output(ZHostUsageOutput)
  .query(({ ctx, input }) => ({
    at: ctx.clock.now(),
    items: summarizeHostUsage({ hostIds: input.ids, latest: ctx.services.metrics.latestSnapshot() }),
  }));
