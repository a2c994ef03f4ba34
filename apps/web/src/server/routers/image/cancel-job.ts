// Stops a pull or build before its end: the operations still running on the
// hosts are cancelled, and the job's watchers see each of them end as
// `failed` with "cancelled". Who may watch a job may cancel it.
import { z } from "zod";
import { jobCallerOf } from "../../services/image/image-jobs";
import { operatorProcedure } from "../../trpc";
import { ZJobId } from "./image-schemas";

export const cancelJob = operatorProcedure
  .input(z.object({ jobId: ZJobId }))
  .output(z.object({ cancelled: z.boolean().describe("false when the job had already ended") }))
  .mutation(({ ctx, input }) =>
    ctx.services.imageJobs.cancel({ jobId: input.jobId, caller: jobCallerOf(ctx.user) }),
  );
